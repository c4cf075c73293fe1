"""The effect output types, stats and status line through the CLI (video, image, webcam):
alpha videos and PNGs carry the feathered mask, retouch/blur/pixelate change skin only, hair is
person minus skin, --stats-csv has one row per frame, headless live runs print a status line."""

from __future__ import annotations

import csv
import io
import sys
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from streamseg.synthetic import MJPEGServer

from streamseg import effects as fx
from streamseg.segment import create
from streamseg.sinks.alpha_writer import read_alpha_video
from streamseg.synthetic import make_video, synthetic_frame

W, H, N = 160, 120, 8
DEMO = Path(__file__).resolve().parents[1] / "examples" / "face_thumbsup_pixabay_720p.mp4"


def textured_clip(path: Path) -> list[np.ndarray]:
    """A lossless (FFV1) clip of synthetic frames whose skin disc has a fine texture, so
    smoothing, blurring and pixelating it changes it; returns the frames as decoded."""
    rng = np.random.default_rng(0)
    frames = []
    with av.open(str(path), "w") as c:
        s = c.add_stream("ffv1", rate=25)
        s.width, s.height, s.pix_fmt = W, H, "bgr0"
        for i in range(N):
            f = synthetic_frame(i, W, H)
            disc = np.all(f == (130, 150, 200), axis=2)
            noise = rng.integers(-10, 11, (H, W, 1))
            f = np.where(disc[..., None], np.clip(f.astype(int) + noise, 0, 255), f).astype(np.uint8)
            frames.append(f)
            vf = av.VideoFrame.from_ndarray(f, format="bgr24")
            vf.pts, vf.time_base = i, Fraction(1, 25)
            for p in s.encode(vf):
                c.mux(p)
        for p in s.encode(None):
            c.mux(p)
    return frames


def decode(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="bgr24") for f in c.decode(video=0)]


def skin_masks(frames: list[np.ndarray]) -> list[np.ndarray]:
    """What ``-m ellipse --smooth none`` finds: bool (H, W) per frame."""
    seg = create("ellipse")
    return [seg.segment(f) >= 0.5 for f in frames]


def one_error_line(err: str) -> bool:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    return "Traceback" not in err and len([ln for ln in lines if ln.startswith("error:")]) == 1


@pytest.mark.parametrize("ext, mean_tol, max_tol", [(".mov", 0.3, 2), (".webm", 1.5, 16)])
def test_video_alpha_decodes_with_alpha_equal_to_feathered_mask(tmp_path, cli, ext, mean_tol, max_tol):
    src = tmp_path / "clip.mkv"
    frames = textured_clip(src)
    out = tmp_path / f"cut{ext}"
    code, _, err = cli("video", src, "-T", "alpha", "-o", out, "-m", "ellipse", "--smooth", "none", "--feather", "4")
    assert code == 0, err
    decoded, fmt = read_alpha_video(out)
    assert fmt.startswith("yuva") and len(decoded) == N
    for m, d in zip(skin_masks(frames), decoded):
        assert m.any()
        want = np.rint(fx.feather(m, 4) * 255)
        e = np.abs(d[..., 3].astype(float) - want)
        assert e.mean() <= mean_tol and e.max() <= max_tol, (e.mean(), e.max())


def test_video_alpha_default_name_is_mov(tmp_path, cli):
    src = make_video(tmp_path / "c.mp4", frames=4, width=64, height=48)
    code, _, err = cli("video", src, "-T", "alpha,mask", "-m", "ellipse")
    assert code == 0, err
    assert (tmp_path / "c_alpha.mov").exists() and (tmp_path / "c_mask.mp4").exists()


@pytest.mark.parametrize("name", ["x.mp4", "x.mkv", "x.avi"])
def test_alpha_to_container_without_alpha_is_one_line_error_and_no_file(tmp_path, cli, name):
    src = make_video(tmp_path / "c.mp4", frames=4, width=64, height=48)
    code, _, err = cli("video", src, "-T", "alpha", "-o", tmp_path / name, "-m", "ellipse")
    assert code != 0
    assert one_error_line(err) and "cannot carry alpha" in err and ".mov" in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.mp4"]


@pytest.mark.parametrize("name", ["retouch", "blur", "pixelate"])
def test_video_effects_change_skin_and_keep_the_rest(tmp_path, cli, name):
    src = tmp_path / "clip.mkv"
    frames = textured_clip(src)
    runs = {}
    for strength in ("1", "0"):  # strength 0 leaves the frame as it is: the codec's own error
        out = tmp_path / f"{name}{strength}.mp4"
        code, _, err = cli("video", src, "-T", name, "-o", out, "-m", "ellipse", "--smooth", "none", "--strength", strength, "--crf", "10")
        assert code == 0, err
        runs[strength] = decode(out)
    assert len(runs["1"]) == len(runs["0"]) == N
    kernel = np.ones((9, 9), np.uint8)
    for f, m, g, base in zip(frames, skin_masks(frames), runs["1"], runs["0"]):
        diff = np.abs(g.astype(int) - f.astype(int)).mean(axis=2)
        codec = np.abs(base.astype(int) - f.astype(int)).mean(axis=2)
        outside = cv2.dilate(m.astype(np.uint8), kernel) == 0  # 4 px margin for chroma subsampling
        inside = cv2.erode(m.astype(np.uint8), kernel) > 0
        assert outside.sum() > 1000 and inside.sum() > 300
        # outside: equal to the input within codec error (colour conversion + x264 at crf 10)
        assert diff[outside].mean() < 2.5 and np.percentile(diff[outside], 99.5) < 6, (diff[outside].mean(), diff[outside].max())
        assert abs(diff[outside].mean() - codec[outside].mean()) < 0.3
        # inside: changed, well beyond what the codec alone does there
        assert diff[inside].mean() > codec[inside].mean() + 2.0, (diff[inside].mean(), codec[inside].mean())


def test_stats_csv_has_one_row_per_frame_and_alert_fires(tmp_path, cli):
    src = make_video(tmp_path / "c.mp4", frames=12, width=64, height=48)
    stats = tmp_path / "s.csv"
    code, _, err = cli("video", src, "-m", "ellipse", "--stats-csv", stats, "--alert-above", "0.05", "--hud")
    assert code == 0, err
    rows = list(csv.DictReader(stats.open()))
    assert [int(r["frame"]) for r in rows] == list(range(12))
    assert list(rows[0]) == ["frame", "time_s", "skin_fraction", "fps", "latency_ms"]
    assert all(0.0 < float(r["skin_fraction"]) < 0.5 for r in rows)
    assert "alert: skin fraction" in err and "above 0.05" in err


def test_hud_is_burnt_into_the_recording(tmp_path, cli):
    src = make_video(tmp_path / "c.mp4", frames=4, width=320, height=240)
    code, _, err = cli("video", src, "-T", "mask", "-m", "ellipse", "--hud", "-o", tmp_path / "h.mp4")
    code2, _, err2 = cli("video", src, "-T", "mask", "-m", "ellipse", "-o", tmp_path / "p.mp4")
    assert code == code2 == 0, err + err2
    h, p = decode(tmp_path / "h.mp4")[0], decode(tmp_path / "p.mp4")[0]
    corner = np.abs(h[:40, :120].astype(int) - p[:40, :120].astype(int)).mean()
    rest = np.abs(h[120:].astype(int) - p[120:].astype(int)).mean()
    assert corner > 10 and rest < 1


@pytest.mark.parametrize("args, word", [
    (["--strength", "2"], "--strength"), (["--overlay-alpha", "-1"], "--overlay-alpha"),
    (["--overlay-color", "bogus"], "--overlay-color"), (["-T", "sepia"], "sepia"), (["--alert-above", "3"], "--alert-above"),
    (["--feather", "-2"], "--feather"),
])
def test_bad_effect_options_are_one_line_errors(tmp_path, cli, args, word):
    src = make_video(tmp_path / "c.mp4", frames=2, width=32, height=24)
    code, _, err = cli("video", src, "-m", "ellipse", *args)
    assert code != 0 and one_error_line(err) and word in err, err


# --- images -------------------------------------------------------------------------------


def textured_image(path: Path) -> np.ndarray:
    rng = np.random.default_rng(1)
    f = synthetic_frame(5, W, H)
    disc = np.all(f == (130, 150, 200), axis=2)
    f = np.where(disc[..., None], np.clip(f.astype(int) + rng.integers(-10, 11, (H, W, 1)), 0, 255), f).astype(np.uint8)
    cv2.imwrite(str(path), f)
    return f


def test_image_alpha_is_rgba_png_with_feathered_mask(tmp_path, cli):
    img = textured_image(tmp_path / "a.png")
    code, _, err = cli("image", tmp_path / "a.png", "-T", "alpha", "-m", "ellipse", "--feather", "5", "-o", tmp_path / "out")
    assert code == 0, err
    from PIL import Image

    pic = Image.open(tmp_path / "out" / "a_alpha.png")
    assert pic.mode == "RGBA"
    rgba = np.asarray(pic)
    m = skin_masks([img])[0]
    assert np.array_equal(rgba[..., 3], np.rint(fx.feather(m, 5) * 255).astype(np.uint8))
    assert np.array_equal(rgba[..., :3][m & (fx.feather(m, 5) >= 1)], img[..., ::-1][m & (fx.feather(m, 5) >= 1)])


def test_image_effects_change_skin_and_leave_the_rest_bit_exact(tmp_path, cli):
    img = textured_image(tmp_path / "a.png")
    code, _, err = cli("image", tmp_path / "a.png", "-T", "retouch,blur,pixelate", "-m", "ellipse", "--strength", "1", "-o", tmp_path / "o")
    assert code == 0, err
    m = skin_masks([img])[0]
    core = cv2.erode(m.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    for name in ("retouch", "blur", "pixelate"):
        out = cv2.imread(str(tmp_path / "o" / f"a_{name}.png"))
        assert np.array_equal(out[~m], img[~m]), name
        assert np.abs(out.astype(int) - img.astype(int))[core].mean() > 2.5, name


def test_image_overlay_style_options(tmp_path, cli):
    img = textured_image(tmp_path / "a.png")
    code, _, err = cli("image", tmp_path / "a.png", "-T", "overlay", "-m", "ellipse", "--overlay-color", "green",
                       "--overlay-alpha", "1", "--no-outline", "-o", tmp_path / "o")
    assert code == 0, err
    out = cv2.imread(str(tmp_path / "o" / "a_overlay.png"))
    m = skin_masks([img])[0]
    assert np.all(out[m] == (0, 255, 0)) and np.array_equal(out[~m], img[~m])


@pytest.mark.skipif(not DEMO.exists(), reason="demo clip not in this checkout")
def test_image_hair_is_person_minus_skin(tmp_path, cli, monkeypatch):
    monkeypatch.setitem(sys.modules, "mediapipe", None)  # the person model runs without mediapipe
    with av.open(str(DEMO)) as c:
        for i, f in enumerate(c.decode(video=0)):
            if i == 30:
                frame = cv2.resize(f.to_ndarray(format="bgr24"), (320, 180), interpolation=cv2.INTER_AREA)
                break
    cv2.imwrite(str(tmp_path / "p.png"), frame)
    code, _, err = cli("image", tmp_path / "p.png", "-T", "hair,mask", "-m", "ellipse", "-o", tmp_path / "o")
    assert code == 0, err
    hair = cv2.imread(str(tmp_path / "o" / "p_hair.png"), cv2.IMREAD_GRAYSCALE)
    skin = cv2.imread(str(tmp_path / "o" / "p_mask.png"), cv2.IMREAD_GRAYSCALE) > 127
    from streamseg.pipeline.outputs import person_segmenter

    person = person_segmenter(["hair"], provider="cpu")(frame)
    want = ((np.clip(person - skin.astype(np.float32), 0, 1) >= 0.5) * 255).astype(np.uint8)
    assert (person >= 0.5).mean() > 0.05  # the frame has a person
    assert hair.max() == 255 and not (hair > 127)[skin].any()
    assert (hair != want).mean() < 0.002


# --- webcam --------------------------------------------------------------------------------


def test_webcam_headless_stats_csv_and_status_line(tmp_path, cli):
    stats = tmp_path / "w.csv"
    with MJPEGServer(frames=150, fps=30) as srv:
        code, _, err = cli(
            "webcam", "--source", srv.url, "--no-show", "-m", "ellipse", "-T", "retouch", "--stats-csv", stats,
            "--record", tmp_path / "r.mp4", "--hud", "--no-reconnect", "--timeout", "2", "--status-interval", "0.3",
        )
    assert code == 0, err
    processed = int(err.split(" frames in ")[0].split()[-1])
    rows = list(csv.DictReader(stats.open()))
    assert len(rows) == processed >= 5
    assert all(r["latency_ms"] for r in rows)
    status = [ln for ln in err.splitlines() if ln.startswith("status: ")]
    assert status and "fps" in status[-1] and "dropped" in status[-1] and "reconnects" in status[-1], err


def test_webcam_alpha_record_needs_alpha_container(tmp_path, cli):
    code, _, err = cli("webcam", "--source", "http://127.0.0.1:9/x", "--no-show", "-m", "ellipse", "-T", "alpha", "--record", tmp_path / "a.mp4")
    assert code != 0 and one_error_line(err) and "cannot carry alpha" in err
    assert not list(tmp_path.iterdir())


def test_webcam_virtual_cam_without_backend_is_one_line_error(tmp_path, cli, monkeypatch):
    import builtins

    real = builtins.__import__

    def no_pvc(name, *a, **k):
        if name == "pyvirtualcam":
            raise ImportError("no pyvirtualcam")
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_pvc)
    code, _, err = cli("webcam", "--source", "http://127.0.0.1:9/x", "--no-show", "-m", "ellipse", "--virtual-cam")
    assert code != 0 and one_error_line(err) and "pip install 'streamseg[virtualcam]'" in err, err


def test_live_run_sends_the_effect_to_a_virtual_camera(tmp_path):
    pvc = pytest.importorskip("pyvirtualcam")
    from test_effects_sinks import FakeBackend

    import streamseg

    FakeBackend.instances, FakeBackend.refuse_fourcc, FakeBackend.send_delay = [], set(), 0.0
    pvc.register_backend("streamseg-fake-live", FakeBackend)
    try:
        with MJPEGServer(frames=150, fps=30) as srv:
            report = streamseg.process_live(
                srv.url, method="ellipse", output_type="blur", virtual_cam=True, virtual_cam_backend="streamseg-fake-live",
                reconnect=False, timeout=2, max_frames=10,
            )
    finally:
        pvc.camera.BACKENDS.pop("streamseg-fake-live", None)
    cam = FakeBackend.instances[-1]
    assert (cam.width, cam.height) == (160, 120) and report.frames_out >= 1
    assert cam.frames and cam.frames[0].size == 120 * 160 * 3 and cam.closed == 1  # backends get a flat BGR buffer


def test_status_line_on_a_terminal_refreshes_in_place():
    from rich.console import Console

    from streamseg.frames import Frame, FrameResult
    from streamseg.sinks.status import StatusLine

    buf = io.StringIO()
    t = [0.0]
    line = StatusLine(console=Console(file=buf, force_terminal=True, width=100), interval_s=99, clock=lambda: t[0])
    m = np.zeros((2, 2), bool)
    for i in range(40):
        t[0] = 0.1 * i
        line.write(FrameResult(Frame(np.zeros((2, 2, 3), np.uint8), i, 0.0, captured_at=t[0] - 0.02), m.astype(np.float32), m))
    line.close()
    text = buf.getvalue()
    assert line.tty and line.lines == 3  # once a second on a terminal, whatever interval_s says
    assert "10.0 fps" in text and "latency 20 ms" in text and "status:" not in text
