"""Flicker metrics on hand-made sequences with known values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from streamseg.smooth.flicker import consecutive_iou, coverage, dtssd, mean_abs_change, step_lag


def masks_from(rows: list[list[int]]) -> list[np.ndarray]:
    """Each row is one frame of a 1 x N mask."""
    return [np.array([r], bool) for r in rows]


def test_dtssd_known_values() -> None:
    truth = masks_from([[0, 0, 0, 0], [0, 0, 0, 0], [1, 1, 0, 0]])
    # identical changes -> 0
    assert dtssd(truth, truth) == 0.0
    # a static prediction misses the change of 2 pixels of 4 in the second pair: sqrt(2/4)
    static = masks_from([[0, 0, 0, 0]] * 3)
    assert dtssd(static, truth) == pytest.approx(100 * (0 + math.sqrt(0.5)) / 2)
    # one pixel of 4 flickers on and off against a static truth: sqrt(1/4) per pair
    flicker = masks_from([[1, 0, 0, 0], [0, 0, 0, 0], [1, 0, 0, 0]])
    assert dtssd(flicker, static) == pytest.approx(50.0)
    # soft values: a change of 0.5 everywhere -> 50
    a = [np.zeros((2, 2), np.float32), np.full((2, 2), 0.5, np.float32)]
    assert dtssd(a, [np.zeros((2, 2))] * 2) == pytest.approx(50.0)


def test_dtssd_checks_lengths() -> None:
    with pytest.raises(ValueError, match="lengths differ"):
        dtssd(masks_from([[0], [1]]), masks_from([[0]]))
    with pytest.raises(ValueError, match="at least 2"):
        dtssd(masks_from([[0]]), masks_from([[0]]))


def test_mean_abs_change_and_consecutive_iou() -> None:
    seq = masks_from([[1, 1, 0, 0], [1, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0]])
    # changes per pair: 0, 1/4, 1/4 -> mean 1/6
    assert mean_abs_change(seq) == pytest.approx(100 / 6)
    # IoUs per pair: 1, 1/2, 0 -> 0.5
    assert consecutive_iou(seq) == pytest.approx(0.5)
    # two empty masks count as IoU 1
    assert consecutive_iou(masks_from([[0, 0], [0, 0]])) == 1.0
    # float masks are thresholded
    assert consecutive_iou([np.array([[0.6, 0.1]]), np.array([[0.9, 0.4]])]) == 1.0
    assert mean_abs_change([np.array([[0.2, 0.2]]), np.array([[0.6, 0.0]])]) == pytest.approx(30.0)


def test_coverage() -> None:
    m = masks_from([[1, 1, 0, 0], [1, 0, 0, 0]])
    r = masks_from([[1, 1, 1, 1], [0, 0, 0, 0]])
    cov = coverage(m, r)
    assert cov[0] == 0.5 and math.isnan(cov[1])


def test_step_lag_known_values() -> None:
    ref = [0, 0, 0, 0, 1, 1, 1, 1, 1]
    assert step_lag(ref, ref, 4) == 0.0
    # ramps: progress 0.5, 0.85, 0.95 -> 2 frames
    assert step_lag([0, 0, 0, 0, 0.5, 0.85, 0.95, 1, 1], ref, 4) == 2.0
    # a downward step works the same way
    down = [1 - v for v in ref]
    assert step_lag([1, 1, 1, 1, 0.7, 0.05, 0, 0, 0], down, 4) == 1.0
    # relative to the reference's own level: it only reaches 0.4, the signal 0.37 > 90 % of it
    assert step_lag([0, 0, 0, 0, 0.2, 0.37, 0.4, 0.4, 0.4], [0, 0, 0, 0, 0.4, 0.4, 0.4, 0.4, 0.4], 4) == 1.0
    # the smoother had damped a drift of the reference before the step (means 0.47 vs 0.53): it moves
    # less than the reference (0.07 vs 0.12, 63 %) but stands where the per-frame mask stands -> 0
    drift = [0.35, 0.45, 0.56, 0.57, 0.41, 0.41, 0.40]
    assert step_lag([0.35, 0.42, 0.48, 0.52, 0.40, 0.40, 0.40], drift, 4) == 0.0
    # ... and one that stays 0.05 above it (progress 0.11, distance 0.05 > 10 % of 0.12) has not
    assert step_lag([0.35, 0.42, 0.48, 0.52, 0.46, 0.46, 0.46], drift, 4) == 3.0
    # never catches up -> frames after the step
    assert step_lag([0] * 9, ref, 4) == 5.0
    # the reference does not move (method blind to the change) or no frames before: NaN
    assert math.isnan(step_lag([0] * 9, [0] * 9, 4))
    assert math.isnan(step_lag(ref, ref, 1))
    # the reference only moves later (drift, not the step): not a step this method sees
    late = [0, 0, 0, 0, 0.01, 0.02, 0.3, 0.3, 0.3]
    assert math.isnan(step_lag(late, late, 4))
