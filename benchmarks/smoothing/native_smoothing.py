"""Still-pixel flicker of a model on real clips: smoothing the frame-size probability (what
``benchmarks/smoothing/temporal.py`` measures) against smoothing the model's native map and upsampling
once (what the pipeline does). Both paths see the same frames.

    .venv/bin/python -m benchmarks.smoothing.native_smoothing examples/face_thumbsup_pixabay_720p.mp4 \
        ../shared/media/hand_reach_pixabay_360p.mp4 ../shared/media/asl_book_intel_480p.mkv

Prints, per clip, still-pixel flicker and overall flicker of each smoother over per-frame
(``none``, the frame-size map thresholded at 0.5).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from benchmarks.smoothing.temporal import iter_clip
from streamseg.pipeline.config import DEFAULT_METHOD
from streamseg.pipeline.processor import fit_to_frame, upsample_to_frame
from streamseg.segment import MethodOptions, create
from streamseg.smooth import make_smoother
from streamseg.smooth.flicker import StillPixelFlicker


def run(seg, clip: Path, variants: list[str], frames: int, threshold: float, blur: int) -> None:
    at_frame = {v: make_smoother(v) for v in variants}
    at_native = {v: make_smoother(v) for v in variants}
    still = StillPixelFlicker(threshold, blur)
    prev: dict[str, np.ndarray] = {}
    change: dict[str, list[float]] = {}
    seg.reset()
    n = 0
    for frame in iter_clip(clip, frames, 0):
        h, w = frame.shape[:2]
        prob = seg.segment(frame)
        native = fit_to_frame(seg.segment_native(frame), h, w)  # as the Processor does
        masks = {"none": prob >= 0.5}
        for v in variants:
            masks[f"{v}|frame"] = at_frame[v].update(prob, frame) >= 0.5
            small = at_native[v].update(native, frame)
            masks[f"{v}|native"] = upsample_to_frame(small, h, w) >= 0.5  # as the Processor does
        still.update_many(masks, frame)
        for k, m in masks.items():
            if k in prev:
                change.setdefault(k, []).append(np.count_nonzero(m != prev[k]) / m.size)
            prev[k] = m
        n += 1
    base, fbase = still.result("none"), float(np.mean(change["none"]))
    print(f"\n## {clip.name}: {n} frames, native map {native.shape[1]}x{native.shape[0]}; "
          f"per-frame still-pixel flicker {base:.3f} %, overall {100 * fbase:.3f} %\n")
    print("| smoother | smoothed at | still-pixel flicker / none | overall flicker / none |")
    print("|---|---|---:|---:|")
    for k in masks:
        if k == "none":
            continue
        v, path = k.split("|")
        where = "frame size (640 grid)" if path == "frame" else "native map + one upsample"
        print(f"| `{v}` | {where} | {still.result(k) / base:.2f} | {np.mean(change[k]) / fbase:.2f} |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("clips", nargs="+", type=Path)
    ap.add_argument("--method", default=DEFAULT_METHOD)
    ap.add_argument("--smoothers", default="still,still:static_weight=0.05:hold=0:blur=5")
    ap.add_argument("--frames", type=int, default=150, help="frames per clip (0 = all)")
    ap.add_argument("--still-threshold", type=float, default=3.0)
    ap.add_argument("--still-blur", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    cv2.setNumThreads(max(1, args.threads))
    seg = create(args.method, MethodOptions(threads=args.threads))
    variants = [v.strip() for v in args.smoothers.split(",") if v.strip()]
    for clip in args.clips:
        run(seg, clip, variants, args.frames, args.still_threshold, args.still_blur)
    seg.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
