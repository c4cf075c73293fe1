"""`streamseg batch` over photos: throughput per worker on 1 and 2 workers, and the scaling ratio.

Each run is a fresh `streamseg batch MANIFEST -o OUT --workers N --threads 1 -m METHOD` process
(a manifest of the first COUNT images of the folder, sorted by name). From its report:

- end to end: images / wall seconds of the process (interpreter, Ray and model start-up included);
- steady: images / (last image finished - first image started), from the per-image ``end`` and
  ``ms`` of ``batch_report.json`` (the start-up cost left out), and that divided by the workers;
- ms: the mean time one image takes on its worker (read, segment, write the PNG, statistics).

The scaling ratio is steady(2 workers) / steady(1 worker); 2.0 is perfect on 2 free cores.

Usage:
    .venv/bin/python -m benchmarks.pipeline.batch_images [--images DIR] [--count 2000] [--workers 1,2]
        [--method dlmv] [--chunk N] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EXE = str(Path(sys.executable).with_name("streamseg"))
IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")


def run_batch(manifest: Path, out: Path, workers: int, method: str, chunk: int | None, limit_s: float) -> dict:
    cmd = [EXE, "batch", str(manifest), "-o", str(out), "-m", method, "--workers", str(workers), "--threads", "1"]
    cmd += ["--chunk", str(chunk)] if chunk else []
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=limit_s)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr[-2000:]}")
    rep = json.loads((out / "batch_report.json").read_text())
    done = [f for f in rep["files"] if f["status"] == "done"]
    first = min(f["end"] - f["ms"] / 1000 for f in done)
    last = max(f["end"] for f in done)
    steady = len(done) / (last - first)
    return {
        "workers": workers, "images": len(done), "wall_s": round(wall, 2), "end_to_end_ips": round(len(done) / wall, 2),
        "steady_ips": round(steady, 2), "per_worker_ips": round(steady / workers, 2),
        "mean_ms": round(sum(f["ms"] for f in done) / len(done), 2), "backend": rep["backend"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=Path, default=Path("/work/shared/data/skin/images"))
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--method", default="dlmv")
    ap.add_argument("--chunk", type=int, default=None)
    ap.add_argument("--limit-s", type=float, default=600.0, help="give up on one run after this long")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()

    images = sorted(p for p in args.images.iterdir() if p.suffix.lower() in IMAGE_EXTS)[: args.count]
    if not images:
        sys.exit(f"no images in {args.images}")
    tmp = Path(tempfile.mkdtemp(prefix="streamseg-batch-images-"))
    try:
        manifest = tmp / "images.txt"
        manifest.write_text("".join(f"{p}\n" for p in images))
        rows = []
        for n in (int(w) for w in args.workers.split(",")):
            out = tmp / f"out{n}"
            row = run_batch(manifest, out, n, args.method, args.chunk, args.limit_s)
            rows.append(row)
            print(json.dumps(row), flush=True)
            shutil.rmtree(out, ignore_errors=True)
        base = next((r for r in rows if r["workers"] == 1), None)
        result = {
            "method": args.method, "count": len(images), "images": str(args.images), "cores": os.cpu_count(),
            "load_avg_1min": round(os.getloadavg()[0], 2), "runs": rows,
            "scaling": {str(r["workers"]): round(r["steady_ips"] / base["steady_ips"], 2) for r in rows} if base else {},
        }
        print(f"{'workers':>7} {'images/s steady':>15} {'per worker':>10} {'end to end':>10} {'ms/image':>8}")
        for r in rows:
            print(f"{r['workers']:>7} {r['steady_ips']:>15.1f} {r['per_worker_ips']:>10.1f} {r['end_to_end_ips']:>10.1f} {r['mean_ms']:>8.1f}")
        print(f"scaling ratio (steady, vs 1 worker): {result['scaling']}; load average {result['load_avg_1min']} on {result['cores']} cores")
        if args.json:
            args.json.write_text(json.dumps(result, indent=2) + "\n")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
