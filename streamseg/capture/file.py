"""Video files decoded with PyAV in a background thread; never drops a frame.

What a container says about itself (frame count, duration, frame rate) is a hint: files in the
wild put edit-list and preroll samples in their counts, leave the frame rate out (Matroska, FLV)
or give a wrong one, and start their video after 0. So the source counts a frame as lost only
when the decoder failed on data that was in the file (a damaged packet), or when the file ends
before its own structure says it does (a truncated MP4, Matroska or AVI file).

Example:
    >>> from streamseg.capture.file import FileSource
    >>> from streamseg.paths import demo_clip
    >>> with FileSource(demo_clip()) as src:           # doctest: +SKIP
    ...     first = next(iter(src))
    ...     print(src.info.width, src.info.height, first.image.shape)
    1280 720 (720, 1280, 3)
"""

from __future__ import annotations

import heapq
import os
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import av
import numpy as np

from streamseg.errors import InputError
from streamseg.frames import Frame, VideoInfo

_END = object()

#: video packets read ahead when a file is opened: they measure the frame rate
_HEAD_PACKETS = 32
#: decoded frames held back to put timestamps in order (containers without presentation
#: timestamps, e.g. AVI with B-frames, give the decoder's frames the timestamps of the packets
#: in decode order)
_REORDER_DEPTH = 4
#: decoders whose packets may hold a frame that is never shown (VP8/VP9 alt-ref, AV1): more
#: packets than frames is normal for them
_HIDDEN_FRAME_CODECS = ("vp8", "vp9", "av1", "libvpx", "libvpx-vp9", "libdav1d", "libaom-av1")
#: frame rates a measured one is rounded to when it is within 0.5 % of one
_COMMON_RATES = tuple(Fraction(r) for r in ("24000/1001", "24", "25", "30000/1001", "30", "48", "50", "60000/1001", "60", "90", "100", "120"))
#: containers whose duration is the end time of the last frame (counted from 0), not end - start
_DURATION_IS_END = ("matroska", "webm", "flv")


def check_input_file(path: Path) -> Path:
    """Fail with a one-line :class:`InputError` for a path that cannot be a readable media file."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"input not found: {path}")
    if path.is_dir():
        raise InputError(f"input is a directory, not a file: {path}")
    if not os.access(path, os.R_OK):
        raise InputError(f"no permission to read {path}")
    if path.stat().st_size == 0:
        raise InputError(f"input is empty (0 bytes): {path}")
    return path


def _mp4_boxes(path: Path) -> tuple[list[bytes], int]:
    """The types of an MP4/MOV file's top-level boxes and the offset where the last one ends
    (past the file's size when the file was cut short)."""
    types: list[bytes] = []
    offset = 0
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        while offset + 8 <= size and len(types) < 10000:
            fh.seek(offset)
            head = fh.read(16)
            box_size, kind = int.from_bytes(head[:4], "big"), head[4:8]
            if box_size == 1 and len(head) == 16:
                box_size = int.from_bytes(head[8:16], "big")
            elif box_size == 0:
                box_size = size - offset
            if box_size < 8:
                break
            types.append(kind)
            offset += box_size
    return types, offset


def mp4_without_index(path: Path) -> bool:
    """True for an MP4/MOV file (``ftyp`` first) whose top-level boxes hold no ``moov`` (the
    index, written last): a recording cut off before it was finished."""
    try:
        types, _ = _mp4_boxes(path)
    except OSError:
        return False
    return bool(types) and types[0] == b"ftyp" and b"moov" not in types


def _ebml_vint(data: bytes, pos: int, keep_marker: bool) -> tuple[int | None, int]:
    """An EBML variable-length integer at ``pos``: (value, next position); value ``None`` for the
    reserved "unknown size" (all ones) or bytes that are not one."""
    if pos >= len(data) or data[pos] == 0:
        return None, len(data)
    first = data[pos]
    length = 8 - first.bit_length() + 1
    if pos + length > len(data):
        return None, len(data)
    value = first if keep_marker else first & (0xFF >> length)
    for b in data[pos + 1 : pos + length]:
        value = (value << 8) | b
    if not keep_marker and value == (1 << (7 * length)) - 1:
        return None, pos + length
    return value, pos + length


def declared_size(path: Path) -> int | None:
    """The size in bytes a video file's own structure says it has: the end of the last top-level
    box of an MP4/MOV, of the Segment of a Matroska/WebM, of the last RIFF chunk of an AVI.
    ``None`` for formats that do not say (MPEG-TS, FLV) or a live recording of unknown size.

    A file shorter than this was cut off (copy interrupted, recording stopped by a crash).
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(64)
            size = os.fstat(fh.fileno()).st_size
            if head[4:8] in (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip"):
                return _mp4_boxes(path)[1]
            if head[:4] == b"\x1a\x45\xdf\xa3":  # EBML
                head_size, pos = _ebml_vint(head, 4, keep_marker=False)
                if head_size is None:
                    return None
                fh.seek(pos + head_size)
                seg = fh.read(12)
                seg_id, p = _ebml_vint(seg, 0, keep_marker=True)
                if seg_id != 0x18538067:
                    return None
                seg_size, p = _ebml_vint(seg, p, keep_marker=False)
                return None if seg_size is None else pos + head_size + p + seg_size
            if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
                offset = 0
                while offset + 8 <= size:
                    fh.seek(offset)
                    chunk = fh.read(8)
                    if chunk[:4] != b"RIFF":
                        break
                    offset += 8 + int.from_bytes(chunk[4:8], "little") + (int.from_bytes(chunk[4:8], "little") & 1)
                return offset
    except OSError:
        return None
    return None


def _open(path: Path) -> av.container.InputContainer:
    try:
        return av.open(str(path), mode="r")
    except av.error.FFmpegError as exc:
        if mp4_without_index(path):
            raise InputError(
                f"{path} has no index (no moov box): the recording was probably cut off while it was being "
                "written (crash, power loss, full disk) and cannot be read as it is"
            ) from None
        raise InputError(f"cannot open {path} as a video: {exc.strerror or exc}") from None


def _decoder_threads(stream: av.video.stream.VideoStream) -> None:
    """Frame/slice threading with the decode share of the cores (:func:`streamseg.threads.plan`)."""
    from streamseg.threads import plan

    n = plan().decode
    stream.thread_type = "AUTO"
    if n > 0:
        stream.codec_context.thread_count = n


@dataclass(frozen=True)
class Orientation:
    """How to turn a decoded picture to show it as the file's display matrix says: an optional
    transpose, then flips of rows and columns. One of the eight quarter turns and mirrors
    (the display matrix's rotation snapped to a quarter turn), as FFmpeg's ``-autorotate`` does.

    Example:
        >>> img = np.arange(6).reshape(2, 3)
        >>> Orientation.from_matrix([0, -65536, 0, 65536, 0, 0, 0, 0, 1 << 30]).apply(img).tolist()
        [[2, 5], [1, 4], [0, 3]]
        >>> Orientation.from_matrix([0, 65536, 0, 65536, 0, 0, 0, 0, 1 << 30]).mirrored
        True
    """

    transpose: bool = False
    flip_rows: bool = False
    flip_cols: bool = False

    @classmethod
    def from_matrix(cls, matrix) -> "Orientation":
        """From the 9 integers of an FFmpeg display matrix (16.16 fixed point, row-major:
        ``a b u / c d v / x y w``; a source point ``(p, q)`` goes to ``(a p + c q, b p + d q)``)."""
        a, b, _, c, d = (int(v) for v in list(matrix)[:5])
        if abs(a) + abs(d) >= abs(b) + abs(c):  # no quarter turn: the axes stay, maybe mirrored
            return cls(False, d < 0, a < 0)
        return cls(True, b < 0, c < 0)

    @property
    def identity(self) -> bool:
        return not (self.transpose or self.flip_rows or self.flip_cols)

    @property
    def mirrored(self) -> bool:
        """Whether the picture is mirrored (the matrix has a reflection), not only turned."""
        return self.transpose != (self.flip_rows != self.flip_cols)

    @property
    def rotation(self) -> int:
        """Degrees clockwise of the turn; when :attr:`mirrored`, the turned picture is then
        mirrored left-right."""
        rows, cols = self.flip_rows, self.flip_cols
        if self.mirrored:
            cols = not cols  # undo a left-right mirror applied last
        if self.transpose:
            return 90 if cols else 270
        return 180 if rows else 0

    def apply(self, img: np.ndarray) -> np.ndarray:
        """``img`` (H, W[, C]) turned and mirrored (a view when nothing is to be done)."""
        if self.transpose:
            img = img.swapaxes(0, 1)
        return img[:: -1 if self.flip_rows else 1, :: -1 if self.flip_cols else 1]


def _display_orientation(frame: av.VideoFrame) -> Orientation:
    """The orientation the display matrix of a decoded ``frame`` asks for (FFmpeg attaches the
    container's matrix to every frame)."""
    try:
        for sd in frame.side_data:
            if str(sd.type).endswith("DISPLAYMATRIX"):
                return Orientation.from_matrix(np.frombuffer(bytes(sd), np.int32)[:9])  # native byte order
    except (ValueError, TypeError, AttributeError):
        pass  # a side data type this PyAV does not know: only the rotation is readable
    ccw = int(round(getattr(frame, "rotation", 0) or 0)) % 360
    turns = {90: Orientation(True, True, False), 180: Orientation(False, True, True), 270: Orientation(True, False, True)}
    return turns.get(ccw, Orientation())


def _measured_rate(pts: list[int], time_base: Fraction | None) -> Fraction | None:
    """The frame rate the timestamps of some packets show, or ``None``: the mean of the gaps
    between consecutive timestamps near their median (packets read in decode order miss some
    B-frames between them; a rounded time base makes gaps of 33 and 34 ms)."""
    ts = sorted(set(pts))
    if len(ts) < 3 or not time_base:
        return None
    gaps = sorted(b - a for a, b in zip(ts, ts[1:]))
    median = gaps[len(gaps) // 2]
    near = [g for g in gaps if abs(g - median) * 4 <= median]
    interval = Fraction(sum(near), len(near)) * time_base
    return 1 / interval if interval > 0 else None


def _rate(stream: av.video.stream.VideoStream, measured: Fraction | None = None) -> Fraction:
    """The container's frame rate when it agrees with the packets' timestamps (within 3 %),
    else the measured one: a rate of 1/time_base (Matroska and FLV say none) or a field rate is
    not the frame rate."""
    declared = [Fraction(r) for r in (stream.average_rate, stream.guessed_rate, stream.base_rate) if r]
    if measured:
        for r in declared:
            if abs(r - measured) <= measured * Fraction(3, 100):
                return r
        nearest = min(_COMMON_RATES, key=lambda r: abs(r - measured))
        if abs(nearest - measured) <= measured / 200:  # a time base of 1 ms rounds 29.97 fps to 29.99
            return nearest
        return measured.limit_denominator(1001)
    return declared[0] if declared else Fraction(30)


def probe_video(path: str | Path) -> VideoInfo:
    """Read a file's video properties without decoding it.

    Raises:
        InputError: missing, unreadable, not a media file, or no video stream.
    """
    path = check_input_file(Path(path))
    with _open(path) as c:
        pts: list[int] = []
        if c.streams.video:
            try:  # the first packets' timestamps measure the frame rate (nothing is decoded)
                for p in c.demux(c.streams.video[0]):
                    if p.pts is not None and p.size and not p.is_discard:
                        pts.append(p.pts)
                    if len(pts) >= _HEAD_PACKETS:
                        break
            except av.error.FFmpegError:
                pass
        return _info(c, path, pts)


def _usable_entries(stream: av.video.stream.VideoStream) -> list:
    """The index entries of ``stream`` that hold a frame to show: not empty (AVI's dropped-frame
    entries) and not discarded (MP4 edit-list and preroll samples)."""
    try:
        return [e for e in stream.index_entries if e.size > 0 and not e.is_discard]
    except (AttributeError, av.error.FFmpegError):
        return []


def _info(c: av.container.InputContainer, path: Path, head_pts: list[int] | None = None) -> VideoInfo:
    if not c.streams.video:
        kinds = ", ".join(sorted({s.type for s in c.streams})) or "no streams"
        raise InputError(f"{path} has no video stream ({kinds})")
    vs = c.streams.video[0]
    cc = vs.codec_context
    if not cc.width or not cc.height:
        raise InputError(f"{path}: video stream has no frame size (corrupt header?)")
    fps = _rate(vs, _measured_rate(head_pts or [], vs.time_base))
    duration = None
    if vs.duration and vs.time_base:
        duration = float(vs.duration * vs.time_base)
    elif c.duration:
        duration = c.duration / av.time_base
        if c.format.name.split(",")[0] in _DURATION_IS_END and vs.start_time and vs.time_base:
            duration -= float(vs.start_time * vs.time_base)
    # a hint for progress bars: samples in the index that are shown, else the header's count,
    # else the duration at the frame rate
    entries = _usable_entries(vs) if vs.frames else []
    if entries and len(entries) >= 0.9 * vs.frames:
        count, exact = len(entries), True
    else:
        count, exact = (vs.frames or None), False
    if count is None and duration:
        count = round(duration * float(fps)) or None
    return VideoInfo(
        width=cc.width,
        height=cc.height,
        fps=fps,
        frame_count=count,
        frame_count_exact=exact,
        duration=duration,
        time_base=vs.time_base,
        has_audio=bool(c.streams.audio),
        live=False,
        source=str(path),
    )


class _Reorder:
    """Frames in the order the decoder gives them, with their timestamps put in increasing
    order over a window of ``depth`` frames: a container without presentation timestamps (AVI)
    gets its packets' decode-order timestamps, which the decoder hands to the wrong frames.
    Timestamps that already increase come out unchanged; a jump back beyond the window (a
    restarted stream) is passed on as it is."""

    def __init__(self, depth: int) -> None:
        self.depth = depth
        self.frames: deque = deque()
        self.heap: list[int] = []
        self.last: int | None = None

    def push(self, frame: av.VideoFrame) -> list[tuple[av.VideoFrame, int | None]]:
        pts = frame.pts
        if self.depth == 0 or pts is None or (self.last is not None and pts < self.last):
            out = self.flush()
            out.append((frame, pts))
            if pts is not None:
                self.last = pts
            return out
        self.frames.append(frame)
        heapq.heappush(self.heap, pts)
        out = []
        while len(self.frames) > self.depth:
            out.append((self.frames.popleft(), self._take()))
        return out

    def _take(self) -> int:
        self.last = heapq.heappop(self.heap)
        return self.last

    def flush(self) -> list[tuple[av.VideoFrame, int | None]]:
        out = [(f, self._take()) for f in self.frames]
        self.frames.clear()
        return out


class FileSource:
    """Decode a video file in a thread into a bounded queue of :class:`Frame` (BGR uint8).

    Frames keep their presentation timestamps (``Frame.pts`` in ``info.time_base``) so the
    encoder reproduces the timing, variable frame rates included. The display matrix (phone
    videos: a rotation, maybe a mirror) is applied so frames come out as they are shown;
    ``info`` then has the displayed size, ``info.rotation`` and ``info.mirrored`` say what was done.
    Damaged packets are skipped and counted in ``errors``; after the iteration ends,
    ``decoded`` says how many frames came out, ``lost`` how many could not be decoded (see
    :attr:`lost`) and ``truncated`` whether the file ends before its structure says.

    Args:
        path: the video file.
        queue_size: frames decoded ahead (bounds memory).

    Raises:
        InputError: the file cannot be opened or has no video stream.
    """

    def __init__(self, path: str | Path, queue_size: int = 8) -> None:
        self.path = check_input_file(Path(path))
        self._container = _open(self.path)
        self._queue: queue.Queue = queue.Queue(maxsize=queue_size)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.decoded = 0
        #: packets with data that the decoder was given (discarded edit-list samples not counted)
        self.packets = 0
        self._last_time: float | None = None
        #: times a frame's timestamp went back (after the iteration)
        self.backwards = 0
        self.errors = 0
        self.decode_seconds = 0.0
        self.error_messages: list[str] = []
        self._exc: BaseException | None = None
        try:
            if not self._container.streams.video:
                _info(self._container, self.path)  # raises the "no video stream" error
            self._stream = self._container.streams.video[0]
            _decoder_threads(self._stream)
            self._packets = self._container.demux(self._stream)
            self._head = self._read_head()
            self.info = _info(self._container, self.path, [p.pts for p in self._head if p.pts is not None and p.size and not p.is_discard])
            # the first frame is decoded now, without seeking back afterwards: its display matrix
            # tells the orientation, and a seek to 0 would land after an edit list's first frames
            self._early = self._decode_until_first_frame()
        except Exception:
            self._container.close()
            raise
        self.orientation = _display_orientation(self._early[0]) if self._early else Orientation()
        self.info.rotation = self.orientation.rotation
        self.info.mirrored = self.orientation.mirrored
        if self.orientation.transpose:
            self.info.width, self.info.height = self.info.height, self.info.width
        depth = _REORDER_DEPTH if self._stream.codec_context.has_b_frames else 0
        self._reorder = _Reorder(depth)
        self._size = self.path.stat().st_size
        declared = declared_size(self.path)
        #: the file ends before its own structure (box, segment or chunk sizes) says it does
        self.truncated = declared is not None and declared > self._size

    def _read_head(self) -> list[av.Packet]:
        head: list[av.Packet] = []
        try:
            for p in self._packets:
                head.append(p)
                if len(head) >= _HEAD_PACKETS:
                    break
        except av.error.FFmpegError as exc:
            self._exc = exc
        return head

    def _decode(self, packet: av.Packet) -> list[av.VideoFrame]:
        """Decode one packet; a failure is counted (``errors``) and gives no frame."""
        if packet.size and not packet.is_discard:
            self.packets += 1
        t0 = time.perf_counter()
        try:
            frames = packet.decode()
        except av.error.FFmpegError as exc:
            self.errors += 1
            if len(self.error_messages) < 5:
                self.error_messages.append(str(exc))
            frames = []
        self.decode_seconds += time.perf_counter() - t0
        return frames

    def _decode_until_first_frame(self) -> list[av.VideoFrame]:
        frames: list[av.VideoFrame] = []
        while self._head and not frames:
            frames = self._decode(self._head.pop(0))
        return frames

    @property
    def lost(self) -> int:
        """Frames that could not be decoded: the packets the decoder failed on or that gave no
        frame (but in codecs with hidden frames), plus the frames the index places past the end
        of the file (a :attr:`truncated` file, or a damaged index), else, for a truncated file,
        an estimate from its header count or duration (see :attr:`lost_exact`). 0 for a file that decodes without an error and is
        whole, whatever its header's frame count and duration say."""
        n = self.errors
        if self._stream.codec_context.name not in _HIDDEN_FRAME_CODECS:
            # a damaged packet the decoder swallows without an error still gives no frame
            n = max(n, self.packets - self.decoded)
        entries = _usable_entries(self._stream)
        if self._index_past_end(entries):
            # the index lists every frame: a truncated file's cut ones, or frames a damaged
            # index sends past the end of a whole file, where the demuxer stops
            return max(n, len(entries) - self.decoded)
        if self.truncated:
            n += self._missing_at_end()[0]
        return n

    def _index_past_end(self, entries: list | None = None) -> bool:
        """Whether the container's index has frames past the end of the file."""
        entries = _usable_entries(self._stream) if entries is None else entries
        return any(e.pos + e.size > self._size for e in entries)

    @property
    def lost_exact(self) -> bool:
        """Whether :attr:`lost` is a count (damaged packets, index entries past the end) rather
        than an estimate from a header's frame count or duration."""
        return not self.truncated or self._missing_at_end()[1]

    @property
    def damage(self) -> str:
        """What went wrong, for messages: ``truncated file ...`` and/or ``N damaged packets``
        (empty when nothing did)."""
        parts = []
        if self.truncated:
            parts.append("truncated file: it ends before the size its header gives")
        elif self._index_past_end():
            parts.append("damaged index: it places frames past the end of the file")
        silent = self.packets - self.decoded if self._stream.codec_context.name not in _HIDDEN_FRAME_CODECS else 0
        if self.errors:
            parts.append(f"{self.errors} damaged packet{'s' if self.errors != 1 else ''}")
        elif silent > 0:
            parts.append(f"{silent} damaged packet{'s' if silent != 1 else ''} (no frame came out of {'them' if silent != 1 else 'it'})")
        return "; ".join(parts)

    def _missing_at_end(self) -> tuple[int, bool]:
        """(frames past the end of a truncated file, whether that is a count)."""
        vs = self._stream
        if any(e.pos + e.size > self._size for e in _usable_entries(vs)):
            return 0, True  # counted by :attr:`lost` from the index
        if vs.frames and vs.frames > self.packets:
            return vs.frames - self.packets, False
        c = self._container
        if c.duration and self._last_time is not None:
            end = c.duration / av.time_base
            if c.format.name.split(",")[0] not in _DURATION_IS_END and c.start_time:
                end += c.start_time / av.time_base
            interval = 1 / float(self.info.fps)
            return max(0, round((end - self._last_time - interval) / interval)), False
        return 0, False

    def _to_bgr(self, frame: av.VideoFrame) -> np.ndarray:
        img = frame.to_ndarray(format="bgr24")
        if not self.orientation.identity:
            img = np.ascontiguousarray(self.orientation.apply(img))
        return img

    def _put(self, frame: av.VideoFrame, pts: int | None) -> bool:
        """Convert and queue one frame; False when the source was stopped."""
        t0 = time.perf_counter()
        img = self._to_bgr(frame)
        self.decode_seconds += time.perf_counter() - t0
        tb = self._stream.time_base
        t = float(pts * tb) if pts is not None and tb else self.decoded / float(self.info.fps)
        item = Frame(image=img, index=self.decoded, time=t, pts=pts, captured_at=time.perf_counter())
        self.decoded += 1
        if self._last_time is not None and t < self._last_time:
            self.backwards += 1
        self._last_time = t
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _emit(self, frames: list[av.VideoFrame]) -> bool:
        for frame in frames:
            for fr, pts in self._reorder.push(frame):
                if not self._put(fr, pts):
                    return False
        return not self._stop.is_set()

    def _run(self) -> None:
        try:
            ok = self._emit(self._early)
            self._early = []
            while ok and self._head:
                ok = self._emit(self._decode(self._head.pop(0)))
            if ok and self._exc is None:
                for packet in self._packets:
                    if not self._emit(self._decode(packet)):
                        break
            for fr, pts in self._reorder.flush():
                if not self._put(fr, pts):
                    break
        except BaseException as exc:  # noqa: BLE001 - reported to the consumer
            self._exc = exc
        finally:
            while True:
                try:
                    self._queue.put(_END, timeout=0.1)
                    break
                except queue.Full:
                    if self._stop.is_set():
                        break

    def __iter__(self) -> Iterator[Frame]:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="streamseg-decode", daemon=True)
            self._thread.start()
        while True:
            item = self._queue.get()
            if item is _END:
                break
            yield item
        if self._exc is not None and not isinstance(self._exc, av.error.FFmpegError):
            raise self._exc
        if self._exc is not None:
            self.errors += 1
            self.error_messages.append(str(self._exc))

    def close(self) -> None:
        """Stop the decode thread and close the file."""
        self._stop.set()
        if self._thread is not None:
            while self._thread.is_alive():
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    pass
                self._thread.join(timeout=0.05)
        self._container.close()

    def __enter__(self) -> "FileSource":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
