"""``streamseg eval``: mIoU, pixel precision/recall/F1 and time per image of any mix of methods."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def command(
    data: Path = typer.Argument(..., help="Dataset folder: images/, masks/ and an optional manifest.csv (id,split,source)."),
    methods: str = typer.Option("all", "--methods", "-m", help="'all' (every method that runs here) or a comma-separated list."),
    split: str = typer.Option("val", "--split", help="Manifest split to score; 'all' = every pair (also used when there is no manifest)."),
    threshold: float = typer.Option(0.5, "--threshold", help="A pixel is skin when its probability is >= this."),
    report: Optional[Path] = typer.Option(None, "--report", "-r", help="Folder for report.md/.csv/.json, per_image.csv and the PNGs."),
    examples: int = typer.Option(0, "--examples", help="With --report: a PNG grid of the N hardest images (image | truth | each method)."),
    worst: int = typer.Option(5, "--worst", help="Worst images listed per method."),
    sources: str = typer.Option("", "--sources", help="Only these manifest sources (comma-separated)."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Score only N images, spread evenly over the split (quick runs)."),
    provider: str = typer.Option("auto", "--provider", help="ONNX Runtime provider for models: auto, cuda, tensorrt, cpu."),
    size: Optional[int] = typer.Option(None, "--size", help="Model input size for ONNX models whose graph has a dynamic size."),
    threads: int = typer.Option(0, "--threads", help="Threads for ONNX Runtime and the numba kernels (0 = library default)."),
    mosaic: int = typer.Option(0, "--mosaic", help="Proxy for group photos: score N x N mosaics of consecutive images of a source (e.g. 3)."),
    skin_tone: str = typer.Option("", "--skin-tone", help="Proxy for other skin tones: shift the true skin pixels 'dark', 'darker' or 'light' in Lab."),
) -> None:
    """Score segmentation methods on an image/mask folder: the accuracy table that picks a method.

    Per method: mIoU (IoU per image, then the mean), pixel precision, recall and F1, overall and
    per source, the worst images and the mean time per image. Masks at another resolution with
    the same aspect ratio are resized to their image; other mismatches and missing masks are
    reported, not scored. With --report, also writes method_choice.png (mIoU vs ms per image).

    Examples:

        streamseg eval ../shared/data/skin --methods all --split val --report reports/eval

        streamseg eval my_data --methods ellipse,dlmv --threshold 0.4 --report out --examples 8

        streamseg eval ../shared/data/skin --methods dlmv,pose-skin --mosaic 3

        streamseg eval ../shared/data/skin --methods dlmv,pose-skin --skin-tone dark
    """
    from rich.console import Console

    from streamseg import log
    from streamseg.errors import ConfigError
    from streamseg.evaluate import machine, plots, reports
    from streamseg.evaluate.accuracy import evaluate
    from streamseg.evaluate.selection import select_methods
    from streamseg.segment import MethodOptions

    if examples < 0 or worst < 0:
        raise ConfigError("--examples and --worst must be 0 or more")
    if examples and report is None:
        raise ConfigError("--examples writes a PNG: give --report DIR too")
    source_list = [s.strip() for s in sources.split(",") if s.strip()] or None

    if size is not None and size < 1:
        raise ConfigError(f"--size must be a positive integer, got {size}")
    from streamseg.evaluate.proxies import proxy_dataset

    ds = proxy_dataset(data, mosaic, skin_tone)  # a bad folder or proxy fails before any model is loaded
    if report is not None:
        reports.ensure_dir(report)  # ... and so does a report folder that cannot be written
    sel = select_methods(methods, MethodOptions(provider=provider, threads=threads, size=size))
    try:
        for name, why in sel.skipped.items():
            log.warn(f"skipping {name}: {why}")
        log.info(f"evaluating {', '.join(sel.segmenters)} on {data} (split {split})")
        info = machine.describe_run(threads)
        skip_failing = methods.strip().lower() == "all"
        result = evaluate(
            ds, sel.segmenters, split=split, threshold=threshold, sources=source_list, limit=limit,
            progress=True, skip_failing=skip_failing,
        )
        for name, why in result.failed.items():
            log.warn(f"dropped {name}: {why}")
            sel.skipped[name] = why
        if result.unscored:
            first = result.unscored[0]
            log.warn(f"{len(result.unscored)} image(s) not scored, e.g. {first.id}: {first.reason} (all listed in the report)")
        if result.n_resized:
            log.info(f"{result.n_resized} mask(s) had another resolution than their image and were resized (nearest)")
        rep = reports.eval_json(result, sel.skipped, info, machine.command_line(), worst)
        Console().print(reports.eval_table(rep))
        log.info(
            f"{result.n_scored} images x {len(result.methods)} methods in {result.seconds:.1f} s on {machine.summary_line(info)}"
        )
        if report is not None:
            images: dict[str, str] = {}
            reports.ensure_dir(report)
            points = {n: (r.ms_per_image, r.miou, r.kind) for n, r in result.methods.items()}
            plots.method_choice_plot(
                points, report / "method_choice.png",
                subtitle=f"{Path(result.dataset).name} split {result.split}, {result.n_scored} images; {machine.short_line(info)}",
                xlabel="mean ms per image (dataset image sizes, log scale) — left is faster",
            )
            images["mIoU against ms per image"] = "method_choice.png"
            if examples:
                hard = [result.samples[i] for i in result.hardest(examples)]
                ran = {n: sel.segmenters[n] for n in result.methods}
                plots.example_grid(ds, hard, ran, report / "examples.png", threshold)
                images[f"the {len(hard)} hardest images"] = "examples.png"
            paths = reports.write_eval_report(report, result, sel.skipped, info, machine.command_line(), worst, images)
            log.info(f"report: {paths['md']} (+ report.json, report.csv, per_image.csv, {', '.join(images.values())})")
    finally:
        sel.close()
