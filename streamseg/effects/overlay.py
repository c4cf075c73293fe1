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

from streamseg.effects.mask import binary, box, check_frame
from streamseg.effects.params import EffectParams, OverlayStyle


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
    b = box(m)
    if b is None:
        return out
    crop = frame[b]
    colour = np.empty_like(crop)
    colour[:] = style.color
    tint = cv2.addWeighted(crop, 1.0 - style.alpha, colour, style.alpha, 0.0)
    region = out[b].copy()
    cv2.copyTo(tint, m[b], region)
    out[b] = region
    if style.outline:
        contours, _ = cv2.findContours(m, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(out, contours, -1, style.color, outline_width(frame.shape[0], style), cv2.LINE_AA)
    return out


def render_overlay(frame: np.ndarray, mask: np.ndarray, params: EffectParams, person: np.ndarray | None = None) -> np.ndarray:
    """Registry adapter: BGR uint8 (H, W, 3)."""
    return overlay(frame, mask, params.overlay)
