"""A video sink for any output type of :mod:`streamseg.effects`: it renders each result with a
``render(result) -> picture`` function (optionally with the HUD burnt in) and hands the picture
to a writer with the encoder interface (:class:`~streamseg.sinks.encoder.VideoEncoder` for BGR,
:class:`~streamseg.sinks.alpha_writer.AlphaVideoWriter` for BGRA).

Example:
    >>> import numpy as np
    >>> from streamseg.frames import Frame, FrameResult
    >>> class Writer:
    ...     def __init__(self): self.got = []
    ...     def write(self, image, pts=None, time_s=None): self.got.append((image.shape, pts))
    ...     def finish(self): return "out.mov"
    >>> sink = RenderedVideoSink(Writer(), lambda r: np.zeros((720, 1280, 4), np.uint8), hud=lambda r: ["30 fps"])
    >>> m = np.zeros((720, 1280), bool)
    >>> sink.write(FrameResult(Frame(np.zeros((720, 1280, 3), np.uint8), 0, 0.0, pts=7), m.astype(np.float32), m))
    >>> sink.close(); sink.writer.got, sink.path
    ([((720, 1280, 4), 7)], 'out.mov')
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np

from streamseg.effects.hud import burn_hud


def with_hud(render: Callable[[Any], np.ndarray], hud: Callable[[Any], list[str]]) -> Callable[[Any], np.ndarray]:
    """``render`` followed by :func:`~streamseg.effects.hud.burn_hud` (``--hud``)."""

    def fn(result: Any) -> np.ndarray:
        return burn_hud(render(result), hud(result))

    return fn


class RenderedVideoSink:
    """Sink contract (``write``, ``close``, ``abort``) over a writer with the encoder interface.

    Args:
        writer: ``write(image, pts=, time_s=)``, ``finish() -> Path``, ``abort(keep_partial)``.
        render: ``FrameResult -> picture`` (the one the run rendered into ``result.pictures``).
        use_pts: keep the source's timestamps (files); else the capture time (live sources).
        hud: ``FrameResult -> lines`` to burn into each picture, or ``None``.
    """

    def __init__(self, writer: Any, render: Callable[[Any], np.ndarray], use_pts: bool = True, hud=None) -> None:
        self.writer = writer
        self.render = with_hud(render, hud) if hud is not None else render
        self.use_pts = use_pts
        self.path: Path | None = None

    @property
    def encoder(self) -> Any:
        """The writer, under the name :class:`~streamseg.sinks.encoder.VideoSink` uses (run reports
        read ``sink.encoder.encode_seconds``)."""
        return self.writer

    def write(self, result: Any) -> None:
        f = result.frame
        image = self.render(result)
        if self.use_pts and f.pts is not None:
            self.writer.write(image, pts=f.pts)
        else:
            self.writer.write(image, time_s=f.time)

    def close(self) -> None:
        if self.path is None:
            self.path = self.writer.finish()

    def abort(self, keep_partial: bool) -> Path | None:
        return self.writer.abort(keep_partial=keep_partial)
