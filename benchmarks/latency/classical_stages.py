"""Where the time of a colour rule's ``segment()`` goes, stage by stage, next to the cvtColor floor.

All stages run in interleaved rounds (each round times every stage once, so bursts of load from
other processes hit them alike) with numba and OpenCV on the same number of threads. Reports the
minimum and the median per stage, in ms per frame, and each against the floor (one
``cv2.cvtColor(frame, COLOR_BGR2YCrCb, dst)``).

    .venv/bin/python -m benchmarks.latency.classical_stages --runs 400 --threads 1 --size 1280x720
"""

from __future__ import annotations

import argparse
import os
import platform

import cv2
import numpy as np
from benchmarks.timing import interleaved_ms


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--method", default="ellipse-diag")
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--runs", type=int, default=400)
    ap.add_argument("--threads", type=int, default=1, help="numba and OpenCV threads for every stage")
    args = ap.parse_args()
    import numba

    from streamseg.evaluate.latency import bench_frame
    from streamseg.segment import MethodOptions, create
    from streamseg.segment.classical import kernels
    from streamseg.segment.classical.postprocess import _element

    numba.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    w, h = (int(v) for v in args.size.lower().split("x"))
    frame = np.ascontiguousarray(bench_frame(w, h))
    seg = create(args.method, MethodOptions(threads=args.threads))
    seg.warmup(h, w)
    table = seg.table()
    el = _element(3)
    dst = np.empty_like(frame)
    f32 = np.empty((h, w), np.float32)
    u8 = np.empty((h, w), np.uint8)
    kernels.cube_table(frame, table, f32)
    binary = f32.copy()
    opened = cv2.morphologyEx(binary, cv2.MORPH_OPEN, el)
    u8b = (binary * 255).astype(np.uint8)
    scale = np.float32(1.0 / 255.0)
    has_u8 = hasattr(kernels, "cube_table_u8")
    if has_u8:
        kernels.cube_table_u8(frame, table, u8)

    stages = {
        "floor cvtColor": lambda: cv2.cvtColor(frame, cv2.COLOR_BGR2YCrCb, dst),
        "alloc np.empty f32": lambda: np.empty((h, w), np.float32),
        "alloc+touch f32": lambda: np.empty((h, w), np.float32).fill(0),
        "kernel cube_table -> f32 (prealloc)": lambda: kernels.cube_table(frame, table, f32),
        "kernel cube_table -> f32 (new array)": lambda: kernels.cube_table(frame, table, np.empty((h, w), np.float32)),
        "raw() (check + alloc + kernel)": lambda: seg.raw(frame),
        "open 3x3 f32 (in place)": lambda: cv2.morphologyEx(binary.copy(), cv2.MORPH_OPEN, el, dst=f32),
        "copy f32": lambda: binary.copy(),
        "open 3x3 u8": lambda: cv2.morphologyEx(u8b, cv2.MORPH_OPEN, el, dst=u8),
        "u8 -> f32 (* 1/255, numpy)": lambda: np.multiply(u8b, scale, out=f32, dtype=np.float32),
        "blur 5x5 f32 (in place)": lambda: cv2.GaussianBlur(opened, (5, 5), 0, dst=f32),
        "blur 5x5 u8 (not bit-identical: comparison only)": lambda: cv2.GaussianBlur(u8b, (5, 5), 0, dst=u8),
        "post (open + blur) f32": lambda: seg.post(binary.copy()),
        "segment() before: post(raw()), float32 opening": lambda: seg.post(seg.raw(frame)),
        "segment() now: uint8 opening": lambda: seg(frame),
    }
    if has_u8:
        stages["kernel cube_table_u8 -> u8 (prealloc)"] = lambda: kernels.cube_table_u8(frame, table, u8)
        stages["kernel u8_to_f32"] = lambda: kernels.u8_to_f32(u8b, f32)
        stages["kernel open3_u8_to_f32 (fused open + scale)"] = lambda: kernels.open3_u8_to_f32(u8b, f32)
        stages["kernel open3_blur5_binary (fused open + blur)"] = lambda: kernels.open3_blur5_binary(u8b, f32)
    ts = {k: [ms / 1e3 for ms in v] for k, v in interleaved_ms(stages, args.runs, warmup=5).items()}
    floor_min = min(ts["floor cvtColor"]) * 1e3
    floor_med = float(np.median(ts["floor cvtColor"])) * 1e3
    print(
        f"{cpu_model()}, {os.cpu_count()} CPUs, numba threads {numba.get_num_threads()}, OpenCV threads "
        f"{cv2.getNumThreads()}, {args.method} {w}x{h}, {args.runs} interleaved rounds, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print("| stage | min ms | median ms | min / floor min | median / floor median |")
    print("|---|---:|---:|---:|---:|")
    for k, v in ts.items():
        mn, md = min(v) * 1e3, float(np.median(v)) * 1e3
        print(f"| {k} | {mn:.3f} | {md:.3f} | {mn / floor_min:.2f}x | {md / floor_med:.2f}x |")


if __name__ == "__main__":
    main()
