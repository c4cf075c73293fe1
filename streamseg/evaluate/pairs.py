"""Matching a ground-truth mask to its image.

A mask at another resolution but the same aspect ratio is resized (nearest neighbour) to the
image; a mask whose aspect ratio differs cannot be aligned and is reported, not scored.

Example:
    >>> import numpy as np
    >>> match_mask(np.ones((2, 3), bool), 4, 6).shape
    (4, 6)
    >>> match_mask(np.ones((2, 3), bool), 4, 4) is None
    True
"""

from __future__ import annotations

import cv2
import numpy as np


def same_aspect(mask_hw: tuple[int, int], image_hw: tuple[int, int]) -> bool:
    """True when scaling the mask's width to the image's predicts the image height within rounding."""
    h, w = mask_hw
    height, width = image_hw
    if min(h, w, height, width) <= 0:
        return False
    scale = width / w
    # each side was rounded to whole pixels once, in whichever of the two is larger
    return abs(h * scale - height) <= 0.5 + 0.5 * max(1.0, scale)


def match_mask(mask: np.ndarray, height: int, width: int) -> np.ndarray | None:
    """Bring a mask to an image's size.

    Args:
        mask: bool (h, w), True = skin.
        height, width: the image size.

    Returns:
        bool (height, width): the mask itself when the sizes agree, nearest-resized when only
        the resolution differs, ``None`` when the aspect ratios disagree.
    """
    if mask.shape[:2] == (height, width):
        return mask
    if not same_aspect(mask.shape[:2], (height, width)):
        return None
    resized = cv2.resize(mask.astype(np.uint8), (width, height), interpolation=cv2.INTER_NEAREST)
    return resized > 0
