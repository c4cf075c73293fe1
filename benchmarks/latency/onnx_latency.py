"""Latency of the ONNX runtime on DLMV- and U²-NetP-shaped models, split into pre-processing,
inference and post-processing.

By default the two architectures of :mod:`streamseg.train.models` are exported, randomly
initialised (speed does not depend on the weights), to a temporary directory with the same
export settings as ``streamseg export`` (probability output, dynamic batch, opset 17) and run
through :class:`~streamseg.segment.onnx_model.OnnxSegmenter` exactly as ``streamseg video``
runs them: one 1280x720 BGR frame (frame 50 of the demo clip when present, else noise) ->
resize + HWC->CHW (pre) -> ``session.run`` (inference) -> resize back to 1280x720 (post).
``--onnx FILE`` benchmarks existing model files (e.g. ``models/dlmv-256.onnx``) instead.

Reported per model: median and p90 in ms over ``--runs`` runs after ``--warmup`` runs, per
stage and in total, and frames per second from the median total. With ``--batch N`` the
frame is repeated N times per inference and times are per frame.

Usage:
    .venv/bin/python -m benchmarks.latency.onnx_latency                        # both, CPU or CUDA (auto)
    .venv/bin/python -m benchmarks.latency.onnx_latency --provider cpu --threads 2 --runs 30
    .venv/bin/python -m benchmarks.latency.onnx_latency --provider cuda --batch 8 --json out/onnx_cuda.json
    .venv/bin/python -m benchmarks.latency.onnx_latency --onnx models/dlmv-256.onnx --onnx models/u2netp-256.onnx
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

from streamseg.paths import demo_clip
from streamseg.segment.base import MethodOptions
from streamseg.segment.onnx_model import OnnxSegmenter
from benchmarks.timing import Stopwatch, now, summary

#: architecture -> input side, as the mission specifies
ARCHS = {"dlmv": 256, "u2netp": 512}


def export_random(arch: str, size: int, out_dir: Path) -> Path:
    """Export a randomly initialised ``arch`` at ``size`` (probability output, dynamic batch) + its spec."""
    import torch

    from streamseg.train.export import export_onnx, spec_dict, write_spec
    from streamseg.train.models import build_model

    torch.manual_seed(0)
    path = export_onnx(build_model(arch).eval(), out_dir / f"{arch}-{size}.onnx", size)
    write_spec(path.with_suffix(".json"), spec_dict(f"{arch}-bench", f"random-weight {arch}", path.name, size, None))
    return path


def test_frame(width: int, height: int) -> np.ndarray:
    """Frame 50 of the demo clip resized to ``width x height``, or uniform noise without the clip."""
    clip = demo_clip()
    if clip.is_file():
        cap = cv2.VideoCapture(str(clip))
        cap.set(cv2.CAP_PROP_POS_FRAMES, 50)
        ok, frame = cap.read()
        cap.release()
        if ok:
            return cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)
    return np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)


def stats(values: list[float], per: int) -> dict[str, float]:
    """Median / p90 / mean in ms per frame of seconds-per-call samples (``per`` frames per call)."""
    s = summary([v * 1000.0 / per for v in values])
    return {"median": s["median"], "p90": s["p90"], "mean": s["mean"]}


def bench(seg: OnnxSegmenter, frame: np.ndarray, runs: int, warmup: int, batch: int) -> dict:
    """Time pre / inference / post separately on ``batch`` copies of ``frame`` per call."""
    frames = [frame] * batch
    sizes = [frame.shape[:2]] * batch
    pre_t, inf_t, post_t, tot_t = [], [], [], []
    for i in range(warmup + runs):
        t0 = now()
        blob = seg.preprocess(frames)
        t1 = now()
        raw = seg.infer(blob)
        t2 = now()
        probs = seg.postprocess(raw, sizes)
        t3 = now()
        assert probs[0].shape == frame.shape[:2]
        if i >= warmup:
            pre_t.append(t1 - t0)
            inf_t.append(t2 - t1)
            post_t.append(t3 - t2)
            tot_t.append(t3 - t0)
    total = stats(tot_t, batch)
    return {
        "pre": stats(pre_t, batch),
        "inference": stats(inf_t, batch),
        "post": stats(post_t, batch),
        "total": total,
        "fps": 1000.0 / total["median"],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--archs", default="dlmv,u2netp", help="architectures to export and time (dlmv, u2netp)")
    ap.add_argument("--onnx", action="append", type=Path, default=[], help="time this model file instead (repeatable)")
    ap.add_argument("--provider", default="auto", help="auto, cuda, tensorrt or cpu")
    ap.add_argument("--threads", type=int, default=0, help="intra-op threads (0 = ORT default)")
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--frame", default="1280x720", help="frame size WxH")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args(argv)
    if args.runs < 30:
        print("note: fewer than 30 runs", file=sys.stderr)
    width, height = (int(v) for v in args.frame.lower().split("x"))
    frame = test_frame(width, height)
    opts = MethodOptions(provider=args.provider, threads=args.threads, batch=args.batch, strict=True)

    results = []
    with tempfile.TemporaryDirectory(prefix="streamseg-onnx-bench-") as tmp:
        paths = list(args.onnx)
        if not paths:
            for arch in filter(None, args.archs.split(",")):
                with Stopwatch() as sw:
                    paths.append(export_random(arch, ARCHS[arch], Path(tmp)))
                print(f"exported {arch} in {sw.s:.1f}s", file=sys.stderr)
        for path in paths:
            seg = OnnxSegmenter.from_file(path, opts)
            r = bench(seg, frame, args.runs, args.warmup, args.batch if seg.dynamic_batch else 1)
            h, w = seg.input_size
            r.update(model=path.name, input=f"{w}x{h}", provider=seg.provider, batch=args.batch if seg.dynamic_batch else 1)
            results.append(r)
            seg.close()

    print(f"\n{width}x{height} frame, {args.runs} runs after {args.warmup} warm-up, threads={args.threads or 'default'}, "
          f"batch={args.batch}; ms per frame, median / p90")
    head = f"{'model':<18}{'input':<9}{'provider':<26}{'pre':>13}{'inference':>17}{'post':>13}{'total':>17}{'fps':>7}"
    print(head)
    print("-" * len(head))
    for r in results:
        cells = "".join(
            f"{r[k]['median']:>{wd - 7}.2f} /{r[k]['p90']:>5.1f}" for k, wd in (("pre", 13), ("inference", 17), ("post", 13), ("total", 17))
        )
        print(f"{r['model']:<18}{r['input']:<9}{r['provider']:<26}{cells}{r['fps']:>7.1f}")
    if args.json:
        import onnxruntime

        meta = {"machine": platform.processor() or platform.machine(), "onnxruntime": onnxruntime.__version__,
                "frame": [width, height], "runs": args.runs, "warmup": args.warmup, "threads": args.threads}
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"meta": meta, "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
