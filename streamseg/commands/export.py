"""``streamseg export``: a training checkpoint -> ONNX model + spec (+ model card), checked against PyTorch."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def command(
    checkpoint: Path = typer.Argument(..., help="Checkpoint written by streamseg train (e.g. runs/dlmv-256/best.pt)."),
    out: Path = typer.Option(..., "--out", "-o", help="ONNX file to write (the spec goes beside it as .json)."),
    name: Optional[str] = typer.Option(None, "--name", help="Method name in the spec (default: the architecture)."),
    size: int = typer.Option(256, "--size", help="Square input size of the exported graph."),
    data: Optional[Path] = typer.Option(None, "--data", help="Dataset: check on its val images, evaluate, write the model card."),
    description: Optional[str] = typer.Option(None, "--description", help="One-line description for the spec."),
    card: bool = typer.Option(True, "--card/--no-card", help="Write <out>.md (needs --data for the accuracy section)."),
    note: list[str] = typer.Option([], "--note", help="Extra line for the card's 'Notes and known gaps' (repeatable)."),
    compare: Optional[Path] = typer.Option(None, "--compare", help="report.json of `streamseg eval` (e.g. docs/eval/val/report.json): the card compares the model with its classical methods per source."),
    config_file: list[str] = typer.Option([], "--config-file", help="Train config(s) that reproduce the model, in the order they run (repeatable; default configs/<out stem>.toml)."),
    int8: bool = typer.Option(False, "--int8", help="Also try a static int8 (QDQ) copy; kept only if val mIoU stays within 0.5 point and it is faster (needs --data)."),
    force: bool = typer.Option(False, "--force", "-f", help="Overwrite existing files."),
) -> None:
    """Export a checkpoint to ONNX (opset 17, input RGB [0, 1], output probability, dynamic batch).

    The ONNX output is compared with PyTorch on real images (val images with --data, else frames
    of the demo clip) and the max abs difference is printed. With --data the model is also
    evaluated on the val split (per-image IoU at 0.5, overall and per source) and the numbers go
    into the model card.

    Examples:

        streamseg export runs/dlmv-256/best.pt -o models/dlmv-256.onnx --name dlmv --size 256 --data ../shared/data/skin

        streamseg export runs/u2netp-512/best.pt -o models/u2netp-512.onnx --name u2netp --size 512
    """
    from streamseg.optional import require_torch

    require_torch("export needs PyTorch and onnx: pip install 'streamseg[train]'")
    from streamseg.train.export import export_checkpoint

    export_checkpoint(
        checkpoint, out, name=name, size=size, data=data, description=description, card=card, notes=note,
        compare=compare, configs=config_file, int8=int8, force=force,
    )  # fmt: skip
