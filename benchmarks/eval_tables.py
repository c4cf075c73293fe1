"""Turn the published reports into the README tables (the block between the RESULTS markers).

Reads the ``report.json`` files written by ``benchmarks/accuracy/eval_val.sh`` and
``benchmarks/latency/bench_latency.sh`` and prints markdown, or with ``--write FILE`` replaces the text
between ``<!-- RESULTS -->`` and ``<!-- /RESULTS -->`` in FILE (``docs/eval.md``).

    .venv/bin/python -m benchmarks.eval_tables                      # print
    .venv/bin/python -m benchmarks.eval_tables --write docs/eval.md  # update the docs
    .venv/bin/python -m benchmarks.eval_tables --img-dir docs/eval/val  # for the README
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from streamseg.evaluate.machine import summary_line
from streamseg.evaluate.reports import fmt_fps, fmt_ms, fmt_num, md_table, runs_on

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- RESULTS -->", "<!-- /RESULTS -->"


def _load(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.is_file() else None


def accuracy_section(rep: dict, img_dir: str) -> list[str]:
    methods = rep["methods"]
    order = sorted(methods, key=lambda n: -(methods[n]["miou"] or 0))
    out = [
        "### Accuracy (`streamseg eval`)",
        "",
        f"`{rep['command']}` (`benchmarks/accuracy/eval_val.sh`)  ",
        f"{rep['images']['scored']} images of the `{rep['split']}` split, threshold {rep['threshold']}; "
        f"machine: {summary_line(rep['machine'])}; wall time {rep['seconds']:.0f} s.",
        "",
    ]
    rows = [
        [f"`{n}`", fmt_num(methods[n]["miou"]), fmt_num(methods[n]["precision"]), fmt_num(methods[n]["recall"]),
         fmt_num(methods[n]["f1"]), fmt_ms(methods[n]["ms_per_image"]), methods[n]["provider"]]
        for n in order
    ]
    out += [md_table(["method", "mIoU", "precision", "recall", "F1", "ms/image", "runs on"], rows, left=(0, 6)), ""]
    sources = sorted({s for n in order for s in methods[n]["per_source"]})
    if len(sources) > 1:
        n_per = {s: next(methods[n]["per_source"][s]["n"] for n in order if s in methods[n]["per_source"]) for s in sources}
        rows = [[f"`{n}`"] + [fmt_num(methods[n]["per_source"].get(s, {}).get("miou"), 2) for s in sources] for n in order]
        out += ["mIoU per source:", "", md_table(["method"] + [f"{s} ({n_per[s]})" for s in sources], rows), ""]
    if rep.get("skipped"):
        out += ["Not run: " + "; ".join(f"`{n}` ({why})" for n, why in rep["skipped"].items()), ""]
    out += [f"![mIoU against ms per image]({img_dir}/method_choice.png)", ""]
    out += [f"The hardest images (image | ground truth | each method): [{img_dir}/examples.png]({img_dir}/examples.png)", ""]
    return out


def latency_section(rep: dict, title: str) -> list[str]:
    frames: list[str] = []
    for r in rep["rows"]:
        if r["frame"] not in frames:
            frames.append(r["frame"])
    by_method: dict[tuple[str, str], dict] = {}
    for r in rep["rows"]:
        input_ = "frame" if r["kind"] != "model" else r["size"]
        by_method.setdefault((r["method"], input_), {"provider": r["provider"], "threads": r["threads"], "note": r["note"]})[r["frame"]] = r
    floors = {r["frame"]: r["floor_ms"] for r in rep["rows"]}
    rows = []
    for (method, input_), cells in by_method.items():
        row = [f"`{method}`", input_, runs_on(cells["provider"], cells["threads"])]
        for f in frames:
            r = cells.get(f)
            row.append(f"{fmt_ms(r['median_ms'])} ({fmt_ms(r['p90_ms'])})" if r else "–")
        row.append(cells["note"])
        rows.append(row)
    rows.append(["floor: `cv2.cvtColor`", "frame", "OpenCV"] + [fmt_ms(floors.get(f)) for f in frames] + [""])
    out = [
        f"### {title}",
        "",
        f"`{rep['command']}`  ",
        f"machine: {summary_line(rep['machine'])}.",
        "",
        "Median (p90) ms of one `segment` call per frame size; models are fed the first frame size and "
        "`input` is their input size.",
        "",
        md_table(["method", "input", "runs on (threads)"] + frames + ["note"], rows, left=(0, 1, 2, 3 + len(frames))),
        "",
    ]
    if rep.get("video"):
        rows = [
            [f"`{v['method']}`", fmt_fps(v["inference_fps"]), fmt_fps(v["pipeline_fps"]), fmt_num(v["ratio"], 2)]
            for v in rep["video"]
        ]
        v0 = rep["video"][0]
        out += [
            f"End to end on `{v0['clip']}` ({v0['frames']} frames, {v0['pipeline']}: decode, segment, encode a mask video):",
            "",
            md_table(["method", "inference fps", "pipeline fps", "ratio"], rows),
            "",
        ]
    return out


def build(root: Path, img_dir: str = "eval/val") -> str:
    out: list[str] = ["## Published results", ""]
    val = _load(root / "docs/eval/val/report.json")
    if val:
        out += accuracy_section(val, img_dir)
    for sub, title in (("bench-threads1", "Latency, one thread per method (`--threads 1`)"),
                       ("bench", "Latency, library default threads")):
        rep = _load(root / "docs/eval" / sub / "report.json")
        if rep:
            out += latency_section(rep, title)
    return "\n".join(out).rstrip() + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", type=Path, help="replace the RESULTS block of this markdown file")
    ap.add_argument("--img-dir", default="eval/val", help="image folder as seen from that file (README: docs/eval/val)")
    args = ap.parse_args()
    text = build(ROOT, args.img_dir)
    if args.write is None:
        sys.stdout.write(text)
        return 0
    doc = args.write.read_text()
    if START not in doc or END not in doc:
        print(f"error: {args.write} has no {START} ... {END} block", file=sys.stderr)
        return 2
    head, rest = doc.split(START, 1)
    tail = rest.split(END, 1)[1]
    args.write.write_text(f"{head}{START}\n{text}{END}{tail}")
    print(f"updated {args.write}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
