"""Alpha outputs: ProRes 4444 .mov, VP9 .webm and RGBA PNG decode with an alpha plane equal to
the feathered mask; containers that cannot carry alpha are clean errors."""

from __future__ import annotations

from fractions import Fraction

import av
import cv2
import numpy as np
import pytest
from PIL import Image

from streamseg import effects as fx
from streamseg.errors import OutputError
from streamseg.sinks.alpha_writer import AlphaVideoWriter, alpha_codec, read_alpha_video, write_alpha_image
from streamseg.synthetic import make_video, synthetic_frame

H, W, N = 72, 96, 8


def clip() -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Generated frames (a skin-coloured disc moving over blue-grey) and their known masks."""
    frames, masks = [], []
    for i in range(N):
        f = synthetic_frame(i, W, H)
        frames.append(f)
        masks.append((np.abs(f.astype(int) - (130, 150, 200)).sum(axis=2) == 0).astype(np.float32))
    return frames, masks


@pytest.mark.parametrize(
    "ext, encoder, codec, encoded_fmt, mean_tol, max_tol",
    [
        (".mov", None, "prores", "yuva444p10le", 0.3, 2),
        (".mov", "prores_aw", "prores", "yuva444p10le", 0.3, 2),
        (".webm", None, "vp9", "yuva420p", 1.5, 16),
    ],
)
def test_alpha_video_decodes_with_alpha_equal_to_feathered_mask(tmp_path, ext, encoder, codec, encoded_fmt, mean_tol, max_tol):
    frames, masks = clip()
    out = tmp_path / f"cut{ext}"
    w = AlphaVideoWriter(out, W, H, Fraction(25), codec=encoder)
    assert w.spec.pix_fmt == encoded_fmt
    for i, (f, m) in enumerate(zip(frames, masks)):
        w.write(fx.alpha(f, m, feather_px=4), pts=i)
    assert w.finish() == out and not (tmp_path / f"cut.partial{ext}").exists()

    with av.open(str(out)) as c:
        assert c.streams.video[0].codec_context.name == codec
    decoded, fmt = read_alpha_video(out)
    assert fmt.startswith("yuva"), fmt
    assert len(decoded) == N
    for f, m, d in zip(frames, masks, decoded):
        want = np.rint(fx.feather(m, 4) * 255)
        err = np.abs(d[..., 3].astype(float) - want)
        assert err.mean() <= mean_tol and err.max() <= max_tol, (err.mean(), err.max())
        core = fx.feather(m, 4) >= 1
        colour_err = np.abs(d[..., :3].astype(int) - f.astype(int))[core].mean()
        assert colour_err < 6, colour_err


def test_alpha_webm_keeps_audio(tmp_path):
    src = make_video(tmp_path / "in.mp4", frames=10, width=W, height=H, audio=True)
    out = tmp_path / "cut.webm"
    w = AlphaVideoWriter(out, W, H, Fraction(25), audio_from=src)
    for i in range(10):
        w.write(np.zeros((H, W, 4), np.uint8), pts=i)
    w.finish()
    with av.open(str(out)) as c:
        assert c.streams.audio and c.streams.audio[0].codec_context.name == "opus"


def test_rgba_png_alpha_equals_feathered_mask(tmp_path):
    frames, masks = clip()
    bgra = fx.alpha(frames[3], masks[3], feather_px=3)
    path = write_alpha_image(tmp_path / "cut.png", bgra)
    with Image.open(path) as im:
        assert im.mode == "RGBA"
        rgba = np.asarray(im)
    np.testing.assert_array_equal(rgba[..., 3], np.rint(fx.feather(masks[3], 3) * 255).astype(np.uint8))
    inside = rgba[..., 3] > 0
    np.testing.assert_array_equal(rgba[..., :3][inside], cv2.cvtColor(frames[3], cv2.COLOR_BGR2RGB)[inside])


@pytest.mark.parametrize("name", ["out.mp4", "out.avi", "out.mkv", "out"])
def test_video_container_without_alpha_is_clean_error(tmp_path, name):
    with pytest.raises(OutputError) as exc:
        AlphaVideoWriter(tmp_path / name, W, H, Fraction(25))
    msg = str(exc.value)
    assert "\n" not in msg and "cannot carry alpha" in msg and ".mov" in msg and ".webm" in msg
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(OutputError):
        alpha_codec(tmp_path / name)


@pytest.mark.parametrize("name", ["cut.jpg", "cut.bmp"])
def test_image_format_without_alpha_is_clean_error(tmp_path, name):
    with pytest.raises(OutputError, match="cannot carry alpha; use .png"):
        write_alpha_image(tmp_path / name, np.zeros((4, 4, 4), np.uint8))
    assert list(tmp_path.iterdir()) == []


def test_codec_without_alpha_is_clean_error(tmp_path):
    with pytest.raises(OutputError, match="cannot encode yuva444p10le"):
        AlphaVideoWriter(tmp_path / "x.mov", W, H, Fraction(25), codec="libx264")
    with pytest.raises(OutputError, match="unknown or unavailable --codec"):
        AlphaVideoWriter(tmp_path / "x.mov", W, H, Fraction(25), codec="no-such-codec")


def test_alpha_writer_rejects_bgr_frames(tmp_path):
    w = AlphaVideoWriter(tmp_path / "x.mov", W, H, Fraction(25))
    with pytest.raises(ValueError, match="BGRA"):
        w.write(np.zeros((H, W, 3), np.uint8))
    assert w.abort(keep_partial=False) is None
    assert list(tmp_path.iterdir()) == []
