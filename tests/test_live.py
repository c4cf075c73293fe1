"""The live path against an MJPEG-over-HTTP stream served on 127.0.0.1 (how IP cameras reach OpenCV)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import read_video
from streamseg.synthetic import MJPEGServer

from streamseg.capture.live import LiveSource, CaptureRequest

STREAMSEG = [sys.executable, "-m", "streamseg"]


def test_webcam_records_every_processed_frame(tmp_path, cli):
    with MJPEGServer(frames=40, fps=40) as srv:
        code, out, err = cli(
            "webcam", "--source", srv.url, "--no-show", "-m", "ellipse", "--record", tmp_path / "rec.mp4",
            "--no-reconnect", "--timeout", "2", "--smooth", "none",
        )
    assert code == 0, err
    assert "granted 160x120" in err
    processed = int(err.split(" frames in ")[0].split()[-1])
    info = read_video(tmp_path / "rec.mp4")
    assert info["frames"] == processed >= 5
    # timestamps follow capture time: strictly increasing, within the run's length
    run_seconds = float(err.split(" frames in ")[1].split()[0])
    gaps = [b - a for a, b in zip(info["times"], info["times"][1:])]
    assert min(gaps) > 0 and info["times"][-1] <= run_seconds + 0.5


def test_capture_thread_keeps_only_the_newest_frame():
    with MJPEGServer(frames=60, fps=60) as srv:
        src = LiveSource(srv.url, CaptureRequest(timeout_s=2), reconnect=False)
        src.open()
        time.sleep(0.5)  # a slow consumer: many frames arrive meanwhile
        first = src.read(timeout=2)
        second = src.read(timeout=2)
        src.close()
    assert first is not None and second is not None
    assert first.index >= 10  # stale frames were skipped, not queued
    assert second.index > first.index
    assert src.dropped > 0


def test_stream_that_stops_is_reconnected_and_state_reset():
    with MJPEGServer(frames=10, fps=50) as srv:
        src = LiveSource(srv.url, CaptureRequest(timeout_s=1), reconnect=True, max_backoff_s=0.2)
        src.open()
        frames = []
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and srv.connections < 2 or len(frames) < 15:
            f = src.read(timeout=1)
            if f is not None:
                frames.append(f)
            if time.monotonic() > deadline:
                break
        src.close()
    assert src.reconnects >= 1 and srv.connections >= 2
    resets = [f.index for f in frames if f.reset]
    assert len(resets) >= 2  # the first frame and the first after the reconnect


def test_no_reconnect_ends_the_run(tmp_path, cli):
    with MJPEGServer(frames=5, fps=50) as srv:
        code, _, err = cli("webcam", "--source", srv.url, "--no-show", "-m", "ellipse", "--no-reconnect", "--timeout", "1")
    assert code == 0, err
    assert "stopped sending" in err and srv.connections == 1


def test_frames_of_a_new_size_are_resized_into_the_recording(tmp_path, cli):
    with MJPEGServer(frames=30, fps=50, size_change_at=10) as srv:
        code, _, err = cli(
            "webcam", "--source", srv.url, "--no-show", "-m", "ellipse", "--record", tmp_path / "r.mp4",
            "--no-reconnect", "--timeout", "2",
        )
    assert code == 0, err
    info = read_video(tmp_path / "r.mp4")
    assert info["shapes"] == {(120, 160)}  # the recording keeps its first size
    assert info["frames"] == int(err.split(" frames in ")[0].split()[-1]) > 20


def test_missing_camera_is_one_line_error(cli):
    code, out, err = cli("webcam", "--source", "57", "--no-show", "-m", "ellipse")
    assert code != 0
    assert "cannot open camera 57" in err and "Traceback" not in err


def test_sigterm_during_recording_leaves_a_playable_file(tmp_path):
    out = tmp_path / "rec.mp4"
    with MJPEGServer(frames=100000, fps=30) as srv:
        proc = subprocess.Popen(
            [*STREAMSEG, "webcam", "--source", srv.url, "--no-show", "-m", "ellipse", "--record", str(out), "--timeout", "2"],
            stderr=subprocess.PIPE, text=True,
        )
        deadline = time.monotonic() + 30
        while not (tmp_path / "rec.partial.mp4").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.5)
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    recorded = int(err.split("recorded ")[1].split()[0])
    assert recorded > 5
    assert read_video(out)["frames"] == recorded
    assert not (tmp_path / "rec.partial.mp4").exists()


@pytest.mark.skipif(shutil.which("Xvfb") is None or shutil.which("xdotool") is None, reason="Xvfb/xdotool not installed")
def test_window_under_xvfb_quits_on_q(tmp_path):
    display = ":97"
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "640x480x24"], stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.0)
        env = {**os.environ, "DISPLAY": display}
        with MJPEGServer(frames=100000, fps=30) as srv:
            # --duration is far beyond the test's wait: only the q key can end this run in time
            proc = subprocess.Popen(
                [*STREAMSEG, "webcam", "--source", srv.url, "--show", "-m", "ellipse", "--duration", "600", "--timeout", "2"],
                stderr=subprocess.PIPE, text=True, env=env,
            )
            wid = ""
            deadline = time.monotonic() + 30
            while not wid and time.monotonic() < deadline:
                time.sleep(0.5)
                found = subprocess.run(["xdotool", "search", "--name", "streamseg"], env=env, capture_output=True, text=True)
                wid = found.stdout.split()[0] if found.stdout.split() else ""
            assert wid, "the window never appeared"
            time.sleep(1.0)
            subprocess.run(["xdotool", "key", "--window", wid, "q"], env=env, capture_output=True, timeout=10)
            _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert "frames in" in err and "no display" not in err
    finally:
        xvfb.terminate()
