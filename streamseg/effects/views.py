"""The mask shown as it is: ``-T mask`` (white skin on black, one channel), ``-T cutout`` (skin
only, black elsewhere) and ``-T side-by-side`` (frame | mask).

Example:
    >>> import numpy as np
    >>> frame = np.full((2, 3, 3), 100, np.uint8)
    >>> mask = np.array([[True, False, False], [False, False, True]])
    >>> MaskEffect().render(frame, mask).tolist()
    [[255, 0, 0], [0, 0, 255]]
    >>> SideBySideEffect().render(frame, mask).shape
    (2, 6, 3)
"""

from __future__ import annotations

import cv2
import numpy as np

from streamseg.effects.base import Effect
from streamseg.effects.mask import binary, check_frame


def mask_picture(mask: np.ndarray) -> np.ndarray:
    """Skin mask (H, W; float32 in [0, 1], bool or uint8) -> uint8 (H, W): 255 skin, 0 elsewhere."""
    return binary(mask) * np.uint8(255)


class MaskEffect(Effect):
    """``-T mask``: uint8 (H, W), 255 where the mask is skin. A grey picture: a video writer
    encodes it straight into the luma plane, an image file is a grey PNG."""

    name, summary, channels = "mask", "white skin on black (0/255)", 1

    def render(self, frame: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return mask_picture(mask)


class CutoutEffect(Effect):
    """``-T cutout``: BGR, the frame where the mask is skin and black elsewhere."""

    name, summary = "cutout", "skin only, black elsewhere"

    def render(self, frame: np.ndarray, mask: np.ndarray) -> np.ndarray:
        out = np.zeros_like(check_frame(frame))
        cv2.copyTo(frame, binary(mask, frame.shape[:2]), out)  # far faster than np.where at 720p
        return out


class SideBySideEffect(Effect):
    """``-T side-by-side``: BGR (H, 2W), the frame next to the mask."""

    name, summary, width_factor = "side-by-side", "frame | mask", 2

    def render(self, frame: np.ndarray, mask: np.ndarray) -> np.ndarray:
        grey = mask_picture(binary(mask, check_frame(frame).shape[:2]))
        return np.hstack([frame, cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)])
