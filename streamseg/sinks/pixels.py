"""Pixel formats of grey pictures: a mask (bool) or a grey picture (uint8) (H, W) as a yuv420p or
yuv444p frame without a colour conversion, in limited range so a decoder gives back exactly 0
and 255 for a mask.
"""

from __future__ import annotations

import cv2
import numpy as np

# limited-range ("TV") luma of a grey value: what swscale writes for BGR grey, so a decoder
# gives back exactly 0 and 255 for a mask
_GREY_LUT = np.round(16 + np.arange(256) * (219 / 255)).astype(np.uint8)
_BOOL_LUT = np.full(256, 235, np.uint8)
_BOOL_LUT[0] = 16


def grey_to_yuv420p(grey: np.ndarray, buf: np.ndarray | None = None) -> np.ndarray:
    """A bool mask or uint8 grey (H, W) picture as a (H*3/2, W) yuv420p array, without a colour conversion.

    ``Y`` = the grey value in limited range (a mask: 16 or 235, which decode to 0 and 255),
    ``U = V = 128``. ``buf`` (from an earlier call, same size) is reused: its chroma rows are
    already 128 and only the luma rows are written. Odd sizes are padded by repeating the last
    row/column (the returned array has even sides).

    Example:
        >>> y = grey_to_yuv420p(np.array([[True, False], [False, True]]))
        >>> y.shape, y[:2].tolist(), int(y[2:].min()), int(y[2:].max())
        ((3, 2), [[235, 16], [16, 235]], 128, 128)
    """
    h, w = grey.shape[:2]
    eh, ew = h + h % 2, w + w % 2
    if buf is None or buf.shape != (eh * 3 // 2, ew):
        buf = np.full((eh * 3 // 2, ew), 128, np.uint8)
    src = grey.view(np.uint8) if grey.dtype == np.bool_ else grey
    if src.dtype != np.uint8:
        raise ValueError(f"grey picture must be bool or uint8, got {grey.dtype}")
    lut = _BOOL_LUT if grey.dtype == np.bool_ else _GREY_LUT
    y = buf[:h, :w]
    if ew == w:
        cv2.LUT(np.ascontiguousarray(src), lut, dst=y)
    else:
        y[:] = cv2.LUT(np.ascontiguousarray(src), lut)
        buf[:h, w] = buf[:h, w - 1]
    if eh != h:
        buf[h, :] = buf[h - 1, :]
    return buf


def grey_to_yuv444p(grey: np.ndarray, buf: np.ndarray | None = None) -> np.ndarray:
    """A bool mask or uint8 grey (H, W) picture as a (3, H, W) yuv444p array (the planes Y, U,
    V), as :func:`grey_to_yuv420p` does it: limited-range luma, ``U = V = 128``; any size.
    ``buf`` (from an earlier call, same size) is reused.

    Example:
        >>> y = grey_to_yuv444p(np.array([[True, False, True]]))
        >>> y.shape, y[0].tolist(), int(y[1:].min()), int(y[1:].max())
        ((3, 1, 3), [[235, 16, 235]], 128, 128)
    """
    h, w = grey.shape[:2]
    if buf is None or buf.shape != (3, h, w):
        buf = np.full((3, h, w), 128, np.uint8)
    src = grey.view(np.uint8) if grey.dtype == np.bool_ else grey
    if src.dtype != np.uint8:
        raise ValueError(f"grey picture must be bool or uint8, got {grey.dtype}")
    cv2.LUT(np.ascontiguousarray(src), _BOOL_LUT if grey.dtype == np.bool_ else _GREY_LUT, dst=buf[0])
    return buf
