"""Live sources (webcam index, device path, RTSP/HTTP URL) read by a capture thread.

Latency comes first: the thread keeps only the newest frame, so a slow consumer skips stale
frames instead of falling behind. A source that stops sending is reopened with exponential
backoff (unless ``reconnect=False``); the first frame after a reconnect has ``reset=True`` so
temporal state is dropped.

Example:
    >>> parse_source("0"), parse_source("/dev/video2"), parse_source("rtsp://cam/live")
    (0, '/dev/video2', 'rtsp://cam/live')
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from fractions import Fraction

import cv2
import numpy as np

from streamseg import log
from streamseg.errors import InputError
from streamseg.frames import Frame, VideoInfo

URL_SCHEMES = ("rtsp://", "rtsps://", "http://", "https://", "rtmp://", "udp://", "tcp://", "srt://")


def parse_source(source: str | int) -> int | str:
    """A camera index (``"0"`` -> ``0``), a device path or a URL, as OpenCV takes it."""
    if isinstance(source, int):
        return source
    s = str(source).strip()
    if s.isdigit():
        return int(s)
    if not s:
        raise InputError("empty --source")
    return s


def _describe(src: int | str) -> str:
    return f"camera {src}" if isinstance(src, int) else str(src)


@dataclass
class CaptureRequest:
    """What to ask the camera for; ``None`` keeps the driver's default."""

    width: int | None = None
    height: int | None = None
    fps: float | None = None
    mjpg: bool = True
    timeout_s: float = 5.0


class LiveSource:
    """A camera or stream read by a thread that keeps only the newest frame.

    Args:
        source: camera index, device path or URL (see :func:`parse_source`).
        request: resolution/rate wanted; the granted values are in ``info`` after :meth:`open`.
        reconnect: reopen with backoff when the source stops sending (else the run ends).
        max_backoff_s: longest wait between reconnect attempts.
        loop: a video file as source: start again at its end (else the run ends there). A file
            is read at its own frame rate, not as fast as it decodes.
    """

    def __init__(
        self,
        source: str | int,
        request: CaptureRequest | None = None,
        reconnect: bool = True,
        max_backoff_s: float = 5.0,
        loop: bool = False,
    ) -> None:
        self.source = parse_source(source)
        self.loop = loop
        self.is_file = isinstance(self.source, str) and not self.source.lower().startswith(URL_SCHEMES) and os.path.isfile(self.source)
        self.loops = 0
        self.request = request or CaptureRequest()
        self.reconnect = reconnect
        self.max_backoff_s = max_backoff_s
        self.info: VideoInfo | None = None
        self.captured = 0
        self.consumed = 0
        self.reconnects = 0
        self._cap: cv2.VideoCapture | None = None
        self._cond = threading.Condition()
        self._latest: Frame | None = None
        self._ended = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._t0 = 0.0

    @property
    def dropped(self) -> int:
        """Frames captured but never consumed (skipped because a newer one arrived)."""
        return max(0, self.captured - self.consumed)

    def _open_capture(self) -> cv2.VideoCapture:
        src = self.source
        req = self.request
        with log.opencv_silenced():  # one error line of ours, not OpenCV's backend by backend
            cap = self._video_capture()
        if not cap.isOpened():
            cap.release()
            raise InputError(f"cannot open {_describe(src)} (no such camera, or the stream did not answer)")
        if req.mjpg:
            cap.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter_fourcc(*"MJPG"))
        if req.width:
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, req.width)
        if req.height:
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, req.height)
        if req.fps:
            cap.set(cv2.CAP_PROP_FPS, req.fps)
        cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        return cap

    def _video_capture(self) -> cv2.VideoCapture:
        """``cv2.VideoCapture`` of the source: FFmpeg with timeouts for a URL, V4L2 first for an index."""
        src = self.source
        ms = int(self.request.timeout_s * 1000)
        if isinstance(src, str) and src.lower().startswith(URL_SCHEMES):
            return cv2.VideoCapture(
                src, cv2.CAP_FFMPEG, [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, ms]
            )
        if isinstance(src, int):
            cap = cv2.VideoCapture(src, cv2.CAP_V4L2) if hasattr(cv2, "CAP_V4L2") else cv2.VideoCapture(src)
            return cap if cap.isOpened() else cv2.VideoCapture(src)
        return cv2.VideoCapture(src)

    def open(self, start: bool = True) -> VideoInfo:
        """Open the source, read one frame and (unless ``start=False``; then :meth:`start`)
        start the capture thread.

        Raises:
            InputError: the camera does not exist or the stream sends nothing in time.
        """
        self._cap = self._open_capture()
        ok, img = self._cap.read()
        if not ok or img is None:
            self._cap.release()
            raise InputError(f"{_describe(self.source)} opened but sent no frame within {self.request.timeout_s:g} s")
        fps = self._cap.get(cv2.CAP_PROP_FPS) or 0.0
        fourcc = int(self._cap.get(cv2.CAP_PROP_FOURCC) or 0)
        self.fourcc = "".join(chr((fourcc >> (8 * i)) & 0xFF) for i in range(4)) if fourcc else "?"
        h, w = img.shape[:2]
        self.info = VideoInfo(
            width=w,
            height=h,
            fps=Fraction(fps).limit_denominator(1001) if 0 < fps < 1000 else Fraction(30),
            frame_count=None,
            time_base=Fraction(1, 1000),
            live=True,
            source=_describe(self.source),
        )
        self._file_fps = fps if self.is_file and 0 < fps < 1000 else 30.0
        self._t0 = time.perf_counter()
        self._publish(self._as_image(img), reset=True)
        if start:
            self.start()
        return self.info

    def start(self) -> None:
        """Start the capture thread (once; :meth:`open` does it unless ``start=False``)."""
        if self._thread is None and self.info is not None:
            self._t_play = time.perf_counter()
            self._thread = threading.Thread(target=self._run, name="streamseg-capture", daemon=True)
            self._thread.start()

    @staticmethod
    def _as_image(img: np.ndarray) -> np.ndarray:
        if img.ndim == 2:
            return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
        if img.shape[2] == 4:
            return cv2.cvtColor(img, cv2.COLOR_BGRA2BGR)
        return img

    def _publish(self, img: np.ndarray, reset: bool = False) -> None:
        now = time.perf_counter()
        frame = Frame(image=img, index=self.captured, time=now - self._t0, captured_at=now, reset=reset)
        with self._cond:
            if self._latest is not None and self._latest.reset:
                frame.reset = True  # a reset must not be lost when its frame is skipped
            self._latest = frame
            self.captured += 1
            self._cond.notify_all()

    def _run(self) -> None:
        backoff = 0.25
        reset_next = False
        played = 1  # file sources: frames read since the (re)start, for pacing
        while not self._stop.is_set():
            ok, img = self._cap.read() if self._cap is not None else (False, None)
            if ok and img is not None:
                if self.is_file:  # at the file's own rate
                    wait = self._t_play + played / self._file_fps - time.perf_counter()
                    if wait > 0 and self._stop.wait(wait):
                        break
                    played += 1
                self._publish(self._as_image(img), reset=reset_next)
                reset_next = False
                backoff = 0.25
                continue
            if self._stop.is_set():
                break
            if self.is_file:
                if not self.loop:
                    log.info(f"end of {self.source}")
                    break
                self._cap.release()
                try:
                    self._cap = self._open_capture()
                except InputError:
                    break
                self.loops += 1
                reset_next, played, self._t_play = True, 0, time.perf_counter()
                continue
            if not self.reconnect:
                log.warn(f"{_describe(self.source)} stopped sending; ending (--no-reconnect)")
                break
            log.warn(f"{_describe(self.source)} stopped sending; reconnecting in {backoff:.2g} s")
            if self._cap is not None:
                self._cap.release()
                self._cap = None
            if self._stop.wait(backoff):
                break
            backoff = min(backoff * 2, self.max_backoff_s)
            try:
                self._cap = self._open_capture()
                self.reconnects += 1
                reset_next = True
                log.info(f"reconnected to {_describe(self.source)}")
            except InputError:
                continue
        with self._cond:
            self._ended = True
            self._cond.notify_all()

    def read(self, timeout: float | None = None) -> Frame | None:
        """The newest frame not yet returned; waits for one. ``None`` when the source ended
        (or ``timeout`` seconds passed with nothing new)."""
        with self._cond:
            deadline = None if timeout is None else time.monotonic() + timeout
            while self._latest is None and not self._ended and not self._stop.is_set():
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return None
                self._cond.wait(0.1 if remaining is None else min(remaining, 0.1))
            frame, self._latest = self._latest, None
        if frame is not None:
            self.consumed += 1
        return frame

    @property
    def ended(self) -> bool:
        return self._ended and self._latest is None

    def close(self) -> None:
        """Stop the capture thread and release the device."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=self.request.timeout_s + 1)
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def __enter__(self) -> "LiveSource":
        if self.info is None:
            self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()
