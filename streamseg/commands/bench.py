"""``streamseg bench``: latency per method and size next to the cvtColor floor, and end-to-end fps."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def command(
    methods: str = typer.Option("all", "--methods", "-m", help="'all' (every method that runs here) or a comma-separated list."),
    sizes: str = typer.Option("256,320,512,1024", "--sizes", help="Model input sizes (models whose graph has a dynamic size)."),
    frame_sizes: str = typer.Option(
        "640x480,1280x720,1920x1080", "--frame-sizes", help="Frame sizes for classical methods; models get the first one."
    ),
    provider: str = typer.Option("auto", "--provider", help="ONNX Runtime provider for models: auto, cuda, tensorrt, cpu."),
    threads: int = typer.Option(0, "--threads", help="Threads for ONNX Runtime and the numba kernels (0 = library default)."),
    video: Optional[Path] = typer.Option(None, "--video", help="Also measure end-to-end pipeline fps on this clip."),
    video_frames: Optional[int] = typer.Option(None, "--video-frames", help="Use only the first N frames of --video."),
    repeats: int = typer.Option(30, "--repeats", help="Timed calls per row (fewer when a row would take over 5 s)."),
    warmup: int = typer.Option(3, "--warmup", help="Untimed calls before timing."),
    report: Optional[Path] = typer.Option(None, "--report", "-r", help="Folder for report.md, report.csv and report.json."),
) -> None:
    """Time segmentation methods: median and p90 latency per model input size (models) or frame
    size (classical methods), next to the floor of one cv2.cvtColor over the same frame.

    Frames are taken from the demo clip (a face and a hand) resized to each size. With --video,
    also the end-to-end fps of the pipeline on that clip next to the method's bare inference fps.

    Examples:

        streamseg bench --report reports/bench

        streamseg bench --methods ellipse,dlmv --provider cpu --video examples/face_thumbsup_pixabay_720p.mp4
    """
    from rich.console import Console

    from streamseg import log
    from streamseg.errors import ConfigError, MethodError
    from streamseg.evaluate import machine, reports
    from streamseg.evaluate.latency import Timing, bench_method, parse_frame_sizes, parse_sizes
    from streamseg.evaluate.selection import select_methods
    from streamseg.evaluate.video_fps import bench_video
    from streamseg.segment import MethodOptions

    size_list = parse_sizes(sizes)
    frame_list = parse_frame_sizes(frame_sizes)
    if repeats < 1 or warmup < 0:
        raise ConfigError("--repeats must be at least 1 and --warmup at least 0")
    if video_frames is not None and video_frames < 1:
        raise ConfigError("--video-frames must be at least 1")
    if video is not None:
        from streamseg.evaluate.video_fps import decode_frames

        next(iter(decode_frames(video, 1)), None)  # a bad clip fails now, not after the latency rows

    if report is not None:
        reports.ensure_dir(report)  # fail before minutes of timing, not after
    options = MethodOptions(provider=provider, threads=threads)
    sel = select_methods(methods, options, fallback_size=size_list[0])
    try:
        for name, why in sel.skipped.items():
            log.warn(f"skipping {name}: {why}")
        rows, video_rows = [], []
        floors: dict[tuple[int, int], Timing] = {}

        def show(r) -> None:
            log.info(f"{r.method:>14} {r.size:>10}: median {r.median_ms:8.2f} ms, p90 {r.p90_ms:8.2f} ms (floor {r.floor_ms:.2f} ms)")

        info = machine.describe_run(threads)
        skip_failing = methods.strip().lower() == "all"
        ran = {}
        for name, seg in sel.segmenters.items():
            try:
                rows += bench_method(name, seg, size_list, frame_list, options, warmup, repeats, floors=floors, on_row=show)
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
