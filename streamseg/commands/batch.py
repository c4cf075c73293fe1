"""``streamseg batch``: many video and image files -> mask / overlay / ... videos and PNGs, on Ray workers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from streamseg.commands.common import (
    ENCODER_OPTIONS,
    BatchOpt,
    ConfigOpt,
    FallbackOpt,
    HandsOpt,
    MethodOpt,
    ProviderOpt,
    QualityOpt,
    RoiOptionOpt,
    SizeOpt,
    SmoothOpt,
    SmoothParamOpt,
    StrictOpt,
    ThreadsOpt,
    ThresholdOpt,
    TtaOpt,
    given_or_none,
    with_options,
)


@with_options(ENCODER_OPTIONS, after="smooth_param")
def command(
    inputs: Annotated[
        list[str],
        typer.Argument(help="Video and image files, folders (recursive, video and image extensions only), globs, or manifests (.txt: one path a line; .csv: a path column).", show_default=False),
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Output folder; the outputs mirror the input tree under it.", show_default=False)],
    method: MethodOpt = None,
    output_type: Annotated[
        str, typer.Option("--output-type", "-T", help="mask, overlay, cutout, side-by-side, ... (prob: images only); comma-separate for several outputs per file.")
    ] = "mask",
    threshold: ThresholdOpt = 0.5,
    smooth: SmoothOpt = None,
    smooth_param: SmoothParamOpt = None,
    provider: ProviderOpt = "auto",
    threads: Annotated[int, typer.Option("--threads", callback=given_or_none, help="Inference threads per worker (0 = 1 each with the default --workers, else cores / workers; at most the cores).")] = 0,
    size: SizeOpt = None,
    tta: TtaOpt = None,
    quality: QualityOpt = None,
    batch: BatchOpt = 1,
    strict: StrictOpt = False,
    fallback: FallbackOpt = False,
    rois: Annotated[bool, typer.Option("--rois", help="Write each file's ROI stream to <stem>_rois.jsonl next to its outputs.")] = False,
    hands: HandsOpt = False,
    roi_option: RoiOptionOpt = None,
    config: ConfigOpt = None,
    workers: Annotated[
        Optional[int], typer.Option("--workers", "-w", min=1, help="Workers, each loading the method once \\[default: the cores / --threads]. 1 runs in this process, without Ray.", show_default=False)
    ] = None,
    ray_address: Annotated[
        Optional[str], typer.Option("--ray-address", help="Submit to an existing Ray cluster: auto or ray://HOST:PORT (default: a local Ray started for the run).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Redo files whose outputs are complete and newer than the input (they are skipped otherwise).")] = False,
    chunk: Annotated[
        Optional[int], typer.Option("--chunk", min=1, help="Images per task \\[default: about 8 tasks per worker, at most 64 images each].", show_default=False)
    ] = None,
    **shared: Any,
) -> None:
    """Segment skin in many video and image files: one task per video or per chunk of images, on workers that load the method once.

    Files go to workers as they become free, longest first; images are written as streamseg image writes them (<stem>_<type>.png). A bad file fails alone (listed at the end; exit code 3), a worker that dies has its file retried once on another, outputs are written under .partial names and renamed when complete, and a second run skips files whose outputs are complete and newer (--force redoes them). Ctrl-C stops cleanly and keeps the finished files. OUT_DIR/batch_report.json has every file's status, frames, seconds, fps and error (for images: size, skin fraction, skin regions, ms), and OUT_DIR/results.jsonl gets one row per file as it finishes.

    Needs Ray (pip install 'streamseg\\[ray]') unless --workers 1.

    Examples:

        streamseg batch videos/ -o masks/                          # local Ray, one worker per core

        streamseg batch photos/ -o masks/ -T mask,prob             # images: PNGs, skin fraction and regions in the report

        streamseg batch 'day1/**/*.mp4' list.csv -o out/ -T mask,overlay --workers 2

        streamseg batch videos/ -o out/ --ray-address auto          # an existing Ray cluster
    """
    import streamseg
    from streamseg.pipeline.config import parse_assignments

    streamseg.process_batch(
        inputs, output, method=method, output_types=output_type, smooth=smooth, workers=workers, ray_address=ray_address,
        force=force, threshold=threshold, config=config, smooth_params=parse_assignments(smooth_param, "--smooth-param"),
        rois=rois, hands=hands, roi_options=parse_assignments(roi_option, "--roi-option"), provider=provider, threads=threads, size=size, tta=tta, quality=quality,
        batch=batch, strict=strict or None, fallback=fallback, progress=True, chunk=chunk, **shared,
    )
