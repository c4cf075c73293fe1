"""Smoothers on synthetic sequences: exactness, step lag, flicker damping, resets, config errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from streamseg.errors import ConfigError
from streamseg.smooth import NAMES, Smoother, default_smoothing, make_smoother, parse_spec
from streamseg.smooth.config import load_settings

H, W = 48, 64
SPECS = list(dict.fromkeys([
    "none", "ema", "uncertainty", "motion", "hysteresis", "ema+hysteresis", "uncertainty+hysteresis", "motion+hysteresis",
    "uncertainty+motion", "still", "still:static_weight=0.05:hold=0:blur=5", default_smoothing("model"),
]))  # fmt: skip
BACKENDS = ["numpy", "numba"]


def scene(seed: int = 0) -> np.ndarray:
    """A textured BGR frame (H, W, 3)."""
    rng = np.random.default_rng(seed)
    return rng.integers(40, 200, (H, W, 3), dtype=np.uint8)


def blob_prob() -> np.ndarray:
    """Soft probabilities: a disc of 0.9 with a 0.3-0.7 ramp at its edge, 0.05 elsewhere."""
    yy, xx = np.mgrid[0:H, 0:W]
    r = np.hypot(yy - H / 2, xx - W / 2)
    return np.clip(0.9 - (r - 10) * 0.1, 0.05, 0.9).astype(np.float32)


def run(sm: Smoother, probs, frames) -> list[np.ndarray]:
    return [sm.update(p, f) for p, f in zip(probs, frames)]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("spec", SPECS)
def test_static_sequence_stays_exact(spec: str, backend: str) -> None:
    frame, prob = scene(), blob_prob()
    sm = make_smoother(spec, backend=backend)
    for out in run(sm, [prob] * 12, [frame] * 12):
        assert out.dtype == np.float32 and out.shape == (H, W)
        np.testing.assert_array_equal(out, prob)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("spec", SPECS)
def test_output_is_new_array_in_range(spec: str, backend: str) -> None:
    rng = np.random.default_rng(1)
    sm = make_smoother(spec, backend=backend)
    kept = []
    for t in range(6):
        p = rng.random((H, W), dtype=np.float32)
        out = sm.update(p, scene(t % 2))
        assert (out is p) == (spec == "none") and 0.0 <= out.min() and out.max() <= 1.0
        kept.append(out.copy())
        out[:] = 7.0  # the caller owns the result: scribbling on it must not change the state
    # a replay without scribbling gives the same results
    sm2 = make_smoother(spec, backend=backend)
    rng = np.random.default_rng(1)
    for t in range(6):
        np.testing.assert_array_equal(sm2.update(rng.random((H, W), dtype=np.float32), scene(t % 2)), kept[t])


def step_lag_frames(spec: str, frame_changes: bool, backend: str, params: dict | None = None, n: int = 10) -> int:
    """Frames after a 0 -> 1 step in a square until the whole square is on in the mask (>= 0.5)."""
    sm = make_smoother(spec, params, backend=backend)
    before, after = scene(0), scene(0).copy()
    if frame_changes:  # a skin-coloured square enters the picture, like a hand
        after[10:30, 20:40] = (120, 150, 200)
    p0 = np.zeros((H, W), np.float32)
    p1 = p0.copy()
    p1[10:30, 20:40] = 1.0
    for _ in range(5):
        sm.update(p0, before)
    for d in range(n):
        if (sm.update(p1, after)[10:30, 20:40] >= 0.5).all():
            return d
    return n


@pytest.mark.parametrize("backend", BACKENDS)
def test_step_with_picture_change_is_followed_at_once(backend: str) -> None:
    # at the defaults every smoother follows a change of the picture in the same frame, except
    # ema + hysteresis: 0.5 after one frame is below t_high = 0.6, 0.75 after two
    for spec in SPECS:
        assert step_lag_frames(spec, True, backend) == (1 if spec == "ema+hysteresis" else 0), spec


@pytest.mark.parametrize("backend", BACKENDS)
def test_step_without_picture_change_lag_matches_the_stated_formula(backend: str) -> None:
    # the picture is still, so motion blends with static_weight w: after d+1 frames the state is
    # 1 - (1 - w)**(d + 1); the mask turns on at 0.5, or at t_high with hysteresis
    for w in (0.25, 0.3, 0.5):
        want = math.ceil(math.log(0.5) / math.log(1 - w)) - 1
        assert step_lag_frames("motion", False, backend, {"motion.static_weight": w}) == want
        want_h = math.ceil(math.log(1 - 0.6) / math.log(1 - w)) - 1
        assert step_lag_frames("motion+hysteresis", False, backend, {"motion.static_weight": w, "hysteresis.t_high": 0.6}) == want_h
    assert step_lag_frames("ema", False, backend, {"alpha": 0.2}) == math.ceil(math.log(0.5) / math.log(0.8)) - 1
    assert step_lag_frames("none", False, backend) == 0
    # the defaults (static_weight 0.25, t_high 0.65): the stated worst cases
    assert default_smoothing("model") == "still:static_weight=0.2"
    assert step_lag_frames("motion", False, backend) == 2
    assert step_lag_frames("motion+hysteresis", False, backend) == 3
    # still: the band where the picture is still -> as motion+hysteresis; its picture-change case is 0
    for w in (0.25, 0.05):
        want = math.ceil(math.log(1 - 0.65) / math.log(1 - w)) - 1
        assert step_lag_frames(f"still:static_weight={w}:hold=0", False, backend, n=40) == want
        assert step_lag_frames(f"still:static_weight={w}:hold=0", True, backend) == 0
    assert step_lag_frames("still", False, backend) == 3
    # the model default: ceil(log 0.35 / log 0.8) - 1 = 4 frames where only the probability changes
    assert step_lag_frames(default_smoothing("model"), False, backend) == 4
    assert step_lag_frames(default_smoothing("model"), True, backend) == 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_random_flicker_is_damped(backend: str) -> None:
    # every pixel flips between 0.3 and 0.7 at random on a still picture: the per-frame mask
    # changes for half of the pixels per frame; the EMA of weight w has a stationary standard
    # deviation of 0.2 * sqrt(w / (2 - w)) (0.076 for w = 0.25), so the output stays near 0.5
    rng = np.random.default_rng(3)
    frame = scene()
    n = 60
    probs = [np.where(rng.random((H, W)) < 0.5, 0.3, 0.7).astype(np.float32) for _ in range(n)]
    for spec, w in (("motion", 0.25), ("ema", 0.25)):
        params = {"motion.static_weight": w} if spec == "motion" else {"alpha": w}
        outs = run(make_smoother(spec, params, backend=backend), probs, [frame] * n)[20:]
        std = float(np.std(np.stack(outs)))
        assert std == pytest.approx(0.2 * math.sqrt(w / (2 - w)), rel=0.1)
        # frame-to-frame change of the value: 0.4 * 0.5 = 0.2 per frame before, w * that after
        change_in = float(np.mean([np.abs(a - b).mean() for a, b in zip(probs[21:], probs[20:])]))
        change_out = float(np.mean([np.abs(a - b).mean() for a, b in zip(outs[1:], outs[:-1])]))
        assert change_out < 0.4 * change_in
    # the binary mask: half of the pixels flip per frame without smoothing; with hysteresis a
    # pixel flips only when the state leaves the 0.35-0.65 band
    def flips(spec: str) -> float:
        masks = [o >= 0.5 for o in run(make_smoother(spec, backend=backend), probs, [frame] * n)[20:]]
        return float(np.mean([np.mean(a != b) for a, b in zip(masks[1:], masks[:-1])]))

    assert flips("none") == pytest.approx(0.5, abs=0.02)
    assert flips("motion") < 0.4  # the state hovers around 0.5 itself: thresholding still flips
    assert flips("motion+hysteresis") < 0.05


def test_hysteresis_switches_at_thresholds() -> None:
    sm = make_smoother("hysteresis", {"t_high": 0.7, "t_low": 0.3})
    frame = scene()
    seq = [0.2, 0.6, 0.69, 0.71, 0.5, 0.31, 0.29, 0.6]
    want = [False, False, False, True, True, True, False, False]
    got = [bool(sm.update(np.full((H, W), v, np.float32), frame)[0, 0] >= 0.5) for v in seq]
    assert got == want


def test_hysteresis_keeps_soft_values_outside_the_band() -> None:
    sm = make_smoother("hysteresis")
    frame = scene()
    sm.update(np.full((H, W), 0.9, np.float32), frame)
    out = sm.update(np.full((H, W), 0.45, np.float32), frame)  # still on: lifted to the threshold
    assert out[0, 0] == np.float32(0.5)
    out = sm.update(np.full((H, W), 0.2, np.float32), frame)  # off below t_low: value kept
    assert out[0, 0] == np.float32(0.2)


@pytest.mark.parametrize("backend", BACKENDS)
def test_reset_forgets_state(backend: str) -> None:
    frame = scene()
    sm = make_smoother("ema", {"alpha": 0.1}, backend=backend)
    sm.update(np.ones((H, W), np.float32), frame)
    sm.reset()
    out = sm.update(np.zeros((H, W), np.float32), frame)
    assert out.max() == 0.0


class _Given:
    """A segmenter whose probability the test sets (``prob``), counting its resets."""

    name, kind, provider, fallback_from = "given", "model", "cpu", None

    def __init__(self) -> None:
        self.prob: np.ndarray | None = None
        self.resets = 0

    def segment(self, frame: np.ndarray) -> np.ndarray:
        return self.prob

    def segment_batch(self, frames) -> list[np.ndarray]:
        return [self.prob for _ in frames]

    def reset(self) -> None:
        self.resets += 1


class _Tracker:
    """An ROI stage that counts its resets."""

    def __init__(self) -> None:
        self.resets = 0

    def process(self, result) -> dict:
        return {}

    def reset(self) -> None:
        self.resets += 1


def _processor(sm: Smoother):
    from streamseg.pipeline.processor import Processor

    return Processor(_Given(), sm, roi_stage=_Tracker())


def _step(proc, prob: np.ndarray, frame: np.ndarray, index: int):
    from streamseg.frames import Frame

    proc.segmenter.prob = prob
    return proc.process(Frame(frame, index=index, time=index / 25))


@pytest.mark.parametrize("batched", [False, True])
@pytest.mark.parametrize("spec", ["ema", "motion+hysteresis", "none+hysteresis"])
def test_scene_cut_resets_every_stage_together(spec: str, batched: bool) -> None:
    """The processor detects the cut and resets the segmenter, the smoother and the ROI tracker
    before the cut's frame is segmented, also inside a batch."""
    from streamseg.frames import Frame

    proc = _processor(make_smoother(spec, {"ema.alpha": 0.1} if spec == "ema" else {"hysteresis.t_low": 0.05, "hysteresis.t_high": 0.95}))
    for i in range(5):
        _step(proc, np.ones((H, W), np.float32), np.zeros((H, W, 3), np.uint8), i)
    resets = (proc.segmenter.resets, proc.roi_stage.resets)
    assert resets == (1, 1)  # the first frame started anew
    yy, xx = np.mgrid[0:H, 0:W]
    checker = ((yy // 6 + xx // 6) % 2 * 255).astype(np.uint8)
    cut = np.dstack([checker] * 3)
    if batched:
        proc.segmenter.prob = np.zeros((H, W), np.float32)
        out = proc.process_batch([Frame(cut, 5, 0.2), Frame(cut, 6, 0.24)])[0]
    else:
        out = _step(proc, np.zeros((H, W), np.float32), cut, 5)
    assert proc.cuts == 1
    assert out.prob.max() == 0.0
    assert (proc.segmenter.resets, proc.roi_stage.resets) == (2, 2)


def test_brightness_change_is_not_a_cut() -> None:
    proc = _processor(make_smoother("ema", {"alpha": 0.1}))
    frame = scene()
    _step(proc, np.ones((H, W), np.float32), frame, 0)
    brighter = np.clip(frame.astype(int) + 40, 0, 255).astype(np.uint8)
    out = _step(proc, np.zeros((H, W), np.float32), brighter, 1)
    assert proc.cuts == 0 and out.prob[0, 0] == pytest.approx(0.9)


def test_new_frame_size_resets() -> None:
    sm = make_smoother("motion+hysteresis")
    sm.update(np.ones((H, W), np.float32), scene())
    out = sm.update(np.zeros((H + 2, W), np.float32), np.zeros((H + 2, W, 3), np.uint8))
    assert out.shape == (H + 2, W) and out.max() == 0.0


@pytest.mark.parametrize(
    "spec", ["ema", "motion", "uncertainty+motion+hysteresis", "motion:flow=true+hysteresis", "uncertainty:gamma=2", "hysteresis"]
)
def test_numba_and_numpy_agree(spec: str) -> None:
    rng = np.random.default_rng(5)
    a, b = make_smoother(spec, backend="numba"), make_smoother(spec, backend="numpy")
    for t in range(8):
        p = rng.random((H, W), dtype=np.float32)
        f = scene(t % 3)
        np.testing.assert_allclose(a.update(p, f), b.update(p, f), atol=1e-5)


def test_flow_follows_a_pan() -> None:
    # a textured scene and its mask pan 2 px per frame; with flow the state is carried along the
    # motion, so a damped (static_weight 0) smoother still matches the moved mask
    rng = np.random.default_rng(2)
    import cv2

    big = cv2.GaussianBlur(rng.integers(0, 256, (H + 40, W + 40, 3), dtype=np.uint8), (0, 0), 1.5)
    bigp = np.zeros((H + 40, W + 40), np.float32)
    bigp[20:50, 30:60] = 1.0
    params = {"motion.flow": True, "motion.static_weight": 0.0, "motion.diff_low": 50.0, "motion.diff_high": 60.0, "motion.scale": 1}
    for backend in BACKENDS:
        sm = make_smoother("motion", params, backend=backend)
        ious = []
        for t in range(6):
            f = np.ascontiguousarray(big[10 : 10 + H, 2 * t : 2 * t + W])
            p = np.ascontiguousarray(bigp[10 : 10 + H, 2 * t : 2 * t + W])
            out = sm.update(p, f) >= 0.5
            truth = p >= 0.5
            ious.append((out & truth).sum() / (out | truth).sum())
        assert min(ious) > 0.85, (backend, ious)
        sm_noflow = make_smoother("motion", {**params, "motion.flow": False}, backend=backend)
        for t in range(6):
            f = np.ascontiguousarray(big[10 : 10 + H, 2 * t : 2 * t + W])
            out = sm_noflow.update(np.ascontiguousarray(bigp[10 : 10 + H, 2 * t : 2 * t + W]), f)
        # without flow and with weight 0 the mask stays where it was on the first frame
        assert (out >= 0.5)[10:40, 30:60].all()


def test_bad_inputs_raise_value_error() -> None:
    sm = make_smoother("motion")
    with pytest.raises(ValueError, match="sizes differ"):  # a probability may be smaller than the frame, not larger
        sm.update(np.zeros((H, W), np.float32), np.zeros((H, W - 1, 3), np.uint8))
    with pytest.raises(ValueError, match="needs the frame"):
        sm.update(np.zeros((H, W), np.float32), None)
    with pytest.raises(ValueError, match="BGR uint8"):
        make_smoother("ema").update(np.zeros((H, W), np.float32), np.zeros((H, W), np.uint8))


def test_spec_parsing() -> None:
    assert parse_spec("uncertainty+hysteresis") == (("uncertainty",), True)
    assert parse_spec(" Hysteresis + MOTION ") == (("motion",), True)
    assert parse_spec("none+hysteresis") == ((), True)
    assert make_smoother("hysteresis+motion").spec == "motion+hysteresis"
    assert set(NAMES) == {"none", "ema", "uncertainty", "motion", "still", "hysteresis"}
    assert parse_spec("still") == (("still",), True)  # still implies its gated hysteresis
    assert parse_spec("still:hold=3+uncertainty") == (("uncertainty", "still"), True)
    for bad, msg in (
        ("median", "unknown smoother 'median'"), ("", "needs a smoother"), ("ema+ema", "twice"), ("none+ema", "joins 'none'"),
        ("still+motion", "already contains 'motion'"), ("still:hold", "key=value"), ("still:bogus=1", "still.bogus"),
    ):  # fmt: skip
        with pytest.raises(ConfigError, match=msg):
            make_smoother(bad)


@pytest.mark.parametrize(
    "params, key",
    [
        ({"ema.alpha": 1.5}, "ema.alpha"),
        ({"alpha": "fast"}, "alpha"),
        ({"ema": {"alpha": True}}, "ema.alpha"),
        ({"ema.beta": 0.5}, "ema.beta"),
        ({"gamma2": 1}, "gamma2"),
        ({"motion.scale": 2.5}, "motion.scale"),
        ({"motion.flow": "maybe"}, "motion.flow"),
        ({"hysteresis": {"t_low": 0.7}}, "hysteresis.t_low"),
        ({"motion": {"diff_low": 20.0}}, "motion.diff_high"),
        ({"nosuch": {"a": 1}}, "nosuch"),
    ],
)
def test_bad_settings_name_the_key(params: dict, key: str) -> None:
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        make_smoother("ema", params)


def test_settings_forms_and_bare_keys() -> None:
    assert make_smoother("ema", {"alpha": "0.25"}).alpha == 0.25
    assert make_smoother("ema", {"ema": {"alpha": 0.3}}).alpha == 0.3
    sm = make_smoother("motion+hysteresis", {"threshold": 0.55, "t_high": 0.7, "flow": "true"})
    assert sm.threshold == np.float32(0.55) and sm.motion._dis is not None
    cfg = load_settings()
    assert 0 < cfg["motion"]["static_weight"] < 1 and cfg["hysteresis"]["t_low"] < cfg["hysteresis"]["t_high"]


def test_threshold_override_moves_the_band() -> None:
    cfg = load_settings({"hysteresis.threshold": 0.3})["hysteresis"]
    assert cfg["t_low"] == pytest.approx(0.15) and cfg["t_high"] == pytest.approx(0.45)
    cfg = load_settings({"threshold": 0.9})["hysteresis"]
    assert cfg["t_low"] == pytest.approx(0.75) and cfg["t_high"] == 1.0
    # with an explicit band the threshold must lie inside it
    with pytest.raises(ConfigError, match="hysteresis.threshold"):
        load_settings({"threshold": 0.3, "t_high": 0.65})
