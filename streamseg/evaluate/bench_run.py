"""``streamseg bench`` as one call: methods -> latency rows (and end-to-end fps on a clip) -> table, log and report folder.

Example::

    from streamseg.evaluate.bench_run import run_bench
    report = run_bench("ellipse,dlmv", provider="cpu", repeats=10)
    report["rows"][0]["median_ms"]
"""

from __future__ import annotations

from pathlib import Path

from streamseg import log
from streamseg.errors import ConfigError, MethodError
from streamseg.evaluate import machine, reports
from streamseg.evaluate.latency import Timing, bench_method, parse_frame_sizes, parse_sizes
from streamseg.evaluate.selection import select_methods
from streamseg.evaluate.video_fps import bench_video, decode_frames
from streamseg.segment import MethodOptions


def run_bench(
    methods: str = "all",
    *,
    sizes: str = "256,320,512,1024",
    frame_sizes: str = "640x480,1280x720,1920x1080",
    provider: str = "auto",
    threads: int = 0,
    video: str | Path | None = None,
    video_frames: int | None = None,
    repeats: int = 30,
    warmup: int = 3,
    report: str | Path | None = None,
) -> dict:
    """Time ``methods`` (``'all'`` or a comma-separated list) per model input size (``sizes``) or
    frame size (``frame_sizes``, classical methods), next to the ``cv2.cvtColor`` floor; with
    ``video``, also the end-to-end pipeline fps on that clip. Prints the tables; with ``report``,
    writes report.md/.csv/.json (+ video.csv). Returns the report dict (``bench_json``).
    Bad options, a bad clip or a report folder that cannot be written fail before any timing.
    """
    from rich.console import Console

    video = Path(video) if video is not None else None
    report = Path(report) if report is not None else None
    size_list = parse_sizes(sizes)
    frame_list = parse_frame_sizes(frame_sizes)
    if repeats < 1 or warmup < 0:
        raise ConfigError("--repeats must be at least 1 and --warmup at least 0")
    if video_frames is not None and video_frames < 1:
        raise ConfigError("--video-frames must be at least 1")
    if video is not None:
        next(iter(decode_frames(video, 1)), None)  # a bad clip fails now, not after the latency rows

    if report is not None:
        reports.ensure_dir(report)  # fail before minutes of timing, not after
    options = MethodOptions(provider=provider, threads=threads)
    sel = select_methods(methods, options, fallback_size=size_list[0])
    try:
        for name, why in sel.skipped.items():
            log.warn(f"skipping {name}: {why}")
        rows, video_rows = [], []
        floors: dict[tuple[tuple[int, int], int | None], Timing] = {}  # (frame size, threads)

        def show(r) -> None:
            log.info(f"{r.method:>14} {r.size:>10}: median {r.median_ms:8.2f} ms, p90 {r.p90_ms:8.2f} ms (floor {r.floor_ms:.2f} ms)")

        info = machine.describe_run(threads)
        skip_failing = methods.strip().lower() == "all"
        ran = {}
        for name, seg in sel.segmenters.items():
            try:
                rows += bench_method(name, seg, size_list, frame_list, options, warmup, repeats, floors=floors, on_row=show,
                                     clip=video)
                ran[name] = seg
            except MethodError as exc:
                if not skip_failing:
                    raise
                log.warn(f"dropped {name}: {exc}")
                sel.skipped[name] = str(exc)
        if video is not None:
            for name, seg in ran.items():
                v = bench_video(name, seg, video, video_frames)
                log.info(f"{name:>14} on {video.name}: inference {v.inference_fps:.1f} fps, pipeline {v.pipeline_fps:.1f} fps")
                video_rows.append(v)
        rep = reports.bench_json(rows, video_rows, sel.skipped, info, machine.command_line())
        console = Console()
        console.print(reports.bench_table(rep))
        if video_rows:
            console.print(reports.video_table(rep))
        log.info(f"machine: {machine.summary_line(rep['machine'])}")
        if report is not None:
            paths = reports.write_bench_report(report, rep)
            log.info(f"report: {paths['md']} (+ report.json, report.csv{', video.csv' if video_rows else ''})")
    finally:
        sel.close()
    return rep
