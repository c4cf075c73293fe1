"""The staged pipeline: source -> segment -> smooth -> threshold -> ROIs -> render -> sinks.

Files run as a decode thread -> processing (this thread) -> encode thread, joined by bounded
queues so memory stays flat and no frame is ever dropped (cf. supervision's ``process_video``).
Live sources run newest-frame-wins: the capture thread keeps only the latest frame.

Example:
    >>> import numpy as np
    >>> from streamseg.frames import Frame
    >>> from streamseg.segment import create
    >>> proc = Processor(create("ellipse"), output_type="mask")
    >>> res = proc.process(Frame(np.zeros((4, 4, 3), np.uint8), index=0, time=0.0))
    >>> res.prob.dtype, res.mask.any(), res.rendered.shape
    (dtype('float32'), False, (4, 4, 3))
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
from typing import Any, Iterator, Sequence

import numpy as np

from streamseg import log
from streamseg.frames import Frame, FrameResult
from streamseg.render import draw_hud, render
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


class Processor:
    """Everything that happens to one frame between its source and its sinks.

    Args:
        segmenter: the method (BGR uint8 -> float32 probability).
        smoother: temporal smoother (``update(prob, frame)``, ``reset()``) or ``None``.
        threshold: probability at or above which a pixel is skin.
        output_type: what :func:`streamseg.render.render` draws (``None`` = render nothing).
        roi_stage: object with ``process(result) -> dict`` and ``reset()``, or ``None``.
        draw_rois: draw the ROI message onto the rendered picture.
    """

    def __init__(
        self,
        segmenter: Segmenter,
        smoother: Any | None = None,
        threshold: float = 0.5,
        output_type: str | None = "mask",
        roi_stage: Any | None = None,
        draw_rois: bool = False,
    ) -> None:
        self.segmenter = segmenter
        self.smoother = smoother
        self.threshold = float(threshold)
        self.output_type = output_type
        self.roi_stage = roi_stage
        self.draw_rois = draw_rois
        self.times = StageTimes()
        self._shape: tuple[int, int] | None = None

    def reset(self) -> None:
        """Drop all temporal state (new source, reconnect, scene cut)."""
        self.segmenter.reset()
        if self.smoother is not None:
            self.smoother.reset()
        if self.roi_stage is not None:
            self.roi_stage.reset()

    def process(self, frame: Frame) -> FrameResult:
        """Segment, smooth, threshold, extract ROIs and render one frame."""
        t0 = time.perf_counter()
        prob = self.segmenter.segment(frame.image)
        self.times.add("segment", time.perf_counter() - t0)
        return self._finish(frame, prob)

    def process_batch(self, frames: Sequence[Frame]) -> list[FrameResult]:
        """Like :meth:`process` for several frames with one batched inference."""
        if len(frames) == 1:
            return [self.process(frames[0])]
        t0 = time.perf_counter()
        probs = self.segmenter.segment_batch([f.image for f in frames])
        dt = (time.perf_counter() - t0) / len(frames)
        out = []
        for f, p in zip(frames, probs):
            self.times.add("segment", dt)
            out.append(self._finish(f, p))
        return out

    def _finish(self, frame: Frame, prob: np.ndarray) -> FrameResult:
        shape = frame.image.shape[:2]
        if frame.reset or (self._shape is not None and shape != self._shape):
            if self.smoother is not None:
                self.smoother.reset()
            self.segmenter.reset()  # the ROI stage resets itself on frame.reset
        self._shape = shape
        timings = {}
        if self.smoother is not None:
            t0 = time.perf_counter()
            prob = self.smoother.update(prob, frame.image)
            timings["smooth"] = time.perf_counter() - t0
        mask = prob >= self.threshold
        result = FrameResult(frame=frame, prob=prob, mask=mask, timings=timings)
        if self.roi_stage is not None:
            t0 = time.perf_counter()
            result.rois = self.roi_stage.process(result)
            timings["rois"] = time.perf_counter() - t0
        if self.output_type is not None:
            t0 = time.perf_counter()
            result.rendered = render(frame.image, mask, self.output_type)
            result.rendered_type = self.output_type
            if self.draw_rois and result.rois is not None:
                from streamseg.rois import draw_rois

                draw_rois(result.rendered, result.rois)
            timings["render"] = time.perf_counter() - t0
        for k, v in timings.items():
            self.times.add(k, v)
        return result


@dataclass
class RunReport:
    """What a run did: frames in and out, time, per-stage timings, and what went wrong."""

    frames_in: int = 0
    frames_out: int = 0
    frames_lost: int = 0
    decode_errors: int = 0
    dropped: int = 0
    seconds: float = 0.0
    interrupted: bool = False
    output: Path | None = None
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


def _batches(frames: Iterator[Frame], n: int) -> Iterator[list[Frame]]:
    batch: list[Frame] = []
    for f in frames:
        batch.append(f)
        if len(batch) >= n:
            yield batch
            batch = []
    if batch:
        yield batch


def run_frames(
    frames: Iterator[Frame],
    processor: Processor,
    sinks: Sequence[Any] = (),
    stop: threading.Event | None = None,
    batch: int = 1,
    on_frame: Any | None = None,
) -> RunReport:
    """Push every frame of a (file) iterator through ``processor`` into ``sinks``; drop none.

    Each sink has ``write(result)``; ``on_frame(result)`` is called after the sinks (progress).
    Stops early, with ``report.interrupted``, when ``stop`` is set.
    """
    stop = stop or threading.Event()
    report = RunReport()
    t_start = time.perf_counter()
    for group in _batches(frames, max(1, batch)):
        report.frames_in += len(group)
        for result in processor.process_batch(group):
            t0 = time.perf_counter()
            for sink in sinks:
                sink.write(result)
            processor.times.add("sinks", time.perf_counter() - t0)
            report.frames_out += 1
            if on_frame is not None:
                on_frame(result)
        if stop.is_set():
            report.interrupted = True
            break
    report.seconds = time.perf_counter() - t_start
    report.stages = processor.times.summary()
    return report


class EncoderSink:
    """Renders each result as ``output_type`` and sends it to a
    :class:`~streamseg.sinks.encoder.VideoEncoder`, keeping the source's timestamps (``pts``
    for files, capture time for live sources). Overlays get the ROIs drawn when present."""

    def __init__(self, encoder, output_type: str = "mask", use_pts: bool = True) -> None:
        self.encoder = encoder
        self.output_type = output_type
        self.use_pts = use_pts

    def write(self, result: FrameResult) -> None:
        f = result.frame
        image = result.rendered
        if image is None or result.rendered_type != self.output_type:
            image = render(f.image, result.mask, self.output_type)
            if self.output_type == "overlay" and result.rois is not None:
                from streamseg.rois import draw_rois

                draw_rois(image, result.rois)
        if self.use_pts and f.pts is not None:
            self.encoder.write(image, pts=f.pts)
        else:
            self.encoder.write(image, time_s=f.time)


class RoiSink:
    """Sends each frame's ROI message to the ROI sinks (JSONL, OSC, WebSocket)."""

    def __init__(self, roi_sinks) -> None:
        self.roi_sinks = roi_sinks

    def write(self, result: FrameResult) -> None:
        if result.rois is not None:
            self.roi_sinks.send(result.rois)


def hud_lines(processor: Processor, fps: float, latency_ms: float) -> list[str]:
    """The live window's HUD: method, provider, fps, latency."""
    seg = processor.segmenter
    name = seg.name + (f" (fallback for {seg.fallback_from})" if seg.fallback_from else "")
    return [f"method: {name}", f"provider: {seg.provider}", f"{fps:5.1f} fps  latency {latency_ms:5.1f} ms"]


def run_live(
    source,
    processor: Processor,
    sinks: Sequence[Any] = (),
    window: Any | None = None,
    stop: threading.Event | None = None,
    max_frames: int | None = None,
    duration_s: float | None = None,
) -> RunReport:
    """Process a :class:`~streamseg.capture.live.LiveSource` until it ends, ``stop`` is set,
    the window is closed (q or Esc), ``max_frames`` are processed or ``duration_s`` passes."""
    stop = stop or threading.Event()
    report = RunReport()
    t_start = time.perf_counter()
    fps_ema = 0.0
    last = t_start
    while not stop.is_set():
        frame = source.read(timeout=0.25)
        if frame is None:
            if source.ended:
                break
            continue
        result = processor.process(frame)
        report.frames_in += 1
        for sink in sinks:
            sink.write(result)
        now = time.perf_counter()
        latency = 1000 * (now - frame.captured_at)
        report.latency_ms.append(latency)
        dt = now - last
        last = now
        fps_ema = (1 / dt if fps_ema == 0 else 0.9 * fps_ema + 0.1 / dt) if dt > 0 else fps_ema
        report.frames_out += 1
        if window is not None:
            shown = result.rendered.copy()
            draw_hud(shown, hud_lines(processor, fps_ema, latency))
            if not window.show(shown):
                break
        if max_frames is not None and report.frames_out >= max_frames:
            break
        if duration_s is not None and now - t_start >= duration_s:
            break
    report.interrupted = stop.is_set()
    report.seconds = time.perf_counter() - t_start
    report.dropped = source.dropped
    report.stages = processor.times.summary()
    return report
