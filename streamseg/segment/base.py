"""The interface every segmentation method implements.

A segmenter takes a BGR ``uint8`` frame of shape ``(H, W, 3)`` and returns a ``float32`` skin
probability of shape ``(H, W)`` in ``[0, 1]`` at frame size. ``segment_native`` returns the
same probability at the method's own resolution (a model's output map), which the video
pipeline smooths before it upsamples once.

Example:
    >>> import numpy as np
    >>> from streamseg.segment import create
    >>> seg = create("ellipse")
    >>> seg.warmup()
    >>> float(seg(np.zeros((2, 2, 3), np.uint8)).max())
    0.0
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Sequence

import numpy as np

from streamseg.errors import ConfigError


#: test-time augmentations of :class:`MethodOptions` ``tta``
TTA_MODES = ("none", "flip")


def check_choice(option: str, value: str, choices: Sequence[str]) -> str:
    """``value`` if it is one of ``choices``, the allowed values of the command-line ``option``.

    Raises:
        ConfigError: any other value: ``--opt 'x': must be a or b`` for two choices,
            ``must be one of a, b, c`` for more.
    """
    if value not in choices:
        allowed = " or ".join(choices) if len(choices) == 2 else f"one of {', '.join(choices)}"
        raise ConfigError(f"{option} {value!r}: must be {allowed}")
    return value


def check_tta(tta: str) -> str:
    """``tta`` if it is one of :data:`TTA_MODES`.

    Raises:
        ConfigError: any other value.
    """
    return check_choice("--tta", tta, TTA_MODES)


@dataclass
class MethodOptions:
    """Options a method may use; each method reads the ones that concern it.

    Attributes:
        provider: ONNX Runtime provider: ``auto``, ``cuda``, ``tensorrt`` or ``cpu``.
        threads: intra-op threads for ONNX Runtime / numba (0 = library default).
        size: model input size for ONNX files whose graph has a dynamic size.
        batch: frames per inference for file jobs (models with a dynamic batch).
        strict: raise instead of falling back to a classical method.
        fallback: the fallback was asked for (``--fallback``), not only allowed by default; it
            changes what the fallback warning says (:func:`streamseg.segment.fallback.fallback_note`).
        params: classical parameter file (``.npz``/``.json``); ``None`` = the shipped one.
        tta: test-time augmentation of ONNX models: ``none``, or ``flip`` (the mean of the
            probabilities of the frame and of its mirror image: two inferences per frame).
        quality: ``fast``, ``balanced`` or ``best``: what runs around the method
            (:mod:`streamseg.segment.quality`: the mirror view, a person gate, tiles).
        extra: method-specific settings (e.g. post-processing from a config file).
    """

    provider: str = "auto"
    threads: int = 0
    size: int | None = None
    batch: int = 1
    strict: bool = False
    fallback: bool = False
    params: Path | None = None
    tta: str = "none"
    quality: str = "fast"
    extra: dict = field(default_factory=dict)


class Segmenter(abc.ABC):
    """Base class of all methods.

    Subclasses set ``name`` and ``description`` and implement :meth:`segment`. ``provider``
    says what actually runs (``numba``, ``numpy``, ``CPUExecutionProvider``, ...), for the HUD
    and ``streamseg methods``.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    kind: ClassVar[str] = "classical"  # "classical" | "model"
    provider: str = "cpu"
    #: set when this segmenter stands in for another that could not run
    fallback_from: str | None = None

    @classmethod
    def unavailable_reason(cls, options: MethodOptions | None = None) -> str | None:
        """``None`` when the method can run here, else a one-line reason."""
        return None

    @abc.abstractmethod
    def segment(self, frame: np.ndarray) -> np.ndarray:
        """BGR uint8 (H, W, 3) -> float32 (H, W) skin probability in [0, 1]."""

    def segment_batch(self, frames: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Segment several frames (methods with batched inference override this)."""
        return [self.segment(f) for f in frames]

    def segment_native(self, frame: np.ndarray) -> np.ndarray:
        """BGR uint8 (H, W, 3) -> float32 (h, w) skin probability in [0, 1] at the method's own
        resolution (a model's output map, e.g. 256 x 256), not resized to the frame.

        The pipeline smooths this map and upsamples it once (:class:`~streamseg.pipeline.Processor`).
        The default is :meth:`segment` (frame size): methods that compute at another size
        (models) override it. ``(h, w)`` need not keep the frame's aspect ratio.
        """
        return self.segment(frame)

    def segment_native_batch(self, frames: Sequence[np.ndarray]) -> list[np.ndarray]:
        """:meth:`segment_native` for several frames (models batch them in one inference)."""
        return [self.segment_native(f) for f in frames]

    def warmup(self, height: int = 480, width: int = 640) -> None:
        """Run once on a dummy frame so compilation and allocation do not land on the first real frame."""
        self.segment(np.zeros((height, width, 3), np.uint8))
        self.reset()

    def reset(self) -> None:
        """Forget state carried between frames (scene cut, reconnect, new file)."""

    def close(self) -> None:
        """Release sessions and other resources."""

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        return self.segment(frame)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} on {self.provider}>"


def check_frame(frame: np.ndarray) -> np.ndarray:
    """Validate a frame: BGR uint8 (H, W, 3), H and W at least 1. Returns it unchanged (no copy).

    Raises:
        FrameError: anything else (a :class:`~streamseg.errors.StreamsegError` and a ``ValueError``).
    """
    from streamseg.errors import FrameError

    if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3 or 0 in frame.shape:
        desc = f"{frame.dtype} {frame.shape}" if isinstance(frame, np.ndarray) else type(frame).__name__
        raise FrameError(f"expected a BGR uint8 frame of shape (H, W, 3) with H, W >= 1, got {desc}")
    return frame
