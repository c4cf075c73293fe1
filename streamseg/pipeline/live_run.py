"""Live runs: newest frame wins (the capture thread keeps only the latest frame), results go to
any number of sinks (window, recording, ROI stream, virtual camera), and the run owns their
finish-or-abort policy: it closes what it opens, never the caller's sinks.

Example:
    >>> import threading
    >>> from streamseg.pipeline.spec import RunSpec
    >>> from streamseg.paths import demo_clip
    >>> report = run(demo_clip(), RunSpec.make(method="ellipse", max_frames=3))   # doctest: +SKIP
    >>> report.frames_out                                                        # doctest: +SKIP
    3
"""

from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path
from typing import Any, Sequence

from streamseg import log
from streamseg.errors import ConfigError
from streamseg.pipeline.processor import Processor, RunReport, stop_on_signals


def run_live(
    source,
    processor: Processor,
    sinks: Sequence[Any] = (),
    stop: threading.Event | None = None,
    max_frames: int | None = None,
    duration_s: float | None = None,
) -> RunReport:
    """Process a :class:`~streamseg.capture.live.LiveSource` until it ends, ``stop`` is set, a
    sink ends the run (:class:`~streamseg.sinks.base.EndOfRun`: the window was closed, q or
    Esc), ``max_frames`` are processed or ``duration_s`` passes. Sinks are written, not closed
    (see :func:`run`)."""
    from streamseg.sinks.base import EndOfRun

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
        ended = False
        try:
            for sink in sinks:
                sink.write(result)
        except EndOfRun:
            ended = True
        now = time.perf_counter()
        processor.times.add("sinks", now - t0)
        report.latency_ms.append(1000 * (now - frame.captured_at))
        report.frames_out += 1
        if ended:
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


def run(
    source: int | str | Path,
    spec: Any,
    *,
    show: bool = False,
    record: Path | str | None = None,
    sinks: Sequence[Any] = (),
    stop: threading.Event | None = None,
    overwrite: bool = False,
) -> RunReport:
    """A live run of ``spec`` (:class:`~streamseg.pipeline.spec.RunSpec`; its ``live`` part says
    what to ask the camera for and when to stop): cheap checks first, the source opened (a
    missing camera is reported before a model loads), then
    :func:`~streamseg.pipeline.build.build`, then frames until the end.

    Args:
        source: camera index, ``/dev/videoN``, stream URL or a video file.
        show: open a window (``q``/Esc ends the run).
        record: a video file of what is shown, or ``None``.
        sinks: the caller's sinks (written, never closed here).
        stop: set it to stop (SIGINT/SIGTERM also do).
        overwrite: replace an existing recording or stats file.

    Returns:
        The run report (``report.outputs["record"]`` is the recording's final path).
    """
    from streamseg.capture.live import CaptureRequest, LiveSource
    from streamseg.pipeline import outputs as out
    from streamseg.pipeline.build import build, open_roi_sinks, stats_sinks
    from streamseg.sinks.output_path import prepare_output, released_on_error

    live = spec.live
    types = out.check_output_types(spec.output.types_or(["overlay"]))
    if len(types) != 1:
        raise ConfigError(f"--output-type {','.join(types)!r}: a live run shows one output type")
    output_type = types[0]
    if live.virtual_cam:
        from streamseg.sinks.virtual_cam import _import_pyvirtualcam

        _import_pyvirtualcam()  # missing extra: one line before anything loads
    stats_csv = spec.output.stats_csv
    live_inputs = [Path(source)] if isinstance(source, (str, Path)) and Path(source).is_file() else []
    recorded = [("--record", Path(record))] if record is not None else []
    out.check_run_outputs(recorded, stats_csv, spec.rois.sinks, inputs=live_inputs, overwrite=overwrite)
    rec = prepare_output(out.check_video_output(output_type, Path(record)), overwrite=overwrite) if record is not None else None
    csv_path = prepare_output(stats_csv, overwrite=overwrite) if stats_csv is not None else None
    with released_on_error(rec, csv_path):
        if show:
            from streamseg.sinks.window import display_available

            if not display_available():
                log.warn("no display found (DISPLAY is not set); running without a window")
                show = False
        request = CaptureRequest(width=live.width, height=live.height, fps=live.fps, mjpg=live.mjpg, timeout_s=live.timeout)
        src = LiveSource(source, request, reconnect=live.reconnect, loop=live.loop)
        info = src.open(start=False)  # a missing camera is reported before a model loads
        quiet = not (show or rec or spec.rois.sinks or sinks or live.virtual_cam or csv_path or spec.output.alert_above is not None)
        if quiet:
            log.warn("no window, no --record and no --rois: results go nowhere (use --max-frames or Ctrl-C to stop)")
        with contextlib.ExitStack() as owned:
            owned.callback(src.close)
            parts = owned.enter_context(build(spec, output_types=types))
            roi_sinks = owned.enter_context(open_roi_sinks(spec.rois.sinks, source=info.source))
            extra = owned.enter_context(stats_sinks(spec, csv_path, roi_sinks))
            return _run_source(src, parts, output_type, show=show, record=rec, sinks=[roi_sinks, *extra, *sinks], stop=stop)


def _run_source(
    source: Any,
    parts: Any,
    output_type: str,
    show: bool,
    record: Path | None,
    sinks: Sequence[Any],
    stop: threading.Event | None,
) -> RunReport:
    """Open the sinks of the run itself (recording, virtual camera, status line, window)
    around ``parts`` and the given ``sinks`` and run until the end; those it opened are closed,
    a recording finished (or kept as ``.partial`` when the run failed)."""
    from streamseg.effects import output_size
    from streamseg.pipeline.outputs import HudText
    from streamseg.sinks.video import VideoSink
    from streamseg.sinks.window import Window, WindowSink

    spec, live = parts.spec, parts.spec.live
    info = source.info
    req = source.request
    asked = "x".join(str(v) for v in (req.width, req.height) if v) or "default size"
    log.info(
        f"source: {info.source}: requested {asked}{f' @ {req.fps:g} fps' if req.fps else ''}{' MJPG' if req.mjpg else ''}; "
        f"granted {info.width}x{info.height} @ {float(info.fps):.3g} fps ({source.fourcc})"
    )
    if parts.roi_stage is not None:
        parts.roi_stage.warmup(info.height, info.width)
    processor = parts.processor((output_type,))
    hud = HudText(parts.segmenter)
    owned: list[Any] = []
    video: Any | None = None
    report: RunReport | None = None
    try:
        if record is not None:
            video = VideoSink(record, output_type, info.width, info.height, info.fps, time_base=info.time_base,
                              use_pts=False, hud=hud if spec.output.hud else None)
            owned.append(video)
        if live.virtual_cam:
            from streamseg.sinks.virtual_cam import VirtualCamera, VirtualCamSink

            w, h = output_size(output_type, info.width, info.height)
            cam = VirtualCamera(
                max(2, w - w % 2), max(2, h - h % 2), float(info.fps or 30), device=live.virtual_cam_device,
                backend=live.virtual_cam_backend, background=spec.output.effect.background or (0, 0, 0),
            )
            owned.append(VirtualCamSink(output_type, camera=cam))
            log.info(f"virtual camera: {cam.device} ({cam.width}x{cam.height} @ {cam.fps:g} fps, {cam.pixel_format})")
        if live.status and not show:
            from streamseg.sinks.status import StatusLine

            owned.append(StatusLine(source, interval_s=live.status_interval))
        window = [WindowSink(Window(f"streamseg - {parts.segmenter.name}"), output_type, hud=hud)] if show else []
        owned += window
        with stop_on_signals(stop or threading.Event()) as ev:
            # the window last: quitting it ends the run once every other sink has the frame
            every = [s for s in owned if s not in window] + list(sinks) + window
            report = run_live(source, processor, every, stop=ev, max_frames=live.max_frames, duration_s=live.duration)
    finally:
        for sink in owned:
            if sink is not video:
                sink.close()
        if video is not None:
            if report is None:
                kept = video.abort(keep_partial=True)
                if kept:
                    log.warn(f"recording kept as {kept}")
            else:
                try:
                    written = video.close()
                except KeyboardInterrupt:  # a second Ctrl-C while finalising: keep what was recorded
                    kept = video.abort(keep_partial=True)
                    if kept:
                        log.warn(f"recording kept as {kept}")
                    raise
                report.outputs["record"] = written.path
                report.output = written.path
                log.info(f"recorded {written.written} frames to {written.path}")
    lat = sorted(report.latency_ms)
    med = lat[len(lat) // 2] if lat else 0.0
    log.info(
        f"{report.frames_out} frames in {report.seconds:.1f} s ({report.fps:.1f} fps), "
        f"median latency {med:.1f} ms, {report.dropped} stale frames skipped, {report.reconnects} reconnects"
    )
    return report
