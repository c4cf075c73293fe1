"""A small rule-based gesture label from the 21 MediaPipe hand landmarks.

Labels: ``open-palm``, ``fist``, ``point``, ``thumbs-up``, ``pinch`` or ``none``.

The rules look at how straight each finger is and how far its tip is from the wrist, in units
of the palm length (wrist to middle-finger knuckle), so they do not depend on the hand's size
or in-plane rotation; only ``thumbs-up`` uses the image's "up".

Landmark order (MediaPipe): 0 wrist; thumb 1-4 (CMC, MCP, IP, tip); index 5-8, middle 9-12,
ring 13-16, pinky 17-20 (MCP, PIP, DIP, tip).

Example:
    >>> import numpy as np
    >>> classify_gesture(np.zeros((21, 3)))
    'none'
"""

from __future__ import annotations

import numpy as np

GESTURES = ("open-palm", "fist", "point", "thumbs-up", "pinch", "none")

WRIST = 0
THUMB = (1, 2, 3, 4)
FINGERS = {"index": (5, 6, 7, 8), "middle": (9, 10, 11, 12), "ring": (13, 14, 15, 16), "pinky": (17, 18, 19, 20)}

#: a finger is straight when tip-to-knuckle distance / summed bone lengths exceeds this
STRAIGHT = 0.8
#: thumb tip and index tip closer than this many palm lengths = pinch
PINCH = 0.3
#: thumb tip farther than this many palm lengths from every landmark of the four fingers = thumb out
THUMB_OUT = 0.4
#: the thumb points up when its direction is within this many degrees of image-up
THUMB_UP_DEG = 50.0
#: ... and its tip is this many palm lengths above the highest landmark of the other fingers
THUMB_RISE = 0.3


def _dist(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b))


def finger_states(points: np.ndarray) -> dict[str, str]:
    """Per finger: ``extended``, ``curled`` (tip folded back toward the wrist) or ``bent``.

    Args:
        points: (21, 2) or (21, 3) float landmarks in any consistent unit (world metres, or
            pixels with z in pixels).

    Returns:
        ``{"thumb": ..., "index": ..., "middle": ..., "ring": ..., "pinky": ...}``; the thumb is
        ``extended`` when straight and its tip is away from the other fingers, else ``curled``.
    """
    p = np.asarray(points, dtype=np.float64)
    wrist = p[WRIST]
    palm = max(_dist(wrist, p[9]), 1e-9)
    states: dict[str, str] = {}
    for name, (mcp, pip, dip, tip) in FINGERS.items():
        bones = _dist(p[mcp], p[pip]) + _dist(p[pip], p[dip]) + _dist(p[dip], p[tip])
        straight = _dist(p[mcp], p[tip]) / max(bones, 1e-9)
        tip_out = _dist(p[tip], wrist) > _dist(p[pip], wrist)
        if straight > STRAIGHT and tip_out:
            states[name] = "extended"
        elif not tip_out:
            states[name] = "curled"
        else:
            states[name] = "bent"
    c, m, i, t = THUMB
    bones = _dist(p[m], p[i]) + _dist(p[i], p[t])
    straight = _dist(p[m], p[t]) / max(bones, 1e-9)
    # in a fist the thumb tip rests on the curled fingers; in a thumbs-up it sticks out
    out = min(_dist(p[t], p[k]) for k in range(5, 21)) / palm > THUMB_OUT
    states["thumb"] = "extended" if straight > STRAIGHT and out else "curled"
    return states


def _thumb_up(img: np.ndarray) -> bool:
    """The thumb points up in the image and its tip rises above every other finger's landmarks.

    Judged on image landmarks: for a fist facing the camera the depth of MediaPipe's landmarks
    is unreliable, but a thumb sticking up above the knuckles is plain in the image.
    """
    palm = _dist(img[WRIST], img[9])
    if palm <= 0:
        return False
    rise = (float(img[5:21, 1].min()) - float(img[4, 1])) / palm
    v = img[4, :2] - img[2, :2]
    norm = float(np.linalg.norm(v))
    if norm == 0 or rise < THUMB_RISE:
        return False
    return float(np.degrees(np.arccos(np.clip(-v[1] / norm, -1.0, 1.0)))) <= THUMB_UP_DEG


def classify_gesture(points: np.ndarray, image_points: np.ndarray | None = None) -> str:
    """Gesture label for one hand.

    Args:
        points: (21, 2|3) float landmarks for the hand's shape (MediaPipe world landmarks are
            best; image landmarks in pixels also work).
        image_points: (21, 2+) landmarks in image coordinates (y down) used for the direction
            of a thumbs-up; defaults to ``points``.

    Returns:
        One of :data:`GESTURES`.
    """
    p = np.asarray(points, dtype=np.float64)
    if p.shape[0] != 21 or _dist(p[WRIST], p[9]) < 1e-9:
        return "none"
    img = p if image_points is None else np.asarray(image_points, dtype=np.float64)
    palm = _dist(p[WRIST], p[9])
    s = finger_states(p)
    four = [s[f] for f in FINGERS]
    n_ext = four.count("extended")
    n_curled = four.count("curled")

    if n_ext == 0 and n_curled >= 3:
        if _thumb_up(img):
            return "thumbs-up"
        return "none" if s["thumb"] == "extended" else "fist"
    if _dist(p[4], p[8]) / palm < PINCH and s["index"] != "curled":
        return "pinch"
    if s["index"] == "extended" and s["middle"] != "extended" and s["ring"] != "extended" and s["pinky"] != "extended":
        return "point"
    if n_ext == 4:
        return "open-palm"
    return "none"
