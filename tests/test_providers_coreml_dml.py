"""--provider coreml / dml: parsing, the probe against a mocked ONNX Runtime (these providers
cannot run here), one-line errors, and the thread plan of the sessions."""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx_helpers import sigmoid_model  # noqa: E402

from streamseg import threads  # noqa: E402
from streamseg.errors import ConfigError  # noqa: E402
from streamseg.segment import providers  # noqa: E402
from streamseg.segment.base import MethodOptions  # noqa: E402
from streamseg.segment.onnx_model import OnnxSegmenter  # noqa: E402


@pytest.fixture(autouse=True)
def fresh_probe():
    providers.probe.cache_clear()
    yield
    providers.probe.cache_clear()


@pytest.mark.parametrize(
    ("text", "want"),
    [("coreml", ("coreml", 0)), ("CoreML", ("coreml", 0)), ("dml", ("dml", 0)), ("dml:1", ("dml", 1)), ("directml", ("dml", 0))],
)
def test_parse_coreml_dml(text, want):
    assert providers.parse_provider(text) == want


def test_coreml_takes_no_device_number():
    with pytest.raises(ConfigError, match="--provider"):
        providers.parse_provider("coreml:1")


def test_provider_args():
    assert providers.provider_args("coreml") == [("CoreMLExecutionProvider", {})]
    assert providers.provider_args("dml", 1) == [("DmlExecutionProvider", {"device_id": 1})]


class _FakeOrt:
    """Stands in for the onnxruntime module inside the probe: lists ``available`` providers and
    builds sessions that report ``runs_on`` (what onnxruntime does when a provider cannot load:
    the session silently runs on the CPU)."""

    def __init__(self, real, available, runs_on):
        self._real, self.available, self.runs_on, self.built = real, available, runs_on, []

    def __getattr__(self, item):
        return getattr(self._real, item)

    def get_available_providers(self):
        return list(self.available)

    def InferenceSession(self, model, so, providers=None, **kw):  # noqa: N802 - ORT's name
        self.built.append((providers, so))
        fake = self

        class Sess:
            def get_providers(self):
                return list(fake.runs_on)

            def run(self, names, feed):
                return [feed["x"] * 2]

        return Sess()


@pytest.fixture
def fake_ort(monkeypatch):
    real = providers.import_onnxruntime()

    def install(available, runs_on):
        fake = _FakeOrt(real, available, runs_on)
        monkeypatch.setattr(providers, "import_onnxruntime", lambda: fake)
        return fake

    return install


@pytest.mark.parametrize(("kind", "ort_name", "hint"), [("coreml", "CoreMLExecutionProvider", "macOS"), ("dml", "DmlExecutionProvider", "onnxruntime-directml")])
def test_not_in_this_build(fake_ort, kind, ort_name, hint):
    fake_ort(["CPUExecutionProvider"], ["CPUExecutionProvider"])
    reason = providers.probe(kind)
    assert ort_name in reason and hint in reason and "\n" not in reason
    with pytest.raises(ConfigError, match=f"--provider {kind}: cannot run here") as info:
        providers.candidates(kind)
    assert "\n" not in str(info.value) and "use --provider auto or cpu" in str(info.value)


@pytest.mark.parametrize(("kind", "ort_name"), [("coreml", "CoreMLExecutionProvider"), ("dml", "DmlExecutionProvider")])
def test_listed_but_session_on_cpu_is_refused(fake_ort, kind, ort_name):
    """Listed as available, but the session says CPU: refused, like onnxruntime-gpu's phantom CUDA."""
    fake_ort([ort_name, "CPUExecutionProvider"], ["CPUExecutionProvider"])
    reason = providers.probe(kind)
    assert reason == f"{ort_name} failed to load: the session fell back to the CPU"


@pytest.mark.parametrize(("kind", "ort_name"), [("coreml", "CoreMLExecutionProvider"), ("dml", "DmlExecutionProvider")])
def test_listed_and_really_running(fake_ort, kind, ort_name):
    fake = fake_ort([ort_name, "CPUExecutionProvider"], [ort_name, "CPUExecutionProvider"])
    assert providers.probe(kind, 0) is None
    (args, so), = fake.built
    assert args[0][0] == ort_name
    if kind == "dml":
        assert so.enable_mem_pattern is False  # DirectML needs memory patterns off
    assert providers.candidates(kind) == [(kind, 0)]
    # auto never picks them (CUDA or CPU only)
    assert (kind, 0) not in providers.candidates("auto")


def test_segmenter_on_a_host_memory_provider(tmp_path, monkeypatch):
    """A model on CoreML/DirectML binds host buffers (not CUDA memory) and gives the CPU's results.
    The session is a real CPU session that reports CoreML, as it would on a Mac."""
    path = sigmoid_model(tmp_path / "s.onnx")
    monkeypatch.setattr(providers, "candidates", lambda requested: [("coreml", 0)])
    ort = providers.import_onnxruntime()
    real_session = ort.InferenceSession

    class Reporting:
        def __init__(self, model, so, providers=None, **kw):
            assert providers == [("CoreMLExecutionProvider", {})]
            self._s = real_session(model, so, providers=["CPUExecutionProvider"])

        def get_providers(self):
            return ["CoreMLExecutionProvider", "CPUExecutionProvider"]

        def __getattr__(self, item):
            return getattr(self._s, item)

    monkeypatch.setattr(ort, "InferenceSession", Reporting)
    seg = OnnxSegmenter.from_file(path, MethodOptions(provider="coreml"))
    assert seg.provider == "CoreMLExecutionProvider" and seg._binding_device == "cpu"
    monkeypatch.undo()
    cpu = OnnxSegmenter.from_file(path, MethodOptions(provider="cpu", extra={"io_binding": False}))
    frame = np.random.default_rng(0).integers(0, 255, (8, 8, 3), np.uint8)
    np.testing.assert_array_equal(seg(frame), cpu(frame))


def test_explicit_coreml_on_this_linux_build_is_one_line(tmp_path):
    ort = providers.import_onnxruntime()
    if "CoreMLExecutionProvider" in ort.get_available_providers():
        pytest.skip("this onnxruntime has CoreML")
    with pytest.raises(ConfigError, match="CoreMLExecutionProvider") as info:
        OnnxSegmenter.from_file(sigmoid_model(tmp_path / "s.onnx"), MethodOptions(provider="coreml"))
    assert "\n" not in str(info.value)


# --------------------------------------------------------------------------- thread plan


def test_thread_plan(monkeypatch):
    monkeypatch.delenv(threads.ENV, raising=False)
    assert threads.plan(1) == threads.ThreadPlan(1, 1, 1)
    assert threads.plan(2) == threads.ThreadPlan(1, 1, 1)
    assert threads.plan(16) == threads.ThreadPlan(4, 4, 8)
    monkeypatch.setenv(threads.ENV, "infer=2,decode=0")
    assert threads.plan(2) == threads.ThreadPlan(decode=0, encode=1, infer=2)
    monkeypatch.setenv(threads.ENV, "infer=two")
    with pytest.raises(ValueError, match=threads.ENV):
        threads.plan(2)


def test_session_threads_auto_and_explicit(tmp_path, monkeypatch):
    monkeypatch.setenv(threads.ENV, "infer=1")
    path = sigmoid_model(tmp_path / "s.onnx")
    auto = OnnxSegmenter.from_file(path, MethodOptions(provider="cpu"))
    so = auto.session.get_session_options()
    assert so.intra_op_num_threads == 1
    assert so.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    explicit = OnnxSegmenter.from_file(path, MethodOptions(provider="cpu", threads=2))
    so2 = explicit.session.get_session_options()
    assert so2.intra_op_num_threads == 2
    assert "session.intra_op.allow_spinning" not in so2.get_session_config_entries() if hasattr(so2, "get_session_config_entries") else True


def test_encoder_and_decoder_thread_counts(tmp_path, monkeypatch):
    from fractions import Fraction

    from streamseg.capture.file import FileSource
    from streamseg.sinks.settings import EncoderSettings
    from streamseg.sinks.writer import VideoEncoder

    monkeypatch.setenv(threads.ENV, "decode=1,encode=2")
    enc = VideoEncoder(tmp_path / "t.mp4", 64, 48, Fraction(25), settings=EncoderSettings())
    assert enc.stream.codec_context.thread_count == 2
    for i in range(3):
        enc.write(np.zeros((48, 64, 3), np.uint8), pts=i)
    enc.finish()
    src = FileSource(tmp_path / "t.mp4")
    try:
        assert src._stream.codec_context.thread_count == 1
        assert len(list(src)) == 3
    finally:
        src.close()
