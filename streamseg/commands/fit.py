"""``streamseg fit``: fit the classical detectors' parameters on a skin dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def command(
    data: Path = typer.Option(..., "--data", help="Dataset folder laid out like ../shared/data/skin (images/, masks/, manifest.csv)."),
    out: Path = typer.Option(Path("streamseg/data/models/classical.npz"), "--out", "-o", help="Parameter file to write (.npz or .json)."),
    split: str = typer.Option("train", "--split", help="Split to fit on."),
    tune_split: Optional[str] = typer.Option("val", "--tune-split", help="Split to tune the icm settings on ('none' = keep the defaults)."),
    include_weak: bool = typer.Option(False, "--include-weak", help="Also fit on images whose manifest quality is 'weak'."),
    max_side: int = typer.Option(512, "--max-side", min=32, help="Subsample larger images by an integer stride to this side (pixels)."),
    skin_components: int = typer.Option(3, "--skin-components", min=1, max=16, help="Skin GMM components."),
    bg_components: int = typer.Option(6, "--bg-components", min=1, max=16, help="Background GMM components."),
    limit: int = typer.Option(0, "--limit", min=0, help="Use at most this many images per split (0 = all; for quick runs)."),
    overwrite: bool = typer.Option(False, "--overwrite", "-y", help="Replace an existing --out file."),
) -> None:
    """Fit ellipse-diag (max mean IoU on the split), the icm colour mixtures, and tune icm.

    Writes a small .npz (plain arrays, no pickle) that the classical methods load; point them at
    it with MethodOptions.params, or replace the shipped streamseg/data/models/classical.npz.

    Examples:

        streamseg fit --data ../shared/data/skin --out streamseg/data/models/classical.npz -y

        streamseg fit --data ../shared/data/skin --out /tmp/quick.npz --limit 300 --tune-split none
    """
    from streamseg.offline.classical_fit import fit_classical

    fit_classical(
        data, out, split=split, tune_split=tune_split, include_weak=include_weak, max_side=max_side,
        skin_components=skin_components, bg_components=bg_components, limit=limit, overwrite=overwrite,
    )
