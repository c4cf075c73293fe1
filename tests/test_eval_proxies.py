"""The --mosaic and --skin-tone proxies score what a hand computation says (generated data only)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from streamseg.dataset import SkinDataset
from streamseg.errors import ConfigError
from streamseg.evaluate.accuracy import evaluate
from streamseg.evaluate.proxies import MosaicDataset, SkinToneDataset, proxy_dataset
from streamseg.segment.base import Segmenter


class Bright(Segmenter):
    """Skin = grey level above 150: a method that depends on the skin's lightness."""

    name = "bright"

    def segment(self, frame: np.ndarray) -> np.ndarray:
        return (cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) > 150).astype(np.float32)


class Everything(Segmenter):
    name = "everything"

    def segment(self, frame: np.ndarray) -> np.ndarray:
        return np.ones(frame.shape[:2], np.float32)


def make(root: Path, n: int = 8) -> Path:
    """n 40x40 images of one source: a light-skin square (rows 0-19 of the left half) on a dark wall;
    odd images have no skin at all."""
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    rows = ["id,source,split"]
    for i in range(n):
        img = np.full((40, 40, 3), 50, np.uint8)
        mask = np.zeros((40, 40), np.uint8)
        if i % 2 == 0:
            img[:20, :20] = (170, 200, 235)
            mask[:20, :20] = 255
        cv2.imwrite(str(root / "images" / f"g{i}.png"), img)
        cv2.imwrite(str(root / "masks" / f"g{i}.png"), mask)
        rows.append(f"g{i},gen,val")
    (root / "manifest.csv").write_text("\n".join(rows) + "\n")
    return root


def test_mosaic_scores_tiled_images_against_tiled_masks(tmp_path: Path) -> None:
    data = make(tmp_path / "d", n=9)
    ds = MosaicDataset(data, 2, tile=40)
    samples = ds.samples(split="val")
    assert len(samples) == 2  # 9 images -> two 2x2 mosaics, the 9th dropped
    img, mask = ds.load_image(samples[0]), ds.load_mask(samples[0])
    assert img.shape == (80, 80, 3) and mask.shape == (80, 80)
    # tiles 0 and 2 (top-left, bottom-left) hold a 20x20 square each: 800 of 6400 pixels
    assert mask.sum() == 800 and mask[:20, :20].all() and mask[40:60, :20].all()
    res = evaluate(ds, {"everything": Everything(), "bright": Bright()}, split="val")
    assert res.methods["everything"].miou == pytest.approx(800 / 6400)
    assert res.methods["bright"].miou == pytest.approx(1.0)


def test_dark_skin_tone_fails_a_lightness_rule_and_leaves_the_rest(tmp_path: Path) -> None:
    data = make(tmp_path / "d", n=4)
    plain = evaluate(data, {"bright": Bright()}, split="val").methods["bright"].miou
    dark_ds = SkinToneDataset(data, "dark")
    dark = evaluate(dark_ds, {"bright": Bright()}, split="val").methods["bright"].miou
    assert plain == pytest.approx(1.0)
    # images with skin: darker skin is missed entirely (IoU 0); skinless images stay 1 -> mean 0.5
    assert dark == pytest.approx(0.5)
    s = dark_ds.samples(split="val")[0]
    before, after = SkinDataset.load_image(s), dark_ds.load_image(s)
    assert np.array_equal(before[30:, 30:], after[30:, 30:])  # far from skin: unchanged
    assert after[:18, :18].mean() < before[:18, :18].mean() - 40


def test_proxy_options_are_checked(tmp_path: Path) -> None:
    data = make(tmp_path / "d", n=4)
    with pytest.raises(ConfigError):
        proxy_dataset(data, mosaic=3, skin_tone="dark")
    with pytest.raises(ConfigError):
        proxy_dataset(data, skin_tone="purple")
    with pytest.raises(ConfigError):
        proxy_dataset(data, mosaic=1)


def test_eval_command_takes_the_proxies(tmp_path: Path, cli) -> None:
    data = make(tmp_path / "d", n=8)
    code, out, err = cli("eval", str(data), "--methods", "ycbcr", "--mosaic", "2")
    assert code == 0, err
    assert "mosaic" in (out + err) or "2 images" in (out + err)
    code, out, err = cli("eval", str(data), "--methods", "ycbcr", "--skin-tone", "purple")
    assert code != 0 and "skin-tone" in err and "Traceback" not in err
