"""Colour conversions and per-pixel rule tables shared by the classical detectors.

The YCbCr conversion is OpenCV's 8-bit ``COLOR_BGR2YCrCb`` (BT.601, full range), which is
integer fixed point with 14 fractional bits::

    Y  = (4899 R + 9617 G + 1868 B + 2^13) >> 14
    Cr = sat((R - Y) * 11682 + 128 * 2^14 + 2^13) >> 14)
    Cb = sat((B - Y) *  9241 + 128 * 2^14 + 2^13) >> 14)

The numba kernels use exactly this formula (``tests/test_classical_kernels.py`` checks it against
``cv2.cvtColor`` over the whole 2^24 colour cube), so every NumPy reference can simply call
``cv2.cvtColor``.

A colour rule is then a table: ``float32 (256, 256)`` indexed ``[Cb, Cr]`` for rules over the
CbCr plane, which the kernels expand once into a uint8 table over the whole 2^24 BGR cube
(16 MiB); rules that need the full colour (HSV) are tabulated over the cube directly.

Example:
    >>> lut = ellipse_lut((109.38, 152.02), (13.64, 15.38))
    >>> lut.shape, lut.dtype, float(lut[109, 152]), float(lut[60, 200])
    ((256, 256), dtype('float32'), 1.0, 0.0)
"""

from __future__ import annotations

from typing import Callable

import cv2
import numpy as np

# OpenCV's fixed-point BT.601 coefficients (modules/imgproc/src/color.hpp: R2Y, G2Y, B2Y, YCRI, YCBI)
SHIFT = 14
C_R2Y, C_G2Y, C_B2Y = 4899, 9617, 1868
C_CR, C_CB = 11682, 9241
HALF = 1 << (SHIFT - 1)
DELTA = 128 << SHIFT


def ycrcb_reference(frame: np.ndarray) -> np.ndarray:
    """BGR uint8 (H, W, 3) -> YCrCb uint8 (H, W, 3) with ``cv2.cvtColor`` (the documented reference)."""
    return cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_BGR2YCrCb)


def cbcr_grid() -> tuple[np.ndarray, np.ndarray]:
    """The (Cb, Cr) value of every cell of a ``[Cb, Cr]`` table: two float64 (256, 256) arrays."""
    v = np.arange(256, dtype=np.float64)
    return np.meshgrid(v, v, indexing="ij")


def ellipse_distance(centre: tuple[float, float], axes: tuple[float, float], angle_deg: float = 0.0) -> np.ndarray:
    """Normalised squared distance to an ellipse in the CbCr plane over the ``[Cb, Cr]`` grid.

    ``centre`` = (Cb, Cr), ``axes`` = semi-axes (a along the rotated Cb axis, b along the rotated
    Cr axis), ``angle_deg`` = counter-clockwise rotation of the ellipse's first axis from the Cb
    axis. Returns float64 (256, 256); values <= 1 lie inside.
    """
    cb, cr = cbcr_grid()
    t = np.deg2rad(angle_deg)
    x, y = cb - centre[0], cr - centre[1]
    u = np.cos(t) * x + np.sin(t) * y
    v = -np.sin(t) * x + np.cos(t) * y
    return (u / axes[0]) ** 2 + (v / axes[1]) ** 2


def ellipse_lut(centre: tuple[float, float], axes: tuple[float, float], angle_deg: float = 0.0) -> np.ndarray:
    """Binary ellipse rule as a float32 (256, 256) ``[Cb, Cr]`` table of 0.0 / 1.0."""
    return (ellipse_distance(centre, axes, angle_deg) <= 1.0).astype(np.float32)


def cube_image() -> np.ndarray:
    """Every BGR colour once: uint8 (4096, 4096, 3); the pixel at flat index ``b << 16 | g << 8 | r``."""
    idx = np.arange(1 << 24, dtype=np.uint32)
    cube = np.empty((1 << 24, 3), np.uint8)
    cube[:, 0] = idx >> 16
    cube[:, 1] = (idx >> 8) & 255
    cube[:, 2] = idx & 255
    return cube.reshape(4096, 4096, 3)


def cube_rule_table(rule: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Tabulate a per-pixel rule over the full 2^24 BGR cube.

    ``rule`` gets :func:`cube_image` (BGR uint8 (4096, 4096, 3)) and returns a bool mask of
    shape (4096, 4096). Returns uint8 (2^24,), 255 where the rule holds, else 0.
    """
    mask = np.asarray(rule(cube_image()), bool).reshape(-1)
    return mask.astype(np.uint8) * np.uint8(255)
