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
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from streamseg import log
from streamseg.errors import OutputError
from streamseg.sinks.output_path import commit, discard, partial_path

#: audio codecs each container takes as a stream copy; others are re-encoded
_COPYABLE = {
    "mp4": {"aac", "mp3", "alac", "ac3", "eac3", "opus", "flac"},
    "mov": {"aac", "mp3", "alac", "ac3", "eac3", "pcm_s16le", "pcm_s24le", "pcm_f32le"},
    "matroska": None,  # anything
    "webm": {"opus", "vorbis"},
}
_AUDIO_ENCODER = {"webm": "libopus"}
#: encoders that cannot take 4:2:0 pictures of odd sizes but take 4:4:4 ones (H.264, HEVC)
_ODD_SIZE_444 = ("libx264", "libx265", "h264", "hevc")
#: encoders that take 4:2:0 pictures of odd sizes (others get them padded to even)
_ODD_SIZE_420 = ("libvpx-vp9", "libvpx", "mpeg4", "libsvtav1")

#: x264 preset of mask videos when ``--preset`` is not given: a binary luma picture compresses
#: well at any preset, so the fastest one wins (benchmarks/mask_encode.py, docs/speed.md)
MASK_PRESET = "ultrafast"
#: x264 preset of picture videos (overlay, cutout, side-by-side) when ``--preset`` is not given
PICTURE_PRESET = "veryfast"
#: the presets x264 and x265 know (``--preset``)
X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo")
#: extension -> muxer where the name alone is not enough (``.m4v``) or PyAV would guess another
VIDEO_FORMATS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska", ".webm": "webm", ".avi": "avi"}
#: what the errors suggest
_SUGGESTED = ".mp4, .mkv, .mov, .webm (--codec libvpx-vp9) or .avi"
#: muxers written as fragmented MP4 and remuxed by :meth:`ThreadedVideoWriter.finish`
_FRAGMENTED = ("mp4", "mov", "ipod")

# limited-range ("TV") luma of a grey value: what swscale writes for BGR grey, so a decoder
# gives back exactly 0 and 255 for a mask
_GREY_LUT = np.round(16 + np.arange(256) * (219 / 255)).astype(np.uint8)
_BOOL_LUT = np.full(256, 235, np.uint8)
_BOOL_LUT[0] = 16


def grey_to_yuv420p(grey: np.ndarray, buf: np.ndarray | None = None) -> np.ndarray:
    """A bool mask or uint8 grey (H, W) picture as a (H*3/2, W) yuv420p array, without a colour conversion.

    ``Y`` = the grey value in limited range (a mask: 16 or 235, which decode to 0 and 255),
    ``U = V = 128``. ``buf`` (from an earlier call, same size) is reused: its chroma rows are
    already 128 and only the luma rows are written. Odd sizes are padded by repeating the last
    row/column (the returned array has even sides).

    Example:
        >>> y = grey_to_yuv420p(np.array([[True, False], [False, True]]))
        >>> y.shape, y[:2].tolist(), int(y[2:].min()), int(y[2:].max())
        ((3, 2), [[235, 16], [16, 235]], 128, 128)
    """
    h, w = grey.shape[:2]
    eh, ew = h + h % 2, w + w % 2
    if buf is None or buf.shape != (eh * 3 // 2, ew):
        buf = np.full((eh * 3 // 2, ew), 128, np.uint8)
    src = grey.view(np.uint8) if grey.dtype == np.bool_ else grey
    if src.dtype != np.uint8:
        raise ValueError(f"grey picture must be bool or uint8, got {grey.dtype}")
    lut = _BOOL_LUT if grey.dtype == np.bool_ else _GREY_LUT
    y = buf[:h, :w]
    if ew == w:
        cv2.LUT(np.ascontiguousarray(src), lut, dst=y)
    else:
        y[:] = cv2.LUT(np.ascontiguousarray(src), lut)
        buf[:h, w] = buf[:h, w - 1]
    if eh != h:
        buf[h, :] = buf[h - 1, :]
    return buf


def grey_to_yuv444p(grey: np.ndarray, buf: np.ndarray | None = None) -> np.ndarray:
    """A bool mask or uint8 grey (H, W) picture as a (3, H, W) yuv444p array (the planes Y, U,
    V), as :func:`grey_to_yuv420p` does it: limited-range luma, ``U = V = 128``; any size.
    ``buf`` (from an earlier call, same size) is reused.

    Example:
        >>> y = grey_to_yuv444p(np.array([[True, False, True]]))
        >>> y.shape, y[0].tolist(), int(y[1:].min()), int(y[1:].max())
        ((3, 1, 3), [[235, 16, 235]], 128, 128)
    """
    h, w = grey.shape[:2]
    if buf is None or buf.shape != (3, h, w):
        buf = np.full((3, h, w), 128, np.uint8)
    src = grey.view(np.uint8) if grey.dtype == np.bool_ else grey
    if src.dtype != np.uint8:
        raise ValueError(f"grey picture must be bool or uint8, got {grey.dtype}")
    cv2.LUT(np.ascontiguousarray(src), _BOOL_LUT if grey.dtype == np.bool_ else _GREY_LUT, dst=buf[0])
    return buf


@dataclass
class EncoderSettings:
    """Video encoder settings (``--codec``, ``--crf``, ``--bitrate``, ``--preset``).

    ``preset`` ``None`` = the default of what is encoded: :data:`MASK_PRESET` for mask videos
    (grey frames), :data:`PICTURE_PRESET` for the others. ``threads`` is the encoder's thread
    count (0 = the encode share of :func:`streamseg.threads.plan`).
    """

    codec: str = "libx264"
    crf: int | None = 20
    bitrate: str | None = None
    preset: str | None = None
    pix_fmt: str = "yuv420p"
    threads: int = 0

    def for_output(self, output_type: str) -> "EncoderSettings":
        """These settings with the preset resolved for ``output_type`` (``mask`` -> :data:`MASK_PRESET`)."""
        if self.preset is not None:
            return self
        return replace(self, preset=MASK_PRESET if output_type == "mask" else PICTURE_PRESET)


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
        _parse_bitrate(s.bitrate)
    return fmt


def _parse_bitrate(text: str) -> int:
    t = text.strip().lower()
    mult = 1
    if t.endswith("k"):
        mult, t = 1_000, t[:-1]
    elif t.endswith("m"):
        mult, t = 1_000_000, t[:-1]
    try:
        value = float(t) * mult
    except ValueError:
        raise OutputError(f"invalid --bitrate {text!r} (e.g. 4M or 2500k)") from None
    if value <= 0:
        raise OutputError(f"invalid --bitrate {text!r}: must be positive")
    return int(value)


def _os_error_message(exc: BaseException) -> str:
    code = getattr(exc, "errno", None)
    if code in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
        return "disk full (or file too large for this file system)"
    return getattr(exc, "strerror", None) or str(exc)


class _AudioCopy:
    """Copies the first audio track of ``source`` into ``container``, interleaved with the video:
    a stream copy where the container takes the codec (:data:`_COPYABLE`), else decoded and
    re-encoded (AAC; Opus for WebM), as PyAV's remux and transcode recipes do.

    Every packet and frame keeps its timestamp, so audio that starts before or after the video
    stays where it was. Timestamps that run behind the audio already written (an AVI that counts
    packets instead of time) continue it instead; a gap in a re-encoded track is filled with silence
    so what follows keeps its time.
    """

    def __init__(self, source: Path, container: av.container.OutputContainer) -> None:
        self.input = av.open(str(source))
        in_stream = self.input.streams.audio[0]
        fmt = container.format.name.split(",")[0]
        allowed = _COPYABLE.get(fmt, set())
        codec = _codec_name(in_stream.codec_context)
        self.copy = allowed is None or codec in allowed
        if self.copy:
            self.stream = container.add_stream_from_template(in_stream)
        else:
            enc = _AUDIO_ENCODER.get(fmt, "aac")
            rate = _encoder_rate(enc, in_stream.codec_context.sample_rate or 48000)
            self.stream = container.add_stream(enc, rate=rate)
            layout = in_stream.codec_context.layout
            if layout is not None and layout.name:
                try:
                    self.stream.layout = layout.name
                except (ValueError, av.error.FFmpegError):
                    pass  # the encoder's default layout; the resampler mixes to it
            log.info(f"audio: {codec} cannot be copied into .{fmt}; re-encoding to {enc}")
        self.in_stream = in_stream
        self.container = container
        self._packets = self.input.demux(in_stream)
        self._pending: av.Packet | None = None
        self._next_dts: int | None = None  # where the next packet starts, in the stream's time base
        self._next_pts: int | None = None  # where the next decoded frame starts, in its time base
        self._failed = False
        self.done = False

    def _next(self) -> av.Packet | None:
        if self._pending is not None:
            p, self._pending = self._pending, None
            return p
        for p in self._packets:
            if p.dts is None and p.pts is None:
                continue
            self._continue_time(p)
            return p
        self.done = True
        return None

    def _continue_time(self, p: av.Packet) -> None:
        """Move a packet that starts more than half its length before the end of the one before
        to that end (its pts with it): audio packets do not overlap."""
        dts = p.dts if p.dts is not None else p.pts
        if dts is None or not p.duration:
            return
        if self._next_dts is not None and dts < self._next_dts - p.duration // 2:
            shift = self._next_dts - dts
            p.dts = dts + shift
            if p.pts is not None:
                p.pts += shift
            dts += shift
        self._next_dts = dts + p.duration

    def _encode(self, frames) -> None:
        """Encode decoded frames (``None`` flushes the encoder) at their own timestamps, each one
        following the one before without overlap; a gap of up to :data:`_MAX_AUDIO_GAP_S` is
        filled with silence."""
        for fr in frames:
            todo = [fr]
            if fr is not None:
                # counted in samples: a coarse time base (Matroska's 1 ms) would make the
                # encoder's packets 23 ms long instead of 1024 samples, and the track drift
                tb, rate = fr.time_base or self.in_stream.time_base, fr.sample_rate
                pts = round(fr.pts * tb * rate) if fr.pts is not None and tb else None
                expected = self._next_pts
                if expected is not None and (pts is None or pts - expected <= fr.samples // 2):
                    pts = expected
                elif expected is not None and pts - expected <= _MAX_AUDIO_GAP_S * rate:
                    todo = [*_silence(fr, expected, pts - expected), fr]
                if pts is not None:
                    fr.pts, fr.time_base = pts, Fraction(1, rate)
                    self._next_pts = pts + fr.samples
            try:
                for f in todo:
                    self.container.mux(self.stream.encode(f))
            except (av.error.FFmpegError, ValueError) as exc:
                # e.g. the input changes its sample rate or layout midway: the video goes on
                log.warn(f"audio: re-encoding stopped, the rest of the track is left out: {exc}")
                self._failed = True
                return

    def feed_until(self, seconds: float | None) -> None:
        """Mux audio packets up to ``seconds`` (all remaining ones when ``None``)."""
        while not self.done and not self._failed:
            try:
                p = self._next()
            except av.error.FFmpegError:
                continue  # a corrupt audio packet: skip it, keep the rest
            if p is None:
                break
            ts = p.pts if p.pts is not None else p.dts
            if seconds is not None and float(ts * p.time_base) > seconds:
                self._pending = p
                break
            if self.copy:
                p.stream = self.stream
                self.container.mux(p)
            else:
                try:
                    frames = p.decode()
                except av.error.FFmpegError:
                    continue
                self._encode(frames)
        if seconds is None and not self.copy and not self._failed:
            try:
                rest = self.in_stream.codec_context.decode(None)  # frames the decoder still holds
            except av.error.FFmpegError:
                rest = []
            self._encode([*rest, None])

    def close(self) -> None:
        self.input.close()


#: longest gap (seconds) in a re-encoded audio track filled with silence; a longer one is a
#: broken timestamp, not a pause
_MAX_AUDIO_GAP_S = 10.0


def _codec_name(cc) -> str:
    """The codec's own name (``mp3``), not its decoder's (``mp3float``)."""
    codec = getattr(cc, "codec", None)
    return getattr(codec, "canonical_name", None) or cc.name


def _silence(like: av.AudioFrame, start: int, samples: int) -> list[av.AudioFrame]:
    """Silent frames of ``like``'s format, ``samples`` long from sample ``start``."""
    rate = like.sample_rate
    out, done = [], 0
    while done < samples:
        n = min(4096, samples - done)
        f = av.AudioFrame(format=like.format.name, layout=like.layout.name, samples=n)
        for plane in f.planes:
            plane.update(bytes(plane.buffer_size))
        f.sample_rate = rate
        f.pts, f.time_base = start + done, Fraction(1, rate)
        out.append(f)
        done += n
    return out


def _encoder_rate(encoder: str, rate: int) -> int:
    """``rate`` when ``encoder`` takes it, else the nearest rate above it that it takes (Opus:
    48 kHz), else its highest."""
    try:
        rates = sorted(av.codec.Codec(encoder, "w").audio_rates or ())
    except (av.error.FFmpegError, ValueError):
        return rate
    if not rates or rate in rates:
        return rate
    return next((r for r in rates if r >= rate), rates[-1])


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
        self.audio: _AudioCopy | None = None
        if audio_from is not None:
            try:
                self.audio = _AudioCopy(audio_from, self.container)
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
            stream.bit_rate = _parse_bitrate(s.bitrate)
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


class VideoSink:
    """A :class:`~streamseg.sinks.base.Sink` that encodes one output type of every result.

    Args:
        encoder: the :class:`VideoEncoder` it owns (finished by :meth:`close`).
        output_type: ``mask``, ``overlay``, ``cutout`` or ``side-by-side``.
        use_pts: keep the source's timestamps (files); else the capture time (live sources).
    """

    def __init__(self, encoder: VideoEncoder, output_type: str = "mask", use_pts: bool = True) -> None:
        self.encoder = encoder
        self.output_type = output_type
        self.use_pts = use_pts
        self.path: Path | None = None

    def write(self, result) -> None:
        """Queue ``result.picture(output_type)`` (BGR uint8) at the frame's timestamp; a mask
        nobody rendered goes to the encoder as the bool mask itself (no BGR picture, no colour
        conversion: it becomes the luma plane)."""
        f = result.frame
        if self.output_type == "mask" and "mask" not in result.pictures and self.encoder.takes_grey:
            image = result.mask
        else:
            image = result.picture(self.output_type)
        if self.use_pts and f.pts is not None:
            self.encoder.write(image, pts=f.pts)
        else:
            self.encoder.write(image, time_s=f.time)

    def close(self) -> None:
        """Finish the file and give it its final name (``self.path``)."""
        if self.path is None:
            self.path = self.encoder.finish()

    def abort(self, keep_partial: bool) -> Path | None:
        """Stop; keep what was written under the ``.partial`` name (returned) or delete it."""
        return self.encoder.abort(keep_partial=keep_partial)
