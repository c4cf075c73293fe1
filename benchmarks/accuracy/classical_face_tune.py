"""Tune the ``face`` method's Mahalanobis radius and trim fraction on the val split.

Only images where MediaPipe finds a face count (the others fall back to ``ellipse-diag``).
Scores the raw per-image rule (no post-processing) by mean IoU, next to the fitted global
``ellipse-diag`` on the same images. Put the chosen values in ``ClassicalParams`` (defaults) or
in the parameter file's ``face`` entry.

    .venv/bin/python -m benchmarks.accuracy.classical_face_tune --data /work/shared/data/skin
"""

from __future__ import annotations

import argparse
from collections import defaultdict

import numpy as np


def main() -> None:
    from streamseg.dataset import SkinDataset
    from streamseg.metrics import iou
    from streamseg.segment import create
    from streamseg.segment.classical.colorspace import ellipse_lut, ycrcb_reference
    from streamseg.segment.classical.face import mahalanobis_lut, robust_stats, sample_mask

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="/work/shared/data/skin")
    ap.add_argument("--split", default="val")
    args = ap.parse_args()
    ds = SkinDataset(args.data)
    seg = create("face")
    ed = seg.params.ellipse_diag
    glob = ellipse_lut(ed[:2], ed[2:4], ed[4]) > 0
    radii, trims = (2.0, 2.5, 3.0, 3.5, 4.0, 5.0), (0.0, 0.05, 0.1, 0.2)
    res: dict = defaultdict(list)
    samples = [s for s in ds.samples(split=args.split) if s.mask is not None]
    for s in samples:
        img, truth = ds.load_image(s), ds.load_mask(s)
        face = seg.detect(img)
        if face is None:
            continue
        ycc = ycrcb_reference(img)
        cb, cr = ycc[..., 2], ycc[..., 1]
        res["ellipse-diag"].append(iou(glob[cb, cr], truth))
        m = sample_mask(img.shape[:2], face)
        x = np.stack([cb[m], cr[m]], 1)
        for t in trims:
            st = robust_stats(x, t)
            for r in radii:
                lut = glob if st is None else mahalanobis_lut(st[0], st[1], r) > 0
                res[(t, r)].append(iou(lut[cb, cr], truth))
    n = len(res["ellipse-diag"])
    print(f"{n} of {len(samples)} {args.split} images have a face; fitted ellipse-diag on them: {np.mean(res.pop('ellipse-diag')):.4f}")
    for (t, r), v in sorted(res.items()):
        print(f"trim {t:.2f} radius {r:.1f}: mIoU {np.mean(v):.4f}")


if __name__ == "__main__":
    main()
