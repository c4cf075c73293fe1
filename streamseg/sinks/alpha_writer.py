"""Write pictures with an alpha channel: BGRA video (``.mov`` ProRes 4444, ``.webm`` VP9) and
RGBA images (``.png``, ``.webp``, ``.tif``).

:class:`AlphaVideoWriter` has the interface of :class:`~streamseg.sinks.encoder.VideoEncoder`
(``write(image, pts=..., time_s=...)``, ``finish()``, ``abort(keep_partial)``): a writer
thread behind a bounded queue, the file written under ``<stem>.partial<ext>`` and renamed when
complete, the input's audio copied (re-encoded to Opus for WebM).

Example:
    >>> import numpy as np, tempfile, pathlib
    >>> from fractions import Fraction
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "x.webm"
    >>> w = AlphaVideoWriter(out, 32, 24, Fraction(25))
    >>> for i in range(3):
    ...     w.write(np.zeros((24, 32, 4), np.uint8), pts=i)
    >>> w.finish().name, w.frames_written
    ('x.webm', 3)
    >>> alpha_codec(pathlib.Path("x.mp4"))
    Traceback (most recent call last):
    ...
    streamseg.errors.OutputError: x.mp4: .mp4 cannot carry alpha; use .mov (ProRes 4444) or .webm (VP9 with alpha)
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from streamseg import log
from streamseg.errors import OutputError
from streamseg.sinks.output_path import commit, discard, partial_path


@dataclass(frozen=True)
class AlphaCodec:
    """Container format, encoder, pixel format and encoder options for one extension."""

    container: str
    codec: str
    pix_fmt: str
    options: tuple[tuple[str, str], ...] = ()


#: extension -> how alpha video is written there
ALPHA_VIDEO: dict[str, AlphaCodec] = {
    # prores_ks picks 4444 for yuva444p10le; profile is named so a change of default cannot drop alpha
    ".mov": AlphaCodec("mov", "prores_ks", "yuva444p10le", (("profile", "4444"), ("alpha_bits", "16"))),
    # realtime + cpu-used 8: a few ms per 720p frame; crf 24 keeps the alpha plane within a few levels
    ".webm": AlphaCodec(
        "webm",
        "libvpx-vp9",
        "yuva420p",
        (("deadline", "realtime"), ("cpu-used", "8"), ("row-mt", "1"), ("crf", "24"), ("b", "0")),
    ),
}
#: image extensions that carry alpha, written with OpenCV (BGRA -> RGBA file)
ALPHA_IMAGE = (".png", ".webp", ".tif", ".tiff")


def alpha_codec(path: Path) -> AlphaCodec:
    """How to write alpha video to ``path``, chosen by its extension.

    Raises:
        OutputError: the extension's container cannot carry alpha (one line, says what can).
    """
    ext = Path(path).suffix.lower()
    try:
        return ALPHA_VIDEO[ext]
    except KeyError:
        raise OutputError(
            f"{Path(path).name}: {ext or 'no extension'} cannot carry alpha; use .mov (ProRes 4444) or .webm (VP9 with alpha)"
        ) from None


def write_alpha_image(path: Path, bgra: np.ndarray) -> Path:
    """Write BGRA uint8 (H, W, 4) as an RGBA image (``.png``, ``.webp`` lossless, ``.tif``);
    written under the partial name and renamed. Returns ``path``.

    Raises:
        OutputError: the extension cannot carry alpha, or the file cannot be written.
    """
    path = Path(path)
    ext = path.suffix.lower()
    if ext not in ALPHA_IMAGE:
        raise OutputError(f"{path.name}: {ext or 'no extension'} cannot carry alpha; use .png (or .webp, .tif)")
    if bgra.dtype != np.uint8 or bgra.ndim != 3 or bgra.shape[2] != 4:
        raise ValueError(f"expected BGRA uint8 (H, W, 4), got {bgra.dtype} {bgra.shape}")
    params = [cv2.IMWRITE_WEBP_QUALITY, 101] if ext == ".webp" else []  # >100 = lossless
    ok, buf = cv2.imencode(ext, bgra, params)
    if not ok:
        raise OutputError(f"cannot encode {path.name}")
    tmp = partial_path(path)
    try:
        tmp.write_bytes(buf.tobytes())
    except OSError as exc:
        discard(tmp)
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    return commit(tmp, path)


class AlphaVideoWriter:
    """Writes BGRA uint8 (H, W, 4) frames to ``.mov`` (ProRes 4444) or ``.webm`` (VP9 + alpha).

    Args:
        path: final output path; its extension picks the codec (:func:`alpha_codec`).
        width, height: output size (frames of another size are resized, with one warning).
        fps: nominal rate (also the time base when frames come without ``pts``).
        time_base: time base of the ``pts`` given to :meth:`write` (the input stream's).
        audio_from: a file whose first audio track is copied into the output.
        queue_size: frames buffered for the writer thread.
        codec: another encoder for the extension's pixel format (``--codec``), e.g.
            ``prores_aw`` for ``.mov``: about 4x faster than ``prores_ks``, also 4444 with alpha.

    Raises:
        OutputError: the container cannot carry alpha, the codec cannot encode its alpha pixel
            format, or the file cannot be opened.
    """

    def __init__(
        self,
        path: str | Path,
        width: int,
        height: int,
        fps: Fraction,
        time_base: Fraction | None = None,
        audio_from: Path | None = None,
        queue_size: int = 8,
        codec: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.spec = alpha_codec(self.path)
        if codec and codec != self.spec.codec:
            self.spec = AlphaCodec(self.spec.container, codec, self.spec.pix_fmt)  # its own defaults
            try:
                formats = [f.name for f in (av.codec.Codec(codec, "w").video_formats or ())]
            except (av.error.FFmpegError, ValueError) as exc:
                raise OutputError(f"unknown or unavailable --codec {codec!r}: {exc}") from None
            if self.spec.pix_fmt not in formats:
                raise OutputError(f"--codec {codec} cannot encode {self.spec.pix_fmt} (alpha) for {self.path.suffix}")
        self.tmp = partial_path(self.path)
        self.width, self.height = int(width), int(height)
        self.fps = Fraction(fps).limit_denominator(90000) if fps else Fraction(30)
        self.time_base = Fraction(time_base) if time_base else 1 / self.fps
        self.frames_written = 0
        self.encode_seconds = 0.0
        self._last_pts: int | None = None
        self._warned_resize = False
        self._error: BaseException | None = None
        self._queue: queue.Queue = queue.Queue(maxsize=queue_size)
        self._closed = False
        self._kept: Path | None = None
        self._open(audio_from)
        self._thread = threading.Thread(target=self._run, name="streamseg-alpha-encode", daemon=True)
        self._thread.start()

    def _open(self, audio_from: Path | None) -> None:
        try:
            self.container = av.open(str(self.tmp), mode="w", format=self.spec.container)
        except (av.error.FFmpegError, OSError) as exc:
            raise OutputError(f"cannot write {self.tmp}: {getattr(exc, 'strerror', None) or exc}") from None
        try:
            stream = self.container.add_stream(self.spec.codec, rate=self.fps)
        except (av.error.FFmpegError, ValueError) as exc:
            self.container.close()
            discard(self.tmp)
            raise OutputError(f"encoder {self.spec.codec} for {self.path.suffix} is not available: {exc}") from None
        stream.width, stream.height = self.width, self.height
        stream.pix_fmt = self.spec.pix_fmt
        stream.time_base = self.time_base
        stream.codec_context.time_base = self.time_base
        stream.options = dict(self.spec.options)
        stream.thread_type = "AUTO"
        self.stream = stream
        self.audio = None
        if audio_from is not None:
            # the video encoder's audio copier (private there); same container rules apply
            from streamseg.sinks.encoder import _AudioCopy

            try:
                self.audio = _AudioCopy(audio_from, self.container)
            except (av.error.FFmpegError, ValueError, IndexError) as exc:
                log.warn(f"audio track not copied: {exc}")

    def _prepare(self, image: np.ndarray) -> np.ndarray:
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 4:
            raise ValueError(f"alpha writer expects BGRA uint8 (H, W, 4), got {image.dtype} {image.shape}")
        h, w = image.shape[:2]
        if (w, h) != (self.width, self.height):
            if not self._warned_resize:
                log.warn(f"frame size changed to {w}x{h}; resizing to the output size {self.width}x{self.height}")
                self._warned_resize = True
            image = cv2.resize(image, (self.width, self.height), interpolation=cv2.INTER_AREA)
        return np.ascontiguousarray(image)

    def write(self, image: np.ndarray, pts: int | None = None, time_s: float | None = None) -> None:
        """Queue one BGRA uint8 (H, W, 4) frame. ``pts`` is in ``time_base``; without it the
        time ``time_s`` (seconds) or the frame count sets the timestamp.

        Raises:
            OutputError: the writer thread failed (disk full, permission...).
            ValueError: the frame is not BGRA uint8.
        """
        image = self._prepare(image)
        if self._error is not None:
            raise self._as_output_error(self._error)
        if pts is None:
            pts = round(time_s / self.time_base) if time_s is not None else self.frames_written + self._queue.qsize()
        while True:
            try:
                self._queue.put((image, int(pts)), timeout=0.2)
                return
            except queue.Full:
                if self._error is not None:
                    raise self._as_output_error(self._error) from None
                if not self._thread.is_alive():
                    raise OutputError("alpha video writer stopped unexpectedly")

    def _as_output_error(self, exc: BaseException) -> OutputError:
        if isinstance(exc, OutputError):
            return exc
        return OutputError(f"writing {self.tmp} failed: {getattr(exc, 'strerror', None) or exc}")

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                break
            if self._error is not None:
                continue  # drain after a failure
            try:
                t0 = time.perf_counter()
                self._encode(*item)
                self.encode_seconds += time.perf_counter() - t0
            except BaseException as exc:  # noqa: BLE001 - surfaced by write()/finish()
                self._error = exc

    def _encode(self, image: np.ndarray, pts: int) -> None:
        if self._last_pts is not None and pts <= self._last_pts:
            pts = self._last_pts + 1  # strictly increasing timestamps (broken or repeated pts)
        self._last_pts = pts
        frame = av.VideoFrame.from_ndarray(image, format="bgra")
        frame.pts = pts
        frame.time_base = self.time_base
        if self.audio is not None:
            self.audio.feed_until(float(pts * self.time_base))
        for packet in self.stream.encode(frame):
            self.container.mux(packet)
        self.frames_written += 1

    def _close_container(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._queue.put(None)
        self._thread.join()
        try:
            if self._error is None:
                for packet in self.stream.encode(None):
                    self.container.mux(packet)
                if self.audio is not None:
                    self.audio.feed_until(None)
        except BaseException as exc:  # noqa: BLE001
            self._error = self._error or exc
        finally:
            if self.audio is not None:
                self.audio.close()
            try:
                self.container.close()
            except BaseException as exc:  # noqa: BLE001
                self._error = self._error or exc

    def finish(self) -> Path:
        """Flush, close and rename to the final name. Returns the final path.

        Raises:
            OutputError: writing failed; the temporary file is removed.
        """
        self._close_container()
        if self._error is not None:
            discard(self.tmp)
            raise self._as_output_error(self._error)
        return commit(self.tmp, self.path)

    def abort(self, keep_partial: bool) -> Path | None:
        """Close what was written (playable) and keep it under the partial name, or delete it."""
        if self._kept is not None:
            return self._kept
        self._close_container()
        if keep_partial and self._error is None and self.frames_written > 0 and self.tmp.exists():
            self._kept = self.tmp
            return self.tmp
        discard(self.tmp)
        return None


def read_alpha_video(path: Path) -> tuple[list[np.ndarray], str]:
    """Decode an alpha video to BGRA uint8 (H, W, 4) frames and the decoded pixel format.

    VP9 keeps alpha in a side channel that FFmpeg's native ``vp9`` decoder drops, so WebM is
    decoded with ``libvpx-vp9``. For checking outputs (tests, docs); loads every frame.
    """
    frames: list[np.ndarray] = []
    fmt = ""
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        ctx = av.CodecContext.create("libvpx-vp9", "r") if s.codec_context.name == "vp9" else None
        if ctx is None:
            decoded = c.decode(s)
        else:  # demux ends with an empty packet; the context is flushed once, by decode(None)
            decoded = (f for p in (*(p for p in c.demux(s) if p.size), None) for f in ctx.decode(p))
        for f in decoded:
            fmt = f.format.name
            frames.append(f.to_ndarray(format="bgra"))
    return frames, fmt
