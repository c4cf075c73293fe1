"""``-T alpha``: the frame with a real alpha channel taken from the feathered skin mask.

Example:
    >>> import numpy as np
    >>> frame = np.full((1, 5, 3), 200, np.uint8)
    >>> m = np.array([[0, 1, 1, 1, 0]], np.float32)
    >>> out = alpha(frame, m, feather_px=1)
    >>> out.shape, out[0, :, 3].tolist(), out[0, 0].tolist()
    ((1, 5, 4), [0, 128, 255, 128, 0], [0, 0, 0, 0])
"""

from __future__ import annotations

import cv2
import numpy as np

from streamseg.effects.base import Effect
from streamseg.effects.mask import check_frame, feather, flat_colour


def alpha_from_weight(weight: np.ndarray) -> np.ndarray:
    """float32 (H, W) in [0, 1] -> uint8 (H, W) alpha ``round(255 * weight)``."""
    return cv2.convertScaleAbs(weight, alpha=255.0)


def alpha(frame: np.ndarray, mask: np.ndarray, feather_px: float = 3.0) -> np.ndarray:
    """Cut-out with alpha.

    Args:
        frame: BGR uint8 (H, W, 3).
        mask: skin mask (H, W), float32 in [0, 1] (or bool / uint8 0-255); skin where >= 0.5.
        feather_px: inward ramp of the edge in pixels (see :func:`streamseg.effects.mask.feather`).

    Returns:
        BGRA uint8 (H, W, 4), straight (not premultiplied) alpha. Colour is zeroed where alpha
        is 0, so a player that ignores alpha shows black rather than the background.
    """
    check_frame(frame)
    a = alpha_from_weight(feather(mask, feather_px))
    out = cv2.cvtColor(cv2.bitwise_and(frame, frame, mask=a), cv2.COLOR_BGR2BGRA)
    out[..., 3] = a  # cv2.split + cv2.merge costs ten times as much
    return out


def flatten(bgra: np.ndarray, background: tuple[int, int, int] | None = None) -> np.ndarray:
    """Composite BGRA uint8 (H, W, 4) over a solid BGR ``background`` (default black) -> BGR uint8
    (H, W, 3), for targets that cannot carry alpha (virtual camera, mp4)."""
    if bgra.ndim != 3 or bgra.shape[2] != 4 or bgra.dtype != np.uint8:
        raise ValueError(f"expected BGRA uint8 (H, W, 4), got {bgra.dtype} {bgra.shape}")
    bgr = np.ascontiguousarray(bgra[..., :3])
    a = bgra[..., 3].astype(np.float32) * np.float32(1 / 255)
    h, w = a.shape
    return cv2.blendLinear(bgr, flat_colour(h, w, tuple(background or (0, 0, 0))), a, np.float32(1.0) - a)


class AlphaEffect(Effect):
    """``-T alpha``: BGRA, the cut-out with alpha from the mask feathered by ``params.feather_px``."""

    name, summary, channels = "alpha", "cut-out with alpha from the feathered mask (--feather)", 4

    def render(self, frame: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return alpha(frame, mask, self.params.feather_px)
