"""Each quality component's gain on the proxies: val, 3x3 mosaics, darker skin, wide rooms, scenes.

Rows are one skin model with a growing set of parts (mirror view, person gate, tiles); columns
are the proxies of ``streamseg eval``. Prints a markdown table and writes it as JSON.

    python -m benchmarks.accuracy.quality_components ../shared/data/skin --models selfie-skin,selfie-skin-hq --limit 200 \\
        --out docs/eval/quality_components.json
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

from streamseg.evaluate.accuracy import evaluate
from streamseg.evaluate.eval_run import scene_table
from streamseg.evaluate.proxies import proxy_dataset
from streamseg.segment.base import MethodOptions
from streamseg.segment.quality import FaceFinder, Plan, PersonGate, QualitySegmenter
from streamseg.segment.registry import create_exact
from benchmarks.timing import now

#: (row name, parts)
VARIANTS = [
    ("one pass", Plan(False, False, False)),
    ("+ person gate (fast)", Plan(False, True, False)),
    ("+ flip", Plan(True, False, False)),
    ("+ flip + gate (balanced)", Plan(True, True, False)),
    ("+ flip + tiles", Plan(True, False, True)),
    ("+ flip + tiles + gate", Plan(True, True, True)),
    ("+ flip + tiles + face zoom", Plan(True, False, True, True)),
    ("+ flip + tiles + face zoom + gate (best)", Plan(True, True, True, True)),
]

PROXIES = {"val": {}, "mosaic3": {"mosaic": 3}, "dark": {"skin_tone": "dark"}, "wide4": {"wide": 4}, "scenes": {"scenes": True}}


def factory(model: str, plan: Plan, threads: int):
    def make():
        opts = MethodOptions(threads=threads, tta="flip" if plan.flip else "none", strict=True)
        seg = create_exact(model, opts)
        if not (plan.gate or plan.tiles):
            return seg
        gate = PersonGate(replace(opts, tta="none")) if plan.gate else None
        return QualitySegmenter(seg, plan, gate, FaceFinder(opts) if plan.zoom else None)
    return make


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", type=Path)
    ap.add_argument("--models", default="selfie-skin")
    ap.add_argument("--variants", default="", help="comma-separated row indexes (default: all)")
    ap.add_argument("--proxies", default=",".join(PROXIES))
    ap.add_argument("--limit", type=int, default=0, help="images per proxy, spread over the split (0 = all)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path)
    a = ap.parse_args()
    rows = [VARIANTS[int(i)] for i in a.variants.split(",")] if a.variants else VARIANTS
    results: dict = {}
    for model in a.models.split(","):
        for label, plan in rows:
            name = f"{model} {label}"
            methods = {name: factory(model, plan, a.threads)}
            results[name] = {}
            for proxy in a.proxies.split(","):
                ds = proxy_dataset(a.data, **PROXIES[proxy])
                t0 = now()
                r = evaluate(ds, methods, split="val", limit=a.limit or None)
                if proxy == "scenes":
                    sc = scene_table(r)[name]
                    results[name]["scenes_pixels"] = sc["pixels"]
                    results[name]["scenes_over_1pct"] = sc["over_1pct"]
                else:
                    results[name][proxy] = round(r.methods[name].miou, 4)
                results[name][f"{proxy}_ms"] = round(r.methods[name].ms_per_image, 1)
                print(f"{name:50s} {proxy:8s} {results[name].get(proxy, results[name].get('scenes_pixels'))}  ({now() - t0:.0f} s)", flush=True)
    cols = [p for p in a.proxies.split(",")]
    print("\n| model and parts | " + " | ".join(cols) + " |")
    print("|---|" + "---:|" * len(cols))
    for name, r in results.items():
        cells = []
        for c in cols:
            if c == "scenes":
                cells.append(f"{100 * r['scenes_pixels']:.2f} % ({100 * r['scenes_over_1pct']:.0f} % > 1 %)")
            else:
                cells.append(f"{r[c]:.3f}")
        print(f"| {name} | " + " | ".join(cells) + " |")
    if a.out:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(json.dumps({"limit": a.limit, "results": results}, indent=1))


if __name__ == "__main__":
    main()
