"""Encode BGR frames to a video file with PyAV, copying the input's audio track.

The file is written under a temporary ``.partial`` name by a writer thread fed through a
bounded queue (back-pressure, never a dropped frame) and renamed to its final name only by
:meth:`VideoEncoder.finish`. :meth:`VideoEncoder.abort` finalises the container so what was
written stays playable, then keeps it under the partial name or deletes it.

The partial file plays even when the process dies without finalising it (SIGKILL, a crash,
power loss): MP4/MOV are written as fragments of at most a second with the index up front
(``movflags=frag_keyframe+empty_moov+delay_moov+default_base_moof``), Matroska/WebM in clusters of
at most a second, and every packet is flushed to the file (:func:`crash_safe_options`), as OBS
does with its recordings. :meth:`VideoEncoder.finish` remuxes a fragmented MP4/MOV into a regular
one (:func:`remux`, no re-encoding) before it takes the final name.

Example:
    >>> import numpy as np, tempfile, pathlib
    >>> from fractions import Fraction
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "x.mp4"
    >>> enc = VideoEncoder(out, 64, 48, Fraction(25))
    >>> for i in range(5):
    ...     enc.write(np.zeros((48, 64, 3), np.uint8), pts=i)
    >>> enc.finish().name, enc.frames_written
    ('x.mp4', 5)
"""

from __future__ import annotations

import errno
import queue
import threading
import time
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from streamseg import log
from streamseg.errors import OutputError
from streamseg.sinks.audio import AudioCopy
from streamseg.sinks.output_path import commit, discard, partial_path
from streamseg.sinks.pixels import grey_to_yuv420p, grey_to_yuv444p
from streamseg.sinks.settings import PICTURE_PRESET, X264_PRESETS, EncoderSettings, parse_bitrate

#: encoders that cannot take 4:2:0 pictures of odd sizes but take 4:4:4 ones (H.264, HEVC)
_ODD_SIZE_444 = ("libx264", "libx265", "h264", "hevc")
#: encoders that take 4:2:0 pictures of odd sizes (others get them padded to even)
_ODD_SIZE_420 = ("libvpx-vp9", "libvpx", "mpeg4", "libsvtav1")

#: extension -> muxer where the name alone is not enough (``.m4v``) or PyAV would guess another
VIDEO_FORMATS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska", ".webm": "webm", ".avi": "avi"}
#: what the errors suggest
_SUGGESTED = ".mp4, .mkv, .mov, .webm (--codec libvpx-vp9) or .avi"
#: muxers written as fragmented MP4 and remuxed by :meth:`ThreadedVideoWriter.finish`
_FRAGMENTED = ("mp4", "mov", "ipod")

def crash_safe_options(fmt: str) -> dict[str, str]:
    """Muxer options that keep what was written playable when the process dies without closing
    the file: MP4/MOV (``fmt`` in :data:`_FRAGMENTED`) as fragments of at most a second
    (``delay_moov``: the index is written with the first fragment, so B-frame delays keep their
    edit list and the timestamps stay those of a regular file), Matroska/WebM in clusters of at
    most a second; every packet flushed to the file (``flush_packets``).

    Example:
        >>> crash_safe_options("matroska")
        {'flush_packets': '1', 'cluster_time_limit': '1000'}
    """
    opts = {"flush_packets": "1"}
    if fmt in _FRAGMENTED:
        opts["movflags"] = "frag_keyframe+empty_moov+delay_moov+default_base_moof"
        opts["frag_duration"] = "1000000"  # microseconds
    elif fmt in ("matroska", "webm"):
        opts["cluster_time_limit"] = "1000"  # milliseconds
    return opts


def remux(src: Path, dst: Path, fmt: str) -> Path:
    """Copy the video and audio packets of ``src`` into a new ``fmt`` file ``dst`` without
    re-encoding (PyAV's remux recipe): a fragmented MP4/MOV becomes a regular one, with one
    index at its end. Returns ``dst``.

    Raises:
        av.error.FFmpegError, OSError: ``src`` cannot be read or ``dst`` written.
    """
    with av.open(str(src)) as inp, av.open(str(dst), "w", format=fmt) as out:
        streams = {s.index: out.add_stream_from_template(s) for s in inp.streams if s.type in ("video", "audio")}
        for packet in inp.demux(*(s for s in inp.streams if s.index in streams)):
            if packet.dts is None:  # the demuxer's empty packet at the end of a stream
                continue
            packet.stream = streams[packet.stream.index]
            out.mux(packet)
    return dst


def guess_format(path: Path) -> str:
    """The muxer FFmpeg writes ``path`` with (:data:`VIDEO_FORMATS`, else guessed from its
    extension); nothing is created on disk.

    Raises:
        OutputError: FFmpeg writes no video format with that extension (``out.txt``).
    """
    path = Path(path)
    fmt = VIDEO_FORMATS.get(path.suffix.lower())
    if fmt:
        return fmt
    try:
        with av.open(str(path), mode="w") as c:  # an output is created on disk only by its first packet
            return c.format.name
    except (ValueError, av.error.FFmpegError):
        ext = path.suffix or "a name without an extension"
        raise OutputError(f"{path.name}: {ext} is not a video file type; use {_SUGGESTED}") from None


def check_output(path: Path, settings: "EncoderSettings | None" = None) -> str:
    """Check, before anything loads or is written, that ``settings`` can write a video to
    ``path``: the extension is a video format, the codec exists and encodes video in its pixel
    format, the container takes the codec, ``--preset`` and ``--bitrate`` are valid. Returns the
    muxer name.

    Raises:
        OutputError: one line naming what is wrong (``out.txt: .txt is not a video file type``,
            ``out.gif: .gif files cannot hold libx264 video``, ``--preset nosuch: ...``).
    """
    import io

    s = settings or EncoderSettings()
    fmt = guess_format(path)
    try:
        codec = av.codec.Codec(s.codec, "w")
    except (av.error.FFmpegError, ValueError):
        raise OutputError(f"--codec {s.codec}: no such video encoder in this FFmpeg (e.g. libx264, libx265, libvpx-vp9)") from None
    if codec.type != "video":
        raise OutputError(f"--codec {s.codec} is an {codec.type} encoder, not a video one (e.g. libx264)")
    formats = [f.name for f in (codec.video_formats or ())]
    if formats and s.pix_fmt not in formats:
        raise OutputError(f"--codec {s.codec} cannot encode {s.pix_fmt} pictures (it takes {', '.join(formats[:6])})")
    with av.open(io.BytesIO(), mode="w", format=fmt) as c:  # in memory: the container's own codec check
        try:
            c.add_stream(s.codec, rate=25)
        except (ValueError, av.error.FFmpegError):
            ext = Path(path).suffix.lower() or fmt
            raise OutputError(
                f"{Path(path).name}: {ext} files cannot hold {codec.name} video (--codec, default libx264); use {_SUGGESTED}"
            ) from None
    if s.preset is not None and codec.name in ("libx264", "libx265"):
        if s.preset not in X264_PRESETS:
            raise OutputError(f"--preset {s.preset}: {codec.name} knows {', '.join(X264_PRESETS)}")
    if s.bitrate:
        parse_bitrate(s.bitrate)
    return fmt


def _os_error_message(exc: BaseException) -> str:
    code = getattr(exc, "errno", None)
    if code in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
        return "disk full (or file too large for this file system)"
    return getattr(exc, "strerror", None) or str(exc)


class ThreadedVideoWriter:
    """What :class:`VideoEncoder` and :class:`~streamseg.sinks.alpha_writer.AlphaVideoWriter`
    share: a writer thread behind a bounded queue, strictly increasing timestamps, the input's
    audio interleaved, the file written under the partial name and renamed by :meth:`finish`.

    A subclass sets up its stream in :meth:`_open` (with :meth:`_open_stream` and
    :meth:`_open_audio`), turns a queued picture into an ``av.VideoFrame`` in :meth:`_frame`, and
    may check or convert pictures in the caller's thread in :meth:`_accept`.
    """

    #: what :meth:`write` says when the writer thread is gone
    _writer_name = "video writer"
    #: the writer thread's name
    _thread_name = "streamseg-encode"

    def _setup(self, width: int, height: int, fps: Fraction, time_base: Fraction | None, queue_size: int) -> None:
        """The state both writers keep (``self.path`` is set first)."""
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
        self._stop_queued = False
        self._kept: Path | None = None

    def _start(self, audio_from: Path | None) -> None:
        self._open(audio_from)
        self._thread = threading.Thread(target=self._run, name=self._thread_name, daemon=True)
        self._thread.start()

    @staticmethod
    def _error_text(exc: BaseException) -> str:
        return _os_error_message(exc)

    def _open(self, audio_from: Path | None) -> None:
        raise NotImplementedError

    def _open_stream(self, fmt: str | None, codec: str, width: int, height: int, pix_fmt: str, unavailable: str):
        """Open the container under the partial name and add its video stream (size, pixel
        format, time base set). ``unavailable`` starts the error when ``codec`` cannot be added.

        Raises:
            OutputError: the file cannot be opened or the codec is not available.
        """
        self.format = fmt or guess_format(self.path)
        try:
            self.container = av.open(str(self.tmp), mode="w", format=self.format, options=crash_safe_options(self.format))
        except (av.error.FFmpegError, OSError) as exc:
            raise OutputError(f"cannot write {self.tmp}: {self._error_text(exc)}") from None
        try:
            stream = self.container.add_stream(codec, rate=self.fps)
        except (av.error.FFmpegError, ValueError) as exc:
            self.container.close()
            discard(self.tmp)
            raise OutputError(f"{unavailable}: {exc}") from None
        stream.width, stream.height = width, height
        stream.pix_fmt = pix_fmt
        stream.time_base = self.time_base
        stream.codec_context.time_base = self.time_base
        return stream

    def _open_audio(self, audio_from: Path | None) -> None:
        """Copy the first audio track of ``audio_from`` (a warning when it cannot be)."""
        self.audio: AudioCopy | None = None
        if audio_from is not None:
            try:
                self.audio = AudioCopy(audio_from, self.container)
            except (av.error.FFmpegError, ValueError, IndexError) as exc:
                log.warn(f"audio track not copied: {exc}")
                self.audio = None

    def _fit_size(self, image: np.ndarray, interpolation: int = cv2.INTER_AREA) -> np.ndarray:
        """``image`` resized to the output size when it is another (one warning the first time)."""
        h, w = image.shape[:2]
        if (w, h) != (self.width, self.height):
            if not self._warned_resize:
                log.warn(f"frame size changed to {w}x{h}; resizing to the output size {self.width}x{self.height}")
                self._warned_resize = True
            image = cv2.resize(image, (self.width, self.height), interpolation=interpolation)
        return image

    def _accept(self, image: np.ndarray) -> np.ndarray:
        """A picture given to :meth:`write`, checked or converted in the caller's thread."""
        return image

    def _frame(self, image: np.ndarray) -> av.VideoFrame:
        raise NotImplementedError

    def write(self, image: np.ndarray, pts: int | None = None, time_s: float | None = None) -> None:
        """Queue one frame. ``pts`` is in ``time_base``; without it the time ``time_s``
        (seconds) or the frame count sets the timestamp.

        Raises:
            OutputError: the writer thread failed (disk full, permission...).
        """
        image = self._accept(image)
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
                    raise OutputError(f"{self._writer_name} stopped unexpectedly")

    def _as_output_error(self, exc: BaseException) -> OutputError:
        if isinstance(exc, OutputError):
            return exc
        return OutputError(f"writing {self.tmp} failed: {self._error_text(exc)}")

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                break
            if self._error is not None:
                continue  # drain after a failure
            image, pts = item
            try:
                t0 = time.perf_counter()
                self._encode(image, pts)
                self.encode_seconds += time.perf_counter() - t0
            except BaseException as exc:  # noqa: BLE001 - surfaced by write()/finish()
                self._error = exc

    def _encode(self, image: np.ndarray, pts: int) -> None:
        if self._last_pts is not None and pts <= self._last_pts:
            pts = self._last_pts + 1  # keep timestamps strictly increasing (broken or repeated pts)
        self._last_pts = pts
        frame = self._frame(image)
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
        # a KeyboardInterrupt (a second Ctrl-C) during the join leaves _closed unset, so the
        # cleanup path's abort() finishes the close instead of leaving the file unfinalised
        if not self._stop_queued:
            self._queue.put(None)
            self._stop_queued = True
        self._thread.join()
        self._closed = True
        interrupted: KeyboardInterrupt | None = None  # not a write error: what was written stays
        try:
            if self._error is None:
                for packet in self.stream.encode(None):
                    self.container.mux(packet)
                if self.audio is not None:
                    self.audio.feed_until(None)
        except KeyboardInterrupt as exc:
            interrupted = exc
        except BaseException as exc:  # noqa: BLE001
            self._error = self._error or exc
        finally:
            if self.audio is not None:
                self.audio.close()
            try:
                self.container.close()
            except KeyboardInterrupt as exc:
                interrupted = interrupted or exc
            except BaseException as exc:  # noqa: BLE001
                self._error = self._error or exc
        if interrupted is not None:
            raise interrupted

    def finish(self) -> Path:
        """Flush, close and rename to the final name. Returns the final path.

        Raises:
            OutputError: writing failed; the temporary file is removed.
        """
        self._close_container()
        if self._error is not None:
            discard(self.tmp)
            raise self._as_output_error(self._error)
        if self.format in _FRAGMENTED:
            return self._commit_remuxed()
        return commit(self.tmp, self.path)

    def _commit_remuxed(self) -> Path:
        """The fragmented partial file remuxed into a regular MP4/MOV under the final name; when
        the remux fails, the fragmented file itself (a valid MP4, one warning)."""
        staged = self.tmp.with_name(f"{self.path.stem}.partial.remux{self.path.suffix}")
        try:
            remux(self.tmp, staged, self.format)
        except (av.error.FFmpegError, OSError, ValueError) as exc:
            discard(staged)
            log.warn(f"{self.path}: kept as written (fragmented MP4), the remux failed: {self._error_text(exc)}")
            return commit(self.tmp, self.path)
        except BaseException:  # Ctrl-C during the remux: the partial file stays, the half copy goes
            discard(staged)
            raise
        final = commit(staged, self.path)
        discard(self.tmp)
        return final

    def abort(self, keep_partial: bool) -> Path | None:
        """Close what was written (playable) and keep it under the partial name, or delete it."""
        if self._kept is not None:
            return self._kept  # already settled (a second abort from a cleanup path)
        self._close_container()
        if keep_partial and self._error is None and self.frames_written > 0 and self.tmp.exists():
            self._kept = self.tmp
            return self.tmp
        discard(self.tmp)
        return None


class VideoEncoder(ThreadedVideoWriter):
    """Writes BGR uint8 frames to ``path`` with PyAV in a writer thread.

    Args:
        path: final output path (the file is written as ``<stem>.partial<ext>`` first).
        width, height: output size, kept as it is: an odd size with libx264/libx265, which
            cannot encode 4:2:0 at odd sizes, is encoded as yuv444p (High 4:4:4; a note says so);
            with an encoder not known to take odd 4:2:0 sizes it is padded to even (a note says so).
        fps: nominal rate (also the time base when frames come without ``pts``).
        time_base: time base of the ``pts`` passed to :meth:`write` (the input stream's).
        settings: codec, quality and preset.
        audio_from: a file whose first audio track is copied into the output.
        queue_size: frames buffered for the writer thread.
    """

    def __init__(
        self,
        path: str | Path,
        width: int,
        height: int,
        fps: Fraction,
        time_base: Fraction | None = None,
        settings: EncoderSettings | None = None,
        audio_from: Path | None = None,
        queue_size: int = 16,
    ) -> None:
        self.path = Path(path)
        self.settings = settings or EncoderSettings()
        self._setup(width, height, fps, time_base, queue_size)
        self._yuv: np.ndarray | None = None  # reused yuv420p/yuv444p buffer of grey frames (writer thread only)
        self.enc_width, self.enc_height = self.width, self.height
        #: the pixel format encoded (the settings' one, or yuv444p for an odd size, see above)
        self.pix_fmt = self.settings.pix_fmt
        odd = self.width % 2 or self.height % 2
        if odd and self.pix_fmt == "yuv420p" and self.settings.codec in _ODD_SIZE_444:
            self.pix_fmt = "yuv444p"
            log.info(
                f"odd frame size {self.width}x{self.height}: encoded as yuv444p (H.264/HEVC 4:2:0 needs even sides) "
                "to keep the size; browsers, QuickTime and hardware decoders may not play it "
                "(--codec libvpx-vp9 keeps the size in 4:2:0)"
            )
        elif odd and self.pix_fmt == "yuv420p" and self.settings.codec not in _ODD_SIZE_420:
            self.enc_width, self.enc_height = self.width + self.width % 2, self.height + self.height % 2
            log.info(
                f"odd frame size {self.width}x{self.height}: padded to {self.enc_width}x{self.enc_height} "
                f"for {self.settings.codec} (4:2:0 needs even sides)"
            )
        self._start(audio_from)

    def _open(self, audio_from: Path | None) -> None:
        s = self.settings
        stream = self._open_stream(
            self._format(), s.codec, self.enc_width, self.enc_height, self.pix_fmt, f"unknown or unavailable --codec {s.codec!r}"
        )
        opts: dict[str, str] = {}
        if s.bitrate:
            stream.bit_rate = parse_bitrate(s.bitrate)
        elif s.crf is not None and s.codec in ("libx264", "libx265", "h264", "hevc"):
            opts["crf"] = str(s.crf)
        if s.codec in ("libx264", "libx265", "h264", "hevc"):
            opts["preset"] = s.preset or PICTURE_PRESET
        threads = s.threads
        if not threads:
            from streamseg.threads import plan

            threads = plan().encode  # the encode share of the cores (docs/speed.md)
        if threads > 0:
            stream.codec_context.thread_count = int(threads)
        stream.options = opts
        self.stream = stream
        self._open_audio(audio_from)

    def _format(self) -> str:
        return guess_format(self.path)

    def _prepare(self, image: np.ndarray) -> np.ndarray:
        image = self._fit_size(image)
        if (self.enc_width, self.enc_height) != (self.width, self.height):
            image = cv2.copyMakeBorder(
                image, 0, self.enc_height - self.height, 0, self.enc_width - self.width, cv2.BORDER_REPLICATE
            )
        return np.ascontiguousarray(image)

    @property
    def takes_grey(self) -> bool:
        """Whether :meth:`write` encodes a 2-D (grey or bool) picture without a colour conversion
        (the output is ``yuv420p`` of even sides, or ``yuv444p``)."""
        if self.pix_fmt == "yuv444p":
            return True
        return self.pix_fmt == "yuv420p" and not (self.enc_width % 2 or self.enc_height % 2)

    def _grey_frame(self, grey: np.ndarray) -> av.VideoFrame:
        h, w = grey.shape[:2]
        if (w, h) != (self.width, self.height):
            src = grey.view(np.uint8) if grey.dtype == np.bool_ else grey
            grey = self._fit_size(src, cv2.INTER_NEAREST).astype(grey.dtype, copy=False)
        if self.pix_fmt == "yuv444p":
            self._yuv = grey_to_yuv444p(grey, self._yuv)
            return av.VideoFrame.from_ndarray(self._yuv, format="yuv444p")
        self._yuv = grey_to_yuv420p(grey, self._yuv)
        return av.VideoFrame.from_ndarray(self._yuv, format="yuv420p")

    def _frame(self, image: np.ndarray) -> av.VideoFrame:
        """A BGR uint8 (H, W, 3) picture, or a bool/uint8 (H, W) grey one (a mask: encoded
        straight into the luma plane when :attr:`takes_grey`), as the encoder's frame."""
        if image.ndim == 2:
            if self.takes_grey:
                return self._grey_frame(image)
            g = image.view(np.uint8) * np.uint8(255) if image.dtype == np.bool_ else image
            return av.VideoFrame.from_ndarray(self._prepare(cv2.cvtColor(g, cv2.COLOR_GRAY2BGR)), format="bgr24")
        return av.VideoFrame.from_ndarray(self._prepare(image), format="bgr24")
