"""Still images: expand paths, folders and globs; read any depth and channel count as BGR uint8.

OpenCV decodes what it can (JPEG, PNG, WebP, BMP, TIFF, ...); Pillow decodes the rest (AVIF,
GIF: its first frame, and HEIC/HEIF where the ``heif`` extra, pillow-heif, is installed). Before
any pixel is decoded, the header's size is checked against :data:`MAX_PIXELS` and the memory
the image would take, decoded and segmented, against :func:`memory_limit`.

Example:
    >>> import numpy as np
    >>> to_bgr8(np.full((2, 2), 65535, np.uint16))[0, 0].tolist()
    [255, 255, 255]
"""

from __future__ import annotations

import glob
from pathlib import Path

import cv2
import numpy as np

from streamseg.dataset import IMAGE_EXTS as _DATASET_EXTS
from streamseg.errors import InputError

#: the extensions read as images (folders are scanned for these): the dataset's, and those
#: only Pillow decodes
IMAGE_EXTS = (*_DATASET_EXTS, ".avif", ".gif", ".heic", ".heif")
#: refuse images above this many pixels (about 16k x 16k): a clear limit instead of running out of memory
MAX_PIXELS = 268_435_456
#: refuse images whose decoding and segmentation would take more memory than this (or than the
#: machine has available, if that is less: :func:`memory_limit`)
MAX_IMAGE_BYTES = 4 * 2**30
#: memory per pixel of the work on a decoded image besides the decoded pixels themselves: the
#: BGR frame, the probability map, the mask, and the rendered outputs (several types at once,
#: side-by-side twice the width) measure 8 to 30 bytes per pixel together
WORK_BYTES_PER_PIXEL = 24
#: ISO-BMFF brands of HEIC/HEIF files (read with pillow-heif)
_HEIF_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1")

_heif_registered = False


def expand_inputs(items: list[str]) -> list[Path]:
    """Files, folders (their images, sorted) and globs -> image paths.

    Raises:
        InputError: an item matches nothing.
    """
    out: list[Path] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            found = sorted(q for q in p.iterdir() if q.suffix.lower() in IMAGE_EXTS and q.is_file())
            if not found:
                raise InputError(f"no images in folder {p}")
            out += found
        elif p.exists():
            out.append(p)
        elif any(c in item for c in "*?["):
            found = sorted(Path(q) for q in glob.glob(item, recursive=True) if Path(q).is_file())
            if not found:
                raise InputError(f"no file matches {item!r}")
            out += found
        else:
            raise InputError(f"input not found: {p}")
    return out


def to_bgr8(img: np.ndarray) -> np.ndarray:
    """Any decoded image (grey, BGR, BGRA; 8, 16 bit or float) -> BGR uint8 (H, W, 3)."""
    if img.dtype == np.uint16:
        img = (img >> 8).astype(np.uint8)
    elif img.dtype in (np.float32, np.float64):
        img = np.clip(img * 255.0 if img.max() <= 1.0 else img, 0, 255).astype(np.uint8)
    elif img.dtype != np.uint8:
        raise InputError(f"unsupported pixel type {img.dtype}")
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    if img.shape[2] == 4:
        return cv2.cvtColor(img, cv2.COLOR_BGRA2BGR)
    if img.shape[2] == 1:
        return cv2.cvtColor(img[..., 0], cv2.COLOR_GRAY2BGR)
    return np.ascontiguousarray(img)


def _pillow():
    """``PIL.Image``, with the HEIC/HEIF opener of pillow-heif registered where it is installed."""
    global _heif_registered
    import PIL.Image

    PIL.Image.MAX_IMAGE_PIXELS = None  # the callers compare the size with their own limits
    if not _heif_registered:
        _heif_registered = True
        try:
            from pillow_heif import register_heif_opener
        except ImportError:
            pass
        else:
            register_heif_opener()
    return PIL.Image


def image_header(data: bytes) -> tuple[str, int, int] | None:
    """``(format, width, height)`` of an encoded image, read from its header without decoding
    its pixels (PIL: ``JPEG``, ``PNG``, ``WEBP``, ...); ``None`` when PIL does not know it."""
    info = _header_info(data)
    return None if info is None else info[:3]


def _header_info(data: bytes) -> tuple[str, int, int, int] | None:
    """``(format, width, height, decoded bytes per pixel)`` from the header, or ``None``."""
    import io

    try:
        Image = _pillow()
        with Image.open(io.BytesIO(data)) as im:
            w, h = im.size
            bands = 3 if im.mode in ("P", "PA") else len(im.getbands())  # a palette decodes to colour
            raw = " ".join(str(t[3] if len(t) > 3 else "") for t in (im.tile or []))
            depth = 4 if im.mode in ("I", "F") else 2 if (im.mode.startswith("I;16") or "16" in raw) else 1
            return str(im.format or ""), int(w), int(h), bands * depth
    except Exception:  # noqa: BLE001 - not a format PIL knows, or a broken header
        return None


def memory_limit() -> int:
    """The most memory one image may take to decode and segment: :data:`MAX_IMAGE_BYTES`, or
    what this machine has available (Linux ``MemAvailable``) when that is less."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return min(MAX_IMAGE_BYTES, int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        pass
    return MAX_IMAGE_BYTES


def check_image_memory(name: str, width: int, height: int, bytes_per_pixel: int, limit: int | None = None) -> int:
    """Refuse an image whose decoded pixels plus the work on them
    (:data:`WORK_BYTES_PER_PIXEL`) would take more than ``limit`` bytes (default
    :func:`memory_limit`). Returns the bytes it needs.

    Raises:
        InputError: one line with the size, what it needs and the limit.
    """
    need = width * height * (bytes_per_pixel + WORK_BYTES_PER_PIXEL)
    limit = memory_limit() if limit is None else limit
    if need > limit:
        raise InputError(
            f"{name}: {width}x{height} needs about {need / 2**30:.1f} GiB of memory to decode and segment "
            f"(limit {limit / 2**30:.1f} GiB); scale it down first"
        )
    return need


def _is_heif(data: bytes) -> bool:
    return data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS


def _decode_with_pillow(data: bytes) -> np.ndarray | None:
    """What OpenCV cannot decode, through Pillow: the first frame, EXIF orientation applied, as
    BGR uint8; ``None`` when Pillow cannot either."""
    import io

    try:
        Image = _pillow()
        from PIL import ImageOps

        with Image.open(io.BytesIO(data)) as im:
            im.seek(0)
            im = ImageOps.exif_transpose(im)
            if im.mode.startswith("I;16") or im.mode in ("I", "F"):
                arr = np.asarray(im)
                if arr.dtype != np.float32:
                    arr = np.clip(arr, 0, 65535).astype(np.uint16)
                return to_bgr8(arr)
            rgb = np.asarray(im.convert("RGB"))
    except Exception:  # noqa: BLE001 - not an image Pillow can decode either
        return None
    return np.ascontiguousarray(rgb[..., ::-1])


def decode_image(data: bytes, name: str, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Decode an encoded image (the bytes of a file or of an upload) as BGR uint8 (H, W, 3),
    EXIF orientation applied; the size in its header is checked before its pixels are decoded.

    Args:
        data: the encoded bytes. name: what the messages call it (a path, "the request body").
        max_pixels: refuse larger images.

    Raises:
        InputError: empty, not an image, truncated, or larger than ``max_pixels``.
    """
    buf = np.frombuffer(data, np.uint8)
    if buf.size == 0:
        raise InputError(f"{name} is empty (0 bytes)")
    # Check the size from the header before decoding, so a huge image fails fast.
    head = _header_info(data)
    if head is not None:
        _, w, h, bpp = head
        if w * h > max_pixels:
            raise InputError(f"{name}: {w}x{h} is too large (limit {max_pixels / 1e6:.0f} megapixels)")
        check_image_memory(name, w, h, bpp)
    elif _is_heif(data):
        raise InputError(f"{name} is a HEIC/HEIF image: pip install 'streamseg[heif]' (pillow-heif) to read it")
    img = cv2.imdecode(buf, cv2.IMREAD_ANYDEPTH | cv2.IMREAD_ANYCOLOR)
    if img is not None:
        return to_bgr8(img)
    img = _decode_with_pillow(data) if head is not None else None
    if img is None:
        raise InputError(f"cannot decode {name} as an image")
    return img


def read_image(path: Path, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Read an image file as BGR uint8 (H, W, 3), EXIF orientation applied.

    Raises:
        InputError: unreadable, not an image, or larger than ``max_pixels``.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path} is a directory")
    try:
        with path.open("rb") as fh:
            data = fh.read()
    except PermissionError:
        raise InputError(f"no permission to read {path}") from None
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    return decode_image(data, str(path), max_pixels)
