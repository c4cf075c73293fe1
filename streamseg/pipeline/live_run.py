"""Live runs: newest frame wins (the capture thread keeps only the latest frame), results go to
any number of sinks (window, recording, ROI stream), and the run owns their finish-or-abort policy.

Example:
    >>> from streamseg.segment import create
    >>> hud_lines(Processor(create("ellipse")), 30.0, 12.5)[0]
    'method: ellipse'
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, Mapping, Sequence

from streamseg import log
from streamseg.pipeline.processor import Processor, RunReport, stop_on_signals


def hud_lines(processor: Processor, fps: float, latency_ms: float) -> list[str]:
    """The live window's HUD: method, provider, fps, latency."""
    seg = processor.segmenter
    name = seg.name + (f" (fallback for {seg.fallback_from})" if seg.fallback_from else "")
    return [f"method: {name}", f"provider: {seg.provider}", f"{fps:5.1f} fps  latency {latency_ms:5.1f} ms"]


class _Hud:
    """fps (EMA) and latency of the frames shown, as HUD lines for a window sink."""

    def __init__(self, processor: Processor) -> None:
        self.processor = processor
        self.fps = 0.0
        self.last = time.perf_counter()

    def __call__(self, result) -> list[str]:
        now = time.perf_counter()
        dt, self.last = now - self.last, now
        if dt > 0:
            self.fps = 1 / dt if self.fps == 0 else 0.9 * self.fps + 0.1 / dt
        return hud_lines(self.processor, self.fps, 1000 * (now - result.frame.captured_at))


def run_live(
    source,
    processor: Processor,
    sinks: Sequence[Any] = (),
    stop: threading.Event | None = None,
    max_frames: int | None = None,
    duration_s: float | None = None,
) -> RunReport:
    """Process a :class:`~streamseg.capture.live.LiveSource` until it ends, ``stop`` is set, a
    sink is no longer ``open`` (the window was closed: q or Esc), ``max_frames`` are processed
    or ``duration_s`` passes. Sinks are written, not closed (see :func:`live_run`)."""
    stop = stop or threading.Event()
    report = RunReport()
    if hasattr(source, "start"):
        source.start()  # the capture thread starts when the run does (nothing goes stale before)
    t_start = time.perf_counter()
    while not stop.is_set():
        frame = source.read(timeout=0.25)
        if frame is None:
            if source.ended:
                break
            continue
        result = processor.process(frame)
        report.frames_in += 1
        t0 = time.perf_counter()
        for sink in sinks:
            sink.write(result)
        now = time.perf_counter()
        processor.times.add("sinks", now - t0)
        report.latency_ms.append(1000 * (now - frame.captured_at))
        report.frames_out += 1
        if not all(getattr(s, "open", True) for s in sinks):
            break
        if max_frames is not None and report.frames_out >= max_frames:
            break
        if duration_s is not None and now - t_start >= duration_s:
            break
    report.interrupted = stop.is_set()
    report.seconds = time.perf_counter() - t_start
    report.dropped = source.dropped
    report.reconnects = getattr(source, "reconnects", 0)
    report.stages = processor.times.summary()
    return report


def live_run(
    source,
    segmenter,
    smoother: Any | None = None,
    threshold: float = 0.5,
    output_type: str = "overlay",
    show: bool = False,
    record: Any | None = None,
    roi_stage: Any | None = None,
    roi_sinks: Any | None = None,
    sinks: Sequence[Any] = (),
    max_frames: int | None = None,
    duration_s: float | None = None,
    stop: threading.Event | None = None,
    renderers: Mapping[str, Callable[[Any], Any]] | None = None,
    hud: bool = False,
    status: bool = False,
    status_interval: float = 10.0,
    virtual_cam: bool = False,
    virtual_cam_device: str | None = None,
    virtual_cam_backend: str | None = None,
    background: tuple[int, int, int] | None = None,
) -> RunReport:
    """Open ``source`` (a :class:`~streamseg.capture.live.LiveSource`), assemble the sinks and run
    until the end; every sink is closed, a recording finished (or kept as ``.partial`` when the
    run failed).

    Args:
        source: the live source, not yet opened.
        segmenter, smoother, threshold, roi_stage: the processing.
        output_type: what the window and the recording show.
        show: open a window (``q``/Esc ends the run).
        record: path of a recording (validated with ``prepare_output``), or ``None``.
        roi_sinks: :class:`~streamseg.rois.RoiSinks` for the ROI messages, or ``None``.
        sinks: more :class:`~streamseg.sinks.base.Sink` objects (the caller closes them).
        max_frames, duration_s, stop: when to end.
        renderers: output type -> ``FrameResult -> picture`` (:func:`streamseg.pipeline.outputs.renderers`).
        hud: burn the HUD (method, fps, latency, skin fraction) into the recording.
        status: a :class:`~streamseg.sinks.status.StatusLine` on stderr (each second on a
            terminal, else every ``status_interval`` seconds).
        virtual_cam, virtual_cam_device, virtual_cam_backend: send the output to a virtual camera (opened here, at the
            output's size and the source's fps, so a missing backend fails before the first frame);
            ``background``: BGR colour an alpha output is composited over there (default black).

    Returns:
        The run report (``report.outputs["record"]`` is the recording's final path).
    """
    from streamseg.effects import output_size
    from streamseg.pipeline.outputs import HudText, open_video_sink
    from streamseg.pipeline.outputs import renderers as make_renderers
    from streamseg.sinks.window import Window, WindowSink

    info = source.info if getattr(source, "info", None) is not None else source.open(start=False)
    req = source.request
    asked = "x".join(str(v) for v in (req.width, req.height) if v) or "default size"
    log.info(
        f"source: {info.source}: requested {asked}{f' @ {req.fps:g} fps' if req.fps else ''}{' MJPG' if req.mjpg else ''}; "
        f"granted {info.width}x{info.height} @ {float(info.fps):.3g} fps ({source.fourcc})"
    )
    if roi_sinks is not None and not roi_sinks.source:
        roi_sinks.source = info.source
    if roi_stage is not None:
        roi_stage.warmup(info.height, info.width)
    render = dict(renderers) if renderers is not None else make_renderers([output_type])
    processor = Processor(segmenter, smoother, threshold, output_types=(output_type,), roi_stage=roi_stage, renderers=render)
    owned: list[Any] = []
    video: Any | None = None
    report: RunReport | None = None
    try:
        if record is not None:
            video = open_video_sink(
                output_type, record, info.width, info.height, info.fps, render[output_type],
                time_base=info.time_base, use_pts=False, hud=HudText(segmenter) if hud else None,
            )
            owned.append(video)
        if virtual_cam:
            from streamseg.sinks.virtual_cam import VirtualCamera, VirtualCamSink

            w, h = output_size(output_type, info.width, info.height)
            cam = VirtualCamera(
                max(2, w - w % 2), max(2, h - h % 2), float(info.fps or 30), device=virtual_cam_device,
                backend=virtual_cam_backend,
                background=background or (0, 0, 0),
            )
            owned.append(VirtualCamSink(render[output_type], open_camera=lambda *_: cam))
            owned[-1].camera = cam
            log.info(f"virtual camera: {cam.device} ({cam.width}x{cam.height} @ {cam.fps:g} fps, {cam.pixel_format})")
        if status:
            from streamseg.sinks.status import StatusLine

            owned.append(StatusLine(source, interval_s=status_interval))
        if roi_sinks is not None:
            owned.append(roi_sinks)
        if show:
            owned.append(WindowSink(Window(f"streamseg - {segmenter.name}"), output_type, hud=_Hud(processor)))
        with stop_on_signals(stop or threading.Event()) as ev:
            report = run_live(source, processor, [*owned, *sinks], stop=ev, max_frames=max_frames, duration_s=duration_s)
    finally:
        source.close()
        if roi_stage is not None:
            roi_stage.close()
        for sink in owned:
            if sink is video:
                continue
            sink.close()
        if video is not None:
            if report is None:
                kept = video.abort(keep_partial=True)
                if kept:
                    log.warn(f"recording kept as {kept}")
            else:
                try:
                    video.close()
                except KeyboardInterrupt:  # a second Ctrl-C while finalising: keep what was recorded
                    kept = video.abort(keep_partial=True)
                    if kept:
                        log.warn(f"recording kept as {kept}")
                    raise
                report.outputs["record"] = video.path
                report.output = video.path
                log.info(f"recorded {video.encoder.frames_written} frames to {video.path}")
    lat = sorted(report.latency_ms)
    med = lat[len(lat) // 2] if lat else 0.0
    log.info(
        f"{report.frames_out} frames in {report.seconds:.1f} s ({report.fps:.1f} fps), "
        f"median latency {med:.1f} ms, {report.dropped} stale frames skipped, {report.reconnects} reconnects"
    )
    return report
