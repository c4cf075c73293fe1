"""Video files decoded with PyAV in a background thread; never drops a frame.

Example:
    >>> from streamseg.capture.file import FileSource
    >>> from streamseg.paths import demo_clip
    >>> with FileSource(demo_clip()) as src:           # doctest: +SKIP
    ...     first = next(iter(src))
    ...     print(src.info.width, src.info.height, first.image.shape)
    1280 720 (720, 1280, 3)
"""

from __future__ import annotations

import os
import queue
import threading
import time
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import av
import numpy as np

from streamseg.errors import InputError
from streamseg.frames import Frame, VideoInfo

_END = object()


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


def mp4_without_index(path: Path) -> bool:
    """True for an MP4/MOV file (``ftyp`` first) whose top-level boxes hold no ``moov`` (the
    index, written last): a recording cut off before it was finished."""
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            offset, types = 0, []
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
    except OSError:
        return False
    return bool(types) and types[0] == b"ftyp" and b"moov" not in types


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


def _rate(stream: av.video.stream.VideoStream) -> Fraction:
    for r in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if r:
            return Fraction(r)
    return Fraction(30)


def probe_video(path: str | Path) -> VideoInfo:
    """Read a file's video properties without decoding it.

    Raises:
        InputError: missing, unreadable, not a media file, or no video stream.
    """
    path = check_input_file(Path(path))
    with _open(path) as c:
        return _info(c, path)


def _info(c: av.container.InputContainer, path: Path) -> VideoInfo:
    if not c.streams.video:
        kinds = ", ".join(sorted({s.type for s in c.streams})) or "no streams"
        raise InputError(f"{path} has no video stream ({kinds})")
    vs = c.streams.video[0]
    cc = vs.codec_context
    if not cc.width or not cc.height:
        raise InputError(f"{path}: video stream has no frame size (corrupt header?)")
    fps = _rate(vs)
    duration = None
    if vs.duration and vs.time_base:
        duration = float(vs.duration * vs.time_base)
    elif c.duration:
        duration = c.duration / av.time_base
    count = vs.frames or None
    exact = count is not None
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


class FileSource:
    """Decode a video file in a thread into a bounded queue of :class:`Frame` (BGR uint8).

    Frames keep their presentation timestamps (``Frame.pts`` in ``info.time_base``) so the
    encoder reproduces the timing, variable frame rates included. Rotation metadata (phone
    videos) is applied so frames come out upright; ``info`` then has the rotated size.
    Corrupt packets are skipped and counted in ``errors``; after the iteration ends,
    ``decoded`` and ``lost`` say how many frames came out and how many the container
    promised but could not be decoded.

    Args:
        path: the video file.
        queue_size: frames decoded ahead (bounds memory).
    """

    def __init__(self, path: str | Path, queue_size: int = 8) -> None:
        self.path = check_input_file(Path(path))
        self._container = _open(self.path)
        try:
            self.info = _info(self._container, self.path)
        except Exception:
            self._container.close()
            raise
        self._stream = self._container.streams.video[0]
        _decoder_threads(self._stream)
        self.info.rotation = self._probe_rotation()
        if self.info.rotation in (90, 270):
            self.info.width, self.info.height = self.info.height, self.info.width
        self._queue: queue.Queue = queue.Queue(maxsize=queue_size)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.decoded = 0
        self._last_time: float | None = None
        #: times a frame's timestamp went back (after the iteration)
        self.backwards = 0
        self.errors = 0
        self.decode_seconds = 0.0
        self.error_messages: list[str] = []
        self._exc: BaseException | None = None

    def _probe_rotation(self) -> int:
        # Decode one frame to read the display matrix; then rewind.
        try:
            for frame in self._container.decode(self._stream):
                rot = int(round(getattr(frame, "rotation", 0) or 0)) % 360
                break
            else:
                rot = 0
        except av.error.FFmpegError:
            rot = 0
        try:
            self._container.seek(0, stream=self._stream)
        except av.error.FFmpegError:
            self._container.close()
            self._container = _open(self.path)
            self._stream = self._container.streams.video[0]
            _decoder_threads(self._stream)
        # PyAV reports the counter-clockwise angle of the display matrix; we rotate clockwise.
        return (-rot) % 360

    @property
    def lost(self) -> int:
        """Frames the container promised but that could not be decoded: the declared count
        minus the decoded one, or, without a count, the time between the last decoded frame
        and the declared duration, in frames (0 when the container says neither)."""
        if self.info.frame_count_exact and self.info.frame_count is not None:
            return max(0, self.info.frame_count - self.decoded)
        if self.backwards:  # timestamps that jump back (a restarted stream): the duration says nothing
            return 0
        if self.info.duration and self._last_time is not None:
            start = float(self._stream.start_time * self._stream.time_base) if self._stream.start_time else 0.0
            missing = self.info.duration + start - (self._last_time + 1 / float(self.info.fps))
            return max(0, int(missing * float(self.info.fps) + 0.25))
        return 0

    def _to_bgr(self, frame: av.VideoFrame) -> np.ndarray:
        img = frame.to_ndarray(format="bgr24")
        rot = self.info.rotation
        if rot == 90:
            img = np.ascontiguousarray(np.rot90(img, k=-1))
        elif rot == 180:
            img = np.ascontiguousarray(img[::-1, ::-1])
        elif rot == 270:
            img = np.ascontiguousarray(np.rot90(img, k=1))
        return img

    def _run(self) -> None:
        tb = self._stream.time_base
        fps = self.info.fps
        try:
            for packet in self._container.demux(self._stream):
                if self._stop.is_set():
                    break
                try:
                    t0 = time.perf_counter()
                    frames = packet.decode()
                except av.error.FFmpegError as exc:
                    self.errors += 1
                    if len(self.error_messages) < 5:
                        self.error_messages.append(str(exc))
                    continue
                for frame in frames:
                    img = self._to_bgr(frame)
                    self.decode_seconds += time.perf_counter() - t0
                    pts = frame.pts
                    t = float(pts * tb) if pts is not None and tb else self.decoded / float(fps)
                    item = Frame(image=img, index=self.decoded, time=t, pts=pts, captured_at=time.perf_counter())
                    self.decoded += 1
                    if self._last_time is not None and t < self._last_time:
                        self.backwards += 1
                    self._last_time = t
                    while not self._stop.is_set():
                        try:
                            self._queue.put(item, timeout=0.1)
                            break
                        except queue.Full:
                            continue
                    t0 = time.perf_counter()
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
