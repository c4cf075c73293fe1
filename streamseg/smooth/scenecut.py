"""Scene-cut detection from the frames themselves (cheap: a tiny grey thumbnail per frame); the
pipeline's processor resets every stage on a cut.

Example:
    >>> import numpy as np
    >>> det = SceneCutDetector(threshold=40.0)
    >>> det.update(np.zeros((36, 64, 3), np.uint8)), det.update(np.zeros((36, 64, 3), np.uint8))
    (False, False)
    >>> checker = np.indices((36, 64)).sum(0) % 16 < 8
    >>> det.update(np.where(checker[..., None], 255, 0).astype(np.uint8))
    True
"""

from __future__ import annotations

import cv2
import numpy as np


class SceneCutDetector:
    """Flags a frame whose content differs too much from the previous one.

    The score is the mean absolute difference (grey levels 0-255) between consecutive grey
    thumbnails ``thumb_width`` pixels wide, each minus its own mean so that a brightness change
    (auto-exposure, a light switched on) is not a cut. A frame of another size is always a cut.
    ``threshold`` 0 disables the content test (size changes still count).
    """

    def __init__(self, threshold: float = 20.0, thumb_width: int = 32) -> None:
        self.threshold = float(threshold)
        self.thumb_width = int(thumb_width)
        self.last_score = 0.0
        self._prev: np.ndarray | None = None
        self._shape: tuple[int, ...] | None = None

    def reset(self) -> None:
        """Forget the previous frame (the next one is never a cut)."""
        self._prev = None
        self._shape = None
        self.last_score = 0.0

    def _thumb(self, frame: np.ndarray) -> np.ndarray:
        h, w = frame.shape[:2]
        tw = max(1, min(self.thumb_width, w))
        th = max(1, round(h * tw / w))
        # every n-th pixel first: the block means of a sample are as good a fingerprint of the
        # scene, and a full-size INTER_AREA resize would cost more than the rest of the detector
        step = max(1, w // (4 * tw))
        small = frame[::step, ::step] if step > 1 else frame
        grey = cv2.cvtColor(cv2.resize(small, (tw, th), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY).astype(np.float32)
        return grey - grey.mean()

    def update(self, frame: np.ndarray) -> bool:
        """BGR uint8 (H, W, 3) -> True when it starts a new scene (not for the first frame)."""
        shape = frame.shape
        if self._shape is not None and shape != self._shape:
            self._shape, self._prev = shape, None
            self.last_score = float("inf")
            return True
        self._shape = shape
        if self.threshold <= 0:
            return False
        thumb = self._thumb(frame)
        prev, self._prev = self._prev, thumb
        if prev is None:
            self.last_score = 0.0
            return False
        self.last_score = float(np.mean(np.abs(thumb - prev)))
        return self.last_score > self.threshold
