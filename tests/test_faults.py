"""Reliability: bad inputs, bad outputs and interruptions, each built here; never a traceback,
never a half-written file under the final name."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import make_video, read_video

from streamseg.synthetic import png_header_only

STREAMSEG = [sys.executable, "-m", "streamseg"]


def one_line_error(code: int, out: str, err: str, needle: str) -> None:
    assert code != 0
    assert "Traceback" not in out + err
    last = err.strip().splitlines()[-1]
    assert last.startswith("error:") and needle in last, err


# ---------------------------------------------------------------- inputs


def test_directory_as_input(tmp_path, cli):
    one_line_error(*cli("video", tmp_path, "-m", "ellipse"), "is a directory")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads everything")
def test_unreadable_input(tmp_path, cli):
    src = make_video(tmp_path / "in.mp4", frames=2)
    src.chmod(0)
    one_line_error(*cli("video", src, "-m", "ellipse"), "permission")


def test_zero_byte_input(tmp_path, cli):
    (tmp_path / "empty.mp4").write_bytes(b"")
    one_line_error(*cli("video", tmp_path / "empty.mp4", "-m", "ellipse"), "empty")


def test_audio_only_file(tmp_path, cli):
    import av

    path = tmp_path / "song.m4a"
    with av.open(str(path), "w") as c:
        a = c.add_stream("aac", rate=48000)
        a.layout = "mono"
        fr = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        fr.sample_rate = 48000
        for p in [*a.encode(fr), *a.encode(None)]:
            c.mux(p)
    one_line_error(*cli("video", path, "-m", "ellipse"), "no video stream (audio)")


def test_truncated_video_processes_what_decodes_and_exits_nonzero(tmp_path, cli):
    full = make_video(tmp_path / "full.mp4", frames=100, width=128, height=96, options={"movflags": "faststart"})
    data = full.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: int(len(data) * 0.6)])
    code, out, err = cli("video", cut, "-m", "ellipse", "-o", tmp_path / "o.mp4")
    assert code == 3, err
    assert "could not be decoded" in err
    lost = int(err.split(" of 100 frames could not be decoded")[0].split()[-1])
    partial = tmp_path / "o.partial.mp4"
    assert not (tmp_path / "o.mp4").exists()  # never passed off as complete
    assert read_video(partial)["frames"] == 100 - lost > 10


def test_corrupt_packets_in_the_middle_are_skipped(tmp_path, cli, damaged_mp4):
    bad = damaged_mp4
    code, out, err = cli("video", bad, "-m", "ellipse", "-o", tmp_path / "o.mp4")
    assert "Traceback" not in err
    decoded = read_video(tmp_path / "o.partial.mp4")["frames"] if code else read_video(tmp_path / "o.mp4")["frames"]
    assert decoded > 50  # frames after the damage were decoded too
    if code:
        assert code == 3 and f"{100 - decoded} of 100 frames could not be decoded" in err


def test_rotation_metadata_gives_an_upright_output(tmp_path, cli):
    import av

    src = tmp_path / "phone.mp4"
    with av.open(str(src), "w") as c:
        s = c.add_stream("libx264", rate=25)
        s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
        s.set_display_rotation(90)  # counter-clockwise, as a phone held sideways writes it
        for i in range(3):
            img = np.zeros((48, 64, 3), np.uint8)
            img[:12, :16] = 255  # marker in the stored top-left corner
            fr = av.VideoFrame.from_ndarray(img, format="bgr24")
            fr.pts = i
            for p in s.encode(fr):
                c.mux(p)
        for p in s.encode(None):
            c.mux(p)
    code, _, err = cli("video", src, "-m", "ellipse", "-T", "side-by-side", "-o", tmp_path / "o.mp4", "--crf", "0")
    assert code == 0, err
    with av.open(str(tmp_path / "o.mp4")) as c:
        img = next(c.decode(video=0)).to_ndarray(format="gray")
    assert img.shape == (64, 96)  # 48 wide x 64 high, twice as wide side by side
    left = img[:, :48]
    # a 90-degree counter-clockwise turn moves the stored top-left corner to the bottom-left
    assert left[58, 4] > 200 and left[4, 4] < 50 and left[58, 44] < 50


@pytest.mark.parametrize("pix_fmt", ["yuv420p10le", "yuv444p"])
def test_10bit_and_444_sources(tmp_path, cli, pix_fmt):
    src = make_video(tmp_path / "in.mp4", frames=6, pix_fmt=pix_fmt)
    code, _, err = cli("video", src, "-m", "ellipse", "-o", tmp_path / "o.mp4")
    assert code == 0, err
    assert read_video(tmp_path / "o.mp4")["frames"] == 6


# ---------------------------------------------------------------- images


def test_grey_rgba_and_16bit_images(tmp_path, cli):
    skin = (130, 150, 200)
    grey = np.full((20, 30), 128, np.uint8)
    rgba = np.zeros((20, 30, 4), np.uint8)
    rgba[..., :3] = skin
    rgba[..., 3] = 255
    deep = (np.full((20, 30, 3), skin, np.uint16) * 257).astype(np.uint16)
    cv2.imwrite(str(tmp_path / "grey.png"), grey)
    cv2.imwrite(str(tmp_path / "rgba.png"), rgba)
    cv2.imwrite(str(tmp_path / "deep.png"), deep)
    code, _, err = cli("image", tmp_path / "grey.png", tmp_path / "rgba.png", tmp_path / "deep.png", "-m", "ellipse", "-o", tmp_path / "out")
    assert code == 0, err
    masks = {n: cv2.imread(str(tmp_path / "out" / f"{n}_mask.png"), cv2.IMREAD_UNCHANGED) for n in ("grey", "rgba", "deep")}
    assert all(m.shape == (20, 30) and m.dtype == np.uint8 for m in masks.values())
    assert masks["grey"].max() == 0  # grey is not skin
    assert masks["rgba"].min() == 255 and masks["deep"].min() == 255  # skin colour at 8 or 16 bits


def test_image_too_large_is_refused_before_decoding(tmp_path, cli):
    png_header_only(tmp_path / "huge.png", 40000, 40000)
    cv2.imwrite(str(tmp_path / "ok.png"), np.zeros((8, 8, 3), np.uint8))
    code, out, err = cli("image", tmp_path / "huge.png", tmp_path / "ok.png", "-m", "ellipse")
    assert code != 0 and "too large" in err and "Traceback" not in err
    assert (tmp_path / "ok_mask.png").exists()  # the other image is still done
    assert not (tmp_path / "huge_mask.png").exists()


# ---------------------------------------------------------------- outputs


def test_missing_output_folder_is_created(tmp_path, cli):
    src = make_video(tmp_path / "in.mp4", frames=3)
    code, _, err = cli("video", src, "-m", "ellipse", "-o", tmp_path / "new" / "deeper" / "o.mp4")
    assert code == 0, err
    assert "created output folder" in err
    assert read_video(tmp_path / "new" / "deeper" / "o.mp4")["frames"] == 3


def _limit_file_size() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # get EFBIG instead of being killed
    resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))


def test_disk_full_leaves_no_file_under_the_final_name(tmp_path):
    src = make_video(tmp_path / "in.mp4", frames=200, width=160, height=120)
    out = tmp_path / "o.mp4"
    proc = subprocess.run(
        [*STREAMSEG, "video", str(src), "-m", "ellipse", "-T", "overlay", "-o", str(out), "--crf", "0"],
        capture_output=True, text=True, preexec_fn=_limit_file_size, timeout=120,
    )
    assert proc.returncode != 0
    assert "disk full" in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists() and not (tmp_path / "o.partial.mp4").exists()


# ---------------------------------------------------------------- interruptions


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_video_keeps_a_playable_partial_file(tmp_path, sig):
    src = make_video(tmp_path / "long.mp4", frames=1500, width=320, height=240)
    out = tmp_path / "o.mp4"
    proc = subprocess.Popen(
        [*STREAMSEG, "video", str(src), "-m", "ellipse", "-T", "mask,overlay", "-o", str(tmp_path), "--crf", "30"],
        stderr=subprocess.PIPE, text=True,
    )
    partial = tmp_path / "long_mask.partial.mp4"
    deadline = time.monotonic() + 60
    while not partial.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted after" in err and "Traceback" not in err
    processed = int(err.split("interrupted after ")[1].split()[0])
    assert 0 < processed < 1500
    for kind in ("mask", "overlay"):
        assert read_video(tmp_path / f"long_{kind}.partial.mp4")["frames"] == processed
        assert not (tmp_path / f"long_{kind}.mp4").exists()
    assert not out.exists()


# ---------------------------------------------------------------- soak


@pytest.mark.slow
def test_soak_10000_frames_memory_stays_flat(tmp_path):
    from streamseg.pipeline import process_video_file
    from streamseg.segment import create

    src = make_video(tmp_path / "soak.mp4", frames=10_000, width=64, height=48, fps=50, audio=True)
    rss: list[int] = []

    def sample() -> int:
        with open("/proc/self/status") as fh:
            return next(int(l.split()[1]) for l in fh if l.startswith("VmRSS:"))

    import streamseg.pipeline.file_run as pl

    original = pl.run_frames

    def run_frames_sampled(*args, **kwargs):
        def on_frame(res):
            if res.frame.index % 500 == 0:
                rss.append(sample())

        kwargs["on_frame"] = on_frame
        return original(*args, **kwargs)

    pl.run_frames = run_frames_sampled
    try:
        report = process_video_file(src, {"mask": tmp_path / "o.mp4"}, create("ellipse"), progress=False)
    finally:
        pl.run_frames = original
    assert report.frames_in == report.frames_out == 10_000
    assert read_video(tmp_path / "o.mp4")["frames"] == 10_000
    warm = rss[2:]  # after warm-up
    assert max(warm) - min(warm) < 30_000, rss  # kB: no growth beyond a small bound


# ---------------------------------------------------------------- config files


@pytest.mark.parametrize(
    "toml,needle",
    [
        ("[smooth]\nbogus = 1\n", "unknown smoothing setting 'bogus'"),
        ('[smooth]\nema = {alpha = "high"}\n', "'ema.alpha' must be a number"),
        ("[smooth]\nema = {alpha = 2.0}\n", "'ema.alpha' = 2.0 is out of range"),
        ("[rois]\nmin_area = -1\n", "min_area"),
        ("[rois]\nnope = 1\n", "unknown ROI option(s) nope"),
        ("[render]\nx = 1\n", "unknown table(s) render"),
        ("[smooth\n", "invalid TOML"),
    ],
)
def test_config_errors_name_the_key(tmp_path, cli, toml, needle):
    src = make_video(tmp_path / "in.mp4", frames=2)
    cfg = tmp_path / "run.toml"
    cfg.write_text(toml)
    one_line_error(*cli("video", src, "-m", "ellipse", "--smooth", "ema", "--rois", f"jsonl:{tmp_path / 'r.jsonl'}", "-c", cfg), needle)
    assert not (tmp_path / "in_mask.mp4").exists()


def test_config_file_values_are_used(tmp_path, cli):
    src = make_video(tmp_path / "in.mp4", frames=4)
    cfg = tmp_path / "run.toml"
    cfg.write_text("[rois]\nlabels = false\nmin_area = 0.01\n")
    code, _, err = cli("video", src, "-m", "ellipse", "--rois", f"jsonl:{tmp_path / 'r.jsonl'}", "-c", cfg)
    assert code == 0, err
    import json

    lines = [json.loads(l) for l in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert len(lines) == 4 and all(r["label"] == "skin" for l in lines for r in l["regions"])
