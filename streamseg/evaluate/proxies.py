"""Measurable stand-ins for real-world failure modes: mosaics (small faces, groups), darker skin,
wide rooms and scenes with nobody in them.

The val split is mostly one subject per image, framed by the photographer; real pictures have
several small people and every skin tone. Two derived views of a dataset score that:

* :class:`MosaicDataset` (``streamseg eval --mosaic N``): every ``N * N`` consecutive images of
  one source are tiled into one picture, each tile ``tile`` px square, scored against the tiled
  masks. Faces become ``1/N`` of their size and there are several per picture.
* :class:`SkinToneDataset` (``streamseg eval --skin-tone dark|light``): each image's skin pixels
  (from its true mask) are shifted darker or lighter in Lab, the mask unchanged.
* :class:`WideDataset` (``streamseg eval --wide N``): every image's subject, cut out around its
  skin, pasted into a photo of a room or street with nobody in it at ``1/N`` of the scene's
  longer side (the wide shot, where skin is a few per cent of the frame), scored against the
  pasted mask.
* :class:`SceneDataset` (``streamseg eval --scenes``): the scenes alone, every mask empty;
  :func:`~streamseg.metrics.scene_rates` turns their false positives into the share of pixels called skin and the
  share of scenes with more than 1 %.

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

import zlib
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from streamseg.dataset import Sample, SkinDataset
from streamseg.errors import ConfigError, InputError
from streamseg.evaluate.pairs import match_mask
from streamseg.metrics import scene_rates  # noqa: F401 (the --scenes numbers, re-exported)

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


#: longer side of a wide-room picture (scenes are scaled to it)
WIDE_SIDE = 1024


def default_scenes_dir(data: str | Path) -> Path:
    """``scenes/`` beside the skin dataset folder (``../shared/data/scenes`` for ``../shared/data/skin``)."""
    return Path(data).resolve().parent / "scenes"


class SceneDataset(SkinDataset):
    """Photos with nobody in them (``images/`` and a ``manifest.csv`` with ``id`` and ``split``):
    every mask is empty, so a method's false positives are all it can score."""

    def samples(self, split: str | None = None, sources: list[str] | None = None) -> list[Sample]:
        return [replace(s, mask=s.image, source="scenes") for s in super().samples(split, None)]

    def load_mask(self, sample: Sample) -> np.ndarray:  # type: ignore[override]
        """bool (H, W), all False."""
        return np.zeros(self.load_image(sample).shape[:2], bool)


def paste_subject(scene: np.ndarray, image: np.ndarray, mask: np.ndarray, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Paste ``image``'s subject (cut out around its skin ``mask``, uint8 0/255) into ``scene``.

    The scene is scaled to :data:`WIDE_SIDE` on its longer side; the subject keeps its aspect
    ratio with its longer side ``1/n`` of that, at a position drawn from ``seed``. Returns the
    picture (BGR uint8) and its mask (bool): the subject's skin where it is pasted, nothing elsewhere.
    """
    from streamseg.train.augment import cutout_alpha, match_light, paste_cutout

    s = WIDE_SIDE / max(scene.shape[:2])
    bg = cv2.resize(scene, (round(scene.shape[1] * s), round(scene.shape[0] * s)), interpolation=cv2.INTER_LINEAR)
    h, w = mask.shape
    k = (WIDE_SIDE / n) / max(h, w)
    sw, sh = max(2, round(w * k)), max(2, round(h * k))
    si = cv2.resize(image, (sw, sh), interpolation=cv2.INTER_AREA)
    sm = np.where(cv2.resize(mask, (sw, sh), interpolation=cv2.INTER_AREA) >= 128, 255, 0).astype(np.uint8)
    if sh > bg.shape[0] or sw > bg.shape[1]:
        raise InputError(f"--wide {n}: the subject ({sw}x{sh}) does not fit the scene ({bg.shape[1]}x{bg.shape[0]})")
    alpha = cutout_alpha(sm)
    si = match_light(si, alpha, bg, 0.3)
    rng = np.random.default_rng(seed)
    y, x = int(rng.integers(0, bg.shape[0] - sh + 1)), int(rng.integers(0, bg.shape[1] - sw + 1))
    img, msk, _ = paste_cutout((bg, np.zeros(bg.shape[:2], np.uint8)), (si, sm), y, x, alpha)
    return img, msk > 127


class WideDataset(SkinDataset):
    """Each image's subject pasted into a scene at ``1/n`` of its longer side (see :func:`paste_subject`).

    Scenes are taken in turn from the ``val`` split of ``scenes`` (all of them without a
    manifest); the position is fixed per image, so a run is repeatable.
    """

    def __init__(self, root: str | Path, scenes: str | Path, n: int) -> None:
        if n < 2:
            raise ConfigError(f"--wide must be 2 or more, got {n}")
        super().__init__(root)
        self.n = n
        self.scenes = SceneDataset(scenes)
        picked = [s for s in self.scenes.samples("val")] or self.scenes.samples(None)
        if not picked:
            raise InputError(f"--wide: no scene images in {self.scenes.root}")
        self._scenes = picked
        self._index: dict[str, int] = {}
        self._last: tuple[str, tuple[np.ndarray, np.ndarray]] | None = None

    def samples(self, split: str | None = None, sources: list[str] | None = None) -> list[Sample]:
        out = [s for s in super().samples(split, sources) if s.mask is not None]
        for i, s in enumerate(out):
            self._index[s.id] = i
        return out

    def _pair(self, sample: Sample) -> tuple[np.ndarray, np.ndarray]:
        if self._last is None or self._last[0] != sample.id:
            i = self._index.get(sample.id, zlib.crc32(sample.id.encode()))
            scene = self.scenes.load_image(self._scenes[i % len(self._scenes)])
            self._last = (sample.id, paste_subject(scene, *_pair(sample), self.n, zlib.crc32(sample.id.encode())))
        return self._last[1]

    def load_image(self, sample: Sample) -> np.ndarray:  # type: ignore[override]
        """BGR uint8, :data:`WIDE_SIDE` on the longer side."""
        return self._pair(sample)[0]

    def load_mask(self, sample: Sample) -> np.ndarray:  # type: ignore[override]
        """bool, the pasted skin."""
        return self._pair(sample)[1]


def proxy_dataset(root: str | Path, mosaic: int = 0, skin_tone: str = "", wide: int = 0,
                  scenes: bool = False, scenes_dir: str | Path | None = None) -> SkinDataset:
    """The dataset ``streamseg eval`` scores: plain, or one proxy view of it (mosaic, skin tone,
    wide room, or the scenes alone; at most one).

    ``scenes_dir`` (for ``wide`` and ``scenes``) defaults to :func:`default_scenes_dir`.
    """
    if sum(bool(v) for v in (mosaic, skin_tone, wide, scenes)) > 1:
        raise ConfigError("give at most one of --mosaic, --skin-tone, --wide and --scenes")
    if wide or scenes:
        where = Path(scenes_dir) if scenes_dir else default_scenes_dir(root)
        if not (where / "images").is_dir():
            raise InputError(f"scenes folder not found: {where} (expected images/ and manifest.csv; give --scenes-dir)")
        if scenes:
            return SceneDataset(where)
        return WideDataset(root, where, wide)
    if mosaic:
        return MosaicDataset(root, mosaic)
    if skin_tone:
        return SkinToneDataset(root, skin_tone)
    return SkinDataset(root)
