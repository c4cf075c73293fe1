"""Images in a batch: many small files go to the workers in chunks (one task per chunk, so the
per-task cost of Ray is paid once per chunk, not once per photo), and every finished file gets
a row in ``results.jsonl``, appended as results arrive, that a re-run reads to skip what is done.

Example:
    >>> from streamseg.batch.inputs import Job
    >>> jobs = [Job(input=f"/p/{i}.jpg", rel=f"{i}.jpg", outputs={}, kind="image") for i in range(5)]
    >>> [len(c.jobs) for c in make_chunks(jobs, 2)]
    [2, 2, 1]
    >>> [len(t.jobs) for t in retry_tasks(make_chunks(jobs, 3)[0])]
    [1, 1, 1]
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from streamseg.batch.inputs import Job, is_up_to_date
from streamseg.batch.report import IMAGE_FIELDS, FileResult

#: the streaming results table, next to ``batch_report.json``
RESULTS_NAME = "results.jsonl"
#: the most images in one task: a chunk is a few seconds of work at most, so the in-flight tail
#: at the end of a run and the work redone after a worker dies stay small
MAX_CHUNK = 64


@dataclass
class ImageChunk:
    """Images handed to one worker in one task (it walks a job's fields like a video
    :class:`~streamseg.batch.inputs.Job`: ``input``, ``attempts``, ``cost``, ``all_outputs``)."""

    jobs: list[Job]
    attempts: int = 0

    @property
    def input(self) -> str:
        """The first image (for messages and events)."""
        return self.jobs[0].input if self.jobs else ""

    @property
    def cost(self) -> float:
        return float(len(self.jobs))

    def all_outputs(self) -> list[str]:
        return [p for j in self.jobs for p in j.all_outputs()]


def chunk_size(n_images: int, workers: int, requested: int | None = None) -> int:
    """Images per task: ``requested``, else enough chunks for about 8 per worker (so the
    workers finish together), at most :data:`MAX_CHUNK` and at least 1."""
    if requested:
        return max(1, int(requested))
    return max(1, min(MAX_CHUNK, math.ceil(n_images / max(1, 8 * workers))))


def make_chunks(jobs: Sequence[Job], size: int) -> list[ImageChunk]:
    """``jobs`` in order, ``size`` at a time."""
    return [ImageChunk(list(jobs[i : i + size])) for i in range(0, len(jobs), max(1, size))]


def retry_tasks(task: Any) -> list[Any]:
    """What goes back into the queue when ``task``'s worker died: a chunk of several images
    comes back one image per task (so an image that kills its worker fails alone and the rest
    of the chunk completes), with the attempts it has used; anything else as it is."""
    if isinstance(task, ImageChunk) and len(task.jobs) > 1:
        return [ImageChunk([j], attempts=task.attempts) for j in task.jobs]
    return [task]


def read_results(path: Path) -> dict[str, dict[str, Any]]:
    """The last row of each input in a ``results.jsonl`` (input path -> row); an unreadable
    file or a torn last line (a run that was killed while writing) counts as no row."""
    rows: dict[str, dict[str, Any]] = {}
    try:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                try:
                    row = json.loads(line)
                except ValueError:
                    continue
                if isinstance(row, dict) and isinstance(row.get("path"), str):
                    rows[row["path"]] = row
    except OSError:
        pass
    return rows


class ResultsLog:
    """``results.jsonl``: rows appended as files finish, the file opened, written and closed
    each time (a run that is killed keeps every row it wrote; a torn last row left by such a run
    is ended before the first new row, so it spoils no other)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._checked = False
        self._warned = False

    def _torn(self) -> bool:
        try:
            with open(self.path, "rb") as fh:
                fh.seek(-1, os.SEEK_END)
                return fh.read(1) != b"\n"
        except OSError:  # no file yet, or an empty one
            return False

    def write(self, rows: Sequence[dict[str, Any]]) -> None:
        """Append ``rows`` (a failure to write warns once; the batch goes on)."""
        if not rows:
            return
        text = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows)
        try:
            if not self._checked:
                self._checked = True
                text = ("\n" if self._torn() else "") + text
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as exc:
            if not self._warned:
                self._warned = True
                from streamseg import log

                log.warn(f"cannot write {self.path}: {exc.strerror or exc}")


def result_row(r: FileResult) -> dict[str, Any]:
    """The ``results.jsonl`` row of a finished file: ``path``, ``kind``, ``status``, ``error``,
    and ``width``, ``height``, ``bytes``, ``skin_fraction``, ``regions``, ``ms`` for an image
    (``frames``, ``seconds``, ``fps`` for a video), ``outputs``, ``worker``."""
    d = r.to_dict()
    d.pop("attempts", None)
    return {"path": d.pop("input"), "kind": r.kind, "status": d.pop("status"), **d}


def carry_row(r: FileResult, row: dict[str, Any]) -> None:
    """Put the numbers of an earlier run's row into a skipped image's entry."""
    for k in (*IMAGE_FIELDS, "worker"):
        if k in row:
            setattr(r, k, row[k])


def plan_images(jobs: Sequence[Job], results: dict[str, FileResult], out_dir: Path, force: bool) -> list[Job]:
    """The image jobs left to do. An image is skipped (its entry ``skipped``, with the numbers
    of its row) when an earlier run's ``results.jsonl`` has it ``done`` and its outputs exist and
    are newer than it; ``force`` redoes everything."""
    prev = read_results(Path(out_dir) / RESULTS_NAME) if jobs and not force else {}
    todo = []
    for j in jobs:
        r = results[j.input]
        r.kind = "image"
        row = prev.get(j.input)
        if row is not None and row.get("status") == "done" and is_up_to_date(j):
            r.status = "skipped"
            carry_row(r, row)
        else:
            todo.append(j)
    return todo


def to_tasks(jobs: Sequence[Job], workers: int, requested: int | None = None) -> list[Any]:
    """The videos as they are (one task each, in order), then the images in chunks."""
    videos = [j for j in jobs if j.kind != "image"]
    images = [j for j in jobs if j.kind == "image"]
    return [*videos, *make_chunks(images, chunk_size(len(images), workers, requested))]


def finish_chunk(chunk: ImageChunk, res: dict[str, Any], results: dict[str, FileResult]) -> list[tuple[Job, FileResult]]:
    """Put a chunk's result into its images' entries; returns ``(job, entry)`` of the images
    that finished (done, failed or interrupted). A result without rows (its worker died for good, or was
    stopped) gives its status and error to every image; with rows, images without one were not
    started and stay pending."""
    rows = {row["input"]: row for row in res.get("images") or ()}
    finished = []
    for job in chunk.jobs:
        r = results[job.input]
        row = rows.get(job.input)
        if row is not None:
            r.status, r.error = row["status"], row.get("error")
            for k in IMAGE_FIELDS:
                setattr(r, k, row.get(k))
        elif "images" in res:
            continue
        else:
            r.status, r.error = res.get("status") or "failed", res.get("error")
        r.attempts = chunk.attempts
        r.worker = res.get("pid")
        finished.append((job, r))
    return finished
