"""Small data classes passed between pipeline stages.

Example:
    >>> import numpy as np
    >>> f = Frame(image=np.zeros((2, 2, 3), np.uint8), index=0, time=0.0)
    >>> f.height, f.width
    (2, 2)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np


@dataclass
class VideoInfo:
    """What a source knows about its stream (cf. supervision's ``VideoInfo``).

    ``fps`` is the nominal rate (``Fraction``); ``frame_count`` is ``None`` for live sources
    or when the container does not say. ``time_base`` is the stream's, for keeping timestamps.
    """

    width: int
    height: int
    fps: Fraction
    frame_count: int | None = None
    #: True when ``frame_count`` is the container's own count, False when estimated from the duration
    frame_count_exact: bool = False
    duration: float | None = None  # seconds, when the container says
    time_base: Fraction | None = None
    has_audio: bool = False
    live: bool = False
    source: str = ""
    rotation: int = 0  # degrees clockwise applied to decoded frames to make them upright
    mirrored: bool = False  # the display matrix also mirrors: frames were flipped left-right after the turn

    @property
    def resolution(self) -> tuple[int, int]:
        return self.width, self.height


@dataclass
class Frame:
    """One decoded frame: BGR uint8 (H, W, 3), its index in the source and its time in seconds.

    ``pts`` is the presentation timestamp in the source's ``time_base`` (``None`` for live
    sources), kept so the encoder writes the same timestamps (variable frame rate survives).
    ``captured_at`` is ``time.perf_counter()`` when the frame was read, for latency.
    """

    image: np.ndarray
    index: int
    time: float
    pts: int | None = None
    captured_at: float = 0.0
    reset: bool = False  # first frame after a reconnect or a new source: drop temporal state
    source: str | None = None  # where a still image came from (image runs name their files after it)

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    @property
    def width(self) -> int:
        return int(self.image.shape[1])


@dataclass
class FrameResult:
    """Everything the stages produced for one frame; plain data that sinks read what they need from.

    prob: float32 (H, W) in [0, 1] after smoothing. mask: bool (H, W) = prob >= threshold.
    pictures: output type -> the picture the run rendered for it (uint8: grey (H, W), BGR
    (H, W', 3) or BGRA (H, W', 4)); shared by every sink, which must not draw on it.
    rois: the per-frame ROI message (dict, see ``streamseg/data/schemas/rois.schema.json``) or ``None``.
    timings: seconds spent per stage for this frame.
    """

    frame: Frame
    prob: np.ndarray
    mask: np.ndarray
    rois: dict[str, Any] | None = None
    timings: dict[str, float] = field(default_factory=dict)
    pictures: dict[str, np.ndarray] = field(default_factory=dict)
