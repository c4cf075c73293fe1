"""Elliptical YCbCr skin rule (placeholder NumPy version; numba kernels replace it)."""

from __future__ import annotations

import cv2
import numpy as np

from streamseg.segment.base import MethodOptions, Segmenter, check_frame


class Ellipse(Segmenter):
    """Axis-aligned ellipse in the CbCr plane, centre (109.38, 152.02), semi-axes 13.64 / 15.38."""

    name = "ellipse"
    description = "elliptical YCbCr rule (original skin_segmentation project)"
    provider = "numpy"
    centre = (109.38, 152.02)
    axes = (13.64, 15.38)

    def __init__(self, options: MethodOptions | None = None) -> None:
        self.options = options or MethodOptions()

    def segment(self, frame: np.ndarray) -> np.ndarray:
        ycrcb = cv2.cvtColor(check_frame(frame), cv2.COLOR_BGR2YCrCb).astype(np.float32)
        cr, cb = ycrcb[..., 1], ycrcb[..., 2]
        d = ((cb - self.centre[0]) / self.axes[0]) ** 2 + ((cr - self.centre[1]) / self.axes[1]) ** 2
        return (d <= 1.0).astype(np.float32)
