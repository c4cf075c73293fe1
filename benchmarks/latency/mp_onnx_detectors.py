"""MediaPipe's detectors on ONNX Runtime (streamseg.rois.blaze) against mediapipe's own TFLite
graphs on the same frames: per-frame latency of face detection (short and full range) and of
the hands (tracking and static), plus the time to the first result (loading included).

Each side runs on the same RGB frames of the demo clip, in this process, one after the other;
mediapipe's timings include its graph's own bookkeeping, ours the crops and decoding in Python.
Without mediapipe only the ONNX side runs.

Usage:
    .venv/bin/python -m benchmarks.latency.mp_onnx_detectors [--frames 60] [--threads 0] [--provider auto] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import cv2
import numpy as np
from benchmarks.timing import Stopwatch, summary

ROOT = Path(__file__).resolve().parents[2]


def frames(n: int) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(ROOT / "examples" / "face_thumbsup_pixabay_720p.mp4"))
    out = []
    while len(out) < n:
        ok, f = cap.read()
        if not ok:
            break
        out.append(cv2.cvtColor(f, cv2.COLOR_BGR2RGB))
    cap.release()
    return out


def timed(make, run, rgbs: list[np.ndarray]) -> dict:
    """First result (construction + first call) and the median / p90 of the later calls, in ms."""
    with Stopwatch() as sw:
        obj = make()
        run(obj, rgbs[0])
    first = sw.ms
    times = []
    for rgb in rgbs[1:]:
        with Stopwatch() as sw:
            run(obj, rgb)
        times.append(sw.ms)
    close = getattr(obj, "close", None)
    if close:
        close()
    s = summary(times)
    return {"first_ms": round(first, 1), "median_ms": round(s["median"], 2), "p90_ms": round(s["p90"], 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--threads", type=int, default=0, help="ONNX Runtime intra-op threads (0 = streamseg's default)")
    ap.add_argument("--provider", default="auto")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    rgbs = frames(args.frames)
    from streamseg.rois.blaze import FaceDetector, HandTracker

    kw = dict(provider=args.provider, threads=args.threads)
    res: dict = {"frames": len(rgbs), "size": list(rgbs[0].shape[:2]), "onnx": {}, "mediapipe": {}}
    res["onnx"]["face-short"] = timed(lambda: FaceDetector("short", **kw), lambda o, f: o.detect(f), rgbs)
    res["onnx"]["face-full"] = timed(lambda: FaceDetector("full", **kw), lambda o, f: o.detect(f), rgbs)
    res["onnx"]["hands-tracking"] = timed(lambda: HandTracker(**kw), lambda o, f: o.process(f), rgbs)
    res["onnx"]["hands-static"] = timed(lambda: HandTracker(static=True, **kw), lambda o, f: o.process(f), rgbs)
    res["onnx"]["provider"] = FaceDetector("short", **kw).provider
    try:
        os.environ.setdefault("GLOG_minloglevel", "2")
        import mediapipe as mp
    except ImportError:
        mp = None
    if mp is not None:
        fd, hands = mp.solutions.face_detection.FaceDetection, mp.solutions.hands.Hands
        res["mediapipe"]["face-short"] = timed(lambda: fd(model_selection=0), lambda o, f: o.process(f), rgbs)
        res["mediapipe"]["face-full"] = timed(lambda: fd(model_selection=1), lambda o, f: o.process(f), rgbs)
        res["mediapipe"]["hands-tracking"] = timed(lambda: hands(max_num_hands=2, model_complexity=0),
                                                   lambda o, f: o.process(f), rgbs)
        res["mediapipe"]["hands-static"] = timed(
            lambda: hands(static_image_mode=True, max_num_hands=2, model_complexity=0), lambda o, f: o.process(f), rgbs)
    text = json.dumps(res, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
