"""Provider selection: auto -> CPU without a working CUDA, explicit cuda/tensorrt that cannot run -> error."""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx_helpers import sigmoid_model  # noqa: E402

from streamseg.errors import ConfigError, MethodError  # noqa: E402
from streamseg.segment import providers  # noqa: E402
from streamseg.segment.base import MethodOptions  # noqa: E402
from streamseg.segment.onnx_model import ModelSpec, OnnxSegmenter  # noqa: E402
from streamseg.segment.registry import create  # noqa: E402


@pytest.fixture
def no_cuda(monkeypatch):
    """Pretend the GPU providers cannot run (whatever this machine has)."""
    providers.probe.cache_clear()
    real = providers.probe

    def fake(kind: str, device_id: int = 0):
        return None if kind == "cpu" else f"{providers.ORT_NAMES[kind]} failed to load: libcudart.so: not found"

    monkeypatch.setattr(providers, "probe", fake)
    yield
    real.cache_clear()


@pytest.mark.parametrize(
    ("text", "want"),
    [("auto", ("auto", 0)), ("CUDA", ("cuda", 0)), ("cuda:1", ("cuda", 1)), ("gpu", ("cuda", 0)), ("cpu", ("cpu", 0)),
     ("tensorrt", ("tensorrt", 0))],
)
def test_parse_provider(text, want):
    assert providers.parse_provider(text) == want


@pytest.mark.parametrize("text", ["", "metal", "cpu:1", "cuda:x", "auto:0:1"])
def test_parse_provider_rejects(text):
    with pytest.raises(ConfigError, match="--provider"):
        providers.parse_provider(text)


def test_short_name():
    assert providers.short_name("CUDAExecutionProvider") == "cuda"
    assert providers.short_name("OtherEP") == "OtherEP"


def test_cpu_probe_and_auto_always_possible():
    assert providers.probe("cpu") is None
    assert providers.unavailable_reason("auto") is None
    assert providers.unavailable_reason("cpu") is None
    assert "--provider" in providers.unavailable_reason("vulkan")


def test_explicit_cuda_without_cuda_is_an_error(tmp_path, no_cuda):
    path = sigmoid_model(tmp_path / "s.onnx")
    with pytest.raises(ConfigError, match="--provider cuda: cannot run here: .*libcudart") as info:
        OnnxSegmenter.from_file(path, MethodOptions(provider="cuda"))
    assert "\n" not in str(info.value)
    # the registry does not turn it into a silent classical fallback either
    with pytest.raises(ConfigError):
        create(str(path), MethodOptions(provider="cuda"))
    with pytest.raises(ConfigError, match="tensorrt"):
        OnnxSegmenter.from_file(path, MethodOptions(provider="tensorrt"))


def test_auto_without_cuda_runs_on_cpu(tmp_path, no_cuda):
    seg = OnnxSegmenter.from_file(sigmoid_model(tmp_path / "s.onnx"), MethodOptions(provider="auto"))
    assert seg.provider == "CPUExecutionProvider"
    assert providers.candidates("auto") == [("cpu", 0)]
    x = np.full((8, 8, 3), 255, np.uint8)
    np.testing.assert_allclose(seg(x), 1 / (1 + np.exp(-1.0)), atol=1e-6)


def test_spec_unavailable_reason(tmp_path, no_cuda):
    path = sigmoid_model(tmp_path / "s.onnx")
    spec = ModelSpec.defaults_for(path)
    assert OnnxSegmenter.spec_unavailable_reason(spec, MethodOptions(provider="cpu")) is None
    assert "libcudart" in OnnxSegmenter.spec_unavailable_reason(spec, MethodOptions(provider="cuda"))
    missing = ModelSpec.defaults_for(tmp_path / "gone.onnx")
    assert "not found" in OnnxSegmenter.spec_unavailable_reason(missing, MethodOptions())


def test_cuda_listed_but_silently_on_cpu_is_detected(tmp_path, monkeypatch):
    """onnxruntime-gpu builds a 'CUDA' session that runs on the CPU when CUDA cannot load."""
    providers.probe.cache_clear()
    if providers.probe("cuda") is None:
        pytest.skip("CUDA really works here")
    monkeypatch.setattr(providers, "probe", lambda kind, device_id=0: None)  # the probe is fooled
    path = sigmoid_model(tmp_path / "s.onnx")
    seg = OnnxSegmenter.from_file(path, MethodOptions(provider="auto"))
    assert seg.provider == "CPUExecutionProvider" == seg.session.get_providers()[0]
    with pytest.raises(MethodError, match="CUDAExecutionProvider was requested but the session runs on CPUExecutionProvider"):
        OnnxSegmenter.from_file(path, MethodOptions(provider="cuda"))


def test_real_probe_is_consistent_with_sessions(tmp_path):
    """On this machine: cuda either really runs (session on CUDA) or is refused with a reason."""
    providers.probe.cache_clear()
    path = sigmoid_model(tmp_path / "s.onnx")
    reason = providers.probe("cuda")
    if reason is None:
        seg = OnnxSegmenter.from_file(path, MethodOptions(provider="cuda"))
        assert seg.provider == "CUDAExecutionProvider"
    else:
        assert "\n" not in reason
        with pytest.raises(ConfigError):
            OnnxSegmenter.from_file(path, MethodOptions(provider="cuda"))
        assert OnnxSegmenter.from_file(path, MethodOptions()).provider == "CPUExecutionProvider"
    assert providers.describe("auto").startswith("onnxruntime ")


def test_threads_option_reaches_session(tmp_path):
    seg = OnnxSegmenter.from_file(sigmoid_model(tmp_path / "s.onnx"), MethodOptions(provider="cpu", threads=1))
    assert seg.session.get_session_options().intra_op_num_threads == 1
