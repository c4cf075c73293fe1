"""Outputs never clobber files and crashes never lose a recording: every output path of a run
goes through one check (exists without -y, is an input, is named twice), interrupts keep what
was processed, and a run killed with SIGKILL leaves a partial file that decodes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from conftest import make_video, read_video

STREAMSEG = [sys.executable, "-m", "streamseg"]


def one_line_error(code: int, out: str, err: str, needle: str) -> str:
    assert code == 2, err
    assert "Traceback" not in out + err and "[error]" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("error:") and needle in last, err
    assert "method:" not in err  # refused before the method was loaded
    return last


def write_png(path: Path, value: int = 128) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), np.full((16, 16, 3), value, np.uint8))
    return path


# ---------------------------------------------------------------- one check for every output


def test_rois_file_that_is_the_input_is_refused(tmp_path, cli):
    src = make_video(tmp_path / "v.mp4", frames=3)
    before = src.read_bytes()
    code, out, err = cli("video", src, "-o", tmp_path / "out.mp4", "-m", "ellipse", "--rois", f"jsonl:{src}", "-y")
    one_line_error(code, out, err, "same file as the input")
    assert src.read_bytes() == before
    assert not (tmp_path / "out.mp4").exists()


def test_rois_file_that_is_a_hard_link_to_the_input_is_refused(tmp_path, cli):
    src = make_video(tmp_path / "v.mp4", frames=3)
    link = tmp_path / "link.jsonl"
    os.link(src, link)
    before = src.read_bytes()
    code, out, err = cli("video", src, "-o", tmp_path / "out.mp4", "-m", "ellipse", "--rois", f"jsonl:{link}", "-y")
    one_line_error(code, out, err, "same file as the input")
    assert src.read_bytes() == before


def test_existing_rois_file_needs_overwrite(tmp_path, cli):
    src = make_video(tmp_path / "v.mp4", frames=3)
    rois = tmp_path / "r.jsonl"
    rois.write_text("keep me\n")
    code, out, err = cli("video", src, "-o", tmp_path / "out.mp4", "-m", "ellipse", "--rois", f"jsonl:{rois}")
    one_line_error(code, out, err, "output exists")
    assert rois.read_text() == "keep me\n"
    code, _, err = cli("video", src, "-o", tmp_path / "out.mp4", "-m", "ellipse", "--rois", f"jsonl:{rois}", "-y")
    assert code == 0, err
    assert len(rois.read_text().splitlines()) == 3


def test_stats_csv_on_the_video_output_is_refused(tmp_path, cli):
    src = make_video(tmp_path / "v.mp4", frames=3)
    out_mp4 = tmp_path / "out.mp4"
    code, out, err = cli("video", src, "-o", out_mp4, "-m", "ellipse", "--stats-csv", out_mp4, "-y")
    one_line_error(code, out, err, "named twice")
    assert not out_mp4.exists()


def test_stats_csv_and_rois_file_on_one_path_are_refused(tmp_path, cli):
    src = make_video(tmp_path / "v.mp4", frames=3)
    same = tmp_path / "s.txt"
    code, out, err = cli("video", src, "-o", tmp_path / "o.mp4", "-m", "ellipse", "--stats-csv", same, "--rois", f"jsonl:{same}")
    one_line_error(code, out, err, "named twice")


def test_webcam_recording_onto_its_source_file_is_refused(tmp_path, cli):
    src = make_video(tmp_path / "v.mp4", frames=3)
    before = src.read_bytes()
    code, out, err = cli("webcam", "--source", src, "--no-show", "-m", "ellipse", "--record", src, "-y")
    one_line_error(code, out, err, "same file as the input")
    assert src.read_bytes() == before


@pytest.mark.parametrize("names", [("a/ok.png", "b/ok.jpg"), ("x.webp", "x.bmp")])
def test_two_images_with_one_output_name_are_refused(tmp_path, cli, names):
    paths = [write_png(tmp_path / n, value=40 * (i + 1)) for i, n in enumerate(names)]
    out_dir = ["-o", tmp_path / "out"] if "/" in names[0] else []
    code, out, err = cli("image", *paths, *out_dir, "-m", "ellipse", "-y")
    one_line_error(code, out, err, "named twice")
    assert not list(tmp_path.rglob("*_mask.png"))


def test_image_output_named_like_another_input_is_refused(tmp_path, cli):
    a = write_png(tmp_path / "a.png")
    other = write_png(tmp_path / "a_mask.png", value=7)
    code, out, err = cli("image", a, other, "-m", "ellipse", "-y")
    one_line_error(code, out, err, "same file as the input")
    assert cv2.imread(str(other))[0, 0, 0] == 7


def test_image_output_file_name_is_a_file(tmp_path, cli):
    src = write_png(tmp_path / "x.png")
    code, _, err = cli("image", src, "-o", tmp_path / "single.png", "-m", "ellipse")
    assert code == 0, err
    assert (tmp_path / "single.png").is_file()
    assert cv2.imread(str(tmp_path / "single.png"), cv2.IMREAD_UNCHANGED).shape[:2] == (16, 16)


def test_image_output_file_name_for_several_images_is_refused(tmp_path, cli):
    srcs = [write_png(tmp_path / "x.png"), write_png(tmp_path / "y.png")]
    code, out, err = cli("image", *srcs, "-o", tmp_path / "single.png", "-m", "ellipse")
    one_line_error(code, out, err, "names one file")
    assert not (tmp_path / "single.png").exists()


# ---------------------------------------------------------------- encoder settings up front


@pytest.mark.parametrize(
    "args, needle",
    [
        (["-o", "out.txt"], ".txt is not a video file type"),
        (["-o", "out.gif"], ".gif files cannot hold libx264 video"),
        (["-o", "out.mp4", "--preset", "nosuch"], "--preset nosuch"),
        (["-o", "out.mp4", "--codec", "nosuch"], "--codec nosuch"),
    ],
)
def test_bad_output_format_or_encoder_setting_is_one_line_before_loading(tmp_path, cli, args, needle):
    src = make_video(tmp_path / "v.mp4", frames=3)
    args = [str(tmp_path / a) if a.startswith("out.") else a for a in args]
    code, out, err = cli("video", src, "-m", "ellipse", *args)
    one_line_error(code, out, err, needle)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.mp4"]


# ---------------------------------------------------------------- interrupts and crashes


def test_second_ctrl_c_keeps_the_frames_already_written(tmp_path):
    from streamseg.pipeline import process_video_file
    from streamseg.segment import create
    from streamseg.sinks.output_path import prepare_output

    src = make_video(tmp_path / "v.mp4", frames=300, width=160, height=120)
    out = prepare_output(tmp_path / "o.mp4")

    class CtrlCTwice:
        """Presses Ctrl-C twice in a row after the 100th frame went to the video."""

        def write(self, result) -> None:
            if result.frame.index == 99:
                os.kill(os.getpid(), signal.SIGINT)
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(1)  # the second one arrives here at the latest

        def close(self) -> None:
            pass

    assert threading.current_thread() is threading.main_thread()
    with pytest.raises(KeyboardInterrupt):
        process_video_file(src, {"mask": out}, create("ellipse"), progress=False, sinks=[CtrlCTwice()])
    partial = tmp_path / "o.partial.mp4"
    assert not out.exists()
    assert read_video(partial)["frames"] == 100


def _wait_for_rows(csv: Path, rows: int, proc: subprocess.Popen, timeout: float = 90.0) -> None:
    """Until ``--stats-csv`` has ``rows`` rows: the frames before them went to the video sinks."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if csv.exists() and len(csv.read_bytes().splitlines()) > rows:
            return
        time.sleep(0.02)


@pytest.mark.parametrize(
    "command, ext",
    [("video", ".mp4"), ("video", ".mkv"), ("webcam", ".mp4")],
    ids=["video-mp4", "video-mkv", "webcam-record"],
)
def test_sigkill_leaves_a_partial_file_that_decodes(tmp_path, command, ext):
    src = make_video(tmp_path / "long.mp4", frames=3000, width=320, height=240)
    out, csv = tmp_path / f"o{ext}", tmp_path / "stats.csv"
    if command == "video":
        args = ["video", str(src), "-o", str(out)]
    else:  # a video file as the live source plays at its own rate, like a camera
        args = ["webcam", "--source", str(src), "--no-show", "--record", str(out)]
    partial = tmp_path / f"o.partial{ext}"
    proc = subprocess.Popen(
        [*STREAMSEG, *args, "-m", "ellipse", "-T", "mask", "--stats-csv", str(csv)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_rows(csv, 120, proc)
        assert proc.poll() is None, "the run ended before it could be killed"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=30)
    assert not out.exists()
    with av.open(str(partial)) as c:
        frames = [f.to_ndarray(format="gray") for f in c.decode(video=0)]
    assert len(frames) >= 10
    assert frames[0].shape == (240, 320)


def test_finished_mp4_is_a_regular_file_with_the_source_timestamps(tmp_path, cli):
    src = make_video(tmp_path / "v.mp4", frames=60, width=64, height=48, audio=True)
    code, _, err = cli("video", src, "-m", "ellipse", "-T", "overlay", "-o", tmp_path / "o.mp4")
    assert code == 0, err
    data = (tmp_path / "o.mp4").read_bytes()
    boxes, pos = [], 0
    while pos + 8 <= len(data):  # the top-level MP4 boxes: size (4 bytes), type (4 bytes)
        size, kind = int.from_bytes(data[pos : pos + 4], "big"), data[pos + 4 : pos + 8].decode()
        boxes.append(kind)
        pos += size if size > 1 else len(data)
    assert "moov" in boxes and "moof" not in boxes and "mfra" not in boxes, boxes
    got, want = read_video(tmp_path / "o.mp4"), read_video(src)
    assert got["times"] == pytest.approx(want["times"], abs=1e-3)
    assert got["audio_packets"] == want["audio_packets"]
    assert not list(tmp_path.glob("*.partial*"))
