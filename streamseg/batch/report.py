"""What a batch did: one entry per file, ``batch_report.json``, the summary table and the
progress bar (files done and failed, frames/s and images/s over all workers, ETA from the
frames, or the images, left)."""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPORT_NAME = "batch_report.json"


#: the fields of an image's entry that a video's has not (a video's entry leaves them out)
IMAGE_FIELDS = ("width", "height", "bytes", "skin_fraction", "regions", "ms", "end")


@dataclass
class FileResult:
    """One file of a batch. ``status``: done, skipped, failed, interrupted or pending.

    Videos have ``frames``, ``seconds`` and ``fps``; images (``kind`` ``image``) have ``width``,
    ``height``, ``bytes``, ``skin_fraction`` (0..1), ``regions`` (connected skin regions, see
    :mod:`streamseg.pipeline.image_stats`), ``ms`` and ``end`` (Unix time it finished) instead.
    """

    input: str
    outputs: dict[str, str]
    status: str = "pending"
    frames: int | None = None
    seconds: float | None = None
    fps: float | None = None
    error: str | None = None
    attempts: int = 0
    worker: int | None = None
    kind: str = "video"
    width: int | None = None
    height: int | None = None
    bytes: int | None = None
    skin_fraction: float | None = None
    regions: int | None = None
    ms: float | None = None
    end: float | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if self.kind == "image":
            for k in ("frames", "seconds", "fps"):
                d.pop(k)
        else:
            for k in IMAGE_FIELDS:
                d.pop(k)
        return d


@dataclass
class BatchReport:
    """The whole batch: per-file results in input order, and the totals."""

    out_dir: str = ""
    method: str = ""
    provider: str = ""
    workers: int = 0
    backend: str = ""
    seconds: float = 0.0
    interrupted: bool = False
    files: list[FileResult] = field(default_factory=list)
    report_path: str | None = None

    def count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def done(self) -> int:
        return self.count("done")

    @property
    def skipped(self) -> int:
        return self.count("skipped")

    @property
    def failed(self) -> list[FileResult]:
        return [f for f in self.files if f.status == "failed"]

    @property
    def frames(self) -> int:
        return sum(f.frames or 0 for f in self.files if f.status == "done")

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    @property
    def images(self) -> int:
        """Images segmented by this run (skipped ones not counted)."""
        return sum(1 for f in self.files if f.kind == "image" and f.status == "done")

    @property
    def images_per_s(self) -> float:
        return self.images / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": 1, "out_dir": self.out_dir, "method": self.method, "provider": self.provider,
            "backend": self.backend, "workers": self.workers, "seconds": round(self.seconds, 3),
            "interrupted": self.interrupted, "total": len(self.files), "done": self.done, "skipped": self.skipped,
            "failed": len(self.failed), "frames": self.frames, "fps": round(self.fps, 2),
            "images": self.images, "images_per_s": round(self.images_per_s, 2),
            "files": [f.to_dict() for f in self.files],
        }

    def write(self, path: Path) -> Path:
        """Write the JSON report atomically (a temporary name, then a rename)."""
        path = Path(path)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, path)
        self.report_path = str(path)
        return path


def print_summary(report: BatchReport, console, max_rows: int = 20, max_problems: int = 50) -> None:
    """A rich table: every file when there are few, else the ones that did not complete (at
    most ``max_problems``; the report has them all); then the totals."""
    from rich.table import Table

    rows = report.files if len(report.files) <= max_rows else [f for f in report.files if f.status != "done" and f.status != "skipped"]
    more = max(0, len(rows) - max_problems)
    rows = rows[:max_problems]
    n_images = sum(1 for f in report.files if f.kind == "image")
    work = [f"{report.frames} frames in {report.seconds:.1f} s = {report.fps:.1f} fps"] if len(report.files) > n_images else []
    if n_images:
        work.append(f"{report.images} images in {report.seconds:.1f} s = {report.images_per_s:.1f} images/s")
    title = (
        f"{report.done} done, {report.skipped} skipped, {len(report.failed)} failed of {len(report.files)} files; "
        f"{', '.join(work)} ({report.workers} worker{'s' if report.workers != 1 else ''}, {report.backend})"
    )
    table = Table(title=title, title_justify="left", caption=f"... and {more} more in the report" if more else None)
    videos = len(report.files) > n_images
    cols = ("file", "status", *(("frames",) if videos else ()), "s", *(("fps",) if videos else ()), *(("skin", "regions") if n_images else ()), "error")
    for col in cols:
        table.add_column(col, justify="right" if col in ("frames", "s", "fps", "skin", "regions") else "left", overflow="fold")
    colours = {"done": "green", "skipped": "dim", "failed": "red", "interrupted": "yellow"}
    for f in rows:
        shown = os.path.relpath(f.input) if not os.path.relpath(f.input).startswith("..") else f.input
        seconds = f.seconds if f.kind != "image" else (None if f.ms is None else f.ms / 1000)
        cells = {
            "file": shown, "status": f"[{colours.get(f.status, 'white')}]{f.status}[/]",
            "frames": "" if f.frames is None else str(f.frames), "s": "" if seconds is None else f"{seconds:.1f}",
            "fps": "" if f.fps is None else f"{f.fps:.1f}",
            "skin": "" if f.skin_fraction is None else f"{100 * f.skin_fraction:.1f}%",
            "regions": "" if f.regions is None else str(f.regions), "error": (f.error or "").replace("[", "\\["),
        }
        table.add_row(*(cells[c] for c in cols))
    if rows:
        console.print(table)
    else:  # many files and every one complete: the totals alone
        console.print(title, markup=False, soft_wrap=True)


class BatchProgress:
    """The progress bar over files; ``frames`` counts frames over all workers (in-flight ones
    too), ``images`` the images done; the rates shown are those the batch has (fps for videos,
    images/s for images)."""

    def __init__(self, console, total_files: int, total_frames: int | None, enabled: bool = True, total_images: int = 0) -> None:
        self.enabled = enabled
        self.total_frames = total_frames
        self.total_images = total_images
        self.t0 = time.perf_counter()
        self.failed = 0
        self._bar = None
        if not enabled:
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        rates = [TextColumn("{task.fields[fps]:>6.1f} fps")] if total_frames or not total_images else []
        rates += [TextColumn("{task.fields[ips]:>6.1f} images/s")] if total_images else []
        self._bar = Progress(
            TextColumn("[bold]batch"), BarColumn(), MofNCompleteColumn(), TextColumn("files"),
            TextColumn("[red]{task.fields[failed]} failed"), *rates,
            TimeElapsedColumn(), TextColumn("ETA {task.fields[eta]}"), console=console, transient=False,
        )
        self._task = self._bar.add_task("batch", total=total_files, failed=0, fps=0.0, ips=0.0, eta="-:--:--")

    def __enter__(self) -> "BatchProgress":
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.stop()

    def update(self, files_done: int, failed: int, frames: int, images: int = 0) -> None:
        if self._bar is None:
            return
        elapsed = time.perf_counter() - self.t0
        fps = frames / elapsed if elapsed > 0 else 0.0
        ips = images / elapsed if elapsed > 0 else 0.0
        eta = "-:--:--"
        left = None
        if self.total_frames and fps > 0:
            left = max(0, self.total_frames - frames) / fps
        if self.total_images and ips > 0:
            left = (left or 0.0) + max(0, self.total_images - images) / ips
        if left is not None:
            eta = time.strftime("%H:%M:%S", time.gmtime(left))
        self._bar.update(self._task, completed=files_done, failed=failed, fps=fps, ips=ips, eta=eta)
