"""The shipped person model (MediaPipe's selfie segmentation converted to ONNX): its contract,
that it is not a skin method, and its parity with MediaPipe where mediapipe is installed."""

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from streamseg.paths import shipped_models_dir
from streamseg.segment.onnx_model import ModelSpec, discover_models
from streamseg.segment.registry import method_names

ort = pytest.importorskip("onnxruntime")

ROOT = Path(__file__).resolve().parents[1]
ONNX = shipped_models_dir() / "person-selfie-256.onnx"
SPEC = shipped_models_dir() / "person-selfie-256.json"


def _session():
    return ort.InferenceSession(str(ONNX), providers=["CPUExecutionProvider"])


def _generated_rgb(n: int, seed: int) -> np.ndarray:
    """Smooth random RGB uint8 (n, 256, 256, 3): upsampled noise plus colour gradients."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:256, 0:256] / 256.0
    out = []
    for _ in range(n):
        img = cv2.resize(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8), (256, 256), interpolation=cv2.INTER_CUBIC)
        img = img.astype(np.float32) + 60 * np.stack([yy, xx, 1 - yy], -1)
        out.append(np.clip(img, 0, 255).astype(np.uint8))
    return np.stack(out)


def _demo_frame(index: int = 60) -> np.ndarray:
    cap = cv2.VideoCapture(str(ROOT / "examples" / "face_thumbsup_pixabay_720p.mp4"))
    cap.set(cv2.CAP_PROP_POS_FRAMES, index)
    ok, frame = cap.read()
    cap.release()
    assert ok
    return frame


def _to_input(rgb: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(rgb.transpose(0, 3, 1, 2), np.float32) / 255.0


def test_person_model_is_not_listed_as_a_skin_method():
    assert SPEC.is_file() and ONNX.is_file()
    names = method_names()
    assert "person-selfie" not in names
    assert "selfie-skin" in names  # the skin models are still found in the same folder


def test_a_spec_with_another_task_is_skipped_by_discovery(tmp_path):
    base = json.loads(SPEC.read_text())
    assert base["task"] == "person"
    untagged = {k: v for k, v in base.items() if k != "task"}
    (tmp_path / "a.json").write_text(json.dumps(dict(base, name="skinny", task="skin")))
    (tmp_path / "b.json").write_text(json.dumps(dict(untagged, name="untagged")))  # skin by default
    (tmp_path / "c.json").write_text(json.dumps(dict(base, name="gate")))
    assert sorted(discover_models([tmp_path])) == ["skinny", "untagged"]


def test_spec_and_graph_follow_the_skin_models_contract():
    spec = ModelSpec.load(SPEC)
    assert spec.path == ONNX and spec.input_name == "input" and spec.input_size == (256, 256)
    assert spec.color_order == "RGB" and spec.scale == 255.0 and spec.output == "probability"
    assert spec.card_path is not None and spec.card_path.is_file()
    sess = _session()
    (inp,) = sess.get_inputs()
    assert inp.name == "input" and inp.type == "tensor(float)"
    assert inp.shape[1:] == [3, 256, 256] and not isinstance(inp.shape[0], int)  # dynamic batch
    x = _to_input(_generated_rgb(3, seed=1))
    (out,) = sess.run(None, {"input": x})
    assert out.shape == (3, 1, 256, 256) and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0
    # batched equals one by one
    one = np.concatenate([sess.run(None, {"input": x[i:i + 1]})[0] for i in range(3)])
    assert np.abs(one - out).max() < 1e-5


def test_person_model_sees_the_person_of_the_demo_clip():
    frame = _demo_frame()
    h, w = frame.shape[:2]
    x = _to_input(cv2.resize(frame, (256, 256), interpolation=cv2.INTER_AREA)[None, ..., ::-1])
    prob = _session().run(None, {"input": x})[0][0, 0]
    # the presenter fills the middle of the frame; the top corners are background
    assert prob[128 - 20:128 + 20, 128 - 20:128 + 20].mean() > 0.8
    assert prob[:20, :20].mean() < 0.2 and prob[:20, -20:].mean() < 0.2


def test_person_model_matches_mediapipe_selfie_segmentation():
    mp = pytest.importorskip("mediapipe")
    frame = _demo_frame()
    h, w = frame.shape[:2]
    square = cv2.resize(frame[:, (w - h) // 2:(w + h) // 2], (256, 256), interpolation=cv2.INTER_AREA)
    images = np.concatenate([_generated_rgb(3, seed=5), np.ascontiguousarray(square[None, ..., ::-1])])
    sess = _session()
    got = sess.run(None, {"input": _to_input(images)})[0][:, 0]
    with mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=0) as seg:
        want = np.stack([seg.process(np.ascontiguousarray(im)).segmentation_mask for im in images])
        # a whole 720p frame, with MediaPipe's resampling (warpAffine in, bilinear resize out)
        want_full = seg.process(np.ascontiguousarray(frame[..., ::-1])).segmentation_mask
    assert np.abs(got - want).max() < 1e-3
    assert got[-1].max() > 0.5
    scale = np.array([[256 / w, 0, 0], [0, 256 / h, 0]], np.float32)
    warped = cv2.warpAffine(frame, scale, (256, 256), flags=cv2.INTER_LINEAR)[None, ..., ::-1]
    prob = sess.run(None, {"input": _to_input(warped)})[0][0, 0]
    full = cv2.resize(prob, (w, h), interpolation=cv2.INTER_LINEAR)
    assert np.abs(full - want_full).max() < 1e-3
