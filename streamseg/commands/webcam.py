"""``streamseg webcam``: live skin segmentation from a camera or a network stream."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated, Optional

import typer

from streamseg.commands.common import (
    DEFAULT_METHOD,
    ConfigOpt,
    HandsOpt,
    MethodOpt,
    OverwriteOpt,
    ProviderOpt,
    RoiOptionOpt,
    RoisOpt,
    SizeOpt,
    SmoothOpt,
    SmoothParamOpt,
    StatsOpt,
    StrictOpt,
    ThreadsOpt,
    ThresholdOpt,
)


def command(
    source: Annotated[str, typer.Option("--source", "-s", help="Camera index, /dev/videoN, or rtsp:// / http:// URL.")] = "0",
    method: MethodOpt = DEFAULT_METHOD,
    show: Annotated[bool, typer.Option("--show/--no-show", help="Show the live window (q or Esc quits).")] = True,
    record: Annotated[Optional[Path], typer.Option("--record", "-r", help="Record the output to this video file.")] = None,
    output_type: Annotated[str, typer.Option("--output-type", "-T", help="What the window and recording show: mask, overlay, cutout, side-by-side.")] = "overlay",
    width: Annotated[Optional[int], typer.Option("--width", min=16, help="Requested capture width.")] = None,
    height: Annotated[Optional[int], typer.Option("--height", min=16, help="Requested capture height.")] = None,
    fps: Annotated[Optional[float], typer.Option("--fps", min=1, help="Requested capture rate.")] = None,
    mjpg: Annotated[bool, typer.Option("--mjpg/--no-mjpg", help="Ask the camera for MJPG (needed for 720p30 on most webcams).")] = True,
    reconnect: Annotated[bool, typer.Option("--reconnect/--no-reconnect", help="Reopen the source with backoff when it stops sending.")] = True,
    timeout: Annotated[float, typer.Option("--timeout", min=0.1, help="Seconds to wait for a stream to open or send a frame.")] = 5.0,
    threshold: ThresholdOpt = 0.5,
    smooth: SmoothOpt = None,
    smooth_param: SmoothParamOpt = None,
    provider: ProviderOpt = "auto",
    threads: ThreadsOpt = 0,
    size: SizeOpt = None,
    strict: StrictOpt = False,
    rois: RoisOpt = None,
    hands: HandsOpt = False,
    roi_option: RoiOptionOpt = None,
    config: ConfigOpt = None,
    max_frames: Annotated[Optional[int], typer.Option("--max-frames", min=1, help="Stop after this many frames.")] = None,
    duration: Annotated[Optional[float], typer.Option("--duration", min=0.1, help="Stop after this many seconds.")] = None,
    overwrite: OverwriteOpt = False,
    stats: StatsOpt = False,
) -> None:
    """Segment skin live from a webcam, a device or an IP camera stream.

    The capture thread keeps only the newest frame (latency first). Ctrl-C or SIGTERM end the
    run cleanly; the recording is then finalised with every processed frame.

    Examples:

        streamseg webcam --model dlmv

        streamseg webcam --source 1 --width 1280 --height 720 --fps 30 --record me.mp4

        streamseg webcam --source http://192.168.1.20:8080/video --no-show --rois ws://127.0.0.1:8765
    """
    from streamseg import log
    from streamseg.capture.live import CaptureRequest, LiveSource
    from streamseg.commands.common import build_rois, build_segmenter, build_smoother, load_run_config, parse_assignments, print_stats
    from streamseg.errors import ConfigError, Interrupted
    from streamseg.pipeline import EncoderSink, Processor, RoiSink, run_live, stop_on_signals
    from streamseg.render import OUTPUT_TYPES, output_size
    from streamseg.sinks.encoder import VideoEncoder
    from streamseg.sinks.output_path import prepare_output
    from streamseg.sinks.window import Window, display_available

    if output_type not in OUTPUT_TYPES:
        raise ConfigError(f"--output-type {output_type!r}: choose from {', '.join(OUTPUT_TYPES)}")
    if record is not None:
        record = prepare_output(record, overwrite=overwrite)
    if show and not display_available():
        log.warn("no display found (DISPLAY is not set); running without a window")
        show = False
    if not show and record is None and not rois:
        log.warn("no window, no --record and no --rois: results go nowhere (use --max-frames or Ctrl-C to stop)")

    cfg = load_run_config(config)
    smooth_params = {**cfg.get("smooth", {}), **parse_assignments(smooth_param, "--smooth-param")}
    if smooth is not None:
        build_smoother(smooth, smooth_params, threshold=threshold)  # validate before loading a model
    segmenter = build_segmenter(method, provider, threads, size, strict)
    smoother = build_smoother(smooth, smooth_params, kind=segmenter.kind, threshold=threshold)
    src = LiveSource(source, CaptureRequest(width=width, height=height, fps=fps, mjpg=mjpg, timeout_s=timeout), reconnect=reconnect)
    info = src.open()
    asked = "x".join(str(v) for v in (width, height) if v) or "default size"
    log.info(
        f"source: {info.source}: requested {asked}{f' @ {fps:g} fps' if fps else ''}{' MJPG' if mjpg else ''}; "
        f"granted {info.width}x{info.height} @ {float(info.fps):.3g} fps ({src.fourcc})"
    )
    roi_stage, roi_sinks = build_rois(rois, hands, options={**cfg.get("rois", {}), **parse_assignments(roi_option, "--roi-option")}, source=info.source)
    if roi_stage is not None:
        roi_stage.warmup(info.height, info.width)
    processor = Processor(segmenter, smoother, threshold, output_type=output_type, roi_stage=roi_stage, draw_rois=True)
    encoder = None
    sinks = []
    window = None
    report = None
    try:
        if record is not None:
            w, h = output_size(info.width, info.height, output_type)
            encoder = VideoEncoder(record, w, h, info.fps, time_base=info.time_base)
            sinks.append(EncoderSink(encoder, output_type, use_pts=False))
        if roi_sinks is not None:
            sinks.append(RoiSink(roi_sinks))
        if show:
            window = Window(f"streamseg - {segmenter.name}")
        with stop_on_signals(threading.Event()) as stop:
            report = run_live(src, processor, sinks, window=window, stop=stop, max_frames=max_frames, duration_s=duration)
    finally:
        src.close()
        if window is not None:
            window.close()
        if roi_stage is not None:
            roi_stage.close()
        if roi_sinks is not None:
            roi_sinks.close()
        if encoder is not None:
            if report is None:
                kept = encoder.abort(keep_partial=True)
                if kept:
                    log.warn(f"recording kept as {kept}")
            else:
                path = encoder.finish()
                log.info(f"recorded {encoder.frames_written} frames to {path}")
    lat = sorted(report.latency_ms)
    med = lat[len(lat) // 2] if lat else 0.0
    log.info(
        f"{report.frames_out} frames in {report.seconds:.1f} s ({report.fps:.1f} fps), "
        f"median latency {med:.1f} ms, {report.dropped} stale frames skipped, {src.reconnects} reconnects"
    )
    if stats:
        print_stats(report)
