"""``streamseg train``: train a skin model (DLMV or U²-NetP) from scratch, with checkpoints every epoch."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def command(
    arch: Optional[str] = typer.Option(None, "--arch", help="Architecture: dlmv or u2netp (default: the config's)."),
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
    """Train a skin segmentation model from scratch (needs the ``train`` extra: torch).

    Without --config the defaults for --arch are used; options given on the command line
    override the config. Progressive resizing comes from the config's ``progressive`` list.

    Examples:

        streamseg train -c configs/dlmv-256.toml --data ../shared/data/skin --out runs/dlmv-256

        streamseg train -c configs/dlmv-256.toml --data ../shared/data/skin --out runs/dlmv-256 --resume runs/dlmv-256/last.pt --epochs 60

        streamseg train -c configs/dlmv-256-stage2.toml --data ../shared/data/skin --out runs/dlmv-256-s2 --init runs/dlmv-256/best.pt

        streamseg train --arch u2netp --data ../shared/data/skin --size 192 --epochs 5 --out runs/u2
    """
    try:
        import torch  # noqa: F401
    except ImportError:
        from streamseg.errors import MethodError

        raise MethodError("training needs PyTorch: pip install 'streamseg[train]'") from None
    from streamseg.errors import ConfigError
    from streamseg.train.config import TrainConfig
    from streamseg.train.trainer import train

    cfg = TrainConfig.load(config) if config else TrainConfig()
    overrides = {"arch": arch, "size": size, "epochs": epochs, "batch": batch, "epoch_size": epoch_size, "threads": threads}
    for k, v in overrides.items():
        if v is not None:
            setattr(cfg, k, v)
    if data is not None:
        cfg.data = str(data)
    if not cfg.data:
        raise ConfigError("data: give --data DIR (or 'data' in the config)")
    if size is not None and config is None:
        cfg.progressive = []
    cfg.check()
    if resume is None and not force and (out / "last.pt").exists():
        from streamseg.errors import OutputError

        raise OutputError(f"{out} already holds a run (last.pt); use --resume {out / 'last.pt'}, another --out, or --force")
    summary = train(cfg, cfg.data, out, resume=resume, max_steps=max_steps, init=init)
    from streamseg import log

    log.info(f"best val mIoU {summary['best_miou']:.4f} at epoch {summary['best_epoch']}; checkpoints in {out}")
