"""Speed of the classical detectors: numba kernels vs plain NumPy/OpenCV vs one cv2.cvtColor.

For every method and frame size it reports (ms per frame, min and median of ``--runs``):

Measurements are interleaved round by round and the minimum is the headline (the median is
printed too): on a shared machine the median mostly measures the other processes.

* ``kernel``: the numba colour pass into a preallocated output (for ``icm``: the whole MRF;
  for ``face``: the in-loop YCbCr kernel with a per-frame table);
* ``numpy``: the plain NumPy/OpenCV implementation of the same rule (``reference.py``);
* ``cvt``: one ``cv2.cvtColor(frame, COLOR_BGR2YCrCb, dst)`` over the same frame (the floor);
* ``segment``: the full method call, post-processing included (and face detection for ``face``);
* ratios ``kernel/cvt`` and ``numpy/kernel``; for ``icm`` also the sweeps alone.

The frame is the demo clip's first frame resized (or a synthetic one without the clip).

    .venv/bin/python -m benchmarks.latency.classical_speed --json /tmp/classical_speed.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform

import cv2
import numpy as np
from benchmarks.timing import Stopwatch

SIZES = [(640, 480), (1280, 720), (1920, 1080)]
METHODS = ["ellipse", "ellipse-diag", "ycbcr", "hsv", "hsv+ycbcr", "icm", "face"]


def timeall(fns: dict, runs: int) -> dict[str, tuple[float, float]]:
    """Time several callables in interleaved rounds (so bursts of load from other processes hit
    all of them alike); returns name -> (min ms, median ms). A name ending in ``*`` runs only in
    every 5th round (slow NumPy implementations)."""
    for fn in fns.values():
        fn()
    ts: dict[str, list[float]] = {k: [] for k in fns}
    for r in range(runs):
        for k, fn in fns.items():
            if k.endswith("*") and r % 5:
                continue
            with Stopwatch() as sw:
                fn()
            ts[k].append(sw.s)
    return {k.rstrip("*"): (float(np.min(v) * 1e3), float(np.median(v) * 1e3)) for k, v in ts.items()}


def demo_frame() -> np.ndarray:
    from streamseg.paths import demo_clip

    cap = cv2.VideoCapture(str(demo_clip()))
    ok, frame = cap.read()
    cap.release()
    if ok:
        return frame
    rng = np.random.default_rng(0)
    return cv2.GaussianBlur(rng.integers(0, 256, (720, 1280, 3), dtype=np.uint8), (31, 31), 0)


def bench(methods: list[str], runs: int, threads: int) -> list[dict]:
    from streamseg.segment import MethodOptions, create
    from streamseg.segment.classical import kernels, reference
    from streamseg.segment.classical.face import mahalanobis_lut
    from streamseg.segment.classical.icm import MRFBuffers, icm_labels, mrf_setup, mrf_sweeps

    base = demo_frame()
    segs = {m: create(m, MethodOptions(threads=threads)) for m in methods}
    rows = []
    for w, h in SIZES:
        frame = np.ascontiguousarray(cv2.resize(base, (w, h), interpolation=cv2.INTER_AREA))
        dst = np.empty_like(frame)
        out = np.empty((h, w), np.float32)
        for m, seg in segs.items():
            seg.warmup(h, w)
            fns = {"cvt": lambda: cv2.cvtColor(frame, cv2.COLOR_BGR2YCrCb, dst)}
            if m == "icm":
                fns["kernel"] = lambda: icm_labels(frame, seg.dtable, seg.lam, seg.sweeps, True)
                fns["numpy*"] = lambda: icm_labels(frame, seg.dtable, seg.lam, seg.sweeps, False)
                lab = cv2.cvtColor(frame, cv2.COLOR_BGR2Lab)
                bufs = {}
                for use in (True, False):
                    bufs[use] = MRFBuffers.of(h, w)
                    mrf_setup(frame, lab, seg.dtable, seg.lam, use, bufs[use])
                init = {use: (b.labels.copy(), b.signs.copy()) for use, b in bufs.items()}

                def sweeps(use, n=seg.sweeps):
                    b = bufs[use]
                    b.labels[...], b.signs[...] = init[use]  # both stop after the same sweep
                    mrf_sweeps(b, n, use)  # kernel: sweeps over the packed layout + unpacking the labels

                fns["sweeps_kernel"] = lambda: sweeps(True)
                fns["sweeps_numpy*"] = lambda: sweeps(False)
            elif m == "face":
                lut = mahalanobis_lut(np.array([110.0, 150.0]), np.diag([25.0, 25.0]), 2.5)
                fns["kernel"] = lambda: kernels.cbcr_lut(frame, lut, out)
                fns["numpy*"] = lambda: reference.cbcr_lut(frame, lut, out)
            else:
                table = seg.table()
                fns["kernel"] = lambda: kernels.cube_table(frame, table, out)
                fns["numpy*"] = lambda: seg.reference(frame)
            fns["segment"] = lambda: seg(frame)
            row = {"method": m, "size": f"{w}x{h}", **timeall(fns, runs)}
            cvt = row["cvt"]
            row["kernel/cvt"] = row["kernel"][0] / cvt[0]
            row["numpy/kernel"] = row["numpy"][0] / row["kernel"][0]
            if "sweeps_kernel" in row:
                row["sweeps numpy/kernel"] = row["sweeps_numpy"][0] / row["sweeps_kernel"][0]
            rows.append(row)
            print(
                f"{m:13s} {w}x{h}: kernel {row['kernel'][0]:7.3f} ms (median {row['kernel'][1]:7.3f})"
                f"  numpy {row['numpy'][0]:8.3f}  cvtColor {cvt[0]:6.3f}  segment {row['segment'][0]:7.2f} (median {row['segment'][1]:7.2f})"
                f"  kernel/cvt {row['kernel/cvt']:5.2f}x  numpy/kernel {row['numpy/kernel']:6.1f}x"
                + (f"  sweeps numpy/kernel {row['sweeps numpy/kernel']:.1f}x" if "sweeps_kernel" in row else ""),
                flush=True,
            )
    return rows


def markdown(rows: list[dict]) -> str:
    """The rows as a Markdown table (min ms; ratios of the minima)."""
    out = [
        "| method | size | kernel | numpy | cvtColor | segment | kernel/cvt | numpy/kernel |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ratio = f"{r['numpy/kernel']:.1f}x"
        if "sweeps numpy/kernel" in r:
            ratio += (
                f" (sweeps alone {r['sweeps_kernel'][0]:.2f} vs {r['sweeps_numpy'][0]:.1f} ms:"
                f" {r['sweeps numpy/kernel']:.1f}x)"
            )
        out.append(
            f"| `{r['method']}` | {r['size']} | {r['kernel'][0]:.2f} | {r['numpy'][0]:.2f} | {r['cvt'][0]:.2f} "
            f"| {r['segment'][0]:.2f} | {r['kernel/cvt']:.2f}x | {ratio} |"
        )
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--methods", default=",".join(METHODS), help="comma-separated method names")
    ap.add_argument("--runs", type=int, default=50, help="timed runs per measurement (min and median reported)")
    ap.add_argument("--threads", type=int, default=1, help="numba and OpenCV threads for everything measured")
    ap.add_argument("--json", help="write the rows here")
    ap.add_argument("--markdown", action="store_true", help="also print the rows as the Markdown table of docs/classical.md")
    args = ap.parse_args()
    import numba

    numba.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)

    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, numba threads {numba.get_num_threads()}, "
        f"OpenCV threads {cv2.getNumThreads()}, load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    rows = bench(args.methods.split(","), args.runs, args.threads)
    if args.markdown:
        print(markdown(rows))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"threads": numba.get_num_threads(), "loadavg": os.getloadavg()[0], "rows": rows}, fh, indent=1)


if __name__ == "__main__":
    main()
