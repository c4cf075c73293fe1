"""``-T retouch``: edge-preserving skin smoothing inside the mask, blended by the feathered mask.

A self-guided filter (He et al., per channel) runs at a reduced resolution, ``scale`` times
smaller (4 at 720p), and only its *correction* (smoothed - input, a low-frequency image) is
upsampled and added to the full-resolution frame. That is a frequency split: spots and uneven
tone, which are larger than ``scale`` pixels, are evened out; pores and fine texture, smaller
than ``scale`` pixels, are kept; strong edges (eyes, brows, lips, nostrils) have a guided-filter
correction near zero, so they stay sharp. Work is limited to the box around the mask.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> frame = rng.integers(100, 140, (64, 64, 3)).astype(np.uint8)
    >>> m = np.zeros((64, 64), np.float32); m[16:48, 16:48] = 1
    >>> out = retouch(frame, m, strength=1.0)
    >>> bool((out[m == 0] == frame[m == 0]).all()), bool((out[m == 1] != frame[m == 1]).any())
    (True, True)
"""

from __future__ import annotations

import cv2
import numpy as np

from streamseg.effects.mask import add_weighted_delta, apply_in_box, area_down, check_frame, linear_up
from streamseg.effects.base import Effect

#: guided-filter regularisation: local standard deviations below about 15 grey levels are smoothed
EPS = 15.0**2


def default_scale(height: int, width: int) -> int:
    """Downscale factor of the filter: about 1 per 180 rows of the shorter side (4 at 720p)."""
    return max(1, round(min(height, width) / 180))


def _self_guided(img: np.ndarray, radius: int, eps: float) -> np.ndarray:
    """Guided filter of float32 (h, w, 3) by itself, channel by channel; same shape and dtype."""
    k = (2 * radius + 1, 2 * radius + 1)
    mean = cv2.boxFilter(img, -1, k)
    var = cv2.boxFilter(img * img, -1, k) - mean * mean
    a = var / (var + np.float32(eps))
    b = mean - a * mean
    return cv2.boxFilter(a, -1, k) * img + cv2.boxFilter(b, -1, k)


def smoothing_delta(crop: np.ndarray, scale: int, radius: int = 2, eps: float = EPS) -> np.ndarray:
    """int16 (h, w, 3) correction that smooths BGR uint8 ``crop`` (h, w, 3) at full strength."""
    small = area_down(crop, scale).astype(np.float32)
    d = np.rint(_self_guided(small, radius, eps) - small).astype(np.int16)
    return linear_up(d, crop.shape[0], crop.shape[1], scale)


def retouch(
    frame: np.ndarray,
    mask: np.ndarray,
    strength: float = 0.5,
    feather_px: float = 3.0,
    scale: int | None = None,
    radius: int = 2,
) -> np.ndarray:
    """Smooth skin.

    Args:
        frame: BGR uint8 (H, W, 3).
        mask: skin mask (H, W), float32 in [0, 1] (or bool / uint8); skin where >= 0.5.
        strength: 0..1, fraction of the smoothing correction applied (0 = unchanged).
        feather_px: inward ramp of the blend at the mask edge, in pixels.
        scale: filter downscale factor (default :func:`default_scale`).
        radius: guided-filter box radius at the reduced resolution.

    Returns:
        BGR uint8 (H, W, 3), a new array; pixels outside the mask are bit-exact copies.
    """
    check_frame(frame)
    if strength <= 0:
        return frame.copy()
    s = scale or default_scale(*frame.shape[:2])
    pad = 2 * (radius + 1) * s  # context for the box filters at the reduced resolution

    def fn(crop: np.ndarray, w: np.ndarray) -> np.ndarray:
        return add_weighted_delta(crop, smoothing_delta(crop, s, radius), w, strength)

    return apply_in_box(frame, mask, feather_px, pad, fn, multiple=s)


class RetouchEffect(Effect):
    """``-T retouch``: BGR, skin smoothed by ``params.strength``, feathered by ``params.feather_px``."""

    name, summary = "retouch", "edge-preserving skin smoothing (--strength)"

    def render(self, frame: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return retouch(frame, mask, self.params.strength, self.params.feather_px)
