"""What happens to one frame between its source and its sinks: reset -> segment -> smooth ->
threshold -> ROIs -> render (once per output type).

Example:
    >>> import numpy as np
    >>> from streamseg.frames import Frame
    >>> from streamseg.segment import create
    >>> proc = Processor(create("ellipse"), output_types=("mask", "overlay"))
    >>> res = proc.process(Frame(np.zeros((4, 4, 3), np.uint8), index=0, time=0.0))
    >>> res.prob.dtype, res.mask.any(), res.pictures["mask"].shape, res.pictures["overlay"].shape
    (dtype('float32'), False, (4, 4), (4, 4, 3))
"""

from __future__ import annotations

import contextlib
import signal
import statistics
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import cv2
import numpy as np

from streamseg.frames import Frame, FrameResult
from streamseg.segment.base import Segmenter


class StageTimes:
    """Per-stage wall times (seconds) over a run, summarised for ``--stats``."""

    def __init__(self) -> None:
        self.samples: dict[str, list[float]] = defaultdict(list)

    def add(self, stage: str, seconds: float) -> None:
        self.samples[stage].append(seconds)

    def summary(self) -> dict[str, dict[str, float]]:
        """stage -> {"mean_ms", "median_ms", "p90_ms", "n"}."""
        out = {}
        for stage, xs in self.samples.items():
            s = sorted(xs)
            out[stage] = {
                "mean_ms": 1000 * statistics.fmean(s),
                "median_ms": 1000 * statistics.median(s),
                "p90_ms": 1000 * s[min(len(s) - 1, int(0.9 * len(s)))],
                "n": len(s),
            }
        return out


def fit_to_frame(prob: np.ndarray, h: int, w: int) -> np.ndarray:
    """A native probability (float32 (h', w')) as the smoother takes it for an (h, w) frame: as it
    is when it is no larger, else resized to the frame (a small frame, a big model)."""
    if prob.shape[0] > h or prob.shape[1] > w:
        return np.clip(cv2.resize(prob, (w, h), interpolation=cv2.INTER_LINEAR), 0.0, 1.0)
    return prob


def upsample_to_frame(prob: np.ndarray, h: int, w: int) -> np.ndarray:
    """A probability smoothed at a model's resolution, at the (h, w) frame size: one bilinear
    resize (``cv2.INTER_LINEAR``), the input itself when it is already that size."""
    return prob if prob.shape == (h, w) else cv2.resize(prob, (w, h), interpolation=cv2.INTER_LINEAR)


class Processor:
    """Everything that happens to one frame between its source and its sinks.

    The processor is the one owner of temporal state: before a frame that starts anew (its
    first frame, ``frame.reset``: new source, reconnect; a frame of another size; the first
    frame of a new scene) is segmented, it resets the segmenter, the smoother and the ROI stage
    together.

    With a smoother, the segmenter's native probability (:meth:`Segmenter.segment_native`: a
    model's 256 x 256 map) is smoothed at its own size and upsampled once to the frame
    (``cv2.INTER_LINEAR``, timed as the ``upsample`` stage). Without one (``--smooth none``),
    or with a smoother that passes the probability through, the frame-size :meth:`Segmenter.segment`
    runs as before. Either way ``result.prob`` is float32 (H, W) at frame size.

    Args:
        segmenter: the method (BGR uint8 (H, W, 3) -> float32 (H, W) probability in [0, 1]).
        smoother: temporal smoother (``update(prob, frame)``, ``reset()``) or ``None``.
        threshold: probability at or above which a pixel is skin.
        output_types: the pictures rendered for every frame into ``result.pictures``, timed
            as the ``render`` stage.
        roi_stage: object with ``process(result) -> dict``, ``reset()``, or ``None``.
        effects: output type -> configured :class:`~streamseg.effects.base.Effect`; a type
            without one gets the defaults (:func:`streamseg.effects.make_effect`).
        scene_cut: the :class:`~streamseg.smooth.scenecut.SceneCutDetector` (``True``: one
            with the defaults of :data:`streamseg.smooth.config.SCHEMA`; ``False``: none).
    """

    def __init__(
        self,
        segmenter: Segmenter,
        smoother: Any | None = None,
        threshold: float = 0.5,
        output_types: Sequence[str] | str | None = (),
        roi_stage: Any | None = None,
        effects: Mapping[str, Any] | None = None,
        scene_cut: Any | bool = True,
    ) -> None:
        from streamseg.effects import make_effect

        self.segmenter = segmenter
        self.smoother = smoother
        self.threshold = float(threshold)
        self.output_types = (output_types,) if isinstance(output_types, str) else tuple(output_types or ())
        self.effects = {t: (effects or {}).get(t) or make_effect(t) for t in self.output_types}
        self.roi_stage = roi_stage
        if scene_cut is True:
            from streamseg.smooth.config import SCHEMA
            from streamseg.smooth.scenecut import SceneCutDetector

            sc = SCHEMA["scene_cut"]
            scene_cut = SceneCutDetector(sc["min_diff"].default, sc["thumb_width"].default)
        self.scene_cut = scene_cut or None
        #: scene cuts seen (each reset every stage)
        self.cuts = 0
        self.times = StageTimes()
        self._shape: tuple[int, int] | None = None

    @property
    def native(self) -> bool:
        """Whether the segmenter's native map is smoothed (then upsampled once) rather than the frame-size one."""
        return _smooths(self.smoother) and hasattr(self.segmenter, "segment_native")

    def reset(self) -> None:
        """Drop all temporal state (new source, reconnect, scene cut): the segmenter's history,
        the smoother's and the ROI tracker's, together."""
        self.segmenter.reset()
        if self.smoother is not None:
            self.smoother.reset()
        if self.roi_stage is not None:
            self.roi_stage.reset()

    def _starts_anew(self, frame: Frame) -> bool:
        """Whether ``frame`` starts anew: the first frame this processor sees, a frame marked
        ``reset`` (new source, reconnect), one of another size, or the first of a new scene
        (:class:`~streamseg.smooth.scenecut.SceneCutDetector`). Called once per frame, in order."""
        shape = frame.image.shape[:2]
        anew = frame.reset or self._shape is None or shape != self._shape
        self._shape = shape
        if self.scene_cut is not None:
            if anew:
                self.scene_cut.reset()
            if self.scene_cut.update(frame.image) and not anew:
                self.cuts += 1
                anew = True
        return anew

    def process(self, frame: Frame) -> FrameResult:
        """Reset if the frame starts anew, then segment, smooth, threshold, extract ROIs and render."""
        if self._starts_anew(frame):
            self.reset()
        t0 = time.perf_counter()
        if self.native:
            prob = self.segmenter.segment_native(frame.image)
        else:
            prob = self.segmenter.segment(frame.image)
        self.times.add("segment", time.perf_counter() - t0)
        return self._finish(frame, prob)

    def process_batch(self, frames: Sequence[Frame]) -> list[FrameResult]:
        """Like :meth:`process` for several frames with batched inference: the frames are
        segmented in runs that end before each frame that starts anew, so every reset comes
        before the frame that needs it is segmented."""
        if len(frames) == 1:
            return [self.process(frames[0])]
        anew = [self._starts_anew(f) for f in frames]
        out: list[FrameResult] = []
        start = 0
        for end in range(1, len(frames) + 1):
            if end < len(frames) and not anew[end]:
                continue
            if anew[start]:
                self.reset()
            group = frames[start:end]
            t0 = time.perf_counter()
            images = [f.image for f in group]
            probs = self.segmenter.segment_native_batch(images) if self.native else self.segmenter.segment_batch(images)
            dt = (time.perf_counter() - t0) / len(group)
            for f, p in zip(group, probs):
                self.times.add("segment", dt)
                out.append(self._finish(f, p))
            start = end
        return out

    def _finish(self, frame: Frame, prob: np.ndarray) -> FrameResult:
        timings = {}
        h, w = frame.image.shape[:2]
        if self.smoother is not None:
            prob = fit_to_frame(prob, h, w)
            t0 = time.perf_counter()
            prob = self.smoother.update(prob, frame.image)
            timings["smooth"] = time.perf_counter() - t0
            if prob.shape != (h, w):
                # smoothed at the model's resolution: upsample once
                t0 = time.perf_counter()
                prob = upsample_to_frame(prob, h, w)
                timings["upsample"] = time.perf_counter() - t0
        mask = prob >= self.threshold
        result = FrameResult(frame=frame, prob=prob, mask=mask, timings=timings)
        if self.roi_stage is not None:
            t0 = time.perf_counter()
            result.rois = self.roi_stage.process(result)
            timings["rois"] = time.perf_counter() - t0
        if self.output_types:
            from streamseg.effects import render_result

            t0 = time.perf_counter()
            for t in self.output_types:
                result.pictures[t] = render_result(self.effects[t], result)
            timings["render"] = time.perf_counter() - t0
        for k, v in timings.items():
            self.times.add(k, v)
        return result


def _smooths(smoother: Any | None) -> bool:
    """Whether ``smoother`` changes the probability (``none`` passes it through as it is)."""
    if smoother is None:
        return False
    return getattr(smoother, "spec", None) != "none"


@dataclass
class RunReport:
    """What a run did: frames in and out, time, per-stage timings, and what went wrong."""

    frames_in: int = 0
    frames_out: int = 0
    frames_lost: int = 0
    decode_errors: int = 0
    dropped: int = 0
    reconnects: int = 0
    seconds: float = 0.0
    interrupted: bool = False
    output: Path | None = None
    #: output type -> written file (file runs, live recordings)
    outputs: dict[str, Path] = field(default_factory=dict)
    stages: dict[str, dict[str, float]] = field(default_factory=dict)
    latency_ms: list[float] = field(default_factory=list)
    #: per-frame mean ms of work done in other threads (decode, encode)
    extra_ms: dict[str, float] = field(default_factory=dict)

    @property
    def fps(self) -> float:
        return self.frames_out / self.seconds if self.seconds > 0 else 0.0


@contextlib.contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[threading.Event]:
    """SIGINT/SIGTERM set ``stop`` so the run ends cleanly (a second Ctrl-C aborts at once)."""
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(signum, _frame):
        if stop.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        stop.set()

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for s, h in old.items():
            signal.signal(s, h)
