"""What every output type is: an :class:`Effect`, configured once with its settings and
rendering each frame with ``render(frame, mask)`` (cf. supervision's annotators). A new output
type is one module with a subclass and one line in :data:`streamseg.effects.registry.EFFECTS`.

Example:
    >>> import numpy as np
    >>> class Inverted(Effect):
    ...     name, summary, channels = "inverted", "non-skin white", 1
    ...     def render(self, frame, mask):
    ...         return np.where(mask >= 0.5, 0, 255).astype(np.uint8)
    >>> Inverted().render(np.zeros((1, 2, 3), np.uint8), np.array([[0.0, 1.0]], np.float32)).tolist()
    [[255, 0]]
"""

from __future__ import annotations

from typing import Callable, ClassVar

import numpy as np

from streamseg.effects.params import EffectParams
from streamseg.errors import ConfigError

#: BGR uint8 (H, W, 3) frame -> person mask float32 (H, W) in [0, 1]
PersonOf = Callable[[np.ndarray], np.ndarray]


class Effect:
    """One output type.

    Class attributes:
        name: the ``-T`` name. summary: one line for ``--help``.
        channels: of the picture: 1 (grey (H, W)), 3 (BGR) or 4 (BGRA: needs an
            alpha-capable writer, see :mod:`streamseg.sinks.alpha_writer`).
        width_factor: picture width / frame width (2 for side-by-side).
        needs_person: :meth:`render` needs a person mask (``person_of``).
        draws_rois: the run draws the ROI messages onto this picture.

    Args:
        params: feather, strength, overlay style (default :class:`EffectParams`).
        person_of: the person segmenter, for types that need one.

    Raises:
        ConfigError: ``person_of`` missing for a type that needs it.
    """

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    channels: ClassVar[int] = 3
    width_factor: ClassVar[int] = 1
    needs_person: ClassVar[bool] = False
    draws_rois: ClassVar[bool] = False

    def __init__(self, params: EffectParams | None = None, person_of: PersonOf | None = None) -> None:
        if self.needs_person and person_of is None:
            raise ConfigError(f"-T {self.name} needs a person mask (the shipped person model); none was given")
        self.params = params or EffectParams()
        self.person_of = person_of

    def render(self, frame: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """The picture of one frame.

        Args:
            frame: BGR uint8 (H, W, 3).
            mask: skin mask (H, W), float32 in [0, 1] or bool; skin where >= 0.5.

        Returns:
            uint8 (H, W * width_factor) for one channel, else (H, W * width_factor, channels):
            BGR, or BGRA for ``channels`` 4; a new array.
        """
        raise NotImplementedError

    def output_size(self, width: int, height: int) -> tuple[int, int]:
        """(width, height) of the picture of a ``width`` x ``height`` frame."""
        return self.width_factor * width, height

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"
