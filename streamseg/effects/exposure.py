"""Exposure score: how much of a frame (or of a person) is skin.

Example:
    >>> import numpy as np
    >>> skin = np.zeros((2, 4), bool); skin[0, :2] = True
    >>> person = np.zeros((2, 4), np.float32); person[0] = 1
    >>> skin_fraction(skin), person_exposure(skin, person)
    (0.25, 0.5)
"""

from __future__ import annotations

import cv2
import numpy as np

from streamseg.effects.mask import binary


def skin_fraction(mask: np.ndarray) -> float:
    """Fraction in [0, 1] of the pixels of ``mask`` (H, W; float32 in [0, 1], bool or uint8)
    that are skin (>= 0.5); 0.0 for an empty array."""
    if mask.size == 0:
        return 0.0
    return cv2.countNonZero(binary(mask)) / mask.size


def person_exposure(skin: np.ndarray, person: np.ndarray) -> float | None:
    """Fraction in [0, 1] of the person's pixels that are skin; ``None`` when no pixel is person.

    Args:
        skin: skin mask (H, W), float32 in [0, 1] (or bool / uint8).
        person: person mask (H, W), same kinds (e.g. MediaPipe selfie segmentation).
    """
    p = binary(person, skin.shape)
    n = cv2.countNonZero(p)
    if n == 0:
        return None
    return cv2.countNonZero(cv2.bitwise_and(binary(skin), p)) / n
