"""mIoU of the classical detectors on the val split, overall and per source, before and after refitting.

"before" = the original skin_segmentation project's parameters (no parameter file: defaults);
"after" = the fitted ``models/classical.npz`` (or ``--params``). Only ``ellipse-diag``, ``icm``
and ``face`` read fitted values; the other methods are the same in both columns.
Per image: the method's probability (post-processing included, unless ``--no-post``) at
threshold 0.5 against the mask, IoU (two empty masks = 1); then the mean per source and overall.
Images are used at full resolution.

    .venv/bin/python -m benchmarks.accuracy.classical_miou --data /work/shared/data/skin --json /tmp/classical_miou.json
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np
from benchmarks.timing import Stopwatch

METHODS = ["ellipse", "ellipse-diag", "ycbcr", "hsv", "hsv+ycbcr", "icm", "face"]
REFITTED = {"ellipse-diag", "icm", "face"}


def evaluate(seg, ds, samples) -> dict[str, list[float]]:
    from streamseg.metrics import iou

    per_source: dict[str, list[float]] = defaultdict(list)
    for s in samples:
        img, truth = ds.load_image(s), ds.load_mask(s)
        seg.reset()
        per_source[s.source].append(iou(seg(img) >= 0.5, truth))
    return per_source


def summary(per_source: dict[str, list[float]]) -> dict[str, float]:
    out = {src: float(np.mean(v)) for src, v in sorted(per_source.items())}
    out["all"] = float(np.mean([x for v in per_source.values() for x in v]))
    return out


def main() -> None:
    from streamseg.dataset import SkinDataset
    from streamseg.segment import MethodOptions, create
    from streamseg.segment.classical.params import ClassicalParams, load_params

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="/work/shared/data/skin")
    ap.add_argument("--split", default="val")
    ap.add_argument("--params", type=Path, default=None, help="fitted parameter file (default: the shipped one)")
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--no-post", action="store_true", help="score the raw rules (no opening / blur)")
    ap.add_argument("--json")
    args = ap.parse_args()

    ds = SkinDataset(args.data)
    samples = [s for s in ds.samples(split=args.split) if s.mask is not None]
    fitted = load_params(args.params)
    print(f"{len(samples)} {args.split} images; fitted parameters: {fitted.source}", flush=True)
    extra = {"open": 0, "blur": 0} if args.no_post else {}
    with tempfile.TemporaryDirectory() as tmp:
        defaults = Path(tmp) / "defaults.npz"
        ClassicalParams().save(defaults)
        results: dict[str, dict] = {}
        for m in args.methods.split(","):
            runs = {"after": args.params or fitted.source}
            if m in REFITTED:
                runs = {"before": defaults, **runs}
            for label, params in runs.items():
                p = None if params == "defaults" else Path(params)
                seg = create(m, MethodOptions(params=p, extra=dict(extra)))
                with Stopwatch() as sw:
                    res = summary(evaluate(seg, ds, samples))
                results.setdefault(m, {})[label] = res
                print(
                    f"{m:13s} {label:6s} mIoU {res['all']:.4f}  "
                    + "  ".join(f"{k} {v:.3f}" for k, v in res.items() if k != "all")
                    + f"  ({sw.s:.0f} s)",
                    flush=True,
                )
                seg.close()
            if "before" not in results[m]:
                results[m]["before"] = results[m]["after"]
    if args.json:
        Path(args.json).write_text(json.dumps({"split": args.split, "post": not args.no_post, "results": results}, indent=1))


if __name__ == "__main__":
    main()
