"""Still-pixel flicker (metric and the ``still`` smoother) on generated clips; the per-kind defaults; grids.

No GPU, nothing from the shared data folder: every clip here is generated. The ratios asserted are the target of issue 20
(still-pixel flicker <= 0.4x per-frame), which the defaults reach on the real clips
(docs/smoothing.md, "Second round").
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from streamseg.smooth import make_smoother
from streamseg.smooth.config import DEFAULT_SMOOTHING, default_smoothing
from streamseg.smooth.flicker import StillPixelFlicker, coverage, still_pixel_flicker, step_lag
from streamseg.smooth.smoothers import split_spec

H, W = 72, 96
BACKENDS = ["numpy", "numba"]
KINDS = ["model", "classical"]
#: still-pixel flicker with the default smoothing over the same without smoothing (issue 20 target)
TARGET = 0.4


def background(seed: int = 0) -> np.ndarray:
    """A smooth textured BGR uint8 (H, W, 3) scene, grey values well inside 0-255."""
    import cv2

    rng = np.random.default_rng(seed)
    return cv2.GaussianBlur(rng.integers(60, 180, (H, W, 3), dtype=np.uint8), (0, 0), 2)


def patch_clip(kind: str, n: int = 40, seed: int = 1) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """A still background with a static skin patch; the per-frame probability has noise at the
    patch edge only: a 3-pixel ring around a square where each pixel is redrawn every frame
    (models: soft values around 0.5; classical: 0 or 1). Frames carry sensor noise of 1 level."""
    rng = np.random.default_rng(seed)
    base = background()
    base[20:50, 30:70] = (120, 150, 200)  # the skin patch, static
    yy, xx = np.mgrid[0:H, 0:W]
    inside = (yy >= 20) & (yy < 50) & (xx >= 30) & (xx < 70)
    grown = (yy >= 17) & (yy < 53) & (xx >= 27) & (xx < 73)
    shrunk = (yy >= 23) & (yy < 47) & (xx >= 33) & (xx < 67)
    ring = grown & ~shrunk
    frames, probs = [], []
    for _ in range(n):
        noise = rng.normal(0, 1.0, base.shape)
        frames.append(np.clip(base + noise, 0, 255).astype(np.uint8))
        p = np.where(inside, 0.9, 0.05).astype(np.float32)
        if kind == "model":
            p[ring] = np.clip(0.5 + rng.uniform(-0.3, 0.3, ring.sum()), 0, 1)
        else:
            p[ring] = rng.random(ring.sum()) < 0.5
        probs.append(p)
    return frames, probs


def smoothed_masks(spec: str, probs, frames, backend: str = "auto") -> list[np.ndarray]:
    sm = make_smoother(spec, backend=backend)
    return [sm.update(p, f) >= 0.5 for p, f in zip(probs, frames)]


# ---- the metric -------------------------------------------------------------------------------


def test_still_pixel_flicker_matches_a_hand_computation() -> None:
    grey = np.full((4, 4), 100, np.uint8)
    f0 = np.dstack([grey] * 3)
    f1 = f0.copy()
    f1[0, :2] = 150  # two pixels change by 50 levels between frames 0 and 1
    f2 = f1.copy()  # nothing changes between frames 1 and 2
    m0 = np.zeros((4, 4), bool)
    m1 = m0.copy()
    m1[0, 0] = True  # a flip where the picture changed: not counted
    m1[3, 3] = True  # a flip where it did not: counted
    m2 = m1.copy()
    m2[2, 2] = True  # counted
    m2[0, 0] = False  # counted too: the picture did not change in this pair
    # pair 1: 14 still pixels, 1 flip among them; pair 2: 16 still, 2 flips -> 3 / 30, pooled
    assert still_pixel_flicker([m0, m1, m2], [f0, f1, f2], blur=1) == pytest.approx(100 * 3 / 30)
    # threshold is a parameter: above 50 levels every pixel is still -> (2 + 2) / 32
    assert still_pixel_flicker([m0, m1, m2], [f0, f1, f2], threshold=51, blur=1) == pytest.approx(100 * 4 / 32)
    # blur is a parameter: a 5x5 Gaussian spreads the 50-level change (corner pixels, replicated
    # border) and lowers it; pixels of the changed area still count as moving, distant ones as still
    with_blur = still_pixel_flicker([m0, m1, m2], [f0, f1, f2], blur=5)
    assert math.isfinite(with_blur) and with_blur != still_pixel_flicker([m0, m1, m2], [f0, f1, f2], blur=1)
    # float masks are thresholded at 0.5; grey frames are accepted
    soft = [m.astype(np.float32) * 0.7 for m in (m0, m1, m2)]
    assert still_pixel_flicker(soft, [f0[..., 0], f1[..., 0], f2[..., 0]], blur=1) == pytest.approx(100 * 3 / 30)


def test_still_pixel_flicker_streaming_and_errors() -> None:
    f = np.zeros((2, 3, 3), np.uint8)
    acc = StillPixelFlicker(blur=1)
    assert math.isnan(acc.value)
    a, b = np.zeros((2, 3), bool), np.ones((2, 3), bool)
    acc.update_many({"x": a, "y": a}, f)
    acc.update_many({"x": b, "y": a}, f)
    assert acc.result("x") == 100.0 and acc.result("y") == 0.0 and acc.pairs == 1
    # a mask at another size than the frame uses the resized still map
    small = StillPixelFlicker(blur=1)
    small.update(np.zeros((1, 1), bool), np.zeros((4, 4, 3), np.uint8))
    small.update(np.ones((1, 1), bool), np.zeros((4, 4, 3), np.uint8))
    assert small.value == 100.0
    # a new sequence: its first frame pairs with nothing, the counts pool on
    acc.new_sequence()
    acc.update_many({"x": a, "y": a}, f)  # would be a flip of x against the last b
    acc.update_many({"x": a, "y": b}, f)
    assert acc.pairs == 2 and acc.result("x") == 50.0 and acc.result("y") == 50.0
    with pytest.raises(ValueError, match="lengths differ"):
        still_pixel_flicker([a, a], [f])
    with pytest.raises(ValueError, match="odd"):
        still_pixel_flicker([a, a], [f, f], blur=4)


# ---- the smoother on generated clips ----------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kind", KINDS)
def test_default_cuts_still_pixel_flicker_at_a_noisy_patch_edge(kind: str, backend: str) -> None:
    frames, probs = patch_clip(kind)
    none = still_pixel_flicker([p >= 0.5 for p in probs], frames)
    assert none > 1.0  # the ring flickers per frame: about half its pixels flip every frame
    smooth = still_pixel_flicker(smoothed_masks(default_smoothing(kind), probs, frames, backend), frames)
    assert smooth <= TARGET * none, (kind, smooth, none)
    # the previous default (motion) does not reach the target here: the test can tell them apart
    assert still_pixel_flicker(smoothed_masks("motion", probs, frames, backend), frames) > TARGET * none


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kind", KINDS)
def test_patch_entering_and_leaving_is_followed_within_one_frame(kind: str, backend: str) -> None:
    # a still background; a skin patch (with a probability of only 0.6 for models: inside the
    # hysteresis band) enters at frame 15 and leaves at frame 30
    rng = np.random.default_rng(3)
    base = background()
    on, off, n = 15, 30, 40
    region = np.zeros((H, W), bool)
    region[25:55, 10:40] = True
    level = 0.6 if kind == "model" else 1.0
    frames, probs, regions = [], [], []
    for t in range(n):
        f = np.clip(base + rng.normal(0, 1.0, base.shape), 0, 255).astype(np.uint8)
        p = np.full((H, W), 0.05, np.float32)
        if on <= t < off:
            f[region] = (120, 150, 200)
            p[region] = level
        frames.append(f)
        probs.append(p)
        regions.append(region)
    masks = smoothed_masks(default_smoothing(kind), probs, frames, backend)
    ref = coverage([p >= 0.5 for p in probs], regions)
    cov = coverage(masks, regions)
    assert step_lag(cov[:off], ref[:off], on) <= 1
    assert step_lag(cov, ref, off) <= 1
    assert cov[on + 1 : off].min() >= 0.9 and cov[off + 1 :].max() <= 0.1


@pytest.mark.parametrize("backend", BACKENDS)
def test_still_picture_probability_change_is_followed_within_hold(backend: str) -> None:
    # the picture does not change, the model changes its mind from 0.3 to 0.6 (inside the band):
    # the model default follows once the change has lasted `hold` frames, never later
    sm = make_smoother(default_smoothing("model"), backend=backend)
    hold = sm.hold
    assert hold > 0
    frame = background()
    for _ in range(5):
        sm.update(np.full((H, W), 0.3, np.float32), frame)
    for d in range(30):
        if (sm.update(np.full((H, W), 0.6, np.float32), frame) >= 0.5).all():
            break
    # the blend needs a few frames to pass 0.5, then the debounce counts `hold` frames
    assert hold <= d <= hold + 4, d
    # without hold the band keeps the old decision for good (0.6 never reaches t_high 0.65)
    sm = make_smoother("still:hold=0", backend=backend)
    for _ in range(5):
        sm.update(np.full((H, W), 0.3, np.float32), frame)
    assert not any((sm.update(np.full((H, W), 0.6, np.float32), frame) >= 0.5).any() for _ in range(30))


@pytest.mark.parametrize(
    "spec",
    ["still", "still:hold=2:jump=0.3", "still:memory=true:colour=false", "uncertainty+still", "ema+still:static_weight=0"],
)
def test_still_numba_and_numpy_agree(spec: str) -> None:
    rng = np.random.default_rng(7)
    a, b = make_smoother(spec, backend="numba"), make_smoother(spec, backend="numpy")
    base = background()
    for t in range(12):
        p = np.clip(0.5 + rng.normal(0, 0.2, (H, W)), 0, 1).astype(np.float32)
        f = base if t % 4 else background(t)
        np.testing.assert_allclose(a.update(p, f), b.update(p, f), atol=1e-5)


# ---- grids and probabilities at model resolution -----------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_probability_smaller_than_the_frame(backend: str) -> None:
    # a model's native map (square, smaller than the frame): smoothed at its own size; the
    # frame only drives the motion test
    sm = make_smoother("still", backend=backend)
    frame = np.zeros((90, 160, 3), np.uint8)
    p = np.full((32, 32), 0.9, np.float32)
    out = [sm.update(p, frame) for _ in range(3)]
    assert out[-1].shape == (32, 32) and np.allclose(out[-1], 0.9)


def test_wide_probability_is_smoothed_on_a_grid() -> None:
    sm = make_smoother("still")
    assert sm.grid_shape(720, 1280) == (360, 640) and sm.grid_shape(480, 640) == (480, 640)
    assert make_smoother("still+grid:max_width=0").grid_shape(720, 1280) == (720, 1280)
    frame = np.zeros((720, 1280, 3), np.uint8)
    p = np.zeros((720, 1280), np.float32)
    p[100:400, 200:700] = 0.9
    for _ in range(3):
        out = sm.update(p, frame)
    assert out.shape == (720, 1280) and out.dtype == np.float32
    # the mask at full size still matches the per-frame one away from the patch edge
    assert (out[110:390, 210:690] >= 0.5).all() and (out[420:, 720:] < 0.5).all()


# ---- defaults -----------------------------------------------------------------------------------


def test_defaults_per_kind() -> None:
    assert set(DEFAULT_SMOOTHING) == {"model", "classical"}
    for kind in KINDS:
        spec = default_smoothing(kind)
        assert make_smoother(spec).spec == split_spec(spec)[0]
    assert default_smoothing("something-new") == default_smoothing("model")
    # inline settings are overridden by params
    sm = make_smoother("still:hold=3", {"still.hold": 5})
    assert sm.hold == 5
    assert split_spec("motion+grid:max_width=0") == ("motion", {"grid.max_width": "0"})


def test_colour_thumbnail_of_a_cropped_odd_sized_frame() -> None:
    """A non-contiguous frame (a crop, as odd-sized decodes give) once crashed numba's reshape."""
    from streamseg.smooth.smoothers import make_smoother

    big = np.random.default_rng(0).integers(0, 256, (60, 80, 3), dtype=np.uint8)
    frame = big[5:52, 7:70]  # 63 x 47, not contiguous
    assert not frame.flags["C_CONTIGUOUS"]
    sm = make_smoother("still")
    prob = np.random.default_rng(1).random(frame.shape[:2]).astype(np.float32)
    for _ in range(3):
        out = sm.update(prob, frame)
    assert out.shape == frame.shape[:2] and out.dtype == np.float32


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_a_held_decision_does_not_move_the_upsampled_boundary(backend: str) -> None:
    """A native map (smaller than the frame) whose edge column wavers inside the band: the
    hysteresis holds its decision, and the held value goes to the band's edge, so the mask
    upsampled to the frame does not change (without the snap its boundary moved every frame)."""
    frame = np.full((64, 64, 3), 120, np.uint8)  # nothing moves
    sm = make_smoother("hysteresis", backend=backend)
    masks = []
    for t in range(30):
        p = np.full((16, 16), 0.1, np.float32)
        p[:, :7] = 0.9
        p[:, 7] = 0.64 if t % 2 else 0.52  # on, inside the band [0.35, 0.65]
        p[:, 8] = 0.4  # off, inside the band
        out = sm.update(p, frame)
        assert out.shape == (16, 16)
        masks.append(cv2.resize(out, (64, 64), interpolation=cv2.INTER_LINEAR) >= 0.5)
    assert all(np.array_equal(m, masks[5]) for m in masks[5:])
    # the same values at frame size are not upsampled: kept as they are (>= threshold where on)
    sm = make_smoother("still", backend=backend)
    for t in range(3):
        p = np.full((64, 64), 0.1, np.float32)
        p[:, 30] = 0.55
        out = sm.update(p, frame)
    assert out[0, 30] == pytest.approx(0.55, abs=0.01)


@pytest.mark.parametrize("spec", ["still", "motion+hysteresis"])
def test_snapping_numba_and_numpy_agree(spec: str) -> None:
    rng = np.random.default_rng(11)
    a, b = make_smoother(spec, backend="numba"), make_smoother(spec, backend="numpy")
    base = background()
    for t in range(10):
        p = np.clip(0.5 + rng.normal(0, 0.2, (H // 2, W // 2)), 0, 1).astype(np.float32)
        f = base if t % 4 else background(t)
        np.testing.assert_allclose(a.update(p, f), b.update(p, f), atol=1e-5)
