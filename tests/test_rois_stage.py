"""ROI stage on generated clips: regions, tracking through a crossing, labels from (fake) detections, schema."""

from __future__ import annotations

import itertools
import json
import sys

import cv2
import jsonschema
import numpy as np
import pytest

from streamseg.errors import ConfigError
from streamseg.frames import Frame, FrameResult
from streamseg.rois import RoiOptions, RoiStage, draw_rois, load_schema
from streamseg.rois.detectors import Detection
from streamseg.rois.regions import find_regions
from streamseg.segment import create

SKIN_BGR = (116, 139, 184)  # inside the ellipse rule's CbCr ellipse
BACKGROUND_BGR = (70, 50, 40)
H, W, FPS = 240, 320, 25.0


def blob_clip(n: int = 40, noise: int = 6, seed: int = 0):
    """Two skin-coloured ellipses moving in opposite directions that cross mid-clip.

    Yields (frame BGR uint8, [(cx, cy, rx, ry) of blob A, of blob B]).
    """
    rng = np.random.default_rng(seed)
    for i in range(n):
        f = i / (n - 1)
        blobs = [(40 + 240 * f, 110.0, 22, 28), (280 - 240 * f, 128.0, 20, 26)]
        img = np.empty((H, W, 3), np.uint8)
        img[:] = BACKGROUND_BGR
        for cx, cy, rx, ry in blobs:
            cv2.ellipse(img, (round(cx), round(cy)), (rx, ry), 0, 0, 360, SKIN_BGR, -1)
        img = np.clip(img.astype(np.int16) + rng.integers(-noise, noise + 1, img.shape), 0, 255).astype(np.uint8)
        yield img, blobs


def colour_prob(img: np.ndarray) -> np.ndarray:
    """Skin probability of the generated frames: 1 at SKIN_BGR, falling to 0 at 40 levels away (float32 HxW)."""
    d = np.abs(img.astype(np.float32) - np.array(SKIN_BGR, np.float32)).max(axis=2)
    return np.clip(1.0 - d / 40.0, 0.0, 1.0)


def run_clip(stage: RoiStage, clip, segmenter=None):
    seg = segmenter or colour_prob
    out = []
    for i, (img, blobs) in enumerate(clip):
        prob = seg(img)
        res = FrameResult(Frame(img, i, i / FPS), prob, prob >= 0.5)
        out.append((stage.process(res), blobs, res))
    return out


def _centre(box):
    x, y, w, h = box
    return np.array([x + w / 2, y + h / 2])


def test_ids_stable_and_boxes_follow_two_crossing_blobs():
    stage = RoiStage(RoiOptions(labels=False, min_area=0.002))
    frames = run_clip(stage, blob_clip())
    ids_a, ids_b = set(), set()
    merged_frames = 0
    for msg, blobs, _ in frames:
        regions = msg["regions"]
        assert all(r["label"] == "skin" for r in regions)
        for (cx, cy, rx, ry), ids in zip(blobs, (ids_a, ids_b)):
            truth = np.array([cx, cy])
            best = min(regions, key=lambda r: np.linalg.norm(_centre(r["box"]) - truth))
            err = np.linalg.norm(_centre(best["box"]) - truth)
            assert err < 12, (msg["frame"], err, best)
            if not best["predicted"]:
                assert abs(best["box"][2] - 2 * rx) < 10 and abs(best["box"][3] - 2 * ry) < 10, best
            ids.add(best["id"])
        merged_frames += any(r["predicted"] for r in regions)
    assert len(ids_a) == 1 and len(ids_b) == 1 and ids_a != ids_b
    assert merged_frames >= 2  # the blobs did merge into one component on the way
    assert {r["id"] for r in frames[-1][0]["regions"]} == ids_a | ids_b


def _occluded_clip(hidden: range):
    """One blob moving right; in the frames of ``hidden`` it is covered (not in the mask)."""
    for i, (img, blobs) in enumerate(blob_clip(n=30)):
        if i in hidden:
            cx, cy, rx, ry = blobs[0]
            cv2.ellipse(img, (round(cx), round(cy)), (rx + 3, ry + 3), 0, 0, 360, BACKGROUND_BGR, -1)
        cx, cy, rx, ry = blobs[1]
        cv2.ellipse(img, (round(cx), round(cy)), (rx + 3, ry + 3), 0, 0, 360, BACKGROUND_BGR, -1)
        yield img, blobs[:1]


@pytest.mark.parametrize("max_missed_s, same_id", [(0.5, True), (0.0, False)])
def test_short_occlusion_is_bridged(max_missed_s, same_id):
    stage = RoiStage(RoiOptions(labels=False, max_missed_s=max_missed_s))
    frames = run_clip(stage, _occluded_clip(range(8, 11)))
    ids_before = {r["id"] for r in frames[7][0]["regions"]}
    ids_after = {r["id"] for r in frames[12][0]["regions"]}
    assert len(ids_before) == 1 and len(ids_after) == 1
    assert (ids_before == ids_after) is same_id
    if same_id:
        (r,) = frames[9][0]["regions"]
        assert r["predicted"] and r["id"] in ids_before
        # the coasting box kept moving with the blob (rightwards)
        assert _centre(r["box"])[0] > _centre(frames[7][0]["regions"][0]["box"])[0]
    else:
        assert frames[9][0]["regions"] == []


def test_works_on_a_registered_segmenter():
    frames = run_clip(RoiStage(RoiOptions(labels=False)), itertools.islice(blob_clip(), 3), create("ellipse"))
    assert len(frames[-1][0]["regions"]) == 2


def test_region_stats_min_area_and_contour():
    mask = np.zeros((100, 200), bool)
    mask[10:50, 20:80] = True  # 2400 px
    mask[70:75, 150:155] = True  # 25 px, below min_area
    prob = np.where(mask, 0.8, 0.1).astype(np.float32)
    regions = find_regions(mask, prob, min_area=100, contours=True)
    assert len(regions) == 1
    r = regions[0]
    assert r.label == "skin" and r.area == 2400
    assert r.box.tolist() == [20.0, 10.0, 80.0, 50.0]
    assert r.centroid == pytest.approx((49.5, 29.5))
    assert r.mean_prob == pytest.approx(0.8, abs=1e-6)
    assert r.contour is not None and 4 <= len(r.contour) <= 8
    assert r.contour[:, 0].min() == 20 and r.contour[:, 0].max() == 79


def test_anchor_splits_component_and_leftover_stays_skin():
    # a "face" joined to "shoulders" by a neck: one component, split by a face detection
    mask = np.zeros((200, 200), bool)
    cv2.ellipse(mask.view(np.uint8), (100, 50), (25, 35), 0, 0, 360, 1, -1)
    mask[80:110, 90:110] = True
    mask[110:200, 30:170] = True
    prob = mask.astype(np.float32)
    face = Detection("face", np.array([75.0, 15.0, 125.0, 85.0]), 0.9)
    regions = find_regions(mask, prob, min_area=200, anchors=[face], anchor_pad=0.1)
    labels = [r.label for r in regions]
    assert labels == ["face", "skin"]
    f, s = regions
    assert f.score == 0.9 and f.box[1] <= 16 and f.box[3] <= 93
    assert s.box[1] >= 85 and s.box[3] == 200
    assert f.area + s.area <= mask.sum()


class FakeDetectors:
    """Stands in for MediaPipe: a face at a fixed box and a hand that follows blob A."""

    def __init__(self, hand_box):
        self.hand_box = hand_box
        self.calls = {"faces": 0, "hands": 0}

    def faces(self, rgb):
        self.calls["faces"] += 1
        return []

    def hands(self, rgb):
        self.calls["hands"] += 1
        box = self.hand_box()
        lm = np.tile(np.array([[box[0] + 5, box[1] + 5, 0.0]]), (21, 1))
        return [Detection("hand", box, 0.97, lm, None, "right", "thumbs-up")]

    def reset(self):
        pass

    def close(self):
        pass


def test_labels_from_detections_are_held_between_detection_frames():
    current = {}
    fake = FakeDetectors(lambda: current["box"].copy())
    stage = RoiStage(RoiOptions(labels=True, detect_every=3, background_labels=False))
    stage._detectors, stage._detectors_tried = fake, True
    schema = load_schema()
    hand_ids = set()
    for i, (img, blobs) in enumerate(blob_clip(n=20)):
        cx, cy, rx, ry = blobs[0]
        current["box"] = np.array([cx - rx, cy - ry, cx + rx, cy + ry], float)
        prob = colour_prob(img)
        msg = stage.process(FrameResult(Frame(img, i, i / FPS), prob, prob >= 0.5))
        jsonschema.validate(msg, schema)
        hands = [r for r in msg["regions"] if r["label"] == "hand"]
        assert len(hands) == 1, msg["regions"]
        assert hands[0]["gesture"] == "thumbs-up" and hands[0]["handedness"] == "right"
        assert "landmarks" not in hands[0]  # only with hands=True
        hand_ids.add(hands[0]["id"])
    assert len(hand_ids) == 1
    assert fake.calls["hands"] == 7 and fake.calls["faces"] == 7  # frames 0, 3, ..., 18


def test_background_labels_arrive_later_moved_to_the_current_frame():
    current = {}
    fake = FakeDetectors(lambda: current["box"].copy())
    stage = RoiStage(RoiOptions(labels=True, detect_every=2))  # background_labels is the default
    stage._detectors, stage._detectors_tried = fake, True
    seen = []
    try:
        for i, (img, blobs) in enumerate(blob_clip(n=30)):
            cx, cy, rx, ry = blobs[0]
            current["box"] = np.array([cx - rx, cy - ry, cx + rx, cy + ry], float)
            prob = colour_prob(img)
            msg = stage.process(FrameResult(Frame(img, i, i / FPS), prob, prob >= 0.5))
            hands = [r for r in msg["regions"] if r["label"] == "hand"]
            seen.append(len(hands))
            if hands:
                # the detection was made on an earlier frame but the box is where the blob is now
                assert abs(_centre(hands[0]["box"])[0] - cx) < 8, (i, hands[0]["box"], cx)
            assert stage._worker.wait(5.0)  # let the worker finish, so the test is deterministic
    finally:
        stage.close()
    assert seen[0] == 0 and all(n == 1 for n in seen[1:]), seen  # frame 0's labels arrive on frame 1
    assert fake.calls["hands"] == 15 and fake.calls["faces"] == 15


def test_background_labels_never_block_the_frame():
    import threading

    release = threading.Event()

    class Stuck(FakeDetectors):
        def hands(self, rgb):
            release.wait(30)  # MediaPipe taking forever
            return super().hands(rgb)

    stage = RoiStage(RoiOptions(labels=True))
    stage._detectors, stage._detectors_tried = Stuck(lambda: np.array([0.0, 0.0, 10.0, 10.0])), True
    done = []

    def run():
        for msg, _, _ in run_clip(stage, itertools.islice(blob_clip(), 10)):
            done.append(msg)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(20)
    finished = not t.is_alive()
    release.set()
    stage.close()
    assert finished and len(done) == 10
    assert all(r["label"] == "skin" for m in done for r in m["regions"])


def test_hands_option_reports_landmarks_every_frame():
    fake = FakeDetectors(lambda: np.array([100.0, 60.0, 160.0, 140.0]))
    stage = RoiStage(RoiOptions(hands=True, detect_every=5))
    stage._detectors, stage._detectors_tried = fake, True
    img = np.zeros((H, W, 3), np.uint8)
    for i in range(3):
        mask = np.zeros((H, W), bool)
        msg = stage.process(FrameResult(Frame(img, i, i / FPS), mask.astype(np.float32), mask))
        (hand,) = msg["regions"]
        assert len(hand["landmarks"]) == 21 and len(hand["landmarks_norm"]) == 21
        assert hand["landmarks"][0][0] == pytest.approx(105.0, abs=0.2)
    assert fake.calls["hands"] == 3 and fake.calls["faces"] == 1


def test_without_detector_models_regions_are_skin_with_one_warning(monkeypatch, capsys, tmp_path):
    import streamseg.paths

    monkeypatch.setattr(streamseg.paths, "shipped_models_dir", lambda: tmp_path)  # the models are missing
    from streamseg import log

    warnings = []
    monkeypatch.setattr(log, "warn", warnings.append)
    stage = RoiStage(RoiOptions(labels=True, hands=True))
    frames = run_clip(stage, itertools.islice(blob_clip(), 5))
    assert len(warnings) == 1 and "detector" in warnings[0].lower() and "\n" not in warnings[0]
    assert all(r["label"] == "skin" for msg, _, _ in frames for r in msg["regions"])
    assert len(frames[-1][0]["regions"]) == 2


def test_messages_validate_against_schema_and_are_json():
    schema = load_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    stage = RoiStage(RoiOptions(labels=False, contours=True, source="synthetic"))
    for msg, _, _ in run_clip(stage, blob_clip(n=10)):
        jsonschema.validate(json.loads(json.dumps(msg)), schema)
        assert msg["source"] == "synthetic" and msg["size"] == [W, H]
        assert 0 < msg["skin_fraction"] < 0.2
        for r in msg["regions"]:
            x, y, w, h = r["box_norm"]
            assert r["box"][0] == pytest.approx(x * W, abs=0.1) and r["box"][3] == pytest.approx(h * H, abs=0.1)
    bad = dict(msg, regions=[dict(msg["regions"][0], label="elbow")])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
    hand_without_gesture = dict(msg, regions=[dict(msg["regions"][0], label="hand")])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(hand_without_gesture, schema)


def test_reset_does_not_reuse_ids():
    stage = RoiStage(RoiOptions(labels=False))
    first = run_clip(stage, itertools.islice(blob_clip(), 3))
    assert {r["id"] for r in first[-1][0]["regions"]} == {1, 2}
    img, _ = next(blob_clip(seed=1))
    prob = colour_prob(img)
    frame = Frame(img, 0, 0.0, reset=True)
    stage.reset()  # the run's Processor resets every stage before a frame that starts anew
    msg = stage.process(FrameResult(frame, prob, prob >= 0.5))
    assert {r["id"] for r in msg["regions"]} == {3, 4}  # new tracks, new ids: never reused within a run
    assert not any(r["predicted"] for r in msg["regions"])


@pytest.mark.parametrize(
    "values, key",
    [({"min_area": -0.1}, "min_area"), ({"detect_every": 0}, "detect_every"), ({"beta": -1}, "beta"),
     ({"face_range": "far"}, "face_range"), ({"hands": "yes"}, "hands"), ({"colour": 1}, "colour")],
)
def test_bad_options_are_one_line_config_errors(values, key):
    with pytest.raises(ConfigError, match=key) as exc:
        RoiOptions.from_dict(values)
    assert "\n" not in str(exc.value)


def test_draw_rois_draws_boxes_labels_and_landmarks():
    img = np.zeros((120, 160, 3), np.uint8)
    lm = [[60 + i, 50 + i, 0.0] for i in range(21)]
    msg = {
        "size": [320, 240],  # drawn on a half-size preview: coordinates scale
        "regions": [
            {"id": 3, "label": "hand", "score": 0.9, "box": [100, 80, 80, 100], "predicted": False,
             "gesture": "fist", "handedness": "left", "landmarks": lm},
        ],
    }
    draw_rois(img, msg)
    from streamseg.rois.draw import COLOURS

    assert (img[90, 50:90] == COLOURS["hand"]).all(axis=1).sum() > 10  # bottom edge at y = 180/2
    assert (img[25:36, 28:42] == COLOURS["hand"]).all(axis=2).sum() >= 5  # landmark dots
    before = img.copy()
    draw_rois(img, None)
    assert (img == before).all()


def test_demo_clip_thumbs_up(monkeypatch):
    """The demo clip shipped in the repo: a face and a right hand doing a thumbs-up (MediaPipe's
    models on ONNX Runtime; mediapipe itself is not needed)."""
    monkeypatch.setitem(sys.modules, "mediapipe", None)  # import mediapipe -> ImportError
    av = pytest.importorskip("av")
    from streamseg.paths import demo_clip

    if not demo_clip().is_file():
        pytest.skip("demo clip not present")
    stage = RoiStage(RoiOptions(hands=True))
    gestures, ids = [], set()
    with av.open(str(demo_clip())) as c:
        for i, f in enumerate(c.decode(video=0)):
            if i < 60:
                continue
            img = f.to_ndarray(format="bgr24")
            mask = np.zeros(img.shape[:2], bool)  # labels and gestures do not need the mask
            msg = stage.process(FrameResult(Frame(img, i, float(f.time)), mask.astype(np.float32), mask))
            jsonschema.validate(msg, load_schema())
            labels = sorted(r["label"] for r in msg["regions"])
            assert labels == ["face", "hand"], msg["regions"]
            (hand,) = [r for r in msg["regions"] if r["label"] == "hand"]
            gestures.append(hand["gesture"])
            ids.add(hand["id"])
            assert hand["handedness"] == "right" and len(hand["landmarks"]) == 21
            if i >= 75:
                break
    stage.close()
    assert gestures.count("thumbs-up") >= 0.9 * len(gestures), gestures
    assert len(ids) == 1


def test_repeated_timestamps_still_image():
    stage = RoiStage(RoiOptions(labels=False))
    img, _ = next(blob_clip())
    prob = colour_prob(img)
    ids = []
    for _ in range(4):
        msg = stage.process(FrameResult(Frame(img, 0, 0.0), prob, prob >= 0.5))
        ids.append(sorted(r["id"] for r in msg["regions"]))
        assert all(not r["predicted"] for r in msg["regions"])
    assert ids == [[1, 2]] * 4


def test_leftover_pieces_become_separate_skin_regions():
    # one component: a left arm, a face, a right arm, joined through the face; the face box cuts it in three
    mask = np.zeros((100, 300), bool)
    mask[40:60, 0:300] = True
    prob = mask.astype(np.float32)
    face = Detection("face", np.array([120.0, 20.0, 180.0, 80.0]), 0.8)
    regions = find_regions(mask, prob, min_area=100, anchors=[face], anchor_pad=0.0)
    assert [r.label for r in regions] == ["face", "skin", "skin"]
    assert sorted(r.box.tolist() for r in regions[1:]) == [[0.0, 40.0, 120.0, 60.0], [180.0, 40.0, 300.0, 60.0]]


def test_face_region_stays_with_the_face_track():
    """A face region that moved onto a neighbouring skin track's box still goes to the face track."""
    from streamseg.rois.regions import Region
    from streamseg.rois.tracking import Tracker

    def region(label, box, det=None):
        b = np.array(box, float)
        return Region(label, b, 5000, ((b[0] + b[2]) / 2, (b[1] + b[3]) / 2), 0.9, 0.9, detection=det)

    face_det = Detection("face", np.array([100.0, 100.0, 200.0, 200.0]), 0.9)
    tracker = Tracker()
    first = tracker.update([region("face", [100, 100, 200, 200], face_det), region("skin", [150, 100, 250, 200])], 0.0)
    face_id = next(t.id for t in first if t.label == "face")
    moved = Detection("face", np.array([140.0, 100.0, 240.0, 200.0]), 0.9)
    second = tracker.update([region("face", [140, 100, 240, 200], moved)], 0.04)
    assert [t.id for t in second if t.label == "face" and not t.predicted] == [face_id]


def test_assignment_never_forces_an_impossible_pair():
    from streamseg.rois.tracking import IMPOSSIBLE, assign_pairs

    # track 0 fits region 0; track 1 fits nothing; region 1 only fits track 0 (worse) -> stays unmatched
    cost = np.array([[0.3, 2.4], [2.3, IMPOSSIBLE]])
    assert assign_pairs(cost) == [(0, 0)]
    assert assign_pairs(np.array([[IMPOSSIBLE]])) == []
    assert sorted(assign_pairs(np.array([[0.2, 1.0], [1.0, 0.2]]))) == [(0, 0), (1, 1)]


def test_warmup_loads_detectors_once_and_keeps_no_state():
    fake = FakeDetectors(lambda: np.array([10.0, 10.0, 50.0, 50.0]))
    stage = RoiStage(RoiOptions(labels=True))
    stage._detectors, stage._detectors_tried = fake, True
    stage.warmup(48, 64)
    assert fake.calls == {"faces": 1, "hands": 1}
    assert stage.tracker.tracks == []
    RoiStage(RoiOptions(labels=False)).warmup()  # no MediaPipe needed: a no-op


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    density=st.floats(0.0, 0.6),
    anchors=st.lists(st.tuples(st.integers(0, 60), st.integers(0, 40), st.integers(1, 40), st.integers(1, 30)), max_size=3),
)
def test_regions_and_messages_are_sane_on_random_masks(seed, density, anchors):
    rng = np.random.default_rng(seed)
    mask = cv2.dilate((rng.random((48, 64)) < density * 0.2).astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    prob = np.where(mask, rng.uniform(0.5, 1.0, mask.shape), rng.uniform(0.0, 0.5, mask.shape)).astype(np.float32)
    dets = [Detection("hand" if k % 2 else "face", np.array([x, y, x + w, y + h], float), 0.7) for k, (x, y, w, h) in enumerate(anchors)]
    regions = find_regions(mask, prob, min_area=10, anchors=dets, contours=True)
    assert [r.label for r in regions[: len(dets)]] == [d.label for d in dets]
    skin = regions[len(dets):]
    assert all(r.label == "skin" and r.area >= 10 for r in skin)
    assert sum(r.area for r in skin) <= mask.sum()
    for r in regions:
        x0, y0, x1, y1 = r.box
        assert 0 <= x0 <= x1 <= 64 and 0 <= y0 <= y1 <= 48
        assert 0.0 <= r.mean_prob <= 1.0
    stage = RoiStage(RoiOptions(labels=False, min_area=0.003, contours=True))
    for i in range(3):
        msg = stage.process(FrameResult(Frame(np.zeros((48, 64, 3), np.uint8), i, i / 25), prob, mask))
        jsonschema.validate(msg, load_schema())
        assert len({r["id"] for r in msg["regions"]}) == len(msg["regions"])


class ScriptedHands(FakeDetectors):
    """Hands at scripted boxes per call (a list per frame), with handedness."""

    def __init__(self, script):
        super().__init__(lambda: None)
        self.script = script

    def hands(self, rgb):
        self.calls["hands"] += 1
        out = []
        for box, side in self.script.pop(0):
            b = np.array(box, float)
            out.append(Detection("hand", b, 0.9, np.tile([[b[0], b[1], 0.0]], (21, 1)), None, side, "open-palm"))
        return out


@pytest.mark.parametrize("max_hands, expect_new_id", [(2, False), (3, True)])
def test_a_hand_that_jumps_keeps_its_id_when_all_hands_are_tracked(max_hands, expect_new_id):
    left, right = ([20, 150, 60, 200], "left"), ([250, 150, 290, 200], "right")
    jumped = ([230, 10, 270, 60], "right")  # the right hand, far up in one frame (beyond any gate)
    script = [[left, right]] * 3 + [[left, jumped]]
    stage = RoiStage(RoiOptions(hands=True, max_hands=max_hands))
    stage._detectors, stage._detectors_tried = ScriptedHands(script), True
    img = np.zeros((H, W, 3), np.uint8)
    mask = np.zeros((H, W), bool)
    msgs = [stage.process(FrameResult(Frame(img, i, i / FPS), mask.astype(np.float32), mask)) for i in range(4)]
    ids_before = {r["handedness"]: r["id"] for r in msgs[2]["regions"]}
    after = {r["id"]: r for r in msgs[3]["regions"] if not r["predicted"]}
    right_now = [r for r in after.values() if r["box"][1] < 100]
    assert len(right_now) == 1
    assert (right_now[0]["id"] != ids_before["right"]) is expect_new_id
    if not expect_new_id:
        assert right_now[0]["box"] == pytest.approx([230, 10, 40, 50], abs=0.5)  # no smoothing across the jump


class ScriptedFaces(FakeDetectors):
    def __init__(self, scores):
        super().__init__(lambda: None)
        self.scores = scores

    def faces(self, rgb):
        self.calls["faces"] += 1
        return [Detection("face", np.array([100.0, 50.0, 160.0, 120.0]), self.scores.pop(0))]

    def hands(self, rgb):
        return []


def test_a_weak_face_detection_continues_a_face_but_does_not_start_one():
    def labels(scores):
        stage = RoiStage(RoiOptions(labels=True, detect_every=1, background_labels=False, label_hold_s=0.0))
        stage._detectors, stage._detectors_tried = ScriptedFaces(list(scores)), True
        img, mask = np.zeros((H, W, 3), np.uint8), np.zeros((H, W), bool)
        out = []
        for i in range(len(scores)):
            msg = stage.process(FrameResult(Frame(img, i, i / FPS), mask.astype(np.float32), mask))
            out.append([r["id"] for r in msg["regions"] if r["label"] == "face" and not r["predicted"]])
        return out

    assert labels([0.52, 0.55]) == [[], []]  # a weak one alone (e.g. a hand) starts nothing
    assert labels([0.9, 0.52, 0.55]) == [[1], [1], [1]]  # but keeps a face going
