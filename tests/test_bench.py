"""streamseg bench: parsing, rows per method kind, end-to-end on a generated clip, report files."""

from __future__ import annotations

import csv
import json
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from streamseg.errors import ConfigError, InputError
from streamseg.evaluate import reports
from streamseg.evaluate.latency import (
    bench_frame, bench_method, model_input_size, parse_frame_sizes, parse_sizes, synthetic_frame, time_call,
)
from streamseg.evaluate.video_fps import bench_video
from streamseg.segment import MethodOptions
from streamseg.segment.base import Segmenter


class Classical(Segmenter):
    name = "fake-classical"
    provider = "numpy"

    def __init__(self) -> None:
        self.shapes: list[tuple[int, ...]] = []

    def segment(self, frame: np.ndarray) -> np.ndarray:
        self.shapes.append(frame.shape)
        return (frame[..., 2] > 128).astype(np.float32)


class FixedModel(Segmenter):
    name = "fake-model"
    kind = "model"
    provider = "CPUExecutionProvider"
    input_size = (64, 64)

    def segment(self, frame: np.ndarray) -> np.ndarray:
        return np.zeros(frame.shape[:2], np.float32)


class DynamicModel(FixedModel):
    dynamic_size = True
    input_size = None

    def __init__(self, options: MethodOptions | None = None) -> None:
        self.size = (options or MethodOptions()).size


def test_parse_sizes_and_frame_sizes() -> None:
    assert parse_sizes("256, 320,") == [256, 320]
    assert parse_frame_sizes("640x480,1280X720") == [(640, 480), (1280, 720)]
    for bad in ("", "0", "abc", "12.5"):
        with pytest.raises(ConfigError, match="--sizes"):
            parse_sizes(bad)
    for bad in ("", "640", "640x", "x480", "640x0", "axb"):
        with pytest.raises(ConfigError, match="--frame-sizes"):
            parse_frame_sizes(bad)


class FakeClock:
    """``perf_counter`` stand-in: the n-th timed interval (a pair of calls) lasts ``steps_ms[n]``
    (the last one repeats), so the reports' statistics are known without timing anything."""

    def __init__(self, *steps_ms: float) -> None:
        self.steps = [s / 1000.0 for s in steps_ms]
        self.now, self.calls = 0.0, 0

    def perf_counter(self) -> float:
        if self.calls % 2:
            self.now += self.steps[min(self.calls // 2, len(self.steps) - 1)]
        self.calls += 1
        return self.now


def fake_clock(monkeypatch, module, *steps_ms: float) -> FakeClock:
    clock = FakeClock(*steps_ms)
    monkeypatch.setattr(module, "time", clock)
    return clock


def test_time_call_counts_calls_and_takes_median_and_p90(monkeypatch) -> None:
    from streamseg.evaluate import latency

    fake_clock(monkeypatch, latency, 1, 2, 3, 4, 5, 6, 7)
    calls = []
    t = time_call(lambda: calls.append(1), warmup=2, repeats=7)
    assert len(calls) == 9 and t.n == 7
    assert t.median_ms == pytest.approx(4.0) and t.p90_ms == pytest.approx(float(np.percentile(range(1, 8), 90)))


def test_frames_have_the_asked_size() -> None:
    for w, h in ((64, 48), (33, 17)):
        assert bench_frame(w, h).shape == (h, w, 3)
        f = synthetic_frame(w, h)
        assert f.shape == (h, w, 3) and f.dtype == np.uint8
    assert bench_frame(20, 10, clip=Path("/nonexistent.mp4")).shape == (10, 20, 3)


def test_classical_rows_per_frame_size(monkeypatch) -> None:
    from streamseg.evaluate import latency

    fake_clock(monkeypatch, latency, 2)  # every timed call (method and floor) takes 2 ms
    seg = Classical()
    rows = bench_method("c", seg, [256], [(64, 48), (32, 24)], MethodOptions(), warmup=1, repeats=3)
    assert [(r.size, r.frame, r.kind) for r in rows] == [("64x48", "64x48", "classical"), ("32x24", "32x24", "classical")]
    assert {(48, 64, 3), (24, 32, 3)} <= set(seg.shapes)
    for r in rows:
        assert r.n == 3 and r.threads.startswith("opencv")
        assert (r.median_ms, r.p90_ms, r.floor_ms) == pytest.approx((2.0, 2.0, 2.0))


class NumbaClassical(Classical):
    provider = "numba"


def test_floor_is_timed_on_the_threads_the_method_runs_on(monkeypatch) -> None:
    import cv2

    from streamseg.evaluate import latency

    seen: list[int | None] = []
    real = latency.floor_ms

    def spy(frame, warmup=3, repeats=30, threads=None):
        seen.append(threads)
        return real(frame, warmup, repeats, threads)

    monkeypatch.setattr(latency, "floor_ms", spy)
    before = cv2.getNumThreads()
    rows = bench_method("n", NumbaClassical(), [256], [(32, 24)], MethodOptions(threads=1), warmup=0, repeats=2)
    assert seen == [1] and rows[0].threads == "numba 1"
    assert cv2.getNumThreads() == before  # the floor puts OpenCV's setting back
    bench_method("c", Classical(), [256], [(32, 24)], MethodOptions(threads=1), warmup=0, repeats=2)
    assert seen[-1] == before  # an OpenCV method: the floor on OpenCV's own count


def test_fixed_model_gets_one_row_at_its_native_size() -> None:
    seg = FixedModel()
    assert model_input_size(seg) == "64"
    rows = bench_method("m", seg, [128, 256], [(64, 48), (32, 24)], MethodOptions(), warmup=0, repeats=2)
    assert len(rows) == 1
    assert (rows[0].size, rows[0].frame, rows[0].threads) == ("64", "64x48", "ort default")
    assert "--sizes ignored" in rows[0].note


def test_dynamic_model_gets_one_row_per_size() -> None:
    made: list[int | None] = []

    def make(options: MethodOptions) -> Segmenter:
        made.append(options.size)
        assert options.strict
        return DynamicModel(options)

    rows = bench_method("d", DynamicModel(), [128, 256], [(64, 48)], MethodOptions(), warmup=0, repeats=2, make=make)
    assert made == [128, 256]
    assert [r.size for r in rows] == ["128", "256"]


def write_clip(path: Path, frames: int = 12, w: int = 64, h: int = 48) -> Path:
    with av.open(str(path), "w") as out:
        s = out.add_stream("libx264", rate=Fraction(10))
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        for i in range(frames):
            img = np.full((h, w, 3), (i * 20) % 256, np.uint8)
            for pkt in s.encode(av.VideoFrame.from_ndarray(img, format="bgr24")):
                out.mux(pkt)
        for pkt in s.encode():
            out.mux(pkt)
    return path


def test_bench_video_on_a_generated_clip(tmp_path: Path, monkeypatch) -> None:
    from streamseg.evaluate import video_fps

    clip = write_clip(tmp_path / "clip.mp4", frames=12)
    fake_clock(monkeypatch, video_fps, 2)  # each segment() call, and the whole pipeline run, "take" 2 ms
    row = bench_video("c", Classical(), clip)
    assert row.frames == 12
    assert (row.inference_fps, row.pipeline_fps) == pytest.approx((500.0, 12 / 0.002))
    assert row.ratio == pytest.approx(row.pipeline_fps / row.inference_fps)
    assert bench_video("c", Classical(), clip, max_frames=5).frames == 5


def test_bench_video_missing_clip(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="video not found"):
        bench_video("c", Classical(), tmp_path / "nope.mp4")


def test_bench_report_files_parse(tmp_path: Path) -> None:
    rows = bench_method("c", Classical(), [256], [(32, 24)], MethodOptions(), warmup=0, repeats=2)
    video = [bench_video("c", Classical(), write_clip(tmp_path / "clip.mp4", frames=4))]
    rep = reports.bench_json(rows, video, {"x": "cannot run here"}, {"cpu": "test"}, "streamseg bench")
    paths = reports.write_bench_report(tmp_path / "rep", rep)
    data = json.loads(paths["json"].read_text())
    assert set(data["rows"][0]) >= {"method", "size", "provider", "median_ms", "p90_ms", "floor_ms"}
    assert data["rows"][0]["method"] == "c" and data["rows"][0]["size"] == "32x24"
    assert data["video"][0]["frames"] == 4
    with paths["csv"].open() as fh:
        assert [r["size"] for r in csv.DictReader(fh)] == ["32x24"]
    md = paths["md"].read_text()
    assert "| `c` | 32x24 | 32x24 | numpy |" in md and "`x`: cannot run here" in md


def test_cli_bench_writes_reports(tmp_path: Path, cli) -> None:
    clip = write_clip(tmp_path / "clip.mp4", frames=3)
    out = tmp_path / "rep"
    code, stdout, err = cli(
        "bench", "--methods", "ellipse", "--frame-sizes", "32x24,64x48", "--repeats", "2",
        "--warmup", "0", "--video", str(clip), "--report", str(out),
    )
    assert code == 0, err
    rep = json.loads((out / "report.json").read_text())
    assert [(r["method"], r["size"]) for r in rep["rows"]] == [("ellipse", "32x24"), ("ellipse", "64x48")]
    assert rep["video"][0]["method"] == "ellipse" and rep["video"][0]["frames"] == 3
    assert (out / "report.md").is_file() and (out / "report.csv").is_file()


@pytest.mark.parametrize(
    "args, message",
    [
        (("--methods", "nope"), "unknown method 'nope'"),
        (("--methods", "ellipse", "--frame-sizes", "640"), "--frame-sizes"),
        (("--methods", "ellipse", "--sizes", "big"), "--sizes"),
        (("--methods", "ellipse", "--video", "/nonexistent/clip.mp4"), "video not found"),
        (("--methods", "ellipse", "--video", __file__), "cannot open video"),
        (("--methods", "ellipse", "--repeats", "0"), "--repeats"),
    ],
)
def test_cli_bench_bad_input_is_one_line(cli, args: tuple[str, ...], message: str) -> None:
    code, _, err = cli("bench", *args)
    assert code == 2
    assert message in err and err.strip().startswith("error:") and "Traceback" not in err


class _Input:
    def __init__(self, name: str, shape: list) -> None:
        self.name, self.shape = name, shape


class _Session:
    def __init__(self, shape: list) -> None:
        self.shape = shape

    def get_inputs(self) -> list[_Input]:
        return [_Input("input", self.shape)]


@pytest.mark.parametrize(
    "shape, dynamic",
    [([1, 3, 256, 256], False), (["N", 3, 256, 256], False), (["N", 3, "H", "W"], True), ([1, 3, None, None], True)],
)
def test_is_dynamic_reads_the_graph_input(shape: list, dynamic: bool) -> None:
    from streamseg.evaluate.latency import is_dynamic

    seg = FixedModel()
    seg.session = _Session(shape)
    seg.input_name = "input"
    assert is_dynamic(seg) is dynamic
    assert is_dynamic(DynamicModel()) is True
    assert is_dynamic(Classical()) is False


def test_non_square_model_size_label() -> None:
    seg = FixedModel()
    seg.input_size = (144, 256)
    assert model_input_size(seg) == "256x144"
    assert model_input_size(Classical()) is None


def _onnx_model(path: Path, h: int | str = "H", w: int | str = "W") -> Path:
    """A tiny ONNX graph: sigmoid of the channel mean, (N, 3, h, w) -> (N, 1, h, w)."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    inp = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, h, w])
    out = helper.make_tensor_value_info("prob", TensorProto.FLOAT, ["N", 1, h, w])
    nodes = [
        helper.make_node("ReduceMean", ["input"], ["mean"], axes=[1], keepdims=1),
        helper.make_node("Sigmoid", ["mean"], ["prob"]),
    ]
    model = helper.make_model(helper.make_graph(nodes, "g", [inp], [out]), opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def test_cli_bench_onnx_models_fixed_and_dynamic(tmp_path: Path, cli) -> None:
    dyn = _onnx_model(tmp_path / "dyn.onnx")
    fixed = _onnx_model(tmp_path / "fixed.onnx", 32, 32)
    out = tmp_path / "rep"
    code, _, err = cli(
        "bench", "--methods", f"{dyn},{fixed}", "--sizes", "16,48", "--frame-sizes", "40x30",
        "--provider", "cpu", "--repeats", "2", "--warmup", "0", "--report", str(out),
    )
    assert code == 0, err
    rows = json.loads((out / "report.json").read_text())["rows"]
    assert [(r["size"], r["note"]) for r in rows] == [
        ("16", "dynamic input"), ("48", "dynamic input"), ("32", "fixed input 32; --sizes ignored"),
    ]
    assert all(r["provider"] == "CPUExecutionProvider" and r["frame"] == "40x30" for r in rows)


def test_bench_runs_without_the_demo_clip(tmp_path, monkeypatch, cli) -> None:
    """An installed wheel has no examples/ clip: bench times a synthetic frame, or the --video clip."""
    import streamseg.paths as paths
    from streamseg.errors import InputError
    from streamseg.evaluate import latency

    def missing():
        raise InputError("no demo clip")

    monkeypatch.setattr(paths, "demo_clip", missing)
    latency._FRAME_CACHE.clear()
    frame = latency.bench_frame(64, 48)
    assert frame.shape == (48, 64, 3) and frame.dtype.name == "uint8"
    from conftest import make_video

    clip = make_video(tmp_path / "c.mp4", frames=3, width=64, height=48)
    code, out, err = cli("bench", "--methods", "ycbcr", "--frame-sizes", "64x48", "--repeats", "2", "--video", clip)
    assert code == 0, err
