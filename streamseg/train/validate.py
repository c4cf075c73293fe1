"""Validation the way the numbers are reported: per-image IoU at 0.5, then the mean (mIoU).

Each val image is squashed to the model's square input (as the runtime does), the predicted
probability is resized back to the mask's size, thresholded at 0.5 and compared with the mask
using :func:`streamseg.metrics.iou`. Works with any predictor (PyTorch or ONNX Runtime).

Example:
    >>> import numpy as np
    >>> vs = ValSet([np.zeros((4, 4, 3), np.uint8)], [np.zeros((6, 5), bool)], ["a"], ["s"])
    >>> r = evaluate(lambda x: np.zeros((x.shape[0], 4, 4), np.float32), vs)
    >>> r.miou, r.per_source
    (1.0, {'s': 1.0})
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from streamseg.dataset import SkinDataset
from streamseg.errors import InputError
from streamseg.metrics import iou


@dataclass
class ValSet:
    """images: BGR uint8 (S, S, 3) already squashed to the model size; masks: bool (H, W) at original size."""

    images: list[np.ndarray]
    masks: list[np.ndarray]
    ids: list[str]
    sources: list[str]


@dataclass
class ValResult:
    """Per-image IoUs and their means, overall and per source."""

    ious: list[float]
    ids: list[str]
    sources: list[str]
    miou: float = 0.0
    per_source: dict[str, float] = field(default_factory=dict)

    def worst(self, n: int = 10) -> list[tuple[str, float]]:
        """The ``n`` images with the lowest IoU, as ``(id, iou)``."""
        order = np.argsort(self.ious)[:n]
        return [(self.ids[i], float(self.ious[i])) for i in order]

    def to_dict(self) -> dict:
        return {"miou": self.miou, "per_source": dict(self.per_source), "n": len(self.ious)}


def squash(image: np.ndarray, size: int) -> np.ndarray:
    """BGR uint8 (H, W, 3) -> (size, size, 3), aspect ratio not kept: exactly what the runtime
    feeds the model (:func:`streamseg.segment.onnx_model.to_model_size`)."""
    from streamseg.segment.onnx_model import to_model_size

    return to_model_size(image, (size, size))


def load_valset(data: str | Path, size: int, split: str = "val", limit: int = 0) -> ValSet:
    """Decode the ``split`` pairs of ``data``; images squashed to ``size``.

    ``limit`` > 0 keeps that many, evenly spaced over the split (so every source stays represented).
    """
    ds = SkinDataset(data)
    samples = [s for s in ds.samples(split=split) if s.mask is not None]
    if 0 < limit < len(samples):
        samples = [samples[int(i)] for i in np.linspace(0, len(samples) - 1, limit).round().astype(int)]
    if not samples:
        raise InputError(f"no image/mask pairs in split {split!r} of {data}")
    images, masks = [], []
    for s in samples:
        images.append(squash(ds.load_image(s), size))
        masks.append(ds.load_mask(s))
    return ValSet(images, masks, [s.id for s in samples], [s.source for s in samples])


def to_batch(images: list[np.ndarray]) -> np.ndarray:
    """BGR uint8 images (S, S, 3) -> RGB float32 (N, 3, S, S) in [0, 1]."""
    x = np.stack(images)[..., ::-1].transpose(0, 3, 1, 2)
    return np.ascontiguousarray(x, dtype=np.float32) / 255.0


def evaluate(
    predict: Callable[[np.ndarray], np.ndarray], vs: ValSet, batch: int = 8, threshold: float = 0.5
) -> ValResult:
    """Run ``predict`` (RGB float32 (N, 3, S, S) -> probability (N, S, S)) over ``vs``; mIoU overall and per source."""
    ious: list[float] = []
    for start in range(0, len(vs.images), batch):
        probs = predict(to_batch(vs.images[start : start + batch]))
        for j, p in enumerate(probs):
            truth = vs.masks[start + j]
            h, w = truth.shape
            p = cv2.resize(np.asarray(p, np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
            ious.append(iou(p >= threshold, truth))
    by_source: dict[str, list[float]] = defaultdict(list)
    for s, v in zip(vs.sources, ious):
        by_source[s].append(v)
    return ValResult(
        ious=ious,
        ids=list(vs.ids),
        sources=list(vs.sources),
        miou=float(np.mean(ious)),
        per_source={s: float(np.mean(v)) for s, v in sorted(by_source.items())},
    )


def torch_predictor(model, channels_last: bool = False) -> Callable[[np.ndarray], np.ndarray]:
    """A ``predict`` function for :func:`evaluate` from a PyTorch model (run in eval mode, no grad)."""
    import torch

    from streamseg.train.models import main_output

    def predict(x: np.ndarray) -> np.ndarray:
        t = torch.from_numpy(x)
        if channels_last:
            t = t.contiguous(memory_format=torch.channels_last)
        with torch.inference_mode():
            return torch.sigmoid(main_output(model(t)))[:, 0].float().numpy()

    return predict


def onnx_predictor(path: str | Path, threads: int = 0) -> Callable[[np.ndarray], np.ndarray]:
    """A ``predict`` function for :func:`evaluate` from an exported ONNX file (output = probability)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    if threads:
        opts.intra_op_num_threads = threads
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name

    def predict(x: np.ndarray) -> np.ndarray:
        return sess.run(None, {name: x})[0][:, 0]

    return predict
