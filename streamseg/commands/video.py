"""``streamseg video``: segment a video file into mask / overlay / cutout / side-by-side videos."""

from __future__ import annotations

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
    input: Annotated[Optional[Path], typer.Argument(help="Video file (default: the shipped demo clip).", show_default=False)] = None,
    output: Annotated[
        Optional[Path],
        typer.Option("--output", "-o", help="Output file (one output type) or folder (several); default <stem>_<type>.mp4 next to the input."),
    ] = None,
    method: MethodOpt = DEFAULT_METHOD,
    output_type: Annotated[
        str, typer.Option("--output-type", "-T", help="mask, overlay, cutout or side-by-side; comma-separate for several outputs in one pass.")
    ] = "mask",
    threshold: ThresholdOpt = 0.5,
    smooth: SmoothOpt = None,
    smooth_param: SmoothParamOpt = None,
    codec: Annotated[str, typer.Option("--codec", help="Video encoder (FFmpeg name).")] = "libx264",
    crf: Annotated[int, typer.Option("--crf", min=0, max=51, help="Constant rate factor for x264/x265 (lower = better).")] = 20,
    bitrate: Annotated[Optional[str], typer.Option("--bitrate", help="Target bitrate instead of CRF, e.g. 4M.")] = None,
    preset: Annotated[str, typer.Option("--preset", help="Encoder speed preset.")] = "veryfast",
    provider: ProviderOpt = "auto",
    threads: ThreadsOpt = 0,
    size: SizeOpt = None,
    batch: Annotated[int, typer.Option("--batch", min=1, max=64, help="Frames per inference (models with a dynamic batch).")] = 1,
    strict: StrictOpt = False,
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

        streamseg video                                  # demo clip -> demo_mask.mp4

        streamseg video clip.mp4 -T mask,overlay --model dlmv

        streamseg video clip.mp4 -o out.mp4 -T side-by-side -m ellipse-diag --crf 18

        streamseg video clip.mp4 --rois jsonl:rois.jsonl --hands
    """
    from streamseg import log
    from streamseg.capture.file import probe_video
    from streamseg.commands.common import build_rois, build_segmenter, build_smoother, load_run_config, parse_assignments, default_output, print_stats
    from streamseg.errors import ConfigError
    from streamseg.paths import demo_clip
    from streamseg.render import OUTPUT_TYPES
    from streamseg.sinks.encoder import EncoderSettings
    from streamseg.sinks.output_path import prepare_output
    from streamseg.video_file import process_video_file

    inp = input if input is not None else demo_clip()
    probe_video(inp)  # fail on a bad input before loading a model
    types = [t.strip() for t in output_type.split(",") if t.strip()]
    bad = [t for t in types if t not in OUTPUT_TYPES]
    if bad or not types:
        raise ConfigError(f"--output-type {output_type!r}: choose from {', '.join(OUTPUT_TYPES)}")
    if len(types) == 1 and output is not None and output.suffix:
        outputs = {types[0]: output}
    else:
        folder = output if output is not None else None
        outputs = {t: (folder / default_output(inp, t).name if folder else default_output(inp, t)) for t in types}
    outputs = {t: prepare_output(p, overwrite=overwrite, inputs=(inp,)) for t, p in outputs.items()}

    cfg = load_run_config(config)
    smooth_params = {**cfg.get("smooth", {}), **parse_assignments(smooth_param, "--smooth-param")}
    if smooth is not None:
        build_smoother(smooth, smooth_params, threshold=threshold)  # validate before loading a model
    segmenter = build_segmenter(method, provider, threads, size, strict, batch)
    smoother = build_smoother(smooth, smooth_params, kind=segmenter.kind, threshold=threshold)
    roi_stage, roi_sinks = build_rois(rois, hands, options={**cfg.get("rois", {}), **parse_assignments(roi_option, "--roi-option")}, source=str(inp))
    report = process_video_file(
        inp,
        outputs,
        segmenter,
        smoother=smoother,
        threshold=threshold,
        settings=EncoderSettings(codec=codec, crf=crf, bitrate=bitrate, preset=preset),
        roi_stage=roi_stage,
        roi_sinks=roi_sinks,
        batch=batch,
        progress=True,
    )
    if stats:
        print_stats(report, report.extra_ms)
