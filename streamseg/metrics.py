"""Segmentation accuracy metrics shared by training, fitting and ``streamseg eval``.

IoU follows the original skin_segmentation project: per-image IoU of the binary masks, then the
mean over images (mIoU). The IoU of two empty masks is 1.

Example:
    >>> import numpy as np
    >>> a = np.array([[1, 1], [0, 0]], bool); b = np.array([[1, 0], [0, 0]], bool)
    >>> iou(a, b)
    0.5
    >>> iou(np.zeros((2, 2), bool), np.zeros((2, 2), bool))
    1.0
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Counts:
    """Pixel counts of one image (or summed over many): true/false positives and negatives."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def __iadd__(self, other: "Counts") -> "Counts":
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn
        self.tn += other.tn
        return self

    @property
    def iou(self) -> float:
        union = self.tp + self.fp + self.fn
        return 1.0 if union == 0 else self.tp / union

    @property
    def precision(self) -> float:
        d = self.tp + self.fp
        return 1.0 if d == 0 and self.fn == 0 else (self.tp / d if d else 0.0)

    @property
    def recall(self) -> float:
        d = self.tp + self.fn
        return 1.0 if d == 0 and self.fp == 0 else (self.tp / d if d else 0.0)

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 0.0 if p + r == 0 else 2 * p * r / (p + r)


def counts(pred: np.ndarray, truth: np.ndarray) -> Counts:
    """Pixel counts for boolean masks ``pred`` and ``truth`` of the same (H, W) shape."""
    if pred.shape != truth.shape:
        raise ValueError(f"mask shapes differ: {pred.shape} vs {truth.shape}")
    pred = pred.astype(bool, copy=False)
    truth = truth.astype(bool, copy=False)
    tp = int(np.count_nonzero(pred & truth))
    fp = int(np.count_nonzero(pred)) - tp
    fn = int(np.count_nonzero(truth)) - tp
    return Counts(tp, fp, fn, int(pred.size) - tp - fp - fn)


def iou(pred: np.ndarray, truth: np.ndarray) -> float:
    """IoU of two boolean (H, W) masks; 1.0 when both are empty."""
    return counts(pred, truth).iou


def scene_rates(fp_shares: list[float]) -> dict[str, float]:
    """Per-scene shares of pixels called skin -> ``{"pixels": mean share, "over_1pct": share of scenes above 1 %}``.

    Example:
        >>> scene_rates([0.0, 0.02, 0.004, 0.0])
        {'pixels': 0.006, 'over_1pct': 0.25}
    """
    if not fp_shares:
        return {"pixels": 0.0, "over_1pct": 0.0}
    a = np.asarray(fp_shares, np.float64)
    return {"pixels": round(float(a.mean()), 6), "over_1pct": round(float((a > 0.01).mean()), 6)}
