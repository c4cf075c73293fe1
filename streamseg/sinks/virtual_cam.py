"""Send the rendered output to a virtual camera (``--virtual-cam``) with ``pyvirtualcam``
(optional extra ``streamseg[virtualcam]``), so it shows up in a video call.

Backends: v4l2loopback on Linux (``/dev/videoN``), OBS Studio's virtual camera on Windows and
macOS. Frame handling, done here so any output type can be sent:

- size: frames are fitted into the camera's fixed size, keeping the aspect ratio (black bars),
  so a side-by-side or a changed source size does not fail the run;
- format: BGR is sent as BGR (pyvirtualcam converts natively); BGRA (``-T alpha``) is
  composited over a solid background; greyscale is expanded; if the backend refuses BGR the
  camera is opened as RGB and frames are converted;
- pacing: :meth:`VirtualCamera.send` never blocks the pipeline. A sender thread sends the newest
  frame at the camera's rate and repeats the last one when processing is slower, as meeting
  apps expect a steady rate.

Example (with a fake backend; a real one needs a device):
    >>> import numpy as np
    >>> class FakeCam:
    ...     def __init__(self, width, height, fps, *, fmt=None, device=None, backend=None):
    ...         self.width, self.height, self.fps, self.fmt, self.sent = width, height, fps, fmt, []
    ...         self.device, self.backend = "fake0", "fake"
    ...     def send(self, frame): self.sent.append(frame)
    ...     def sleep_until_next_frame(self): pass
    ...     def close(self): pass
    >>> cam = VirtualCamera(64, 48, fps=30, camera_factory=FakeCam, pixel_format="BGR")
    >>> cam.prepare(np.zeros((10, 40, 3), np.uint8)).shape
    (48, 64, 3)
    >>> cam.close()
"""

from __future__ import annotations

import platform
import threading
import time
from typing import Any, Callable

import cv2
import numpy as np

from streamseg.effects.alpha import flatten
from streamseg.sinks.base import Sink
from streamseg.errors import OutputError

#: what ``pip`` installs for this sink
EXTRA_HINT = "pip install 'streamseg[virtualcam]'"


def install_hint(system: str | None = None) -> str:
    """What to install for a virtual camera backend on ``system`` (``platform.system()``)."""
    system = system or platform.system()
    if system == "Linux":
        return (
            "install v4l2loopback (e.g. sudo apt install v4l2loopback-dkms, then "
            "sudo modprobe v4l2loopback devices=1 exclusive_caps=1 card_label=streamseg)"
        )
    if system in ("Windows", "Darwin"):
        return "install OBS Studio 28 or newer and start its Virtual Camera once (Start Virtual Camera)"
    return f"no virtual camera backend is known for {system}"


def _import_pyvirtualcam() -> Any:
    try:
        import pyvirtualcam
    except ImportError:
        raise OutputError(f"--virtual-cam needs pyvirtualcam: {EXTRA_HINT}") from None
    return pyvirtualcam


def letterbox(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Fit uint8 (h, w, C) ``image`` into (height, width, C), keeping its aspect ratio, centred
    on black. Returns ``image`` itself when it already has that size."""
    h, w = image.shape[:2]
    if (w, h) == (width, height):
        return image
    s = min(width / w, height / h)
    nw, nh = max(1, round(w * s)), max(1, round(h * s))
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(image, (nw, nh), interpolation=interp)
    out = np.zeros((height, width, image.shape[2]), np.uint8)
    y, x = (height - nh) // 2, (width - nw) // 2
    out[y : y + nh, x : x + nw] = resized
    return out


class VirtualCamera:
    """A paced virtual camera.

    Args:
        width, height: camera size (usually the output size of the first frame).
        fps: rate at which frames are sent to the camera.
        device: ``/dev/videoN`` (v4l2loopback) or camera name; ``None`` = first free one.
        backend: pyvirtualcam backend name; ``None`` = try all.
        background: BGR colour that BGRA frames are composited over.
        camera_factory: ``pyvirtualcam.Camera`` or a stand-in with its signature (tests).
        pixel_format: ``"BGR"`` or ``"RGB"``; ``None`` = BGR, then RGB if the backend refuses BGR.

    Raises:
        OutputError: pyvirtualcam is missing, or no backend/device could be opened (one line,
            saying what to install).
    """

    def __init__(
        self,
        width: int,
        height: int,
        fps: float = 30.0,
        device: str | None = None,
        backend: str | None = None,
        background: tuple[int, int, int] = (0, 0, 0),
        camera_factory: Callable[..., Any] | None = None,
        pixel_format: str | None = None,
    ) -> None:
        if width <= 0 or height <= 0 or fps <= 0:
            raise OutputError(f"virtual camera needs a positive size and fps, got {width}x{height} at {fps}")
        self.width, self.height, self.fps = int(width), int(height), float(fps)
        self.background = background
        self.frames_in = 0
        self.frames_sent = 0
        self.frames_repeated = 0
        self.frames_replaced = 0  # frames never sent because a newer one arrived first
        factory, formats = self._factory(camera_factory, pixel_format)
        self._cam, self.pixel_format = self._open(factory, formats, device, backend)
        self._lock = threading.Lock()
        self._newest: np.ndarray | None = None
        self._fresh = False
        self._error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="streamseg-virtual-cam", daemon=True)
        self._thread.start()

    @staticmethod
    def _factory(camera_factory: Callable[..., Any] | None, pixel_format: str | None) -> tuple[Callable[..., Any], list[Any]]:
        names = [pixel_format] if pixel_format else ["BGR", "RGB"]
        if camera_factory is not None:
            try:
                import pyvirtualcam

                return camera_factory, [pyvirtualcam.PixelFormat[n] for n in names]
            except ImportError:
                return camera_factory, names
        pvc = _import_pyvirtualcam()
        return pvc.Camera, [pvc.PixelFormat[n] for n in names]

    def _open(self, factory: Callable[..., Any], formats: list[Any], device: str | None, backend: str | None) -> tuple[Any, str]:
        errors = []
        for fmt in formats:
            try:
                cam = factory(self.width, self.height, self.fps, fmt=fmt, device=device, backend=backend)
            except (RuntimeError, ValueError, KeyError, OSError) as exc:
                errors.append(" ".join(str(exc).split()) or type(exc).__name__)
                continue
            return cam, getattr(fmt, "name", str(fmt))
        where = f" {device}" if device else ""
        raise OutputError(f"no virtual camera{where} could be opened ({errors[0]}); {install_hint()}")

    @property
    def device(self) -> str:
        """The device or camera name in use."""
        return str(getattr(self._cam, "device", ""))

    def prepare(self, image: np.ndarray) -> np.ndarray:
        """uint8 (H, W), (H, W, 3) BGR or (H, W, 4) BGRA -> C-contiguous uint8 (height, width, 3)
        in the camera's pixel format."""
        if image.dtype != np.uint8:
            raise ValueError(f"virtual camera frames must be uint8, got {image.dtype}")
        if image.ndim == 2:
            image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
        elif image.shape[2] == 4:
            image = flatten(image, self.background)
        elif image.shape[2] != 3:
            raise ValueError(f"virtual camera frames must have 1, 3 or 4 channels, got {image.shape}")
        image = letterbox(image, self.width, self.height)
        if self.pixel_format == "RGB":
            image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        return np.ascontiguousarray(image)

    def send(self, image: np.ndarray) -> None:
        """Hand over the newest picture (see :meth:`prepare` for what is accepted); never waits
        for the camera.

        Raises:
            OutputError: the sender thread failed (device gone...).
        """
        if self._error is not None:
            raise OutputError(f"virtual camera {self.device} failed: {self._error}")
        frame = self.prepare(image)
        with self._lock:
            if self._fresh:
                self.frames_replaced += 1
            self._newest, self._fresh = frame, True
            self.frames_in += 1

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                frame, fresh = self._newest, self._fresh
                self._fresh = False
            if frame is None:
                time.sleep(min(0.01, 1 / self.fps))
                continue
            try:
                self._cam.send(frame)
            except BaseException as exc:  # noqa: BLE001 - surfaced by send()/close()
                self._error = exc
                return
            self.frames_sent += 1
            if not fresh:
                self.frames_repeated += 1
            self._cam.sleep_until_next_frame()

    def close(self) -> None:
        """Stop the sender and release the device (idempotent)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)
        cam, self._cam = self._cam, None
        if cam is not None:
            cam.close()


class VirtualCamSink(Sink):
    """Sends one output type of every result to a :class:`VirtualCamera`.

    The camera is the one given, or opens on the first frame, sized to the first picture
    rounded down to even sides (the backends convert to 4:2:0); either way :meth:`close`
    closes it.

    Args:
        output_type: what is sent (``result.pictures[output_type]``).
        fps: camera rate (the source's granted fps).
        camera: an open :class:`VirtualCamera`, or ``None`` to open one with ``device``,
            ``backend`` and ``background`` (or ``open_camera``).
        open_camera: ``(width, height, fps) -> VirtualCamera``, for a camera opened on the first frame.
    """

    def __init__(
        self,
        output_type: str,
        fps: float = 30.0,
        camera: VirtualCamera | None = None,
        device: str | None = None,
        backend: str | None = None,
        background: tuple[int, int, int] = (0, 0, 0),
        open_camera: Callable[[int, int, float], VirtualCamera] | None = None,
    ) -> None:
        self.output_type = output_type
        self.fps = fps
        self.camera = camera
        self._open = open_camera or (
            lambda w, h, f: VirtualCamera(w, h, f, device=device, backend=backend, background=background)
        )

    def write(self, result: Any) -> None:
        image = result.pictures[self.output_type]
        if self.camera is None:
            h, w = image.shape[:2]
            self.camera = self._open(max(2, w - w % 2), max(2, h - h % 2), self.fps)
        self.camera.send(image)

    def close(self) -> None:
        if self.camera is not None:
            self.camera.close()
