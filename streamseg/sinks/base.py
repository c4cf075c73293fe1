"""The one contract of everything a run writes to: ``write(result)`` per frame, ``close()`` at the end.

Sinks: :class:`~streamseg.sinks.encoder.VideoSink` (a video file),
:class:`~streamseg.sinks.window.WindowSink` (the live window),
:class:`~streamseg.sinks.images.ImageFileSink` (image files) and
:class:`~streamseg.rois.sinks.RoiSinks` (the ROI stream: JSONL, OSC, WebSocket). A sink takes
what it needs from the :class:`~streamseg.frames.FrameResult`; pictures come from
``result.picture(output_type)``, rendered once per frame and type, whoever asks first.

Example:
    >>> import numpy as np
    >>> from streamseg.frames import Frame, FrameResult
    >>> class Count:
    ...     n = 0
    ...     def write(self, result): self.n += int(result.picture("mask").any())
    ...     def close(self): pass
    >>> sink = Count()
    >>> m = np.ones((2, 2), bool)
    >>> sink.write(FrameResult(Frame(np.zeros((2, 2, 3), np.uint8), 0, 0.0), m.astype(np.float32), m))
    >>> isinstance(sink, Sink), sink.n
    (True, 1)
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from streamseg.frames import FrameResult


@runtime_checkable
class Sink(Protocol):
    """Where results go. ``write`` is called once per processed frame, in order; ``close`` once
    when the run ends normally. A sink that can keep or drop what it wrote when the run fails
    also has ``abort(keep_partial: bool)``; a sink that can end the run (a window the user
    closed) has ``open`` (False once it is done)."""

    def write(self, result: FrameResult) -> None: ...

    def close(self) -> None: ...
