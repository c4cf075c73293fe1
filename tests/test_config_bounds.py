"""Run options that were ignored or unbounded: a config file's `[output] threshold` and
`[method] provider/threads/batch` take effect and are checked like the flags (one validator),
threads are bounded by the cores, a model's NaN output is sanitised with one warning, closed
stdout/stderr end cleanly, and the Python API raises StreamsegError for bad frames and options."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import make_video

import streamseg
from streamseg.errors import ConfigError, StreamsegError

CORES = os.cpu_count() or 1


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return make_video(tmp_path_factory.mktemp("bounds") / "clip.mp4", frames=6)


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "run.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _last_line(err: str) -> str:
    return err.strip().splitlines()[-1]


# ---------------------------------------------------------------- config values are checked


@pytest.mark.parametrize(
    ("text", "key", "want"),
    [
        ("[output]\nthreshold = 7\n", "[output] threshold", "must be a number in [0, 1], got 7"),
        ("[output]\nthreshold = nan\n", "[output] threshold", "must be a number in [0, 1], got nan"),
        ("[method]\nthreads = -4\n", "[method] threads", "must be an integer from 0"),
        (f"[method]\nthreads = {CORES + 1}\n", "[method] threads", f"to {CORES} (the cores of this machine)"),
        ('[method]\nprovider = "nosuch"\n', "[method] provider", "must be one of auto, cuda"),
        ("[method]\nbatch = 0\n", "[method] batch", "must be an integer from 1 to 64, got 0"),
    ],
)
def test_bad_config_values_are_one_line_errors(cli, clip, tmp_path, text, key, want):
    cfg = _config(tmp_path, text)
    code, _, err = cli("video", clip, "-m", "ellipse", "-o", tmp_path / "out.mp4", "-c", cfg)
    assert code == 2, err
    last = _last_line(err)
    assert last.startswith(f"error: {cfg} {key}: ") and want in last, err
    assert "Traceback" not in err and not (tmp_path / "out.mp4").exists()


@pytest.mark.parametrize(
    ("flag", "value", "key", "config"),
    [
        ("--threshold", "7", "threshold", "[output]\nthreshold = 7\n"),
        ("--threads", str(CORES + 1), "threads", f"[method]\nthreads = {CORES + 1}\n"),
        ("--batch", "65", "batch", "[method]\nbatch = 65\n"),
    ],
)
def test_a_flag_and_a_config_value_are_checked_by_the_same_rule(cli, clip, tmp_path, flag, value, key, config):
    code, _, flag_err = cli("video", clip, "-m", "ellipse", "-o", tmp_path / "a.mp4", flag, value)
    assert code == 2, flag_err
    code, _, file_err = cli("video", clip, "-m", "ellipse", "-o", tmp_path / "b.mp4", "-c", _config(tmp_path, config))
    assert code == 2, file_err
    rule = lambda line: line.split(f"{key}: ", 1)[1].rsplit(", got", 1)[0]  # noqa: E731
    assert _last_line(flag_err).startswith(f"error: {key}: ")
    assert rule(_last_line(flag_err)) == rule(_last_line(file_err))


def test_config_values_take_effect_and_flags_given_win(cli, clip, tmp_path, monkeypatch):
    import streamseg.pipeline.build

    seen = []

    def build(spec, **_):
        seen.append((spec.output.threshold, spec.method.provider, spec.method.threads, spec.method.batch))
        raise StreamsegError("stop here: the run spec is what this test checks")

    monkeypatch.setattr(streamseg.pipeline.build, "build", build)
    cfg = _config(tmp_path, '[output]\nthreshold = 0.9\n[method]\nprovider = "cpu"\nthreads = 1\nbatch = 2\n')
    cli("video", clip, "-m", "ellipse", "-o", tmp_path / "a.mp4", "-c", cfg)
    assert seen[-1] == (0.9, "cpu", 1, 2)
    cli("video", clip, "-m", "ellipse", "-o", tmp_path / "b.mp4", "-c", cfg, "--threshold", "0.3", "--batch", "1")
    assert seen[-1] == (0.3, "cpu", 1, 1)
    cli("video", clip, "-m", "ellipse", "-o", tmp_path / "c.mp4")
    assert seen[-1] == (0.5, "auto", 0, 1)


def test_threads_are_bounded_by_the_cores_in_the_api_too():
    with pytest.raises(ConfigError, match="the cores of this machine"):
        streamseg.new_session("ellipse", threads=CORES + 1)
    assert streamseg.new_session("ellipse", threads=CORES).name == "ellipse"


# ---------------------------------------------------------------- a model that outputs NaN


def _nan_model(path: Path) -> Path:
    """(1, 3, 32, 32) -> sqrt(input - 0.5): NaN where a channel is below 0.5, finite elsewhere."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    graph = helper.make_graph(
        [helper.make_node("Sub", ["input", "half"], ["d"]), helper.make_node("Sqrt", ["d"], ["prob"])],
        "nan",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 32, 32])],
        [helper.make_tensor_value_info("prob", TensorProto.FLOAT, [1, 3, 32, 32])],
        [numpy_helper.from_array(np.array(0.5, np.float32), "half")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def test_nan_model_output_is_read_as_no_skin_with_one_warning(tmp_path, caplog):
    from streamseg.segment.onnx_model import OnnxSegmenter

    seg = OnnxSegmenter.from_file(_nan_model(tmp_path / "nan.onnx"))
    frame = np.zeros((48, 64, 3), np.uint8)
    frame[:, 32:] = 255  # the right half: sqrt(0.5); the left half: NaN
    for _ in range(3):
        prob = seg.segment(frame)
    assert np.isfinite(prob).all() and prob.min() >= 0 and prob.max() <= 1
    assert (prob[:, :24] == 0).all() and np.allclose(prob[:, 40:], np.sqrt(0.5), atol=1e-3)
    warnings_ = [r.getMessage() for r in caplog.records if r.name == "streamseg" and r.levelname == "WARNING"]
    assert len(warnings_) == 1 and "NaN or infinite" in warnings_[0], warnings_


def test_nan_model_run_writes_valid_json_rois(cli, clip, tmp_path):
    model = _nan_model(tmp_path / "nan.onnx")
    code, out, err = cli("video", clip, "-m", model, "-o", tmp_path / "m.mp4", "--rois", "jsonl:-")
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) >= 6

    def refuse(constant: str):
        raise AssertionError(f"invalid JSON constant {constant} in the ROI stream")

    for line in lines:
        json.loads(line, parse_constant=refuse)
    assert sum("NaN or infinite" in ln for ln in err.splitlines()) == 1, err


# ---------------------------------------------------------------- closed stdout / stderr


def _run_with_closed(fd: int, *args: str) -> subprocess.CompletedProcess:
    keep = {1: "stderr", 2: "stdout"}[fd]
    return subprocess.run(
        [sys.executable, "-m", "streamseg", *map(str, args)], preexec_fn=lambda: os.close(fd), timeout=300, text=True,
        **{keep: subprocess.PIPE},
    )


@pytest.mark.skipif(os.name != "posix", reason="closes a file descriptor of the child")
def test_closed_stderr_the_exit_code_says_what_happened(clip, tmp_path):
    ok = _run_with_closed(2, "video", clip, "-m", "ellipse", "-o", tmp_path / "m.mp4")
    assert ok.returncode == 0 and (tmp_path / "m.mp4").is_file()
    bad = _run_with_closed(2, "video", tmp_path / "missing.mp4", "-m", "ellipse", "-o", tmp_path / "n.mp4")
    assert bad.returncode == 2  # the input error's own code, not 1 (an internal error)


@pytest.mark.skipif(os.name != "posix", reason="closes a file descriptor of the child")
def test_closed_stdout_with_rois_to_stdout_is_a_one_line_error(clip, tmp_path):
    proc = _run_with_closed(1, "video", clip, "-m", "ellipse", "-o", tmp_path / "m.mp4", "--rois", "jsonl:-")
    assert proc.returncode == 2, proc.stderr
    assert _last_line(proc.stderr).startswith("error: cannot write the ROI stream to stdout"), proc.stderr
    assert "internal error" not in proc.stderr and not (tmp_path / "m.mp4").exists()


# ---------------------------------------------------------------- the Python API's errors


@pytest.mark.parametrize("options", [{"threads": "2"}, {"threads": -1}, {"batch": 0}, {"size": 3}, {"provider": 5}, {"strict": "yes"}])
def test_bad_session_options_are_config_errors(options):
    with pytest.raises(ConfigError):
        streamseg.new_session("ellipse", **options)


@pytest.mark.parametrize(
    "frame",
    [np.zeros((0, 0, 3), np.uint8), np.zeros((0, 8, 3), np.uint8), np.zeros((8, 8), np.uint8), np.zeros((8, 8, 3), np.float32), [[1, 2]]],
    ids=["0x0", "0x8", "grey", "float", "list"],
)
@pytest.mark.parametrize("method", ["ellipse", "dlmv"])
def test_bad_frames_are_streamseg_errors(method, frame):
    with pytest.raises(StreamsegError) as info:
        streamseg.segment(frame, method)
    assert isinstance(info.value, ValueError)  # what callers caught before still works


def test_process_live_max_frames_0_is_refused(clip):
    with pytest.raises(ConfigError, match="max_frames: must be an integer of at least 1"):
        streamseg.process_live(str(clip), method="ellipse", max_frames=0)
