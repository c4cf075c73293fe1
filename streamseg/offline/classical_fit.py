"""Fitting the classical detectors on a skin dataset (``streamseg fit``).

1. Per image, histograms of (Cb, Cr) for skin and background pixels (exact pixel colours; large
   images are subsampled with a stride), kept as sparse rows of a (images x 65536) matrix.
2. ``ellipse-diag``: the rotated ellipse that maximises the mean per-image IoU of the raw rule
   on the train split (Nelder-Mead from the original project's values; the IoU of any ellipse
   is two sparse mat-vecs).
3. Skin and background Gaussian mixtures over (Cb, Cr) by weighted EM on the summed histograms
   (every image weighs the same), for the ``icm`` unaries.
4. Optionally, the ``icm`` lambda, skin prior and sweeps by grid search on the val split.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> hist = np.zeros((256, 256)); hist[100:110, 150:160] = 1.0
    >>> g = fit_gmm(hist, 1)
    >>> np.round(g.means, 1).tolist()
    [[104.5, 154.5]]
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Sequence

import cv2
import numpy as np
import scipy.optimize
import scipy.sparse

from streamseg.dataset import Sample, SkinDataset
from streamseg.segment.classical.colorspace import ellipse_distance, ycrcb_reference
from streamseg.segment.classical.params import GMM

BINS = 256 * 256


@dataclass
class Histograms:
    """Per-image (Cb, Cr) pixel counts: ``skin`` and ``bg`` are CSR float64 (n_images, 65536)."""

    ids: list[str]
    sources: list[str]
    skin: scipy.sparse.csr_matrix
    bg: scipy.sparse.csr_matrix

    @property
    def skin_totals(self) -> np.ndarray:
        return np.asarray(self.skin.sum(1)).ravel()

    def mean_iou(self, rule: np.ndarray) -> float:
        """Mean per-image IoU of a (256, 256) ``[Cb, Cr]`` boolean rule (empty vs empty = 1)."""
        return float(per_image_iou(self, rule).mean())


def per_image_iou(h: Histograms, rule: np.ndarray) -> np.ndarray:
    """Per-image IoU of a (256, 256) ``[Cb, Cr]`` rule over the histograms: float64 (n_images,)."""
    e = np.asarray(rule, np.float64).reshape(-1)
    tp = h.skin @ e
    fp = h.bg @ e
    union = h.skin_totals + fp
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, tp / np.maximum(union, 1e-12), 1.0)


def image_histograms(image: np.ndarray, mask: np.ndarray, max_side: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """(Cb, Cr) counts of skin and background pixels: BGR uint8 (H, W, 3), bool (H, W) -> 2 x float64 (65536,).

    Images whose longer side exceeds ``max_side`` are subsampled with an integer stride (exact
    pixel colours, no interpolation).
    """
    stride = max(1, int(np.ceil(max(image.shape[:2]) / max_side)))
    if stride > 1:
        image, mask = image[::stride, ::stride], mask[::stride, ::stride]
    ycc = ycrcb_reference(image)
    idx = (ycc[..., 2].astype(np.int64) << 8 | ycc[..., 1]).ravel()
    m = mask.ravel()
    return (
        np.bincount(idx[m], minlength=BINS).astype(np.float64),
        np.bincount(idx[~m], minlength=BINS).astype(np.float64),
    )


def collect_histograms(
    dataset: SkinDataset,
    samples: Sequence[Sample],
    max_side: int = 512,
    progress: Callable[[int, int], None] | None = None,
) -> Histograms:
    """Histograms of every sample that has a mask (others are skipped)."""
    rows_s, rows_b, ids, sources = [], [], [], []
    for n, s in enumerate(samples):
        if progress:
            progress(n, len(samples))
        if s.mask is None:
            continue
        image, mask = dataset.load_image(s), dataset.load_mask(s)
        if image.shape[:2] != mask.shape:
            continue
        hs, hb = image_histograms(image, mask, max_side)
        rows_s.append(scipy.sparse.csr_matrix(hs))
        rows_b.append(scipy.sparse.csr_matrix(hb))
        ids.append(s.id)
        sources.append(s.source)
    empty = scipy.sparse.csr_matrix((0, BINS))
    skin = scipy.sparse.vstack(rows_s, format="csr") if rows_s else empty
    bg = scipy.sparse.vstack(rows_b, format="csr") if rows_b else empty
    return Histograms(ids, sources, skin, bg)


# -- ellipse ------------------------------------------------------------------------------------
def _unpack(x: np.ndarray) -> tuple[float, float, float, float, float]:
    return float(x[0]), float(x[1]), float(np.exp(x[2])), float(np.exp(x[3])), float(x[4] % 180.0)


def fit_ellipse(
    hist: Histograms,
    start: tuple[float, float, float, float, float],
    temperatures: Sequence[float] = (0.3, 0.1, 0.03),
) -> tuple[tuple[float, float, float, float, float], float]:
    """Rotated CbCr ellipse maximising the mean per-image IoU; returns (params, mean IoU).

    ``start`` and the result are (Cb centre, Cr centre, semi-axis a, semi-axis b, angle deg).
    The IoU of a hard ellipse is piecewise constant in its parameters, so Nelder-Mead first
    maximises a soft IoU (membership ``sigmoid((1 - d) / t)`` of the normalised squared
    distance ``d``) with decreasing temperatures ``t``, then polishes on the hard IoU; the best
    hard IoU seen is returned.
    """

    def member(x: np.ndarray, t: float) -> np.ndarray:
        cb, cr, a, b, ang = _unpack(x)
        d = ellipse_distance((cb, cr), (a, b), ang)
        if t <= 0:
            return d <= 1.0
        return 0.5 * (1.0 + np.tanh((1.0 - np.minimum(d, 50.0)) / (2.0 * t)))

    def soft_iou(x: np.ndarray, t: float) -> float:
        e = member(x, t).reshape(-1).astype(np.float64)
        tp, fp = hist.skin @ e, hist.bg @ e
        union = hist.skin_totals + fp
        return float(np.where(union > 0, tp / np.maximum(union, 1e-12), 1.0).mean())

    x = np.array([start[0], start[1], np.log(start[2]), np.log(start[3]), start[4]], np.float64)
    best_x, best = x, soft_iou(x, 0)
    steps = np.array([4.0, 4.0, 0.2, 0.2, 10.0])
    for t in list(temperatures) + [0.0]:
        simplex = np.vstack([x] + [x + np.eye(5)[i] * steps[i] for i in range(5)])
        res = scipy.optimize.minimize(
            lambda v: -soft_iou(v, t),
            x,
            method="Nelder-Mead",
            options={"initial_simplex": simplex, "xatol": 0.01, "fatol": 1e-7, "maxiter": 1000},
        )
        x = res.x
        hard = soft_iou(x, 0)
        if hard >= best:
            best_x, best = x, hard
        steps = steps / 2.0
    return _unpack(best_x), best


# -- Gaussian mixtures --------------------------------------------------------------------------
def fit_gmm(hist: np.ndarray, k: int, iters: int = 300, seed: int = 0, reg: float = 0.5) -> GMM:
    """Weighted EM for a k-component full-covariance GMM on a (256, 256) ``[Cb, Cr]`` histogram.

    Weights are the histogram values (any non-negative scale). ``reg`` is added to the
    covariance diagonals (the values are integers). k-means++ initialisation with ``seed``.
    """
    hist = np.asarray(hist, np.float64).reshape(256, 256)
    cb, cr = np.nonzero(hist > 0)
    if len(cb) == 0:
        raise ValueError("empty histogram")
    x = np.stack([cb, cr], 1).astype(np.float64)
    w = hist[cb, cr] / hist[cb, cr].sum()
    rng = np.random.default_rng(seed)
    means = [x[rng.choice(len(x), p=w)]]
    for _ in range(1, k):
        d2 = np.min([((x - m) ** 2).sum(1) for m in means], axis=0) * w
        means.append(x[rng.choice(len(x), p=d2 / d2.sum())] if d2.sum() > 0 else x[rng.choice(len(x), p=w)])
    means = np.array(means)
    glob = np.cov(x.T, aweights=w) + reg * np.eye(2) if len(x) > 1 else np.eye(2) * (1 + reg)
    covs = np.repeat(glob[None] / max(k, 1), k, 0)
    weights = np.full(k, 1.0 / k)
    prev = -np.inf
    for _ in range(iters):
        logp = np.stack([np.log(weights[j]) + _log_normal(x, means[j], covs[j]) for j in range(k)], 1)
        ll = np.logaddexp.reduce(logp, axis=1)
        resp = np.exp(logp - ll[:, None]) * w[:, None]
        nk = resp.sum(0) + 1e-12
        weights = nk / nk.sum()
        means = (resp.T @ x) / nk[:, None]
        for j in range(k):
            d = x - means[j]
            covs[j] = (resp[:, j, None] * d).T @ d / nk[j] + reg * np.eye(2)
        total = float((ll * w).sum())
        if total - prev < 1e-7:
            break
        prev = total
    return GMM(weights, means, covs)


def _log_normal(x: np.ndarray, mean: np.ndarray, cov: np.ndarray) -> np.ndarray:
    inv = np.linalg.inv(cov)
    d = x - mean
    return -0.5 * np.einsum("ni,ij,nj->n", d, inv, d) - 0.5 * np.log(np.linalg.det(cov)) - np.log(2 * np.pi)


def class_histograms(hist: Histograms) -> tuple[np.ndarray, np.ndarray]:
    """Summed (256, 256) skin and background histograms, each image normalised to weight 1."""
    n = hist.skin_totals + np.asarray(hist.bg.sum(1)).ravel()
    scale = scipy.sparse.diags(1.0 / np.maximum(n, 1.0))
    skin = np.asarray((scale @ hist.skin).sum(0)).reshape(256, 256)
    bg = np.asarray((scale @ hist.bg).sum(0)).reshape(256, 256)
    return skin, bg


def timed(msg: str, log: Callable[[str], None]) -> Callable[[], None]:
    """Log ``msg`` now and return a function that logs how long it took."""
    t0 = time.perf_counter()
    log(msg)
    return lambda: log(f"  done in {time.perf_counter() - t0:.1f} s")


def load_pairs(
    dataset: SkinDataset, samples: Sequence[Sample], max_side: int = 640
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(BGR image, bool mask) pairs, larger ones subsampled by an integer stride to ``max_side``."""
    out = []
    for s in samples:
        if s.mask is None:
            continue
        img, m = dataset.load_image(s), dataset.load_mask(s)
        if img.shape[:2] != m.shape:
            continue
        stride = max(1, int(np.ceil(max(img.shape[:2]) / max_side)))
        out.append((np.ascontiguousarray(img[::stride, ::stride]), np.ascontiguousarray(m[::stride, ::stride])))
    return out


def tune_icm(
    pairs: Sequence[tuple[np.ndarray, np.ndarray]],
    skin: GMM,
    bg: GMM,
    lambdas: Sequence[float] = (5.0, 10.0, 20.0, 40.0, 80.0, 160.0),
    priors: Sequence[float] = (0.3, 0.4, 0.5, 0.6),
    sweeps: Sequence[int] = (1, 2, 5, 10, 20),
    use_numba: bool = True,
    log: Callable[[str], None] = lambda s: None,
    tolerance: float = 0.0005,
) -> tuple[dict, list[dict]]:
    """Grid search of the ``icm`` settings by mean per-image IoU of the raw labels on ``pairs``.

    Sweeps are checkpoints of one run (ICM continues from where it stopped; 0 = the unary
    labels). Returns the setting ``{"lambda", "prior", "sweeps", "miou"}`` with the fewest sweeps
    among those within ``tolerance`` of the best mean IoU, and every row of the grid. The kernels
    run on one thread here: small images gain nothing from parallel sweeps.
    """
    if not use_numba:
        return _icm_grid(False, pairs, skin, bg, lambdas, priors, sweeps, log, tolerance)
    import numba

    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        return _icm_grid(True, pairs, skin, bg, lambdas, priors, sweeps, log, tolerance)
    finally:
        numba.set_num_threads(threads)


def _icm_grid(use_numba: bool, pairs, skin, bg, lambdas, priors, sweeps, log, tolerance) -> tuple[dict, list[dict]]:
    from streamseg.metrics import iou
    from streamseg.segment.classical.icm import MRFBuffers, mrf_setup, mrf_sweeps, unary_table

    labs = [cv2.cvtColor(img, cv2.COLOR_BGR2Lab) for img, _ in pairs]
    rows = []
    checkpoints = sorted(set(int(s) for s in sweeps))
    for prior in priors:
        dtable = unary_table(skin, bg, prior)
        for lam in lambdas:
            scores = {s: [] for s in [0] + checkpoints}
            for (img, truth), lab in zip(pairs, labs):
                h, w = truth.shape
                b = MRFBuffers.of(h, w)
                mrf_setup(img, lab, dtable, lam, use_numba, b)
                scores[0].append(iou(b.labels > 0, truth))
                done = 0
                for s in checkpoints:
                    labels = mrf_sweeps(b, s - done, use_numba)
                    done = s
                    scores[s].append(iou(labels > 0, truth))
            here = [{"lambda": float(lam), "prior": float(prior), "sweeps": s, "miou": float(np.mean(v))} for s, v in scores.items()]
            rows += here
            log(
                f"  prior {prior:.2f} lambda {lam:5.1f}: mIoU by sweeps "
                + " ".join(f"{r['sweeps']}:{r['miou']:.4f}" for r in here)
            )
    # fewer sweeps cost less time per frame: take the fewest within ``tolerance`` of the best
    top = max(r["miou"] for r in rows)
    near = [r for r in rows if r["miou"] >= top - tolerance]
    fewest = min(r["sweeps"] for r in near)
    best = max((r for r in near if r["sweeps"] == fewest), key=lambda r: r["miou"])
    return best, rows


def fit_classical(
    data,
    out,
    split: str = "train",
    tune_split: str | None = "val",
    include_weak: bool = False,
    max_side: int = 512,
    skin_components: int = 3,
    bg_components: int = 6,
    limit: int = 0,
    overwrite: bool = False,
):
    """Fit ellipse-diag (max mean IoU on ``split``), the icm colour mixtures, and tune icm on
    ``tune_split`` (``None``/``"none"``: keep the defaults); write the parameters to ``out``
    (``.npz`` plain arrays, or ``.json``).

    Returns:
        The :class:`~streamseg.segment.classical.params.ClassicalParams` written.

    Raises:
        OutputError: ``out`` has another suffix, exists (without ``overwrite``) or cannot be written.
        InputError: no image/mask pairs in ``split``.
    """
    from dataclasses import replace
    from datetime import datetime, timezone
    from pathlib import Path

    from streamseg import log
    from streamseg.dataset import SkinDataset
    from streamseg.errors import InputError, OutputError
    from streamseg.segment.classical.colorspace import ellipse_distance
    from streamseg.segment.classical.kernels import numba_error
    from streamseg.segment.classical.params import ORIGINAL_ELLIPSE_DIAG, ClassicalParams

    out = Path(out)
    if out.suffix.lower() not in (".npz", ".json"):
        raise OutputError(f"--out must end in .npz or .json, not {out.name!r}")
    if out.exists() and not overwrite:
        raise OutputError(f"{out} exists (use --overwrite to replace it)")
    ds = SkinDataset(data)
    samples = [s for s in ds.samples(split=split) if include_weak or s.quality != "weak"]
    if limit:
        samples = samples[:: max(1, len(samples) // limit)][:limit]
    if not any(s.mask is not None for s in samples):
        raise InputError(f"{data}: no image/mask pairs in split {split!r}")

    done = timed(f"reading {len(samples)} {split} images (max side {max_side})", log.info)
    hist = collect_histograms(ds, samples, max_side)
    done()
    orig = ellipse_distance(ORIGINAL_ELLIPSE_DIAG[:2], ORIGINAL_ELLIPSE_DIAG[2:4], ORIGINAL_ELLIPSE_DIAG[4]) <= 1.0
    before = hist.mean_iou(orig)
    done = timed(f"fitting ellipse-diag (start: original, train mIoU {before:.4f})", log.info)
    ell, after = fit_ellipse(hist, ORIGINAL_ELLIPSE_DIAG)
    done()
    log.info("  ellipse-diag: centre Cb %.3f Cr %.3f, semi-axes %.3f / %.3f, angle %.3f deg, train mIoU %.4f" % (*ell, after))

    done = timed(f"fitting GMMs ({skin_components} skin, {bg_components} background components)", log.info)
    hs, hb = class_histograms(hist)
    skin = fit_gmm(hs, skin_components)
    bg = fit_gmm(hb, bg_components)
    done()

    params = ClassicalParams(ellipse_diag=ell, skin_gmm=skin, bg_gmm=bg)
    meta: dict = {
        "fitted_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "data": str(data),
        "split": split,
        "images": len(hist.ids),
        "include_weak": include_weak,
        "max_side": max_side,
        "ellipse_diag_train_miou_before": round(before, 5),
        "ellipse_diag_train_miou_after": round(after, 5),
    }
    if tune_split and tune_split != "none":
        val = [s for s in ds.samples(split=tune_split)]
        if limit:
            val = val[:: max(1, len(val) // limit)][:limit]
        if val:
            done = timed(f"tuning icm on {len(val)} {tune_split} images", log.info)
            pairs = load_pairs(ds, val, max_side)
            best, _ = tune_icm(pairs, skin, bg, use_numba=numba_error() is None, log=log.info)
            done()
            log.info(f"  icm: lambda {best['lambda']}, prior {best['prior']}, sweeps {best['sweeps']}, {tune_split} mIoU {best['miou']:.4f}")
            params = replace(params, icm_lambda=best["lambda"], icm_prior=best["prior"], icm_sweeps=int(best["sweeps"]))
            meta.update({"icm_tuned_on": tune_split, "icm_tune_miou": round(best["miou"], 5)})
        else:
            log.warn(f"no {tune_split!r} images: icm keeps its default settings")
    params = replace(params, meta=meta)
    try:
        params.save(out)
    except OSError as exc:
        raise OutputError(f"cannot write {out}: {exc}") from None
    log.info(f"wrote {out} ({out.stat().st_size / 1024:.1f} KiB)")
    return params
