"""End-to-end speed of `streamseg video` against a plain PyAV decode+encode of the same clip.

The ratio (pipeline fps / plain transcode fps) is the cost of segmentation plus the pipeline's
own overhead; with ``--method none-copy`` (segmentation replaced by an all-zero mask) it is the
pipeline's overhead alone. Both are measured in one run, alternating, and the median is kept.

Usage:
    .venv/bin/python -m benchmarks.pipeline.overhead [CLIP] [--method ellipse] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

import av
import numpy as np

from streamseg.paths import demo_clip
from streamseg.segment import create
from streamseg.segment.base import Segmenter
from streamseg.sinks.settings import EncoderSettings
from streamseg.pipeline import process_video_file
from benchmarks.timing import now


class _Zero(Segmenter):
    """No segmentation: an all-zero probability (isolates the pipeline's own cost)."""

    name = "none-copy"
    provider = "numpy"

    def __init__(self, options=None) -> None:
        pass

    def segment(self, frame: np.ndarray) -> np.ndarray:
        return np.zeros(frame.shape[:2], np.float32)


def plain_transcode(clip: Path, out: Path, settings: EncoderSettings | None = None) -> tuple[int, float]:
    """Decode every frame with PyAV and encode it again (same codec settings; ``None``: libx264
    with its own defaults, no options, yuv420p), no processing. Returns (frames, seconds)."""
    t0 = now()
    n = 0
    with av.open(str(clip)) as inp, av.open(str(out), "w") as outp:
        vin = inp.streams.video[0]
        vin.thread_type = "AUTO"
        vout = outp.add_stream(settings.codec if settings else "libx264", rate=vin.average_rate)
        pix_fmt = settings.pix_fmt if settings else "yuv420p"
        vout.width, vout.height, vout.pix_fmt = vin.codec_context.width, vin.codec_context.height, pix_fmt
        vout.time_base = vin.time_base
        if settings is not None:
            vout.options = {"crf": str(settings.crf), "preset": settings.preset}
        for frame in inp.decode(vin):
            img = frame.to_ndarray(format="bgr24")  # same conversions as the pipeline
            f = av.VideoFrame.from_ndarray(img, format="bgr24")
            f.pts, f.time_base = frame.pts, vin.time_base
            for p in vout.encode(f):
                outp.mux(p)
            n += 1
        for p in vout.encode(None):
            outp.mux(p)
    return n, now() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("clip", nargs="?", type=Path, default=demo_clip())
    ap.add_argument("--method", default="ellipse")
    ap.add_argument("--output-type", default="overlay", help="overlay re-encodes a picture as complex as the input, like the plain transcode")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    settings = EncoderSettings().for_output(args.output_type)  # the preset the pipeline would pick
    seg = create(args.method)
    seg.warmup()
    zero = _Zero()
    rows: dict[str, list[float]] = {"plain PyAV decode+encode": [], f"streamseg video ({args.method})": [], "streamseg video (no segmentation)": []}
    frames = 0
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.repeats):
            n, dt = plain_transcode(args.clip, Path(tmp) / f"plain{r}.mp4", settings)
            rows["plain PyAV decode+encode"].append(n / dt)
            for label, s in ((f"streamseg video ({args.method})", seg), ("streamseg video (no segmentation)", zero)):
                rep = process_video_file(args.clip, {args.output_type: Path(tmp) / f"{s.name}{r}.mp4"}, s, settings=settings, progress=False)
                assert rep.frames_out == n, (rep.frames_out, n)
                rows[label].append(rep.fps)
            frames = n
    base = statistics.median(rows["plain PyAV decode+encode"])
    print(f"clip: {args.clip.name}, {frames} frames, output type {args.output_type}, {args.repeats} repeats (median fps)")
    print(f"| run | fps | ratio to plain transcode |")
    print(f"|---|---|---|")
    for label, xs in rows.items():
        fps = statistics.median(xs)
        print(f"| {label} | {fps:.1f} | {fps / base:.2f} |")


if __name__ == "__main__":
    main()
