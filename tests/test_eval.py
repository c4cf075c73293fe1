"""streamseg eval: exact scores on a tiny generated dataset, bad inputs, report files."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamseg.errors import ConfigError, InputError, MethodError
from streamseg.evaluate import evaluate, match_mask
from streamseg.evaluate import reports
from streamseg.evaluate.selection import parse_names, select_methods
from streamseg.segment.base import Segmenter


class LeftHalf(Segmenter):
    """Probability 1 on the left half of the columns, 0 elsewhere: its scores are known."""

    name = "left-half"

    def __init__(self) -> None:
        self.resets = 0

    def segment(self, frame: np.ndarray) -> np.ndarray:
        prob = np.zeros(frame.shape[:2], np.float32)
        prob[:, : frame.shape[1] // 2] = 1.0
        return prob

    def reset(self) -> None:
        self.resets += 1


class Nothing(Segmenter):
    name = "nothing"

    def segment(self, frame: np.ndarray) -> np.ndarray:
        return np.zeros(frame.shape[:2], np.float32)


class Constant(Segmenter):
    """The same probability everywhere (for thresholds)."""

    name = "constant"

    def __init__(self, p: float) -> None:
        self.p = p

    def segment(self, frame: np.ndarray) -> np.ndarray:
        return np.full(frame.shape[:2], self.p, np.float32)


class WrongShape(Segmenter):
    name = "wrong"

    def segment(self, frame: np.ndarray) -> np.ndarray:
        return np.zeros((1, 1), np.float32)


class Crashes(Segmenter):
    name = "crashes"

    def segment(self, frame: np.ndarray) -> np.ndarray:
        if frame.any():
            raise RuntimeError("boom")
        return np.zeros(frame.shape[:2], np.float32)


def _mask(rows: slice = slice(0, 0), cols: slice = slice(0, 0), shape=(4, 4)) -> np.ndarray:
    m = np.zeros(shape, np.uint8)
    m[rows, cols] = 255
    return m


def make_dataset(root: Path, pairs: dict[str, tuple[np.ndarray, np.ndarray | None]], manifest: list[dict] | None = None) -> Path:
    """images/<id>.png (mid-grey unless given) and masks/<id>.png; optional manifest.csv."""
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for sid, (image, mask) in pairs.items():
        assert cv2.imwrite(str(root / "images" / f"{sid}.png"), image)
        if mask is not None:
            assert cv2.imwrite(str(root / "masks" / f"{sid}.png"), mask)
    if manifest is not None:
        with (root / "manifest.csv").open("w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=["id", "source", "split"])
            w.writeheader()
            w.writerows(manifest)
    return root


def grey(h: int = 4, w: int = 4) -> np.ndarray:
    return np.full((h, w, 3), 128, np.uint8)


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """Three 4x4 val images with known masks and one train image.

    With LeftHalf (8 pixels of the left half):
      a: truth = top two rows     -> tp 4, fp 4, fn 4, IoU 1/3
      b: truth = left half        -> tp 8, fp 0, fn 0, IoU 1
      c: truth empty              -> tp 0, fp 8, fn 0, IoU 0
    mIoU = 4/9; pixel precision 12/24 = 0.5, recall 12/16 = 0.75, F1 = 0.6.
    """
    pairs = {
        "a": (grey(), _mask(slice(0, 2), slice(0, 4))),
        "b": (grey(), _mask(slice(0, 4), slice(0, 2))),
        "c": (grey(), _mask()),
        "t": (grey(), _mask(slice(0, 4), slice(0, 4))),
    }
    manifest = [
        {"id": "a", "source": "faces", "split": "val"},
        {"id": "b", "source": "faces", "split": "val"},
        {"id": "c", "source": "empty", "split": "val"},
        {"id": "t", "source": "faces", "split": "train"},
    ]
    return make_dataset(tmp_path / "ds", pairs, manifest)


def test_exact_scores_of_a_known_method(tiny: Path) -> None:
    seg = LeftHalf()
    res = evaluate(tiny, {"left": seg}, split="val").methods["left"]
    assert [s.id for s in res.scores] == ["a", "b", "c"]
    assert [s.iou for s in res.scores] == pytest.approx([1 / 3, 1.0, 0.0])
    assert res.miou == pytest.approx(4 / 9)
    assert res.precision == pytest.approx(0.5)
    assert res.recall == pytest.approx(0.75)
    assert res.f1 == pytest.approx(0.6)
    per = res.per_source()
    assert per["faces"].n == 2 and per["faces"].miou == pytest.approx(2 / 3)
    assert per["empty"].n == 1 and per["empty"].miou == 0.0
    assert [s.id for s in res.worst(2)] == ["c", "a"]
    assert res.ms_per_image >= 0
    assert seg.resets >= 3  # reset before each image: images are independent


def test_split_all_and_factories(tiny: Path) -> None:
    result = evaluate(tiny, {"left": LeftHalf}, split="all")
    assert result.split == "all" and result.n_scored == 4
    assert result.methods["left"].scores[-1].iou == pytest.approx(0.5)  # t: full mask vs left half


def test_empty_masks_give_iou_one(tiny: Path) -> None:
    res = evaluate(tiny, {"nothing": Nothing()}, split="val").methods["nothing"]
    assert {s.id: s.iou for s in res.scores} == pytest.approx({"a": 0.0, "b": 0.0, "c": 1.0})
    assert res.miou == pytest.approx(1 / 3)


def test_threshold_is_inclusive(tiny: Path) -> None:
    low = evaluate(tiny, {"c": Constant(0.4)}, split="val", threshold=0.5).methods["c"]
    high = evaluate(tiny, {"c": Constant(0.4)}, split="val", threshold=0.4).methods["c"]
    assert low.recall == 0.0
    assert high.recall == 1.0 and high.precision == pytest.approx(16 / 48)


def test_missing_mask_and_size_mismatch_are_reported_not_scored(tmp_path: Path) -> None:
    big = np.kron(_mask(slice(0, 4), slice(0, 2)), np.ones((2, 2), np.uint8))  # 8x8, same aspect as 4x4
    root = make_dataset(
        tmp_path / "ds",
        {
            "ok": (grey(), _mask(slice(0, 4), slice(0, 2))),
            "nomask": (grey(), None),
            "wide": (grey(), _mask(shape=(2, 4))),
            "hires": (grey(), big),
        },
    )
    result = evaluate(root, {"left": LeftHalf()}, split="val")  # no manifest: every pair counts
    assert result.split == "all"
    assert sorted(result.samples) == ["hires", "ok"]
    assert result.n_resized == 1
    assert [s.iou for s in result.methods["left"].scores] == [1.0, 1.0]
    reasons = {u.id: u.reason for u in result.unscored}
    assert reasons["nomask"] == "no mask file"
    assert reasons["wide"].startswith("size mismatch: mask 4x2 vs image 4x4")


def test_nothing_scorable_is_a_clear_error(tmp_path: Path) -> None:
    root = make_dataset(tmp_path / "ds", {"x": (grey(), None)})
    with pytest.raises(InputError, match="no image/mask pair could be scored"):
        evaluate(root, {"left": LeftHalf()})


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"split": "test"}, InputError, "no images in split 'test'; splits in .*: train, val"),
        ({"sources": ["nope"]}, InputError, "unknown source"),
        ({"threshold": 1.5}, ConfigError, "threshold"),
        ({"limit": 0}, ConfigError, "limit"),
    ],
)
def test_bad_options(tiny: Path, kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        evaluate(tiny, {"left": LeftHalf()}, **kwargs)


def test_bad_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        evaluate(tmp_path / "missing", {"left": LeftHalf()})


def test_limit_spreads_over_the_split(tiny: Path) -> None:
    result = evaluate(tiny, {"left": LeftHalf()}, split="val", limit=2)
    assert sorted(result.samples) == ["a", "c"]


def test_method_errors_name_the_method_and_image(tiny: Path) -> None:
    with pytest.raises(MethodError, match=r"method 'wrong' returned \(1, 1\) for a"):
        evaluate(tiny, {"wrong": WrongShape()}, split="val")
    with pytest.raises(MethodError, match="method 'crashes' failed on a: RuntimeError: boom"):
        evaluate(tiny, {"crashes": Crashes()}, split="val")


def test_unknown_method_and_empty_list() -> None:
    with pytest.raises(MethodError, match="unknown method 'no-such-method'; known: .*ellipse"):
        select_methods("ellipse,no-such-method")
    with pytest.raises(ConfigError, match="empty"):
        parse_names(" , ")
    assert parse_names("a, b,a") == ["a", "b"]


def test_hardest_orders_by_mean_iou(tiny: Path) -> None:
    result = evaluate(tiny, {"left": LeftHalf(), "nothing": Nothing()}, split="val")
    # mean IoU: a (1/3 + 0)/2, b (1 + 0)/2, c (0 + 1)/2; c has an empty mask: last
    assert result.hardest(3) == ["a", "b", "c"]
    only_left = evaluate(tiny, {"left": LeftHalf()}, split="val")
    assert only_left.hardest(2) == ["a", "b"]  # c (IoU 0, empty mask) comes after the non-empty ones


def test_report_files_parse(tiny: Path, tmp_path: Path) -> None:
    result = evaluate(tiny, {"left": LeftHalf(), "nothing": Nothing()}, split="val")
    paths = reports.write_eval_report(tmp_path / "rep", result, {"gone": "cannot run here: test"}, {"cpu": "x"}, "streamseg eval x")
    rep = json.loads(paths["json"].read_text())
    left = rep["methods"]["left"]
    assert left["miou"] == pytest.approx(4 / 9, abs=1e-4)
    assert (left["precision"], left["recall"], left["f1"]) == pytest.approx((0.5, 0.75, 0.6))
    faces = left["per_source"]["faces"]  # a + b: tp 12, fp 4, fn 4
    assert (faces["miou"], faces["n"], faces["precision"], faces["recall"], faces["f1"]) == pytest.approx(
        (0.6667, 2, 0.75, 0.75, 0.75)
    )
    assert isinstance(left["ms_per_image"], float)
    assert rep["skipped"] == {"gone": "cannot run here: test"}
    with paths["csv"].open() as fh:
        rows = list(csv.DictReader(fh))
    assert {(r["method"], r["source"]) for r in rows} == {(m, s) for m in ("left", "nothing") for s in ("all", "faces", "empty")}
    with paths["per_image"].open() as fh:
        assert len(list(csv.DictReader(fh))) == 6
    md = paths["md"].read_text()
    assert "| `left` | 0.444 | 0.500 | 0.750 | 0.600 |" in md
    assert "`gone`: cannot run here: test" in md


@settings(max_examples=30, deadline=None)
@given(
    st.integers(1, 6), st.integers(1, 6), st.integers(1, 4),
    st.lists(st.booleans(), min_size=36, max_size=36),
)
def test_match_mask_undoes_an_integer_upscale(h: int, w: int, k: int, bits: list[bool]) -> None:
    mask = np.array(bits[: h * w], bool).reshape(h, w)
    up = np.kron(mask, np.ones((k, k), bool))
    assert np.array_equal(match_mask(up, h, w), mask)
    assert np.array_equal(match_mask(mask, h * k, w * k), up)


def test_match_mask_rejects_another_aspect_ratio() -> None:
    assert match_mask(np.ones((10, 20), bool), 10, 10) is None
    assert match_mask(np.ones((10, 20), bool), 30, 40) is None
    m = np.ones((3, 3), bool)
    assert match_mask(m, 3, 3) is m


def test_cli_unknown_method_is_one_line(tiny: Path, cli) -> None:
    code, _, err = cli("eval", str(tiny), "--methods", "nope")
    assert code == 2
    assert err.strip().startswith("error: unknown method 'nope'")
    assert "Traceback" not in err


def test_cli_missing_folder_is_one_line(tmp_path: Path, cli) -> None:
    code, _, err = cli("eval", str(tmp_path / "nowhere"), "--methods", "ellipse")
    assert code == 2 and "dataset folder not found" in err and "Traceback" not in err


def test_cli_examples_need_report(tiny: Path, cli) -> None:
    code, _, err = cli("eval", str(tiny), "--methods", "ellipse", "--examples", "2")
    assert code == 2 and "--report" in err


def test_cli_writes_every_report(tiny: Path, tmp_path: Path, cli) -> None:
    out = tmp_path / "rep"
    code, stdout, err = cli(
        "eval", str(tiny), "--methods", "ellipse", "--split", "val", "--report", str(out), "--examples", "2"
    )
    assert code == 0, err
    assert "ellipse" in stdout
    rep = json.loads((out / "report.json").read_text())
    m = rep["methods"]["ellipse"]
    assert set(m) >= {"miou", "precision", "recall", "f1", "ms_per_image", "per_source"}
    assert m["per_source"]["faces"]["n"] == 2 and m["n"] == 3
    assert rep["command"].startswith("streamseg eval ")
    for png in ("method_choice.png", "examples.png"):
        data = (out / png).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR).shape[0] > 100
    assert "method_choice.png" in (out / "report.md").read_text()
    with (out / "report.csv").open() as fh:
        assert {r["source"] for r in csv.DictReader(fh)} == {"all", "faces", "empty"}


def test_skip_failing_drops_only_the_broken_method(tiny: Path) -> None:
    result = evaluate(tiny, {"left": LeftHalf(), "crashes": Crashes(), "wrong": WrongShape()}, split="val", skip_failing=True)
    assert list(result.methods) == ["left"]
    assert result.methods["left"].miou == pytest.approx(4 / 9)
    assert "boom" in result.failed["crashes"] and "returned (1, 1)" in result.failed["wrong"]
    with pytest.raises(MethodError, match="every method failed"):
        evaluate(tiny, {"crashes": Crashes()}, split="val", skip_failing=True)


@pytest.mark.parametrize(
    "points",
    [
        {"only": (3.0, 0.5, "classical")},
        {"a": (0.2, 0.4, "classical"), "b": (0.21, 0.41, "classical"), "m": (80.0, 0.9, "model"), "bad": (float("nan"), 0.5, "model")},
        {},
    ],
)
def test_method_choice_plot_writes_a_png(tmp_path: Path, points: dict) -> None:
    from streamseg.evaluate.plots import method_choice_plot

    path = method_choice_plot(points, tmp_path / "choice.png", subtitle="test")
    img = cv2.imread(str(path))
    assert img is not None and img.shape[1] > 400


def test_tta_rows_are_named_and_classical_methods_refuse_it(tiny: Path, cli) -> None:
    from streamseg.segment import MethodOptions

    flip = MethodOptions(tta="flip")
    with pytest.raises(ConfigError, match="--tta flip works with ONNX models; 'ellipse'"):
        select_methods("ellipse", flip)
    sel = select_methods("dlmv", flip)
    try:
        assert list(sel.segmenters) == ["dlmv+flip"] and sel.segmenters["dlmv+flip"].flip
    finally:
        sel.close()
    code, stdout, err = cli("eval", str(tiny), "--methods", "dlmv", "--tta", "flip")
    assert code == 0, err
    assert "dlmv+flip" in stdout
    code, _, err = cli("eval", str(tiny), "--methods", "ellipse", "--tta", "mirror")
    assert code == 2 and err.strip() == "error: --tta 'mirror': must be none or flip"
