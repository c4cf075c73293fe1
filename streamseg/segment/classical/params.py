"""Parameters of the classical detectors: defaults from the original project, or a fitted file.

``streamseg fit`` writes them to ``models/classical.npz`` (plain arrays, read with
``allow_pickle=False``; a ``.json`` file with the same keys also works). When no file is given
and none is shipped, the original skin_segmentation project's values are used.

Keys (all optional except ``format``; missing ones keep their defaults):

====================  =============  =====================================================
key                   shape          meaning
====================  =============  =====================================================
format                ()             1
ellipse_diag          (5,)           Cb, Cr centre, semi-axes a, b, angle in degrees
skin_weights/means/   (k,) (k, 2)    skin GMM over (Cb, Cr): weights, means, full
skin_covs             (k, 2, 2)      covariances
bg_weights/means/covs as above       background GMM
icm                   (4,)           skin prior, lambda, sweeps, scale (MRF resolution)
face                  (2,)           Mahalanobis radius of the face ellipse, trim fraction
meta                  ()             JSON string: what it was fitted on, scores
====================  =============  =====================================================

Example:
    >>> p = ClassicalParams()
    >>> p.ellipse_diag
    (119.314, 155.558, 37.089, 14.809, 148.633)
    >>> p.source
    'defaults'
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from streamseg.errors import ConfigError

FORMAT = 1
FILE_NAME = "classical.npz"


@dataclass(frozen=True)
class GMM:
    """A Gaussian mixture over (Cb, Cr): weights (k,), means (k, 2), covs (k, 2, 2), float64."""

    weights: np.ndarray
    means: np.ndarray
    covs: np.ndarray

    def log_density(self, x: np.ndarray) -> np.ndarray:
        """Log density at points x (n, 2) -> float64 (n,)."""
        x = np.asarray(x, np.float64)
        logs = []
        for w, m, c in zip(self.weights, self.means, self.covs):
            inv = np.linalg.inv(c)
            d = x - m
            maha = np.einsum("ni,ij,nj->n", d, inv, d)
            logs.append(np.log(w) - 0.5 * maha - 0.5 * np.log(np.linalg.det(c)) - np.log(2 * np.pi))
        return np.logaddexp.reduce(np.stack(logs), axis=0)

    def grid_log_density(self) -> np.ndarray:
        """Log density over the ``[Cb, Cr]`` grid: float64 (256, 256)."""
        v = np.arange(256, dtype=np.float64)
        cb, cr = np.meshgrid(v, v, indexing="ij")
        return self.log_density(np.stack([cb.ravel(), cr.ravel()], 1)).reshape(256, 256)


def _ellipse_gaussian(centre: tuple[float, float], axes: tuple[float, float], angle_deg: float, radius: float) -> GMM:
    """One Gaussian whose Mahalanobis ``radius`` contour is the given ellipse."""
    t = np.deg2rad(angle_deg)
    rot = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    cov = rot @ np.diag([(axes[0] / radius) ** 2, (axes[1] / radius) ** 2]) @ rot.T
    return GMM(np.ones(1), np.array([centre], np.float64), cov[None])


ORIGINAL_ELLIPSE_DIAG = (119.314, 155.558, 37.089, 14.809, 148.633)


@dataclass(frozen=True)
class ClassicalParams:
    """Everything the classical methods read; see the module docstring for the file keys."""

    #: axis-aligned ellipse of the original project (never refitted: it is the baseline)
    ellipse: tuple[float, float, float, float, float] = (109.38, 152.02, 13.64, 15.38, 0.0)
    ellipse_diag: tuple[float, float, float, float, float] = ORIGINAL_ELLIPSE_DIAG
    skin_gmm: GMM | None = None
    bg_gmm: GMM | None = None
    icm_prior: float = 0.3
    icm_lambda: float = 40.0
    icm_sweeps: int = 5
    icm_scale: float = 1.0
    #: tuned on val with benchmarks/accuracy/classical_face_tune.py (the original project had no face method)
    face_radius: float = 4.0
    face_trim: float = 0.2
    source: str = "defaults"
    meta: dict = field(default_factory=dict)

    def gmms(self) -> tuple[GMM, GMM]:
        """(skin, background) mixtures; without fitted ones, a Gaussian on ``ellipse_diag``
        (boundary at Mahalanobis radius 2) against a broad neutral-colour background."""
        if self.skin_gmm is not None and self.bg_gmm is not None:
            return self.skin_gmm, self.bg_gmm
        cb, cr, a, b, ang = self.ellipse_diag
        skin = _ellipse_gaussian((cb, cr), (a, b), ang, 2.0)
        bg = GMM(np.ones(1), np.array([[128.0, 128.0]]), np.diag([40.0**2, 40.0**2])[None])
        return skin, bg

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The file representation (plain numeric / unicode arrays, nothing pickled)."""
        out: dict[str, np.ndarray] = {
            "format": np.array(FORMAT),
            "ellipse_diag": np.array(self.ellipse_diag, np.float64),
            "icm": np.array([self.icm_prior, self.icm_lambda, self.icm_sweeps, self.icm_scale], np.float64),
            "face": np.array([self.face_radius, self.face_trim], np.float64),
            "meta": np.array(json.dumps(self.meta, sort_keys=True)),
        }
        for prefix, g in (("skin", self.skin_gmm), ("bg", self.bg_gmm)):
            if g is not None:
                out[f"{prefix}_weights"] = np.asarray(g.weights, np.float64)
                out[f"{prefix}_means"] = np.asarray(g.means, np.float64)
                out[f"{prefix}_covs"] = np.asarray(g.covs, np.float64)
        return out

    def save(self, path: Path) -> None:
        """Write ``.npz`` (compressed) or ``.json`` by the file's suffix."""
        path = Path(path)
        arrays = self.to_arrays()
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix.lower() == ".json":
            doc = {k: (json.loads(str(v)) if k == "meta" else v.tolist()) for k, v in arrays.items()}
            path.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
        else:
            with path.open("wb") as fh:
                np.savez_compressed(fh, **arrays)


def _array(doc: dict, key: str, shape: tuple[int | None, ...], path: Path) -> np.ndarray:
    try:
        a = np.asarray(doc[key], np.float64)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: {key!r} is not numeric ({exc})") from None
    if a.ndim != len(shape) or any(s is not None and s != n for s, n in zip(shape, a.shape)):
        want = "x".join("k" if s is None else str(s) for s in shape) or "scalar"
        raise ConfigError(f"{path}: {key!r} has shape {a.shape}, expected {want}")
    if not np.all(np.isfinite(a)):
        raise ConfigError(f"{path}: {key!r} has non-finite values")
    return a


def _gmm(doc: dict, prefix: str, path: Path) -> GMM | None:
    keys = [f"{prefix}_{k}" for k in ("weights", "means", "covs")]
    if not any(k in doc for k in keys):
        return None
    if not all(k in doc for k in keys):
        raise ConfigError(f"{path}: needs all of {', '.join(keys)}")
    w = _array(doc, keys[0], (None,), path)
    m = _array(doc, keys[1], (len(w), 2), path)
    c = _array(doc, keys[2], (len(w), 2, 2), path)
    if len(w) == 0 or np.any(w <= 0) or np.any(np.linalg.det(c) <= 0):
        raise ConfigError(f"{path}: {prefix} mixture needs positive weights and positive-definite covariances")
    return GMM(w / w.sum(), m, c)


def params_from_dict(doc: dict, path: Path) -> ClassicalParams:
    """Validate a decoded file (npz arrays or JSON values) into :class:`ClassicalParams`."""
    fmt = doc.get("format")
    if fmt is None or int(np.asarray(fmt)) != FORMAT:
        raise ConfigError(f"{path}: not a classical parameter file (format {fmt!r}, expected {FORMAT})")
    p = ClassicalParams(source=str(path))
    if "ellipse_diag" in doc:
        e = _array(doc, "ellipse_diag", (5,), path)
        if e[2] <= 0 or e[3] <= 0:
            raise ConfigError(f"{path}: ellipse_diag semi-axes must be positive")
        p = replace(p, ellipse_diag=tuple(float(v) for v in e))
    if "icm" in doc:
        prior, lam, sweeps, scale = _array(doc, "icm", (4,), path)
        if not (0 < prior < 1 and lam >= 0 and sweeps >= 0 and 0 < scale <= 1):
            raise ConfigError(f"{path}: icm needs 0 < prior < 1, lambda >= 0, sweeps >= 0, 0 < scale <= 1")
        p = replace(p, icm_prior=float(prior), icm_lambda=float(lam), icm_sweeps=int(sweeps), icm_scale=float(scale))
    if "face" in doc:
        radius, trim = _array(doc, "face", (2,), path)
        if not (radius > 0 and 0 <= trim < 0.5):
            raise ConfigError(f"{path}: face needs radius > 0 and 0 <= trim < 0.5")
        p = replace(p, face_radius=float(radius), face_trim=float(trim))
    skin, bg = _gmm(doc, "skin", path), _gmm(doc, "bg", path)
    if (skin is None) != (bg is None):
        raise ConfigError(f"{path}: needs both the skin and the background mixture, or neither")
    meta = doc.get("meta", "{}")
    try:
        meta = json.loads(str(meta)) if not isinstance(meta, dict) else meta
    except json.JSONDecodeError:
        meta = {}
    return replace(p, skin_gmm=skin, bg_gmm=bg, meta=meta)


def read_params(path: Path) -> ClassicalParams:
    """Read a ``.npz`` (``allow_pickle=False``) or ``.json`` parameter file.

    Raises:
        ConfigError: missing, unreadable or invalid file (one line).
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise ConfigError(f"classical parameter file not found: {path}")
    try:
        if path.suffix.lower() == ".json":
            doc = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(doc, dict):
                raise ConfigError(f"{path}: expected a JSON object")
        else:
            with np.load(path, allow_pickle=False) as z:
                doc = {k: z[k] for k in z.files}
    except ConfigError:
        raise
    except (OSError, ValueError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read classical parameters {path}: {exc}") from None
    return params_from_dict(doc, path)


def shipped_params_path() -> Path | None:
    """The first ``classical.npz`` in the model directories, if any."""
    from streamseg.paths import model_dirs

    for d in model_dirs():
        if (d / FILE_NAME).is_file():
            return d / FILE_NAME
    return None


def load_params(path: Path | None = None) -> ClassicalParams:
    """``path`` if given, else the shipped ``models/classical.npz``, else the defaults."""
    if path is not None:
        return read_params(Path(path))
    shipped = shipped_params_path()
    return read_params(shipped) if shipped is not None else ClassicalParams()
