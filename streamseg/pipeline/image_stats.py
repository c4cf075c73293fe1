"""What a content filter asks of one picture's skin mask: how much of it is skin, and in how
many separate regions (``streamseg batch`` over images, ``streamseg serve``'s ``stats``).

Example:
    >>> import numpy as np
    >>> m = np.zeros((100, 100), bool); m[:10, :10] = True; m[50:60, 50:70] = True; m[99, 99] = True
    >>> mask_stats(m)
    {'skin_fraction': 0.0301, 'regions': 2}
"""

from __future__ import annotations

import cv2
import numpy as np

from streamseg.effects.exposure import skin_fraction
from streamseg.effects.mask import binary

#: smallest region counted, as a fraction of the picture's pixels: the ROI stage's default
#: ``min_area`` (``streamseg.rois.stage.RoiOptions``), so specks of a few pixels are not regions
MIN_REGION_AREA = 0.002


def count_regions(mask: np.ndarray, min_area: float = MIN_REGION_AREA) -> int:
    """Connected skin regions (8-connected) of ``mask`` (H, W; the skin pixels of
    :func:`~streamseg.effects.mask.binary`) with at least ``min_area`` x H x W pixels (and at least one)."""
    if mask.size == 0:
        return 0
    n, _, stats, _ = cv2.connectedComponentsWithStats(binary(mask), connectivity=8)
    least = max(1, int(np.ceil(min_area * mask.size)))
    return int(np.count_nonzero(stats[1:n, cv2.CC_STAT_AREA] >= least))


def mask_stats(mask: np.ndarray, min_area: float = MIN_REGION_AREA) -> dict[str, float | int]:
    """``{"skin_fraction": 0..1 (5 decimals), "regions": int}`` of a skin mask (H, W)."""
    return {"skin_fraction": round(skin_fraction(mask), 5), "regions": count_regions(mask, min_area)}
