"""Temporal-consistency metrics: dtSSD (with ground truth), flicker and consecutive IoU (without), step lag.

Sequences are lists (or arrays) of (H, W) masks, bool or float in [0, 1], one per frame.

- :func:`dtssd`: as in Robust Video Matting (Lin et al. 2021): per frame pair
  ``sqrt(mean(((p_t - p_{t-1}) - (g_t - g_{t-1}))**2))``, averaged over the pairs, times 100.
  0 = the prediction changes exactly as the truth does.
- :func:`mean_abs_change`: mean over pairs of ``mean(|m_t - m_{t-1}|)``, times 100 (percent of
  pixels that flip, for binary masks).
- :func:`consecutive_iou`: mean over pairs of IoU(m_t, m_{t-1}) (1 = no change).
- :func:`step_lag`: frames until a mask follows a step change (see its docstring).
- :func:`still_pixel_flicker` / :class:`StillPixelFlicker`: mean |m_t - m_{t-1}| over the pixels
  whose picture did not change (grey frame after a Gaussian blur changed by less than
  ``threshold`` grey levels), times 100: where nothing moves, the mask should not change either.

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

import cv2
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


def blurred_grey(frame: np.ndarray, blur: int = 5) -> np.ndarray:
    """BGR uint8 (H, W, 3) (or grey uint8 (H, W)) -> float32 (H, W) grey in [0, 255] after a
    ``blur`` x ``blur`` Gaussian blur (``cv2.GaussianBlur`` with sigma from the size; ``blur`` <= 1
    = no blur)."""
    if blur > 1 and blur % 2 == 0:
        raise ValueError(f"blur must be odd, got {blur}")
    grey = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    grey = grey.astype(np.float32)
    return cv2.GaussianBlur(grey, (blur, blur), 0) if blur > 1 else grey


class StillPixelFlicker:
    """Streaming still-pixel flicker: feed one (mask, frame) per frame, read :attr:`value`.

    A pixel of the pair (t-1, t) is *still* when ``|G_t - G_{t-1}| < threshold``, with G the grey
    frame after a ``blur`` x ``blur`` Gaussian blur (float32, 0-255 levels). The value is the
    number of still pixels whose binary mask changed over the number of still pixels, pooled over
    every pair, times 100 (percent of still pixels flipping per frame); NaN before two frames or
    when no pixel was still. Masks may be smaller or larger than the frame: the still map is then
    resized to the mask (nearest neighbour). Several masks of the same frames (one per smoother)
    share one still map: pass them as a dict to :meth:`update_many`.
    """

    def __init__(self, threshold: float = 3.0, blur: int = 5) -> None:
        self.threshold = float(threshold)
        self.blur = int(blur)
        self.flips: dict[str, int] = {}
        self.still: dict[str, int] = {}
        self.pairs = 0
        self._grey: np.ndarray | None = None
        self._prev: dict[str, np.ndarray] = {}

    def still_map(self, frame: np.ndarray) -> np.ndarray | None:
        """Advance to ``frame`` (BGR uint8 (H, W, 3)); bool (H, W) still pixels against the previous frame, None for the first."""
        grey = blurred_grey(frame, self.blur)
        prev, self._grey = self._grey, grey
        if prev is None or prev.shape != grey.shape:
            return None
        self.pairs += 1
        return np.abs(grey - prev) < self.threshold

    def update_many(self, masks: dict[str, np.ndarray], frame: np.ndarray) -> None:
        """masks: name -> bool (or float, thresholded at 0.5) (h, w) mask of ``frame``."""
        still = self.still_map(frame)
        for name, m in masks.items():
            m = m if m.dtype == bool else m >= 0.5
            prev = self._prev.get(name)
            self._prev[name] = m
            if still is None or prev is None or prev.shape != m.shape:
                continue
            s = still if still.shape == m.shape else cv2.resize(still.view(np.uint8), m.shape[::-1], interpolation=cv2.INTER_NEAREST).view(bool)
            self.flips[name] = self.flips.get(name, 0) + int(np.count_nonzero((m != prev) & s))
            self.still[name] = self.still.get(name, 0) + int(np.count_nonzero(s))

    def update(self, mask: np.ndarray, frame: np.ndarray) -> None:
        """One frame: mask bool (h, w), frame BGR uint8 (H, W, 3)."""
        self.update_many({"": mask}, frame)

    def new_sequence(self) -> None:
        """Start another clip: its first frame pairs with nothing; the counts go on pooling."""
        self._grey = None
        self._prev = {}

    def result(self, name: str = "") -> float:
        """Percent of still pixels whose mask flipped, pooled over all pairs (NaN when none)."""
        n = self.still.get(name, 0)
        return 100.0 * self.flips.get(name, 0) / n if n else float("nan")

    @property
    def value(self) -> float:
        return self.result("")


def still_pixel_flicker(masks: Sequence[np.ndarray], frames: Sequence[np.ndarray], threshold: float = 3.0, blur: int = 5) -> float:
    """Mean |m_t - m_{t-1}| of the binary masks over the still pixels of every pair, x 100.

    masks: bool (or float, thresholded at 0.5) (h, w) per frame; frames: BGR uint8 (H, W, 3)
    (or grey uint8 (H, W)) per frame. A pixel is still in the pair (t-1, t) when its grey value,
    after a ``blur`` x ``blur`` Gaussian blur, changed by less than ``threshold`` levels. Pooled:
    flips at still pixels over all pairs / still pixels over all pairs; NaN when no pixel was still.

    Example:
        >>> a = np.zeros((1, 2), bool); b = np.array([[True, False]])
        >>> f = np.zeros((1, 2, 3), np.uint8)
        >>> still_pixel_flicker([a, b, a], [f, f, f], blur=1)
        50.0
    """
    if len(masks) != len(frames):
        raise ValueError(f"masks and frames lengths differ: {len(masks)} vs {len(frames)}")
    _check_len(masks, "still_pixel_flicker")
    acc = StillPixelFlicker(threshold, blur)
    for m, f in zip(masks, frames):
        acc.update(np.asarray(m), np.asarray(f))
    return acc.value
