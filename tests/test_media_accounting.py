"""Healthy files in the shapes real recorders write them (Matroska starting after 0, frame-rate
hints that are wrong, MP4 edit lists, AVI dropped-frame entries and decode-order timestamps,
display matrices with a mirror, odd sizes, re-encoded audio starting late) give every frame with
its time and the audio where it was; damaged and truncated files are told apart.

Every fixture is written here with PyAV; a few have a header field rewritten afterwards to what
other writers put there.
"""

from __future__ import annotations

import struct
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from conftest import make_video, read_video, synthetic_frame

from streamseg.capture.file import FileSource

MS = Fraction(1, 1000)


def write_video(path: Path, pts: list[int], time_base: Fraction, rate: int = 30, options: dict | None = None,
                audio_s: float = 0.0, size: tuple[int, int] = (64, 48)) -> Path:
    """libx264 frames at ``pts`` (in ``time_base``), and ``audio_s`` seconds of AAC from 0."""
    w, h = size
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=rate, options=options or {})
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        s.time_base = s.codec_context.time_base = time_base
        a = c.add_stream("aac", rate=48000) if audio_s else None
        if a is not None:
            a.layout = "mono"
        for i, p in enumerate(pts):
            f = av.VideoFrame.from_ndarray(synthetic_frame(i, w, h), format="bgr24")
            f.pts, f.time_base = p, time_base
            c.mux(s.encode(f))
        c.mux(s.encode(None))
        if a is not None:
            for start in range(0, int(48000 * audio_s), 1024):
                af = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
                af.sample_rate, af.pts, af.time_base = 48000, start, Fraction(1, 48000)
                c.mux(a.encode(af))
            c.mux(a.encode(None))
    return path


def decoded_times(path: Path) -> list[float]:
    """Seconds of the frames PyAV decodes, in increasing order."""
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        return sorted(float(f.pts * v.time_base) for f in c.decode(v))


def run_ok(cli, src: Path, out: Path, *extra: str) -> str:
    code, _, err = cli("video", src, "-m", "ellipse", "-o", out, "--smooth", "none", *extra)
    assert code == 0, err
    assert "could not be decoded" not in err
    return err


def same_frames_and_times(src: Path, out: Path) -> None:
    want, got = decoded_times(src), decoded_times(out)
    assert len(got) == len(want)
    assert [g - got[0] for g in got] == pytest.approx([w - want[0] for w in want], abs=1.5e-3)


# ---------------------------------------------------------------- frame counts and rates


def test_matroska_video_starting_after_zero_loses_no_frame(tmp_path, cli):
    # the duration of a Matroska file already ends at the last frame's end: adding the start
    # time again made one phantom lost frame
    src = write_video(tmp_path / "late.mkv", [33 + round(i * 1000 / 30) for i in range(30)], MS)
    run_ok(cli, src, tmp_path / "o.mp4")
    same_frames_and_times(src, tmp_path / "o.mp4")


def _set_matroska_default_duration(path: Path, ns: int) -> None:
    data = bytearray(path.read_bytes())
    i = data.find(b"\x23\xe3\x83\x84")  # TrackDefaultDuration, 4 bytes of nanoseconds
    assert i > 0
    data[i + 4 : i + 8] = ns.to_bytes(4, "big")
    path.write_bytes(bytes(data))


def _set_flv_framerate(path: Path, fps: float) -> None:
    data = bytearray(path.read_bytes())
    i = data.find(b"framerate\x00")  # onMetaData: the key, then an AMF number (big-endian double)
    assert i > 0
    data[i + 10 : i + 18] = struct.pack(">d", fps)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "name,hint",
    [
        ("mkv_1000", lambda p: _set_matroska_default_duration(p, 1_000_000)),  # 1/time_base, as FFmpeg reports a missing rate
        ("mkv_60_audio_longer", lambda p: _set_matroska_default_duration(p, 16_666_667)),  # a field rate
        ("flv_1000", lambda p: _set_flv_framerate(p, 1000.0)),
    ],
)
def test_a_wrong_frame_rate_hint_loses_no_frame(tmp_path, cli, name, hint):
    ext = name.split("_")[0]
    src = write_video(
        tmp_path / f"in.{ext}", [round(i * 1000 / 30) for i in range(30)], MS,
        audio_s=1.2 if "audio" in name else 0.0,  # audio ends 0.2 s after the video
    )
    hint(src)
    with av.open(str(src)) as c:
        assert round(float(c.streams.video[0].average_rate)) in (1000, 60)  # the hint is in place
    with FileSource(src) as s:
        assert float(s.info.fps) == pytest.approx(30, rel=0.01)  # measured from the timestamps
        assert len(list(s)) == 30 and s.lost == 0
    run_ok(cli, src, tmp_path / "o.mp4")
    same_frames_and_times(src, tmp_path / "o.mp4")


def test_mp4_edit_list_keeps_every_frame(tmp_path, cli):
    # open GOP: B-frames shown first depend on a keyframe the edit list hides; reading the
    # rotation by decoding a frame and seeking back to 0 used to lose them, and the sample
    # count (with the hidden one) made a lost frame
    src = write_video(
        tmp_path / "edit.mp4", [i - 1 for i in range(13)], Fraction(1, 25), rate=25,
        options={"x264-params": "open-gop=1:keyint=3:min-keyint=3:bframes=2:b-adapt=0:scenecut=0"},
    )
    with av.open(str(src)) as c:
        v = c.streams.video[0]
        assert v.frames == 13 and any(p.is_discard for p in c.demux(v))
    assert len(decoded_times(src)) == 12
    run_ok(cli, src, tmp_path / "o.mp4")
    same_frames_and_times(src, tmp_path / "o.mp4")


def test_avi_dropped_frame_entries_are_not_lost_frames(tmp_path, cli):
    # a gap in the timestamps becomes an empty "dropped frame" chunk, counted in the header
    src = write_video(tmp_path / "gap.avi", [i for i in range(12) if i != 5], Fraction(1, 25), rate=25)
    with av.open(str(src)) as c:
        assert c.streams.video[0].frames == 12
    run_ok(cli, src, tmp_path / "o.mp4")
    same_frames_and_times(src, tmp_path / "o.mp4")


def test_avi_b_frames_get_their_presentation_times(tmp_path, cli):
    # AVI has decode-order timestamps only: the decoder hands them to frames out of order
    src = write_video(tmp_path / "b.avi", list(range(20)), Fraction(1, 25), rate=25, options={"bf": "2"})
    with av.open(str(src)) as c:
        v = c.streams.video[0]
        raw = [f.pts for f in c.decode(v)]
    assert raw != sorted(raw)  # what the decoder gives
    run_ok(cli, src, tmp_path / "o.mp4")
    got = read_video(tmp_path / "o.mp4")["times"]
    assert got == sorted(got)
    assert np.diff(got) == pytest.approx([0.04] * 19, abs=1.5e-3)


# ---------------------------------------------------------------- damaged or truncated


def test_damaged_packets_are_not_called_truncation(tmp_path, cli, damaged_mp4):
    bad = damaged_mp4
    code, _, err = cli("video", bad, "-m", "ellipse", "-o", tmp_path / "o.mp4")
    assert code == 3, err
    decoded = read_video(tmp_path / "o.partial.mp4")["frames"]
    assert f"{100 - decoded} of 100 frames could not be decoded" in err
    assert "damaged packet" in err and "truncated" not in err
    assert err.strip().splitlines()[-1].startswith("error:")


def test_a_damaged_index_counts_the_frames_it_hides(tmp_path, cli):
    """A whole MP4 whose sample-size table sends frame 7 past the end of the file: the demuxer
    stops about there without an error, so only the index says how many frames are missing."""
    src = make_video(tmp_path / "c.mp4", frames=24, options={"movflags": "+faststart"})
    data = bytearray(src.read_bytes())
    stsz = data.index(b"stsz")
    entry = stsz + 4 + 12 + 6 * 4  # type, version/flags, sample size, count; then the 7th entry
    data[entry] |= 0x01  # + 16 MiB
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(bytes(data))
    code, _, err = cli("video", bad, "-m", "ellipse", "-o", tmp_path / "o.mp4")
    assert code == 3, err
    decoded = read_video(tmp_path / "o.partial.mp4")["frames"]
    assert decoded <= 7 and f": {24 - decoded} of 24 frames could not be decoded" in err
    assert "damaged index" in err and "truncated" not in err


def test_a_packet_that_gives_no_frame_is_a_lost_frame():
    """Damage a decoder swallows without an error still leaves a frame out."""
    from streamseg.capture import file as F

    src = object.__new__(F.FileSource)
    src.errors, src.packets, src.decoded, src.truncated = 0, 24, 23, False

    class Ctx:
        name = "h264"

    class Stream:
        codec_context = Ctx()
        index_entries = []

    src._stream, src._size = Stream(), 1000
    assert src.lost == 1 and "1 damaged packet" in src.damage
    Ctx.name = "vp9"  # hidden alt-ref frames: more packets than frames is normal
    assert src.lost == 0 and src.damage == ""


@pytest.mark.parametrize("ext", ["mp4", "mkv"])
def test_a_truncated_file_is_called_truncated(tmp_path, cli, ext):
    full = make_video(tmp_path / f"full.{ext}", frames=100, width=128, height=96,
                      options={"movflags": "faststart"} if ext == "mp4" else None)
    data = full.read_bytes()
    cut = tmp_path / f"cut.{ext}"
    cut.write_bytes(data[: int(len(data) * 0.6)])
    code, _, err = cli("video", cut, "-m", "ellipse", "-o", tmp_path / "o.mp4")
    assert code == 3, err
    assert "truncated file" in err
    decoded = read_video(tmp_path / "o.partial.mp4")["frames"]
    if ext == "mp4":  # the index lists every frame: an exact count
        assert f": {100 - decoded} of 100 frames could not be decoded" in err
    else:  # estimated from the duration in the header
        lost = int(err.split(" of about ")[0].split()[-1])
        assert "about" in err and abs(decoded + lost - 100) <= 2


# ---------------------------------------------------------------- geometry


def _marked(h: int = 48, w: int = 64) -> np.ndarray:
    img = np.zeros((h, w, 3), np.uint8)
    img[:12, :16] = 255  # white in the stored top-left corner
    img[:12, -16:] = 120  # grey in the stored top-right corner
    return img


F = 1 << 16  # 1.0 in the display matrix's 16.16 fixed point


@pytest.mark.parametrize(
    "matrix,expect",
    [
        ([0, F, 0, F, 0, 0, 0, 0, 1 << 30], lambda im: im.transpose(1, 0, 2)),  # a quarter turn and a mirror
        ([-F, 0, 0, 0, F, 0, 0, 0, 1 << 30], lambda im: im[:, ::-1]),  # mirrored left-right
        ([F, 0, 0, 0, -F, 0, 0, 0, 1 << 30], lambda im: im[::-1]),  # mirrored top-bottom
        ([0, -F, 0, F, 0, 0, 0, 0, 1 << 30], lambda im: np.rot90(im, 1)),  # a quarter turn counter-clockwise
    ],
)
def test_display_matrix_with_a_mirror_is_applied(tmp_path, matrix, expect):
    src = tmp_path / "m.mp4"
    with av.open(str(src), "w") as c:
        s = c.add_stream("libx264", rate=25, options={"crf": "0"})
        s.width, s.height, s.pix_fmt = 64, 48, "yuv444p"
        s.set_display_matrix(matrix)
        for i in range(3):
            f = av.VideoFrame.from_ndarray(_marked(), format="bgr24")
            f.pts = i
            c.mux(s.encode(f))
        c.mux(s.encode(None))
    want = expect(_marked())
    with FileSource(src) as source:
        frames = list(source)
        assert (source.info.height, source.info.width) == want.shape[:2]
    assert len(frames) == 3
    got = frames[0].image
    assert got.shape == want.shape
    assert np.abs(got.astype(int) - want.astype(int)).max() <= 8


def test_odd_frame_size_is_kept(tmp_path, cli):
    src = make_video(tmp_path / "odd.mkv", frames=6, width=63, height=47)
    err = run_ok(cli, src, tmp_path / "out", "-T", "mask,overlay")
    assert "yuv444p" in err  # H.264 4:2:0 cannot hold odd sides: the note says what was done
    for kind in ("mask", "overlay"):  # the mask through its grey path, the overlay as BGR
        assert read_video(tmp_path / "out" / f"odd_{kind}.mp4")["shapes"] == {(47, 63)}


# ---------------------------------------------------------------- audio


def _burst_video(path: Path, vcodec: str, acodec: str, video_start: float, audio_start: float, options=None,
                 gap: tuple[float, float] | None = None) -> Path:
    """One second of video and of stereo audio: silence with a 1 kHz burst 0.3 s into the audio;
    the audio packets that start within ``gap`` (seconds into the audio) are left out."""
    rate = 48000
    with av.open(str(path), "w") as c:
        s = c.add_stream(vcodec, rate=25)
        s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
        a = c.add_stream(acodec, rate=rate, options=options or {})
        a.layout = "stereo"
        for i in range(25):
            f = av.VideoFrame.from_ndarray(synthetic_frame(i, 64, 48), format="bgr24")
            f.pts, f.time_base = i + round(video_start * 25), Fraction(1, 25)
            c.mux(s.encode(f))
        c.mux(s.encode(None))
        x = np.zeros((2, rate), np.float32)
        k = np.arange(int(0.06 * rate))
        x[:, int(0.3 * rate) : int(0.3 * rate) + len(k)] = 0.5 * np.sin(2 * np.pi * 1000 * k / rate)
        for st in range(0, rate, 1024):
            af = av.AudioFrame.from_ndarray(np.ascontiguousarray(x[:, st : st + 1024]), format="fltp", layout="stereo")
            af.sample_rate, af.pts, af.time_base = rate, st + round(audio_start * rate), Fraction(1, rate)
            for p in a.encode(af):
                if gap is None or not gap[0] <= float(p.pts * p.time_base) - audio_start < gap[1]:
                    c.mux(p)
        c.mux(a.encode(None))
    return path


def _burst_after_first_frame(path: Path) -> float:
    """Seconds from the first video frame to the start of the audio burst."""
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        first = min(float(f.pts * v.time_base) for f in c.decode(v))
    with av.open(str(path)) as c:
        for f in c.decode(c.streams.audio[0]):
            x = np.abs(f.to_ndarray().astype(np.float32)).reshape(len(f.layout.channels), -1).max(axis=0)
            if x.max() > 0.25:
                return float(f.pts * f.time_base) + int(np.argmax(x > 0.25)) / f.sample_rate - first
    raise AssertionError("no burst")


@pytest.mark.parametrize(
    "name,vcodec,acodec,video_start,audio_start,options,gap",
    [
        ("mpegts_mp2", "mpeg2video", "mp2", 1.4, 1.39, None, None),  # MPEG-TS starts after 0
        ("mpegts_mp2_gap", "mpeg2video", "mp2", 1.4, 1.39, None, (0.1, 0.2)),  # and a gap in the audio
        ("mkv_vorbis", "libx264", "vorbis", 0.0, 0.06, {"strict": "experimental"}, None),  # audio after the video
    ],
)
def test_reencoded_audio_keeps_its_time(tmp_path, cli, name, vcodec, acodec, video_start, audio_start, options, gap):
    ext = {"mpegts": "ts", "mkv": "mkv"}[name.split("_")[0]]
    src = _burst_video(tmp_path / f"in.{ext}", vcodec, acodec, video_start, audio_start, options, gap)
    err = run_ok(cli, src, tmp_path / "o.mp4")
    assert "re-encoding to aac" in err
    assert read_video(tmp_path / "o.mp4")["frames"] == 25
    want = _burst_after_first_frame(src)
    assert want == pytest.approx(audio_start - video_start + 0.3, abs=0.02)  # the fixture is what it says
    assert _burst_after_first_frame(tmp_path / "o.mp4") == pytest.approx(want, abs=1024 / 48000)


def test_copied_audio_keeps_its_time(tmp_path, cli):
    src = _burst_video(tmp_path / "in.mkv", "libx264", "aac", 0.0, 0.25)
    run_ok(cli, src, tmp_path / "o.mp4")
    assert _burst_after_first_frame(tmp_path / "o.mp4") == pytest.approx(_burst_after_first_frame(src), abs=1024 / 48000)
