"""The one video sink: one output type of every result encoded to a video file, whatever the
picture (a grey mask goes straight into the luma plane, BGR through the encoder, BGRA to a
container with alpha), with the HUD burnt in when asked.

Example:
    >>> import numpy as np, tempfile, pathlib
    >>> from fractions import Fraction
    >>> from streamseg.frames import Frame, FrameResult
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "m.mp4"
    >>> m = np.zeros((48, 64), bool)
    >>> with VideoSink(out, "mask", 64, 48, Fraction(25)) as sink:
    ...     for i in range(3):
    ...         sink.write(FrameResult(Frame(np.zeros((48, 64, 3), np.uint8), i, i / 25, pts=i), m.astype(np.float32), m,
    ...                                pictures={"mask": np.zeros((48, 64), np.uint8)}))
    >>> sink.close().path.name, sink.close().written
    ('m.mp4', 3)
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any, Callable

from streamseg.effects.hud import burn_hud
from streamseg.sinks.base import Sink, SinkReport
from streamseg.sinks.settings import EncoderSettings


class VideoSink(Sink):
    """``result.pictures[output_type]`` of every result, at the frame's timestamp, into ``path``.

    Args:
        path: the validated output path (written under its ``.partial`` name; types with alpha:
            ``.mov`` or ``.webm``).
        output_type: the type (its :class:`~streamseg.effects.base.Effect` says the picture's
            channels and width).
        width, height: the frame's size (the picture's follows from the type).
        fps, time_base, audio_from: as for the writers (the source's rate, its timestamps' time
            base, a file whose audio track is copied).
        settings: the encoder's (:class:`~streamseg.sinks.settings.EncoderSettings`); for types
            with alpha only a ``codec`` other than the default ``libx264`` is used (``prores_aw``).
        use_pts: keep the source's timestamps (files); else the capture times (live).
        hud: ``FrameResult -> lines`` to burn in (``--hud``), or ``None``.

    Raises:
        OutputError: the container cannot carry the picture, or the file cannot be opened.
    """

    def __init__(
        self,
        path: str | Path,
        output_type: str,
        width: int,
        height: int,
        fps: Fraction,
        *,
        time_base: Fraction | None = None,
        settings: EncoderSettings | None = None,
        audio_from: Path | None = None,
        use_pts: bool = True,
        hud: Callable[[Any], list[str]] | None = None,
    ) -> None:
        from streamseg.effects import get

        effect = get(output_type)
        w, h = effect.width_factor * width, height
        settings = settings or EncoderSettings()
        if effect.channels == 4:
            from streamseg.sinks.alpha_writer import AlphaVideoWriter

            codec = settings.codec if settings.codec != EncoderSettings().codec else None
            self.writer: Any = AlphaVideoWriter(path, w, h, fps, time_base=time_base, audio_from=audio_from, codec=codec)
        else:
            from streamseg.sinks.writer import VideoEncoder

            self.writer = VideoEncoder(path, w, h, fps, time_base=time_base, settings=settings.for_output(output_type), audio_from=audio_from)
        self.output_type = output_type
        self.use_pts = use_pts
        self.hud = hud
        self._report: SinkReport | None = None

    def write(self, result: Any) -> None:
        picture = result.pictures[self.output_type]
        if self.hud is not None:
            picture = burn_hud(picture, self.hud(result))
        f = result.frame
        if self.use_pts and f.pts is not None:
            self.writer.write(picture, pts=f.pts)
        else:
            self.writer.write(picture, time_s=f.time)

    def close(self) -> SinkReport:
        """Finish the file under its final name: its path, frames and encoding seconds.

        Raises:
            OutputError: writing failed (the partial file is removed).
        """
        if self._report is None:
            path = self.writer.finish()
            self._report = SinkReport(path, self.writer.frames_written, self.writer.encode_seconds)
        return self._report

    def abort(self, keep_partial: bool = False) -> Path | None:
        """Close what was written (playable) and keep it under the partial name, or delete it."""
        if self._report is not None:
            return None
        return self.writer.abort(keep_partial=keep_partial)
