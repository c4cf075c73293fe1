"""``face``: a colour model seeded from the detected face, per frame.

1. MediaPipe's full-range face detector, shipped as ONNX and run on ONNX Runtime
   (:class:`streamseg.rois.blaze.FaceDetector`), finds the most confident face.
2. Inside its box, an inner region (cheeks, forehead, chin) minus discs around the eyes and
   the mouth keypoints gives the sample pixels; their (Cb, Cr) statistics are made robust by
   trimming (``trim`` of each channel's tails, then the ``trim`` farthest by Mahalanobis
   distance) before the mean and covariance are taken.
3. The skin rule for the frame is the ellipse ``(x - mean)^T cov^-1 (x - mean) <= radius^2``
   in the CbCr plane, run by the in-loop YCbCr kernel with a per-frame table.

In video the statistics are carried over frames (exponential average, weight ``EMA`` for the
new frame) and survive up to ``HOLD_FRAMES`` frames without a face; with no statistics at all
the method returns exactly what its fallback ``ellipse-diag`` returns. :meth:`reset` forgets
them (new source, scene cut).

Example:
    >>> import numpy as np
    >>> seg = FaceSeeded()
    >>> prob = seg(np.zeros((48, 64, 3), np.uint8))  # no face: the ellipse-diag result
    >>> prob.shape, float(prob.max())
    ((48, 64), 0.0)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from streamseg.errors import MethodError
from streamseg.segment.base import MethodOptions, Segmenter
from streamseg.segment.classical import kernels, reference
from streamseg.segment.classical.colorspace import cbcr_grid, ycrcb_reference
from streamseg.segment.classical.ellipse import EllipseDiag
from streamseg.segment.classical.params import ClassicalParams
from streamseg.segment.classical.rule import contiguous

EMA = 0.5
HOLD_FRAMES = 15
MIN_SAMPLES = 50
MIN_VAR = 4.0  # variance floor per channel (std >= 2 Cb/Cr levels)


@dataclass(frozen=True)
class FaceBox:
    """A detected face in pixels: box (x0, y0, x1, y1), keypoints (6, 2) (x, y), score."""

    box: tuple[float, float, float, float]
    keypoints: np.ndarray
    score: float


@lru_cache(maxsize=1)
def _detector_reason() -> str | None:
    """``None`` when the face detector's model and ONNX Runtime are here, else why not."""
    from streamseg.rois.blaze import FACE_MODELS, model_path
    from streamseg.segment import providers

    try:
        providers.import_onnxruntime()
        model_path(FACE_MODELS["full"][0])
    except MethodError as exc:
        return str(exc)
    return None


def sample_mask(shape: tuple[int, int], face: FaceBox) -> np.ndarray:
    """Pixels to take colour statistics from: bool (H, W) — the inner face box minus eyes and mouth."""
    h, w = shape
    x0, y0, x1, y1 = face.box
    bw, bh = x1 - x0, y1 - y0
    m = np.zeros((h, w), np.uint8)
    ix0, ix1 = int(round(x0 + 0.2 * bw)), int(round(x1 - 0.2 * bw))
    iy0, iy1 = int(round(y0 + 0.1 * bh)), int(round(y1 - 0.05 * bh))
    m[max(iy0, 0) : max(min(iy1, h), 0), max(ix0, 0) : max(min(ix1, w), 0)] = 1
    r_eye = max(1, int(round(0.14 * bw)))
    for x, y in face.keypoints[:2]:
        cv2.circle(m, (int(round(x)), int(round(y))), r_eye, 0, -1)
    mx, my = face.keypoints[3]
    cv2.ellipse(m, (int(round(mx)), int(round(my))), (max(1, int(0.22 * bw)), max(1, int(0.1 * bh))), 0, 0, 360, 0, -1)
    return m.astype(bool)


def robust_stats(cbcr: np.ndarray, trim: float) -> tuple[np.ndarray, np.ndarray] | None:
    """Trimmed mean and covariance of (n, 2) (Cb, Cr) samples, or ``None`` with too few samples."""
    x = np.asarray(cbcr, np.float64)
    if len(x) < MIN_SAMPLES:
        return None
    if trim > 0:
        lo, hi = np.quantile(x, [trim, 1 - trim], axis=0)
        x = x[np.all((x >= lo) & (x <= hi), axis=1)]
        if len(x) < MIN_SAMPLES:
            return None
    mean = x.mean(0)
    cov = np.cov(x.T) + np.eye(2) * 1e-6
    if trim > 0:
        d = x - mean
        maha = np.einsum("ni,ij,nj->n", d, np.linalg.inv(cov), d)
        x = x[maha <= np.quantile(maha, 1 - trim)]
        if len(x) < MIN_SAMPLES:
            return None
        mean = x.mean(0)
        cov = np.cov(x.T)
    cov = cov + np.eye(2) * 1e-6
    var = np.diag(cov).copy()
    cov[np.diag_indices(2)] = np.maximum(var, MIN_VAR)
    return mean, cov


def mahalanobis_lut(mean: np.ndarray, cov: np.ndarray, radius: float) -> np.ndarray:
    """float32 (256, 256) ``[Cb, Cr]`` table: 1.0 within Mahalanobis ``radius`` of ``mean``."""
    cb, cr = cbcr_grid()
    d = np.stack([cb - mean[0], cr - mean[1]], -1)
    maha = np.einsum("...i,ij,...j->...", d, np.linalg.inv(cov), d)
    return (maha <= radius * radius).astype(np.float32)


class FaceSeeded(Segmenter):
    """Per-frame CbCr ellipse from the robust colour statistics of the detected face."""

    name = "face"
    description = "face-seeded colour model (MediaPipe's face detector on ONNX Runtime + per-frame CbCr ellipse, numba)"
    kind = "classical"

    @classmethod
    def unavailable_reason(cls, options: MethodOptions | None = None) -> str | None:
        return _detector_reason()

    def __init__(self, options: MethodOptions | None = None) -> None:
        self.options = options or MethodOptions()
        reason = _detector_reason()
        if reason:
            raise MethodError(reason)
        from streamseg.rois.blaze import FaceDetector

        self.fallback = EllipseDiag(self.options)
        self.params: ClassicalParams = self.fallback.params
        self.post = self.fallback.post
        self.backend = self.fallback.backend
        self.radius, self.trim = self.params.face_radius, self.params.face_trim
        self._detector: FaceDetector | None = FaceDetector(
            "full", 0.5, provider=self.options.provider, threads=self.options.threads
        )
        self._stats: tuple[np.ndarray, np.ndarray] | None = None
        self._missing = 0
        #: what the last frame used: "face", "carried" or "fallback"
        self.last_source = "fallback"

    @property
    def provider(self) -> str:  # type: ignore[override]
        return self.backend.provider

    def detect(self, frame: np.ndarray) -> FaceBox | None:
        """The most confident face in a BGR uint8 (H, W, 3) frame, in pixels, or ``None``."""
        h, w = frame.shape[:2]
        if h < 8 or w < 8:
            return None
        if self._detector is None:
            raise MethodError("method 'face' was closed")
        faces = self._detector.detect(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
        if not faces:
            return None
        best = max(faces, key=lambda f: f.score)
        box = tuple(float(v) for v in best.box)
        return FaceBox(box, np.asarray(best.keypoints, np.float64), best.score)  # type: ignore[arg-type]

    def face_stats(self, frame: np.ndarray, face: FaceBox) -> tuple[np.ndarray, np.ndarray] | None:
        """Robust (Cb, Cr) mean (2,) and covariance (2, 2) of the face's sample pixels."""
        m = sample_mask(frame.shape[:2], face)
        if not m.any():
            return None
        ycc = ycrcb_reference(frame)
        return robust_stats(np.stack([ycc[..., 2][m], ycc[..., 1][m]], 1), self.trim)

    def update(self, frame: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """Detect, measure and carry the statistics over frames; returns the ones to use now."""
        face = self.detect(frame)
        stats = self.face_stats(frame, face) if face is not None else None
        if stats is not None:
            if self._stats is None:
                self._stats = stats
            else:
                self._stats = tuple(EMA * new + (1 - EMA) * old for new, old in zip(stats, self._stats))  # type: ignore[assignment]
            self._missing = 0
            self.last_source = "face"
        else:
            self._missing += 1
            if self._missing > HOLD_FRAMES:
                self._stats = None
            self.last_source = "carried" if self._stats is not None else "fallback"
        return self._stats

    def segment(self, frame: np.ndarray) -> np.ndarray:
        """BGR uint8 (H, W, 3) -> float32 (H, W) skin probability in [0, 1] (post-processed)."""
        frame = contiguous(frame)
        stats = self.update(frame)
        if stats is None:
            return self.fallback.segment(frame)
        lut = mahalanobis_lut(stats[0], stats[1], self.radius)
        out = np.empty(frame.shape[:2], np.float32)
        self.backend.run(kernels.cbcr_lut, reference.cbcr_lut, frame, lut, out)
        return self.post(out)

    def reset(self) -> None:
        self._stats = None
        self._missing = 0
        self.last_source = "fallback"

    def close(self) -> None:
        self._detector = None
