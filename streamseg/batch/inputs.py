"""Batch inputs: files, folders (recursive), globs and manifests -> video and image files, and
the output names that mirror the input tree under the output folder.

Example:
    >>> from pathlib import Path
    >>> jobs = plan_jobs([Path("/d/a/clip.mp4"), Path("/d/b/clip.mp4")], Path("/out"), ["mask"],
    ...                  anchors=[Path("/d/a"), Path("/d/b")])
    >>> [j.outputs["mask"] for j in jobs]
    ['/out/a/clip_mask.mp4', '/out/b/clip_mask.mp4']
"""

from __future__ import annotations

import csv
import glob
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from streamseg.capture.image import IMAGE_EXTS
from streamseg.errors import InputError

#: extensions taken from folders, globs and manifests (a file named directly is taken as it is)
VIDEO_EXTS = frozenset(
    ".mp4 .m4v .mov .mkv .webm .avi .wmv .flv .mpg .mpeg .ts .mts .m2ts .3gp .ogv .y4m".split()
)
#: an input with one of these extensions is a manifest: one path per line, or a CSV with a `path` column
MANIFEST_EXTS = frozenset({".txt", ".csv"})


@dataclass
class Job:
    """One file of a batch: its input, its outputs (type -> path) and what the probe found.

    Paths are absolute strings, so a job means the same on every worker of a cluster that
    mounts the same file system. ``kind`` is ``video`` or ``image`` (by the file's extension).
    """

    input: str
    rel: str
    outputs: dict[str, str]
    rois: str | None = None
    frames: int | None = None
    duration: float | None = None
    width: int = 0
    height: int = 0
    attempts: int = 0
    info: dict[str, Any] = field(default_factory=dict)
    kind: str = "video"

    @property
    def cost(self) -> float:
        """Work estimate for longest-first scheduling: frames, weighted a little by frame size
        (decode and encode scale with pixels, a fixed-size model does not)."""
        frames = self.frames or 0
        return frames * (1.0 + (self.width * self.height) / (1280 * 720))

    def all_outputs(self) -> list[str]:
        return [*self.outputs.values(), *([self.rois] if self.rois else [])]


def _is_video(p: Path) -> bool:
    return p.suffix.lower() in VIDEO_EXTS and ".partial." not in p.name


def is_image(p: Path | str) -> bool:
    """Whether a batch input is a still image (by its extension: those ``streamseg image`` reads,
    ``streamseg.capture.image.IMAGE_EXTS``)."""
    return Path(p).suffix.lower() in IMAGE_EXTS and ".partial." not in Path(p).name


def _is_media(p: Path) -> bool:
    return _is_video(p) or is_image(p)


def _inside(p: Path, folder: Path | None) -> bool:
    if folder is None:
        return False
    try:
        p.resolve().relative_to(folder)
        return True
    except ValueError:
        return False


def read_manifest(path: Path) -> list[Path]:
    """The paths a manifest lists (relative ones are relative to the manifest's folder).

    Raises:
        InputError: unreadable, a CSV without a ``path`` column, or no path in it.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read manifest {path}: {getattr(exc, 'strerror', None) or exc}") from None
    if path.suffix.lower() == ".csv":
        rows = csv.DictReader(text.splitlines())
        fields = [f.strip().lower() for f in rows.fieldnames or []]
        if "path" not in fields:
            raise InputError(f"manifest {path} has no 'path' column (columns: {', '.join(fields) or 'none'})")
        key = (rows.fieldnames or [])[fields.index("path")]
        names = [(r.get(key) or "").strip() for r in rows]
    else:
        names = [line.strip() for line in text.splitlines()]
    names = [n for n in names if n and not n.startswith("#")]
    if not names:
        raise InputError(f"manifest {path} lists no file")
    return [Path(n) if Path(n).is_absolute() else path.parent / n for n in names]


def expand_batch_inputs(items: Sequence[str | Path], exclude: Path | None = None) -> tuple[list[Path], list[Path]]:
    """Files, folders (recursively, video and image extensions only), globs and manifests -> files.

    Args:
        items: what the user gave.
        exclude: a folder whose files are never inputs (the output folder, which may sit
            inside an input folder).

    Returns:
        ``(files, anchors)``: absolute, de-duplicated files in the order found, and the folders
        the output tree mirrors (each folder input, the parent of every other file).

    Raises:
        InputError: an item is missing or matches nothing (one line naming it).
    """
    excl = exclude.resolve() if exclude is not None else None
    files: list[Path] = []
    anchors: list[Path] = []

    def add(p: Path, anchor: Path | None = None) -> None:
        p = p.absolute()
        files.append(p)
        anchors.append((anchor or p.parent).absolute())

    for item in items:
        p = Path(item)
        text = str(item)
        if p.is_dir():
            found = sorted(q for q in p.rglob("*") if q.is_file() and _is_media(q) and not _inside(q, excl))
            if not found:
                raise InputError(
                    f"no video files in folder {p}, nor images (extensions: {', '.join(sorted(VIDEO_EXTS))}; "
                    f"{', '.join(IMAGE_EXTS)})"
                )
            for q in found:
                add(q, p)
        elif p.is_file() and p.suffix.lower() in MANIFEST_EXTS:
            for q in read_manifest(p):
                if not q.is_file():
                    raise InputError(f"{p} lists a file that does not exist: {q}")
                add(q)
        elif p.exists():
            add(p)
        elif any(c in text for c in "*?["):
            found = sorted(Path(q) for q in glob.glob(os.path.expanduser(text), recursive=True))
            found = [q for q in found if q.is_file() and _is_media(q) and not _inside(q, excl)]
            if not found:
                raise InputError(f"no video or image file matches {text!r}")
            for q in found:
                add(q)
        elif "://" in text:
            raise InputError(f"{text}: remote paths are not supported by streamseg batch (mount the bucket, e.g. with s3fs/gcsfuse)")
        else:
            raise InputError(f"input not found: {p}")
    seen: set[Path] = set()
    out_files, out_anchors = [], []
    for f, a in zip(files, anchors):
        key = f.resolve()
        if key not in seen:
            seen.add(key)
            out_files.append(f)
            out_anchors.append(a)
    return out_files, out_anchors


def plan_jobs(
    files: Sequence[Path],
    out_dir: Path,
    output_types: Sequence[str],
    anchors: Sequence[Path] | None = None,
    rois: bool = False,
) -> list[Job]:
    """One :class:`Job` per file; outputs ``OUT_DIR/<path relative to the common root>/<stem>_<type>.mp4``
    (``.mov`` for types with alpha) for videos, ``<stem>_<type>.png`` for images (the names
    ``streamseg image`` gives them).

    The common root is the deepest folder that holds every anchor, so distinct inputs always get
    distinct relative paths; two inputs of one folder with equal stems (``a.mp4``, ``a.mov``)
    keep their extension in the name (``a_mp4_mask.mp4``, ``a_mov_mask.mp4``).
    """
    from streamseg.pipeline.outputs import default_output_name

    files = [Path(f).absolute() for f in files]
    if not files:
        return []
    anchors = [Path(a).absolute() for a in (anchors or [f.parent for f in files])]
    root = Path(os.path.commonpath([str(a) for a in anchors]))
    rels = [f.relative_to(root) if f.is_relative_to(root) else Path(f.name) for f in files]
    stems: dict[tuple[Path, str], int] = {}
    for r in rels:
        stems[(r.parent, r.stem)] = stems.get((r.parent, r.stem), 0) + 1
    out_dir = Path(out_dir).absolute()
    jobs = []
    for f, r in zip(files, rels):
        stem = r.stem if stems[(r.parent, r.stem)] == 1 else f"{r.stem}_{r.suffix.lstrip('.').lower()}"
        folder = out_dir / r.parent
        if is_image(f):
            outputs = {t: str(folder / f"{stem}_{t}.png") for t in output_types}
            jobs.append(Job(input=str(f), rel=str(r), outputs=outputs, kind="image"))
            continue
        outputs = {t: str(folder / default_output_name(stem, t)) for t in output_types}
        jobs.append(Job(input=str(f), rel=str(r), outputs=outputs, rois=str(folder / f"{stem}_rois.jsonl") if rois else None))
    return jobs


def is_up_to_date(job: Job) -> bool:
    """Every output of ``job`` exists under its final name and is newer than the input."""
    try:
        src = os.stat(job.input).st_mtime
        return all(os.stat(p).st_mtime >= src for p in job.all_outputs())
    except OSError:
        return False
