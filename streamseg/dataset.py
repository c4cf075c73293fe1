"""Image/mask datasets laid out like ``../shared/data/skin``.

Layout: ``images/<id>.jpg|png``, ``masks/<id>.png`` (0/255, 255 = skin), optional
``manifest.csv`` with at least ``id`` and ``split`` (and usually ``source``, ``quality``,
``license``). Without a manifest every pair counts, with source ``all`` and split ``all``.

Example:
    >>> import tempfile, pathlib, numpy as np, cv2
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / "images").mkdir(); (root / "masks").mkdir()
    >>> _ = cv2.imwrite(str(root / "images/a.png"), np.zeros((4, 4, 3), np.uint8))
    >>> _ = cv2.imwrite(str(root / "masks/a.png"), np.full((4, 4), 255, np.uint8))
    >>> ds = SkinDataset(root)
    >>> [s.id for s in ds.samples()], ds.load_mask(ds.samples()[0]).all()
    (['a'], True)
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from streamseg.errors import InputError

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")


@dataclass(frozen=True)
class Sample:
    """One image/mask pair; ``mask`` is ``None`` when the mask file is missing."""

    id: str
    image: Path
    mask: Path | None
    split: str = "all"
    source: str = "all"
    quality: str = "good"
    license: str = ""


class SkinDataset:
    """A folder of image/mask pairs with an optional ``manifest.csv``."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise InputError(f"dataset folder not found: {self.root}")
        self.images_dir = self.root / "images"
        self.masks_dir = self.root / "masks"
        if not self.images_dir.is_dir():
            raise InputError(f"{self.root} has no images/ folder (expected images/ and masks/)")
        self._images = {p.stem: p for p in sorted(self.images_dir.iterdir()) if p.suffix.lower() in IMAGE_EXTS}
        self._masks = (
            {p.stem: p for p in sorted(self.masks_dir.iterdir()) if p.suffix.lower() in IMAGE_EXTS}
            if self.masks_dir.is_dir()
            else {}
        )
        self._manifest = self._read_manifest(self.root / "manifest.csv")

    @staticmethod
    def _read_manifest(path: Path) -> dict[str, dict[str, str]] | None:
        if not path.is_file():
            return None
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            if not reader.fieldnames or "id" not in reader.fieldnames:
                raise InputError(f"{path}: manifest needs an 'id' column")
            return {row["id"]: row for row in reader}

    def samples(self, split: str | None = None, sources: list[str] | None = None) -> list[Sample]:
        """Pairs in ``split`` (``None`` or ``all`` = every split), optionally only from ``sources``.

        Images without a mask are included with ``mask=None`` so callers can report them.
        """
        out: list[Sample] = []
        ids = list(self._manifest) if self._manifest is not None else list(self._images)
        for sid in ids:
            row = self._manifest.get(sid, {}) if self._manifest is not None else {}
            img = self._images.get(sid)
            if img is None:
                continue
            s = Sample(
                id=sid,
                image=img,
                mask=self._masks.get(sid),
                split=row.get("split", "all") or "all",
                source=row.get("source", "all") or "all",
                quality=row.get("quality", "good") or "good",
                license=row.get("license", ""),
            )
            if split not in (None, "all") and s.split != split:
                continue
            if sources and s.source not in sources:
                continue
            out.append(s)
        return out

    @staticmethod
    def load_image(sample: Sample) -> np.ndarray:
        """BGR uint8 (H, W, 3)."""
        img = cv2.imread(str(sample.image), cv2.IMREAD_COLOR)
        if img is None:
            raise InputError(f"cannot decode image {sample.image}")
        return img

    @staticmethod
    def load_mask(sample: Sample) -> np.ndarray:
        """bool (H, W), True = skin (pixel value > 127)."""
        if sample.mask is None:
            raise InputError(f"no mask for {sample.id}")
        m = cv2.imread(str(sample.mask), cv2.IMREAD_GRAYSCALE)
        if m is None:
            raise InputError(f"cannot decode mask {sample.mask}")
        return m > 127
