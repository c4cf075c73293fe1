"""Smoothing at the model's resolution (issue 19 item 1): the segmenter hands over its native
map, the processor smooths it at that size and upsamples once; ``none`` is unchanged."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from streamseg.errors import MethodError  # noqa: E402
from streamseg.frames import Frame  # noqa: E402
from streamseg.pipeline.file_run import process_video_file, run_frames  # noqa: E402
from streamseg.pipeline.processor import Processor  # noqa: E402
from streamseg.segment import MethodOptions, create  # noqa: E402
from streamseg.segment.base import Segmenter  # noqa: E402
from streamseg.segment.fallback import FallbackSegmenter  # noqa: E402
from streamseg.smooth import make_smoother  # noqa: E402

W = np.array([[3.0, -2.0, 1.5]], np.float32)
B = np.array([-1.0], np.float32)


def tiny_model(path: Path, size: int = 16, pool: bool = True, dynamic_batch: bool = True) -> Path:
    """Nx3xSxS -> sigmoid(avgpool2(1x1 conv)): a probability map of S/2 x S/2 (S x S without pool)."""
    nodes = [helper.make_node("Conv", ["input", "w", "b"], ["conv"])]
    last = "conv"
    if pool:
        nodes.append(helper.make_node("AveragePool", [last], ["pool"], kernel_shape=[2, 2], strides=[2, 2]))
        last = "pool"
    nodes.append(helper.make_node("Sigmoid", [last], ["prob"]))
    n = "N" if dynamic_batch else 1
    out = size // 2 if pool else size
    graph = helper.make_graph(
        nodes, "g",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [n, 3, size, size])],
        [helper.make_tensor_value_info("prob", TensorProto.FLOAT, [n, 1, out, out])],
        [numpy_helper.from_array(W.reshape(1, 3, 1, 1), "w"), numpy_helper.from_array(B, "b")],
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path.write_bytes(model.SerializeToString())
    return path


def frame(h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


class Spy:
    """A smoother that records the shape it received and passes the value through a real one."""

    spec = "spy"

    def __init__(self, inner=None) -> None:
        self.shapes: list[tuple[int, int]] = []
        self.inner = inner

    def update(self, prob, image):
        assert prob.dtype == np.float32 and prob.ndim == 2
        self.shapes.append(prob.shape)
        return prob.copy() if self.inner is None else self.inner.update(prob, image)

    def reset(self) -> None:
        if self.inner is not None:
            self.inner.reset()


@pytest.fixture
def model(tmp_path):
    return create(str(tiny_model(tmp_path / "tiny.onnx")), MethodOptions(provider="cpu"))


def test_segment_native_is_the_model_map_and_segment_its_resize(model):
    assert isinstance(model, FallbackSegmenter)  # what create() hands the pipeline
    f = frame(48, 64)
    native = model.segment_native(f)
    assert native.shape == (8, 8) and native.dtype == np.float32
    assert 0.0 <= native.min() and native.max() <= 1.0
    # the frame-size API is unchanged, and is this map resized bilinearly
    full = model.segment(f)
    assert full.shape == (48, 64)
    np.testing.assert_array_equal(full, np.clip(cv2.resize(native, (64, 48), interpolation=cv2.INTER_LINEAR), 0, 1))
    batch = model.segment_native_batch([f, frame(30, 20, 1)])
    assert [b.shape for b in batch] == [(8, 8), (8, 8)]
    np.testing.assert_allclose(batch[0], native, atol=1e-6)
    # a new array every call (the inference output buffer is reused)
    again = model.segment_native(frame(48, 64, 2))
    assert not np.shares_memory(native, again)


@pytest.mark.parametrize("batched", [False, True])
def test_model_is_smoothed_at_native_size_then_upsampled_to_the_frame(model, batched):
    spy = Spy()
    proc = Processor(model, spy, output_types=("mask",))
    frames = [Frame(frame(48, 64, i), index=i, time=i / 25) for i in range(3)]
    results = proc.process_batch(frames) if batched else [proc.process(f) for f in frames]
    assert spy.shapes == [(8, 8)] * 3
    for r in results:
        assert r.prob.shape == (48, 64) and r.prob.dtype == np.float32
        assert r.mask.shape == (48, 64) and r.mask.dtype == bool
        assert r.pictures["mask"].shape[:2] == (48, 64)
    assert "upsample" in proc.times.summary()


def test_smoothed_result_is_the_upsampled_native_smoothing(model):
    proc = Processor(model, make_smoother("still"))
    ref = make_smoother("still")
    for i in range(4):
        f = frame(72, 96, i % 2)  # alternating: the smoother has something to hold
        got = proc.process(Frame(f, index=i, time=i / 25))
        small = ref.update(model.segment_native(f), f)
        np.testing.assert_array_equal(got.prob, cv2.resize(small, (96, 72), interpolation=cv2.INTER_LINEAR))
        np.testing.assert_array_equal(got.mask, got.prob >= 0.5)


@pytest.mark.parametrize("smoother", [None, "none"])
def test_none_gives_the_frame_size_masks_of_before(model, smoother):
    sm = make_smoother(smoother) if smoother else None
    proc = Processor(model, sm, threshold=0.5)
    native_calls = []
    orig = model.segment_native
    model.segment_native = lambda f: native_calls.append(1) or orig(f)  # type: ignore[method-assign]
    for i in range(3):
        f = frame(48, 64, i)
        r = proc.process(Frame(f, index=i, time=i / 25))
        before = model.segment(f)  # the pre-change path: the frame-size map, thresholded
        np.testing.assert_array_equal(r.prob, before)
        np.testing.assert_array_equal(r.mask, before >= 0.5)
    assert not native_calls
    assert "upsample" not in proc.times.summary()


def test_file_run_smooth_none_equals_segment_and_threshold(tmp_path, model):
    from conftest import make_video, read_video

    src = make_video(tmp_path / "in.mp4", frames=6, width=64, height=48)
    got = []

    class Record:
        def write(self, result):
            got.append((result.frame.image.copy(), result.prob.copy(), result.mask.copy()))

    for smoother in (None, "still"):
        got.clear()
        sm = make_smoother(smoother) if smoother else None
        report = process_video_file(src, {"mask": tmp_path / f"{smoother}.mp4"}, model, sm, batch=3, progress=False, sinks=[Record()])
        assert report.frames_out == 6
        assert read_video(tmp_path / f"{smoother}.mp4")["shapes"] == {(48, 64)}
        for image, prob, mask in got:
            assert prob.shape == mask.shape == (48, 64)
            if smoother is None:
                np.testing.assert_array_equal(prob, model.segment(image))
                np.testing.assert_array_equal(mask, model.segment(image) >= 0.5)


def test_native_map_larger_than_the_frame_is_resized_to_it_first(tmp_path):
    seg = create(str(tiny_model(tmp_path / "big.onnx", size=32, pool=False)), MethodOptions(provider="cpu"))
    spy = Spy(make_smoother("still"))
    proc = Processor(seg, spy)
    r = proc.process(Frame(frame(20, 40), index=0, time=0.0))
    assert spy.shapes == [(20, 40)]
    assert r.prob.shape == (20, 40)


def test_classical_methods_are_smoothed_at_frame_size():
    seg = create("ellipse")
    spy = Spy()
    proc = Processor(seg, spy)
    f = frame(36, 50)
    np.testing.assert_array_equal(seg.segment_native(f), seg.segment(f))
    r = proc.process(Frame(f, index=0, time=0.0))
    assert spy.shapes == [(36, 50)] and r.prob.shape == (36, 50)
    assert "upsample" not in proc.times.summary()


def test_run_frames_batches_use_the_native_batch(model):
    calls = []
    orig = model.active.segment_native_batch
    model.active.segment_native_batch = lambda fs: calls.append(len(fs)) or orig(fs)  # type: ignore[method-assign]
    spy = Spy()
    proc = Processor(model, spy)
    frames = iter([Frame(frame(48, 64, 0), index=i, time=i / 25) for i in range(4)])  # one scene: no cut splits a batch
    report = run_frames(frames, proc, batch=2)
    assert report.frames_out == 4 and calls == [2, 2] and spy.shapes == [(8, 8)] * 4


def test_fallback_switches_on_the_native_path_too():
    class Broken(Segmenter):
        name, kind = "broken", "model"

        def segment(self, frame):
            raise MethodError("model 'broken' failed on the CPU")

        def segment_native(self, frame):
            raise MethodError("model 'broken' failed on the CPU")

    seg = FallbackSegmenter(Broken(), lambda: create("ellipse"))
    spy = Spy()
    r = Processor(seg, spy).process(Frame(frame(24, 32), index=0, time=0.0))
    assert seg.name == "ellipse" and seg.fallback_from == "broken"
    assert spy.shapes == [(24, 32)] and r.prob.shape == (24, 32)


@pytest.mark.parametrize(("fallback", "note"), [(False, "(use --strict to make this an error)"), (True, "(as --fallback asks)")])
def test_fallback_warning_says_how_it_was_allowed(fallback, note, monkeypatch):
    from streamseg import log

    warnings: list[str] = []
    monkeypatch.setattr(log, "warn", warnings.append)

    class Broken(Segmenter):
        name, kind = "broken", "model"
        options = MethodOptions(fallback=fallback)

        def segment(self, frame):
            raise MethodError("model 'broken' failed on the CPU")

    seg = FallbackSegmenter(Broken(), lambda: create("ellipse"))
    seg.segment(frame(24, 32))
    assert warnings == [f"model 'broken' failed on the CPU; continuing with 'ellipse' {note}"]
