"""Measurable stand-ins for real-world failure modes: mosaics (small faces, groups) and darker skin.

The val split is mostly one subject per image, framed by the photographer; real pictures have
several small people and every skin tone. Two derived views of a dataset score that:

* :class:`MosaicDataset` (``streamseg eval --mosaic N``): every ``N * N`` consecutive images of
  one source are tiled into one picture, each tile ``tile`` px square, scored against the tiled
  masks. Faces become ``1/N`` of their size and there are several per picture.
* :class:`SkinToneDataset` (``streamseg eval --skin-tone dark|light``): each image's skin pixels
  (from its true mask) are shifted darker or lighter in Lab, the mask unchanged.

Both are :class:`~streamseg.dataset.SkinDataset` subclasses, so :func:`~streamseg.evaluate.accuracy.evaluate`
scores them unchanged.

Example:
    >>> import tempfile, pathlib, numpy as np, cv2
    >>> root = pathlib.Path(tempfile.mkdtemp()); (root / "images").mkdir(); (root / "masks").mkdir()
    >>> for i in range(4):
    ...     _ = cv2.imwrite(str(root / f"images/{i}.png"), np.full((8, 8, 3), 60 * i, np.uint8))
    ...     _ = cv2.imwrite(str(root / f"masks/{i}.png"), np.full((8, 8), 255 * (i % 2), np.uint8))
    >>> ds = MosaicDataset(root, 2, tile=4)
    >>> [s.id for s in ds.samples()]
    ['mosaic2:0+1+2+3']
    >>> ds.load_mask(ds.samples()[0]).astype(int).tolist()[0]
    [0, 0, 0, 0, 1, 1, 1, 1]
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from streamseg.dataset import Sample, SkinDataset
from streamseg.errors import ConfigError, InputError
from streamseg.evaluate.pairs import match_mask

#: ``--skin-tone`` names -> (L factor, chroma factor) in OpenCV's 8-bit Lab
SKIN_TONES = {"dark": (0.55, 1.15), "darker": (0.4, 1.2), "light": (1.2, 0.85)}


def _pair(sample: Sample) -> tuple[np.ndarray, np.ndarray]:
    """BGR uint8 image and its 0/255 uint8 mask at the image's size (as ``evaluate`` matches them).

    Raises:
        InputError: unreadable files, or a mask of another aspect ratio (the image is then
            reported as not scored, as in a plain eval).
    """
    img, msk = SkinDataset.load_image(sample), SkinDataset.load_mask(sample)
    matched = match_mask(msk, *img.shape[:2])
    if matched is None:
        raise InputError(f"size mismatch: mask {msk.shape[1]}x{msk.shape[0]} vs image {img.shape[1]}x{img.shape[0]} (other aspect ratio)")
    return img, np.where(matched, 255, 0).astype(np.uint8)


class MosaicDataset(SkinDataset):
    """``n`` x ``n`` mosaics of consecutive images of one source, each tile ``tile`` px square.

    A source whose image count is not a multiple of ``n * n`` drops its last few images.
    """

    def __init__(self, root: str | Path, n: int, tile: int = 256) -> None:
        if n < 2:
            raise ConfigError(f"--mosaic must be 2 or more, got {n}")
        super().__init__(root)
        self.n, self.tile = n, tile
        self._parts: dict[str, list[Sample]] = {}
        self._last: tuple[str, tuple[np.ndarray, np.ndarray]] | None = None  # load_image then load_mask

    def samples(self, split: str | None = None, sources: list[str] | None = None) -> list[Sample]:
        base = [s for s in super().samples(split, sources) if s.mask is not None]
        by_source: dict[str, list[Sample]] = {}
        for s in base:
            by_source.setdefault(s.source, []).append(s)
        out: list[Sample] = []
        k = self.n * self.n
        for group in by_source.values():
            for i in range(0, len(group) - k + 1, k):
                parts = group[i:i + k]
                sid = f"mosaic{self.n}:" + "+".join(p.id for p in parts)
                self._parts[sid] = parts
                out.append(replace(parts[0], id=sid))
        return out

    def _mosaic(self, sample: Sample) -> tuple[np.ndarray, np.ndarray]:
        from streamseg.train.augment import mosaic

        if self._last is None or self._last[0] != sample.id:
            tiles = [_pair(p) for p in self._parts[sample.id]]
            self._last = (sample.id, mosaic(tiles, self.n, self.n * self.tile))
        return self._last[1]

    def load_image(self, sample: Sample) -> np.ndarray:  # type: ignore[override]
        """BGR uint8 ``(n * tile, n * tile, 3)``."""
        return self._mosaic(sample)[0]

    def load_mask(self, sample: Sample) -> np.ndarray:  # type: ignore[override]
        """bool ``(n * tile, n * tile)``, the tiles' masks (each resized like its image)."""
        return self._mosaic(sample)[1] > 127


class SkinToneDataset(SkinDataset):
    """Each image with its true skin pixels shifted in Lab (``tone``: a :data:`SKIN_TONES` name)."""

    def __init__(self, root: str | Path, tone: str = "dark") -> None:
        if tone not in SKIN_TONES:
            raise ConfigError(f"--skin-tone must be one of {', '.join(SKIN_TONES)}, got {tone!r}")
        super().__init__(root)
        self.tone = tone

    def load_image(self, sample: Sample) -> np.ndarray:  # type: ignore[override]
        """BGR uint8 (H, W, 3) with the skin darker or lighter; elsewhere as the file."""
        from streamseg.train.augment import skin_tone

        lightness, chroma = SKIN_TONES[self.tone]
        return skin_tone(*_pair(sample), lightness, chroma)


def proxy_dataset(root: str | Path, mosaic: int = 0, skin_tone: str = "") -> SkinDataset:
    """The dataset ``streamseg eval`` scores: plain, a mosaic view or a skin-tone view (not both)."""
    if mosaic and skin_tone:
        raise ConfigError("give --mosaic or --skin-tone, not both")
    if mosaic:
        return MosaicDataset(root, mosaic)
    if skin_tone:
        return SkinToneDataset(root, skin_tone)
    return SkinDataset(root)
