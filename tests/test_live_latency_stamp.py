"""The time stamp of benchmarks/latency/live_latency.py survives JPEG and reads back exactly."""

from __future__ import annotations

import cv2
import numpy as np

from benchmarks.latency import live_latency


def test_stamp_survives_jpeg():
    rng = np.random.default_rng(0)
    for t in (0, 1, (1 << 40) - 1, 1_733_000_000_123_456 % (1 << 40)):
        img = rng.integers(0, 255, (480, 640, 3), np.uint8)
        live_latency.stamp(img, t)
        ok, jpg = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 85])
        back = cv2.imdecode(jpg, cv2.IMREAD_COLOR)
        assert live_latency.read_stamp(back) == t % (1 << 40)
