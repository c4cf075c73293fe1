"""The mask video's target: `streamseg video -T mask` fps against a plain PyAV transcode of the same clip.

The clip (default: the demo clip) is first looped ``--loops`` times by a stream copy (video
and audio, no re-encode). Then, alternating, ``--repeats`` times each:

- **plain transcode**: decode with PyAV (``thread_type="AUTO"``), ``frame.to_ndarray("bgr24")``,
  ``VideoFrame.from_ndarray(..., "bgr24")``, libx264 with its defaults (no options: preset
  medium, crf 23), yuv420p;
- **streamseg video** with each ``--method`` and ``-T mask`` (``--output-type``), exactly as the
  CLI runs it (:func:`streamseg.process_video` with its defaults; ``--preset`` etc. passed on
  when given).

Reported: median fps of each, the ratio to the plain transcode, and the pipeline's per-frame
stage means (as ``--stats`` prints them). Everything is measured in one run, so the ratio is
meaningful on a loaded machine even where absolute fps are not.

Usage:
    .venv/bin/python -m benchmarks.pipeline.transcode_ratio                                  # the default model, demo clip x3
    .venv/bin/python -m benchmarks.pipeline.transcode_ratio --method dlmv --method ellipse-diag --repeats 3
    .venv/bin/python -m benchmarks.pipeline.transcode_ratio --preset veryfast                 # the old mask preset
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

import av

from benchmarks.pipeline.overhead import plain_transcode  # the same plain transcode
from streamseg.paths import demo_clip
from streamseg.pipeline.config import DEFAULT_METHOD


def make_looped(clip: Path, loops: int, out: Path) -> Path:
    """``clip`` repeated ``loops`` times by a stream copy (timestamps shifted, no re-encode)."""
    with av.open(str(clip)) as probe:
        streams = [s for s in probe.streams if s.type in ("video", "audio")]
        dur = {s.index: None for s in streams}
        last = {s.index: 0 for s in streams}
        for p in probe.demux(*streams):
            if p.pts is None:
                continue
            end = p.pts + (p.duration or 0)
            last[p.stream.index] = max(last[p.stream.index], end)
        dur = last
    with av.open(str(out), "w") as outp:
        for k in range(loops):
            with av.open(str(clip)) as inp:
                ins = [s for s in inp.streams if s.type in ("video", "audio")]
                if k == 0:
                    omap = {s.index: outp.add_stream_from_template(s) for s in ins}
                for p in inp.demux(*ins):
                    if p.dts is None:
                        continue
                    shift = k * dur[p.stream.index]
                    p.pts = None if p.pts is None else p.pts + shift
                    p.dts = p.dts + shift
                    p.stream = omap[p.stream.index]
                    outp.mux(p)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("clip", nargs="?", type=Path, default=None, help="default: the demo clip")
    ap.add_argument("--loops", type=int, default=3)
    ap.add_argument("--method", action="append", help=f"repeatable; default {DEFAULT_METHOD} (the default model)")
    ap.add_argument("--output-type", default="mask")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--preset", default=None, help="passed to process_video (default: its own)")
    ap.add_argument("--provider", default="auto")
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    import streamseg
    methods = args.method or [DEFAULT_METHOD]
    clip = args.clip or demo_clip()
    extra = {}
    if args.preset is not None:
        extra["preset"] = args.preset
    if args.threads is not None:
        extra["threads"] = args.threads
    with tempfile.TemporaryDirectory() as tmp:
        looped = make_looped(clip, args.loops, Path(tmp) / f"{clip.stem}_x{args.loops}.mp4")
        rows: dict[str, list[float]] = {"plain transcode": []}
        stages: dict[str, list[dict]] = {}
        frames = 0
        for r in range(args.repeats):
            n, dt = plain_transcode(looped, Path(tmp) / "plain.mp4")
            rows["plain transcode"].append(n / dt)
            frames = n
            for m in methods:
                rep = streamseg.process_video(
                    looped, Path(tmp) / f"{m}.mp4", method=m, output_types=args.output_type,
                    provider=args.provider, overwrite=True, **extra,
                )
                assert rep.frames_out == n, (rep.frames_out, n)
                rows.setdefault(f"streamseg video -T {args.output_type} --method {m}", []).append(rep.fps)
                st = {k: v["mean_ms"] for k, v in rep.stages.items()}
                st.update(rep.extra_ms)
                stages.setdefault(m, []).append(st)
    base = statistics.median(rows["plain transcode"])
    print(f"clip: {clip.name} looped {args.loops}x ({frames} frames), {args.repeats} alternating repeats, median fps")
    print("| run | fps | ratio to plain transcode |")
    print("|---|---:|---:|")
    for label, xs in rows.items():
        fps = statistics.median(xs)
        print(f"| {label} | {fps:.1f} | {fps / base:.2f} |")
    for m, sts in stages.items():
        keys = sorted({k for s in sts for k in s})
        print(f"{m} stage ms/frame (median of runs): " + ", ".join(f"{k} {statistics.median(s.get(k, 0.0) for s in sts):.1f}" for k in keys))


if __name__ == "__main__":
    main()
