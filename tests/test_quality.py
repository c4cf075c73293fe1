"""Quality modes (streamseg.segment.quality): each fusion step against a hand computation, and the
shipped person gate on generated rooms and the demo frame (no shared data)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from streamseg.errors import ConfigError
from streamseg.segment.base import MethodOptions, Segmenter
from streamseg.segment.quality import (
    PLANS, Plan, QualitySegmenter, apply_gate, check_quality, fuse_tiles, gate_multiplier, tile_boxes, zoom_boxes,
)

CLIP = Path(__file__).resolve().parents[1] / "examples" / "face_thumbsup_pixabay_720p.mp4"
FACE_BOX = (0.352, 0.26, 0.603, 0.706)  # frame 60, as in test_train_shipped.py


@pytest.mark.parametrize("h,w", [(100, 200), (37, 53), (720, 1280), (5, 5)])
def test_tiles_cover_every_pixel_and_overlap(h: int, w: int) -> None:
    boxes = tile_boxes(h, w)
    assert len(boxes) == 4
    cover = np.zeros((h, w), int)
    for y0, y1, x0, x1 in boxes:
        assert 0 <= y0 < y1 <= h and 0 <= x0 < x1 <= w
        assert (y1 - y0, x1 - x0) == (max(1, round(h * 0.57)), max(1, round(w * 0.57)))
        cover[y0:y1, x0:x1] += 1
    assert cover.min() >= 1
    if min(h, w) >= 10:
        assert cover.max() == 4  # the centre is seen by every tile


def test_fusion_is_the_mean_of_the_full_view_and_the_tiles() -> None:
    h, w = 10, 20
    boxes = tile_boxes(h, w, side=0.6)  # rows 0-6 / 4-10, columns 0-12 / 8-20
    full = np.full((h, w), 0.2, np.float32)
    tiles = [np.full((y1 - y0, x1 - x0), v, np.float32) for (y0, y1, x0, x1), v in zip(boxes, (1.0, 0.0, 0.0, 0.0))]
    fused = fuse_tiles(full, tiles, boxes)
    assert fused[0, 0] == pytest.approx((0.2 + 1.0) / 2)  # only tile 0 sees the corner
    assert fused[0, 19] == pytest.approx(0.2 / 2)  # only tile 1
    assert fused[5, 10] == pytest.approx((0.2 + 0.25) / 2)  # all four tiles: their mean is 0.25


def test_the_full_view_wins_on_a_close_up() -> None:
    """A face filling the frame: the full view is sure, the tiles (each a part of the face) are
    not; the fused map still calls it skin, where the tiles' mean alone would not."""
    h, w = 40, 40
    boxes = tile_boxes(h, w)
    full = np.full((h, w), 0.95, np.float32)
    tiles = [np.full((y1 - y0, x1 - x0), 0.2, np.float32) for y0, y1, x0, x1 in boxes]
    fused = fuse_tiles(full, tiles, boxes)
    assert (fused >= 0.5).all()
    assert np.allclose(fused, (0.95 + 0.2) / 2)


class Probe(Segmenter):
    """A model that marks skin where the blue channel is 255 and records the crops it is given."""

    name = "probe"
    kind = "model"

    def __init__(self) -> None:
        self.seen: list[tuple[int, int]] = []

    def segment(self, frame: np.ndarray) -> np.ndarray:
        self.seen.append(frame.shape[:2])
        return (frame[..., 0] == 255).astype(np.float32)


def test_a_tile_result_lands_where_its_box_is() -> None:
    """Best mode without a gate: the inner model sees the frame and four crops, and a dot seen
    only in the crops lands at its place in the frame."""
    frame = np.zeros((100, 200, 3), np.uint8)
    frame[10:14, 20:24, 0] = 255
    inner = Probe()
    seg = QualitySegmenter(inner, Plan(flip=False, gate=False, tiles=True), None)
    out = seg.segment(frame)
    assert inner.seen == [(100, 200)] + [(57, 114)] * 4
    assert out.shape == (100, 200)
    # the dot is in tile 0 only: (full 1 + tile 1) / 2 = 1 there, 0 elsewhere
    assert (out[10:14, 20:24] == 1.0).all()
    out[10:14, 20:24] = 0
    assert not out.any()
    assert seg.segment_native(frame).shape == (100, 200)  # the fused map is frame-size


class OneFace:
    """A face finder that always reports one face box (x0, y0, x1, y1)."""

    def __init__(self, box: tuple[float, float, float, float]) -> None:
        self.box = box

    def boxes(self, frame, tiles=()):
        return [self.box]


class ZoomOnly(Probe):
    """Marks every pixel of a 45x45 input (the zoom crop) as skin, nothing of any other."""

    def segment(self, frame: np.ndarray) -> np.ndarray:
        self.seen.append(frame.shape[:2])
        return np.full(frame.shape[:2], float(frame.shape[:2] == (45, 45)), np.float32)


def test_a_zoomed_face_crop_lands_where_its_box_is() -> None:
    """The square 3x the face box is segmented in the same batch as the tiles and averaged into
    the fused map exactly over its box."""
    frame = np.zeros((90, 180, 3), np.uint8)
    inner = ZoomOnly()
    seg = QualitySegmenter(inner, Plan(flip=False, gate=False, tiles=True, zoom=True), None, OneFace((135, 35, 150, 50)))
    out = seg.segment(frame)
    assert inner.seen == [(90, 180)] + [(51, 103)] * 4 + [(45, 45)]  # frame, four tiles, the zoom
    box = zoom_boxes([(135, 35, 150, 50)], 90, 180)
    assert box == [(20, 65, 120, 165)]  # 45 px around the face's centre (142.5, 42.5)
    expected = np.zeros((90, 180), np.float32)
    expected[20:65, 120:165] = 0.5  # (fused 0 + zoom 1) / 2
    assert np.array_equal(out, expected)


def test_gate_multiplier_grows_the_person_and_drops_the_rest() -> None:
    person = np.zeros((100, 100), np.float32)
    person[40:60, 40:60] = 1.0
    g = gate_multiplier(person, grow=0.03)  # 3 px on a 100 px side
    assert (g[40:60, 40:60] == 1.0).all()
    assert g[37, 50] == 1.0 and g[50, 62] == 1.0  # within the grown band
    assert g[36, 50] == 0.0 and g[50, 63] == 0.0  # just past it
    assert g[0, 0] == 0.0 and g[50, 90] == 0.0
    half = gate_multiplier(np.full((10, 10), 0.25, np.float32))
    assert np.allclose(half, 0.5)  # doubled: even odds of a person keep half the probability


def test_gate_spares_a_confident_close_up_only() -> None:
    nobody = np.zeros((50, 50), np.float32)
    close_up = np.full((50, 50), 0.98, np.float32)
    close_up[:10] = 0.0  # 80 % of the frame is sure skin
    assert np.array_equal(apply_gate(close_up, nobody), close_up)
    unsure = np.full((50, 50), 0.8, np.float32)  # a beige wall a model half believes
    assert not apply_gate(unsure, nobody).any()
    assert not apply_gate(close_up, nobody, closeup=False).any()  # a classical method's 0/1 map
    # judged on another map (the full view's): a sure full view spares a fused map that is not
    assert np.array_equal(apply_gate(unsure_fused := close_up * 0.9, nobody, judge=close_up), unsure_fused)
    assert not apply_gate(close_up, nobody, judge=np.full((50, 50), 0.8, np.float32)).any()
    small = np.zeros((50, 50), np.float32)
    small[:5, :5] = 0.99  # sure but small: gated like anything else
    assert not apply_gate(small, nobody).any()


def test_quality_values_are_checked() -> None:
    for q in ("fast", "balanced", "best"):
        assert check_quality(q) == q
    with pytest.raises(ConfigError, match="--quality"):
        check_quality("ultra")
    assert not PLANS["fast"].gate and PLANS["balanced"].flip and PLANS["best"].tiles


# ------------------------------------------------------------------ the shipped person gate

pytest.importorskip("onnxruntime")


def _room(kind: str) -> np.ndarray:
    """Generated skin-coloured surfaces a skin model is tempted by: a plain wall, a beige door with
    panels, a wooden table with grain (BGR, 360x640, with sensor noise)."""
    rng = np.random.default_rng({"wall": 1, "door": 2, "table": 3}[kind])
    h, w = 360, 640
    if kind == "wall":
        img = np.full((h, w, 3), (170, 190, 215), np.float32)
    elif kind == "door":
        img = np.full((h, w, 3), (150, 185, 215), np.float32)
        for y0, y1 in ((30, 160), (200, 330)):
            cv2.rectangle(img, (200, y0), (440, y1), (120, 150, 180), 6)
        cv2.circle(img, (420, 180), 8, (60, 60, 60), -1)
    else:
        x = np.arange(w, dtype=np.float32)
        grain = 18 * np.sin(x / 7.0 + 3 * np.sin(np.arange(h, dtype=np.float32)[:, None] / 40.0))
        img = np.stack([60 + grain, 110 + grain, 170 + grain], -1).astype(np.float32)
    img += rng.normal(0, 3, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def _frame60() -> np.ndarray:
    cap = cv2.VideoCapture(str(CLIP))
    for _ in range(61):
        ok, f = cap.read()
    cap.release()
    assert ok
    return f


@pytest.mark.parametrize("method", ["selfie-skin", "selfie-skin-hq", "dlmv"])
@pytest.mark.parametrize("quality", ["balanced", "best"])
def test_gated_models_keep_rooms_empty_and_mark_the_face(method: str, quality: str) -> None:
    from streamseg.segment.registry import create

    seg = create(method, MethodOptions(quality=quality, strict=True, threads=1))
    try:
        assert isinstance(seg, QualitySegmenter)
        for kind in ("wall", "door", "table"):
            assert (seg.segment(_room(kind)) >= 0.5).mean() < 0.01, kind
        frame = _frame60()
        mask = seg.segment(frame) >= 0.5
        h, w = mask.shape
        x0, y0, x1, y1 = FACE_BOX
        assert mask[int(y0 * h):int(y1 * h), int(x0 * w):int(x1 * w)].mean() > 0.5
    finally:
        seg.close()


# ------------------------------------------------------------------ one option everywhere


def test_quality_reaches_the_session_from_the_api_and_a_config_file(tmp_path: Path) -> None:
    import streamseg

    seg = streamseg.new_session("ellipse", quality="balanced")
    assert isinstance(seg, QualitySegmenter) and seg.gate is not None and not seg.tiles
    assert not isinstance(streamseg.new_session("ellipse"), QualitySegmenter)  # fast adds nothing
    cfg = tmp_path / "run.toml"
    cfg.write_text('[method]\nquality = "best"\n')
    from streamseg.pipeline.spec import RunSpec

    assert RunSpec.make(cfg).method.options().quality == "best"
    assert RunSpec.make(cfg, quality="fast").method.quality == "fast"  # a flag wins over the file
    cfg.write_text("[method]\nquality = 3\n")
    with pytest.raises(ConfigError, match="quality"):
        RunSpec.make(cfg)
    with pytest.raises(ConfigError, match="quality"):
        streamseg.new_session("ellipse", quality="ultra")


def test_cli_quality_is_checked_before_anything_is_written(tmp_path: Path, cli) -> None:
    img = tmp_path / "room.png"
    cv2.imwrite(str(img), _room("door"))
    code, out, err = cli("image", str(img), "-o", str(tmp_path / "out"), "--quality", "ultra")
    assert code == 2 and "quality: must be fast, balanced or best" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()
    code, out, err = cli("image", str(img), "-o", str(tmp_path / "out"), "-m", "ellipse", "--quality", "best")
    assert code == 0, err
    mask = cv2.imread(str(tmp_path / "out" / "room_mask.png"), cv2.IMREAD_GRAYSCALE)
    assert mask is not None and (mask > 127).mean() < 0.01  # the gate keeps the beige door empty


def test_eval_names_the_quality_in_its_rows(tmp_path: Path, cli) -> None:
    from tests.test_eval_proxies import make

    data = make(tmp_path / "d", n=4)
    code, out, err = cli("eval", str(data), "--methods", "ycbcr", "--quality", "balanced")
    assert code == 0, err
    assert "ycbcr+balanced" in out
