"""The per-frame ROI message (a JSON-ready dict), versioned and described by ``streamseg/data/schemas/rois.schema.json``.

Coordinates come twice: in pixels (``box``, ``centroid``, ``landmarks``, ``contour``) and
normalised to [0, 1] by the frame size (the ``*_norm`` twins). Boxes are ``[x, y, w, h]``
(top-left corner, width, height).

Example:
    >>> m = build_message([], source="cam", index=3, time=0.12, width=640, height=480, skin_fraction=0.25)
    >>> m["version"], m["frame"], m["size"], m["regions"]
    ('1.0', 3, [640, 480], [])
"""

from __future__ import annotations

import json
import time as _time
from pathlib import Path
from typing import Any

import numpy as np

from streamseg.paths import schema_dir
from streamseg.rois.tracking import Track

#: message format version: major changes break consumers, minor ones only add fields
SCHEMA_VERSION = "1.0"


def schema_path() -> Path:
    """Where ``rois.schema.json`` lies (package data: ``streamseg/data/schemas/``)."""
    return schema_dir() / "rois.schema.json"


def load_schema() -> dict[str, Any]:
    """The JSON Schema of the message, as a dict."""
    return json.loads(schema_path().read_text(encoding="utf-8"))


def _r(v: float, nd: int) -> float:
    return round(float(v), nd)


def _box(box: np.ndarray, w: int, h: int) -> tuple[list[float], list[float]]:
    x0, y0, x1, y1 = (float(v) for v in box)
    x0, x1 = min(max(x0, 0.0), w), min(max(x1, 0.0), w)
    y0, y1 = min(max(y0, 0.0), h), min(max(y1, 0.0), h)
    bw, bh = max(x1 - x0, 0.0), max(y1 - y0, 0.0)
    return [_r(x0, 1), _r(y0, 1), _r(bw, 1), _r(bh, 1)], [_r(x0 / w, 4), _r(y0 / h, 4), _r(bw / w, 4), _r(bh / h, 4)]


def region_entry(tr: Track, width: int, height: int, include_landmarks: bool, include_contours: bool) -> dict[str, Any]:
    """One ``regions[]`` item for a track (see the schema for the fields)."""
    box, box_n = _box(tr.box, width, height)
    r = tr.region
    cx, cy = tr.centroid
    if tr.predicted:  # the centroid moves with the predicted box
        last = r.box
        cx += (tr.box[0] + tr.box[2] - last[0] - last[2]) / 2
        cy += (tr.box[1] + tr.box[3] - last[1] - last[3]) / 2
    cx, cy = min(max(cx, 0.0), width), min(max(cy, 0.0), height)
    area = int(r.area)
    e: dict[str, Any] = {
        "id": tr.id,
        "label": tr.label,
        "score": _r(min(max(tr.score, 0.0), 1.0), 3),
        "box": box,
        "box_norm": box_n,
        "centroid": [_r(cx, 1), _r(cy, 1)],
        "centroid_norm": [_r(cx / width, 4), _r(cy / height, 4)],
        "area": area,
        "area_norm": _r(area / (width * height), 5),
        "mean_prob": _r(min(max(r.mean_prob, 0.0), 1.0), 3),
        "predicted": bool(tr.predicted),
        "age": _r(tr.last_seen - tr.first_seen, 3),
    }
    if tr.label == "hand":
        e["gesture"] = tr.gesture or "none"
        e["handedness"] = tr.handedness
        if include_landmarks and tr.landmarks is not None:
            lm = tr.landmarks
            e["landmarks"] = [[_r(x, 1), _r(y, 1), _r(z, 1)] for x, y, z in lm]
            e["landmarks_norm"] = [[_r(x / width, 4), _r(y / height, 4), _r(z / width, 4)] for x, y, z in lm]
    if include_contours and r.contour is not None and not tr.predicted:
        e["contour"] = [[int(x), int(y)] for x, y in r.contour]
        e["contour_norm"] = [[_r(x / width, 4), _r(y / height, 4)] for x, y in r.contour]
    return e


def build_message(
    tracks: list[Track],
    *,
    source: str,
    index: int,
    time: float,
    width: int,
    height: int,
    skin_fraction: float,
    landmarks: bool = False,
    contours: bool = False,
) -> dict[str, Any]:
    """The message for one frame.

    Args:
        tracks: the tracks to report (from :meth:`Tracker.update`).
        source: the input's name (file path, camera index or URL).
        index: frame index in the source.
        time: frame time in seconds (from the file's timestamps, or capture time for live input).
        width, height: frame size in pixels.
        skin_fraction: fraction of the frame's pixels that are skin, in [0, 1].
        landmarks: include hand landmarks (``--hands``).
        contours: include simplified contours.

    Returns:
        A dict made only of JSON types; ``json.dumps`` it as is.
    """
    return {
        "version": SCHEMA_VERSION,
        "source": str(source),
        "frame": int(index),
        "time": _r(time, 6),
        "wall_time": _r(_time.time(), 6),
        "size": [int(width), int(height)],
        "skin_fraction": _r(min(max(skin_fraction, 0.0), 1.0), 5),
        "regions": [e for e in (region_entry(tr, width, height, landmarks, contours) for tr in tracks) if _visible(e)],
    }


def _visible(entry: dict[str, Any]) -> bool:
    """A region is reported only while its box has at least one pixel of width and height in
    the frame (a predicted box that drifted out of the frame is not)."""
    return entry["box"][2] >= 1.0 and entry["box"][3] >= 1.0
