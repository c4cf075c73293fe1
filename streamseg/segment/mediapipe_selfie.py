"""The ``mediapipe`` method: MediaPipe selfie segmentation, the 'Google' baseline.

This is the selfie segmentation model bundled in the pinned mediapipe release
(``mp.solutions.selfie_segmentation``, TFLite on the CPU). It segments the *person* (hair,
clothes and all), not skin; the original skin_segmentation project compared against it, and
so does ``streamseg eval``.

Options (``MethodOptions.extra``): ``model_selection`` 0 = general model, 256x256 input
(default), 1 = landscape model, 144x256 input, faster.

Example:
    >>> import numpy as np
    >>> from streamseg.segment.mediapipe_selfie import MediaPipeSelfie
    >>> seg = MediaPipeSelfie()                                      # doctest: +SKIP
    >>> seg(np.zeros((240, 320, 3), np.uint8)).shape                 # doctest: +SKIP
    (240, 320)
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Iterator

import cv2
import numpy as np

from streamseg.errors import ConfigError, MethodError
from streamseg.segment.base import MethodOptions, Segmenter, check_frame


def _import_mediapipe():
    # mediapipe's C++ side logs through glog; keep it to warnings and above unless debugging
    if not os.environ.get("STREAMSEG_DEBUG"):
        os.environ.setdefault("GLOG_minloglevel", "2")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from mediapipe.python.solutions import selfie_segmentation

    return selfie_segmentation


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Hide what TFLite/absl write straight to file descriptor 2 while the graph starts
    ("Created TensorFlow Lite XNNPACK delegate", feedback-manager warnings)."""
    if os.environ.get("STREAMSEG_DEBUG"):
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            try:
                yield
            finally:
                os.dup2(saved, 2)
    finally:
        os.close(saved)


class MediaPipeSelfie(Segmenter):
    """MediaPipe selfie (person) segmentation: BGR uint8 (H, W, 3) -> float32 (H, W) in [0, 1]."""

    name = "mediapipe"
    description = "MediaPipe selfie segmentation (person mask, not skin; the 'Google' baseline)"
    kind = "model"
    provider = "mediapipe-tflite-cpu"

    def __init__(self, options: MethodOptions | None = None) -> None:
        self.options = options or MethodOptions()
        sel = self.options.extra.get("model_selection", 0)
        if sel not in (0, 1):
            raise ConfigError(f"mediapipe model_selection must be 0 (general) or 1 (landscape), got {sel!r}")
        self.model_selection = int(sel)
        try:
            self._module = _import_mediapipe()
            self._start()
        except Exception as exc:  # noqa: BLE001 - a broken mediapipe install can raise anything
            raise MethodError(f"mediapipe selfie segmentation cannot start: {exc}") from exc

    @classmethod
    def unavailable_reason(cls, options: MethodOptions | None = None) -> str | None:
        """``None`` if mediapipe (with the bundled ``mp.solutions`` models) imports, else why not."""
        from streamseg.optional import mediapipe_missing

        if mediapipe_missing():
            return mediapipe_missing()
        try:
            _import_mediapipe()
        except Exception as exc:  # noqa: BLE001
            return f"mediapipe with mp.solutions is not importable ({exc}); pip install 'mediapipe<=0.10.21'"
        return None

    def segment(self, frame: np.ndarray) -> np.ndarray:
        """BGR uint8 (H, W, 3) -> float32 (H, W) person probability in [0, 1]."""
        rgb = cv2.cvtColor(check_frame(frame), cv2.COLOR_BGR2RGB)
        if self._graph is None:  # closed: start again
            self._start()
        try:
            mask = self._graph.process(rgb).segmentation_mask
        except Exception as exc:  # noqa: BLE001
            raise MethodError(f"mediapipe selfie segmentation failed: {exc}") from exc
        if mask is None:
            return np.zeros(frame.shape[:2], np.float32)
        mask = np.asarray(mask, np.float32)
        if mask.shape != frame.shape[:2]:
            mask = cv2.resize(mask, (frame.shape[1], frame.shape[0]), interpolation=cv2.INTER_LINEAR)
        return np.clip(mask, 0.0, 1.0)

    def _start(self) -> None:
        # the first process() call builds the TFLite interpreter; do it here, quietly
        with _quiet_stderr():
            self._graph = self._module.SelfieSegmentation(model_selection=self.model_selection)
            self._graph.process(np.zeros((64, 64, 3), np.uint8))

    def reset(self) -> None:
        """Nothing to forget: the selfie graph has no temporal smoothing (only timestamps)."""

    def close(self) -> None:
        """Stop the MediaPipe graph."""
        graph = getattr(self, "_graph", None)
        if graph is not None:
            graph.close()
            self._graph = None
