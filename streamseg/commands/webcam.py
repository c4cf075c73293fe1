"""``streamseg webcam``: live skin segmentation from a camera or a network stream."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from streamseg.commands.common import (
    EFFECT_OPTIONS,
    MODEL_OPTIONS,
    OUTPUT_TYPES_HELP,
    RUN_OUTPUT_OPTIONS,
    ConfigOpt,
    HandsOpt,
    MethodOpt,
    OverwriteOpt,
    RoiOptionOpt,
    RoisOpt,
    SmoothOpt,
    SmoothParamOpt,
    StatsOpt,
    ThresholdOpt,
    with_options,
)


@with_options(MODEL_OPTIONS, after="smooth_param")
@with_options(EFFECT_OPTIONS | RUN_OUTPUT_OPTIONS, after="output_type")
def command(
    source: Annotated[str, typer.Option("--source", "-s", help="Camera index, /dev/videoN, rtsp:// / http:// URL, or a video file (played once at its own rate; see --loop).")] = "0",
    method: MethodOpt = None,
    show: Annotated[bool, typer.Option("--show/--no-show", help="Show the live window (q or Esc quits).")] = True,
    record: Annotated[Optional[Path], typer.Option("--record", "-r", help="Record the output to this video file.")] = None,
    output_type: Annotated[
        str, typer.Option("--output-type", "-T", help="What the window, the recording and the virtual camera show: " + OUTPUT_TYPES_HELP + ".")
    ] = "overlay",
    virtual_cam: Annotated[
        bool, typer.Option("--virtual-cam", help="Send the output to a virtual camera (pip install 'streamseg\\[virtualcam]'; v4l2loopback on Linux, OBS on Windows/macOS).")
    ] = False,
    virtual_cam_device: Annotated[
        Optional[str], typer.Option("--virtual-cam-device", help="Virtual camera device, e.g. /dev/video10 (default: the first one found).")
    ] = None,
    status_interval: Annotated[
        float, typer.Option("--status-interval", help="Without a window and with stderr not a terminal: seconds between status lines.")
    ] = 10.0,
    width: Annotated[Optional[int], typer.Option("--width", min=16, help="Requested capture width.")] = None,
    height: Annotated[Optional[int], typer.Option("--height", min=16, help="Requested capture height.")] = None,
    fps: Annotated[Optional[float], typer.Option("--fps", min=1, help="Requested capture rate.")] = None,
    mjpg: Annotated[bool, typer.Option("--mjpg/--no-mjpg", help="Ask the camera for MJPG (needed for 720p30 on most webcams).")] = True,
    reconnect: Annotated[bool, typer.Option("--reconnect/--no-reconnect", help="Reopen the source with backoff when it stops sending.")] = True,
    loop: Annotated[bool, typer.Option("--loop", help="A video file as --source: start again at its end (it plays once, at its own rate, otherwise).")] = False,
    timeout: Annotated[float, typer.Option("--timeout", min=0.1, help="Seconds to wait for a stream to open or send a frame.")] = 5.0,
    threshold: ThresholdOpt = 0.5,
    smooth: SmoothOpt = None,
    smooth_param: SmoothParamOpt = None,
    rois: RoisOpt = None,
    hands: HandsOpt = False,
    roi_option: RoiOptionOpt = None,
    config: ConfigOpt = None,
    max_frames: Annotated[Optional[int], typer.Option("--max-frames", min=1, help="Stop after this many frames.")] = None,
    duration: Annotated[Optional[float], typer.Option("--duration", min=0.1, help="Stop after this many seconds.")] = None,
    overwrite: OverwriteOpt = False,
    stats: StatsOpt = False,
    **shared: Any,
) -> None:
    """Segment skin live from a webcam, a device or an IP camera stream.

    The capture thread keeps only the newest frame (latency first). Ctrl-C or SIGTERM end the
    run cleanly; the recording is then finalised with every processed frame.

    Examples:

        streamseg webcam --model dlmv

        streamseg webcam --source 1 --width 1280 --height 720 --fps 30 --record me.mp4

        streamseg webcam --source http://192.168.1.20:8080/video --no-show --rois ws://127.0.0.1:8765

        streamseg webcam -T retouch --virtual-cam --virtual-cam-device /dev/video10

        streamseg webcam --no-show --stats-csv stats.csv --alert-above 0.3
    """
    import streamseg
    from streamseg.commands.common import api_options, print_stats
    from streamseg.pipeline.config import parse_assignments

    report = streamseg.process_live(
        source, method=method, output_type=output_type, smooth=smooth, show=show, record=record, width=width,
        height=height, fps=fps, mjpg=mjpg, reconnect=reconnect, timeout=timeout, threshold=threshold, config=config,
        smooth_params=parse_assignments(smooth_param, "--smooth-param"), rois=rois, hands=hands,
        roi_options=parse_assignments(roi_option, "--roi-option"), max_frames=max_frames, duration=duration, loop=loop,
        overwrite=overwrite, virtual_cam=virtual_cam, virtual_cam_device=virtual_cam_device,
        status=True, status_interval=status_interval, **api_options(shared),
    )
    if stats:
        print_stats(report)
