"""``-T overlay`` with a chosen colour, opacity and outline (``--overlay-color``,
``--overlay-alpha``, ``--outline/--no-outline``).

Example:
    >>> import numpy as np
    >>> frame = np.full((4, 4, 3), 100, np.uint8)
    >>> m = np.zeros((4, 4), np.float32); m[1:3, 1:3] = 1
    >>> out = overlay(frame, m, OverlayStyle(color=(0, 0, 255), alpha=1.0, outline=False))
    >>> out[1, 1].tolist(), out[0, 0].tolist()
    ([0, 0, 255], [100, 100, 100])
"""

from __future__ import annotations

import cv2
import numpy as np

from streamseg.effects.base import Effect
from streamseg.effects.mask import binary, check_frame, flat_colour
from streamseg.effects.params import OverlayStyle


def outline_width(height: int, style: OverlayStyle) -> int:
    """Outline thickness in pixels: ``style.outline_px`` or 1 per 720 rows (at least 1)."""
    return style.outline_px or max(1, round(height / 720))


def overlay(frame: np.ndarray, mask: np.ndarray, style: OverlayStyle = OverlayStyle()) -> np.ndarray:
    """Tint skin with ``style.color`` at opacity ``style.alpha`` and outline it.

    Args:
        frame: BGR uint8 (H, W, 3).
        mask: skin mask (H, W), float32 in [0, 1] (or bool / uint8); skin where >= 0.5.
        style: colour, opacity, outline.

    Returns:
        BGR uint8 (H, W, 3), a new array.
    """
    check_frame(frame)
    m = binary(mask, frame.shape[:2])
    out = frame.copy()
    if not cv2.countNonZero(m):
        return out
    # the whole frame against a cached flat-colour frame, copied in under the mask: one
    # vectorised blend and one masked copy, where filling the colour per frame (NumPy broadcasts
    # a 3-channel fill slowly), a boolean-indexed blend or a 3-channel cv2.LUT all cost several
    # times more
    tint = cv2.addWeighted(frame, 1.0 - style.alpha, flat_colour(frame.shape[0], frame.shape[1], style.color), style.alpha, 0.0)
    cv2.copyTo(tint, m, out)
    if style.outline:
        contours, _ = cv2.findContours(m, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(out, contours, -1, style.color, outline_width(frame.shape[0], style), cv2.LINE_AA)
    return out


class OverlayEffect(Effect):
    """``-T overlay``: BGR, skin tinted and outlined in the style of ``params.overlay``; the run
    draws the ROI messages on it."""

    name, summary, draws_rois = "overlay", "skin tinted (--overlay-color, --overlay-alpha) and outlined", True

    def render(self, frame: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return overlay(frame, mask, self.params.overlay)
