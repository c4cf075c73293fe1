"""The shipped models (models/selfie-skin-384.*, selfie-skin-hq-512.*, dlmv-256.*, u2netp-256.*): they load, match their specs, and see skin.

Needs only onnxruntime (the runtime dependency), not torch. The frame comes from the demo clip
shipped in the repo (examples/), never from the shared data folder.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

ort = pytest.importorskip("onnxruntime")

REPO = Path(__file__).resolve().parents[1]
MODELS = REPO / "models"
CLIP = REPO / "examples" / "face_thumbsup_pixabay_720p.mp4"
#: (file stem, method name, input size). u2netp-256: the U²-NetP graph takes 256x256 until it is trained at 512 (see its card).
SHIPPED = [
    ("selfie-skin-384", "selfie-skin", 384), ("selfie-skin-hq-512", "selfie-skin-hq", 512),
    ("dlmv-256", "dlmv", 256), ("u2netp-256", "u2netp", 256),
]

# frame 60 of the demo clip, as fractions of (x0, y0, x1, y1): the face box MediaPipe's face detector
# reports there (hair, eyes, brows and the raised thumb included, so ~2/3 of it is skin), and the
# dark cloth backdrop in the top corners
FACE_BOX = (0.352, 0.26, 0.603, 0.706)
DARK_BOXES = [(0.0, 0.0, 0.2, 0.3), (0.8, 0.0, 1.0, 0.45)]
#: share of the face box that must be marked, per model: selfie-skin 0.75 (384 and hq 512), dlmv (stage 4) 0.60 (stage 3: 0.63), u2netp 0.47;
#: both miss much of the eye band of this dim, low-key face (see the model cards). Raise as they improve.
MIN_FACE_SHARE = {"selfie-skin-384": 0.6, "selfie-skin-hq-512": 0.6, "dlmv-256": 0.55, "u2netp-256": 0.4}


def _spec(stem: str) -> dict:
    return json.loads((MODELS / f"{stem}.json").read_text(encoding="utf-8"))


def _session(stem: str):
    spec = _spec(stem)
    return spec, ort.InferenceSession(str(MODELS / spec["file"]), providers=["CPUExecutionProvider"])


@pytest.fixture(scope="module")
def frame() -> np.ndarray:
    cap = cv2.VideoCapture(str(CLIP))
    for _ in range(61):  # read, not seek: seeking is not frame-accurate in every backend
        ok, f = cap.read()
    cap.release()
    assert ok, f"cannot read frame 60 of {CLIP}"
    return f


def _predict(spec: dict, sess, frame: np.ndarray) -> np.ndarray:
    """What the spec says a runtime does: squash to input_size, RGB, / scale, run, take the channel, resize back."""
    w, h = spec["input_size"][1], spec["input_size"][0]
    x = cv2.resize(frame, (w, h), interpolation=cv2.INTER_AREA)
    if spec["color_order"] == "RGB":
        x = x[..., ::-1]
    x = x.astype(np.float32) / spec["scale"]
    if spec["mean"] is not None:
        x = (x - np.array(spec["mean"], np.float32)) / np.array(spec["std"], np.float32)
    x = np.ascontiguousarray(x.transpose(2, 0, 1)[None])
    out = sess.run(None, {spec["input_name"]: x})[spec["output_index"]][0, spec["output_channel"]]
    assert spec["output"] == "probability"
    return cv2.resize(out, (frame.shape[1], frame.shape[0]), interpolation=cv2.INTER_LINEAR)


def _box(mask: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    h, w = mask.shape
    x0, y0, x1, y1 = box
    return mask[int(y0 * h) : int(y1 * h), int(x0 * w) : int(x1 * w)]


@pytest.mark.parametrize("stem,name,size", SHIPPED)
def test_spec_matches_graph(stem: str, name: str, size: int) -> None:
    spec, sess = _session(stem)
    assert spec["name"] == name and spec["file"] == f"{stem}.onnx"
    assert spec["input_size"] == [size, size] and spec["output"] == "probability"
    assert (MODELS / spec["card"]).is_file()
    inp = sess.get_inputs()
    assert [i.name for i in inp] == [spec["input_name"]]
    shape = inp[0].shape
    assert shape[1:] == [3, size, size]
    assert isinstance(shape[0], str) == spec["dynamic_batch"]  # symbolic batch dimension
    assert sess.get_outputs()[0].name == "output"
    x = np.random.default_rng(0).random((2, 3, size, size), dtype=np.float32)
    y = sess.run(None, {spec["input_name"]: x})[spec["output_index"]]
    assert y.shape == (2, 1, size, size) and y.dtype == np.float32
    assert 0.0 <= float(y.min()) and float(y.max()) <= 1.0


@pytest.mark.parametrize("stem,name,size", SHIPPED)
def test_demo_frame_face_is_skin_background_is_not(stem: str, name: str, size: int, frame: np.ndarray) -> None:
    spec, sess = _session(stem)
    mask = _predict(spec, sess, frame) >= 0.5
    face = _box(mask, FACE_BOX).mean()
    assert face > MIN_FACE_SHARE[stem]
    for box in DARK_BOXES:
        assert _box(mask, box).mean() < 0.05
    # skin concentrates on the person, not spread over the frame (the bare shoulders and the raised
    # arm are skin too: selfie-skin marks 18 % of the frame, 0.68 of the face box)
    assert face > 3 * mask.mean()


@pytest.mark.parametrize("stem", [s for s, _, _ in SHIPPED])
@pytest.mark.parametrize("grey", [128, 235, 20])
def test_a_plain_wall_is_not_skin(stem: str, grey: int) -> None:
    # a camera facing a grey, white or dark wall, with sensor noise: the first shipped models called
    # grey and white walls 70-100 % skin; the stage-2 runs trained with such walls (p_blank)
    spec, sess = _session(stem)
    noise = np.random.default_rng(grey).integers(-3, 4, (360, 640, 3))
    wall = np.clip(grey + noise, 0, 255).astype(np.uint8)
    assert (_predict(spec, sess, wall) >= 0.5).mean() < 0.05
