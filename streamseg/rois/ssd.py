"""SSD anchors, box decoding and weighted non-maximum suppression of MediaPipe's detectors.

The face and palm detectors (``streamseg/data/models/face-detect-*.onnx``,
``palm-detect-lite-192.onnx``) output, per anchor, raw box offsets and keypoints
(``regressors``, ``(N, anchors, 4 + 2 * keypoints)``) and a score logit (``classificators``,
``(N, anchors, 1)``). This module turns them into detections the way MediaPipe's
``SsdAnchorsCalculator``, ``TensorsToDetectionsCalculator`` and ``NonMaxSuppressionCalculator``
(weighted) do, so the ONNX detectors give MediaPipe's boxes. Coordinates stay normalised to the
model's input tensor; :mod:`streamseg.rois.rects` maps them back to the frame.

Example:
    >>> import numpy as np
    >>> cfg = FACE_SHORT
    >>> anchors = ssd_anchors(cfg)
    >>> anchors.shape
    (896, 2)
    >>> det = decode(np.zeros((896, 16), np.float32), np.full((896, 1), -10, np.float32), anchors, cfg, 0.5)
    >>> len(det.scores)
    0
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np


@dataclass(frozen=True)
class SsdConfig:
    """One detector's anchors and decoding (MediaPipe's options for that model).

    ``strides``: one per anchor layer; consecutive layers with the same stride share a grid.
    ``interpolated``: the extra anchor per layer (``interpolated_scale_aspect_ratio > 0``).
    ``scale``: the ``x/y/w/h_scale`` of the raw offsets (the input size). With fixed-size
    anchors only the anchor centres matter.
    """

    input_size: int
    strides: tuple[int, ...]
    interpolated: bool
    num_keypoints: int
    scale: float
    min_score: float
    nms_threshold: float = 0.3
    aspect_ratios: tuple[float, ...] = (1.0,)
    offset: float = 0.5


#: face_detection_short_range (BlazeFace, 128x128)
FACE_SHORT = SsdConfig(128, (8, 16, 16, 16), True, 6, 128.0, 0.5)
#: face_detection_full_range (192x192, one 48x48 grid)
FACE_FULL = SsdConfig(192, (4,), False, 6, 192.0, 0.6)
#: palm_detection (lite and full, 192x192)
PALM = SsdConfig(192, (8, 16, 16, 16), True, 7, 192.0, 0.5)


@lru_cache(maxsize=8)
def ssd_anchors(cfg: SsdConfig) -> np.ndarray:
    """Anchor centres float32 (anchors, 2) ``(x, y)`` in [0, 1], in the models' output order."""
    centres: list[np.ndarray] = []
    layer = 0
    n = len(cfg.strides)
    while layer < n:
        per_cell = 0
        last = layer
        while last < n and cfg.strides[last] == cfg.strides[layer]:
            per_cell += len(cfg.aspect_ratios) + (1 if cfg.interpolated else 0)
            last += 1
        side = math.ceil(cfg.input_size / cfg.strides[layer])
        ys, xs = np.mgrid[0:side, 0:side]
        grid = np.stack([(xs + cfg.offset) / side, (ys + cfg.offset) / side], -1).reshape(-1, 1, 2)
        centres.append(np.repeat(grid, per_cell, axis=1).reshape(-1, 2))
        layer = last
    out = np.concatenate(centres).astype(np.float32)
    out.setflags(write=False)
    return out


@dataclass
class Detections:
    """Detections normalised to the model input: boxes float32 (n, 4) ``xmin, ymin, xmax, ymax``,
    keypoints (n, k, 2) ``(x, y)``, scores (n,) in [0, 1], best first after :func:`weighted_nms`."""

    boxes: np.ndarray
    keypoints: np.ndarray
    scores: np.ndarray

    def __len__(self) -> int:
        return len(self.scores)

    def take(self, idx) -> "Detections":
        return Detections(self.boxes[idx], self.keypoints[idx], self.scores[idx])


def decode(raw_boxes: np.ndarray, raw_scores: np.ndarray, anchors: np.ndarray, cfg: SsdConfig,
           min_score: float | None = None) -> Detections:
    """One image's raw outputs -> the detections scoring at least ``min_score`` (default the config's).

    Args:
        raw_boxes: float32 (anchors, 4 + 2 * keypoints): centre x, y, width, height, then the
            keypoints' x, y, as offsets from the anchor in input pixels.
        raw_scores: float32 (anchors, 1) or (anchors,): logits.
        anchors: :func:`ssd_anchors` of ``cfg``.
    """
    thr = cfg.min_score if min_score is None else min_score
    logits = np.clip(np.asarray(raw_scores, np.float64).reshape(-1), -100.0, 100.0)
    scores = 1.0 / (1.0 + np.exp(-logits))
    keep = np.flatnonzero(scores >= thr)
    raw = np.asarray(raw_boxes, np.float32)[keep]
    a = anchors[keep]
    cx = raw[:, 0] / cfg.scale + a[:, 0]
    cy = raw[:, 1] / cfg.scale + a[:, 1]
    w = raw[:, 2] / cfg.scale
    h = raw[:, 3] / cfg.scale
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], -1)
    k = cfg.num_keypoints
    kp = raw[:, 4:4 + 2 * k].reshape(-1, k, 2) / cfg.scale + a[:, None, :]
    ok = (w >= 0) & (h >= 0)
    return Detections(boxes[ok].astype(np.float32), kp[ok].astype(np.float32), scores[keep][ok].astype(np.float32))


def _iou_one(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """IoU of ``box`` (4,) with each of ``boxes`` (n, 4); 0 where they do not intersect."""
    ix0 = np.maximum(box[0], boxes[:, 0])
    iy0 = np.maximum(box[1], boxes[:, 1])
    ix1 = np.minimum(box[2], boxes[:, 2])
    iy1 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(ix1 - ix0, 0, None) * np.clip(iy1 - iy0, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    union = area + areas - inter
    return np.where((inter > 0) & (union > 0), inter / np.where(union > 0, union, 1.0), 0.0)


def weighted_nms(det: Detections, threshold: float) -> Detections:
    """MediaPipe's weighted non-maximum suppression.

    The best remaining detection and every one overlapping it by IoU > ``threshold`` (itself
    included) are merged into one: box corners and keypoints averaged with the scores as
    weights, the best one's score kept. Returns the merged detections, best first.
    """
    if not len(det):
        return det
    order = np.argsort(-det.scores, kind="stable")
    boxes, kps, scores = det.boxes[order], det.keypoints[order], det.scores[order]
    remaining = np.arange(len(scores))
    out_b, out_k, out_s = [], [], []
    while len(remaining):
        top = remaining[0]
        overlap = _iou_one(boxes[top], boxes[remaining]) > threshold
        group = remaining[overlap]
        w = scores[group][:, None]
        if len(group):
            total = w.sum()
            out_b.append((boxes[group] * w).sum(0) / total)
            out_k.append((kps[group] * w[:, :, None]).sum(0) / total)
        else:  # a degenerate (empty) box overlaps nothing, not even itself
            out_b.append(boxes[top])
            out_k.append(kps[top])
        out_s.append(scores[top])
        remaining = remaining[~overlap] if len(group) else remaining[1:]
    return Detections(np.asarray(out_b, np.float32).reshape(-1, 4),
                      np.asarray(out_k, np.float32).reshape(-1, kps.shape[1], 2),
                      np.asarray(out_s, np.float32))
