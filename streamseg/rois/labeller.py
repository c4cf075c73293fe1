"""Face/hand detection in a background thread, so labelling never holds up a frame.

Without ``--hands`` the labels only need to be refreshed every few frames, so the ROI stage
hands a frame to this worker and goes on; the detections come back a frame or two later and
are moved by the tracks' motion since (:class:`~streamseg.rois.stage.RoiStage`). MediaPipe
releases the GIL while it runs, so on a multi-core machine this overlaps with segmentation.

Example:
    >>> class Echo:
    ...     def faces(self, rgb): return []
    ...     def hands(self, rgb): return []
    >>> w = BackgroundLabeller(Echo())
    >>> w.submit(0, 0.0, np.zeros((4, 4, 3), np.uint8))
    True
    >>> w.wait(5.0), w.take()[:2]
    (True, (0, 0.0))
    >>> w.close()
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from streamseg import log
from streamseg.rois.detectors import Detection


class BackgroundLabeller:
    """One worker thread running ``detectors.faces`` and ``detectors.hands`` on the latest submitted frame.

    Args:
        detectors: an object with ``faces(rgb)`` and ``hands(rgb)`` returning
            :class:`~streamseg.rois.detectors.Detection` lists (MediaPipe's, or a stand-in).
        faces, hands: which of the two to run.
    """

    def __init__(self, detectors: Any, faces: bool = True, hands: bool = True) -> None:
        self.detectors = detectors
        self.faces, self.hands = faces, hands
        self._cv = threading.Condition()
        self._job: tuple[int, float, np.ndarray] | None = None
        self._result: tuple[int, float, list[Detection]] | None = None
        self._busy = False
        self._stop = False
        self._failed = False
        self._thread = threading.Thread(target=self._run, name="streamseg-rois-labels", daemon=True)
        self._thread.start()

    @property
    def idle(self) -> bool:
        """True when no frame is queued or being processed."""
        with self._cv:
            return self._job is None and not self._busy

    def submit(self, index: int, t: float, rgb: np.ndarray) -> bool:
        """Queue an RGB uint8 (H, W, 3) frame (the worker keeps a reference: pass a copy you
        will not modify). Returns False, queuing nothing, while the worker is still busy."""
        with self._cv:
            if self._stop or self._failed or self._job is not None or self._busy:
                return False
            self._job = (index, t, rgb)
            self._cv.notify()
            return True

    def take(self) -> tuple[int, float, list[Detection]] | None:
        """The newest finished result ``(frame index, time, detections)`` not yet taken, or ``None``."""
        with self._cv:
            result, self._result = self._result, None
            return result

    def wait(self, timeout: float) -> bool:
        """Block until the worker is idle (or ``timeout`` seconds); True when idle. For tests and benchmarks."""
        with self._cv:
            return self._cv.wait_for(lambda: self._job is None and not self._busy, timeout)

    def _run(self) -> None:
        while True:
            with self._cv:
                self._cv.wait_for(lambda: self._job is not None or self._stop)
                if self._stop:
                    return
                index, t, rgb = self._job
                self._job, self._busy = None, True
            try:
                dets: list[Detection] = []
                if self.faces:
                    dets += self.detectors.faces(rgb)
                if self.hands:
                    dets += self.detectors.hands(rgb)
            except Exception as exc:  # noqa: BLE001 - labels stop, the pipeline goes on
                log.warn(f"face/hand labelling stopped: {type(exc).__name__}: {exc}")
                with self._cv:
                    self._failed, self._busy = True, False
                    self._cv.notify_all()
                return
            with self._cv:
                self._result = (index, t, dets)
                self._busy = False
                self._cv.notify_all()

    def close(self, timeout: float = 5.0) -> None:
        """Stop the thread (after the frame in progress, if any)."""
        with self._cv:
            self._stop = True
            self._cv.notify_all()
        self._thread.join(timeout)
