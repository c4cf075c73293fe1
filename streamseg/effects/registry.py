"""Output-type name -> :class:`~streamseg.effects.base.Effect` class. A new output type is one
module with an ``Effect`` subclass plus one line in :data:`EFFECTS`.

Example:
    >>> import numpy as np
    >>> frame = np.full((4, 6, 3), 120, np.uint8)
    >>> mask = np.zeros((4, 6), np.float32); mask[1:3, 2:5] = 1
    >>> make_effect("alpha").render(frame, mask).shape, output_size("side-by-side", 6, 4)
    ((4, 6, 4), (12, 4))
    >>> get("sepia")
    Traceback (most recent call last):
    ...
    streamseg.errors.ConfigError: unknown output type 'sepia'; choose from mask, overlay, cutout, side-by-side, alpha, retouch, blur, pixelate, hair
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from streamseg.effects.alpha import AlphaEffect
from streamseg.effects.base import Effect, PersonOf
from streamseg.effects.censor import BlurEffect, PixelateEffect
from streamseg.effects.hair import HairEffect
from streamseg.effects.overlay import OverlayEffect
from streamseg.effects.params import EffectParams
from streamseg.effects.retouch import RetouchEffect
from streamseg.effects.views import CutoutEffect, MaskEffect, SideBySideEffect
from streamseg.errors import ConfigError

if TYPE_CHECKING:
    from streamseg.frames import FrameResult

#: every output type, in the order ``--help`` lists them
EFFECTS: dict[str, type[Effect]] = {
    "mask": MaskEffect,
    "overlay": OverlayEffect,
    "cutout": CutoutEffect,
    "side-by-side": SideBySideEffect,
    "alpha": AlphaEffect,
    "retouch": RetouchEffect,
    "blur": BlurEffect,
    "pixelate": PixelateEffect,
    "hair": HairEffect,
}


def get(name: str) -> type[Effect]:
    """The :class:`~streamseg.effects.base.Effect` class of output type ``name``.

    Raises:
        ConfigError: unknown name (the message lists the known ones).
    """
    try:
        return EFFECTS[name]
    except KeyError:
        raise ConfigError(f"unknown output type {name!r}; choose from {', '.join(EFFECTS)}") from None


def make_effect(name: str, params: EffectParams | None = None, person_of: PersonOf | None = None) -> Effect:
    """Output type ``name`` configured with ``params`` (and the person segmenter ``person_of``,
    for types that need one).

    Raises:
        ConfigError: unknown type, or ``person_of`` missing for a type that needs it.
    """
    return get(name)(params, person_of)


def output_size(name: str, width: int, height: int) -> tuple[int, int]:
    """(width, height) of output type ``name`` for a frame of ``width`` x ``height``."""
    return get(name).width_factor * width, height


def render_effect(
    name: str,
    frame: np.ndarray,
    mask: np.ndarray,
    params: EffectParams | None = None,
    person: np.ndarray | None = None,
) -> np.ndarray:
    """Render output type ``name`` for one frame (one call, for tests and benchmarks).

    Args:
        frame: BGR uint8 (H, W, 3).
        mask: skin mask (H, W), float32 in [0, 1] or bool; skin where >= 0.5.
        params: feather, strength, overlay style (default :class:`EffectParams`).
        person: person mask (H, W) float32 in [0, 1], for types with ``needs_person``.

    Returns:
        See :meth:`~streamseg.effects.base.Effect.render`.
    """
    return make_effect(name, params, None if person is None else (lambda _frame: person)).render(frame, mask)


def render_result(effect: Effect, result: "FrameResult") -> np.ndarray:
    """The picture of ``effect`` for one frame's result: :meth:`Effect.render` of its frame
    and mask, with the ROI message drawn on types that draw it (:attr:`Effect.draws_rois`)."""
    pic = effect.render(result.frame.image, result.mask)
    if effect.draws_rois and result.rois is not None:
        from streamseg.rois.draw import draw_rois

        draw_rois(pic, result.rois)
    return pic
