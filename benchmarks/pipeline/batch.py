"""`streamseg batch --workers N` against a shell loop of `streamseg video`, on N copies of a clip.

Both runs start from nothing (a fresh process each, outputs removed), write the same outputs
(one mask video per copy, same method and options) and are timed end to end: the loop pays
interpreter start-up and model loading once per file, the batch pays Ray start-up once and
model loading once per worker.

Usage:
    .venv/bin/python -m benchmarks.pipeline.batch [--copies 8] [--workers 2] [--method dlmv] [--clip CLIP] [--json out.json]
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

import av

ROOT = Path(__file__).resolve().parents[2]
EXE = str(Path(sys.executable).with_name("streamseg"))


def frames_of(path: Path) -> int:
    with av.open(str(path)) as c:
        return sum(1 for _ in c.decode(video=0))


def run(cmd: list[str], **kw) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, **kw)
    if proc.returncode != 0:
        sys.exit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr[-2000:]}")
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=int, default=8)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--method", default="dlmv")
    ap.add_argument("--clip", type=Path, default=ROOT / "examples" / "face_thumbsup_pixabay_720p.mp4")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="streamseg-batch-bench-"))
    try:
        src = tmp / "in"
        src.mkdir()
        for i in range(args.copies):
            shutil.copyfile(args.clip, src / f"copy{i:03d}.mp4")
        n_frames = frames_of(args.clip) * args.copies
        opts = ["-m", args.method, "-T", "mask"]

        loop_out = tmp / "loop"
        loop_out.mkdir()
        script = "; ".join(
            f"{EXE} video {src / f'copy{i:03d}.mp4'} -o {loop_out / f'copy{i:03d}_mask.mp4'} {' '.join(opts)}"
            for i in range(args.copies)
        )
        loop_s = run(["bash", "-c", f"set -e; {script}"])

        batch_s = run([EXE, "batch", str(src), "-o", str(tmp / "batch"), "--workers", str(args.workers), *opts])
        report = json.loads((tmp / "batch" / "batch_report.json").read_text())
        assert report["done"] == args.copies, report
        work_s = max(f["seconds"] for f in report["files"])  # the longest single file (a floor for any schedule)

        res = {
            "copies": args.copies, "frames": n_frames, "method": args.method, "workers": args.workers,
            "cpus": os.cpu_count(), "load_avg_1m": round(os.getloadavg()[0], 2),
            "loop_s": round(loop_s, 2), "loop_fps": round(n_frames / loop_s, 1),
            "batch_s": round(batch_s, 2), "batch_fps": round(n_frames / batch_s, 1),
            "batch_report_s": report["seconds"], "longest_file_s": round(work_s, 2),
            "speedup": round(loop_s / batch_s, 2),
        }
        print(json.dumps(res, indent=2))
        print(
            f"\n| run | wall s | fps |\n|---|---:|---:|\n"
            f"| shell loop of `streamseg video` ({args.copies} files) | {loop_s:.1f} | {n_frames / loop_s:.1f} |\n"
            f"| `streamseg batch --workers {args.workers}` | {batch_s:.1f} | {n_frames / batch_s:.1f} |\n"
            f"\nspeed-up {loop_s / batch_s:.2f}x ({n_frames} frames, {args.method}, load average {res['load_avg_1m']} on {res['cpus']} CPUs)"
        )
        if args.json:
            args.json.write_text(json.dumps(res, indent=2) + "\n")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
