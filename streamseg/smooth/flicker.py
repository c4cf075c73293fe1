"""Temporal-consistency metrics: dtSSD (with ground truth), flicker and consecutive IoU (without), step lag.

Sequences are lists (or arrays) of (H, W) masks, bool or float in [0, 1], one per frame.

- :func:`dtssd`: as in Robust Video Matting (Lin et al. 2021): per frame pair
  ``sqrt(mean(((p_t - p_{t-1}) - (g_t - g_{t-1}))**2))``, averaged over the pairs, times 100.
  0 = the prediction changes exactly as the truth does.
- :func:`mean_abs_change`: mean over pairs of ``mean(|m_t - m_{t-1}|)``, times 100 (percent of
  pixels that flip, for binary masks).
- :func:`consecutive_iou`: mean over pairs of IoU(m_t, m_{t-1}) (1 = no change).
- :func:`step_lag`: frames until a mask follows a step change (see its docstring).

Example:
    >>> import numpy as np
    >>> a = np.zeros((2, 2), bool); b = a.copy(); b[0, 0] = True
    >>> mean_abs_change([a, b, a]), consecutive_iou([a, b, b])
    (25.0, 0.5)
    >>> dtssd([a, b], [a, a])
    50.0
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from streamseg.metrics import iou


def _as_float(m: np.ndarray) -> np.ndarray:
    return m.astype(np.float32, copy=False)


def _check_len(seq: Sequence[np.ndarray], name: str, need: int = 2) -> None:
    if len(seq) < need:
        raise ValueError(f"{name} needs at least {need} frames, got {len(seq)}")


def dtssd(pred: Sequence[np.ndarray], truth: Sequence[np.ndarray]) -> float:
    """dtSSD x 100 of a predicted sequence against the true one (same length and frame shapes)."""
    if len(pred) != len(truth):
        raise ValueError(f"sequence lengths differ: {len(pred)} vs {len(truth)}")
    _check_len(pred, "dtssd")
    vals = []
    for t in range(1, len(pred)):
        dp = _as_float(pred[t]) - _as_float(pred[t - 1])
        dg = _as_float(truth[t]) - _as_float(truth[t - 1])
        vals.append(float(np.sqrt(np.mean((dp - dg) ** 2))))
    return 100.0 * float(np.mean(vals))


def mean_abs_change(masks: Sequence[np.ndarray]) -> float:
    """Mean over consecutive pairs of mean |m_t - m_{t-1}|, x 100 (no ground truth needed)."""
    _check_len(masks, "mean_abs_change")
    vals = [float(np.mean(np.abs(_as_float(masks[t]) - _as_float(masks[t - 1])))) for t in range(1, len(masks))]
    return 100.0 * float(np.mean(vals))


def consecutive_iou(masks: Sequence[np.ndarray], threshold: float = 0.5) -> float:
    """Mean IoU between consecutive binary masks (float masks are thresholded at ``threshold``)."""
    _check_len(masks, "consecutive_iou")
    binary = [m if m.dtype == bool else m >= threshold for m in masks]
    return float(np.mean([iou(binary[t], binary[t - 1]) for t in range(1, len(binary))]))


def coverage(masks: Sequence[np.ndarray], regions: Sequence[np.ndarray]) -> np.ndarray:
    """Per frame, the fraction of ``regions[t]`` (bool) covered by ``masks[t]`` (bool); NaN where the region is empty."""
    out = np.full(len(masks), np.nan, np.float64)
    for t, (m, r) in enumerate(zip(masks, regions)):
        n = np.count_nonzero(r)
        if n:
            out[t] = np.count_nonzero(m & r) / n
    return out


def step_lag(signal: Sequence[float], reference: Sequence[float], step: int, before: int = 3, fraction: float = 0.9) -> float:
    """Frames until ``signal`` has made ``fraction`` of the change ``reference`` makes at a step at frame ``step``.

    ``signal`` and ``reference`` are per-frame values that the step moves, for the smoothed and
    the per-frame (unsmoothed) masks respectively, e.g. the :func:`coverage` of the region where a
    skin patch appears (or disappears). With ``s0``/``r0`` the means of the ``before`` frames
    before the step, the progress at frame ``t >= step`` is ``(signal[t] - s0) / (reference[t] - r0)``
    and the lag is the smallest ``d >= 0`` whose progress at ``step + d`` reaches ``fraction``,
    or where the signal has come within ``1 - fraction`` of the change of the reference itself
    (``|signal[t] - reference[t]| <= (1 - fraction) * |reference[t] - r0|``): a smoother that did
    not follow the reference's slow drift before the step starts from elsewhere, and it has caught
    up when it stands where the per-frame mask stands. 0 when the smoothed mask follows in the very
    frame the per-frame mask does (the reference compared with itself always gives 0). NaN when the reference does not move by at least 0.05
    in the step frame itself (per-frame processing reacts at once or not at all: the method does
    not see this change) or when the frames before the step are missing. Later frames where the
    reference is back within 0.05 of ``r0`` are skipped; ``len(signal) - step`` when the signal
    never catches up.
    """
    s = np.asarray(signal, np.float64)
    r = np.asarray(reference, np.float64)
    if s.shape != r.shape:
        raise ValueError(f"signal and reference lengths differ: {s.shape} vs {r.shape}")
    if step < before or step >= len(s):
        return float("nan")
    s0 = float(np.nanmean(s[step - before : step]))
    r0 = float(np.nanmean(r[step - before : step]))
    if not (np.isfinite(s0) and np.isfinite(r0)):
        return float("nan")
    if not np.isfinite(r[step]) or abs(r[step] - r0) < 0.05:
        return float("nan")  # per-frame processing does not see this step (it would at once)
    seen = False
    for d in range(len(s) - step):
        change = r[step + d] - r0
        if not np.isfinite(change) or abs(change) < 0.05 or not np.isfinite(s[step + d]):
            continue
        seen = True
        if (s[step + d] - s0) / change >= fraction or abs(s[step + d] - r[step + d]) <= (1 - fraction) * abs(change):
            return float(d)
    return float(len(s) - step) if seen else float("nan")
