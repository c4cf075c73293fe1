"""``-T blur`` and ``-T pixelate``: skin censored for content filtering and privacy.

``strength`` (0..1) sets the size: the blur's sigma is ``strength * min(H, W) / 24`` pixels
(15 at 720p and 0.5), the pixel blocks are ``strength * min(H, W) / 12`` pixels (30 at 720p and
0.5). Blocks lie on a grid fixed to the frame, so they do not crawl when the mask moves.

Example:
    >>> import numpy as np
    >>> frame = np.zeros((48, 48, 3), np.uint8); frame[::2] = 255
    >>> m = np.zeros((48, 48), np.float32); m[8:40, 8:40] = 1
    >>> b, p = blur(frame, m, 1.0), pixelate(frame, m, 1.0)
    >>> bool((b[m == 0] == frame[m == 0]).all()), bool((p[20:28, 20:28] != frame[20:28, 20:28]).any())
    (True, True)
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from streamseg.effects.mask import apply_in_box, area_down, binary, blend, box, check_frame, feather, linear_up
from streamseg.effects.base import Effect


def blur_sigma(height: int, width: int, strength: float) -> float:
    """Gaussian sigma in pixels for ``strength`` on a frame of ``height`` x ``width``."""
    return strength * min(height, width) / 24


def block_size(height: int, width: int, strength: float) -> int:
    """Pixel-block side in pixels for ``strength`` (at least 2)."""
    return max(2, round(strength * min(height, width) / 12))


def blur(frame: np.ndarray, mask: np.ndarray, strength: float = 0.5, feather_px: float = 3.0) -> np.ndarray:
    """Gaussian blur inside the mask.

    Args:
        frame: BGR uint8 (H, W, 3).
        mask: skin mask (H, W), float32 in [0, 1] (or bool / uint8); skin where >= 0.5.
        strength: 0..1, blur size (see :func:`blur_sigma`); 0 = unchanged.
        feather_px: inward ramp of the blend at the mask edge, in pixels.

    Returns:
        BGR uint8 (H, W, 3), a new array; pixels outside the mask are bit-exact copies.
    """
    check_frame(frame)
    sigma = blur_sigma(*frame.shape[:2], strength)
    if sigma < 0.3:
        return frame.copy()
    # a Gaussian this wide loses nothing when computed on a frame `f` times smaller
    f = max(1, int(sigma // 3))

    def fn(crop: np.ndarray, w: np.ndarray) -> np.ndarray:
        b = cv2.GaussianBlur(area_down(crop, f), (0, 0), sigma / f, borderType=cv2.BORDER_REPLICATE)
        return blend(crop, linear_up(b, crop.shape[0], crop.shape[1], f), w)

    return apply_in_box(frame, mask, feather_px, int(math.ceil(3 * sigma)), fn, multiple=f)


def pixelate(frame: np.ndarray, mask: np.ndarray, strength: float = 0.5, feather_px: float = 3.0) -> np.ndarray:
    """Mosaic (block means) inside the mask; arguments and result as for :func:`blur`, but
    ``strength`` (0..1) sets the block size (see :func:`block_size`); 0 = unchanged."""
    check_frame(frame)
    if strength <= 0:
        return frame.copy()
    b = binary(mask, frame.shape[:2])
    out = frame.copy()
    bx = box(b, 1)  # a ring of non-skin around the mask keeps the crop's feather exact
    if bx is None:
        return out
    n = block_size(*frame.shape[:2], strength)
    H, W = frame.shape[:2]
    # snap the box to the frame's block grid
    y0, x0 = (bx[0].start // n) * n, (bx[1].start // n) * n
    y1, x1 = min(H, -(-bx[0].stop // n) * n), min(W, -(-bx[1].stop // n) * n)
    crop = frame[y0:y1, x0:x1]
    h, w = crop.shape[:2]
    ph, pw = -(-h // n) * n, -(-w // n) * n
    padded = cv2.copyMakeBorder(crop, 0, ph - h, 0, pw - w, cv2.BORDER_REPLICATE) if (ph, pw) != (h, w) else crop
    small = cv2.resize(padded, (pw // n, ph // n), interpolation=cv2.INTER_AREA)
    mosaic = cv2.resize(small, (pw, ph), interpolation=cv2.INTER_NEAREST)[:h, :w]
    out[y0:y1, x0:x1] = blend(crop, mosaic, feather(b[y0:y1, x0:x1].view(bool), feather_px))
    return out


class BlurEffect(Effect):
    """``-T blur``: BGR, skin blurred by ``params.strength``, feathered by ``params.feather_px``."""

    name, summary = "blur", "skin blurred (--strength)"

    def render(self, frame: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return blur(frame, mask, self.params.strength, self.params.feather_px)


class PixelateEffect(Effect):
    """``-T pixelate``: BGR, skin pixelated by ``params.strength``, feathered by ``params.feather_px``."""

    name, summary = "pixelate", "skin pixelated (--strength)"

    def render(self, frame: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return pixelate(frame, mask, self.params.strength, self.params.feather_px)
