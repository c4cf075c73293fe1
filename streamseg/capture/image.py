"""Still images: expand paths, folders and globs; read any depth and channel count as BGR uint8.

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

from streamseg.dataset import IMAGE_EXTS
from streamseg.errors import InputError

#: refuse images above this many pixels (about 16k x 16k): a clear limit instead of running out of memory
MAX_PIXELS = 268_435_456


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


def image_header(data: bytes) -> tuple[str, int, int] | None:
    """``(format, width, height)`` of an encoded image, read from its header without decoding
    its pixels (PIL: ``JPEG``, ``PNG``, ``WEBP``, ...); ``None`` when PIL does not know it."""
    import io

    try:
        import PIL.Image

        PIL.Image.MAX_IMAGE_PIXELS = None  # the caller compares the size with its own limit
        with PIL.Image.open(io.BytesIO(data)) as im:
            w, h = im.size
            return str(im.format or ""), int(w), int(h)
    except Exception:  # noqa: BLE001 - not a format PIL knows, or a broken header
        return None


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
    head = image_header(data)
    if head is not None and head[1] * head[2] > max_pixels:
        raise InputError(f"{name}: {head[1]}x{head[2]} is too large (limit {max_pixels / 1e6:.0f} megapixels)")
    img = cv2.imdecode(buf, cv2.IMREAD_ANYDEPTH | cv2.IMREAD_ANYCOLOR)
    if img is None:
        raise InputError(f"cannot decode {name} as an image")
    return to_bgr8(img)


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
