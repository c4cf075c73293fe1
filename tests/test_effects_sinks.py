"""Stats CSV, alert crossings, the virtual camera's frame handling (against pyvirtualcam's own
Camera with a fake backend) and the rendered-video sink."""

from __future__ import annotations

import csv
import sys
import threading
import time
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamseg import effects as fx
from streamseg.errors import ConfigError, OutputError
from streamseg.frames import Frame, FrameResult
from streamseg.sinks import virtual_cam
from streamseg.sinks.alpha_writer import read_alpha_video
from streamseg.sinks.video import VideoSink
from streamseg.sinks.stats import AlertDetector, AlertSink, StatsCsvWriter
from streamseg.sinks.virtual_cam import VirtualCamera, VirtualCamSink, install_hint, letterbox


def result(i: int, fraction: float, h: int = 10, w: int = 10, captured_at: float = 0.0, types: tuple[str, ...] = ()) -> FrameResult:
    """A frame's result with ``fraction`` of its pixels skin and the pictures of ``types`` rendered."""
    m = np.zeros((h, w), bool)
    m.flat[: int(round(fraction * h * w))] = True
    frame = np.zeros((h, w, 3), np.uint8)
    pictures = {t: fx.make_effect(t).render(frame, m) for t in types}
    return FrameResult(Frame(frame, i, i / 25, pts=i, captured_at=captured_at), m.astype(np.float32), m, pictures=pictures)


# --- stats CSV and alerts ---------------------------------------------------------------------


def test_stats_csv_has_one_row_per_frame(tmp_path):
    clock = iter(np.arange(100) * 0.04 + 1000.0)
    path = tmp_path / "stats.csv"
    sink = StatsCsvWriter(path, clock=lambda: float(next(clock)))
    fractions = [0.0, 0.1, 0.25, 0.5, 0.9, 1.0, 0.3]
    for i, f in enumerate(fractions):
        sink.write(result(i, f, captured_at=1000.0 + 0.04 * i - 0.015 if i % 2 else 0.0))
    sink.close()
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == list(StatsCsvWriter.COLUMNS)
    assert len(rows) == len(fractions) == sink.rows
    assert [int(r["frame"]) for r in rows] == list(range(len(fractions)))
    assert [float(r["skin_fraction"]) for r in rows] == pytest.approx(fractions)
    assert float(rows[0]["fps"]) == 0 and float(rows[3]["fps"]) == pytest.approx(25, rel=1e-3)
    assert rows[0]["latency_ms"] == "" and float(rows[1]["latency_ms"]) == pytest.approx(15, abs=0.01)
    assert float(rows[2]["time_s"]) == pytest.approx(2 / 25)


def test_stats_csv_without_a_row_is_removed(tmp_path):
    """A run that fails before its first frame leaves no header-only table behind."""
    path = tmp_path / "stats.csv"
    sink = StatsCsvWriter(path)
    assert path.exists()  # opened (and checked writable) up front
    sink.close()
    assert not path.exists()


def test_stats_csv_unwritable_is_output_error(tmp_path):
    with pytest.raises(OutputError, match="--stats-csv"):
        StatsCsvWriter(tmp_path / "missing" / "stats.csv")


@settings(max_examples=50, deadline=None)
@given(
    fractions=st.lists(st.floats(0, 1), max_size=60),
    threshold=st.floats(0, 1),
    hysteresis=st.floats(0, 0.2),
)
def test_alerts_alternate_and_match_state(fractions, threshold, hysteresis):
    det = AlertDetector(threshold, hysteresis)
    events = [(i, e) for i, e in enumerate(det.update(f) for f in fractions) if e]
    kinds = [e for _, e in events]
    assert kinds == ["above", "below"] * (len(kinds) // 2) + ["above"] * (len(kinds) % 2)
    for i, e in events:
        assert (fractions[i] > threshold) if e == "above" else (fractions[i] < threshold - hysteresis)
    assert det.above == (bool(kinds) and kinds[-1] == "above")


def test_alert_sink_logs_and_emits(caplog):
    got = []
    sink = AlertSink(0.3, emit=got.append)
    for i, f in enumerate([0.1, 0.5, 0.5, 0.1]):
        sink.write(result(i, f))
    assert [(e["event"], e["frame"]) for e in got] == [("above", 1), ("below", 3)]
    assert got[0]["type"] == "skin_alert" and got[0]["skin_fraction"] == 0.5
    assert "alert: skin fraction 0.500 above 0.3 at frame 1" in caplog.text
    with pytest.raises(ConfigError, match="--alert-above"):
        AlertSink(1.5)


# --- virtual camera ---------------------------------------------------------------------------


class FakeBackend:
    """A pyvirtualcam backend (the interface of ``pyvirtualcam.camera.Backend``)."""

    instances: list["FakeBackend"] = []
    refuse_fourcc: set[int] = set()
    send_delay = 0.0

    def __init__(self, *, width, height, fps, fourcc, device, **kw):
        if fourcc in self.refuse_fourcc:
            raise RuntimeError(f"unsupported format {fourcc}")
        self.width, self.height, self.fps, self.fourcc = width, height, fps, fourcc
        self.dev = device or "/dev/video42"
        self.frames: list[np.ndarray] = []
        self.times: list[float] = []
        self.closed = 0
        FakeBackend.instances.append(self)

    def send(self, frame):
        if self.send_delay:
            time.sleep(self.send_delay)
        self.frames.append(frame.copy())
        self.times.append(time.perf_counter())

    def close(self):
        self.closed += 1

    def device(self):
        return self.dev

    def native_fourcc(self):
        return None


@pytest.fixture
def pvc():
    """pyvirtualcam with the fake backend registered (skipped when the extra is not installed)."""
    mod = pytest.importorskip("pyvirtualcam")
    from pyvirtualcam.util import encode_fourcc

    FakeBackend.instances, FakeBackend.refuse_fourcc, FakeBackend.send_delay = [], set(), 0.0
    mod.register_backend("streamseg-fake", FakeBackend)
    yield mod, encode_fourcc
    mod.camera.BACKENDS.pop("streamseg-fake", None)


def wait_for(pred, timeout=3.0):
    t0 = time.perf_counter()
    while not pred() and time.perf_counter() - t0 < timeout:
        time.sleep(0.005)
    return pred()


def test_frames_reach_backend_as_bgr_of_camera_size(pvc):
    mod, fourcc = pvc
    cam = VirtualCamera(64, 48, fps=60, backend="streamseg-fake", device="/dev/video7")
    be = FakeBackend.instances[-1]
    assert be.fourcc == fourcc(mod.PixelFormat.BGR.value) and cam.pixel_format == "BGR"
    assert cam.device == "/dev/video7"
    img = np.zeros((48, 64, 3), np.uint8)
    img[..., 0] = 255  # blue in BGR
    cam.send(img)
    assert wait_for(lambda: be.frames)
    f = be.frames[0]
    assert f.dtype == np.uint8 and f.ndim == 1 and f.size == 64 * 48 * 3  # pyvirtualcam flattens
    np.testing.assert_array_equal(f.reshape(48, 64, 3), img)
    cam.close()
    assert be.closed == 1


def test_bgra_gray_and_other_sizes_are_fitted(pvc):
    cam = VirtualCamera(64, 48, fps=60, backend="streamseg-fake", background=(0, 255, 0))
    bgra = np.zeros((48, 64, 4), np.uint8)  # fully transparent
    np.testing.assert_array_equal(cam.prepare(bgra)[10, 10], [0, 255, 0])
    assert cam.prepare(np.full((48, 64), 7, np.uint8))[0, 0].tolist() == [7, 7, 7]
    wide = np.full((48, 128, 3), 200, np.uint8)  # side-by-side: letterboxed, not stretched
    out = cam.prepare(wide)
    assert out.shape == (48, 64, 3) and out[0, 0].tolist() == [0, 0, 0] and out[24, 32].tolist() == [200, 200, 200]
    with pytest.raises(ValueError):
        cam.prepare(np.zeros((48, 64, 3), np.float32))
    cam.close()


def test_rgb_fallback_when_backend_refuses_bgr(pvc):
    mod, fourcc = pvc
    FakeBackend.refuse_fourcc = {fourcc(mod.PixelFormat.BGR.value)}
    cam = VirtualCamera(8, 6, fps=60, backend="streamseg-fake")
    assert cam.pixel_format == "RGB"
    img = np.zeros((6, 8, 3), np.uint8)
    img[..., 2] = 255  # red in BGR
    cam.send(img)
    be = FakeBackend.instances[-1]
    assert wait_for(lambda: be.frames)
    assert be.frames[0].reshape(6, 8, 3)[0, 0].tolist() == [255, 0, 0]  # red in RGB
    cam.close()


def test_pacing_repeats_last_frame_and_never_blocks(pvc):
    FakeBackend.send_delay = 0.03  # a slow device
    cam = VirtualCamera(32, 24, fps=50, backend="streamseg-fake")
    be = FakeBackend.instances[-1]
    t0 = time.perf_counter()
    for i in range(20):
        cam.send(np.full((24, 32, 3), i, np.uint8))
    assert time.perf_counter() - t0 < 0.5  # 20 frames to a device taking 30 ms each
    assert wait_for(lambda: len(be.frames) >= 3)
    time.sleep(0.15)
    cam.close()
    assert be.frames[-1][0] == 19  # the newest frame won
    assert cam.frames_replaced > 0 and cam.frames_repeated > 0
    assert cam.frames_sent == len(be.frames)
    gaps = np.diff(be.times)
    assert gaps.min() >= 0.015  # paced by sleep_until_next_frame, not sent in a burst


def test_no_backend_is_one_line_error_saying_what_to_install(pvc, monkeypatch):
    class Missing:
        def __init__(self, **kw):
            raise RuntimeError("No v4l2 loopback device found at /dev/video[0-99].\nDid you run 'modprobe v4l2loopback'?")

    pvc[0].register_backend("streamseg-fake", Missing)
    monkeypatch.setattr(virtual_cam.platform, "system", lambda: "Linux")
    with pytest.raises(OutputError) as exc:
        VirtualCamera(64, 48, backend="streamseg-fake")
    msg = str(exc.value)
    assert "\n" not in msg and "v4l2loopback" in msg and "modprobe" in msg


@pytest.mark.parametrize("system, word", [("Linux", "v4l2loopback"), ("Windows", "OBS"), ("Darwin", "OBS")])
def test_install_hints(system, word):
    assert word in install_hint(system)


def test_missing_pyvirtualcam_says_pip_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyvirtualcam", None)  # import now raises ImportError
    with pytest.raises(OutputError, match=r"pip install 'streamseg\[virtualcam\]'"):
        VirtualCamera(64, 48)


def test_virtual_cam_sink_opens_on_first_frame_with_even_size():
    opened = []

    class Cam:
        def __init__(self, w, h, f):
            opened.append((w, h, f))
            self.sent = []

        def send(self, image):
            self.sent.append(image.shape)

        def close(self):
            self.sent.append("closed")

    sink = VirtualCamSink("blur", fps=25, open_camera=lambda w, h, f: Cam(w, h, f))
    sink.write(result(0, 0.5, h=9, w=11, types=("blur",)))
    sink.write(result(1, 0.5, h=9, w=11, types=("blur",)))
    sink.close()
    assert opened == [(10, 8, 25)] and sink.camera.sent == [(9, 11, 3), (9, 11, 3), "closed"]


def test_letterbox_keeps_aspect():
    out = letterbox(np.full((10, 40, 3), 9, np.uint8), 20, 20)
    assert out.shape == (20, 20, 3) and out[10, 10, 0] == 9 and out[0, 10, 0] == 0


# --- rendered video sink ----------------------------------------------------------------------


def test_video_sink_writes_alpha_video_with_hud(tmp_path):
    h, w = 48, 64
    out = tmp_path / "a.webm"
    with VideoSink(out, "alpha", w, h, Fraction(25), hud=lambda r: [f"frame {r.frame.index}"]) as sink:
        for i in range(4):
            sink.write(result(i, 0.0, h=h, w=w, types=("alpha",)))  # no skin: only the HUD is opaque
    frames, fmt = read_alpha_video(sink.close().path)
    assert len(frames) == 4 and fmt == "yuva420p"
    assert frames[0][2, 2, 3] > 200  # the HUD box is opaque in the cut-out
    assert frames[0][h - 2, w - 2, 3] < 30  # transparent elsewhere
