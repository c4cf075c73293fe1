"""Temporal benchmark: flicker, accuracy and lag of every smoother, per segmentation method.

Pseudo-videos (``streamseg.smooth.pseudo_video``) are made from val images of the skin data
set; each has a skin patch that appears at 1/3 and disappears at 2/3 of the clip (the step
changes that measure lag). Real clips (``../shared/media`` by default) have no ground truth:
they give the flicker without ground truth and the agreement with per-frame processing.
Two sets of pseudo-videos: "still camera" (no pan, zoom or rotation) and "moving camera". The
floor in each header is the dtSSD of per-frame masks of the same videos without noise, drift
and JPEG: the method's own errors moving with the scene, which smoothing cannot remove.

Columns (pseudo-videos; binary masks, threshold 0.5):
  dtSSD      RVM's dtSSD x100 against the true masks (lower = less flicker)
  vs none    dtSSD change relative to ``none`` (the target is <= -40 %)
  flicker    mean |m_t - m_{t-1}| x100 (percent of pixels flipping per frame)
  mIoU       mean IoU with the true masks, in points; d mIoU = change vs ``none``
  lag        frames until the smoothed mask has made 90 % of the change the per-frame mask makes,
             or stands within 10 % of that change of it, when the skin patch appears or
             disappears (mean / max over both steps of all videos), see
             ``streamseg.smooth.flicker.step_lag``; steps = how many of the steps the method
             sees at all (the others have no lag to measure)
Columns (clips): flicker, cIoU (consecutive-mask IoU), agree (mIoU with the per-frame mask).
Columns (--real CLIP..., real clips at their own resolution, streamed frame by frame):
  still      still-pixel flicker x100: mean |m_t - m_{t-1}| of the binary mask over the pixels
             whose grey frame, after a --still-blur Gaussian blur, changed by < --still-threshold
             levels (``streamseg.smooth.flicker.StillPixelFlicker``, pooled over the clip); the
             ratio is against ``none`` (the target is <= 0.40)
  flicker    mean |m_t - m_{t-1}| x100 over all pixels (it mixes in true motion)
  agree      mIoU with the per-frame mask
  then a summary per smoother: the mean still-pixel ratio over the clips beside the lag and d mIoU
  of the pseudo-videos (still and moving camera) when --images > 0
Timing (--timing-only, no data needed):
  ms/frame   smoother time per frame at 1280x720 (wall and CPU time, best of 5); with a grid
             (``grid.max_width``), also for a probability already at grid size (the caller
             upsamples once, as the pipeline does)

Usage:
    .venv/bin/python -m benchmarks.smoothing.temporal --methods ellipse --images 12
    .venv/bin/python -m benchmarks.smoothing.temporal --methods ellipse-diag,dlmv --json results.json
    .venv/bin/python -m benchmarks.smoothing.temporal --smoothers none,ema:alpha=0.3,motion:static_weight=0.25+hysteresis
    .venv/bin/python -m benchmarks.smoothing.temporal --timing-only
    # real clips: still-pixel flicker per clip, beside lag and d mIoU on pseudo-videos
    .venv/bin/python -m benchmarks.smoothing.temporal --methods dlmv --real ../shared/media/*.mp4 ../shared/media/*.mkv \
        --images 8 --smoothers none,motion,still --no-timing
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
from pathlib import Path

import cv2
import numpy as np

from streamseg.dataset import SkinDataset
from streamseg.metrics import iou
from streamseg.smooth import make_smoother
from streamseg.smooth.smoothers import split_spec
from streamseg.pipeline.processor import fit_to_frame, upsample_to_frame
from streamseg.smooth.flicker import StillPixelFlicker, consecutive_iou, coverage, dtssd, mean_abs_change, step_lag
from streamseg.smooth.pseudo_video import PseudoVideoOptions, make_pseudo_video
from benchmarks.timing import now, process_cpu

REPO = Path(__file__).resolve().parents[2]
DEFAULT_SMOOTHERS = [
    "none",
    "ema:alpha=0.7",
    "ema:alpha=0.5",
    "ema:alpha=0.3",
    "ema:alpha=0.3+hysteresis",
    "uncertainty",
    "uncertainty+hysteresis",
    "hysteresis",
    "motion",
    "motion+hysteresis",
    "motion:flow=true+hysteresis",
    "uncertainty+motion+hysteresis",
]


def parse_variant(text: str) -> tuple[str, dict]:
    """``ema:alpha=0.3+hysteresis`` -> ("ema+hysteresis", {"ema.alpha": "0.3"}); settings of one
    filter are joined with ':' (``motion:static_weight=0.2:blur=9``); ``+grid:max_width=0`` adds
    a setting only. The same syntax ``make_smoother`` and ``--smooth`` take
    (``streamseg.smooth.smoothers.split_spec``)."""
    return split_spec(text)


def probability(seg, frame: np.ndarray, native: bool) -> np.ndarray:
    """What the smoother gets: the frame-size probability, or with ``native`` the method's own map
    (``segment_native``: a model's 256 x 256 output), as the pipeline's Processor passes it."""
    if not native:
        return seg(frame)
    return fit_to_frame(seg.segment_native(frame), *frame.shape[:2])


def to_frame(prob: np.ndarray, frame: np.ndarray) -> np.ndarray:
    """The (smoothed) probability at the frame's size: one INTER_LINEAR upsample, as the Processor does."""
    return upsample_to_frame(prob, *frame.shape[:2])


def run_smoother(variant: str, probs: list[np.ndarray], frames: list[np.ndarray]) -> list[np.ndarray]:
    spec, params = parse_variant(variant)
    sm = make_smoother(spec, params)
    return [to_frame(sm.update(p, f), f) >= 0.5 for p, f in zip(probs, frames)]


def pick_images(root: Path, n: int, seed: int) -> list:
    """``n`` val samples spread over the sources (round robin), skipping those without enough skin."""
    ds = SkinDataset(root)
    rng = np.random.default_rng(seed)
    by_source: dict[str, list] = {}
    for s in ds.samples(split="val"):
        if s.mask is not None and s.quality == "good":
            by_source.setdefault(s.source, []).append(s)
    for v in by_source.values():
        rng.shuffle(v)
    picked, i = [], 0
    while len(picked) < n and any(by_source.values()):
        src = sorted(by_source)[i % len(by_source)]
        i += 1
        if by_source[src]:
            picked.append(by_source[src].pop())
    return [(s.id, ds.load_image(s), ds.load_mask(s)) for s in picked]


STILL = dict(pan=0.0, zoom=0.0, rotate=0.0)


def bench_pseudo(
    seg, variants: list[str], images: list, frames: int, max_side: int, still: bool, native: bool = False,
    threshold: float = 3.0, blur: int = 5,
) -> dict[str, dict]:
    """Metrics of every variant on one pseudo-video per image (camera still or moving), with the
    still-pixel flicker (``threshold``, ``blur``) pooled over the videos: clips made here, with
    sensor noise, brightness drift and JPEG on a still or moving camera."""
    on, off = frames // 3, 2 * frames // 3
    acc: dict[str, dict[str, list]] = {v: {"dtssd": [], "flicker": [], "iou": [], "lag": []} for v in variants}
    still_px = {v: StillPixelFlicker(threshold, blur) for v in variants}
    floor, oracle = [], []
    k3 = np.ones((3, 3), np.uint8)
    for k, (sid, img, mask) in enumerate(images):
        opts = PseudoVideoOptions(frames=frames, max_side=max_side, patch_on=on, patch_off=off, seed=k, **(STILL if still else {}))
        try:
            video = make_pseudo_video(img, mask, opts)
        except ValueError as exc:
            print(f"  skip {sid}: {exc}", file=sys.stderr)
            continue
        seg.reset()
        probs = [probability(seg, f, native) for f in video.frames]
        # the floor: per-frame masks of the same video without noise, drift and JPEG: only the
        # method's own errors move with the scene, which no temporal filter can tell from motion
        clean = make_pseudo_video(img, mask, dataclasses.replace(opts, noise=0.0, drift=0.0, jpeg=0))
        seg.reset()
        floor.append(dtssd([seg(f) >= 0.5 for f in clean.frames], video.masks))
        # a method whose only error is a 1-pixel-thin rim (the truth eroded by 3x3), moving with the scene
        oracle.append(dtssd([cv2.erode(t.astype(np.uint8), k3) > 0 for t in video.masks], video.masks))
        ref = coverage([to_frame(p, f) >= 0.5 for p, f in zip(probs, video.frames)], video.patch)
        for v in variants:
            masks = run_smoother(v, probs, video.frames)
            for m, f in zip(masks, video.frames):
                still_px[v].update(m, f)
            still_px[v].new_sequence()
            a = acc[v]
            a["dtssd"].append(dtssd(masks, video.masks))
            a["flicker"].append(mean_abs_change(masks))
            a["iou"].extend(iou(m, t) for m, t in zip(masks, video.masks))
            cov = coverage(masks, video.patch)
            a["lag"].append(step_lag(cov[:off], ref[:off], on))
            a["lag"].append(step_lag(cov, ref, off))
    out = {
        "_floor": {"dtssd": float(np.mean(floor)) if floor else math.nan},
        "_oracle_1px": {"dtssd": float(np.mean(oracle)) if oracle else math.nan},
    }
    for v, a in acc.items():
        lags = np.array(a["lag"], float)
        out[v] = {
            "dtssd": float(np.mean(a["dtssd"])),
            "flicker": float(np.mean(a["flicker"])),
            "miou": 100.0 * float(np.mean(a["iou"])),
            "lag_mean": float(np.nanmean(lags)) if np.isfinite(lags).any() else math.nan,
            "lag_max": float(np.nanmax(lags)) if np.isfinite(lags).any() else math.nan,
            "lag_n": int(np.isfinite(lags).sum()),
            "still": still_px[v].value,
        }
    return out


def read_clip(path: Path, max_frames: int, max_side: int) -> list[np.ndarray]:
    import av
    import cv2

    frames = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            img = frame.to_ndarray(format="bgr24")
            h, w = img.shape[:2]
            if max_side and max(h, w) > max_side:
                s = max_side / max(h, w)
                img = cv2.resize(img, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
            frames.append(img)
            if len(frames) >= max_frames:
                break
    return frames


def bench_clips(seg, variants: list[str], clips: list[Path], max_frames: int, max_side: int) -> dict[str, dict]:
    acc: dict[str, dict[str, list]] = {v: {"flicker": [], "ciou": [], "agree": []} for v in variants}
    for clip in clips:
        frames = read_clip(clip, max_frames, max_side)
        seg.reset()
        probs = [seg(f) for f in frames]
        per_frame = [p >= 0.5 for p in probs]
        for v in variants:
            masks = run_smoother(v, probs, frames)
            acc[v]["flicker"].append(mean_abs_change(masks))
            acc[v]["ciou"].append(consecutive_iou(masks))
            acc[v]["agree"].extend(iou(m, p) for m, p in zip(masks, per_frame))
    return {
        v: {"flicker": float(np.mean(a["flicker"])), "ciou": 100 * float(np.mean(a["ciou"])), "agree": 100 * float(np.mean(a["agree"]))}
        for v, a in acc.items()
    }


def iter_clip(path: Path, max_frames: int, max_side: int):
    """BGR uint8 frames of ``path``, at most ``max_frames`` (0 = all), scaled to ``max_side`` (0 = as is)."""
    import av

    with av.open(str(path)) as container:
        for n, frame in enumerate(container.decode(video=0)):
            if max_frames and n >= max_frames:
                break
            img = frame.to_ndarray(format="bgr24")
            h, w = img.shape[:2]
            if max_side and max(h, w) > max_side:
                s = max_side / max(h, w)
                img = cv2.resize(img, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
            yield img


def bench_real(
    seg, variants: list[str], clip: Path, max_frames: int, max_side: int, threshold: float, blur: int, native: bool = False
) -> dict[str, dict]:
    """Still-pixel flicker, overall flicker and agreement with per-frame masks of every variant
    on one real clip, streamed (every smoother runs side by side on the same probabilities)."""
    smoothers = {}
    for v in variants:
        spec, params = parse_variant(v)
        smoothers[v] = make_smoother(spec, params)
    still = StillPixelFlicker(threshold, blur)
    change: dict[str, list[float]] = {v: [] for v in variants}
    agree: dict[str, list[float]] = {v: [] for v in variants}
    prev: dict[str, np.ndarray] = {}
    seg.reset()
    n = 0
    for frame in iter_clip(clip, max_frames, max_side):
        prob = probability(seg, frame, native)
        per_frame = to_frame(prob, frame) >= 0.5
        masks = {v: to_frame(sm.update(prob, frame), frame) >= 0.5 for v, sm in smoothers.items()}
        still.update_many(masks, frame)
        for v, m in masks.items():
            if v in prev:
                change[v].append(float(np.count_nonzero(m != prev[v])) / m.size)
            prev[v] = m
            agree[v].append(iou(m, per_frame))
        n += 1
    return {
        v: {
            "still": still.result(v),
            "still_fraction": still.still.get(v, 0) / max(1, (n - 1) * prev[v].size),
            "flicker": 100 * float(np.mean(change[v])) if change[v] else math.nan,
            "agree": 100 * float(np.mean(agree[v])),
            "frames": n,
        }
        for v in variants
    }


def time_smoothers(variants: list[str], repeats: int = 30) -> dict[str, float]:
    """Milliseconds per update at 1280x720 (wall clock and CPU time of this process, best of 5):
    a textured scene panning 2-3 px per frame and blob-shaped probabilities (coherent regions,
    like a real mask). On a busy machine the CPU time is the more stable figure."""
    import cv2

    rng = np.random.default_rng(0)
    base = cv2.GaussianBlur(rng.integers(0, 256, (760, 1320, 3), dtype=np.uint8), (0, 0), 2)
    frames = [np.ascontiguousarray(base[2 * i : 2 * i + 720, 3 * i : 3 * i + 1280]) for i in range(8)]
    blobs = cv2.GaussianBlur(rng.random((760, 1320), dtype=np.float32), (0, 0), 12)
    blobs = np.clip((blobs - blobs.mean()) / blobs.std() * 0.5 + 0.5, 0, 1)
    probs = [np.ascontiguousarray(blobs[2 * i : 2 * i + 720, 3 * i : 3 * i + 1280]) for i in range(8)]
    out = {}
    for v in variants:
        spec, params = parse_variant(v)
        sm = make_smoother(spec, params)
        for i in range(3):
            sm.update(probs[i], frames[i])
        wall = cpu = math.inf
        for _ in range(5):  # best of five runs: the machine may be shared
            t0, c0 = now(), process_cpu()
            for i in range(repeats):
                sm.update(probs[i % 8], frames[i % 8])
            wall = min(wall, (now() - t0) / repeats)
            cpu = min(cpu, (process_cpu() - c0) / repeats)
        out[v] = {"wall_ms": 1000 * wall, "cpu_ms": 1000 * cpu}
        grid = getattr(sm, "grid_shape", None)
        gshape = grid(720, 1280) if grid is not None else None
        # the probability passed smaller than the frame, as the pipeline passes it: at the grid size
        # (classical methods) and as a model's native 256 x 256 map; the caller upsamples once
        for key, shape in (("grid", gshape), ("map256", (256, 256)), ("map384", (384, 384))):
            if shape is None or shape == (720, 1280):
                continue
            small = [cv2.resize(p, shape[::-1], interpolation=cv2.INTER_AREA) for p in probs]
            sm.reset()
            for i in range(3):
                sm.update(small[i], frames[i])
            wall = cpu = math.inf
            for _ in range(5):
                t0, c0 = now(), process_cpu()
                for i in range(repeats):
                    sm.update(small[i % 8], frames[i % 8])
                wall = min(wall, (now() - t0) / repeats)
                cpu = min(cpu, (process_cpu() - c0) / repeats)
            out[v].update({key: f"{shape[1]}x{shape[0]}", f"{key}_wall_ms": 1000 * wall, f"{key}_cpu_ms": 1000 * cpu})
    return out


def fmt(x: float, nd: int = 2) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{nd}f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--methods", default="ellipse", help="comma-separated method names (streamseg methods)")
    ap.add_argument("--smoothers", default=",".join(DEFAULT_SMOOTHERS), help="comma-separated variants, e.g. ema:alpha=0.3+hysteresis, motion:static_weight=0.2:blur=9")
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared/data/skin", help="skin data set root")
    ap.add_argument("--images", type=int, default=12, help="val images to make pseudo-videos from")
    ap.add_argument("--frames", type=int, default=60, help="frames per pseudo-video")
    ap.add_argument("--max-side", type=int, default=512, help="pseudo-video size (longer side)")
    ap.add_argument("--clips", nargs="*", type=Path, default=None, help="real clips (default: ../shared/media/*)")
    ap.add_argument("--clip-frames", type=int, default=100)
    ap.add_argument("--clip-max-side", type=int, default=640)
    ap.add_argument("--real", nargs="+", type=Path, default=None, metavar="CLIP",
                    help="real clips for the still-pixel flicker table (streamed; see --real-frames, --real-max-side)")
    ap.add_argument("--real-frames", type=int, default=150, help="frames per real clip (0 = all)")
    ap.add_argument("--real-max-side", type=int, default=0, help="scale real clips to this longer side (0 = as they are)")
    ap.add_argument("--still-threshold", type=float, default=3.0, help="still pixel: blurred grey changed by less than this")
    ap.add_argument("--still-blur", type=int, default=5, help="Gaussian blur (odd size) before the still test")
    ap.add_argument("--threads", type=int, default=1, help="segmentation threads (OpenCV too)")
    ap.add_argument("--frame-size", action="store_true",
                    help="smooth the frame-size probability (the older tables of docs/smoothing.md); default: a model's native map "
                         "and one upsample, as the pipeline does")
    ap.add_argument("--no-timing", action="store_true")
    ap.add_argument("--timing-only", action="store_true", help="only the cost per frame (no data needed)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args(argv)
    variants = [v.strip() for v in args.smoothers.split(",") if v.strip()]
    if args.timing_only:
        args.methods, args.images, args.clips, args.real = "", 0, [], None
    cv2.setNumThreads(max(1, args.threads))

    from streamseg.segment import MethodOptions, create

    clips = args.clips
    if clips is None:
        media = REPO.parent / "shared/media"
        clips = sorted(p for p in media.glob("*") if p.suffix in (".mp4", ".mkv", ".mov", ".avi")) if media.is_dir() else []
    if args.real:
        clips = []  # the real-clip mode replaces the old clip table
    images = pick_images(args.data, args.images, args.seed) if args.data.is_dir() and args.images else []
    print(f"# temporal benchmark: {len(images)} pseudo-videos x {args.frames} frames (max side {args.max_side}), "
          f"{len(clips)} clips x <= {args.clip_frames} frames (max side {args.clip_max_side})"
          + (f", {len(args.real)} real clips x <= {args.real_frames or 'all'} frames (max side {args.real_max_side or 'as is'})" if args.real else ""))
    results: dict = {"pseudo": {}, "clips": {}, "real": {}, "timing_ms": {}}
    for name in filter(None, args.methods.split(",")):
        seg = create(name, MethodOptions(threads=args.threads))
        label = name if seg.fallback_from is None else f"{seg.name} (for {name})"
        seg.warmup(256, 256)
        for still in (True, False) if images else ():
            kind = "still camera" if still else "moving camera"
            res = bench_pseudo(seg, variants, images, args.frames, args.max_side, still, not args.frame_size,
                               args.still_threshold, args.still_blur)
            results["pseudo"].setdefault(label, {})[kind] = res
            floor = res.pop("_floor")["dtssd"]
            rim = res.pop("_oracle_1px")["dtssd"]
            base = res[variants[0]]
            print(
                f"\n## {label}: pseudo-videos, {kind} (dtSSD floor, the same videos without noise, drift and JPEG: "
                f"{fmt(floor)}; the truth with a 1-pixel rim removed: {fmt(rim)})\n"
            )
            print("| smoother | dtSSD | vs none | flicker | still-pixel flicker / none | mIoU | d mIoU | lag mean | lag max | steps |")
            print("|---|---|---|---|---|---|---|---|---|---|")
            for v, r in res.items():
                rel = 100 * (r["dtssd"] / base["dtssd"] - 1) if base["dtssd"] else math.nan
                sr = r["still"] / base["still"] if base["still"] else math.nan
                print(f"| {v} | {fmt(r['dtssd'])} | {fmt(rel, 0)} % | {fmt(r['flicker'])} | {fmt(sr)} | {fmt(r['miou'])} | "
                      f"{fmt(r['miou'] - base['miou'])} | {fmt(r['lag_mean'])} | {fmt(r['lag_max'], 0)} | {r['lag_n']} |")
        if clips:
            res = bench_clips(seg, variants, clips, args.clip_frames, args.clip_max_side)
            results["clips"][label] = res
            print(f"\n## {label}: clips ({', '.join(c.name for c in clips)})\n")
            print("| smoother | flicker | cIoU | agree |")
            print("|---|---|---|---|")
            for v, r in res.items():
                print(f"| {v} | {fmt(r['flicker'])} | {fmt(r['ciou'])} | {fmt(r['agree'])} |")
        if args.real:
            real = results["real"].setdefault(label, {})
            for clip in args.real:
                real[clip.name] = res = bench_real(seg, variants, clip, args.real_frames, args.real_max_side, args.still_threshold,
                                                   args.still_blur, not args.frame_size)
                base = res[variants[0]]
                first = next(iter(res.values()))
                print(f"\n## {label}: real clip {clip.name} ({first['frames']} frames, {100 * first['still_fraction']:.0f} % of pixels still "
                      f"per pair; still = blurred grey ({args.still_blur}x{args.still_blur}) changed by < {args.still_threshold:g})\n")
                print(f"| smoother | still | vs {variants[0]} | flicker | vs {variants[0]} | agree |")
                print("|---|---|---|---|---|---|")
                for v, r in res.items():
                    print(f"| {v} | {fmt(r['still'], 3)} | {fmt(r['still'] / base['still'] if base['still'] else math.nan)} | "
                          f"{fmt(r['flicker'], 3)} | {fmt(r['flicker'] / base['flicker'] if base['flicker'] else math.nan)} | {fmt(r['agree'])} |")
            pseudo = results["pseudo"].get(label, {})
            print(f"\n## {label}: summary (still-pixel ratio vs {variants[0]}, mean over {len(args.real)} real clips; lag and d mIoU on pseudo-videos)\n")
            print("| smoother | still ratio | " + " | ".join(c.stem for c in args.real) + " | lag mean / max (still cam) | lag mean / max (moving) | d mIoU still / moving |")
            print("|---|---|" + "---|" * len(args.real) + "---|---|---|")
            for v in variants:
                ratios = [r[v]["still"] / r[variants[0]]["still"] if r[variants[0]]["still"] else math.nan for r in real.values()]
                cells = []
                for kind in ("still camera", "moving camera"):
                    r = pseudo.get(kind, {}).get(v)
                    cells.append(f"{fmt(r['lag_mean'])} / {fmt(r['lag_max'], 0)}" if r else "n/a")
                dm = [pseudo[k][v]["miou"] - pseudo[k][variants[0]]["miou"] if k in pseudo else math.nan for k in ("still camera", "moving camera")]
                print(f"| {v} | {fmt(float(np.mean(ratios)))} | " + " | ".join(fmt(x) for x in ratios) + f" | {cells[0]} | {cells[1]} | {fmt(dm[0])} / {fmt(dm[1])} |")
        seg.close()
    if not args.no_timing:
        results["timing_ms"] = time_smoothers(variants)
        print("\n## smoother cost per 1280x720 frame (ms; the probability at 1280x720, at the grid size, or a 256x256 / 384x384 model map)\n")
        print("| smoother | wall ms | CPU ms | grid | wall ms at grid | CPU ms at grid | wall / CPU ms, 256x256 map | wall / CPU ms, 384x384 map |")
        print("|---|---|---|---|---|---|---|---|")
        for v, ms in results["timing_ms"].items():
            print(f"| {v} | {ms['wall_ms']:.2f} | {ms['cpu_ms']:.2f} | {ms.get('grid', '-')} | "
                  f"{fmt(ms.get('grid_wall_ms', math.nan))} | {fmt(ms.get('grid_cpu_ms', math.nan))} | "
                  f"{fmt(ms.get('map256_wall_ms', math.nan))} / {fmt(ms.get('map256_cpu_ms', math.nan))} | "
                  f"{fmt(ms.get('map384_wall_ms', math.nan))} / {fmt(ms.get('map384_cpu_ms', math.nan))} |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
