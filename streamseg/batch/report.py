"""What a batch did: one entry per file, ``batch_report.json``, the summary table and the
progress bar (files done and failed, frames/s over all workers, ETA from the frames left)."""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPORT_NAME = "batch_report.json"


@dataclass
class FileResult:
    """One file of a batch. ``status``: done, skipped, failed or interrupted."""

    input: str
    outputs: dict[str, str]
    status: str = "pending"
    frames: int | None = None
    seconds: float | None = None
    fps: float | None = None
    error: str | None = None
    attempts: int = 0
    worker: int | None = None


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

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": 1, "out_dir": self.out_dir, "method": self.method, "provider": self.provider,
            "backend": self.backend, "workers": self.workers, "seconds": round(self.seconds, 3),
            "interrupted": self.interrupted, "total": len(self.files), "done": self.done, "skipped": self.skipped,
            "failed": len(self.failed), "frames": self.frames, "fps": round(self.fps, 2),
            "files": [asdict(f) for f in self.files],
        }

    def write(self, path: Path) -> Path:
        """Write the JSON report atomically (a temporary name, then a rename)."""
        path = Path(path)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, path)
        self.report_path = str(path)
        return path


def print_summary(report: BatchReport, console, max_rows: int = 20) -> None:
    """A rich table: every file when there are few, else the failed ones; then the totals."""
    from rich.table import Table

    rows = report.files if len(report.files) <= max_rows else [f for f in report.files if f.status != "done" and f.status != "skipped"]
    title = (
        f"{report.done} done, {report.skipped} skipped, {len(report.failed)} failed of {len(report.files)} files; "
        f"{report.frames} frames in {report.seconds:.1f} s = {report.fps:.1f} fps ({report.workers} worker"
        f"{'s' if report.workers != 1 else ''}, {report.backend})"
    )
    table = Table(title=title, title_justify="left")
    for col in ("file", "status", "frames", "s", "fps", "error"):
        table.add_column(col, justify="right" if col in ("frames", "s", "fps") else "left", overflow="fold")
    colours = {"done": "green", "skipped": "dim", "failed": "red", "interrupted": "yellow"}
    for f in rows:
        shown = os.path.relpath(f.input) if not os.path.relpath(f.input).startswith("..") else f.input
        table.add_row(
            shown, f"[{colours.get(f.status, 'white')}]{f.status}[/]", "" if f.frames is None else str(f.frames),
            "" if f.seconds is None else f"{f.seconds:.1f}", "" if f.fps is None else f"{f.fps:.1f}",
            (f.error or "").replace("[", "\\["),
        )
    console.print(table)


class BatchProgress:
    """The progress bar over files; ``frames`` counts frames over all workers (in-flight ones too)."""

    def __init__(self, console, total_files: int, total_frames: int | None, enabled: bool = True) -> None:
        self.enabled = enabled
        self.total_frames = total_frames
        self.t0 = time.perf_counter()
        self.failed = 0
        self._bar = None
        if not enabled:
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._bar = Progress(
            TextColumn("[bold]batch"), BarColumn(), MofNCompleteColumn(), TextColumn("files"),
            TextColumn("[red]{task.fields[failed]} failed"), TextColumn("{task.fields[fps]:>6.1f} fps"),
            TimeElapsedColumn(), TextColumn("ETA {task.fields[eta]}"), console=console, transient=False,
        )
        self._task = self._bar.add_task("batch", total=total_files, failed=0, fps=0.0, eta="-:--:--")

    def __enter__(self) -> "BatchProgress":
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.stop()

    def update(self, files_done: int, failed: int, frames: int) -> None:
        if self._bar is None:
            return
        elapsed = time.perf_counter() - self.t0
        fps = frames / elapsed if elapsed > 0 else 0.0
        eta = "-:--:--"
        if self.total_frames and fps > 0:
            left = max(0, self.total_frames - frames) / fps
            eta = time.strftime("%H:%M:%S", time.gmtime(left))
        self._bar.update(self._task, completed=files_done, failed=failed, fps=fps, eta=eta)
