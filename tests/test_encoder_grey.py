"""Mask videos: bool masks go straight into the luma plane (no BGR picture, no colour conversion)
and get their own x264 preset; the decoded result is the same as through the BGR path."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest

from streamseg.sinks.pixels import grey_to_yuv420p
from streamseg.sinks.settings import MASK_PRESET, PICTURE_PRESET, EncoderSettings
from streamseg.sinks.writer import VideoEncoder


def _masks(n: int, h: int, w: int) -> list[np.ndarray]:
    yy, xx = np.mgrid[:h, :w]
    return [((yy - h / 2) ** 2 + (xx - w * (0.3 + 0.05 * i)) ** 2) < (h / 4) ** 2 for i in range(n)]


def _decode(path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="bgr24") for f in c.decode(video=0)]


def test_grey_to_yuv420p_values_and_odd_sizes():
    m = np.zeros((5, 7), bool)
    m[1:3, 2:6] = True
    buf = grey_to_yuv420p(m)
    assert buf.shape == (9, 8)  # 6 luma rows + 3 chroma rows, 8 wide
    y = buf[:6]
    assert set(np.unique(y[:5, :7])) == {16, 235}
    np.testing.assert_array_equal(y[:5, :7] == 235, m)
    np.testing.assert_array_equal(y[:5, 7], y[:5, 6])  # padded column repeats the last one
    np.testing.assert_array_equal(y[5], y[4])  # padded row repeats the last one
    assert (buf[6:] == 128).all()
    # the buffer is reused, its chroma untouched
    again = grey_to_yuv420p(~m, buf)
    assert again is buf and (again[6:] == 128).all() and (again[:5, :7] == 235).sum() == (~m).sum()
    g = grey_to_yuv420p(np.array([[0, 255], [128, 64]], np.uint8))
    assert g[:2].tolist() == [[16, 235], [126, 71]]
    with pytest.raises(ValueError):
        grey_to_yuv420p(np.zeros((2, 2), np.float32))


def test_preset_per_output_type():
    s = EncoderSettings()
    assert s.preset is None
    assert s.for_output("mask").preset == MASK_PRESET
    assert s.for_output("overlay").preset == PICTURE_PRESET
    assert EncoderSettings(preset="slow").for_output("mask").preset == "slow"


@pytest.mark.parametrize("size", [(48, 64), (47, 63)])
def test_grey_path_decodes_like_the_bgr_path(tmp_path, size):
    """Lossless (crf 0): the luma-only frame decodes to exactly 0/255 = the mask; the BGR mask
    picture through swscale (white -> Y 234, some chroma 127) comes within a few levels of it."""
    h, w = size
    masks = _masks(6, h, w)
    grey = VideoEncoder(tmp_path / "grey.mp4", w, h, Fraction(25), settings=EncoderSettings(crf=0, preset="ultrafast"))
    bgr = VideoEncoder(tmp_path / "bgr.mp4", w, h, Fraction(25), settings=EncoderSettings(crf=0, preset="ultrafast"))
    assert grey.takes_grey
    for i, m in enumerate(masks):
        grey.write(m, pts=i)
        bgr.write(np.repeat(m.astype(np.uint8)[..., None] * 255, 3, axis=2), pts=i)
    a, b = _decode(grey.finish()), _decode(bgr.finish())
    assert len(a) == len(b) == len(masks)
    for fa, fb, m in zip(a, b, masks):
        assert np.abs(fa.astype(int) - fb.astype(int)).max() <= 6
        np.testing.assert_array_equal(fa[:h, :w, 0] > 127, m)
        np.testing.assert_array_equal(fa[:h, :w], np.repeat(m.astype(np.uint8)[..., None] * 255, 3, axis=2))


def test_grey_frame_of_another_size_is_resized(tmp_path):
    enc = VideoEncoder(tmp_path / "r.mp4", 64, 48, Fraction(25), settings=EncoderSettings(crf=0))
    enc.write(np.ones((24, 32), bool), pts=0)
    enc.write(np.zeros((48, 64), bool), pts=1)
    frames = _decode(enc.finish())
    assert [f.shape for f in frames] == [(48, 64, 3)] * 2
    assert (frames[0] == 255).all() and (frames[1] == 0).all()


def test_mask_video_uses_the_mask_preset_and_no_picture(tmp_path, monkeypatch):
    """`process_video -T mask` hands the encoder the grey mask picture (no BGR picture, no colour
    conversion), with x264 ultrafast (its SEI says cabac=0); an explicit preset is kept (veryfast: cabac=1)."""
    import streamseg

    clip = tmp_path / "clip.mp4"
    enc = VideoEncoder(clip, 64, 48, Fraction(25), settings=EncoderSettings(crf=10))
    rng = np.random.default_rng(0)
    for i in range(5):
        enc.write(rng.integers(0, 255, (48, 64, 3), np.uint8), pts=i)
    enc.finish()
    shapes = []
    real = VideoEncoder.write
    monkeypatch.setattr(VideoEncoder, "write", lambda self, image, **kw: shapes.append(image.shape) or real(self, image, **kw))
    rep = streamseg.process_video(clip, tmp_path / "m.mp4", method="ellipse-diag", output_types="mask", provider="cpu")
    assert rep.frames_out == 5 and shapes == [(48, 64)] * 5
    data = rep.outputs["mask"].read_bytes()
    assert b"cabac=0" in data
    rep2 = streamseg.process_video(
        clip, tmp_path / "v.mp4", method="ellipse-diag", output_types="mask", provider="cpu", preset="veryfast"
    )
    assert b"cabac=1" in rep2.outputs["mask"].read_bytes()
    # both decode to the same binary masks
    a, b = _decode(rep.outputs["mask"]), _decode(rep2.outputs["mask"])
    assert len(a) == len(b) == 5
    for fa, fb in zip(a, b):
        assert (np.abs(fa.astype(int) - fb.astype(int)) > 127).mean() < 0.01
