"""Draw a ROI message onto a frame: boxes, ids, labels, gestures, landmarks and contours.

Example:
    >>> import numpy as np
    >>> img = np.zeros((40, 40, 3), np.uint8)
    >>> msg = {"size": [40, 40], "regions": [{"id": 1, "label": "skin", "score": 0.9,
    ...        "box": [5, 5, 20, 20], "predicted": False}]}
    >>> draw_rois(img, msg); bool(img.any())
    True
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

#: BGR colour per label
COLOURS = {"face": (0, 165, 255), "hand": (80, 220, 60), "skin": (255, 160, 60)}

#: the bones between MediaPipe's 21 hand landmarks
HAND_CONNECTIONS = (
    (0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7), (7, 8), (5, 9), (9, 10), (10, 11), (11, 12),
    (9, 13), (13, 14), (14, 15), (15, 16), (13, 17), (0, 17), (17, 18), (18, 19), (19, 20),
)


def _label_text(r: dict[str, Any]) -> str:
    text = f"#{r['id']} {r['label']}"
    if r.get("label") == "hand":
        if r.get("handedness"):
            text += f" {r['handedness'][0].upper()}"
        if r.get("gesture") and r["gesture"] != "none":
            text += f" {r['gesture']}"
    return text + f" {r.get('score', 0):.2f}"


def draw_rois(image: np.ndarray, message: dict[str, Any] | None) -> None:
    """Draw ``message``'s regions on ``image`` in place.

    Args:
        image: BGR uint8 (H, W, 3); if its size differs from the message's ``size``, the
            coordinates are scaled (e.g. a downscaled preview).
        message: a ROI message (``None`` or no regions: nothing drawn).
    """
    if not message or not message.get("regions"):
        return
    h, w = image.shape[:2]
    mw, mh = message.get("size") or (w, h)
    sx, sy = w / max(mw, 1), h / max(mh, 1)
    thick = max(1, round(min(h, w) / 360))
    font = 0.4 * max(min(h, w) / 480, 0.6)
    labels: list[tuple[dict[str, Any], tuple, tuple[int, int], tuple[int, int]]] = []
    for r in message["regions"]:
        colour = COLOURS.get(r.get("label"), (200, 200, 200))
        x, y, bw, bh = r["box"]
        p0 = (int(round(x * sx)), int(round(y * sy)))
        p1 = (int(round((x + bw) * sx)), int(round((y + bh) * sy)))
        if "contour" in r and len(r["contour"]) >= 2:
            pts = (np.asarray(r["contour"], np.float64) * [sx, sy]).round().astype(np.int32)
            cv2.polylines(image, [pts], True, colour, thick, cv2.LINE_AA)
        if r.get("predicted"):
            _dashed_rect(image, p0, p1, colour, thick)
        else:
            cv2.rectangle(image, p0, p1, colour, thick + 1, cv2.LINE_AA)
        for a, b in HAND_CONNECTIONS if "landmarks" in r else ():
            pa, pb = r["landmarks"][a], r["landmarks"][b]
            cv2.line(
                image, (int(pa[0] * sx), int(pa[1] * sy)), (int(pb[0] * sx), int(pb[1] * sy)), (255, 255, 255), thick, cv2.LINE_AA
            )
        for px, py, _ in r.get("landmarks", ()):
            cv2.circle(image, (int(px * sx), int(py * sy)), thick + 2, colour, -1, cv2.LINE_AA)
        labels.append((r, colour, p0, p1))
    # labels last, faces first, each where it overlaps no label already placed
    placed: list[tuple[int, int, int, int]] = []
    for r, colour, p0, p1 in sorted(labels, key=lambda item: LABEL_ORDER.get(item[0].get("label"), 9)):
        text = _label_text(r)
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, font, 1)
        lx, ly = place_label((p0[0], p0[1], p1[0], p1[1]), (tw + 4, th + base + 4), (w, h), placed)
        placed.append((lx, ly, lx + tw + 4, ly + th + base + 4))
        cv2.rectangle(image, (lx, ly), (lx + tw + 4, ly + th + base + 3), colour, -1)
        cv2.putText(image, text, (lx + 2, ly + th + 2), cv2.FONT_HERSHEY_SIMPLEX, font, (0, 0, 0), 1, cv2.LINE_AA)


#: which labels get the best place first
LABEL_ORDER = {"face": 0, "hand": 1, "skin": 2}


def _overlaps(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def place_label(
    box: tuple[int, int, int, int], size: tuple[int, int], frame: tuple[int, int], placed: list[tuple[int, int, int, int]]
) -> tuple[int, int]:
    """Top-left corner of a ``size`` (w, h) label for ``box`` (x0, y0, x1, y1) inside ``frame``
    (w, h) that overlaps none of the ``placed`` label rectangles: above the box, inside its
    top, below it, inside its bottom, then further down in label steps.

    >>> place_label((10, 30, 50, 60), (20, 10), (100, 100), [])
    (10, 20)
    >>> place_label((10, 30, 50, 60), (20, 10), (100, 100), [(10, 20, 30, 30)])
    (10, 30)
    """
    (x0, y0, x1, y1), (lw, lh), (fw, fh) = box, size, frame
    x = min(max(x0, 0), max(fw - lw, 0))
    tops = [y0 - lh, y0, y1, y1 - lh]
    tops += [y0 + k * lh for k in range(2, max(2, fh // max(lh, 1)) + 2)]
    for y in tops:
        y = min(max(y, 0), max(fh - lh, 0))
        rect = (x, y, x + lw, y + lh)
        if not any(_overlaps(rect, p) for p in placed):
            return x, y
    for y in range(0, max(fh - lh, 0) + 1, max(lh, 1)):  # anywhere in this column
        if not any(_overlaps((x, y, x + lw, y + lh), p) for p in placed):
            return x, y
    return x, min(max(y0 - lh, 0), max(fh - lh, 0))


def _dashed_rect(image: np.ndarray, p0: tuple[int, int], p1: tuple[int, int], colour: tuple, thick: int, dash: int = 8) -> None:
    """A dashed rectangle: the box is a prediction, not a measurement."""
    (x0, y0), (x1, y1) = p0, p1
    for a, b in (((x0, y0), (x1, y0)), ((x1, y0), (x1, y1)), ((x1, y1), (x0, y1)), ((x0, y1), (x0, y0))):
        length = int(np.hypot(b[0] - a[0], b[1] - a[1]))
        for s in range(0, max(length, 1), 2 * dash):
            e = min(s + dash, length)
            f0, f1 = s / max(length, 1), e / max(length, 1)
            q0 = (int(a[0] + (b[0] - a[0]) * f0), int(a[1] + (b[1] - a[1]) * f0))
            q1 = (int(a[0] + (b[0] - a[0]) * f1), int(a[1] + (b[1] - a[1]) * f1))
            cv2.line(image, q0, q1, colour, thick, cv2.LINE_AA)
