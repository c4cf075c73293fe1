"""Elliptical skin rules in the CbCr plane (YCbCr from OpenCV's fixed-point BT.601).

``ellipse``: the original skin_segmentation project's axis-aligned ellipse, centre
(Cb 109.38, Cr 152.02), semi-axes 13.64 / 15.38; kept as is (it is the baseline).
``ellipse-diag``: a rotated ellipse; the original project's values (centre Cb 119.314,
Cr 155.558, semi-axes 37.089 / 14.809, angle 148.633 deg) unless a fitted parameter file
(``streamseg fit``, shipped as ``models/classical.npz``) says otherwise.

Example:
    >>> import numpy as np
    >>> seg = EllipseDiag()
    >>> prob = seg(np.full((4, 4, 3), (90, 140, 200), np.uint8))  # a skin tone
    >>> prob.dtype, float(prob.min())
    (dtype('float32'), 1.0)
"""

from __future__ import annotations

import numpy as np

from streamseg.segment.classical.colorspace import ellipse_lut, ycrcb_reference
from streamseg.segment.classical.rule import ColourRule, cbcr_cube


class _EllipseRule(ColourRule):
    def ellipse(self) -> tuple[float, float, float, float, float]:
        """(Cb centre, Cr centre, semi-axis a, semi-axis b, angle in degrees)."""
        raise NotImplementedError

    def key(self) -> tuple:
        return ("ellipse", *self.ellipse())

    def lut(self) -> np.ndarray:
        """float32 (256, 256) ``[Cb, Cr]`` table, 1.0 inside the ellipse."""
        cb, cr, a, b, ang = self.ellipse()
        return ellipse_lut((cb, cr), (a, b), ang)

    def cube(self) -> np.ndarray:
        return cbcr_cube(self.lut(), self.backend.use_numba)

    def reference(self, frame: np.ndarray) -> np.ndarray:
        ycc = ycrcb_reference(frame)
        return self.lut()[ycc[..., 2], ycc[..., 1]]


class Ellipse(_EllipseRule):
    """Axis-aligned CbCr ellipse of the original project: centre (109.38, 152.02), semi-axes 13.64 / 15.38."""

    name = "ellipse"
    description = "elliptical YCbCr rule, original skin_segmentation values (numba)"

    def ellipse(self) -> tuple[float, float, float, float, float]:
        return self.params.ellipse


class EllipseDiag(_EllipseRule):
    """Rotated CbCr ellipse: the fitted parameters when available, else the original project's."""

    name = "ellipse-diag"
    description = "rotated YCbCr ellipse, refitted on the skin data (numba)"

    def ellipse(self) -> tuple[float, float, float, float, float]:
        return self.params.ellipse_diag
