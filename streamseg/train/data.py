"""Training data: a pre-resized uint8 cache of the dataset, and the torch datasets over it.

Decoding 1024-px JPEGs costs more than a training step on small inputs, so every image is
decoded once and resized (aspect ratio *not* kept: the runtime squashes a frame to the model's
square input, so training sees the same geometry) to ``side`` x ``side``, with ``side`` about
1.25x the training size. The cache is two ``.npy`` arrays per split under
``<cache>/<dataset-name>-sq<side>/`` (read memory-mapped, never pickled) plus a JSON index.

Example:
    >>> import tempfile, pathlib, numpy as np, cv2
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / "images").mkdir(); (root / "masks").mkdir()
    >>> _ = cv2.imwrite(str(root / "images/a.png"), np.zeros((8, 6, 3), np.uint8))
    >>> _ = cv2.imwrite(str(root / "masks/a.png"), np.full((8, 6), 255, np.uint8))
    >>> c = build_cache(root, root / "cache", 4, split="all")
    >>> c.images.shape, c.masks.shape, c.ids
    ((1, 4, 4, 3), (1, 4, 4), ['a'])
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from streamseg.dataset import SkinDataset
from streamseg.errors import InputError

CACHE_VERSION = 1


@dataclass
class CachedSplit:
    """One split of the cache.

    images: uint8 (N, S, S, 3) BGR; masks: uint8 (N, S, S) 0/255; ids/sources/qualities: per row.
    """

    images: np.ndarray
    masks: np.ndarray
    ids: list[str]
    sources: list[str]
    qualities: list[str]


def _squash(image: np.ndarray, mask: np.ndarray, side: int) -> tuple[np.ndarray, np.ndarray]:
    h, w = mask.shape
    interp = cv2.INTER_AREA if side < min(h, w) else cv2.INTER_LINEAR
    img = cv2.resize(image, (side, side), interpolation=interp)
    m = cv2.resize(mask.astype(np.uint8) * 255, (side, side), interpolation=cv2.INTER_LINEAR)
    return img, np.where(m >= 128, 255, 0).astype(np.uint8)


def build_cache(
    data: str | Path, cache_dir: str | Path, side: int, split: str = "train", progress: bool = False
) -> CachedSplit:
    """Load (building it first if missing or stale) the cache of ``split`` at ``side`` px.

    Samples without a mask are skipped. Raises :class:`InputError` when the split is empty.
    """
    ds = SkinDataset(data)
    samples = [s for s in ds.samples(split=split) if s.mask is not None]
    if not samples:
        raise InputError(f"no image/mask pairs in split {split!r} of {data}")
    name = Path(data).resolve().name or "data"
    d = Path(cache_dir) / f"{name}-sq{side}"
    index_path = d / f"{split}.json"
    want = {"version": CACHE_VERSION, "side": side, "ids": [s.id for s in samples]}
    if index_path.is_file():
        try:
            index = json.loads(index_path.read_text())
        except (OSError, ValueError):
            index = {}
        if {k: index.get(k) for k in want} == want:
            return _open(d, split, index)
    d.mkdir(parents=True, exist_ok=True)
    n = len(samples)
    img_tmp, msk_tmp = d / f"{split}.images.tmp.npy", d / f"{split}.masks.tmp.npy"
    images = np.lib.format.open_memmap(img_tmp, mode="w+", dtype=np.uint8, shape=(n, side, side, 3))
    masks = np.lib.format.open_memmap(msk_tmp, mode="w+", dtype=np.uint8, shape=(n, side, side))
    for i, s in enumerate(samples):
        image, mask = ds.load_image(s), ds.load_mask(s)
        if image.shape[:2] != mask.shape:
            mask = cv2.resize(mask.astype(np.uint8), (image.shape[1], image.shape[0]), interpolation=cv2.INTER_NEAREST) > 0
        images[i], masks[i] = _squash(image, mask, side)
        if progress and (i + 1) % 500 == 0:
            print(f"cache {split}: {i + 1}/{n}", flush=True)
    images.flush()
    masks.flush()
    del images, masks
    os.replace(img_tmp, d / f"{split}.images.npy")
    os.replace(msk_tmp, d / f"{split}.masks.npy")
    index = dict(want, sources=[s.source for s in samples], qualities=[s.quality for s in samples])
    index_path.write_text(json.dumps(index))
    return _open(d, split, index)


def _open(d: Path, split: str, index: dict) -> CachedSplit:
    return CachedSplit(
        images=np.load(d / f"{split}.images.npy", mmap_mode="r"),
        masks=np.load(d / f"{split}.masks.npy", mmap_mode="r"),
        ids=list(index["ids"]),
        sources=list(index["sources"]),
        qualities=list(index["qualities"]),
    )


def sampling_pool(masks: np.ndarray, empty_repeat: int = 1) -> np.ndarray:
    """Row indices an epoch draws from: every row once, rows whose mask has no skin pixel
    ``empty_repeat`` times.

    The garment-only photos of the full-body sources (about 1 % of the pool) are where the models
    call clothes skin; the soft-IoU term gives an empty mask no gradient, so only their BCE teaches
    it, and repeating them raises its share.

    Example:
        >>> m = np.zeros((3, 2, 2), np.uint8); m[1, 0, 0] = 255
        >>> sampling_pool(m, 3).tolist()
        [0, 1, 2, 0, 0, 2, 2]
    """
    n = len(masks)
    if empty_repeat <= 1:
        return np.arange(n)
    empty = np.array([not np.asarray(masks[i]).any() for i in range(n)], bool)
    return np.concatenate([np.arange(n), np.repeat(np.flatnonzero(empty), empty_repeat - 1)])


def load_scenes(folder: str | Path, split: str = "train", side: int = 320) -> list[np.ndarray]:
    """Photos with nobody in them (``<folder>/manifest.csv`` with ``id`` and ``split`` columns,
    ``<folder>/images/<id>.jpg``), each BGR uint8 with its longest side at most ``side``.

    Raises :class:`InputError` when the folder, its manifest or the split's images are missing.
    """
    import csv

    root = Path(folder)
    manifest = root / "manifest.csv"
    if not manifest.is_file():
        raise InputError(f"scenes: no manifest.csv in {root}")
    with manifest.open(newline="", encoding="utf-8") as f:
        ids = [r["id"] for r in csv.DictReader(f) if split == "all" or r.get("split") == split]
    out = []
    for i in ids:
        img = cv2.imread(str(root / "images" / f"{i}.jpg"), cv2.IMREAD_COLOR)
        if img is None:
            continue
        s = side / max(img.shape[:2])
        if s < 1:
            img = cv2.resize(img, (max(1, round(img.shape[1] * s)), max(1, round(img.shape[0] * s))), interpolation=cv2.INTER_AREA)
        out.append(img)
    if not out:
        raise InputError(f"scenes: no {split!r} images under {root / 'images'}")
    return out


def to_tensor_pair(image: np.ndarray, mask: np.ndarray):
    """BGR uint8 (H, W, 3) + uint8 0/255 (H, W) -> RGB float32 (3, H, W) in [0, 1], float32 (1, H, W) in {0, 1}."""
    import torch

    rgb = np.ascontiguousarray(image[..., ::-1].transpose(2, 0, 1))
    x = torch.from_numpy(rgb).float().div_(255.0)
    y = torch.from_numpy((mask > 127).astype(np.float32)[None])
    return x, y


class TrainSet:
    """Map-style torch dataset: index -> (image (3, S, S), mask (1, S, S), weight (), trust (1, S, S))
    after augmentation.

    ``weights`` gives each row's loss weight (e.g. lower for ``quality=weak``). ``scenes`` (photos
    with nobody in them) feed the scene augmentations; ``trust`` is 0 on their pixels outside
    pasted subjects (see :meth:`Augmenter.compose`). The random generator is re-seeded per worker
    and epoch by :func:`worker_init`.
    """

    def __init__(self, split: CachedSplit, size: int, augment, weights: np.ndarray, seed: int = 0,
                 scenes: list[np.ndarray] | None = None) -> None:
        from streamseg.train.augment import Augmenter

        self.scenes = scenes or []
        self.split = split
        self.size = size
        self.weights = weights.astype(np.float32)
        self.augmenter = Augmenter(size, augment, np.random.default_rng(seed))

    def __len__(self) -> int:
        return len(self.split.ids)

    def __getitem__(self, i: int):
        import torch

        rng = self.augmenter.rng

        def others(k: int):
            idx = rng.integers(0, len(self.split.ids), k)
            return [(np.asarray(self.split.images[j]), np.asarray(self.split.masks[j])) for j in idx]

        def scene() -> np.ndarray:
            return self.scenes[int(rng.integers(0, len(self.scenes)))]

        img, msk, trust = self.augmenter.compose(
            np.asarray(self.split.images[i]), np.asarray(self.split.masks[i]), others, scene if self.scenes else None)
        x, y = to_tensor_pair(img, msk)
        return x, y, torch.tensor(self.weights[i]), torch.from_numpy(trust.astype(np.float32)[None])


def worker_init(worker_id: int) -> None:
    """DataLoader worker init: a distinct random stream per worker and epoch.

    (No ``cv2.setNumThreads`` here: called in a forked child after the parent used OpenCV's
    thread pool, it deadlocks. :func:`~streamseg.train.trainer.train` sets 1 thread before forking.)
    """
    import torch

    info = torch.utils.data.get_worker_info()
    if info is not None:
        ds = info.dataset
        ds = getattr(ds, "dataset", ds)  # unwrap torch.utils.data.Subset
        ds.augmenter.rng = np.random.default_rng(int(torch.initial_seed()) % 2**32 + worker_id)
