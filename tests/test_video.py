"""End-to-end `streamseg video` on videos generated here: frames, timestamps, audio, output types, errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import make_video, read_video


@pytest.mark.parametrize("width,height", [(64, 48), (63, 47)])
def test_frames_out_equal_frames_in_and_audio_survives(tmp_path, cli, width, height):
    src = make_video(tmp_path / "in.mp4", frames=30, width=width, height=height, audio=True)
    code, _, err = cli("video", src, "-m", "ellipse", "-T", "mask", "-o", tmp_path / "out.mp4", "--smooth", "none")
    assert code == 0, err
    got = read_video(tmp_path / "out.mp4")
    want = read_video(src)
    assert got["frames"] == want["frames"] == 30
    assert got["times"] == pytest.approx(want["times"], abs=1e-3)
    assert got["audio_packets"] >= want["audio_packets"] - 1 > 0
    # odd sizes are kept (H.264 4:2:0 cannot hold them: encoded as 4:4:4), and the note says so
    assert got["shapes"] == {(height, width)}
    if width % 2:
        assert "yuv444p" in err
    assert not list(tmp_path.glob("*.partial.*"))


def test_every_output_type_decodes_in_one_pass(tmp_path, cli):
    src = make_video(tmp_path / "clip.mp4", frames=12)
    code, _, err = cli("video", src, "-m", "ellipse", "-T", "mask,overlay,cutout,side-by-side")
    assert code == 0, err
    for kind, width in (("mask", 64), ("overlay", 64), ("cutout", 64), ("side-by-side", 128)):
        out = tmp_path / f"clip_{kind}.mp4"
        info = read_video(out)
        assert info["frames"] == 12, kind
        assert info["shapes"] == {(48, width)}, kind


def test_mask_video_marks_the_skin_disc(tmp_path, cli):
    import av
    import numpy as np

    src = make_video(tmp_path / "clip.mp4", frames=5, width=96, height=64)
    code, _, err = cli("video", src, "-m", "ellipse", "-o", tmp_path / "m.mp4", "--crf", "0")
    assert code == 0, err
    with av.open(str(tmp_path / "m.mp4")) as c:
        first = next(c.decode(video=0)).to_ndarray(format="gray")
    # centre of the disc in frame 0 is skin, a corner is background
    assert first[32, 24] > 200 and first[2, 90] < 50
    assert 0.05 < (first > 127).mean() < 0.5


def test_variable_frame_rate_timestamps_are_kept(tmp_path, cli):
    pts = [0, 40, 70, 150, 160, 300, 310, 320, 400, 500]  # ms
    src = make_video(tmp_path / "vfr.mkv", frames=len(pts), vfr_pts=pts)
    code, _, err = cli("video", src, "-m", "ellipse", "-o", tmp_path / "vfr_out.mp4")
    assert code == 0, err
    got = read_video(tmp_path / "vfr_out.mp4")
    assert got["frames"] == len(pts)
    assert got["times"] == pytest.approx([p / 1000 for p in pts], abs=2e-3)


def test_default_output_name_next_to_input(tmp_path, cli):
    src = make_video(tmp_path / "walk.mp4", frames=3)
    code, _, err = cli("video", src, "-m", "ellipse", "-T", "overlay")
    assert code == 0, err
    assert (tmp_path / "walk_overlay.mp4").is_file()
    assert "walk_overlay.mp4" in err


def test_missing_input_is_one_line_error(tmp_path, cli):
    code, out, err = cli("video", tmp_path / "nope.mp4", "-m", "ellipse")
    assert code != 0
    assert err.strip().count("\n") == 0 and "not found" in err
    assert "Traceback" not in err + out


def test_unreadable_file_is_one_line_error(tmp_path, cli):
    bad = tmp_path / "notes.mp4"
    bad.write_text("this is not a video\n" * 50)
    code, out, err = cli("video", bad, "-m", "ellipse")
    assert code != 0
    assert "cannot open" in err and err.strip().count("\n") == 0
    assert not list(tmp_path.glob("notes_*"))


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_output_is_one_line_error(tmp_path, cli):
    src = make_video(tmp_path / "in.mp4", frames=3)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    code, _, err = cli("video", src, "-m", "ellipse", "-o", locked / "out.mp4")
    locked.chmod(0o700)
    assert code != 0 and "permission" in err


def test_output_on_a_file_system_that_refuses_files(tmp_path, cli):
    src = make_video(tmp_path / "in.mp4", frames=3)
    code, out, err = cli("video", src, "-m", "ellipse", "-o", "/proc/streamseg_out.mp4")
    assert code != 0
    assert "cannot write /proc/streamseg_out.mp4" in err and err.strip().splitlines()[-1].startswith("error:")


def test_unwritable_output_folder_is_one_line_error(tmp_path, cli):
    src = make_video(tmp_path / "in.mp4", frames=3)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, out, err = cli("video", src, "-m", "ellipse", "-o", blocker / "sub" / "out.mp4")
    assert code != 0
    assert "cannot create output folder" in err and err.strip().count("\n") == 0


def test_existing_output_needs_overwrite(tmp_path, cli):
    src = make_video(tmp_path / "in.mp4", frames=3)
    out = tmp_path / "o.mp4"
    out.write_bytes(b"keep me")
    code, _, err = cli("video", src, "-m", "ellipse", "-o", out)
    assert code != 0 and "--overwrite" in err
    assert out.read_bytes() == b"keep me"
    code, _, err = cli("video", src, "-m", "ellipse", "-o", out, "--overwrite")
    assert code == 0, err
    assert read_video(out)["frames"] == 3


def test_output_equal_to_input_is_refused(tmp_path, cli):
    src = make_video(tmp_path / "in.mp4", frames=3)
    before = src.read_bytes()
    code, _, err = cli("video", src, "-m", "ellipse", "-o", src, "--overwrite")
    assert code != 0 and "same file" in err
    assert src.read_bytes() == before


def test_bad_output_type_names_the_choices(tmp_path, cli):
    src = make_video(tmp_path / "in.mp4", frames=2)
    code, _, err = cli("video", src, "-m", "ellipse", "-T", "sparkles")
    assert code != 0 and "mask" in err and "overlay" in err


def test_unknown_method_lists_known_ones(tmp_path, cli):
    src = make_video(tmp_path / "in.mp4", frames=2)
    code, _, err = cli("video", src, "-m", "no-such-method")
    assert code != 0 and "unknown method" in err and "ellipse" in err


def test_encoder_resizes_frames_of_a_new_size(tmp_path, caplog):
    from fractions import Fraction

    import numpy as np

    from streamseg.sinks.writer import VideoEncoder

    enc = VideoEncoder(tmp_path / "e.mp4", 64, 48, Fraction(25))
    for i in range(6):
        size = (48, 64) if i < 3 else (96, 128)
        enc.write(np.full((*size, 3), 40 * i, np.uint8), pts=i)
    path = enc.finish()
    info = read_video(path)
    assert info["frames"] == 6 and info["shapes"] == {(48, 64)}
    assert "frame size changed to 128x96" in caplog.text


def test_tta_flip_runs_a_video_and_refuses_a_classical_method(tmp_path, cli):
    src = make_video(tmp_path / "clip.mp4", frames=6)
    code, _, err = cli("video", src, "-m", "dlmv", "--tta", "flip", "-o", tmp_path / "m.mp4")
    assert code == 0, err
    assert read_video(tmp_path / "m.mp4")["frames"] == 6
    code, _, err = cli("video", src, "-m", "ellipse", "--tta", "flip", "-o", tmp_path / "e.mp4")
    assert code == 2 and err.strip() == "error: --tta flip works with ONNX models; 'ellipse' is not one"
    assert not (tmp_path / "e.mp4").exists() and not list(tmp_path.glob("*.partial.*"))


def test_a_model_that_fails_to_load_leaves_no_lock_behind(tmp_path):
    import streamseg
    from streamseg.errors import MethodError

    src = make_video(tmp_path / "clip.mp4", frames=3)
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not an onnx file")
    with pytest.raises(MethodError, match="not a valid ONNX file"):
        streamseg.process_video(src, tmp_path / "m.mp4", method=str(broken), stats_csv=tmp_path / "s.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.onnx", "clip.mp4"]
