"""Settings shared by the effect renderers (the ``--feather``, ``--strength`` and overlay options).

Example:
    >>> EffectParams(strength=0.3).feather_px
    3.0
    >>> EffectParams(strength=2)
    Traceback (most recent call last):
    ...
    streamseg.errors.ConfigError: --strength must be in [0, 1], got 2
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from streamseg.errors import ConfigError

#: BGR colour of the overlay tint
MAGENTA = (255, 0, 255)
#: named colours accepted by ``--overlay-color`` and backgrounds (BGR)
COLORS: dict[str, tuple[int, int, int]] = {
    "magenta": MAGENTA,
    "red": (0, 0, 255),
    "green": (0, 255, 0),
    "blue": (255, 0, 0),
    "cyan": (255, 255, 0),
    "yellow": (0, 255, 255),
    "white": (255, 255, 255),
    "black": (0, 0, 0),
    "grey": (128, 128, 128),
    "gray": (128, 128, 128),
    "chroma-green": (64, 177, 0),
}


def parse_color(text: str | tuple[int, int, int], option: str = "--overlay-color") -> tuple[int, int, int]:
    """A colour name, ``#RRGGBB`` or ``R,G,B`` (0-255 each) -> BGR tuple.

    Raises:
        ConfigError: naming ``option`` when the text is not a colour.

    Example:
        >>> parse_color("#ff8000"), parse_color("0,255,0"), parse_color("red")
        ((0, 128, 255), (0, 255, 0), (0, 0, 255))
    """
    if isinstance(text, tuple):
        rgb_or_bgr = text
        if len(rgb_or_bgr) == 3 and all(isinstance(v, int) and 0 <= v <= 255 for v in rgb_or_bgr):
            return tuple(rgb_or_bgr)  # type: ignore[return-value]
        raise ConfigError(f"{option}: {text!r} is not a BGR colour (three ints in 0..255)")
    t = text.strip().lower()
    if t in COLORS:
        return COLORS[t]
    try:
        if t.startswith("#") and len(t) == 7:
            r, g, b = (int(t[i : i + 2], 16) for i in (1, 3, 5))
        else:
            parts = [int(p) for p in t.split(",")]
            if len(parts) != 3:
                raise ValueError
            r, g, b = parts
    except ValueError:
        raise ConfigError(
            f"{option}: {text!r} is not a colour (use a name like magenta, #RRGGBB or R,G,B)"
        ) from None
    if not all(0 <= v <= 255 for v in (r, g, b)):
        raise ConfigError(f"{option}: {text!r} has a value outside 0..255")
    return (b, g, r)


@dataclass(frozen=True)
class OverlayStyle:
    """How ``-T overlay`` draws skin: BGR ``color``, opacity ``alpha`` in [0, 1], and an
    outline of ``outline_px`` pixels (0 = scale with the frame: 1 px per 720 rows, at least 1)."""

    color: tuple[int, int, int] = MAGENTA
    alpha: float = 0.45
    outline: bool = True
    outline_px: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "color", parse_color(self.color))
        if not (0.0 <= float(self.alpha) <= 1.0) or math.isnan(self.alpha):
            raise ConfigError(f"--overlay-alpha must be in [0, 1], got {self.alpha}")
        if self.outline_px < 0:
            raise ConfigError(f"outline width must be >= 0, got {self.outline_px}")


@dataclass(frozen=True)
class EffectParams:
    """Settings for every output type.

    feather_px: width in pixels of the inward ramp of the mask edge (``--feather``; 0 = hard edge).
    strength: 0..1, how strong retouch, blur and pixelate are (``--strength``; 0 = input unchanged).
    overlay: colour, opacity and outline of ``-T overlay``.
    background: BGR colour that alpha outputs are composited over where the target cannot carry
        alpha (virtual camera, mp4); ``None`` = black.
    """

    feather_px: float = 3.0
    strength: float = 0.5
    overlay: OverlayStyle = field(default_factory=OverlayStyle)
    background: tuple[int, int, int] | None = None

    def __post_init__(self) -> None:
        if not (float(self.feather_px) >= 0.0) or math.isinf(self.feather_px):
            raise ConfigError(f"--feather must be a number of pixels >= 0, got {self.feather_px}")
        if not (0.0 <= float(self.strength) <= 1.0):
            raise ConfigError(f"--strength must be in [0, 1], got {self.strength}")
        if self.background is not None:
            object.__setattr__(self, "background", parse_color(self.background, "background"))
