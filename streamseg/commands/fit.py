"""``streamseg fit``: fit the classical detectors' parameters on a skin dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def command(
    data: Path = typer.Option(..., "--data", help="Dataset folder laid out like ../shared/data/skin (images/, masks/, manifest.csv)."),
    out: Path = typer.Option(Path("models/classical.npz"), "--out", "-o", help="Parameter file to write (.npz or .json)."),
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
    it with MethodOptions.params, or replace models/classical.npz.

    Examples:

        streamseg fit --data ../shared/data/skin --out models/classical.npz -y

        streamseg fit --data ../shared/data/skin --out /tmp/quick.npz --limit 300 --tune-split none
    """
    from dataclasses import replace
    from datetime import datetime, timezone

    from streamseg import log
    from streamseg.dataset import SkinDataset
    from streamseg.errors import InputError, OutputError
    from streamseg.segment.classical import fit
    from streamseg.segment.classical.colorspace import ellipse_distance
    from streamseg.segment.classical.kernels import numba_error
    from streamseg.segment.classical.params import ORIGINAL_ELLIPSE_DIAG, ClassicalParams

    if out.suffix.lower() not in (".npz", ".json"):
        raise OutputError(f"--out must end in .npz or .json, not {out.name!r}")
    if out.exists() and not overwrite:
        raise OutputError(f"{out} exists (use --overwrite to replace it)")
    ds = SkinDataset(data)
    samples = [s for s in ds.samples(split=split) if include_weak or s.quality != "weak"]
    if limit:
        samples = samples[:: max(1, len(samples) // limit)][:limit]
    if not any(s.mask is not None for s in samples):
        raise InputError(f"{data}: no image/mask pairs in split {split!r}")

    done = fit.timed(f"reading {len(samples)} {split} images (max side {max_side})", log.info)
    hist = fit.collect_histograms(ds, samples, max_side)
    done()
    orig = ellipse_distance(ORIGINAL_ELLIPSE_DIAG[:2], ORIGINAL_ELLIPSE_DIAG[2:4], ORIGINAL_ELLIPSE_DIAG[4]) <= 1.0
    before = hist.mean_iou(orig)
    done = fit.timed(f"fitting ellipse-diag (start: original, train mIoU {before:.4f})", log.info)
    ell, after = fit.fit_ellipse(hist, ORIGINAL_ELLIPSE_DIAG)
    done()
    log.info("  ellipse-diag: centre Cb %.3f Cr %.3f, semi-axes %.3f / %.3f, angle %.3f deg, train mIoU %.4f" % (*ell, after))

    done = fit.timed(f"fitting GMMs ({skin_components} skin, {bg_components} background components)", log.info)
    hs, hb = fit.class_histograms(hist)
    skin = fit.fit_gmm(hs, skin_components)
    bg = fit.fit_gmm(hb, bg_components)
    done()

    params = ClassicalParams(ellipse_diag=ell, skin_gmm=skin, bg_gmm=bg)
    meta: dict = {
        "fitted_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "data": str(data),
        "split": split,
        "images": len(hist.ids),
        "include_weak": include_weak,
        "max_side": max_side,
        "ellipse_diag_train_miou_before": round(before, 5),
        "ellipse_diag_train_miou_after": round(after, 5),
    }
    if tune_split and tune_split != "none":
        val = [s for s in ds.samples(split=tune_split)]
        if limit:
            val = val[:: max(1, len(val) // limit)][:limit]
        if val:
            done = fit.timed(f"tuning icm on {len(val)} {tune_split} images", log.info)
            pairs = fit.load_pairs(ds, val, max_side)
            best, _ = fit.tune_icm(pairs, skin, bg, use_numba=numba_error() is None, log=log.info)
            done()
            log.info(f"  icm: lambda {best['lambda']}, prior {best['prior']}, sweeps {best['sweeps']}, {tune_split} mIoU {best['miou']:.4f}")
            params = replace(params, icm_lambda=best["lambda"], icm_prior=best["prior"], icm_sweeps=int(best["sweeps"]))
            meta.update({"icm_tuned_on": tune_split, "icm_tune_miou": round(best["miou"], 5)})
        else:
            log.warn(f"no {tune_split!r} images: icm keeps its default settings")
    params = replace(params, meta=meta)
    try:
        params.save(out)
    except OSError as exc:
        raise OutputError(f"cannot write {out}: {exc}") from None
    log.info(f"wrote {out} ({out.stat().st_size / 1024:.1f} KiB)")
