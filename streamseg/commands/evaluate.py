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
    tta: str = typer.Option("none", "--tta", help="Test-time augmentation of ONNX models: none or flip (frame and mirror image averaged); rows are named NAME+flip."),
    quality: str = typer.Option("fast", "--quality", help="fast, balanced or best (see `streamseg image --help`); rows are named NAME+balanced / NAME+best."),
    mosaic: int = typer.Option(0, "--mosaic", help="Proxy for group photos: score N x N mosaics of consecutive images of a source (e.g. 3)."),
    skin_tone: str = typer.Option("", "--skin-tone", help="Proxy for other skin tones: shift the true skin pixels 'dark', 'darker' or 'light' in Lab."),
    wide: int = typer.Option(0, "--wide", help="Proxy for wide room shots: each subject pasted into a scene with nobody in it at 1/N of its side (e.g. 4)."),
    scenes: bool = typer.Option(False, "--scenes", help="Proxy for empty rooms: the share of pixels called skin on scenes with nobody in them, and the share of scenes above 1 %."),
    scenes_dir: Optional[Path] = typer.Option(None, "--scenes-dir", help="Scenes for --wide and --scenes (images/ + manifest.csv); default: scenes/ beside DATA."),
) -> None:
    """Score segmentation methods on an image/mask folder: the accuracy table that picks a method.

    Per method: mIoU (IoU per image, then the mean), pixel precision, recall and F1, overall and
    per source, the worst images and the mean time per image. Masks at another resolution with
    the same aspect ratio are resized to their image; other mismatches and missing masks are
    reported, not scored. With --report, also writes method_choice.png (mIoU vs ms per image).

    Examples:

        streamseg eval ../shared/data/skin --methods all --split val --report reports/eval

        streamseg eval my_data --methods ellipse,dlmv --threshold 0.4 --report out --examples 8

        streamseg eval ../shared/data/skin --methods dlmv,selfie-skin-hq --mosaic 3

        streamseg eval ../shared/data/skin --methods dlmv,selfie-skin-hq --skin-tone dark

        streamseg eval ../shared/data/skin --methods selfie-skin-hq --tta flip

        streamseg eval ../shared/data/skin --methods selfie-skin,dlmv --wide 4

        streamseg eval ../shared/data/skin --methods selfie-skin,dlmv --scenes

        streamseg eval ../shared/data/skin --methods selfie-skin-hq --quality best --wide 4
    """
    from streamseg.evaluate.eval_run import run_eval

    run_eval(
        data, methods, split=split, threshold=threshold, report=report, examples=examples, worst=worst, sources=sources,
        limit=limit, provider=provider, size=size, threads=threads, tta=tta, quality=quality, mosaic=mosaic, skin_tone=skin_tone,
        wide=wide, scenes=scenes, scenes_dir=scenes_dir,
    )  # fmt: skip
