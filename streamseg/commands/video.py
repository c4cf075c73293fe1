"""``streamseg video``: segment a video file into mask / overlay / cutout / side-by-side videos."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from streamseg.commands.common import (
    EFFECT_OPTIONS,
    ENCODER_OPTIONS,
    MODEL_OPTIONS,
    OUTPUT_TYPES_HELP,
    RUN_OUTPUT_OPTIONS,
    BatchOpt,
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


@with_options(ENCODER_OPTIONS, after="smooth_param")
@with_options(MODEL_OPTIONS, after="batch")
@with_options(EFFECT_OPTIONS | RUN_OUTPUT_OPTIONS, after="output_type")
def command(
    input: Annotated[Optional[Path], typer.Argument(help="Video file (default: the shipped demo clip).", show_default=False)] = None,
    output: Annotated[
        Optional[Path],
        typer.Option("--output", "-o", help="Output file (one output type) or folder (several); default <stem>_<type>.mp4 (<stem>_alpha.mov) next to the input."),
    ] = None,
    method: MethodOpt = None,
    output_type: Annotated[
        str, typer.Option("--output-type", "-T", help=OUTPUT_TYPES_HELP + "; comma-separate for several outputs in one pass.")
    ] = "mask",
    threshold: ThresholdOpt = 0.5,
    smooth: SmoothOpt = None,
    smooth_param: SmoothParamOpt = None,
    batch: BatchOpt = 1,
    rois: RoisOpt = None,
    hands: HandsOpt = False,
    roi_option: RoiOptionOpt = None,
    config: ConfigOpt = None,
    overwrite: OverwriteOpt = False,
    stats: StatsOpt = False,
    **shared: Any,
) -> None:
    """Segment skin in a video file; keeps fps, timestamps, frame count and the audio track.

    Outputs are written under a temporary .partial name and renamed when complete. An
    interrupted run (Ctrl-C, SIGTERM) keeps a playable .partial file with every processed frame.

    Examples:

        streamseg video                                  # demo clip -> face_thumbsup_pixabay_720p_mask.mp4 next to it

        streamseg video clip.mp4 -T mask,overlay --model dlmv

        streamseg video clip.mp4 -o out.mp4 -T side-by-side -m ellipse-diag --crf 18

        streamseg video clip.mp4 --rois jsonl:rois.jsonl --hands

        streamseg video clip.mp4 -T alpha -o cut.webm --feather 4

        streamseg video clip.mp4 -T retouch,blur --strength 0.7 --hud --stats-csv stats.csv
    """
    import streamseg
    from streamseg.commands.common import api_options, print_stats
    from streamseg.pipeline.config import parse_assignments

    report = streamseg.process_video(
        input, output, method=method, output_types=output_type, smooth=smooth, threshold=threshold, config=config,
        smooth_params=parse_assignments(smooth_param, "--smooth-param"), rois=rois, hands=hands,
        roi_options=parse_assignments(roi_option, "--roi-option"), batch=batch, overwrite=overwrite, progress=True, **api_options(shared),
    )
    if stats:
        print_stats(report, report.extra_ms)
