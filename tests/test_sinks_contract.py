"""One sink contract: write(result), close() -> report, a context manager; a run closes the sinks
it opens and never those it is given; a sink ends a live run by raising EndOfRun."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

import streamseg
from streamseg.sinks.base import EndOfRun, Sink, SinkReport
from streamseg.synthetic import make_video, synthetic_frame


class Given(Sink):
    """The caller's sink: counts what it got, and whether anyone closed it."""

    def __init__(self) -> None:
        self.frames = 0
        self.closed = 0

    def write(self, result) -> None:
        assert result.pictures, "the run renders its output types before the sinks"
        self.frames += 1

    def close(self) -> SinkReport:
        self.closed += 1
        return SinkReport(written=self.frames)


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    return make_video(tmp_path / "clip.mp4", frames=6, width=64, height=48)


def test_a_new_sink_is_one_class_and_runs_never_close_the_sinks_they_are_given(tmp_path, clip):
    from streamseg.effects import make_effect
    from streamseg.pipeline.image_run import run_images
    from streamseg.segment import create

    video, live, images = Given(), Given(), Given()
    rep = streamseg.process_video(clip, tmp_path / "m.mp4", method="ellipse", sinks=[video])
    assert video.frames == rep.frames_out == 6 and video.closed == 0
    streamseg.process_live(str(clip), method="ellipse", sinks=[live], max_frames=3)
    assert live.frames == 3 and live.closed == 0
    cv2.imwrite(str(tmp_path / "a.png"), synthetic_frame(0, 32, 24))
    run_images([tmp_path / "a.png"], create("ellipse"), sinks=[images], effects={"mask": make_effect("mask")})
    assert images.frames == 1 and images.closed == 0
    with Given() as mine:  # the contract's context manager closes once, and close() reports
        pass
    assert mine.closed == 1 and mine.close().written == 0


def test_a_sink_ends_a_live_run_by_raising_end_of_run(clip):
    class Quits(Given):
        def write(self, result) -> None:
            super().write(result)
            if self.frames == 2:
                raise EndOfRun

    quits = Quits()
    rep = streamseg.process_live(str(clip), method="ellipse", sinks=[quits], max_frames=5)
    assert rep.frames_out == quits.frames == 2 and not rep.interrupted


def test_the_video_sink_reports_what_it_wrote_and_a_failed_run_keeps_nothing(tmp_path):
    from fractions import Fraction

    from streamseg.frames import Frame, FrameResult
    from streamseg.sinks.video import VideoSink

    m = np.zeros((24, 32), bool)
    result = FrameResult(Frame(np.zeros((24, 32, 3), np.uint8), 0, 0.0, pts=0), m.astype(np.float32), m,
                         pictures={"overlay": np.zeros((24, 32, 3), np.uint8)})
    with VideoSink(tmp_path / "o.mp4", "overlay", 32, 24, Fraction(25)) as sink:
        sink.write(result)
    report = sink.close()  # closing again gives the same report
    assert report.path == tmp_path / "o.mp4" and report.written == 1 and report.path.is_file()
    with pytest.raises(RuntimeError):
        with VideoSink(tmp_path / "f.mp4", "overlay", 32, 24, Fraction(25)) as failed:
            failed.write(result)
            raise RuntimeError("the run failed")
    assert not list(tmp_path.glob("f*"))


def test_the_library_prints_nothing_unless_asked(tmp_path, clip):
    cv2.imwrite(str(tmp_path / "p.png"), synthetic_frame(1, 64, 48))
    calls = (
        "import numpy as np, streamseg\n"
        "class S(streamseg.Sink):\n"
        "    def write(self, result): pass\n"
        f"streamseg.process_video({str(clip)!r}, {str(tmp_path / 'out')!r}, method='ellipse', output_types='mask,overlay')\n"
        f"streamseg.process_images({str(tmp_path / 'p.png')!r}, {str(tmp_path / 'imgs')!r}, method='ellipse')\n"
        f"streamseg.process_live({str(clip)!r}, method='ellipse', max_frames=2, sinks=[S()])\n"
        "streamseg.segment(np.zeros((8, 8, 3), np.uint8), 'ellipse')\n"
    )
    from streamseg.optional import mediapipe_missing

    if not mediapipe_missing():  # MediaPipe's absl/TFLite lines (W0000 ...) must not leak either
        calls += "streamseg.segment(np.zeros((8, 8, 3), np.uint8), 'mediapipe')\n"
    quiet = subprocess.run([sys.executable, "-c", calls], capture_output=True, text=True, timeout=600)
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stdout == "" and quiet.stderr == "", quiet.stderr
    asked = subprocess.run(
        [sys.executable, "-c", "import logging; logging.basicConfig(level=logging.INFO)\n" + calls.replace("'out'", "'out2'").replace(
            str(tmp_path / "out"), str(tmp_path / "out2")).replace(str(tmp_path / "imgs"), str(tmp_path / "imgs2"))],
        capture_output=True, text=True, timeout=600,
    )
    assert asked.returncode == 0, asked.stderr
    assert "INFO:streamseg:method: ellipse" in asked.stderr and "INFO:streamseg:wrote mask" in asked.stderr
