"""Skin regions from a binary mask: connected components, split by face/hand detections.

A region is a set of skin pixels with its box, area, centroid and mean probability. Without
detections every connected component above the minimum area is one ``skin`` region. Each face
or hand detection (an *anchor*) takes the skin pixels inside its padded box as a ``face`` or
``hand`` region (anchors may overlap: a thumbs-up in front of the face); what is left of a
component outside all anchors stays a ``skin`` region if it is still large enough (e.g. an arm
or the shoulders joined to the face).

Boxes are float ``x0, y0, x1, y1`` in pixels (``x1``/``y1`` exclusive).

Example:
    >>> import numpy as np
    >>> m = np.zeros((10, 10), bool); m[2:5, 3:7] = True
    >>> [(r.label, r.area, r.box.tolist()) for r in find_regions(m, m.astype(np.float32), min_area=4)]
    [('skin', 12, [3.0, 2.0, 7.0, 5.0])]
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from streamseg.rois.boxes import box_area
from streamseg.rois.detectors import Detection


@dataclass
class Region:
    """One region of one frame.

    box: float64 (4,) ``x0, y0, x1, y1`` pixels. area: skin pixels. centroid: (x, y) pixels.
    mean_prob: mean skin probability over its pixels. score: detection confidence for
    face/hand, ``mean_prob`` for skin. contour: int32 (N, 2) simplified outline or ``None``.
    detection: the face/hand detection it came from; ``fresh`` is False when that detection
    is held from an earlier frame (labelling runs at a reduced rate).
    """

    label: str
    box: np.ndarray
    area: int
    centroid: tuple[float, float]
    mean_prob: float
    score: float
    contour: np.ndarray | None = None
    detection: Detection | None = None
    fresh: bool = True
    track_id: int | None = None  # set for anchors held from a track


def _contour(pixels: np.ndarray, ox: int, oy: int, epsilon: float) -> np.ndarray | None:
    """Largest outer contour of a uint8 crop, simplified by ``epsilon`` x its box diagonal, offset to frame pixels."""
    cs, _ = cv2.findContours(pixels, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not cs:
        return None
    c = max(cs, key=cv2.contourArea)
    x, y, w, h = cv2.boundingRect(c)
    c = cv2.approxPolyDP(c, epsilon * float(np.hypot(w, h)), True)
    return (c.reshape(-1, 2) + np.array([ox, oy])).astype(np.int32)


def _stats(pixels: np.ndarray, prob: np.ndarray, ox: int, oy: int) -> tuple[np.ndarray, int, tuple[float, float], float] | None:
    """Box, area, centroid, mean prob of the nonzero pixels of a uint8 crop (``None`` if empty)."""
    area = int(cv2.countNonZero(pixels))
    if area == 0:
        return None
    x, y, w, h = cv2.boundingRect(pixels)
    m = cv2.moments(pixels, binaryImage=True)
    cx, cy = m["m10"] / m["m00"] + ox, m["m01"] / m["m00"] + oy
    mean = float(cv2.mean(prob, mask=pixels)[0])
    return np.array([x + ox, y + oy, x + w + ox, y + h + oy], np.float64), area, (cx, cy), mean


def _int_box(box: np.ndarray, width: int, height: int) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = box
    return (
        int(np.clip(np.floor(x0), 0, width)),
        int(np.clip(np.floor(y0), 0, height)),
        int(np.clip(np.ceil(x1), 0, width)),
        int(np.clip(np.ceil(y1), 0, height)),
    )


def pad_box(box: np.ndarray, pad: float, width: int, height: int) -> np.ndarray:
    """Grow an ``x0, y0, x1, y1`` box by ``pad`` x its size on every side, clipped to the frame."""
    w, h = box[2] - box[0], box[3] - box[1]
    return np.clip(box + np.array([-pad * w, -pad * h, pad * w, pad * h]), 0, [width, height, width, height])


def find_regions(
    mask: np.ndarray,
    prob: np.ndarray,
    min_area: int,
    anchors: list[Detection] | None = None,
    anchor_pad: float = 0.1,
    contours: bool = False,
    contour_epsilon: float = 0.01,
    max_regions: int = 16,
    held: list[bool] | None = None,
    anchor_tracks: list[int | None] | None = None,
) -> list[Region]:
    """Regions of one frame.

    Args:
        mask: bool (H, W) skin mask.
        prob: float32 (H, W) skin probability in [0, 1].
        min_area: minimum component (and leftover) size in pixels for a ``skin`` region.
        anchors: face/hand detections (boxes in pixels) that claim the skin inside their box.
        anchor_pad: anchor boxes grow by this fraction of their size before claiming pixels.
        contours: compute a simplified outline per region.
        contour_epsilon: simplification tolerance as a fraction of the region's box diagonal.
        max_regions: keep at most this many ``skin`` regions (the largest); anchors are always kept.
        held: per anchor, True when it is carried from an earlier frame (``Region.fresh`` False).
        anchor_tracks: per anchor, the track id it was carried from (or ``None``).

    Returns:
        Anchor regions first (in anchor order), then ``skin`` regions by decreasing area.
    """
    h, w = mask.shape
    anchors = anchors or []
    m8 = mask.astype(np.uint8)
    prob = np.ascontiguousarray(prob, dtype=np.float32)
    out: list[Region] = []

    claimed: list[tuple[int, int, int, int]] = []
    for k, det in enumerate(anchors):
        x0, y0, x1, y1 = _int_box(pad_box(det.box, anchor_pad, w, h), w, h)
        if x1 <= x0 or y1 <= y0:
            continue
        claimed.append((x0, y0, x1, y1))
        crop = m8[y0:y1, x0:x1]
        st = _stats(crop, prob[y0:y1, x0:x1], x0, y0)
        if st is None or st[1] < 0.05 * box_area(det.box):
            # too little skin inside (gloves, a weak mask): the detection's own box stands
            bx0, by0, bx1, by1 = _int_box(det.box, w, h)
            box = np.clip(det.box.astype(np.float64), 0, [w, h, w, h])
            area = st[1] if st else 0
            cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
            region_prob = prob[by0:by1, bx0:bx1]
            mean = float(region_prob.mean()) if region_prob.size else 0.0
            contour = None
        else:
            box, area, (cx, cy), mean = st
            contour = _contour(crop, x0, y0, contour_epsilon) if contours else None
        out.append(
            Region(
                det.label, box, int(area), (float(cx), float(cy)), mean, det.score, contour, det,
                fresh=not (held and held[k]), track_id=anchor_tracks[k] if anchor_tracks else None,
            )
        )

    n, labels, stats, cents = cv2.connectedComponentsWithStats(m8, connectivity=8)
    order = np.argsort(-stats[1:, cv2.CC_STAT_AREA]) + 1 if n > 1 else np.array([], int)
    skin: list[Region] = []
    for i in order:
        x, y, cw, ch, area = (int(v) for v in stats[i])
        if area < min_area:
            break
        overlapping = [c for c in claimed if c[0] < x + cw and x < c[2] and c[1] < y + ch and y < c[3]]
        comp = (labels[y : y + ch, x : x + cw] == i).astype(np.uint8)
        pieces = [comp]
        if overlapping:
            for cx0, cy0, cx1, cy1 in overlapping:
                comp[max(cy0 - y, 0) : max(cy1 - y, 0), max(cx0 - x, 0) : max(cx1 - x, 0)] = 0
            # what the anchors leave may fall apart (a neck below the face, hair-line bits above)
            k, sub, sub_stats, _ = cv2.connectedComponentsWithStats(comp, connectivity=8)
            pieces = [(sub == j).astype(np.uint8) for j in range(1, k) if sub_stats[j, cv2.CC_STAT_AREA] >= min_area]
        for piece in pieces:
            st = _stats(piece, prob[y : y + ch, x : x + cw], x, y)
            if st is None or st[1] < min_area:
                continue
            box, a, c, mean = st
            contour = _contour(piece, x, y, contour_epsilon) if contours else None
            skin.append(Region("skin", box, a, c, mean, mean, contour))
        if len(skin) >= max_regions:
            break
    skin.sort(key=lambda r: -r.area)
    return out + skin[:max_regions]
