"""``streamseg train``: train a skin model (DLMV or U²-NetP) from scratch, with checkpoints every epoch."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def command(
    arch: Optional[str] = typer.Option(None, "--arch", help="Architecture: dlmv, u2netp, selfie or pose (default: the config's)."),
    data: Optional[Path] = typer.Option(None, "--data", help="Dataset folder (images/, masks/, manifest.csv)."),
    size: Optional[int] = typer.Option(None, "--size", help="Final training size in px (multiple of 32)."),
    epochs: Optional[int] = typer.Option(None, "--epochs", help="Total epochs (a larger value on --resume extends the run)."),
    out: Path = typer.Option(..., "--out", help="Run folder: checkpoints last.pt/best.pt, history.json."),
    config: Optional[Path] = typer.Option(None, "--config", "-c", help="TOML config (e.g. configs/dlmv-256.toml)."),
    resume: Optional[Path] = typer.Option(None, "--resume", help="Checkpoint to continue from (e.g. RUN/last.pt)."),
    init: Optional[Path] = typer.Option(
        None, "--init", help="Start a new run from this checkpoint's weights (a second stage; new optimizer and schedule)."
    ),
    batch: Optional[int] = typer.Option(None, "--batch", help="Batch size."),
    epoch_size: Optional[int] = typer.Option(None, "--epoch-size", help="Images drawn per epoch (0 = all)."),
    threads: Optional[int] = typer.Option(None, "--threads", help="PyTorch CPU threads."),
    max_steps: int = typer.Option(0, "--max-steps", help="Stop after this many steps (smoke test)."),
    force: bool = typer.Option(False, "--force", "-f", help="Start afresh even if --out already holds a checkpoint."),
) -> None:
    """Train a skin segmentation model from scratch (needs the train extra: pip install 'streamseg\\[train]').

    Without --config the defaults for --arch are used; options given on the command line
    override the config. Progressive resizing comes from the config's progressive list.

    Examples:

        streamseg train -c configs/dlmv-256.toml --data ../shared/data/skin --out runs/dlmv-256

        streamseg train -c configs/dlmv-256.toml --data ../shared/data/skin --out runs/dlmv-256 --resume runs/dlmv-256/last.pt --epochs 60

        streamseg train -c configs/dlmv-256-stage2.toml --data ../shared/data/skin --out runs/dlmv-256-s2 --init runs/dlmv-256/best.pt

        streamseg train --arch u2netp --data ../shared/data/skin --size 192 --epochs 5 --out runs/u2
    """
    from streamseg.optional import require_torch

    require_torch("training needs PyTorch: pip install 'streamseg[train]'")
    from streamseg.train.trainer import config_from_options, train_run

    cfg = config_from_options(
        config, arch=arch, data=data, size=size, epochs=epochs, batch=batch, epoch_size=epoch_size, threads=threads
    )
    train_run(cfg, out, resume=resume, init=init, max_steps=max_steps, force=force)
