"""``icm``: a two-label Markov random field over the frame, solved by iterated conditional modes.

Energy ``E(l) = sum_i U_i(l_i) + sum_(i,j) w_ij [l_i != l_j]`` over 4-neighbours, where

* the unary is ``U_i(1) = -log(prior p_skin(Cb, Cr))``, ``U_i(0) = -log((1 - prior) p_bg(Cb, Cr))``
  with Gaussian mixtures over (Cb, Cr) fitted on the train split (``streamseg fit``), tabulated
  once as the difference ``U(1) - U(0)`` over the 256 x 256 (Cb, Cr) grid;
* the pairwise weight is contrast-sensitive Potts: ``w_ij = lambda exp(-beta |Lab_i - Lab_j|^2)``
  with ``beta = 1 / (2 mean |dLab|^2)`` per frame (Lab = OpenCV's 8-bit ``COLOR_BGR2Lab``),
  looked up in a table over the integer squared difference.

Labels start at the unary minimum; each sweep visits the pixels in red-black (checkerboard)
order, which makes a half-sweep parallel and deterministic. The kernels store each colour's
pixels contiguously (:func:`kernels.icm_pack`) so that a half-sweep is a branch-free SIMD loop. The MRF runs at ``scale`` times the
frame size (``icm`` in the parameter file; 1.0 by default) and the labels are resized back.

Example:
    >>> import numpy as np
    >>> seg = ICM()
    >>> prob = seg(np.full((8, 8, 3), (90, 140, 200), np.uint8))
    >>> prob.shape, prob.dtype
    ((8, 8), dtype('float32'))
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from streamseg.segment.base import MethodOptions, Segmenter
from streamseg.segment.classical import kernels, reference
from streamseg.segment.classical.params import GMM, ClassicalParams, load_params
from streamseg.segment.classical.postprocess import PostProcess
from streamseg.segment.classical.rule import NumbaBackend, contiguous

UNARY_CLIP = 50.0
MAX_D2 = 3 * 255 * 255


def unary_table(skin: GMM, bg: GMM, prior: float) -> np.ndarray:
    """``U(skin) - U(background)`` over the ``[Cb, Cr]`` grid: float32 (256, 256), clipped to +-50."""
    d = -(skin.grid_log_density() + np.log(prior)) + (bg.grid_log_density() + np.log1p(-prior))
    return np.clip(d, -UNARY_CLIP, UNARY_CLIP).astype(np.float32)


def edge_table(lam: float, d2_sum: int, n_edges: int) -> np.ndarray:
    """Potts weights by squared Lab difference: float32 (K,), ``table[d2] = lam exp(-beta d2)``.

    ``beta = 1 / (2 mean d2)``; the table stops where the weight is below ``lam * e^-20`` (the
    kernels clamp larger differences to the last entry). A frame without contrast gets ``[lam]``.
    """
    mean = d2_sum / n_edges if n_edges else 0.0
    if mean <= 0:
        return np.array([lam], np.float32)
    beta = 1.0 / (2.0 * mean)
    k = int(min(MAX_D2, np.ceil(20.0 / beta))) + 1
    return (lam * np.exp(-beta * np.arange(k, dtype=np.float64))).astype(np.float32)


@dataclass
class MRFBuffers:
    """Per-size work arrays (reused across frames of one size).

    ``wr``/``wd`` are the NumPy path's edge weights; ``planes``/``signs`` the kernels' checkerboard
    layout (:func:`kernels.icm_pack`), whose ``signs`` border stays +1.
    """

    dunary: np.ndarray
    labels: np.ndarray
    d2r: np.ndarray
    d2d: np.ndarray
    wr: np.ndarray
    wd: np.ndarray
    planes: np.ndarray
    signs: np.ndarray

    @classmethod
    def of(cls, h: int, w: int) -> "MRFBuffers":
        f = lambda t: np.empty((h, w), t)  # noqa: E731
        wp = (w + 1) // 2
        planes = np.empty((2, 5, h, wp), np.float32)
        signs = np.ones((2, h + 2, wp + 2), np.float32)
        return cls(f(np.float32), f(np.uint8), f(np.int32), f(np.int32), f(np.float32), f(np.float32), planes, signs)


def mrf_setup(
    frame: np.ndarray, lab: np.ndarray, dtable: np.ndarray, lam: float, use_numba: bool, b: MRFBuffers
) -> None:
    """Unaries, initial labels (unary minimum) and edge weights of one frame into ``b``.

    frame: C-contiguous BGR uint8 (H, W, 3); lab: its ``cv2.COLOR_BGR2Lab`` (uint8, same shape);
    dtable: float32 (256, 256) from :func:`unary_table`; ``b`` sized (H, W).
    """
    h, w = frame.shape[:2]
    impl = kernels if use_numba else reference
    d2_sum = impl.icm_prepare(frame, lab, dtable, b.dunary, b.labels, b.d2r, b.d2d)
    table = edge_table(lam, int(d2_sum), h * (w - 1) + (h - 1) * w)
    if use_numba:
        kernels.icm_pack(b.dunary, b.labels, b.d2r, b.d2d, table, b.wr, b.wd, b.planes, b.signs)
    else:
        reference.icm_weights(b.d2r, b.d2d, table, b.wr, b.wd)


def mrf_sweeps(b: MRFBuffers, sweeps: int, use_numba: bool) -> np.ndarray:
    """Run up to ``sweeps`` more ICM sweeps on ``b`` (set up by :func:`mrf_setup`); returns ``b.labels``.

    ``b.labels``: uint8 (H, W), 1 = skin. Calls may be chained (1 then 4 sweeps = 5 sweeps).
    """
    if use_numba:
        kernels.icm_sweeps(b.planes, b.signs, int(sweeps))
        kernels.icm_unpack(b.signs, b.labels)
    else:
        reference.icm_sweeps(b.dunary, b.wr, b.wd, b.labels, int(sweeps))
    return b.labels


def icm_labels(
    frame: np.ndarray, dtable: np.ndarray, lam: float, sweeps: int, use_numba: bool, buffers: MRFBuffers | None = None
) -> np.ndarray:
    """Run the MRF on a C-contiguous BGR uint8 (H, W, 3) frame -> uint8 (H, W) labels (1 = skin).

    The returned array is ``buffers.labels`` (copy it before the next call with the same buffers).
    """
    h, w = frame.shape[:2]
    b = buffers if buffers is not None and buffers.labels.shape == (h, w) else MRFBuffers.of(h, w)
    mrf_setup(frame, cv2.cvtColor(frame, cv2.COLOR_BGR2Lab), dtable, lam, use_numba, b)
    return mrf_sweeps(b, sweeps, use_numba)


class ICM(Segmenter):
    """GMM unaries over (Cb, Cr) + contrast-sensitive Potts, iterated conditional modes."""

    name = "icm"
    description = "MRF: GMM colour unaries + contrast-sensitive Potts, ICM (numba)"
    kind = "classical"

    def __init__(self, options: MethodOptions | None = None) -> None:
        self.options = options or MethodOptions()
        self.params: ClassicalParams = load_params(self.options.params)
        self.post = PostProcess.for_method(self.name, self.options.extra)
        self.backend = NumbaBackend(self.name, self.options)
        p = self.params
        self.lam, self.sweeps, self.scale = p.icm_lambda, p.icm_sweeps, p.icm_scale
        skin, bg = p.gmms()
        self.dtable = unary_table(skin, bg, p.icm_prior)
        self._buffers: MRFBuffers | None = None

    @property
    def provider(self) -> str:  # type: ignore[override]
        return self.backend.provider

    def labels(self, frame: np.ndarray) -> np.ndarray:
        """BGR uint8 (H, W, 3) -> uint8 labels (h, w) at the MRF resolution (a new array)."""
        frame = contiguous(frame)
        h, w = frame.shape[:2]
        if self.scale < 1.0:
            size = (max(1, round(w * self.scale)), max(1, round(h * self.scale)))
            frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
        if self._buffers is None or self._buffers.labels.shape != frame.shape[:2]:
            self._buffers = MRFBuffers.of(*frame.shape[:2])
        if self.backend.use_numba:
            try:
                self.backend.set_threads()
                return icm_labels(frame, self.dtable, self.lam, self.sweeps, True, self._buffers).copy()
            except Exception as exc:  # noqa: BLE001 - degrade to NumPy, never crash
                self.backend.fail(exc)
        return icm_labels(frame, self.dtable, self.lam, self.sweeps, False, self._buffers).copy()

    def segment(self, frame: np.ndarray) -> np.ndarray:
        """BGR uint8 (H, W, 3) -> float32 (H, W) skin probability in [0, 1] (post-processed)."""
        h, w = frame.shape[:2]
        prob = self.labels(frame).astype(np.float32)
        if prob.shape != (h, w):
            prob = cv2.resize(prob, (w, h), interpolation=cv2.INTER_LINEAR)
        return self.post(prob)
