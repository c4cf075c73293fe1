"""``streamseg video``: segment a video file into mask / overlay / cutout / side-by-side videos."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from streamseg.commands.common import (
    DEFAULT_METHOD,
    OUTPUT_TYPES_HELP,
    AlertAboveOpt,
    FeatherOpt,
    HudOpt,
    OutlineOpt,
    OverlayAlphaOpt,
    OverlayColorOpt,
    StatsCsvOpt,
    StrengthOpt,
    ConfigOpt,
    FallbackOpt,
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
    input: Annotated[Optional[Path], typer.Argument(help="Video file (default: the shipped demo clip).", show_default=False)] = None,
    output: Annotated[
        Optional[Path],
        typer.Option("--output", "-o", help="Output file (one output type) or folder (several); default <stem>_<type>.mp4 (<stem>_alpha.mov) next to the input."),
    ] = None,
    method: MethodOpt = None,
    output_type: Annotated[
        str, typer.Option("--output-type", "-T", help=OUTPUT_TYPES_HELP + "; comma-separate for several outputs in one pass.")
    ] = "mask",
    feather: FeatherOpt = None,
    strength: StrengthOpt = None,
    overlay_color: OverlayColorOpt = None,
    overlay_alpha: OverlayAlphaOpt = None,
    outline: OutlineOpt = None,
    hud: HudOpt = False,
    stats_csv: StatsCsvOpt = None,
    alert_above: AlertAboveOpt = None,
    threshold: ThresholdOpt = 0.5,
    smooth: SmoothOpt = None,
    smooth_param: SmoothParamOpt = None,
    codec: Annotated[str, typer.Option("--codec", help="Video encoder (FFmpeg name); for -T alpha to .mov, prores_aw is ~3x faster than the default prores_ks.")] = "libx264",
    crf: Annotated[int, typer.Option("--crf", min=0, max=51, help="Constant rate factor for x264/x265 (lower = better).")] = 20,
    bitrate: Annotated[Optional[str], typer.Option("--bitrate", help="Target bitrate instead of CRF, e.g. 4M.")] = None,
    preset: Annotated[Optional[str], typer.Option("--preset", help="x264 speed preset (default: ultrafast for mask videos, veryfast for the others; docs/speed.md).", show_default=False)] = None,
    provider: ProviderOpt = "auto",
    threads: ThreadsOpt = 0,
    size: SizeOpt = None,
    batch: Annotated[int, typer.Option("--batch", min=1, max=64, help="Frames per inference (models with a dynamic batch).")] = 1,
    strict: StrictOpt = False,
    fallback: FallbackOpt = False,
    rois: RoisOpt = None,
    hands: HandsOpt = False,
    roi_option: RoiOptionOpt = None,
    config: ConfigOpt = None,
    overwrite: OverwriteOpt = False,
    stats: StatsOpt = False,
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
    from streamseg.commands.common import print_stats
    from streamseg.pipeline.config import parse_assignments

    report = streamseg.process_video(
        input, output, method=method, output_types=output_type, smooth=smooth, threshold=threshold, config=config,
        smooth_params=parse_assignments(smooth_param, "--smooth-param"), rois=rois, hands=hands,
        roi_options=parse_assignments(roi_option, "--roi-option"), codec=codec, crf=crf, bitrate=bitrate, preset=preset,
        provider=provider, threads=threads, size=size, batch=batch, strict=strict or None, fallback=fallback, overwrite=overwrite, progress=True,
        feather=feather, strength=strength, overlay_color=overlay_color, overlay_alpha=overlay_alpha, outline=outline,
        hud=hud, stats_csv=stats_csv, alert_above=alert_above,
    )
    if stats:
        print_stats(report, report.extra_ms)
