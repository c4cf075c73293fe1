"""What a skin mask is used for: the output types, each an :class:`Effect` configured once and
rendering ``render(frame, mask)`` on BGR uint8 (H, W, 3) frames and float32 (H, W) masks in
[0, 1] (skin where >= 0.5); and the pure functions behind them.

- :data:`EFFECTS` (output type name -> :class:`Effect` class), :func:`make_effect`, :func:`get`,
  :func:`output_size`, :func:`render_effect`, :func:`render_result`;
- :func:`alpha` (BGRA cut-out, feathered), :func:`retouch`, :func:`blur`, :func:`pixelate`,
  :func:`hair`, :func:`overlay` (colour / opacity / outline);
- :func:`skin_fraction` and :func:`person_exposure` (exposure score);
- :func:`draw_hud` (scales with the frame).

Example:
    >>> import numpy as np
    >>> frame = np.full((8, 8, 3), 128, np.uint8)
    >>> mask = np.zeros((8, 8), np.float32); mask[2:6, 2:6] = 1
    >>> sorted(EFFECTS)[:3], make_effect("retouch").render(frame, mask).shape
    (['alpha', 'blur', 'cutout'], (8, 8, 3))
"""

from __future__ import annotations

from streamseg.effects.alpha import alpha, flatten
from streamseg.effects.base import Effect
from streamseg.effects.censor import blur, pixelate
from streamseg.effects.exposure import person_exposure, skin_fraction
from streamseg.effects.hair import hair, hair_mask_image
from streamseg.effects.hud import draw_hud, hud_lines, hud_scale
from streamseg.effects.mask import feather
from streamseg.effects.overlay import overlay
from streamseg.effects.params import EffectParams, OverlayStyle, parse_color
from streamseg.effects.registry import EFFECTS, get, make_effect, output_size, render_effect, render_result
from streamseg.effects.retouch import retouch

__all__ = [
    "EFFECTS",
    "Effect",
    "EffectParams",
    "OverlayStyle",
    "alpha",
    "blur",
    "draw_hud",
    "feather",
    "flatten",
    "get",
    "make_effect",
    "hair",
    "hair_mask_image",
    "hud_lines",
    "hud_scale",
    "output_size",
    "overlay",
    "parse_color",
    "person_exposure",
    "pixelate",
    "render_effect",
    "render_result",
    "retouch",
    "skin_fraction",
]
