"""Geometry of ``x0, y0, x1, y1`` boxes (pixels, float): area, intersection over union, and how
much of one box lies in another; shared by the detectors, the regions and the tracker.

Example:
    >>> import numpy as np
    >>> a, b = np.array([0, 0, 2, 2.0]), np.array([1, 0, 3, 2.0])
    >>> box_area(a), iou(a, b), covered(a, b)
    (4.0, 0.3333333333333333, 0.5)
"""

from __future__ import annotations

import numpy as np


def box_area(box: np.ndarray) -> float:
    """Area of an ``x0, y0, x1, y1`` box (0 if empty)."""
    return float(max(box[2] - box[0], 0.0) * max(box[3] - box[1], 0.0))


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two ``x0, y0, x1, y1`` boxes."""
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    return float(inter / (box_area(a) + box_area(b) - inter))


def covered(inner: np.ndarray, outer: np.ndarray) -> float:
    """Fraction of box ``inner`` inside box ``outer``."""
    iw = min(inner[2], outer[2]) - max(inner[0], outer[0])
    ih = min(inner[3], outer[3]) - max(inner[1], outer[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    return float(iw * ih / max(box_area(inner), 1e-9))
