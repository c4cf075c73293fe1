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


def make_scenes(root: Path, shares: tuple[float, ...] = (0.0, 0.02, 0.25)) -> Path:
    """Scenes (80x100, val split) with nobody in them; scene k has a bright patch covering
    ``shares[k]`` of its pixels (what a brightness rule will call skin), one train scene more."""
    (root / "images").mkdir(parents=True)
    rows = ["id,split"]
    for k, share in enumerate(shares):
        img = np.full((80, 100, 3), 40, np.uint8)
        img.reshape(-1, 3)[: round(share * 8000)] = 220  # the first rows, row by row
        cv2.imwrite(str(root / "images" / f"s{k}.jpg"), img, [cv2.IMWRITE_JPEG_QUALITY, 100])
        rows.append(f"s{k},val")
    cv2.imwrite(str(root / "images" / "t0.jpg"), np.full((80, 100, 3), 220, np.uint8))
    rows.append("t0,train")
    (root / "manifest.csv").write_text("\n".join(rows) + "\n")
    return root


def test_scenes_proxy_reports_false_positive_shares(tmp_path: Path) -> None:
    from streamseg.evaluate.eval_run import scene_table
    from streamseg.metrics import scene_rates

    scenes = make_scenes(tmp_path / "scenes")
    ds = proxy_dataset(tmp_path / "skin", scenes=True, scenes_dir=scenes)
    assert len(ds.samples("val")) == 3  # the train scene is not scored
    r = evaluate(ds, {"bright": Bright()}, split="val")
    rates = scene_table(r)["bright"]
    # shares 0, 0.02 and 0.25 (JPEG edges aside): mean 0.09, two of three scenes above 1 %
    assert rates["pixels"] == pytest.approx(0.09, abs=0.003)
    assert rates["over_1pct"] == pytest.approx(2 / 3)
    assert scene_rates([0.0, 0.5]) == {"pixels": 0.25, "over_1pct": 0.5}


def test_wide_proxy_pastes_the_subject_small_and_scores_the_pasted_skin(tmp_path: Path) -> None:
    from streamseg.evaluate.proxies import WIDE_SIDE

    data = make(tmp_path / "skin", n=4)  # 40x40 images, even ones with a 20x20 skin square
    make_scenes(tmp_path / "scenes", (0.0,))
    ds = proxy_dataset(data, wide=4)  # scenes/ beside the dataset
    s = ds.samples("val")
    img, mask = ds.load_image(s[0]), ds.load_mask(s[0])
    assert img.shape == (round(80 * WIDE_SIDE / 100), WIDE_SIDE, 3) and mask.shape == img.shape[:2]
    # the 40 px subject becomes 1024 / 4 = 256 px: its 20x20 skin square is 128x128, in the
    # subject's corner, where the cut-out fades out over 10 % of the side (half of it, 13 px,
    # under alpha 0.5 and so not labelled): 115x115
    ys, xs = np.nonzero(mask)
    assert (ys.max() - ys.min() + 1, xs.max() - xs.min() + 1) == pytest.approx((115, 115), abs=1)
    assert mask.sum() == pytest.approx(115 * 115, rel=0.02)
    # the pasted skin (blended at >= 0.5 and its light moved towards the scene's) is where the
    # mask is, clearly brighter than the scene (grey 40)
    assert (img[mask] > 80).all() and (img[~mask] < 80).mean() > 0.99
    assert not ds.load_mask(s[1]).any()  # a subject without skin leaves the scene empty
    r = evaluate(ds, {"everything": Everything()}, split="val")
    # calling everything skin scores the skin share of the picture on the skin images, 0 on the others
    share = mask.sum() / mask.size
    assert r.methods["everything"].miou == pytest.approx(share / 2, rel=0.03)


def test_wide_and_scenes_need_a_scenes_folder(tmp_path: Path) -> None:
    from streamseg.errors import InputError

    data = make(tmp_path / "skin", n=4)
    with pytest.raises(InputError, match="scenes folder not found"):
        proxy_dataset(data, wide=4)
    with pytest.raises(ConfigError):
        proxy_dataset(data, wide=4, scenes=True)
    make_scenes(tmp_path / "scenes")
    with pytest.raises(ConfigError):
        proxy_dataset(data, wide=1)


def test_eval_command_takes_the_room_proxies(tmp_path: Path, cli) -> None:
    data = make(tmp_path / "skin", n=4)
    make_scenes(tmp_path / "scenes")
    code, out, err = cli("eval", str(data), "--methods", "ycbcr", "--scenes")
    assert code == 0, err
    assert "pixels called skin" in out and "3 scenes" in out
    code, out, err = cli("eval", str(data), "--methods", "ycbcr", "--wide", "3")
    assert code == 0, err
    code, out, err = cli("eval", str(data), "--methods", "ycbcr", "--wide", "3", "--scenes-dir", str(tmp_path / "nope"))
    assert code != 0 and "scenes folder not found" in err and "Traceback" not in err
