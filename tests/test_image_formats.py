"""Images users have: AVIF, GIF (its first frame), 1-bit TIFF and palette PNG are read (Pillow
decodes what OpenCV cannot), HEIC/HEIF with pillow-heif or a one-line hint without it; and an
image is refused by the memory it would take, not only by its pixel count, before decoding."""

from __future__ import annotations

import importlib.util
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, features

from streamseg.capture.image import MAX_PIXELS, WORK_BYTES_PER_PIXEL, check_image_memory, read_image
from streamseg.errors import InputError


def _picture(h: int = 30, w: int = 40) -> Image.Image:
    """A colour picture with edges: left half one colour, right half another, a dark bar."""
    a = np.zeros((h, w, 3), np.uint8)
    a[:, : w // 2] = (200, 120, 60)
    a[:, w // 2 :] = (30, 160, 220)
    a[h // 3 : h // 2] = 0
    return Image.fromarray(a)


def _as_bgr(im: Image.Image) -> np.ndarray:
    return np.asarray(im.convert("RGB"))[..., ::-1]


def _png_header(path: Path, width: int, height: int, bit_depth: int, colour_type: int) -> Path:
    """A PNG whose header says ``width`` x ``height`` (a few bytes of pixel data follow)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    path.write_bytes(data)
    return path


@pytest.mark.skipif(not features.check("avif"), reason="this Pillow has no AVIF support")
def test_avif_is_read(tmp_path):
    pic = _picture()
    pic.save(tmp_path / "p.avif", quality=100)
    got = read_image(tmp_path / "p.avif")
    ref = _as_bgr(Image.open(tmp_path / "p.avif"))
    assert got.shape == (30, 40, 3) and got.dtype == np.uint8
    assert np.array_equal(got, ref)


def test_gif_first_frame_is_read(tmp_path):
    frames = [Image.new("RGB", (40, 30), c) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:], duration=40)
    got = read_image(tmp_path / "anim.gif")
    assert got.shape == (30, 40, 3)
    assert (got == (0, 0, 255)).all()  # red, in BGR: the first frame


@pytest.mark.parametrize("compression", [None, "group4", "packbits"])
def test_one_bit_tiff_is_read(tmp_path, compression):
    bits = np.random.default_rng(1).random((30, 40)) > 0.5
    im = Image.fromarray((bits * 255).astype(np.uint8)).convert("1")
    path = tmp_path / "bits.tif"
    im.save(path, **({"compression": compression} if compression else {}))
    got = read_image(path)
    assert got.shape == (30, 40, 3) and np.array_equal(got[..., 0], bits * np.uint8(255))


def test_the_image_command_reads_a_folder_of_them(cli, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    pic = _picture()
    pic.save(src / "a.gif")
    pic.convert("P").save(src / "b.png")
    pic.convert("1").save(src / "c.tif")
    names = ["a", "b", "c"]
    if features.check("avif"):
        pic.save(src / "d.avif")
        names.append("d")
    code, _, err = cli("image", src, "-o", tmp_path / "out", "-m", "ellipse")
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f"{n}_mask.png" for n in names]


@pytest.mark.skipif(importlib.util.find_spec("pillow_heif") is not None, reason="pillow-heif is installed")
def test_heic_without_pillow_heif_says_what_to_install(tmp_path):
    path = tmp_path / "photo.heic"
    path.write_bytes(struct.pack(">I", 24) + b"ftypheic" + b"\0\0\0\0" + b"mif1heic" + b"\0" * 200)
    with pytest.raises(InputError, match=r"HEIC/HEIF image: pip install 'streamseg\[heif\]'"):
        read_image(path)


@pytest.mark.skipif(importlib.util.find_spec("pillow_heif") is None, reason="pillow-heif is not installed")
def test_heic_with_pillow_heif_is_read(tmp_path):
    import pillow_heif

    pillow_heif.register_heif_opener()
    pic = _picture()
    pic.save(tmp_path / "p.heic", quality=-1)
    got = read_image(tmp_path / "p.heic")
    assert got.shape == (30, 40, 3) and np.array_equal(got, _as_bgr(Image.open(tmp_path / "p.heic")))


# ---------------------------------------------------------------- memory, not only pixels


def test_an_image_under_the_pixel_limit_is_refused_by_the_memory_it_needs(tmp_path, cli):
    path = _png_header(tmp_path / "huge.png", 16000, 16000, 8, 2)  # 256 megapixels of RGB
    assert 16000 * 16000 <= MAX_PIXELS
    with pytest.raises(InputError, match=r"16000x16000 needs about [0-9.]+ GiB of memory to decode and segment \(limit"):
        read_image(path)
    code, _, err = cli("image", path, "-o", tmp_path / "out", "-m", "ellipse")
    assert code == 3, err
    assert "needs about" in err.strip().splitlines()[-1] and "Traceback" not in err


def test_the_memory_check_counts_the_bytes_each_pixel_decodes_to(tmp_path, monkeypatch):
    import streamseg.capture.image as image

    monkeypatch.setattr(image, "memory_limit", lambda: image.MAX_IMAGE_BYTES)  # not what this machine has free
    # 144 megapixels: 16-bit RGBA decodes to 8 bytes a pixel (refused), 8-bit grey to 1 (not)
    deep = _png_header(tmp_path / "deep.png", 12000, 12000, 16, 6)
    with pytest.raises(InputError, match="needs about"):
        read_image(deep)
    grey = _png_header(tmp_path / "grey.png", 12000, 12000, 8, 0)
    try:
        read_image(grey)
    except InputError as exc:  # its pixel data is a stub: a decoding error, not the memory check
        assert "needs about" not in str(exc)
    limit = 12000 * 12000 * (1 + WORK_BYTES_PER_PIXEL)
    assert check_image_memory("x", 12000, 12000, 1, limit=limit) == limit
    with pytest.raises(InputError, match="scale it down first"):
        check_image_memory("x", 12000, 12000, 8, limit=limit)
