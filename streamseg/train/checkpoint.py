"""Training checkpoints: written atomically, read without running pickle code, and turned back
into a model (the trainer, the distillation teacher and the exporter all read them).

``save_checkpoint(path, state)`` writes a dict of plain values and tensors; ``load_checkpoint``
reads it back with ``weights_only=True`` and checks it is one of ours (``arch`` and ``model``
keys); ``model_from_checkpoint`` rebuilds the model in eval mode.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from streamseg.errors import InputError
from streamseg.train.models import build_model

#: version of the checkpoint dict's layout
CKPT_VERSION = 1


def save_checkpoint(path: Path, state: dict) -> None:
    """Atomic ``torch.save`` (write a temp file, then rename): a kill never leaves half a checkpoint."""
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: str | Path) -> dict:
    """Read a checkpoint written by :func:`save_checkpoint` (``weights_only=True``: no pickle code runs)."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"checkpoint not found: {p}")
    try:
        ckpt = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - corrupt/foreign files reach the user as one line
        raise InputError(f"cannot read checkpoint {p}: {type(exc).__name__}: {exc}") from None
    if not isinstance(ckpt, dict) or "model" not in ckpt or "arch" not in ckpt:
        raise InputError(f"{p} is not a streamseg training checkpoint")
    return ckpt


def model_from_checkpoint(path: str | Path) -> tuple[torch.nn.Module, dict]:
    """Rebuild the model of a checkpoint (eval mode) and return it with the checkpoint dict."""
    ckpt = load_checkpoint(path)
    model = build_model(ckpt["arch"])
    model.load_state_dict(ckpt["model"])
    return model.eval(), ckpt
