"""Tune the One-Euro filter of ROI boxes/landmarks on a simulated hand trajectory.

The target (size 100 px) rests, waves (1 Hz, +-2 sizes), rests, swipes (6 sizes in 0.3 s) and
rests, sampled at 25 fps with Gaussian measurement noise (``--noise``, fraction of the size).
For each (min_cutoff, beta) it reports the jitter while resting (px RMS of the output around
the truth, at least 0.5 s after any motion; the raw measurement's is ``noise`` x 100 px), the
lag error while moving (px RMS), and the overall RMS error; MediaPipe's default (1.0, 0) is
the first row.

Usage:
    .venv/bin/python -m benchmarks.smoothing.rois_filter_tuning [--noise 0.02] [--fps 25]
"""

from __future__ import annotations

import argparse

import numpy as np

from streamseg.rois.one_euro import OneEuroFilter

SIZE = 100.0


def trajectory(fps: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Times (s), true positions (px) and a "moving" flag."""
    t = np.arange(0, 6.0, 1 / fps)
    x = np.zeros_like(t)
    wave = (t >= 1) & (t < 3)
    x[wave] = 2 * SIZE * np.sin(2 * np.pi * (t[wave] - 1))
    swipe = (t >= 4) & (t < 4.3)
    x[swipe] = 6 * SIZE * (t[swipe] - 4) / 0.3
    x[t >= 4.3] = 6 * SIZE
    moving = wave | swipe | ((t >= 4.3) & (t < 4.5))
    return t, x, moving


def resting(t: np.ndarray) -> np.ndarray:
    """At rest and settled (at least 0.5 s after any motion)."""
    return ((t >= 0.5) & (t < 1.0)) | ((t >= 3.5) & (t < 4.0)) | (t >= 5.0)


def evaluate(min_cutoff: float, beta: float, d_cutoff: float, noise: float, fps: float, seeds: int = 5) -> tuple[float, float, float]:
    t, x, moving = trajectory(fps)
    still, move, total = [], [], []
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        z = x + rng.normal(0, noise * SIZE, x.shape)
        f = OneEuroFilter(min_cutoff, beta, d_cutoff)
        y = np.array([f(np.array([v]), ti, SIZE)[0] for v, ti in zip(z, t)])
        err = y - x
        settle = t > 0.5
        still.append(np.sqrt(np.mean(err[resting(t)] ** 2)))
        move.append(np.sqrt(np.mean(err[moving] ** 2)))
        total.append(np.sqrt(np.mean(err[settle] ** 2)))
    return float(np.mean(still)), float(np.mean(move)), float(np.mean(total))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--noise", type=float, default=0.02, help="measurement noise, fraction of the object size (default 0.02)")
    ap.add_argument("--fps", type=float, default=25.0)
    ap.add_argument("--d-cutoff", type=float, default=1.0)
    args = ap.parse_args()
    rows = []
    grid = [(1.0, 0.0)] + [(mc, b) for mc in (0.3, 0.5, 1.0, 2.0, 4.0) for b in (1.0, 2.0, 4.0, 8.0, 16.0)]
    for mc, b in grid:
        rows.append((mc, b, *evaluate(mc, b, args.d_cutoff, args.noise, args.fps)))
    print(f"noise {args.noise:.3f} x size ({args.noise * SIZE:.1f} px), {args.fps:g} fps, d_cutoff {args.d_cutoff}")
    print(f"{'min_cutoff':>10} {'beta':>5} {'jitter px':>10} {'moving px':>10} {'overall px':>11}")
    for i, (mc, b, s, m, tot) in enumerate(rows):
        print(f"{mc:10.2f} {b:5.1f} {s:10.2f} {m:10.2f} {tot:11.2f}{'   <- MediaPipe default' if i == 0 else ''}")
    best = min(rows[1:], key=lambda r: r[4])
    print(f"lowest overall error: min_cutoff={best[0]} beta={best[1]} (jitter {best[2]:.2f} px, moving {best[3]:.2f} px)")


if __name__ == "__main__":
    main()
