"""Quality modes: what runs around a skin method to trade time for masks that hold up on real pictures.

``--quality`` picks a :class:`Plan`:

* ``fast`` (the real-time default): the method alone;
* ``balanced``: plus the mirror view of models (``--tta flip``) and the person gate;
* ``best`` (pictures and offline video): plus overlapping tiles fused with the full view.

The parts:

* **Person gate** (:class:`PersonGate`): MediaPipe's selfie person model (``person-selfie-256.onnx``,
  shipped) gives a person probability; grown by a few per cent of the side and used as a
  multiplier, it keeps a skin model off walls, doors, floors and furniture in rooms with nobody
  in them, where skin colour alone cannot tell. In ``best`` the gate also sees the tiles, so a
  person small in a wide shot is not gated away.
* **Tiles** (:func:`tile_boxes`, :func:`fuse_tiles`): 2 x 2 overlapping crops, each segmented at
  the model's full input size, so small faces get the resolution a close-up gets. A tile of a
  face is not a face, so the full view is always part of the fused mean.
* **Face zoom** (:func:`zoom_boxes`, ``best``): MediaPipe's full-range face detector (shipped as
  ONNX) looks at the picture and at each tile; a square three times each face's box is segmented
  at the model's input size and averaged into the fused map there, and a found face counts as a
  person for the gate. All the crops of a picture go through the model in one batch.

Example:
    >>> tile_boxes(100, 200, side=0.6)
    [(0, 60, 0, 120), (0, 60, 80, 200), (40, 100, 0, 120), (40, 100, 80, 200)]
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

import cv2
import numpy as np

from streamseg.errors import MethodError
from streamseg.rois.boxes import iou as box_iou
from streamseg.segment.base import MethodOptions, Segmenter, check_choice

#: ``--quality`` values, fastest first
QUALITIES = ("fast", "balanced", "best")

#: the shipped person model the gate runs (its spec has ``"task": "person"``)
PERSON_MODEL = "person-selfie-256.json"


@dataclass(frozen=True)
class Plan:
    """What a quality mode runs around the method.

    Attributes:
        flip: models also see the mirror image (the probabilities are averaged).
        gate: multiply by the person gate.
        tiles: fuse the full view with 2 x 2 overlapping tiles (models only).
        zoom: fuse in crops around the faces a face detector finds (models only, with tiles).
    """

    flip: bool
    gate: bool
    tiles: bool
    zoom: bool = False


PLANS: dict[str, Plan] = {
    "fast": Plan(flip=False, gate=False, tiles=False),
    "balanced": Plan(flip=True, gate=True, tiles=False),
    "best": Plan(flip=True, gate=True, tiles=True, zoom=True),
}


def check_quality(quality: str) -> str:
    """``quality`` if it is one of :data:`QUALITIES`.

    Raises:
        ConfigError: any other value.
    """
    return check_choice("--quality", quality, QUALITIES)


def tile_boxes(h: int, w: int, n: int = 2, side: float = 0.57) -> list[tuple[int, int, int, int]]:
    """``n`` x ``n`` overlapping tiles covering an ``h`` x ``w`` picture, each ``side`` of its sides.

    Returns ``(y0, y1, x0, x1)`` boxes row by row; together they cover every pixel.
    """
    th, tw = max(1, round(h * side)), max(1, round(w * side))
    ys = [round(i * (h - th) / (n - 1)) for i in range(n)] if n > 1 else [0]
    xs = [round(i * (w - tw) / (n - 1)) for i in range(n)] if n > 1 else [0]
    return [(y, y + th, x, x + tw) for y in ys for x in xs]


def fuse_tiles(full: np.ndarray, tiles: Sequence[np.ndarray], boxes: Sequence[tuple[int, int, int, int]]) -> np.ndarray:
    """The mean of the full view and of the tiles' mean where they overlap.

    full: float32 (H, W) in [0, 1]; tiles: float32 maps, one per box, each the box's size.
    Returns float32 (H, W): ``(full + mean of the tiles covering the pixel) / 2``.
    """
    acc = np.zeros(full.shape, np.float32)
    cnt = np.zeros(full.shape, np.float32)
    for t, (y0, y1, x0, x1) in zip(tiles, boxes):
        acc[y0:y1, x0:x1] += t
        cnt[y0:y1, x0:x1] += 1.0
    tiled = np.divide(acc, cnt, out=full.copy(), where=cnt > 0)
    return 0.5 * (full + tiled)


def zoom_boxes(faces: Sequence[Sequence[float]], h: int, w: int, scale: float = 3.0,
               min_side: int = 8) -> list[tuple[int, int, int, int]]:
    """Squares ``scale`` times each face box ``(x0, y0, x1, y1)`` (pixels), clipped to the picture,
    as ``(y0, y1, x0, x1)``; boxes smaller than ``min_side`` and near-duplicates (IoU > 0.5 with a
    box already kept) are dropped.

    Example:
        >>> zoom_boxes([(40, 40, 60, 60), (41, 41, 61, 61)], 100, 100)
        [(20, 80, 20, 80)]
    """
    out: list[tuple[int, int, int, int]] = []
    for x0, y0, x1, y1 in faces:
        side = scale * max(x1 - x0, y1 - y0)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        b = (max(0, round(cy - side / 2)), min(h, round(cy + side / 2)), max(0, round(cx - side / 2)), min(w, round(cx + side / 2)))
        if min(b[1] - b[0], b[3] - b[2]) < min_side:
            continue
        if any(box_iou((b[2], b[0], b[3], b[1]), (k[2], k[0], k[3], k[1])) > 0.5 for k in out):
            continue
        out.append(b)
    return out


def gate_multiplier(person: np.ndarray, grow: float = 0.03) -> np.ndarray:
    """Person probability (float32 (h, w) in [0, 1]) -> the skin multiplier in [0, 1].

    Grown by ``grow`` of the longer side (a grey-level dilation: hands held out and hair-line
    skin lie just outside a person mask) and doubled, so a pixel the person model gives even
    odds keeps its skin.
    """
    k = max(1, int(round(grow * max(person.shape)))) * 2 + 1
    grown = cv2.dilate(person, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    return np.clip(2.0 * grown, 0.0, 1.0).astype(np.float32)


def apply_gate(prob: np.ndarray, multiplier: np.ndarray, closeup: bool = True, closeup_share: float = 0.2,
               closeup_conf: float = 0.93, judge: np.ndarray | None = None) -> np.ndarray:
    """``prob * multiplier``, except on a confident close-up of skin, which is returned as it is.

    A person model does not see a person in a belly, a back or a hand filling the frame; a skin
    model is then sure of a large region (at least ``closeup_share`` of the pixels at >= 0.5, with
    a mean probability there of at least ``closeup_conf``), where its mistakes on walls and
    furniture are neither that large nor that sure. ``closeup=False`` gates every picture
    (classical methods: their probabilities are 0 or 1, sure of everything). ``judge`` (default
    ``prob``) is the map the close-up is judged on: the full view's, where tiles that each see a
    part of a belly would make the fused map unsure.

    prob, multiplier: float32 (h, w) in [0, 1] of the same shape. Returns float32 (h, w).
    """
    view = prob if judge is None else judge
    skin = view >= 0.5
    share = float(skin.mean())
    if closeup and share >= closeup_share and float(view[skin].mean()) >= closeup_conf:
        return prob
    return prob * multiplier


def _resize(m: np.ndarray, h: int, w: int) -> np.ndarray:
    return m if m.shape == (h, w) else cv2.resize(m, (w, h), interpolation=cv2.INTER_LINEAR)


class PersonGate:
    """The shipped person model as a gate: ``gate.maps(frames)`` -> multipliers at the model's size."""

    def __init__(self, options: MethodOptions | None = None) -> None:
        from streamseg.paths import model_dirs
        from streamseg.segment.onnx_model import ModelSpec, OnnxSegmenter

        for d in model_dirs():
            if (d / PERSON_MODEL).is_file():
                spec = ModelSpec.load(d / PERSON_MODEL)
                break
        else:
            raise MethodError(f"person gate: {PERSON_MODEL} not found in the model directories")
        opts = replace(options or MethodOptions(), tta="none", size=None, strict=True, extra={})
        self.model = OnnxSegmenter.from_spec(spec, opts)

    def maps(self, frames: Sequence[np.ndarray]) -> list[np.ndarray]:
        """BGR uint8 frames -> float32 multipliers (256 x 256) in [0, 1] (see :func:`gate_multiplier`)."""
        return [gate_multiplier(p) for p in self.model.segment_native_batch(frames)]

    def close(self) -> None:
        self.model.close()


class FaceFinder:
    """MediaPipe's full-range face detector (shipped as ONNX): face boxes of a picture and its tiles."""

    def __init__(self, options: MethodOptions | None = None) -> None:
        from streamseg.rois.blaze import FaceDetector

        opts = options or MethodOptions()
        self.detector = FaceDetector("full", provider=opts.provider, threads=opts.threads)

    def boxes(self, frame: np.ndarray, tiles: Sequence[tuple[int, int, int, int]] = ()) -> list[tuple[float, float, float, float]]:
        """Face boxes ``(x0, y0, x1, y1)`` in the pixels of BGR ``frame``, found in it and in each tile."""
        rgb = np.ascontiguousarray(frame[..., ::-1])
        found = [tuple(f.box) for f in self.detector.detect(rgb)]
        for y0, y1, x0, x1 in tiles:
            for f in self.detector.detect(rgb[y0:y1, x0:x1]):
                bx0, by0, bx1, by1 = f.box
                found.append((bx0 + x0, by0 + y0, bx1 + x0, by1 + y0))
        return found


class QualitySegmenter(Segmenter):
    """A skin segmenter run with a quality :class:`Plan` (the mirror view is the inner model's own).

    ``segment`` and ``segment_native`` keep the inner method's contracts; with tiles the native
    map is the frame-size fused map.
    """

    def __init__(self, inner: Segmenter, plan: Plan, gate: PersonGate | None, faces: FaceFinder | None = None) -> None:
        self.inner, self.plan, self.gate, self.faces = inner, plan, gate, faces
        self.name = inner.name
        self.description = inner.description
        self.kind = inner.kind
        self.fallback_from = getattr(inner, "fallback_from", None)
        self.tiles = plan.tiles and inner.kind == "model"

    @property
    def provider(self) -> str:  # type: ignore[override]
        return self.inner.provider

    def _gated(self, probs: list[np.ndarray], frames: Sequence[np.ndarray]) -> list[np.ndarray]:
        if self.gate is None:
            return probs
        closeup = self.kind == "model"
        return [apply_gate(p, _resize(g, *p.shape), closeup) for p, g in zip(probs, self.gate.maps(frames))]

    def _best(self, frame: np.ndarray) -> np.ndarray:
        h, w = frame.shape[:2]
        boxes = tile_boxes(h, w)
        zooms = zoom_boxes(self.faces.boxes(frame, boxes), h, w) if self.faces is not None else []
        crops = [frame[y0:y1, x0:x1] for y0, y1, x0, x1 in boxes + zooms]
        maps = self.inner.segment_batch([frame, *crops])
        fused = fuse_tiles(maps[0], maps[1:1 + len(boxes)], boxes)
        for z, (y0, y1, x0, x1) in zip(maps[1 + len(boxes):], zooms):
            fused[y0:y1, x0:x1] = 0.5 * (fused[y0:y1, x0:x1] + z)
        if self.gate is None:
            return fused
        # the gate of the full view, and of each tile where it sees a small person the full view misses
        gates = self.gate.maps([frame, *crops[:len(boxes)]])
        full = _resize(gates[0], h, w)
        tiled = np.zeros((h, w), np.float32)
        for g, (y0, y1, x0, x1) in zip(gates[1:], boxes):
            np.maximum(tiled[y0:y1, x0:x1], _resize(g, y1 - y0, x1 - x0), out=tiled[y0:y1, x0:x1])
        for y0, y1, x0, x1 in zooms:  # a face the detector found is a person, however small
            tiled[y0:y1, x0:x1] = 1.0
        return apply_gate(fused, np.maximum(full, tiled), self.kind == "model", judge=maps[0])

    def segment(self, frame: np.ndarray) -> np.ndarray:
        if self.tiles:
            return self._best(frame)
        return self._gated([self.inner.segment(frame)], [frame])[0]

    def segment_batch(self, frames: Sequence[np.ndarray]) -> list[np.ndarray]:
        if self.tiles:
            return [self._best(f) for f in frames]
        return self._gated(self.inner.segment_batch(frames), frames)

    def segment_native(self, frame: np.ndarray) -> np.ndarray:
        if self.tiles:
            return self._best(frame)
        return self._gated([self.inner.segment_native(frame)], [frame])[0]

    def segment_native_batch(self, frames: Sequence[np.ndarray]) -> list[np.ndarray]:
        if self.tiles:
            return [self._best(f) for f in frames]
        return self._gated(self.inner.segment_native_batch(frames), frames)

    def warmup(self, height: int = 480, width: int = 640) -> None:
        self.inner.warmup(height, width)
        if self.gate is not None:
            self.gate.maps([np.zeros((height, width, 3), np.uint8)])

    def reset(self) -> None:
        self.inner.reset()

    def close(self) -> None:
        self.inner.close()
        if self.gate is not None:
            self.gate.close()
        self.faces = None

    def __getattr__(self, name: str):
        # the pipeline reads model details (input size, batch limits) through the segmenter
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)


def with_quality(seg: Segmenter, quality: str, options: MethodOptions | None = None) -> Segmenter:
    """``seg`` wrapped for ``quality`` (see :data:`PLANS`); ``seg`` itself when nothing is added.

    The mirror view is not added here: :func:`~streamseg.segment.registry.create` passes it to
    the model as ``tta="flip"``.
    """
    plan = PLANS[check_quality(quality)]
    model = seg.kind == "model"
    if not (plan.gate or plan.tiles and model):
        return seg
    gate = PersonGate(options) if plan.gate else None
    faces = FaceFinder(options) if plan.zoom and plan.tiles and model else None
    return QualitySegmenter(seg, plan, gate, faces)
