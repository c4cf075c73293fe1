"""Fitting the classical parameters (``streamseg fit``) on synthetic data generated here."""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from streamseg.dataset import SkinDataset
from streamseg.offline import classical_fit as fit
from streamseg.segment.classical.colorspace import ellipse_distance
from streamseg.segment.classical.params import ORIGINAL_ELLIPSE_DIAG, read_params

TRUE_ELLIPSE = (112.0, 150.0, 24.0, 11.0, 138.0)


def make_dataset(root: Path, n: int = 8, size: int = 48, seed: int = 0) -> Path:
    """Random colours; a pixel is skin exactly when its (Cb, Cr) lies in ``TRUE_ELLIPSE``."""
    rng = np.random.default_rng(seed)
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    inside = ellipse_distance(TRUE_ELLIPSE[:2], TRUE_ELLIPSE[2:4], TRUE_ELLIPSE[4]) <= 1.0
    rows = []
    for i in range(n):
        ycc = np.stack(
            [rng.integers(70, 190, (size, size)), rng.integers(150, 256, (size, size)), rng.integers(70, 160, (size, size))], -1
        ).astype(np.uint8)  # Y, Cr, Cb around the skin region
        bgr = cv2.cvtColor(ycc, cv2.COLOR_YCrCb2BGR)
        back = cv2.cvtColor(bgr, cv2.COLOR_BGR2YCrCb)  # label the colours actually stored
        mask = inside[back[..., 2], back[..., 1]]
        cv2.imwrite(str(root / "images" / f"s{i}.png"), bgr)
        cv2.imwrite(str(root / "masks" / f"s{i}.png"), mask.astype(np.uint8) * 255)
        rows.append({"id": f"s{i}", "source": "synth", "split": "train" if i < n - 2 else "val", "quality": "good"})
    with (root / "manifest.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["id", "source", "split", "quality"])
        w.writeheader()
        w.writerows(rows)
    return root


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    return make_dataset(tmp_path_factory.mktemp("skin"))


def test_histograms_give_the_exact_iou(dataset):
    ds = SkinDataset(dataset)
    samples = ds.samples(split="train")
    hist = fit.collect_histograms(ds, samples)
    rule = ellipse_distance(ORIGINAL_ELLIPSE_DIAG[:2], ORIGINAL_ELLIPSE_DIAG[2:4], ORIGINAL_ELLIPSE_DIAG[4]) <= 1.0
    from streamseg.metrics import iou

    want = []
    for s in samples:
        ycc = cv2.cvtColor(ds.load_image(s), cv2.COLOR_BGR2YCrCb)
        want.append(iou(rule[ycc[..., 2], ycc[..., 1]], ds.load_mask(s)))
    assert np.allclose(fit.per_image_iou(hist, rule), want)


def test_fit_recovers_a_known_ellipse(dataset):
    ds = SkinDataset(dataset)
    hist = fit.collect_histograms(ds, ds.samples(split="train"))
    params, miou = fit.fit_ellipse(hist, ORIGINAL_ELLIPSE_DIAG)
    cb, cr, a, b, ang = params
    assert miou > 0.97
    assert abs(cb - TRUE_ELLIPSE[0]) < 1.5 and abs(cr - TRUE_ELLIPSE[1]) < 1.5
    assert abs(a - TRUE_ELLIPSE[2]) / TRUE_ELLIPSE[2] < 0.08 and abs(b - TRUE_ELLIPSE[3]) / TRUE_ELLIPSE[3] < 0.08
    assert abs((ang - TRUE_ELLIPSE[4] + 90) % 180 - 90) < 4.0


def test_gmm_recovers_known_components():
    rng = np.random.default_rng(0)
    pts = np.vstack([rng.normal((100, 150), (3, 6), (20000, 2)), rng.normal((140, 120), (8, 4), (10000, 2))])
    hist = np.zeros((256, 256))
    np.add.at(hist, (np.clip(np.round(pts[:, 0]), 0, 255).astype(int), np.clip(np.round(pts[:, 1]), 0, 255).astype(int)), 1)
    g = fit.fit_gmm(hist, 2)
    order = np.argsort(g.means[:, 0])
    assert np.allclose(g.means[order], [[100, 150], [140, 120]], atol=0.5)
    assert np.allclose(g.weights[order], [2 / 3, 1 / 3], atol=0.02)
    assert np.allclose(np.sqrt(np.diagonal(g.covs[order], axis1=1, axis2=2)), [[3, 6], [8, 4]], atol=0.5)


def test_fit_command_end_to_end(dataset, tmp_path):
    from streamseg.cli import app

    out = tmp_path / "classical.npz"
    res = CliRunner().invoke(app, ["fit", "--data", str(dataset), "--out", str(out), "--skin-components", "2", "--bg-components", "2"])
    assert res.exit_code == 0, res.output
    p = read_params(out)
    assert p.skin_gmm is not None and len(p.skin_gmm.weights) == 2 and len(p.bg_gmm.weights) == 2
    assert abs(p.ellipse_diag[0] - TRUE_ELLIPSE[0]) < 2 and p.meta["images"] == 6
    assert p.meta["icm_tuned_on"] == "val"
    assert out.stat().st_size < 10_000
    with np.load(out, allow_pickle=False) as z:
        assert all(z[k].dtype != object for k in z.files)
    res = CliRunner().invoke(app, ["fit", "--data", str(dataset), "--out", str(out)])
    assert res.exit_code != 0  # exists, no --overwrite


def test_fit_command_errors(tmp_path):
    from streamseg.cli import app
    from streamseg.errors import StreamsegError

    for args in (["--data", str(tmp_path / "none")], ["--data", str(tmp_path), "--out", str(tmp_path / "x.txt")]):
        res = CliRunner().invoke(app, ["fit", *args])
        assert res.exit_code != 0
        assert isinstance(res.exception, StreamsegError)
