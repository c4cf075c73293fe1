"""Reliability, second round (issue 16): explicit models never fall back silently, cheap checks
come first, library logs stay off the terminal, ROI ids are never reused, ``image`` skips its own
outputs, the small CLI faults, and two runs on one output."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import make_video, read_video

from streamseg.errors import ConfigError, MethodError
from streamseg.pipeline.spec import RunSpec

STREAMSEG = [sys.executable, "-m", "streamseg"]
ROOT = Path(__file__).resolve().parents[1]


def one_line_error(code: int, out: str, err: str, needle: str) -> str:
    assert code != 0, err
    assert "Traceback" not in out + err
    last = err.strip().splitlines()[-1]
    assert last.startswith("error:") and needle in last, err
    return last


#: set by an in-process run of the CLI in this test session; a child must not inherit them
_QUIET_VARS = ("OPENCV_LOG_LEVEL", "OPENCV_FFMPEG_LOGLEVEL", "OPENCV_VIDEOIO_DEBUG", "GLOG_minloglevel", "TF_CPP_MIN_LOG_LEVEL")


def run(*args: str, timeout: float = 60, env: dict | None = None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in _QUIET_VARS}
    return subprocess.run(
        [*STREAMSEG, *map(str, args)], capture_output=True, text=True, timeout=timeout, env={**base, **(env or {})},
    )


# ---------------------------------------------------------------- 1. explicit models do not fall back


def test_explicit_model_path_that_does_not_exist_is_an_error(tmp_path, cli):
    src = make_video(tmp_path / "clip.mp4", frames=3)
    one_line_error(*cli("video", src, "-m", tmp_path / "none.onnx", "-o", tmp_path / "o.mp4"), "model file not found")
    assert not (tmp_path / "o.mp4").exists()


def test_explicit_broken_model_is_an_error_and_fallback_makes_it_a_warning(tmp_path, cli):
    src = make_video(tmp_path / "clip.mp4", frames=3)
    bad = tmp_path / "trunc.onnx"
    bad.write_bytes(b"\x08\x07not really onnx")
    one_line_error(*cli("video", src, "-m", bad, "-o", tmp_path / "o.mp4"), "not a valid ONNX file")
    code, _, err = cli("video", src, "-m", bad, "--fallback", "-o", tmp_path / "o.mp4")
    assert code == 0 and "falling back to 'ellipse-diag'" in err
    assert read_video(tmp_path / "o.mp4")["frames"] == 3


def test_fallback_policy_of_the_run_config():
    assert RunSpec.make().method.is_strict is False  # the default model may fall back
    assert RunSpec.make(strict=True).method.is_strict is True
    assert RunSpec.make(method="dlmv").method.is_strict is True  # named: strict
    assert RunSpec.make(method="dlmv", fallback=True).method.is_strict is False
    assert RunSpec.make({"method": {"name": "dlmv"}}).method.is_strict is True  # named in a config file
    with pytest.raises(ConfigError, match="contradict"):
        RunSpec.make(strict=True, fallback=True)
    with pytest.raises(MethodError, match="model file not found"):
        RunSpec.make(method="missing/model.onnx")


# ---------------------------------------------------------------- 2. cheap checks first


def test_unknown_method_is_reported_before_output_exists(tmp_path, cli):
    src = make_video(tmp_path / "clip.mp4", frames=2)
    (tmp_path / "o.mp4").write_bytes(b"x")
    one_line_error(*cli("video", src, "-m", "elipse", "-o", tmp_path / "o.mp4"), "unknown method 'elipse'")


def test_bad_config_is_reported_before_output_exists(tmp_path, cli):
    src = make_video(tmp_path / "clip.mp4", frames=2)
    (tmp_path / "o.mp4").write_bytes(b"x")
    (tmp_path / "c.toml").write_text("[smooth]\nbogus = 1\n")
    one_line_error(*cli("video", src, "-m", "ellipse", "-o", tmp_path / "o.mp4", "-c", tmp_path / "c.toml"), "bogus")


def test_webcam_opens_the_camera_before_loading_the_model(cli):
    t0 = time.perf_counter()
    code, out, err = cli("webcam", "--source", "57", "--no-show")  # the default model: dlmv
    one_line_error(code, out, err, "cannot open camera 57")
    assert "method:" not in err  # no model was loaded
    assert time.perf_counter() - t0 < 5


# ---------------------------------------------------------------- 3. library logs


@pytest.mark.parametrize("source", ["57", "http://127.0.0.1:9/none"])
def test_missing_camera_or_bad_url_prints_exactly_one_error_line(source):
    p = run("webcam", "--source", source, "--no-show", "-m", "ellipse", "--timeout", "1")
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert p.returncode == 2, p.stderr
    assert len(lines) == 1 and lines[0].startswith("error: cannot open"), p.stderr
    assert p.stdout == ""


def test_verbose_shows_the_library_logs_again():
    p = run("webcam", "--source", "57", "--no-show", "-m", "ellipse", "--verbose")
    assert p.returncode == 2
    assert len([ln for ln in p.stderr.splitlines() if ln.strip()]) > 1, p.stderr


def test_mediapipe_logs_do_not_leak(tmp_path):
    from streamseg.optional import mediapipe_missing

    if mediapipe_missing():
        pytest.skip(mediapipe_missing())
    src = make_video(tmp_path / "clip.mp4", frames=3)
    p = run("video", src, "-m", "mediapipe", "-o", tmp_path / "o.mp4", timeout=120)
    assert p.returncode == 0, p.stderr
    for bad in ("W0000", "INFO: Created TensorFlow", "absl::InitializeLog", "[ WARN", "[ERROR"):
        assert bad not in p.stderr, p.stderr


def test_library_line_pattern():
    import re

    from streamseg.log import LIBRARY_LINE

    pat = re.compile(LIBRARY_LINE)
    for line in (
        "W0000 00:00:1796117139.260379    3699 inference_feedback_manager.cc:114] Feedback manager",
        "INFO: Created TensorFlow Lite XNNPACK delegate for CPU.",
        "[tcp @ 0x55cade1d0c00] Connection to tcp://127.0.0.1:1 failed: Connection refused",
        "[ERROR:0@0.645] global obsensor_uvc_stream_channel.cpp:158 getStreamChannelGroup",
        "[ WARN:0@0.041] global cap.cpp:215 open VIDEOIO(FFMPEG)",
    ):
        assert pat.match(line), line
    for line in ("error: cannot open camera 7", "warning: x", "method: dlmv on CPUExecutionProvider", "[x] y"):
        assert not pat.match(line), line


# ---------------------------------------------------------------- 4. ROI ids, empty boxes, labels


def _track_ids(tracker, frames):
    from streamseg.rois.regions import find_regions

    ids = set()
    for i, mask in enumerate(frames):
        regions = find_regions(mask, mask.astype(np.float32), min_area=20)
        ids |= {t.id for t in tracker.update(regions, i / 25)}
    return ids


def test_roi_ids_are_not_reused_after_a_reset():
    from streamseg.rois.tracking import Tracker

    mask = np.zeros((60, 80), bool)
    mask[10:30, 10:30] = True
    tracker = Tracker()
    first = _track_ids(tracker, [mask] * 5)
    tracker.reset()  # reconnect / new source
    second = _track_ids(tracker, [mask] * 5)
    assert first and second and not first & second


def test_regions_without_width_or_height_are_not_reported():
    from streamseg.rois.message import build_message
    from streamseg.rois.tracking import Tracker

    mask = np.zeros((60, 80), bool)
    mask[10:30, 10:30] = True
    tracker = Tracker()
    from streamseg.rois.regions import find_regions

    tracks = tracker.update(find_regions(mask, mask.astype(np.float32), min_area=20), 0.0)
    tracks[0].box = np.array([90.0, 70.0, 120.0, 100.0])  # drifted out of the 80x60 frame
    msg = build_message(tracks, source="s", index=0, time=0.0, width=80, height=60, skin_fraction=0.1)
    assert msg["regions"] == []


def test_overlay_labels_do_not_overlap():
    from streamseg.rois.draw import place_label

    placed: list = []
    # a face and a forehead skin box right above it; then a hand at the same corner
    for box in [(100, 100, 200, 220), (100, 80, 200, 110), (98, 96, 150, 150)]:
        x, y = place_label(box, (80, 16), (640, 480), placed)
        rect = (x, y, x + 80, y + 16)
        assert all(not (rect[0] < p[2] and p[0] < rect[2] and rect[1] < p[3] and p[1] < rect[3]) for p in placed)
        assert 0 <= x and 0 <= y and rect[2] <= 640 and rect[3] <= 480
        placed.append(rect)


def test_draw_rois_puts_the_face_label_where_the_skin_box_does_not_hide_it():
    from streamseg.rois import draw_rois

    img = np.zeros((240, 320, 3), np.uint8)
    msg = {"size": [320, 240], "regions": [
        {"id": 3, "label": "skin", "score": 0.9, "box": [100, 40, 100, 30], "predicted": False},
        {"id": 1, "label": "face", "score": 0.9, "box": [100, 60, 100, 120], "predicted": False},
    ]}
    draw_rois(img, msg)  # draws without error; the placement itself is place_label's test
    assert img.any()


# ---------------------------------------------------------------- 5. streamseg image


def _photos(folder: Path, n: int = 4) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        cv2.imwrite(str(folder / f"frame_{i:03d}.png"), np.full((20, 30, 3), (116, 139, 184), np.uint8))
    return folder


def test_image_into_its_own_folder_twice_skips_its_outputs(tmp_path, cli):
    d = _photos(tmp_path / "photos")
    assert cli("image", d, "-o", d, "-m", "ellipse")[0] == 0
    code, _, err = cli("image", d, "-o", d, "-m", "ellipse", "-y")
    assert code == 0, err
    assert "4 of 4 images done" in err
    assert not list(d.glob("*_mask_mask.png"))


def test_image_outputs_that_exist_are_exit_2_before_any_work(tmp_path, cli):
    d = _photos(tmp_path / "photos")
    assert cli("image", d, "-m", "ellipse")[0] == 0
    code, out, err = cli("image", d, "-m", "ellipse")
    assert one_line_error(code, out, err, "output exists") and code == 2
    assert "method:" not in err


def test_unreadable_image_is_exit_3(tmp_path, cli):
    d = _photos(tmp_path / "photos", 2)
    (d / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    code, out, err = cli("image", d, "-m", "ellipse")
    assert code == 3 and "1 of 3 images could not be read" in err


# ---------------------------------------------------------------- 6. other CLI faults


def test_one_file_name_for_several_output_types_names_files_after_it(tmp_path, cli):
    src = make_video(tmp_path / "clip.mp4", frames=3)
    code, _, err = cli("video", src, "-o", tmp_path / "out.mp4", "-T", "mask,overlay", "-m", "ellipse")
    assert code == 0, err
    assert not (tmp_path / "out.mp4").exists()
    for t in ("mask", "overlay"):
        assert read_video(tmp_path / f"out_{t}.mp4")["frames"] == 3


def test_flag_with_a_value_names_the_flag(tmp_path, cli):
    src = make_video(tmp_path / "clip.mp4", frames=2)
    one_line_error(*cli("video", src, "--strict", "true"), "--strict is a switch and takes no value")


def test_help_shows_table_names_and_no_bool_metavar(cli):
    code, out, _ = cli("video", "--help")
    flat = " ".join(out.split())
    assert code == 0
    assert "[smooth]" in flat and "[rois]" in flat
    assert "<bool>" not in out
    assert "demo_mask.mp4" not in flat  # the demo clip's output is named after the clip


def test_unknown_rois_key_is_an_error_without_rois(tmp_path, cli):
    src = make_video(tmp_path / "clip.mp4", frames=2)
    (tmp_path / "c.toml").write_text("[rois]\nmin_areaa = 0.01\n")
    one_line_error(*cli("video", src, "-m", "ellipse", "-c", tmp_path / "c.toml", "-o", tmp_path / "o.mp4"), "min_areaa")


def test_webcam_with_a_file_plays_it_once_at_its_own_rate(tmp_path, cli):
    src = make_video(tmp_path / "clip.mp4", frames=25, fps=25)
    t0 = time.perf_counter()
    code, _, err = cli("webcam", "--source", src, "--no-show", "-m", "ellipse", "--record", tmp_path / "r.mp4")
    took = time.perf_counter() - t0
    assert code == 0, err
    assert "reconnect" not in err.replace("0 reconnects", "")
    frames = read_video(tmp_path / "r.mp4")["frames"]
    assert 20 <= frames <= 25, err
    assert took >= 0.8  # 25 frames at 25 fps, not as fast as they decode


def test_webcam_with_a_file_loops_only_with_loop(tmp_path, cli):
    src = make_video(tmp_path / "clip.mp4", frames=5, fps=50)
    code, _, err = cli("webcam", "--source", src, "--no-show", "-m", "ellipse", "--loop", "--max-frames", "12",
                       "--record", tmp_path / "r.mp4")
    assert code == 0, err
    assert read_video(tmp_path / "r.mp4")["frames"] == 12


def test_test_script_says_before_it_installs_system_packages():
    text = (ROOT / "scripts" / "test.sh").read_text()
    before = text.split("apt-get install")[0]
    assert "echo" in before.split("apt-get update")[0].split("then")[-1] and "system-wide" in before
    assert "STREAMSEG_NO_APT" in text


def test_mp4_cut_off_while_recording_says_it_has_no_index(tmp_path, cli):
    full = make_video(tmp_path / "full.mp4", frames=10)
    data = full.read_bytes()
    moov, mdat = data.find(b"moov") - 4, data.find(b"mdat") - 4
    ftyp = int.from_bytes(data[:4], "big")
    # what a crashed recorder leaves: ftyp + mdat, no moov
    crash = data[:ftyp] + (data[mdat:moov] if moov > mdat else data[mdat:])
    (tmp_path / "crash.mp4").write_bytes(crash)
    code, out, err = cli("video", tmp_path / "crash.mp4", "-m", "ellipse")
    one_line_error(code, out, err, "has no index")
    assert code == 2 and "cut off" in err


# ---------------------------------------------------------------- 8. two runs, one output


def test_second_run_on_an_output_being_written_is_refused(tmp_path, cli):
    src = make_video(tmp_path / "clip.mp4", frames=3)
    out = tmp_path / "o.mp4"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from streamseg.sinks.output_path import prepare_output; "
         f"prepare_output({str(out)!r}); print('held', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        code, o, err = cli("video", src, "-m", "ellipse", "-o", out)
        one_line_error(code, o, err, "is being written by another streamseg run")
        assert code == 2 and not out.exists()
    finally:
        holder.kill()
        holder.wait()
    code, _, err = cli("video", src, "-m", "ellipse", "-o", out)  # the lock went with the process
    assert code == 0, err
    assert read_video(out)["frames"] == 3
    assert not list(tmp_path.glob("*.lock"))


def test_two_runs_at_once_give_one_whole_file(tmp_path):
    src = make_video(tmp_path / "clip.mp4", frames=120)
    out = tmp_path / "o.mp4"
    procs = [subprocess.Popen([*STREAMSEG, "video", str(src), "-m", "ellipse", "-o", str(out)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [p.communicate(timeout=120) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes[0] == 0 and codes[1] in (0, 2), results
    for p, (_, err) in zip(procs, results):
        if p.returncode == 2:
            assert "is being written by another streamseg run" in err or "output exists" in err, err
    assert read_video(out)["frames"] == 120


def test_lock_is_taken_again_by_the_same_process(tmp_path):
    from streamseg.sinks.output_path import acquire_lock, lock_path, release_lock

    out = tmp_path / "x.mp4"
    acquire_lock(out)
    acquire_lock(out)  # re-entrant within one process
    assert lock_path(out).exists()
    p = subprocess.run(
        [sys.executable, "-c", f"from streamseg.sinks.output_path import acquire_lock; acquire_lock({str(out)!r})"],
        capture_output=True, text=True,
    )
    assert p.returncode != 0 and "OutputError" in p.stderr and "being written" in p.stderr
    release_lock(out)
    assert not lock_path(out).exists()
