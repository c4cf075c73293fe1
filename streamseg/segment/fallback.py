"""A segmenter that stands in for another when it cannot run: the fallback as a wrapper.

:func:`streamseg.segment.create` wraps every model in a :class:`FallbackSegmenter` (unless
``strict``): when the model fails at run time (GPU error, out of memory, a graph that cannot
take the input) it warns once and every later frame goes to the classical fallback. A model
that cannot even be created is replaced from the start (:meth:`FallbackSegmenter.standing_in`).
``name``, ``kind`` and ``provider`` are always those of what really runs; ``fallback_from``
names the method replaced.

Example:
    >>> import numpy as np
    >>> from streamseg.errors import MethodError
    >>> from streamseg.segment import create
    >>> class Broken(Segmenter):
    ...     name, kind = "broken", "model"
    ...     def segment(self, frame): raise MethodError("model 'broken' failed on the CPU")
    >>> seg = FallbackSegmenter(Broken(), lambda: create("ellipse"))
    >>> seg(np.zeros((2, 2, 3), np.uint8)).shape, seg.name, seg.fallback_from   # doctest: +ELLIPSIS
    ((2, 2), 'ellipse', 'broken')
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from streamseg import log
from streamseg.errors import MethodError
from streamseg.segment.base import Segmenter


def fallback_note(options: Any | None) -> str:
    """What a fallback warning ends with: how to make it an error, or, when ``--fallback`` asked
    for it (``options.fallback``), that it was asked for (``--strict`` would contradict it)."""
    if getattr(options, "fallback", False):
        return "(as --fallback asks)"
    return "(use --strict to make this an error)"


class FallbackSegmenter(Segmenter):
    """Runs ``primary``; on its first run-time :class:`~streamseg.errors.MethodError` switches to
    ``make_fallback()`` for good.

    Args:
        primary: the segmenter wanted (a model).
        make_fallback: creates the stand-in (a classical method); called once, on failure.

    Other attributes (``input_size``, ``session``, ...) are those of the segmenter now running.
    """

    def __init__(self, primary: Segmenter, make_fallback: Callable[[], Segmenter]) -> None:
        self.primary: Segmenter | None = primary
        self.active: Segmenter = primary
        self._make_fallback = make_fallback
        self._from: str | None = None

    @classmethod
    def standing_in(cls, wanted: str, fallback: Segmenter) -> "FallbackSegmenter":
        """A wrapper that runs ``fallback`` from the start, for ``wanted``, which could not be created."""
        seg = cls.__new__(cls)
        seg.primary, seg.active, seg._make_fallback, seg._from = None, fallback, lambda: fallback, wanted
        return seg

    # what really runs
    @property  # type: ignore[override]
    def name(self) -> str:
        return self.active.name

    @property  # type: ignore[override]
    def kind(self) -> str:
        return self.active.kind

    @property  # type: ignore[override]
    def description(self) -> str:
        return self.active.description

    @property  # type: ignore[override]
    def provider(self) -> str:
        return self.active.provider

    @property  # type: ignore[override]
    def fallback_from(self) -> str | None:
        return self._from

    def __getattr__(self, attr: str) -> Any:
        if attr in ("active", "primary", "_make_fallback", "_from"):
            raise AttributeError(attr)
        return getattr(self.active, attr)

    def _switch(self, exc: MethodError) -> None:
        failed = self.active
        fb = self._make_fallback()
        log.warn(f"{exc}; continuing with {fb.name!r} {fallback_note(getattr(failed, 'options', None))}")
        self._from = failed.name
        self.active, self.primary = fb, None
        failed.close()

    def segment(self, frame: np.ndarray) -> np.ndarray:
        """BGR uint8 (H, W, 3) -> float32 (H, W) skin probability in [0, 1]."""
        return self.segment_batch([frame])[0]

    def _run(self, method: str, frames: Sequence[np.ndarray]) -> list[np.ndarray]:
        """``active.<method>(frames)``; on the primary's first failure, the fallback's instead."""
        if self.primary is None:
            return getattr(self.active, method)(frames)
        try:
            return getattr(self.active, method)(frames)
        except MethodError as exc:
            self._switch(exc)
            return getattr(self.active, method)(frames)

    def segment_batch(self, frames: Sequence[np.ndarray]) -> list[np.ndarray]:
        """One float32 (H, W) probability per BGR uint8 frame, from whatever runs now."""
        return self._run("segment_batch", frames)

    def segment_native(self, frame: np.ndarray) -> np.ndarray:
        """The probability at the resolution of what runs now (see :meth:`Segmenter.segment_native`)."""
        return self.segment_native_batch([frame])[0]

    def segment_native_batch(self, frames: Sequence[np.ndarray]) -> list[np.ndarray]:
        """:meth:`segment_native` for several frames, falling back as :meth:`segment_batch` does."""
        return self._run("segment_native_batch", frames)

    def warmup(self, height: int = 480, width: int = 640) -> None:
        self.segment(np.zeros((height, width, 3), np.uint8))
        self.reset()

    def reset(self) -> None:
        self.active.reset()

    def close(self) -> None:
        self.active.close()

    def __repr__(self) -> str:
        if self._from is not None:
            return f"<FallbackSegmenter {self._from!r} -> fallback {self.name!r} on {self.provider}>"
        return repr(self.active)
