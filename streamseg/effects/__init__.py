"""What a skin mask is used for: pure renderers on BGR uint8 (H, W, 3) frames and float32
(H, W) masks in [0, 1] (skin where >= 0.5), and the registry of output types.

- :func:`alpha` (BGRA cut-out, feathered), :func:`retouch`, :func:`blur`, :func:`pixelate`,
  :func:`hair`, :func:`overlay` (colour / opacity / outline);
- :func:`skin_fraction` and :func:`person_exposure` (exposure score);
- :func:`draw_hud` (scales with the frame);
- :data:`EFFECTS`, :func:`render_effect`, :func:`result_renderer` (output type name -> renderer).

Example:
    >>> import numpy as np
    >>> frame = np.full((8, 8, 3), 128, np.uint8)
    >>> mask = np.zeros((8, 8), np.float32); mask[2:6, 2:6] = 1
    >>> sorted(EFFECTS)[:3], render_effect("retouch", frame, mask).shape
    (['alpha', 'blur', 'cutout'], (8, 8, 3))
"""

from __future__ import annotations

from streamseg.effects.alpha import alpha, flatten
from streamseg.effects.censor import blur, pixelate
from streamseg.effects.exposure import person_exposure, skin_fraction
from streamseg.effects.hair import hair, hair_mask_image
from streamseg.effects.hud import draw_hud, hud_lines, hud_scale
from streamseg.effects.mask import feather
from streamseg.effects.overlay import overlay
from streamseg.effects.params import EffectParams, OverlayStyle, parse_color
from streamseg.effects.registry import EFFECTS, Effect, get, output_size, render_effect, result_renderer
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
    "result_renderer",
    "retouch",
    "skin_fraction",
]
