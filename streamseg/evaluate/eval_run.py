"""``streamseg eval`` as one call: methods and a dataset (or a proxy of it) -> table, log and report folder.

Example::

    from streamseg.evaluate.eval_run import run_eval
    run_eval("../shared/data/skin", methods="ellipse,dlmv", split="val", report="reports/eval")
"""

from __future__ import annotations

from pathlib import Path

from streamseg import log
from streamseg.errors import ConfigError
from streamseg.evaluate import machine, plots, reports
from streamseg.evaluate.accuracy import EvalResult, evaluate
from streamseg.evaluate.proxies import proxy_dataset
from streamseg.metrics import scene_rates
from streamseg.evaluate.selection import select_methods
from streamseg.segment import MethodOptions
from streamseg.segment.base import check_tta
from streamseg.segment.quality import check_quality


def run_eval(
    data: str | Path,
    methods: str = "all",
    *,
    split: str = "val",
    threshold: float = 0.5,
    report: str | Path | None = None,
    examples: int = 0,
    worst: int = 5,
    sources: str = "",
    limit: int | None = None,
    provider: str = "auto",
    size: int | None = None,
    threads: int = 0,
    tta: str = "none",
    quality: str = "fast",
    mosaic: int = 0,
    skin_tone: str = "",
    wide: int = 0,
    scenes: bool = False,
    scenes_dir: str | Path | None = None,
) -> EvalResult:
    """Score ``methods`` (``'all'`` or a comma-separated list) on ``data``; print the table.

    ``tta`` (``flip``) runs every model on the image and its mirror image (rows ``NAME+flip``);
    ``quality`` (``balanced``, ``best``) what :mod:`streamseg.segment.quality` adds (rows ``NAME+best``).
    ``mosaic`` (N x N group-photo mosaics) and ``skin_tone`` (``dark``, ``darker``, ``light``)
    score a proxy of the dataset instead, and so do ``wide`` (subjects pasted into scenes at 1/N
    of their side) and ``scenes`` (the scenes alone: the share of pixels called skin, see
    :func:`~streamseg.metrics.scene_rates`); ``scenes_dir`` is where the scenes are. With ``report``, writes report.md/.csv/.json,
    per_image.csv, method_choice.png and (``examples`` > 0) the grid of the hardest images.
    A bad folder, proxy or report folder fails before any model is loaded.
    """
    from rich.console import Console

    data = Path(data)
    report = Path(report) if report is not None else None
    if examples < 0 or worst < 0:
        raise ConfigError("--examples and --worst must be 0 or more")
    if examples and report is None:
        raise ConfigError("--examples writes a PNG: give --report DIR too")
    source_list = [s.strip() for s in sources.split(",") if s.strip()] or None

    if size is not None and size < 1:
        raise ConfigError(f"--size must be a positive integer, got {size}")
    check_tta(tta)
    check_quality(quality)
    ds = proxy_dataset(data, mosaic, skin_tone, wide, scenes, scenes_dir)  # a bad folder or proxy fails before any model is loaded
    if report is not None:
        reports.ensure_dir(report)  # ... and so does a report folder that cannot be written
    sel = select_methods(methods, MethodOptions(provider=provider, threads=threads, size=size, tta=tta, quality=quality))
    try:
        for name, why in sel.skipped.items():
            log.warn(f"skipping {name}: {why}")
        log.info(f"evaluating {', '.join(sel.segmenters)} on {data} (split {split})")
        info = machine.describe_run(threads)
        skip_failing = methods.strip().lower() == "all"
        result = evaluate(
            ds, sel.segmenters, split=split, threshold=threshold, sources=source_list, limit=limit,
            progress=True, skip_failing=skip_failing,
        )  # fmt: skip
        for name, why in result.failed.items():
            log.warn(f"dropped {name}: {why}")
            sel.skipped[name] = why
        if result.unscored:
            first = result.unscored[0]
            log.warn(f"{len(result.unscored)} image(s) not scored, e.g. {first.id}: {first.reason} (all listed in the report)")
        if result.n_resized:
            log.info(f"{result.n_resized} mask(s) had another resolution than their image and were resized (nearest)")
        rep = reports.eval_json(result, sel.skipped, info, machine.command_line(), worst)
        if scenes:
            Console().print(reports.scenes_table(scene_table(result)))
        else:
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
            )  # fmt: skip
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
    return result


def scene_table(result: EvalResult) -> dict[str, dict[str, float]]:
    """Method -> :func:`~streamseg.metrics.scene_rates` of a run on scenes (empty masks)."""
    out = {}
    for name, r in result.methods.items():
        shares = [s.counts.fp / max(1, s.counts.fp + s.counts.tn) for s in r.scores]
        out[name] = dict(scene_rates(shares), n=len(shares), ms=r.ms_per_image)
    return out
