"""Box thresholds from the literature (fixed, not refitted).

* ``ycbcr``: Chai & Ngan 1999 ("Face segmentation using skin-color map in videophone
  applications", IEEE TCSVT 9(4)): 77 <= Cb <= 127 and 133 <= Cr <= 173.
* ``hsv``: Sobottka & Pitas 1998 ("A novel method for automatic face segmentation, facial
  feature extraction and tracking", Signal Processing: Image Communication 12(3)):
  0 <= H <= 50 deg and 0.23 <= S <= 0.68. In OpenCV's 8-bit HSV (H in degrees / 2, S scaled
  to 0..255) that is H <= 25 and 59 <= S <= 173.
* ``hsv+ycbcr``: both boxes at once (intersection), as in the combined HSV/YCbCr rules of
  Kolkur et al. 2017 ("Human skin detection using RGB, HSV and YCbCr color models").

The HSV reference is ``cv2.cvtColor(frame, COLOR_BGR2HSV)``; the kernels tabulate exactly that
conversion over the 2^24 BGR cube.

Example:
    >>> import numpy as np
    >>> float(YCbCrBox()(np.full((3, 3, 3), (90, 140, 200), np.uint8)).max())
    1.0
"""

from __future__ import annotations

import cv2
import numpy as np

from streamseg.segment.classical.colorspace import cube_rule_table, ycrcb_reference
from streamseg.segment.classical.rule import ColourRule, cbcr_cube

CB_RANGE = (77, 127)
CR_RANGE = (133, 173)
H_MAX = 25  # 50 degrees in OpenCV's 0..179 hue
S_RANGE = (59, 173)  # 0.23 .. 0.68 of 255


def ycbcr_box(frame: np.ndarray) -> np.ndarray:
    """Chai & Ngan box: BGR uint8 (H, W, 3) -> bool (H, W)."""
    ycc = ycrcb_reference(frame)
    cr, cb = ycc[..., 1], ycc[..., 2]
    return (cb >= CB_RANGE[0]) & (cb <= CB_RANGE[1]) & (cr >= CR_RANGE[0]) & (cr <= CR_RANGE[1])


def hsv_box(frame: np.ndarray) -> np.ndarray:
    """Sobottka & Pitas box: BGR uint8 (H, W, 3) -> bool (H, W)."""
    hsv = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_BGR2HSV)
    h, s = hsv[..., 0], hsv[..., 1]
    return (h <= H_MAX) & (s >= S_RANGE[0]) & (s <= S_RANGE[1])


class YCbCrBox(ColourRule):
    """77 <= Cb <= 127, 133 <= Cr <= 173 (Chai & Ngan 1999)."""

    name = "ycbcr"
    description = "YCbCr box threshold (Chai & Ngan 1999) (numba)"

    def lut(self) -> np.ndarray:
        """float32 (256, 256) ``[Cb, Cr]`` table."""
        t = np.zeros((256, 256), np.float32)
        t[CB_RANGE[0] : CB_RANGE[1] + 1, CR_RANGE[0] : CR_RANGE[1] + 1] = 1.0
        return t

    def cube(self) -> np.ndarray:
        return cbcr_cube(self.lut(), self.backend.use_numba)

    def reference(self, frame: np.ndarray) -> np.ndarray:
        return ycbcr_box(frame).astype(np.float32)


class HSVBox(ColourRule):
    """0 <= H <= 50 deg, 0.23 <= S <= 0.68 (Sobottka & Pitas 1998)."""

    name = "hsv"
    description = "HSV box threshold (Sobottka & Pitas 1998) (numba)"

    def cube(self) -> np.ndarray:
        return cube_rule_table(hsv_box)

    def reference(self, frame: np.ndarray) -> np.ndarray:
        return hsv_box(frame).astype(np.float32)


class HSVYCbCrBox(ColourRule):
    """Both the HSV and the YCbCr box."""

    name = "hsv+ycbcr"
    description = "HSV and YCbCr boxes combined (numba)"

    def cube(self) -> np.ndarray:
        return cube_rule_table(lambda f: hsv_box(f) & ycbcr_box(f))

    def reference(self, frame: np.ndarray) -> np.ndarray:
        return (hsv_box(frame) & ycbcr_box(frame)).astype(np.float32)
