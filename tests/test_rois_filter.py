"""One-Euro filter: smooths noise at rest, follows motion with less lag as beta grows, predicts and coasts."""

from __future__ import annotations

import numpy as np
import pytest

from streamseg.rois.one_euro import OneEuroFilter


def run(f: OneEuroFilter, values: np.ndarray, fps: float = 25.0, scale: float = 100.0) -> np.ndarray:
    return np.array([f(np.array([v]), i / fps, scale)[0] for i, v in enumerate(values)])


def test_first_sample_passes_and_constant_stays_constant():
    f = OneEuroFilter()
    out = run(f, np.full(20, 7.5))
    assert np.allclose(out, 7.5)


def test_noise_at_rest_is_reduced():
    rng = np.random.default_rng(0)
    noisy = 50 + rng.normal(0, 2.0, 200)
    out = run(OneEuroFilter(1.0, 8.0, 1.0), noisy)
    assert out[50:].std() < 0.6 * noisy[50:].std()


@pytest.mark.parametrize("beta_low, beta_high", [(0.0, 2.0), (2.0, 8.0)])
def test_more_beta_less_lag_on_a_ramp(beta_low, beta_high):
    ramp = np.arange(50) * 6.0  # 150 px/s
    lag = [np.abs(run(OneEuroFilter(1.0, b, 1.0), ramp) - ramp)[-10:].mean() for b in (beta_low, beta_high)]
    assert lag[1] < 0.7 * lag[0]


def test_beta_is_relative_to_object_scale():
    ramp = np.arange(40) * 6.0
    small = np.abs(run(OneEuroFilter(1.0, 8.0), ramp, scale=20.0) - ramp)[-5:].mean()
    big = np.abs(run(OneEuroFilter(1.0, 8.0), ramp, scale=400.0) - ramp)[-5:].mean()
    assert small < big  # the same pixel speed is fast for a small object


def test_predict_coast_and_reset():
    f = OneEuroFilter(1.0, 8.0, 1.0)
    run(f, np.arange(60) * 4.0)  # 100 px/s
    x = f.x[0]
    assert f.predict(f.t + 0.1)[0] == pytest.approx(x + 10.0, rel=0.15)
    f.coast(f.t + 0.04, damping=0.5)
    assert f.x[0] == pytest.approx(x + 4.0, rel=0.15) and f.dx[0] == pytest.approx(50.0, rel=0.15)
    f.reset()
    assert f.predict(1.0) is None
    assert f(np.array([3.0]), 5.0)[0] == 3.0
