"""The one contract of everything a run writes to: :class:`Sink`.

``write(result)`` once per processed frame, in order; ``close() -> report`` once when the run
ends well; ``abort(keep_partial)`` instead when it fails (a file sink keeps what it wrote under
its ``.partial`` name, or removes it); a context manager that closes, or aborts when the block
raised. A sink takes what it needs from the :class:`~streamseg.frames.FrameResult`: the
pictures the run rendered are in ``result.pictures``. A sink ends a run early by raising
:class:`EndOfRun` from ``write`` (the live window when the user quits). A run closes the sinks
it opens, never those it is given. A new sink is one class.

Sinks: :class:`~streamseg.sinks.video.VideoSink` (a video file),
:class:`~streamseg.sinks.window.WindowSink` (the live window),
:class:`~streamseg.sinks.virtual_cam.VirtualCamSink`, :class:`~streamseg.sinks.images.ImageFileSink`
(image files), :class:`~streamseg.sinks.stats.StatsCsvWriter` and
:class:`~streamseg.sinks.stats.AlertSink`, :class:`~streamseg.sinks.status.StatusLine` and
:class:`~streamseg.sinks.rois.RoiSinks` (the ROI stream: JSONL, OSC, WebSocket).

Example:
    >>> import numpy as np
    >>> from streamseg.frames import Frame, FrameResult
    >>> class Count(Sink):
    ...     def __init__(self): self.n = 0
    ...     def write(self, result): self.n += int(result.mask.any())
    ...     def close(self): return SinkReport(written=self.n)
    >>> m = np.ones((2, 2), bool)
    >>> with Count() as sink:
    ...     sink.write(FrameResult(Frame(np.zeros((2, 2, 3), np.uint8), 0, 0.0), m.astype(np.float32), m))
    >>> sink.close().written
    1
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from streamseg.frames import FrameResult


class EndOfRun(Exception):
    """Raised by a sink's ``write`` to end the run after this frame (not an error)."""


@dataclass(frozen=True)
class SinkReport:
    """What a sink wrote: its file (``None`` for none), how many frames, rows or files, and the
    seconds its own work took in other threads (encoding)."""

    path: Path | None = None
    written: int = 0
    seconds: float = 0.0


class Sink:
    """Where results go. Subclasses implement :meth:`write`; :meth:`close` (default: nothing to
    finish) returns a :class:`SinkReport` or ``None`` and may be called again (it returns the
    same); :meth:`abort` (default: :meth:`close`) is what a failed run calls instead."""

    def write(self, result: FrameResult) -> None:
        """Take one frame's result."""
        raise NotImplementedError

    def close(self) -> Any:
        """Finish what was written; the report of it (or ``None``)."""
        return None

    def abort(self, keep_partial: bool = False) -> Path | None:
        """The run failed: release what is held; a file sink keeps what it wrote under its
        partial name (``keep_partial``) or removes it. Returns the partial file kept, if any."""
        self.close()
        return None

    def __enter__(self) -> "Sink":
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort(keep_partial=False)
