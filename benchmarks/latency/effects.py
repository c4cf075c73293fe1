"""Cost of each effect at 1280x720 beside one ``cv2.cvtColor`` (the memory floor), single thread.

Frame: frame 60 of the demo clip (a synthetic one without it). Masks: ``face`` is an ellipse
over the face and hand, about 15 % of the frame (what ``dlmv`` finds on that frame), ``full``
is a mask covering the whole frame (the worst case: work is limited to the mask's box).
Rounds are interleaved; the headline is the median CPU time of the calling thread (what the
effect costs), beside the wall time's minimum and median (which on a loaded machine also hold
the time spent waiting for a core). The alpha encoders are timed
separately, with their own threads, as ms per frame over ``--encode-frames`` frames.

    .venv/bin/python -m benchmarks.latency.effects --runs 30

``--pipeline``: instead, ``streamseg video -T mask`` against ``streamseg video -T retouch`` on
the demo clip (the CLI itself, default model ``dlmv``), interleaved, ``--repeats`` times each
in one run; fps is the CLI's own (frames / time of the frame loop, model loading left out).

    .venv/bin/python -m benchmarks.latency.effects --pipeline --repeats 2
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from streamseg import effects as fx
from streamseg.effects.params import EffectParams
from benchmarks.timing import Stopwatch, interleaved_ms

W, H = 1280, 720
CLIP = Path(__file__).resolve().parents[2] / "examples" / "face_thumbsup_pixabay_720p.mp4"


def demo_frame() -> tuple[np.ndarray, str]:
    if CLIP.exists():
        import av

        with av.open(str(CLIP)) as c:
            for i, f in enumerate(c.decode(video=0)):
                if i == 60:
                    return cv2.resize(f.to_ndarray(format="bgr24"), (W, H)), "demo clip frame 60"
    from streamseg.synthetic import synthetic_frame

    return synthetic_frame(0, W, H), "synthetic frame"


def masks() -> dict[str, np.ndarray]:
    face = np.zeros((H, W), np.float32)
    cv2.ellipse(face, (600, 400), (190, 250), 0, 0, 360, 1.0, -1)
    return {"face": face, "full": np.ones((H, W), np.float32)}


def timeall(fns: dict, runs: int) -> dict[str, tuple[float, float, float]]:
    """name -> (min wall ms, median wall ms, median CPU ms of this thread). The CPU time leaves
    out the time this thread waited for a core, which the wall time on a loaded machine does not."""
    wall, cpu = interleaved_ms(fns, runs, warmup=1, cpu=True)
    return {k: (min(wall[k]), statistics.median(wall[k]), statistics.median(cpu[k])) for k in fns}


def encode_ms(frame: np.ndarray, mask: np.ndarray, ext: str, n: int, codec: str | None = None) -> float:
    from streamseg.sinks.alpha_writer import AlphaVideoWriter

    bgra = fx.alpha(frame, mask, 3)
    with tempfile.TemporaryDirectory() as d:
        w = AlphaVideoWriter(Path(d) / f"b{ext}", W, H, Fraction(30), codec=codec)
        with Stopwatch() as sw:
            for i in range(n):
                w.write(bgra, pts=i)
            w.finish()
        return sw.ms / n


def pipeline_fps(output_type: str, out_dir: Path, method: str) -> tuple[float, int]:
    """(fps, frames) of one ``streamseg video -T output_type`` run on the demo clip."""
    import re
    import subprocess
    import sys

    exe = Path(sys.executable).with_name("streamseg")
    cmd = [str(exe), "video", str(CLIP), "-T", output_type, "-m", method, "-o", str(out_dir / f"b_{output_type}.mp4"), "-y"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    m = re.search(r"(\d+) frames in [\d.]+ s \(([\d.]+) fps\)", r.stderr)
    if r.returncode != 0 or m is None:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{r.stderr}")
    return float(m.group(2)), int(m.group(1))


def pipeline(repeats: int, method: str) -> None:
    """``streamseg video -T mask`` vs ``-T retouch`` fps on the demo clip, interleaved."""
    if not CLIP.exists():
        raise SystemExit(f"demo clip not found: {CLIP}")
    fps: dict[str, list[float]] = {"mask": [], "retouch": []}
    frames = 0
    with tempfile.TemporaryDirectory() as d:
        for _ in range(repeats):
            for t in fps:
                f, frames = pipeline_fps(t, Path(d), method)
                fps[t].append(f)
    print(f"streamseg video {CLIP.name} -m {method}: {frames} frames, {repeats} interleaved runs each; "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}\n")
    print("| `-T` | fps (median) | fps (each run) |")
    print("|---|---:|---|")
    for t, xs in fps.items():
        print(f"| {t} | {statistics.median(xs):.1f} | {', '.join(f'{x:.1f}' for x in xs)} |")
    print(f"\nretouch / mask: {statistics.median(fps['retouch']) / statistics.median(fps['mask']):.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--encode-frames", type=int, default=60)
    ap.add_argument("--pipeline", action="store_true", help="streamseg video -T mask vs -T retouch fps on the demo clip")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--method", default="dlmv")
    args = ap.parse_args()
    if args.pipeline:
        pipeline(args.repeats, args.method)
        return
    cv2.setNumThreads(1)
    frame, what = demo_frame()
    ms = masks()
    params = EffectParams(feather_px=3.0, strength=0.5)
    person = np.ones((H, W), np.float32)
    names = ["overlay", "alpha", "retouch", "blur", "pixelate", "hair"]
    fns = {("cvtColor", ""): lambda: cv2.cvtColor(frame, cv2.COLOR_BGR2YCrCb)}
    for name in names:
        for mk, m in ms.items():
            fns[(name, mk)] = lambda name=name, m=m: fx.render_effect(name, frame, m, params, person)
    fns[("feather (part of alpha/retouch/blur/pixelate)", "face")] = lambda: fx.feather(ms["face"], 3.0)
    fns[("skin fraction", "face")] = lambda: fx.skin_fraction(ms["face"])
    hud = fx.hud_lines(fps=30.0, latency_ms=40.0, method="dlmv", provider="cpu", skin_fraction=0.15)
    fns[("HUD (copy + draw)", "")] = lambda: fx.draw_hud(frame.copy(), hud)
    res = timeall(fns, args.runs)
    floor = res[("cvtColor", "")][2]
    print(f"{W}x{H}, {what}, 1 OpenCV thread, {args.runs} interleaved runs; {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}\n")
    print("| effect | mask | CPU ms / frame (median) | wall ms (min) | wall ms (median) | CPU x cvtColor |")
    print("|---|---|---:|---:|---:|---:|")
    for (name, mk), (lo, med, c) in res.items():
        print(f"| {name} | {mk or '-'} | {c:.2f} | {lo:.2f} | {med:.2f} | {c / floor:.1f} |")
    print(f"\nAlpha video encode at {W}x{H} (encoder threads, writer thread; {args.encode_frames} frames):\n")
    print("| writer | ms / frame | fps |")
    print("|---|---:|---:|")
    writers = (
        ("`.mov` ProRes 4444 (prores_ks, yuva444p10le; the default)", ".mov", None),
        ("`.mov` ProRes 4444 (prores_aw, `--codec prores_aw`)", ".mov", "prores_aw"),
        ("`.webm` VP9 (libvpx-vp9, yuva420p, realtime, cpu-used 8)", ".webm", None),
    )
    for label, ext, codec in writers:
        t = encode_ms(frame, ms["face"], ext, args.encode_frames, codec)
        print(f"| {label} | {t:.1f} | {1000 / t:.0f} |")


if __name__ == "__main__":
    main()
