"""MediaPipe's bundled models imported as PyTorch graphs match MediaPipe's own output."""

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("mediapipe")
pytest.importorskip("tflite")

from streamseg.train.tflite_import import SegmentationLogit, TfliteGraph, _same_pad  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"


def _smooth_images(n: int, seed: int) -> np.ndarray:
    import importlib.util

    spec = importlib.util.spec_from_file_location("mk", FIXTURES / "make_pose_reference.py")
    mk = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mk)
    return mk.generated_inputs(n, seed)


def _run(graph, rgb_uint8: np.ndarray) -> np.ndarray:
    x = torch.from_numpy(rgb_uint8).permute(0, 3, 1, 2).float() / 255.0
    with torch.no_grad():
        return graph(x)[:, 0].numpy()


def test_tf_same_padding_puts_the_odd_pixel_after():
    assert _same_pad(256, 3, 2, 1) == (0, 1)
    assert _same_pad(255, 3, 2, 1) == (1, 1)
    assert _same_pad(64, 5, 1, 1) == (2, 2)
    assert _same_pad(16, 1, 1, 1) == (0, 0)


def test_selfie_graph_matches_mediapipe_solution():
    import mediapipe as mp

    graph = TfliteGraph.bundled("selfie").eval()
    images = _smooth_images(3, seed=5)
    # a frame of the shipped demo clip too (centre square), so a person is in the comparison
    import cv2

    cap = cv2.VideoCapture(str(Path(__file__).parents[1] / "examples" / "face_thumbsup_pixabay_720p.mp4"))
    ok, frame = cap.read()
    cap.release()
    assert ok
    h, w = frame.shape[:2]
    face = cv2.resize(frame[:, (w - h) // 2:(w + h) // 2], (256, 256), interpolation=cv2.INTER_AREA)[..., ::-1]
    images = np.concatenate([images, np.ascontiguousarray(face)[None]])
    ours = _run(graph, images)
    with mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=0) as seg:
        for img, got in zip(images, ours):
            want = seg.process(img).segmentation_mask
            assert want.shape == got.shape == (256, 256)
            assert np.abs(want - got).max() < 2e-3
    assert ours.max() > 0.5  # the comparison saw a person-like output, not only zeros


def test_pose_segmentation_branch_matches_the_tflite_interpreter():
    ref = np.load(FIXTURES / "pose_reference.npz")
    graph = TfliteGraph.bundled("pose").eval()
    assert sum(p.numel() for p in graph.parameters()) == pytest.approx(1.6e6, rel=0.05)
    logits = _run(graph, ref["images"])
    want = ref["logits"].astype(np.float32)
    sig = lambda v: 1.0 / (1.0 + np.exp(-np.clip(v, -80, 80)))  # noqa: E731
    assert np.abs(sig(logits) - sig(want)).max() < 5e-3
    moderate = np.abs(want) < 20
    assert moderate.mean() > 0.001
    # XNNPACK sums in another order: a handful of pixels differ more, none in probability
    assert np.percentile(np.abs(logits - want)[moderate], 99.9) < 0.05


def test_segmentation_logit_drops_the_final_sigmoid_and_every_weight_trains():
    graph = TfliteGraph.bundled("selfie").eval()
    x = torch.rand(1, 3, 256, 256)
    with torch.no_grad():
        prob = graph(x)
    model = SegmentationLogit(TfliteGraph.bundled("selfie")).eval()
    with torch.no_grad():
        logit = model(x)
    assert torch.allclose(torch.sigmoid(logit), prob, atol=1e-5)
    assert all(p.requires_grad for p in model.parameters())
    assert sum(p.numel() for p in model.parameters()) == 106_401


def test_imported_graph_exports_to_onnx(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    from streamseg.train.export import compare, export_onnx

    model = SegmentationLogit(TfliteGraph.bundled("selfie")).eval()
    path = export_onnx(model, tmp_path / "s.onnx", 256)
    batch = np.random.default_rng(0).random((2, 3, 256, 256)).astype(np.float32)
    assert compare(model, path, batch) < 1e-4
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert sess.get_inputs()[0].name == "input"


def test_temperature_divides_the_pose_logits():
    x = torch.rand(1, 3, 256, 256)
    with torch.no_grad():
        raw = TfliteGraph.bundled("pose").eval()(x)
        cooled = SegmentationLogit(TfliteGraph.bundled("pose"), temperature=25.0).eval()(x)
    assert torch.allclose(cooled, raw / 25.0, rtol=1e-4, atol=1e-3)
