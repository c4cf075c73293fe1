"""MediaPipe's face, palm and hand-landmark models on ONNX Runtime (streamseg.rois.blaze) against
mediapipe's own output: boxes within 2 % of the frame, landmarks within 1.5 % of the hand box,
on frames of the shipped demo clip and on frames generated from it (moved, scaled, turned, on
other backgrounds, mirrored). The parity tests need mediapipe and skip without it; the
pre/post-processing tests run everywhere."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from streamseg.rois import rects, ssd
from streamseg.rois.blaze import FaceDetector, HandTracker
from streamseg.segment.registry import method_names

ROOT = Path(__file__).resolve().parents[1]
BOX_TOL = 0.02  # of the frame (its width for x, height for y)
LANDMARK_TOL = 0.015  # of the hand box's long side


# the converter reads the demo clip the same way for the parity in the models' cards
_spec = importlib.util.spec_from_file_location("convert_mediapipe", ROOT / "scripts" / "convert_mediapipe.py")
convert_mediapipe = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(convert_mediapipe)


def _demo_frames(step: int, stop: int) -> list[np.ndarray]:
    """RGB frames 0, step, ... < stop of the demo clip."""
    out = convert_mediapipe.demo_rgb_frames(step, stop)
    assert out, "demo clip not readable"
    return out


def _generated(frames: list[np.ndarray], seed: int) -> list[np.ndarray]:
    """Each frame moved, scaled, turned and mirrored at random onto a noisy coloured background
    of another size (640x480 or 480x640), so faces and hands appear where the clip has none."""
    rng = np.random.default_rng(seed)
    out = []
    for f in frames:
        w, h = (640, 480) if rng.random() < 0.7 else (480, 640)
        bg = cv2.resize(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8), (w, h), interpolation=cv2.INTER_CUBIC)
        scale = rng.uniform(0.35, 0.7)
        angle = rng.uniform(-25, 25)
        m = cv2.getRotationMatrix2D((f.shape[1] / 2, f.shape[0] / 2), angle, scale)
        m[:, 2] += [w / 2 - f.shape[1] / 2 + rng.uniform(-60, 60), h / 2 - f.shape[0] / 2 + rng.uniform(-40, 40)]
        img = cv2.warpAffine(f, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        inside = cv2.warpAffine(np.ones(f.shape[:2], np.uint8), m, (w, h)) > 0
        img = np.where(inside[..., None], img, bg)
        out.append(np.ascontiguousarray(img[:, ::-1] if rng.random() < 0.5 else img))
    return out


# --------------------------------------------------------------------------- no mediapipe needed


def test_detector_models_are_not_skin_methods():
    names = method_names()
    for stem in ("face-detect-short", "face-detect-full", "palm-detect-lite", "hand-landmark-lite"):
        assert stem not in names


def test_anchor_counts_match_the_models():
    assert ssd.ssd_anchors(ssd.FACE_SHORT).shape == (896, 2)
    assert ssd.ssd_anchors(ssd.FACE_FULL).shape == (2304, 2)
    assert ssd.ssd_anchors(ssd.PALM).shape == (2016, 2)
    a = ssd.ssd_anchors(ssd.FACE_SHORT)
    # first grid 16x16 with 2 anchors per cell, centred in its cell; then 8x8 with 6
    assert np.allclose(a[0], [0.5 / 16, 0.5 / 16]) and np.allclose(a[1], a[0])
    assert np.allclose(a[512], [0.5 / 8, 0.5 / 8]) and np.allclose(a[512:518], a[512])


def test_decode_puts_a_box_on_its_anchor_and_keeps_only_confident_ones():
    cfg = ssd.FACE_SHORT
    anchors = ssd.ssd_anchors(cfg)
    raw = np.zeros((896, 16), np.float32)
    scores = np.full((896, 1), -5.0, np.float32)
    raw[700, :4] = [12.8, -6.4, 32.0, 16.0]  # centre shift (0.1, -0.05), size (0.25, 0.125) of the input
    raw[700, 4:6] = [0.0, 12.8]
    scores[700] = 3.0
    det = ssd.decode(raw, scores, anchors, cfg, 0.5)
    assert len(det) == 1
    cx, cy = anchors[700] + [0.1, -0.05]
    assert np.allclose(det.boxes[0], [cx - 0.125, cy - 0.0625, cx + 0.125, cy + 0.0625], atol=1e-6)
    assert np.allclose(det.keypoints[0, 0], anchors[700] + [0.0, 0.1], atol=1e-6)
    assert det.scores[0] == pytest.approx(1 / (1 + math.exp(-3.0)))


def test_weighted_nms_averages_overlapping_boxes_by_score():
    boxes = np.array([[0.1, 0.1, 0.3, 0.3], [0.12, 0.1, 0.32, 0.3], [0.6, 0.6, 0.8, 0.8]], np.float32)
    kps = np.zeros((3, 1, 2), np.float32)
    kps[:, 0, 0] = [0.2, 0.3, 0.7]
    det = ssd.weighted_nms(ssd.Detections(boxes, kps, np.array([0.6, 0.9, 0.7], np.float32)), 0.3)
    assert len(det) == 2
    assert det.scores.tolist() == pytest.approx([0.9, 0.7])  # the best one's score, best first
    w = np.array([0.6, 0.9]) / 1.5
    assert np.allclose(det.boxes[0], w[0] * boxes[0] + w[1] * boxes[1], atol=1e-6)
    assert det.keypoints[0, 0, 0] == pytest.approx(w[0] * 0.2 + w[1] * 0.3)
    assert np.allclose(det.boxes[1], boxes[2])


def test_crop_and_project_are_inverse_for_rotated_rects():
    h, w = 90, 160
    img = np.zeros((h, w, 3), np.uint8)
    cv2.circle(img, (100, 40), 3, (255, 255, 255), -1)
    r = rects.NormRect(100 / w, 45 / h, 40 / w, 40 / h, math.radians(30))
    crop = rects.crop(img, r, 64)
    ys, xs = np.nonzero(crop[..., 0] > 128)
    centre = np.array([[xs.mean() / 64, ys.mean() / 64]])
    assert np.allclose(rects.project(centre, r)[0] * [w, h], [100, 40], atol=0.7)


def test_letterbox_rect_pads_the_short_side():
    r = rects.full_frame_rect(1280, 720, keep_aspect=True)
    assert (r.w, r.h) == pytest.approx((1.0, 1280 / 720))
    r = rects.full_frame_rect(480, 640, keep_aspect=True)
    assert (r.w, r.h) == pytest.approx((640 / 480, 1.0))


def test_association_prefers_the_later_rect():
    a = rects.NormRect(0.5, 0.5, 0.2, 0.2)
    b = rects.NormRect(0.52, 0.5, 0.2, 0.2)  # IoU 0.82 with a
    c = rects.NormRect(0.1, 0.1, 0.1, 0.1)
    assert rects.associate([a, c], [b]) == [c, b]
    assert rects.associate([a], [c]) == [a, c]


def test_onnx_detectors_find_the_demo_face_and_hand_without_mediapipe(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "mediapipe", None)
    frame = _demo_frames(1, 61)[-1]
    (face,) = FaceDetector("short", provider="cpu").detect(frame)
    x0, y0, x1, y1 = face.box
    assert 400 < (x0 + x1) / 2 < 900 and 150 < (y0 + y1) / 2 < 500 and face.score > 0.8
    hands = HandTracker(provider="cpu", static=True).process(frame)
    assert len(hands) >= 1 and hands[0].presence > 0.5
    assert np.all((hands[0].landmarks[:, :2] > 0) & (hands[0].landmarks[:, :2] < 1))


def test_hand_tracking_skips_the_palm_detector_while_enough_hands_are_tracked(monkeypatch):
    frames = _demo_frames(3, 90)[20:24]
    tracker = HandTracker(max_hands=1, provider="cpu")
    calls = []
    palms = tracker.palms
    monkeypatch.setattr(tracker, "palms", lambda rgb: calls.append(1) or palms(rgb))
    seen = [len(tracker.process(f)) for f in frames]
    assert seen[0] == 1 and sum(seen) >= 3
    assert len(calls) == 1 + seen[:-1].count(0)  # only when no hand was carried over
    static = HandTracker(max_hands=1, provider="cpu", static=True)
    monkeypatch.setattr(static, "palms", lambda rgb: calls.append(1) or palms(rgb))
    n = len(calls)
    for f in frames:
        static.process(f)
    assert len(calls) == n + len(frames)


# --------------------------------------------------------------------------- parity with mediapipe


def _mp_faces(fd, rgb):
    h, w = rgb.shape[:2]
    out = []
    for d in fd.process(rgb).detections or []:
        b = d.location_data.relative_bounding_box
        box = np.array([b.xmin, b.ymin, b.xmin + b.width, b.ymin + b.height])
        kp = np.array([[k.x, k.y] for k in d.location_data.relative_keypoints])
        out.append((box, kp, d.score[0]))
    return out


@pytest.mark.parametrize("face_range, selection", [("short", 0), ("full", 1)])
def test_face_detection_matches_mediapipe(face_range, selection):
    mp = pytest.importorskip("mediapipe")
    shipped = _demo_frames(10, 150)
    frames = shipped + _generated(shipped, seed=selection)
    ours = FaceDetector(face_range, 0.5, provider="cpu")
    found = 0
    with mp.solutions.face_detection.FaceDetection(model_selection=selection, min_detection_confidence=0.5) as fd:
        for rgb in frames:
            h, w = rgb.shape[:2]
            want = _mp_faces(fd, rgb)
            got = ours.detect(rgb)
            assert len(got) == len(want)
            for (box, kp, score), g in zip(want, got):
                assert np.abs(g.box.reshape(2, 2) / [w, h] - box.reshape(2, 2)).max() < BOX_TOL
                assert np.abs(g.keypoints / [w, h] - kp).max() < BOX_TOL
                assert g.score == pytest.approx(score, abs=0.01)
                found += 1
    assert found >= len(shipped)  # the comparison saw faces, not only empty frames


def _mp_hands(res, w, h):
    out = []
    for lm, side, world in zip(res.multi_hand_landmarks or [], res.multi_handedness or [],
                               res.multi_hand_world_landmarks or []):
        pts = np.array([[p.x, p.y, p.z] for p in lm.landmark])
        wpts = np.array([[p.x, p.y, p.z] for p in world.landmark])
        out.append((pts, wpts, side.classification[0].label.lower(), side.classification[0].score))
    return out


def _landmark_error(want: np.ndarray, got: np.ndarray, w: int, h: int) -> float:
    px_w, px_g = want[:, :2] * [w, h], got[:, :2] * [w, h]
    span = (px_w.max(0) - px_w.min(0)).max()
    return float(np.abs(px_w - px_g).max() / span)


def test_palm_detection_and_hand_landmarks_match_mediapipe():
    """Every frame searched afresh (static mode): palm detection, the rotated crop, the landmark
    model and the projection back, all of MediaPipe's hand pipeline but the tracking."""
    mp = pytest.importorskip("mediapipe")
    shipped = _demo_frames(6, 150)
    frames = shipped + _generated(shipped, seed=7)
    ours = HandTracker(max_hands=2, provider="cpu", static=True)
    found = 0
    with mp.solutions.hands.Hands(static_image_mode=True, max_num_hands=2, model_complexity=0) as hands:
        for rgb in frames:
            h, w = rgb.shape[:2]
            want = _mp_hands(hands.process(rgb), w, h)
            got = ours.process(rgb)
            assert len(got) == len(want)
            for (pts, wpts, label, score), g in zip(want, got):
                assert _landmark_error(pts, g.landmarks, w, h) < LANDMARK_TOL
                assert np.abs(g.world - wpts).max() < 0.005  # metres
                assert np.abs(g.landmarks[:, 2] - pts[:, 2]).max() < 0.01
                assert g.handedness == label and g.handedness_score == pytest.approx(score, abs=0.01)
                found += 1
    assert found >= len(shipped) // 2


def test_hand_tracking_steps_match_mediapipe():
    """Tracking between frames, one step at a time: from MediaPipe's own crops our landmark
    model gives its landmarks, and from its landmarks our next crops are its next crops. (Run
    end to end, two trackers part ways wherever the landmarks are unsure, as MediaPipe's own
    tracking and its static mode do on the fast thumbs-up; so each step is checked alone.)"""
    pytest.importorskip("mediapipe")
    from mediapipe.python.solution_base import SolutionBase

    frames = _demo_frames(3, 150)
    graph = SolutionBase(
        binary_graph_path="mediapipe/modules/hand_landmark/hand_landmark_tracking_cpu.binarypb",
        side_inputs={"model_complexity": 0, "num_hands": 2, "use_prev_landmarks": True},
        outputs=["multi_hand_landmarks", "hand_rects", "hand_rects_from_landmarks", "hand_rects_from_palm_detections"],
    )
    ours = HandTracker(max_hands=2, provider="cpu")
    as_rect = lambda q: rects.NormRect(q.x_center, q.y_center, q.width, q.height, q.rotation)  # noqa: E731
    prev: list[rects.NormRect] = []
    steps = 0
    try:
        for rgb in frames:
            h, w = rgb.shape[:2]
            res = graph.process({"image": rgb})
            crops = [as_rect(q) for q in res.hand_rects or []]
            palms = [as_rect(q) for q in res.hand_rects_from_palm_detections or []]
            # the crops: MediaPipe's palm crops associated with the crops carried from the last frame
            if len(prev) >= 2:
                assert not palms
            mine = rects.associate(palms, prev)
            assert len(mine) == len(crops)
            for a, b in zip(mine, crops):
                assert np.allclose([a.cx, a.cy, a.w, a.h], [b.cx, b.cy, b.w, b.h], atol=2e-3)
            got = ours.landmarks(rgb, crops)
            want = [np.array([[p.x, p.y, p.z] for p in lm.landmark]) for lm in res.multi_hand_landmarks or []]
            assert len(got) == len(want)
            for pts, g in zip(want, got):
                assert _landmark_error(pts, g.landmarks, w, h) < LANDMARK_TOL
            nxt = [as_rect(q) for q in res.hand_rects_from_landmarks or []]
            prev = [rects.landmarks_rect(pts, w, h) for pts in want]
            for a, b in zip(prev, nxt):
                assert np.allclose([a.cx, a.cy, a.w, a.h], [b.cx, b.cy, b.w, b.h], atol=1e-4)
                assert abs(rects.normalize_radians(a.rotation - b.rotation)) < 1e-3
            prev = nxt
            steps += len(want)
    finally:
        graph.close()
    assert steps >= 20


def test_hands_option_needs_the_models_not_mediapipe(monkeypatch, tmp_path):
    import sys

    import streamseg.paths
    from streamseg.errors import MethodError
    from streamseg.pipeline.spec import RunSpec

    monkeypatch.setitem(sys.modules, "mediapipe", None)
    RunSpec.make(method="ellipse", hands=True)
    monkeypatch.setattr(streamseg.paths, "shipped_models_dir", lambda: tmp_path)  # the models are gone
    with pytest.raises(MethodError, match=r"--hands: detector model \S+: .* is missing \(reinstall streamseg\)") as exc:
        RunSpec.make(method="ellipse", hands=True)
    assert "\n" not in str(exc.value)
