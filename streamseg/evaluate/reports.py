"""Terminal tables (rich) and ``report.md`` / ``report.csv`` / ``report.json`` for eval and bench.

JSON layout (scripts may rely on it):

- eval: ``{"kind": "eval", "methods": {NAME: {"miou", "precision", "recall", "f1",
  "ms_per_image", "ms_median", "n", "provider", "kind", "per_source": {SOURCE: {"miou", "n",
  "precision", "recall", "f1", "ms_per_image"}}, "worst": [{"id", "source", "iou"}]}},
  "skipped": {NAME: reason}, "unscored": [{"id", "source", "reason"}], "machine": {...},
  "command": str, ...}``
- bench: ``{"kind": "bench", "rows": [{"method", "kind", "size", "frame", "provider",
  "threads", "median_ms", "p90_ms", "floor_ms", "fps", "n", "note"}], "video": [{"method",
  "clip", "frames", "inference_fps", "pipeline_fps", "ratio", "pipeline"}], "skipped": {...},
  "machine": {...}, "command": str}``

Floats are rounded; a value that does not exist (no image of a source) is ``null``.
"""

from __future__ import annotations

import csv
import datetime as _dt
import json
import math
from pathlib import Path
from typing import Sequence

from streamseg.errors import OutputError
from streamseg.evaluate.accuracy import EvalResult, SourceSummary
from streamseg.evaluate.latency import BenchRow
from streamseg.evaluate.machine import summary_line
from streamseg.evaluate.video_fps import VideoRow


def _num(x: float, digits: int = 4) -> float | None:
    return None if x is None or (isinstance(x, float) and not math.isfinite(x)) else round(float(x), digits)


def fmt_num(x: float | None, digits: int = 3) -> str:
    return "–" if x is None or (isinstance(x, float) and not math.isfinite(x)) else f"{x:.{digits}f}"


def fmt_ms(x: float | None) -> str:
    if x is None or not math.isfinite(x):
        return "–"
    return f"{x:.2f}" if x < 100 else f"{x:.0f}"


def fmt_fps(x: float | None) -> str:
    if x is None or not math.isfinite(x):
        return "–"
    return f"{x:.1f}" if x < 100 else f"{x:.0f}"


def md_table(headers: Sequence[str], rows: Sequence[Sequence[str]], left: Sequence[int] = (0,)) -> str:
    """A GitHub markdown table; the columns in ``left`` are left-aligned, the others right-aligned."""
    head = "| " + " | ".join(headers) + " |"
    sep = "|" + "|".join("---" if i in left else "---:" for i in range(len(headers))) + "|"
    body = ["| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join([head, sep, *body])


def _summary_json(s: SourceSummary) -> dict:
    return {
        "miou": _num(s.miou), "n": s.n, "precision": _num(s.precision), "recall": _num(s.recall),
        "f1": _num(s.f1), "ms_per_image": _num(s.ms_per_image, 3),
    }


def ensure_dir(path: Path) -> Path:
    if path.exists() and not path.is_dir():
        raise OutputError(f"report path {path} exists and is not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create report folder {path}: {exc.strerror or exc}") from exc
    if not path.is_dir():
        raise OutputError(f"report path {path} exists and is not a folder")
    return path


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc


# ---------------------------------------------------------------- eval


def eval_json(result: EvalResult, skipped: dict[str, str], machine: dict, command: str, worst: int = 5) -> dict:
    """The ``report.json`` content of an eval run (see the module docstring)."""
    methods = {}
    for name, res in result.methods.items():
        d = _summary_json(res.overall)
        d.update({"ms_median": _num(res.ms_median, 3), "provider": res.provider, "kind": res.kind})
        d["per_source"] = {src: _summary_json(s) for src, s in res.per_source().items()}
        d["worst"] = [{"id": s.id, "source": s.source, "iou": _num(s.iou)} for s in res.worst(worst)]
        methods[name] = d
    return {
        "kind": "eval",
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "command": command,
        "machine": machine,
        "dataset": result.dataset,
        "split": result.split,
        "threshold": result.threshold,
        "images": {"scored": result.n_scored, "unscored": len(result.unscored), "masks_resized": result.n_resized},
        "seconds": _num(result.seconds, 2),
        "methods": methods,
        "skipped": dict(skipped),
        "unscored": [{"id": u.id, "source": u.source, "reason": u.reason} for u in result.unscored],
    }


def eval_markdown(report: dict, images: dict[str, str] | None = None) -> str:
    """README-ready markdown of an eval ``report.json`` dict; ``images``: caption -> relative path."""
    methods = report["methods"]
    order = sorted(methods, key=lambda n: -(methods[n]["miou"] or 0))
    lines = [
        f"## Accuracy on `{report['dataset']}` (split `{report['split']}`, threshold {report['threshold']})",
        "",
        f"Command: `{report['command']}`  ",
        f"Machine: {summary_line(report['machine'])}  ",
        f"Images scored: {report['images']['scored']} (not scored: {report['images']['unscored']}, "
        f"masks resized to their image: {report['images']['masks_resized']}); wall time {report['seconds']} s.",
        "",
        "mIoU = mean over images of each image's IoU; precision, recall and F1 are over all pixels; "
        "ms/image = mean time of one `segment` call (after warm-up) at the dataset's image sizes.",
        "",
    ]
    rows = [
        [f"`{n}`", fmt_num(methods[n]["miou"]), fmt_num(methods[n]["precision"]), fmt_num(methods[n]["recall"]),
         fmt_num(methods[n]["f1"]), fmt_ms(methods[n]["ms_per_image"]), methods[n]["provider"]]
        for n in order
    ]
    lines += [md_table(["method", "mIoU", "precision", "recall", "F1", "ms/image", "runs on"], rows, left=(0, 6)), ""]
    sources = sorted({s for n in order for s in methods[n]["per_source"]})
    if len(sources) > 1:
        n_per = {s: next(methods[n]["per_source"][s]["n"] for n in order if s in methods[n]["per_source"]) for s in sources}
        rows = [[f"`{n}`"] + [fmt_num(methods[n]["per_source"].get(s, {}).get("miou")) for s in sources] for n in order]
        lines += ["### mIoU per source", "", md_table(["method"] + [f"{s} (n={n_per[s]})" for s in sources], rows), ""]
    lines += ["### Worst images per method", ""]
    rows = [[f"`{n}`", ", ".join(f"{w['id']} ({fmt_num(w['iou'], 2)})" for w in methods[n]["worst"])] for n in order]
    lines += [md_table(["method", "lowest IoU"], rows, left=(0, 1)), ""]
    if report.get("skipped"):
        lines += ["### Methods not run", ""]
        lines += [f"- `{n}`: {why}" for n, why in report["skipped"].items()] + [""]
    if report.get("unscored"):
        lines += [f"### Images not scored ({len(report['unscored'])})", ""]
        lines += [f"- {u['id']} ({u['source']}): {u['reason']}" for u in report["unscored"][:50]]
        if len(report["unscored"]) > 50:
            lines.append(f"- ... and {len(report['unscored']) - 50} more (see report.json)")
        lines.append("")
    for caption, rel in (images or {}).items():
        lines += [f"![{caption}]({rel})", ""]
    return "\n".join(lines)


def eval_csv_rows(report: dict) -> list[dict]:
    """One row per method and source (``source`` = ``all`` for the overall row)."""
    rows = []
    for name, m in report["methods"].items():
        base = {"method": name, "provider": m["provider"]}
        rows.append({**base, "source": "all", **{k: m[k] for k in ("n", "miou", "precision", "recall", "f1", "ms_per_image")}})
        for src, s in m["per_source"].items():
            rows.append({**base, "source": src, **{k: s[k] for k in ("n", "miou", "precision", "recall", "f1", "ms_per_image")}})
    return rows


def write_eval_report(
    folder: Path, result: EvalResult, skipped: dict[str, str], machine: dict, command: str,
    worst: int = 5, images: dict[str, str] | None = None,
) -> dict[str, Path]:
    """Write ``report.json``, ``report.md``, ``report.csv`` and ``per_image.csv`` into ``folder``."""
    folder = ensure_dir(Path(folder))
    report = eval_json(result, skipped, machine, command, worst)
    report["files"] = {k: v for k, v in (images or {}).items()}
    paths = {k: folder / f for k, f in (("json", "report.json"), ("md", "report.md"), ("csv", "report.csv"), ("per_image", "per_image.csv"))}
    _write(paths["json"], json.dumps(report, indent=2) + "\n")
    _write(paths["md"], eval_markdown(report, images))
    _write_csv(paths["csv"], eval_csv_rows(report))
    per_image = [
        {"method": name, "id": s.id, "source": s.source, "iou": _num(s.iou), "precision": _num(s.counts.precision),
         "recall": _num(s.counts.recall), "tp": s.counts.tp, "fp": s.counts.fp, "fn": s.counts.fn, "ms": _num(s.ms, 3)}
        for name, res in result.methods.items() for s in res.scores
    ]
    _write_csv(paths["per_image"], per_image)
    return paths


def eval_table(report: dict):
    """A rich Table of an eval report dict (overall numbers, best mIoU first)."""
    from rich.table import Table

    methods = report["methods"]
    t = Table(title=f"streamseg eval: {report['images']['scored']} images, split {report['split']}, threshold {report['threshold']}")
    for col, just in (("method", "left"), ("mIoU", "right"), ("precision", "right"), ("recall", "right"),
                      ("F1", "right"), ("ms/image", "right"), ("runs on", "left")):
        t.add_column(col, justify=just, no_wrap=col != "runs on")
    for n in sorted(methods, key=lambda n: -(methods[n]["miou"] or 0)):
        m = methods[n]
        t.add_row(n, fmt_num(m["miou"]), fmt_num(m["precision"]), fmt_num(m["recall"]), fmt_num(m["f1"]), fmt_ms(m["ms_per_image"]), m["provider"])
    return t


def scenes_table(rows: dict[str, dict[str, float]]):
    """A rich Table of :func:`~streamseg.evaluate.eval_run.scene_table` (fewest false positives first)."""
    from rich.table import Table

    n = max((r["n"] for r in rows.values()), default=0)
    t = Table(title=f"streamseg eval --scenes: {n} scenes with nobody in them")
    for col in ("method", "pixels called skin", "scenes > 1 %", "ms/image"):
        t.add_column(col, justify="left" if col == "method" else "right", no_wrap=True)
    for name in sorted(rows, key=lambda k: rows[k]["pixels"]):
        r = rows[name]
        t.add_row(name, f"{100 * r['pixels']:.2f} %", f"{100 * r['over_1pct']:.0f} %", fmt_ms(r["ms"]))
    return t


# ---------------------------------------------------------------- bench


def bench_json(rows: list[BenchRow], video: list[VideoRow], skipped: dict[str, str], machine: dict, command: str) -> dict:
    """The ``report.json`` content of a bench run (see the module docstring)."""
    return {
        "kind": "bench",
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "command": command,
        "machine": machine,
        "rows": [
            {k: (_num(v, 3) if isinstance(v, float) else v) for k, v in r.as_dict().items()} for r in rows
        ],
        "video": [{k: (_num(v, 3) if isinstance(v, float) else v) for k, v in r.as_dict().items()} for r in video],
        "skipped": dict(skipped),
    }


def bench_markdown(report: dict) -> str:
    """README-ready markdown of a bench ``report.json`` dict."""
    lines = [
        "## Latency per method and size",
        "",
        f"Command: `{report['command']}`  ",
        f"Machine: {summary_line(report['machine'])}",
        "",
        "Median and 90th percentile of the full `segment` call (BGR frame in, probability at frame size out) "
        "after warm-up. `size` is the model input side for models and the frame size for classical methods; "
        "floor = one `cv2.cvtColor` (BGR→YCrCb) over the same frame.",
        "",
    ]
    rows = [
        [f"`{r['method']}`", r["size"], r["frame"], r["provider"], r["threads"], fmt_ms(r["median_ms"]),
         fmt_ms(r["p90_ms"]), fmt_fps(r["fps"]), fmt_ms(r["floor_ms"]), r["note"]]
        for r in report["rows"]
    ]
    lines += [md_table(["method", "size", "frame", "runs on", "threads", "median ms", "p90 ms", "fps", "floor ms", "note"], rows, left=(0, 1, 2, 3, 4, 9)), ""]
    if report.get("video"):
        lines += ["### End-to-end on a clip", "",
                  "inference fps = frames / time inside `segment` alone; pipeline fps = frames / wall time of the "
                  "whole job (decode, segment, encode a mask video); ratio = pipeline / inference.", ""]
        rows = [
            [f"`{v['method']}`", v["clip"], str(v["frames"]), fmt_num(v["inference_fps"], 1), fmt_num(v["pipeline_fps"], 1),
             fmt_num(v["ratio"], 2), v["pipeline"]]
            for v in report["video"]
        ]
        lines += [md_table(["method", "clip", "frames", "inference fps", "pipeline fps", "ratio", "pipeline"], rows, left=(0, 1, 6)), ""]
    if report.get("skipped"):
        lines += ["### Methods not run", ""] + [f"- `{n}`: {why}" for n, why in report["skipped"].items()] + [""]
    return "\n".join(lines)


def write_bench_report(folder: Path, report: dict) -> dict[str, Path]:
    """Write ``report.json``, ``report.md``, ``report.csv`` (latency rows) and ``video.csv`` (if any)."""
    folder = ensure_dir(Path(folder))
    paths = {"json": folder / "report.json", "md": folder / "report.md", "csv": folder / "report.csv"}
    _write(paths["json"], json.dumps(report, indent=2) + "\n")
    _write(paths["md"], bench_markdown(report))
    _write_csv(paths["csv"], report["rows"])
    if report.get("video"):
        paths["video"] = folder / "video.csv"
        _write_csv(paths["video"], report["video"])
    return paths


def runs_on(provider: str, threads: str) -> str:
    """``numba`` + ``numba 2`` -> ``numba 2``; ``CPUExecutionProvider`` + ``ort 4`` -> ``CPU, ort 4``."""
    short = provider.replace("ExecutionProvider", "")
    return threads if threads.startswith(short) else f"{short}, {threads}"


def bench_table(report: dict):
    """A compact rich Table of the latency rows (the frame only where it differs from the size)."""
    from rich.table import Table

    t = Table(title="streamseg bench: latency per method and size")
    for col in ("method", "size", "runs on (threads)", "median ms", "p90 ms", "fps", "floor ms", "note"):
        t.add_column(
            col, justify="right" if col in ("median ms", "p90 ms", "fps", "floor ms") else "left",
            no_wrap=col in ("median ms", "p90 ms", "fps", "floor ms"),
        )
    for r in report["rows"]:
        note = r["note"] if r["frame"] == r["size"] else "; ".join(x for x in (f"frame {r['frame']}", r["note"]) if x)
        t.add_row(r["method"], r["size"], runs_on(r["provider"], r["threads"]), fmt_ms(r["median_ms"]),
                  fmt_ms(r["p90_ms"]), fmt_fps(r["fps"]), fmt_ms(r["floor_ms"]), note)
    return t


def video_table(report: dict):
    """A rich Table of the end-to-end rows."""
    from rich.table import Table

    t = Table(title="end-to-end on a clip (pipeline fps vs bare inference fps)")
    for col in ("method", "clip", "frames", "inference fps", "pipeline fps", "ratio", "pipeline"):
        t.add_column(col)
    for v in report["video"]:
        t.add_row(v["method"], v["clip"], str(v["frames"]), fmt_num(v["inference_fps"], 1), fmt_num(v["pipeline_fps"], 1),
                  fmt_num(v["ratio"], 2), v["pipeline"])
    return t


def _write_csv(path: Path, rows: list[dict]) -> None:
    try:
        with path.open("w", newline="", encoding="utf-8") as fh:
            if not rows:
                return
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc
