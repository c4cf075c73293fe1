"""Output-type name -> renderer. A new output type is one module with a ``render_<name>``
function of the :data:`Renderer` signature plus one line in :data:`EFFECTS`.

Example:
    >>> import numpy as np
    >>> frame = np.full((4, 6, 3), 120, np.uint8)
    >>> mask = np.zeros((4, 6), np.float32); mask[1:3, 2:5] = 1
    >>> render_effect("alpha", frame, mask).shape, output_size("side-by-side", 6, 4)
    ((4, 6, 4), (12, 4))
    >>> get("sepia")
    Traceback (most recent call last):
    ...
    streamseg.errors.ConfigError: unknown output type 'sepia'; choose from mask, overlay, cutout, side-by-side, alpha, retouch, blur, pixelate, hair
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import numpy as np

from streamseg import render as _legacy
from streamseg.effects.alpha import render_alpha
from streamseg.effects.censor import render_blur, render_pixelate
from streamseg.effects.hair import render_hair
from streamseg.effects.mask import binary
from streamseg.effects.overlay import render_overlay
from streamseg.effects.params import EffectParams, OverlayStyle
from streamseg.effects.retouch import render_retouch
from streamseg.errors import ConfigError

if TYPE_CHECKING:
    from streamseg.frames import FrameResult

#: ``(frame BGR uint8 (H, W, 3), skin mask float32 (H, W) in [0, 1] or bool, params,
#: person mask float32 (H, W) or None) -> picture uint8 (H, W', 3 or 4)``
Renderer = Callable[[np.ndarray, np.ndarray, EffectParams, "np.ndarray | None"], np.ndarray]


@dataclass(frozen=True)
class Effect:
    """One output type.

    render: the :data:`Renderer`.
    channels: 3 (BGR) or 4 (BGRA: needs an alpha-capable writer, see ``streamseg.sinks.alpha_writer``).
    needs_person: the renderer needs a person mask (MediaPipe selfie segmentation).
    width_factor: output width / frame width (2 for side-by-side).
    summary: one line for ``--help``.
    """

    render: Renderer
    channels: int = 3
    needs_person: bool = False
    width_factor: int = 1
    summary: str = ""


def _legacy_renderer(name: str) -> Renderer:
    def fn(frame: np.ndarray, mask: np.ndarray, params: EffectParams, person: np.ndarray | None = None) -> np.ndarray:
        return _legacy.render(frame, binary(mask).view(bool), name)

    return fn


EFFECTS: dict[str, Effect] = {
    "mask": Effect(_legacy_renderer("mask"), summary="white skin on black (0/255)"),
    "overlay": Effect(render_overlay, summary="skin tinted (--overlay-color, --overlay-alpha) and outlined"),
    "cutout": Effect(_legacy_renderer("cutout"), summary="skin only, black elsewhere"),
    "side-by-side": Effect(_legacy_renderer("side-by-side"), width_factor=2, summary="frame | mask"),
    "alpha": Effect(render_alpha, channels=4, summary="cut-out with alpha from the feathered mask (--feather)"),
    "retouch": Effect(render_retouch, summary="edge-preserving skin smoothing (--strength)"),
    "blur": Effect(render_blur, summary="skin blurred (--strength)"),
    "pixelate": Effect(render_pixelate, summary="skin pixelated (--strength)"),
    "hair": Effect(render_hair, needs_person=True, summary="person mask minus skin mask (0/255)"),
}


def get(name: str) -> Effect:
    """The :class:`Effect` called ``name``.

    Raises:
        ConfigError: unknown name (the message lists the known ones).
    """
    try:
        return EFFECTS[name]
    except KeyError:
        raise ConfigError(f"unknown output type {name!r}; choose from {', '.join(EFFECTS)}") from None


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
    """Render output type ``name`` for one frame.

    Args:
        frame: BGR uint8 (H, W, 3).
        mask: skin mask (H, W), float32 in [0, 1] or bool; skin where >= 0.5.
        params: feather, strength, overlay style (default :class:`EffectParams`).
        person: person mask (H, W) float32 in [0, 1], for types with ``needs_person``.

    Returns:
        uint8 (H, W * width_factor, channels): BGR, or BGRA for ``alpha``.
    """
    return get(name).render(frame, mask, params or EffectParams(), person)


def result_renderer(
    name: str,
    params: EffectParams | None = None,
    person_of: Callable[[np.ndarray], np.ndarray] | None = None,
) -> Callable[["FrameResult"], np.ndarray]:
    """A function ``FrameResult -> picture`` for sinks (video, alpha video, virtual camera).

    Pictures are cached in ``result.pictures[name]``, so several sinks of one type render once.
    The types :mod:`streamseg.render` already draws (mask, cutout, side-by-side, and overlay in
    its default style) come from ``result.picture(name)``, which also draws the ROIs; a styled
    overlay gets the ROIs drawn here.

    Args:
        name: output type.
        params: effect settings.
        person_of: BGR frame -> person mask float32 (H, W) in [0, 1] (e.g.
            ``streamseg.segment.create("mediapipe").segment``); required when the type needs one.

    Raises:
        ConfigError: unknown type, or ``person_of`` missing for a type that needs it.
    """
    effect = get(name)
    p = params or EffectParams()
    if effect.needs_person and person_of is None:
        raise ConfigError(f"-T {name} needs a person segmenter (MediaPipe); it is not available")
    legacy = name in ("mask", "cutout", "side-by-side") or (name == "overlay" and p.overlay == OverlayStyle())

    def fn(result: "FrameResult") -> np.ndarray:
        pictures = getattr(result, "pictures", None)
        if pictures is not None and name in pictures:
            return pictures[name]
        if legacy and hasattr(result, "picture"):
            return result.picture(name)
        image = result.frame.image
        person = person_of(image) if effect.needs_person and person_of is not None else None
        pic = effect.render(image, result.mask, p, person)
        if name == "overlay" and getattr(result, "rois", None) is not None:
            from streamseg.rois.draw import draw_rois

            draw_rois(pic, result.rois)
        if pictures is not None:
            pictures[name] = pic
        return pic

    return fn
