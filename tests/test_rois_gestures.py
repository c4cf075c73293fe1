"""Rule-based gestures on generated 3D hand skeletons (MediaPipe landmark order)."""

from __future__ import annotations

import numpy as np
import pytest

from streamseg.rois.gestures import GESTURES, classify_gesture, finger_states

# palm in the x-y plane, fingers pointing image-up (-y), palm facing +z; palm length (wrist to middle knuckle) = 1
MCP = {"index": (-0.3, -0.95), "middle": (0.0, -1.0), "ring": (0.25, -0.93), "pinky": (0.45, -0.82)}
BONES = {"index": (0.45, 0.27, 0.2), "middle": (0.5, 0.3, 0.22), "ring": (0.47, 0.28, 0.2), "pinky": (0.37, 0.21, 0.18)}
UP, PALM = np.array([0.0, -1.0, 0.0]), np.array([0.0, 0.0, 1.0])


def _chain(start, lengths, angles, direction, bend):
    pts, p, theta = [], np.asarray(start, float), 0.0
    for length, a in zip(lengths, angles):
        theta += np.radians(a)
        p = p + length * (np.cos(theta) * direction + np.sin(theta) * bend)
        pts.append(p)
    return pts


def hand(flex: dict[str, float], thumb: str) -> np.ndarray:
    """(21, 3) landmarks; ``flex`` = per-finger flexion in degrees at each of its 3 joints; thumb: out | side | folded | pinch."""
    pts = np.zeros((21, 3))
    for k, name in enumerate(("index", "middle", "ring", "pinky")):
        base = 5 + 4 * k
        mcp = np.array([*MCP[name], 0.0])
        pts[base] = mcp
        a = flex.get(name, 0.0)
        pts[base + 1 : base + 4] = _chain(mcp, BONES[name], (a, a, a), UP, PALM)
    cmc = np.array([-0.25, -0.2, 0.0])
    pts[1] = cmc
    if thumb == "out":  # straight, up and away from the palm
        d = np.array([-0.5, -1.0, 0.3]) / np.linalg.norm([-0.5, -1.0, 0.3])
        pts[2:5] = _chain(cmc, (0.35, 0.3, 0.25), (0, 0, 0), d, PALM)
    elif thumb == "side":  # straight, out to the side, perpendicular to the fingers
        d = np.array([-1.0, 0.0, 0.3]) / np.linalg.norm([-1.0, 0.0, 0.3])
        pts[2:5] = _chain(cmc, (0.35, 0.3, 0.25), (0, 0, 0), d, PALM)
    elif thumb == "folded":  # across the curled fingers, tip on the index's middle bone
        pts[2], pts[3], pts[4] = [-0.5, -0.5, 0.15], [-0.35, -0.75, 0.45], pts[6] + [0.12, 0.05, 0.1]
    elif thumb == "pinch":  # tip to the index tip
        pts[2], pts[3], pts[4] = [-0.5, -0.5, 0.2], [-0.45, -0.8, 0.45], pts[8] + [0.03, 0.02, 0.0]
    return pts


def rotate(pts: np.ndarray, degrees: float, axis: str = "z") -> np.ndarray:
    a = np.radians(degrees)
    c, s = np.cos(a), np.sin(a)
    m = {"z": [[c, -s, 0], [s, c, 0], [0, 0, 1]], "y": [[c, 0, s], [0, 1, 0], [-s, 0, c]]}[axis]
    return pts @ np.array(m).T


OPEN = hand({}, "out")
FIST = hand({"index": 95, "middle": 95, "ring": 95, "pinky": 95}, "folded")
POINT = hand({"middle": 95, "ring": 95, "pinky": 95}, "folded")
PINCH = hand({"index": 35, "middle": 10, "ring": 10, "pinky": 10}, "pinch")
# thumbs-up: a fist with the thumb out to the side, turned so the fingers point sideways and the thumb up
THUMBS_UP = rotate(hand({"index": 95, "middle": 95, "ring": 95, "pinky": 95}, "side"), 90, "z")


@pytest.mark.parametrize(
    "pts, expected",
    [(OPEN, "open-palm"), (FIST, "fist"), (POINT, "point"), (PINCH, "pinch"), (THUMBS_UP, "thumbs-up")],
)
def test_canonical_poses(pts, expected):
    assert classify_gesture(pts) == expected


@pytest.mark.parametrize("pts, expected", [(OPEN, "open-palm"), (FIST, "fist"), (POINT, "point"), (PINCH, "pinch")])
@pytest.mark.parametrize("angle", [0, 70, 180, 250])
@pytest.mark.parametrize("scale, shift", [(1.0, 0.0), (180.0, 300.0), (0.08, -2.0)])
def test_shape_gestures_ignore_rotation_scale_and_position(pts, expected, angle, scale, shift):
    assert classify_gesture(rotate(pts, angle) * scale + shift) == expected


def test_thumbs_up_needs_the_thumb_up_in_the_image():
    down = rotate(THUMBS_UP, 180)
    assert classify_gesture(down) == "none"
    # world landmarks (any orientation) give the shape, image landmarks the direction
    assert classify_gesture(down, image_points=THUMBS_UP) == "thumbs-up"


def test_finger_states_and_degenerate_input():
    s = finger_states(POINT)
    assert s["index"] == "extended" and s["middle"] == "curled" and s["thumb"] == "curled"
    assert finger_states(OPEN)["thumb"] == "extended"
    assert classify_gesture(np.zeros((21, 3))) == "none"
    assert classify_gesture(np.ones((5, 3))) == "none"
    assert set(GESTURES) == {"open-palm", "fist", "point", "thumbs-up", "pinch", "none"}
