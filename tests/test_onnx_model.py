"""ONNX model runtime: specs, discovery, pre/post-processing, batching, validation, fallback.

Every model here is a tiny graph built with the ``onnx`` helper API inside the test; the
expected outputs are recomputed with NumPy (+ cv2.resize, the reference resize).
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from streamseg.errors import MethodError  # noqa: E402
from streamseg.segment import onnx_model  # noqa: E402
from streamseg.segment.base import MethodOptions  # noqa: E402
from streamseg.segment.onnx_model import ModelSpec, OnnxSegmenter, discover_models  # noqa: E402
from streamseg.segment.registry import create  # noqa: E402

# 1x1 convolution weights (out, in=RGB) and biases shared by the graphs and the NumPy reference
W2 = np.array([[0.8, -0.5, 0.3], [-1.2, 2.0, -0.7]], np.float32)
B2 = np.array([0.1, -0.4], np.float32)
W1 = np.array([[3.0, -2.0, 1.5]], np.float32)
B1 = np.array([-1.0], np.float32)


def build_graph(
    path: Path,
    *,
    in_shape: list,
    weights: np.ndarray,
    bias: np.ndarray,
    sigmoid: bool,
    pool: bool = False,
    input_name: str = "input",
    in_type: int = TensorProto.FLOAT,
    reshape_batch1: bool = False,
    extra_output: bool = False,
) -> Path:
    """Write an NCHW graph: 1x1 Conv (+ 2x2 AveragePool) (+ Sigmoid). Returns ``path``."""
    out_ch = weights.shape[0]
    nodes = [helper.make_node("Conv", [input_name, "w", "b"], ["conv"])]
    last = "conv"
    if pool:
        nodes.append(helper.make_node("AveragePool", [last], ["pool"], kernel_shape=[2, 2], strides=[2, 2]))
        last = "pool"
    if reshape_batch1:
        # fails at run time for any batch other than 1 although the batch dimension is dynamic
        nodes.append(helper.make_node("Reshape", [last, "shape1"], ["r1"]))
        last = "r1"
    out_name = "prob" if sigmoid else "logits"
    nodes.append(helper.make_node("Sigmoid" if sigmoid else "Identity", [last], [out_name]))
    inits = [
        numpy_helper.from_array(weights.reshape(out_ch, 3, 1, 1), "w"),
        numpy_helper.from_array(bias, "b"),
    ]
    if reshape_batch1:
        inits.append(numpy_helper.from_array(np.array([1, out_ch, *in_shape[2:]], np.int64), "shape1"))
    spatial = [(d // 2 if isinstance(d, int) else f"{d}_half") if pool else d for d in in_shape[2:]]
    out_shape = [1 if reshape_batch1 else in_shape[0], out_ch, *spatial]
    outputs = [helper.make_tensor_value_info(out_name, TensorProto.FLOAT, out_shape)]
    if extra_output:
        nodes.append(helper.make_node("Identity", ["conv"], ["aux"]))
        outputs = [helper.make_tensor_value_info("aux", TensorProto.FLOAT, [in_shape[0], out_ch, *in_shape[2:]])] + outputs
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info(input_name, in_type, in_shape)], outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path.write_bytes(model.SerializeToString())
    return path


def fixed_sigmoid(tmp_path: Path, name: str = "fixed.onnx", **kw) -> Path:
    """1x3x16x16 -> sigmoid(conv) with 2 channels (a probability output)."""
    return build_graph(tmp_path / name, in_shape=[1, 3, 16, 16], weights=W2, bias=B2, sigmoid=True, **kw)


def dynamic_logits(tmp_path: Path, name: str = "dyn.onnx", **kw) -> Path:
    """Nx3xHxW -> avgpool2(conv) logits with 1 channel (output half the input size)."""
    return build_graph(tmp_path / name, in_shape=["N", 3, "H", "W"], weights=W1, bias=B1, sigmoid=False, pool=True, **kw)


def write_spec(tmp_path: Path, name: str, **fields) -> Path:
    p = tmp_path / f"{name}.json"
    p.write_text(json.dumps({"name": name, **fields}))
    return p


def reference(
    frame: np.ndarray,
    size_hw: tuple[int, int],
    weights: np.ndarray,
    bias: np.ndarray,
    *,
    channel: int = 0,
    rgb: bool = True,
    scale: float = 255.0,
    mean=None,
    std=None,
    pool: bool = False,
) -> np.ndarray:
    """NumPy recomputation of pre-processing + graph + post-processing (one sigmoid: the graph's or the runtime's)."""
    h, w = size_hw
    out_hw = frame.shape[:2]
    # the runtime first halves the frame by 2x2 block means (rounded half up) while it stays at
    # least 3/4 of the model size (streamseg.segment.onnx_model.to_model_size)
    while frame.shape[0] // 2 >= 0.75 * h and frame.shape[1] // 2 >= 0.75 * w:
        bh, bw = frame.shape[0] // 2, frame.shape[1] // 2
        sums = frame[: 2 * bh, : 2 * bw].reshape(bh, 2, bw, 2, 3).astype(np.int64).sum(axis=(1, 3))
        frame = ((sums + 2) // 4).astype(np.uint8)
    fh, fw = frame.shape[:2]
    if (fh, fw) == (h, w):
        small = frame
    elif h < fh and w < fw:
        small = cv2.resize(frame, (w, h), interpolation=cv2.INTER_AREA)
    else:
        small = cv2.resize(frame, (w, h), interpolation=cv2.INTER_LINEAR)
    x = small.astype(np.float64)[..., ::-1] if rgb else small.astype(np.float64)
    x = x / scale
    if mean is not None:
        x = x - np.asarray(mean)
    if std is not None:
        x = x / np.asarray(std)
    y = np.einsum("hwc,c->hw", x, weights[channel].astype(np.float64)) + bias[channel]
    if pool:
        y = y.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))
    y = 1.0 / (1.0 + np.exp(-y))  # the graph's sigmoid, or the runtime's for logits
    y = y.astype(np.float32)
    if y.shape != out_hw:
        y = cv2.resize(y, out_hw[::-1], interpolation=cv2.INTER_LINEAR)
    return np.clip(y, 0, 1)


def rand_frame(h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


@pytest.fixture(autouse=True)
def _fresh_warnings(monkeypatch):
    """Collect warnings instead of printing them; forget the once-per-process set."""
    msgs: list[str] = []
    monkeypatch.setattr(onnx_model, "_warned", set())
    monkeypatch.setattr(onnx_model.log, "warn", msgs.append)
    return msgs


@pytest.fixture
def warnings_(_fresh_warnings):
    return _fresh_warnings


# --------------------------------------------------------------------------- spec parsing


def test_spec_full_parse(tmp_path):
    sp = write_spec(
        tmp_path,
        "dlmv",
        file="dlmv-256.onnx",
        description="DeepLabV3",
        input_name="input",
        input_size=[256, 192],
        color_order="bgr",
        scale=1.0,
        mean=[0.5, 0.4, 0.3],
        std=0.25,
        output_index=1,
        output_channel=2,
        output="logits",
        dynamic_batch=True,
        card="dlmv-256.md",
    )
    spec = ModelSpec.load(sp)
    assert spec.name == "dlmv"
    assert spec.path == tmp_path / "dlmv-256.onnx"
    assert spec.input_size == (256, 192)
    assert spec.color_order == "BGR"
    assert spec.mean == (0.5, 0.4, 0.3) and spec.std == (0.25, 0.25, 0.25)
    assert (spec.output_index, spec.output_channel, spec.output) == (1, 2, "logits")
    assert spec.dynamic_batch is True
    assert spec.card_path == tmp_path / "dlmv-256.md"


def test_spec_defaults(tmp_path):
    spec = ModelSpec.load(write_spec(tmp_path, "m", file="m.onnx"))
    assert spec.input_size is None and spec.color_order == "RGB" and spec.scale == 255.0
    assert spec.mean is None and spec.std is None and spec.output == "auto" and spec.dynamic_batch is None


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        ({}, "file"),
        ({"file": 3}, "file"),
        ({"file": "m.onnx", "input_size": [256]}, "input_size"),
        ({"file": "m.onnx", "input_size": [0, 256]}, "input_size"),
        ({"file": "m.onnx", "input_size": "256"}, "input_size"),
        ({"file": "m.onnx", "color_order": "HSV"}, "color_order"),
        ({"file": "m.onnx", "scale": 0}, "scale"),
        ({"file": "m.onnx", "scale": "255"}, "scale"),
        ({"file": "m.onnx", "mean": [0.5, 0.5]}, "mean"),
        ({"file": "m.onnx", "std": [1, 0, 1]}, "std"),
        ({"file": "m.onnx", "output": "softmax"}, "output"),
        ({"file": "m.onnx", "output_index": -1}, "output_index"),
        ({"file": "m.onnx", "output_channel": 1.5}, "output_channel"),
        ({"file": "m.onnx", "dynamic_batch": "yes"}, "dynamic_batch"),
        ({"file": "m.onnx", "name": "bad name!"}, "name"),
    ],
)
def test_spec_errors_name_the_key(tmp_path, fields, key):
    sp = tmp_path / "m.json"
    sp.write_text(json.dumps(fields))
    with pytest.raises(MethodError, match=f"'{key}'") as info:
        ModelSpec.load(sp)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", "\xff\xfe"])
def test_spec_not_json_or_not_object(tmp_path, text):
    sp = tmp_path / "m.json"
    sp.write_bytes(text.encode("latin-1"))
    with pytest.raises(MethodError, match="model spec"):
        ModelSpec.load(sp)


def test_discover_first_dir_wins_and_broken_skipped(tmp_path, warnings_):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    write_spec(a, "same", file="first.onnx")
    write_spec(b, "same", file="second.onnx")
    write_spec(b, "other", file="other.onnx")
    (b / "broken.json").write_text('{"name": "broken", "file": "x.onnx", "scale": -1}')
    (b / "garbage.json").write_text("{{{")
    (b / "history.json").write_text('{"epochs": [1, 2]}')  # not a spec: ignored silently
    found = discover_models([a, b])
    assert set(found) == {"same", "other"}
    assert found["same"].path == a / "first.onnx"
    assert len(warnings_) == 2 and all("skipping" in w for w in warnings_)
    discover_models([a, b])
    assert len(warnings_) == 2  # once per process


def test_registry_lists_env_models(tmp_path, monkeypatch):
    from streamseg.segment.registry import list_methods, method_names

    fixed_sigmoid(tmp_path, "envmodel-x.onnx")
    write_spec(tmp_path, "envmodel-x", file="envmodel-x.onnx", output_channel=1, output="probability")
    write_spec(tmp_path, "envmodel-missing", file="nothere.onnx")
    monkeypatch.setenv("STREAMSEG_MODELS", str(tmp_path))
    assert {"envmodel-x", "envmodel-missing"} <= set(method_names())
    rows = {r.name: r for r in list_methods(MethodOptions(provider="cpu"))}
    assert rows["envmodel-x"].reason is None and rows["envmodel-x"].kind == "model"
    assert "not found" in rows["envmodel-missing"].reason
    seg = create("envmodel-x", MethodOptions(provider="cpu"))
    assert isinstance(seg.active, OnnxSegmenter) and seg.name == "envmodel-x" and seg.fallback_from is None


# --------------------------------------------------------------------------- numerics


@pytest.mark.parametrize("frame_hw", [(16, 16), (48, 40), (9, 12), (30, 10), (16, 40), (70, 75)])
def test_fixed_sigmoid_matches_numpy(tmp_path, frame_hw):
    path = fixed_sigmoid(tmp_path)
    spec = ModelSpec.from_dict({"file": path.name, "output_channel": 1, "output": "probability"}, tmp_path / "f.json")
    seg = OnnxSegmenter.from_spec(spec, MethodOptions(provider="cpu"))
    assert seg.provider == "CPUExecutionProvider" and seg.kind == "model" and seg.name == "f"
    assert seg.input_size == (16, 16) and not seg.dynamic_batch
    frame = rand_frame(*frame_hw)
    got = seg(frame)
    want = reference(frame, (16, 16), W2, B2, channel=1)
    assert got.dtype == np.float32 and got.shape == frame_hw
    np.testing.assert_allclose(got, want, atol=2e-5)


def test_dynamic_logits_with_mean_std_bgr_matches_numpy(tmp_path):
    path = dynamic_logits(tmp_path)
    mean, std = [0.4, 0.5, 0.6], [0.2, 0.3, 0.25]
    sp = write_spec(
        tmp_path, "dyn", file=path.name, input_size=[24, 32], color_order="BGR", mean=mean, std=std, output="logits"
    )
    seg = OnnxSegmenter.from_file(sp, MethodOptions(provider="cpu"))
    assert seg.input_size == (24, 32) and seg.dynamic_batch and seg.max_batch is None
    frame = rand_frame(60, 80, seed=3)
    want = reference(frame, (24, 32), W1, B1, rgb=False, mean=mean, std=std, pool=True)
    np.testing.assert_allclose(seg(frame), want, atol=2e-5)


def test_bare_file_defaults_auto_sigmoid_and_size(tmp_path, warnings_):
    path = dynamic_logits(tmp_path, input_name="x")  # not named "input": the only input is used
    with pytest.raises(MethodError, match="dynamic input size.*--size"):
        OnnxSegmenter.from_file(path, MethodOptions(provider="cpu"))
    seg = OnnxSegmenter.from_file(path, MethodOptions(provider="cpu", size=20))
    assert seg.input_size == (20, 20) and seg.name == "dyn"
    frame = rand_frame(50, 50, seed=1)
    np.testing.assert_allclose(seg(frame), reference(frame, (20, 20), W1, B1, pool=True), atol=2e-5)


def test_auto_sigmoid_is_sticky(tmp_path):
    path = dynamic_logits(tmp_path)
    seg = OnnxSegmenter.from_file(path, MethodOptions(provider="cpu", size=8))
    seg._logits_seen = False  # as if the warm-up frame had stayed inside [0, 1]
    # a grey frame whose logits stay inside [0, 1]: no sigmoid yet, the raw value comes through
    grey = np.full((8, 8, 3), 160, np.uint8)
    raw = 160 / 255 * W1.sum() + B1[0]
    assert 0 <= raw <= 1
    np.testing.assert_allclose(seg(grey), raw, atol=1e-5)
    seg(rand_frame(8, 8))  # logits outside [0, 1]: sigmoid from now on
    np.testing.assert_allclose(seg(grey), 1 / (1 + np.exp(-raw)), atol=1e-5)


def test_no_min_max_stretch(tmp_path):
    """A frame with uniformly low probability stays low (the original stretched it to [0, 1])."""
    path = fixed_sigmoid(tmp_path)
    seg = OnnxSegmenter.from_file(path, MethodOptions(provider="cpu"))
    frame = np.full((16, 16, 3), 10, np.uint8)
    prob = seg(frame)
    assert np.ptp(prob) < 1e-6
    np.testing.assert_allclose(prob, reference(frame, (16, 16), W2, B2, channel=0), atol=1e-6)


def test_sibling_spec_is_used_for_onnx_path(tmp_path):
    path = fixed_sigmoid(tmp_path, "withspec.onnx")
    write_spec(tmp_path, "withspec", file="withspec.onnx", output_channel=1, output="probability")
    seg = OnnxSegmenter.from_file(path, MethodOptions(provider="cpu"))
    frame = rand_frame(16, 16, seed=5)
    np.testing.assert_allclose(seg(frame), reference(frame, (16, 16), W2, B2, channel=1), atol=2e-5)


def test_output_index_selects_output(tmp_path):
    path = fixed_sigmoid(tmp_path, extra_output=True)  # output 0 = raw conv, output 1 = sigmoid
    spec = ModelSpec.from_dict({"file": path.name, "output_index": 1, "output": "probability"}, tmp_path / "s.json")
    seg = OnnxSegmenter.from_spec(spec, MethodOptions(provider="cpu"))
    frame = rand_frame(16, 16, seed=2)
    np.testing.assert_allclose(seg(frame), reference(frame, (16, 16), W2, B2), atol=2e-5)


def test_io_binding_path_matches_plain_run(tmp_path):
    """CPU I/O binding (the default: input bound from the preprocessor's buffer, output written
    into a reused array per shape) gives bit-identical results to session.run, also when the
    batch size switches back and forth."""
    path = dynamic_logits(tmp_path)
    plain = OnnxSegmenter.from_file(path, MethodOptions(provider="cpu", size=16, extra={"io_binding": False}))
    bound = OnnxSegmenter.from_file(path, MethodOptions(provider="cpu", size=16))
    assert bound._binding is not None and plain._binding is None
    frames = [rand_frame(16, 16, s) for s in range(3)]
    for round_ in range(3):
        for a, b in zip(plain.segment_batch(frames), bound.segment_batch(frames)):
            np.testing.assert_array_equal(a, b)
        for f in frames:  # batch size changes back to 1
            np.testing.assert_array_equal(plain(f), bound(f))
    # earlier results are not overwritten by later inferences (the reused buffer never leaks out)
    first = bound(frames[0])
    bound(frames[1])
    np.testing.assert_array_equal(first, plain(frames[0]))


def test_shipped_model_io_binding_bit_identical():
    """The shipped dlmv model: bound and plain runs agree bit for bit on real-sized frames."""
    from streamseg.segment.onnx_model import discover_models

    spec = discover_models().get("dlmv")
    if spec is None:
        pytest.skip("dlmv spec not found")
    plain = OnnxSegmenter.from_spec(spec, MethodOptions(provider="cpu", extra={"io_binding": False}))
    bound = OnnxSegmenter.from_spec(spec, MethodOptions(provider="cpu"))
    for seed in range(2):
        f = rand_frame(120, 160, seed)
        np.testing.assert_array_equal(plain(f), bound(f))


@settings(max_examples=15, deadline=None)
@given(h=st.integers(1, 64), w=st.integers(1, 64), seed=st.integers(0, 10_000))
def test_output_contract_any_frame_size(tmp_path_factory, h, w, seed):
    path = tmp_path_factory.getbasetemp() / "prop.onnx"
    if not path.exists():
        dynamic_logits(path.parent, "prop.onnx")
    seg = OnnxSegmenter.from_file(path, MethodOptions(provider="cpu", size=16))
    prob = seg(rand_frame(h, w, seed))
    assert prob.shape == (h, w) and prob.dtype == np.float32
    assert np.isfinite(prob).all() and prob.min() >= 0 and prob.max() <= 1


# --------------------------------------------------------------------------- batching


class _CountingSession:
    """Records the input shape of every inference (plain runs and I/O-bound runs)."""

    def __init__(self, sess, seg=None):
        self._sess, self.calls, self._seg = sess, [], seg
        if seg is not None and seg._binding is not None:
            real_bind = seg._binding.bind_cpu_input

            def bind(name, arr):
                self._bound_shape = arr.shape
                return real_bind(name, arr)

            seg._binding.bind_cpu_input = bind

    def run(self, names, feed, *args):
        self.calls.append(next(iter(feed.values())).shape)
        return self._sess.run(names, feed, *args)

    def run_with_iobinding(self, binding, *args):
        self.calls.append(self._bound_shape)
        return self._sess.run_with_iobinding(binding, *args)

    def __getattr__(self, item):
        return getattr(self._sess, item)


def test_segment_batch_one_inference_mixed_sizes(tmp_path):
    path = dynamic_logits(tmp_path)
    seg = OnnxSegmenter.from_file(path, MethodOptions(provider="cpu", size=16, batch=4))
    frames = [rand_frame(16, 16, 1), rand_frame(40, 24, 2), rand_frame(8, 30, 3)]
    singles = [seg(f) for f in frames]
    seg.session = _CountingSession(seg.session, seg)
    batch = seg.segment_batch(frames)
    assert seg.session.calls == [(3, 3, 16, 16)]
    for a, b, f in zip(batch, singles, frames):
        assert a.shape == f.shape[:2]
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_fixed_batch_model_runs_frames_one_by_one(tmp_path, warnings_):
    path = fixed_sigmoid(tmp_path)
    seg = OnnxSegmenter.from_file(path, MethodOptions(provider="cpu", batch=8))
    assert seg.max_batch == 1
    assert any("--batch 8" in w for w in warnings_)
    seg.session = _CountingSession(seg.session, seg)
    out = seg.segment_batch([rand_frame(16, 16, i) for i in range(3)])
    assert len(out) == 3 and seg.session.calls == [(1, 3, 16, 16)] * 3


def test_spec_can_disable_dynamic_batch(tmp_path):
    path = dynamic_logits(tmp_path)
    spec = ModelSpec.from_dict({"file": path.name, "input_size": 16, "dynamic_batch": False}, tmp_path / "d.json")
    assert not OnnxSegmenter.from_spec(spec, MethodOptions(provider="cpu")).dynamic_batch


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("kwargs", "spec_fields", "match"),
    [
        ({"in_shape": [3, 16, 16]}, {}, "rank 4"),
        ({"in_shape": [1, 4, 16, 16]}, {}, "3 colour channels"),
        ({"in_shape": [2, 3, 16, 16]}, {}, "batch is fixed at 2"),
        ({"in_shape": [1, 3, 16, 16]}, {"output_channel": 5}, "output_channel 5"),
        ({"in_shape": [1, 3, 16, 16]}, {"output_index": 3}, "output_index 3"),
        ({"in_shape": [1, 3, 16, 16]}, {"input_name": "image"}, "no input 'image'"),
        ({"in_shape": [1, 3, 16, 16]}, {"input_size": [32, 32]}, "input_size"),
        ({"in_shape": [1, 3, 16, 16], "in_type": TensorProto.DOUBLE}, {}, "float"),
    ],
)
def test_graph_validation_errors(tmp_path, kwargs, spec_fields, match):
    in_type = kwargs.pop("in_type", TensorProto.FLOAT)
    weights, bias = (None, None) if in_type == TensorProto.DOUBLE else (W2, B2)
    if kwargs["in_shape"][1] == 4:
        weights = np.concatenate([W2, W2[:, :1]], axis=1)
    path = tmp_path / "v.onnx"
    _build_raw(path, kwargs["in_shape"], weights, bias, in_type)
    spec = ModelSpec.from_dict({"file": path.name, **spec_fields}, tmp_path / "v.json")
    with pytest.raises(MethodError, match=match) as info:
        OnnxSegmenter.from_spec(spec, MethodOptions(provider="cpu"))
    assert "\n" not in str(info.value)


def _build_raw(path: Path, in_shape: list, weights: np.ndarray | None, bias: np.ndarray | None, in_type: int) -> None:
    """A 1x1 Conv graph (or a bare Sigmoid when ``weights`` is None) on any input rank/channels/type."""
    if weights is None:
        nodes, inits = [helper.make_node("Sigmoid", ["input"], ["out"])], []
    else:
        w = weights.reshape(weights.shape[0], weights.shape[1], *([1] * (len(in_shape) - 2)))
        nodes = [helper.make_node("Conv", ["input", "w", "b"], ["out"])]
        inits = [numpy_helper.from_array(w, "w"), numpy_helper.from_array(bias, "b")]
    graph = helper.make_graph(
        nodes,
        "v",
        [helper.make_tensor_value_info("input", in_type, in_shape)],
        [helper.make_tensor_value_info("out", in_type, None)],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    path.write_bytes(model.SerializeToString())


def test_output_rank_checked(tmp_path):
    graph = helper.make_graph(
        [helper.make_node("ReduceMean", ["input"], ["out"], axes=[1, 2, 3], keepdims=0)],
        "r",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, None)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    (tmp_path / "r.onnx").write_bytes(model.SerializeToString())
    with pytest.raises(MethodError, match=r"expected \(N, C, H, W\)"):
        OnnxSegmenter.from_file(tmp_path / "r.onnx", MethodOptions(provider="cpu"))


def test_fixed_size_ignores_size_option_with_warning(tmp_path, warnings_):
    seg = OnnxSegmenter.from_file(fixed_sigmoid(tmp_path), MethodOptions(provider="cpu", size=64))
    assert seg.input_size == (16, 16)
    assert any("--size 64 is ignored" in w for w in warnings_)


# --------------------------------------------------------------------------- fallback


def _truncated(tmp_path: Path) -> Path:
    full = fixed_sigmoid(tmp_path, "full.onnx").read_bytes()
    p = tmp_path / "truncated.onnx"
    p.write_bytes(full[: len(full) // 2])
    return p


def _not_onnx(tmp_path: Path) -> Path:
    p = tmp_path / "photo.onnx"
    cv2.imwrite(str(tmp_path / "photo.png"), rand_frame(8, 8))
    p.write_bytes((tmp_path / "photo.png").read_bytes())
    return p


def _wrong_shape(tmp_path: Path) -> Path:
    p = tmp_path / "wrong.onnx"
    _build_raw(p, [1, 1, 16, 16], W2[:, :1], B2, TensorProto.FLOAT)
    return p


def _empty(tmp_path: Path) -> Path:
    p = tmp_path / "empty.onnx"
    p.write_bytes(b"")
    return p


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda t: t / "missing.onnx", "not found"),
        (_truncated, "not a valid ONNX file"),
        (_not_onnx, "not a valid ONNX file"),
        (_wrong_shape, "3 colour channels"),
        (_empty, "empty"),
    ],
)
def test_bad_model_file_falls_back_or_errors_with_strict(tmp_path, warnings_, make, match):
    path = make(tmp_path)
    seg = create(str(path), MethodOptions(provider="cpu"))
    assert seg.kind == "classical" and seg.fallback_from == str(path)
    assert len(warnings_) == 1 and "falling back" in warnings_[0] and match in warnings_[0]
    frame = rand_frame(10, 10)
    assert seg(frame).shape == (10, 10)
    with pytest.raises(MethodError, match=match) as info:
        create(str(path), MethodOptions(provider="cpu", strict=True))
    assert "\n" not in str(info.value)


def test_runtime_failure_falls_back_once(tmp_path, warnings_):
    from streamseg.segment.registry import FALLBACK_ORDER, create_exact

    # dynamic batch in the graph, but a Reshape that only works for batch 1: fails at run time
    path = build_graph(tmp_path / "b1.onnx", in_shape=["N", 3, 8, 8], weights=W1, bias=B1, sigmoid=True, reshape_batch1=True)
    bare = OnnxSegmenter.from_file(path, MethodOptions(provider="cpu"))
    with pytest.raises(MethodError, match="failed on CPUExecutionProvider"):  # a bare model raises
        bare.segment_batch([rand_frame(8, 8, 1), rand_frame(8, 8, 2)])
    seg = create(str(path), MethodOptions(provider="cpu"))  # the registry wraps it in a fallback
    assert seg.dynamic_batch and seg.fallback_from is None
    frames = [rand_frame(8, 8, 1), rand_frame(8, 8, 2)]
    out = seg.segment_batch(frames)
    assert seg.fallback_from == "b1" and seg.kind == "classical"
    assert seg.name in FALLBACK_ORDER
    classical = create_exact(seg.name)
    for o, f in zip(out, frames):
        np.testing.assert_array_equal(o, classical(f))
    seg.segment_batch(frames)
    assert len([w for w in warnings_ if "failed on CPUExecutionProvider" in w]) == 1
    assert "fallback" in repr(seg)


def test_runtime_provider_failure_strict_raises(tmp_path):
    seg = OnnxSegmenter.from_file(fixed_sigmoid(tmp_path), MethodOptions(provider="cpu", strict=True))

    class Broken:
        def run(self, *a, **k):
            raise RuntimeError("CUDA error: an illegal memory access was encountered\nmore detail")

        run_with_iobinding = run  # the I/O-bound path (the default) fails the same way

    seg.session = Broken()
    with pytest.raises(MethodError, match="illegal memory access") as info:
        seg(rand_frame(16, 16))
    assert "\n" not in str(info.value)


def test_bad_frame_is_a_value_error_not_a_fallback(tmp_path):
    seg = OnnxSegmenter.from_file(fixed_sigmoid(tmp_path), MethodOptions(provider="cpu"))
    with pytest.raises(ValueError, match="BGR uint8"):
        seg(np.zeros((16, 16), np.uint8))
    assert seg.fallback_from is None


# --------------------------------------------------------------------------- odds and ends


def test_preprocess_reuses_its_buffer(tmp_path):
    seg = OnnxSegmenter.from_file(dynamic_logits(tmp_path), MethodOptions(provider="cpu", size=16))
    a = seg.preprocess([rand_frame(30, 30, 1)])
    first = a.copy()
    b = seg.preprocess([rand_frame(30, 30, 2)])
    assert np.shares_memory(a, b) and not np.array_equal(first, b)
    assert b.shape == (1, 3, 16, 16) and b.dtype == np.float32 and b.flags.c_contiguous


def test_resize_interpolation_rule():
    assert onnx_model.resize_interpolation((720, 1280), (256, 256)) == cv2.INTER_AREA
    assert onnx_model.resize_interpolation((256, 1280), (256, 256)) == cv2.INTER_LINEAR  # as training
    assert onnx_model.resize_interpolation((100, 100), (256, 256)) == cv2.INTER_LINEAR


def test_spec_json_path_as_model(tmp_path):
    path = fixed_sigmoid(tmp_path, "viaspec.onnx")
    sp = write_spec(tmp_path, "viaspec-name", file=path.name, output_channel=1)
    seg = create(str(sp), MethodOptions(provider="cpu", strict=True))
    assert isinstance(seg, OnnxSegmenter) and seg.name == "viaspec-name"
    frame = rand_frame(16, 16, 4)
    np.testing.assert_allclose(seg(frame), reference(frame, (16, 16), W2, B2, channel=1), atol=2e-5)


def test_float16_input_model(tmp_path):
    graph = helper.make_graph(
        [helper.make_node("Cast", ["input"], ["x32"], to=TensorProto.FLOAT), helper.make_node("Sigmoid", ["x32"], ["p"])],
        "h",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT16, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("p", TensorProto.FLOAT, [1, 3, 8, 8])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    (tmp_path / "h.onnx").write_bytes(model.SerializeToString())
    spec = ModelSpec.from_dict({"file": "h.onnx", "output_channel": 2}, tmp_path / "h.json")  # channel 2 = B in RGB
    seg = OnnxSegmenter.from_spec(spec, MethodOptions(provider="cpu"))
    assert seg.preprocess.dtype == np.float16
    frame = np.zeros((8, 8, 3), np.uint8)
    frame[..., 0] = 200  # blue (BGR)
    np.testing.assert_allclose(seg(frame), 1 / (1 + np.exp(-200 / 255)), atol=1e-3)


@pytest.mark.parametrize("hw", [(720, 1280), (256, 400), (100, 90), (256, 256)])
def test_preprocessing_equals_training(tmp_path, hw):
    """The runtime feeds a model exactly what training's validation feeds it."""
    validate = pytest.importorskip("streamseg.train.validate")
    seg = OnnxSegmenter.from_file(dynamic_logits(tmp_path), MethodOptions(provider="cpu", size=256))
    frame = rand_frame(*hw, seed=7)
    want = validate.to_batch([validate.squash(frame, 256)])
    np.testing.assert_allclose(seg.preprocess([frame]), want, atol=1e-6, rtol=0)


def test_channels_last_output_is_refused(tmp_path):
    graph = helper.make_graph(
        [helper.make_node("Transpose", ["input"], ["nhwc"], perm=[0, 2, 3, 1])],
        "t",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 16, 16])],
        [helper.make_tensor_value_info("nhwc", TensorProto.FLOAT, [1, 16, 16, 3])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    (tmp_path / "t.onnx").write_bytes(model.SerializeToString())
    with pytest.raises(MethodError, match="channels-last"):
        OnnxSegmenter.from_file(tmp_path / "t.onnx", MethodOptions(provider="cpu"))


def test_probability_spec_on_logits_warns(tmp_path, warnings_):
    path = dynamic_logits(tmp_path)
    spec = ModelSpec.from_dict({"file": path.name, "input_size": 16, "output": "probability"}, tmp_path / "p.json")
    seg = OnnxSegmenter.from_spec(spec, MethodOptions(provider="cpu"))
    assert any("output 'probability'" in w for w in warnings_)
    prob = seg(rand_frame(16, 16))  # clipped, not passed through a sigmoid
    assert prob.min() >= 0 and prob.max() <= 1 and (prob == 0).any()


# --------------------------------------------------------------------------- flip test-time augmentation


def ramp_logits(tmp_path: Path, batch: int | str, name: str = "ramp.onnx") -> Path:
    """(N, 3, 16, 16) -> 1x1 conv logits plus a left-to-right ramp: a graph that is not mirror-symmetric."""
    ramp = np.linspace(-3.0, 3.0, 16, dtype=np.float32).reshape(1, 1, 1, 16)
    nodes = [helper.make_node("Conv", ["input", "w", "b"], ["conv"]), helper.make_node("Add", ["conv", "ramp"], ["logits"])]
    inits = [
        numpy_helper.from_array(W1.reshape(1, 3, 1, 1), "w"),
        numpy_helper.from_array(B1, "b"),
        numpy_helper.from_array(ramp, "ramp"),
    ]
    graph = helper.make_graph(
        nodes, "ramp", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [batch, 3, 16, 16])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [batch, 1, 16, 16])], inits,
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    (tmp_path / name).write_bytes(model.SerializeToString())
    return tmp_path / name


@pytest.mark.parametrize("batch", ["N", 1])
def test_flip_tta_is_the_mean_of_the_frame_and_its_mirror(tmp_path, batch):
    path = ramp_logits(tmp_path, batch)
    plain = OnnxSegmenter.from_file(path, MethodOptions(provider="cpu"))
    tta = OnnxSegmenter.from_file(path, MethodOptions(provider="cpu", tta="flip"))
    frames = [rand_frame(16, 16, 5), rand_frame(40, 24, 6)]
    for frame in frames:
        want = 0.5 * (plain(frame) + plain(np.ascontiguousarray(frame[:, ::-1]))[:, ::-1])
        got = tta(frame)
        assert got.shape == frame.shape[:2] and got.dtype == np.float32
        np.testing.assert_allclose(got, want, atol=1e-5)
        assert np.abs(got - plain(frame)).max() > 0.1  # the ramp makes the mirror view differ
    f = frames[1]
    want = 0.5 * (plain.segment_native(f) + plain.segment_native(np.ascontiguousarray(f[:, ::-1]))[:, ::-1])
    native = tta.segment_native(f)
    assert native.shape == (16, 16)
    np.testing.assert_allclose(native, want, atol=1e-5)
    tta.session = _CountingSession(tta.session, tta)
    out = tta.segment_batch(frames)
    assert len(out) == 2
    want_calls = [(4, 3, 16, 16)] if batch == "N" else [(1, 3, 16, 16)] * 4
    assert tta.session.calls == want_calls


def test_flip_tta_checks_and_fallback(tmp_path, warnings_):
    from streamseg.errors import ConfigError
    from streamseg.pipeline.spec import RunSpec

    with pytest.raises(ConfigError, match="--tta 'mirror': must be none or flip"):
        RunSpec.make(method="ellipse", tta="mirror")
    with pytest.raises(ConfigError, match="works with ONNX models; 'ellipse'"):
        create("ellipse", MethodOptions(tta="flip"))
    assert RunSpec.make({"method": {"tta": "flip"}}).method.options().tta == "flip"
    assert RunSpec.make({"method": {"tta": "flip"}}, tta="none").method.options().tta == "none"
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not onnx")
    seg = create(str(broken), MethodOptions(tta="flip"))  # the classical fallback runs without TTA
    assert seg.kind == "classical" and seg.fallback_from == str(broken)
