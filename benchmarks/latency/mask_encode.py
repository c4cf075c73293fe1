"""What a mask video frame costs between the bool mask and the H.264 packet, per step and per x264 preset.

Masks come from ``ellipse-diag`` on the demo clip (real, moving shapes; ``--frames`` of them at
its 1280x720). Per frame, medians in ms:

- ``render bgr``: ``mask -> uint8*255 -> cvtColor(GRAY2BGR)`` (the old ``render(..., "mask")``);
- ``bgr -> yuv420p``: ``VideoFrame.from_ndarray(bgr, "bgr24").reformat("yuv420p")`` (what the
  encoder did implicitly through swscale);
- ``direct yuv420p``: the new path, ``Y = 16 + 219 * mask`` written into a reused buffer whose
  chroma planes stay 128, then ``from_ndarray(buf, "yuv420p")`` (no colour conversion);
- ``resize``: a ``cv2.resize`` of the BGR picture to the same size class (what a size change
  would cost; the pipeline never resizes a mask of the right size);
- per preset: x264 encode ms/frame of the direct frames (encode + flush over all frames / n),
  and the file's kB per frame.

Usage:
    .venv/bin/python -m benchmarks.latency.mask_encode [--frames 150] [--presets ultrafast,superfast,veryfast,faster]
"""

from __future__ import annotations

import argparse
import io
import statistics

import av
import cv2
import numpy as np

from streamseg.paths import demo_clip
from streamseg.segment import create
from streamseg.sinks.pixels import grey_to_yuv420p
from benchmarks.timing import Stopwatch


def _median_ms(fn, items) -> float:
    ts = []
    for x in items:
        with Stopwatch() as sw:
            fn(x)
        ts.append(sw.ms)
    return statistics.median(ts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=150)
    ap.add_argument("--presets", default="ultrafast,superfast,veryfast,faster")
    ap.add_argument("--crf", type=int, default=20)
    args = ap.parse_args()
    seg = create("ellipse-diag")
    masks = []
    with av.open(str(demo_clip())) as c:
        for i, fr in enumerate(c.decode(video=0)):
            if i >= args.frames:
                break
            masks.append(seg.segment(fr.to_ndarray(format="bgr24")) >= 0.5)
    h, w = masks[0].shape
    print(f"{len(masks)} ellipse-diag masks of the demo clip, {w}x{h}; cv2 threads {cv2.getNumThreads()}")
    bgrs = [cv2.cvtColor(m.astype(np.uint8) * 255, cv2.COLOR_GRAY2BGR) for m in masks]
    buf = np.full((h * 3 // 2, w), 128, np.uint8)
    print("| step | ms / frame |")
    print("|---|---:|")
    print(f"| render bgr (uint8*255 + GRAY2BGR) | {_median_ms(lambda m: cv2.cvtColor(m.astype(np.uint8) * 255, cv2.COLOR_GRAY2BGR), masks):.2f} |")
    print(f"| bgr -> yuv420p (swscale) | {_median_ms(lambda b: av.VideoFrame.from_ndarray(b, format='bgr24').reformat(format='yuv420p'), bgrs):.2f} |")
    print(f"| direct yuv420p (Y = 16 + 219 mask) | {_median_ms(lambda m: av.VideoFrame.from_ndarray(grey_to_yuv420p(m, buf), format='yuv420p'), masks):.2f} |")
    print(f"| resize bgr (INTER_AREA, 0.5x) | {_median_ms(lambda b: cv2.resize(b, (w // 2, h // 2), interpolation=cv2.INTER_AREA), bgrs):.2f} |")
    print()
    print("| x264 preset | encode ms / frame | kB / frame |")
    print("|---|---:|---:|")
    for preset in args.presets.split(","):
        out = io.BytesIO()
        with av.open(out, "w", format="mp4") as o:
            s = o.add_stream("libx264", rate=25)
            s.width, s.height, s.pix_fmt = w, h, "yuv420p"
            s.options = {"crf": str(args.crf), "preset": preset}
            frames = [av.VideoFrame.from_ndarray(grey_to_yuv420p(m, buf), format="yuv420p") for m in masks]
            with Stopwatch() as sw:
                for i, f in enumerate(frames):
                    f.pts = i
                    for p in s.encode(f):
                        o.mux(p)
                for p in s.encode(None):
                    o.mux(p)
            dt = sw.s
        print(f"| {preset} | {1000 * dt / len(masks):.2f} | {len(out.getvalue()) / 1000 / len(masks):.1f} |")


if __name__ == "__main__":
    main()
