"""Checks and temporary names for output files, so nothing half-written is passed off as complete.

Example:
    >>> from pathlib import Path
    >>> partial_path(Path("out/clip_mask.mp4"))
    PosixPath('out/clip_mask.partial.mp4')
"""

from __future__ import annotations

import atexit
import os
import threading
from contextlib import contextmanager
from typing import Iterator, Sequence
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: the lock file is still written, not locked
    fcntl = None  # type: ignore[assignment]

from streamseg import log
from streamseg.errors import OutputError


def partial_path(final: Path) -> Path:
    """The name an output has while it is written (and keeps if the job did not complete)."""
    return final.with_name(f"{final.stem}.partial{final.suffix}")


def lock_path(final: Path) -> Path:
    """The lock file next to an output's ``.partial`` file while a run writes it."""
    tmp = partial_path(Path(final))
    return tmp.with_name(tmp.name + ".lock")


#: lock path -> open file descriptor, for the outputs this process writes
_held: dict[str, int] = {}
_held_guard = threading.Lock()


def acquire_lock(final: Path) -> Path:
    """Take the lock of output ``final`` for this process (again, if it holds it already).

    The lock is an ``flock`` on ``<name>.partial<ext>.lock``, so it goes with the process
    (a crashed run leaves no stale lock, only a file that the next run takes over).

    Raises:
        OutputError: another process is writing ``final``.
    """
    lock = lock_path(final)
    key = str(lock.absolute())
    with _held_guard:
        if key in _held:
            return lock
        for _ in range(5):
            try:
                fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError:
                return lock  # a folder we cannot write in: prepare_output says so
            try:
                if fcntl is not None:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                try:
                    pid = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
                except OSError:
                    pid = "?"
                os.close(fd)
                raise OutputError(
                    f"{final} is being written by another streamseg run (pid {pid}; lock {lock}); "
                    "wait for it to finish or choose another output"
                ) from None
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(lock))
            except OSError:
                same = False
            if not same:  # the holder removed it as we opened it: take the new one
                os.close(fd)
                continue
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            _held[key] = fd
            return lock
    return lock


def release_lock(final: Path) -> None:
    """Give up the lock of output ``final`` (nothing happens when this process does not hold it)."""
    lock = lock_path(final)
    with _held_guard:
        fd = _held.pop(str(lock.absolute()), None)
    if fd is None:
        return
    try:
        lock.unlink()
    except OSError:
        pass
    os.close(fd)


@contextmanager
def released_on_error(*finals: Path | None) -> Iterator[None]:
    """Give up the locks of the outputs ``finals`` (``None`` entries are skipped) when the block
    raises: a run that fails after :func:`prepare_output` (a model that cannot load, say) leaves
    no lock behind in a process that goes on. What the block wrote itself is handled by
    :func:`commit` / :func:`discard`.
    """
    try:
        yield
    except BaseException:
        for final in finals:
            if final is not None:
                release_lock(final)
        raise


@atexit.register
def _release_all() -> None:
    for key in list(_held):
        fd = _held.pop(key, None)
        try:
            os.unlink(key)
        except OSError:
            pass
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass


def same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` name one file: equal resolved paths (files that do not exist yet
    too), or :func:`os.path.samefile` where both exist (hard links, case-insensitive file systems)."""
    a, b = Path(a), Path(b)
    try:
        if a.resolve() == b.resolve():
            return True
    except (OSError, RuntimeError):  # a symlink loop: compare as written
        if a.absolute() == b.absolute():
            return True
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def check_outputs(
    outputs: Sequence[tuple[str, Path]], inputs: Sequence[Path] = (), overwrite: bool = False
) -> None:
    """The one check every output path of a run goes through, before anything is written or loaded.

    Args:
        outputs: ``(what, path)`` pairs naming every file the run will write, e.g.
            ``("-o", out.mp4)``, ``("--stats-csv", s.csv)``, ``("--rois jsonl", r.jsonl)``;
            ``what`` is how the messages name the output.
        inputs: the files the run reads.
        overwrite: existing outputs may be replaced (``-y``); inputs and repeats never are.

    Raises:
        OutputError: an output is a directory, is one of the inputs, is named by two outputs, or
            exists without ``overwrite`` (one line naming the path and the outputs involved).
    """
    seen: list[tuple[str, Path]] = []
    for what, path in outputs:
        path = Path(path)
        if path.is_dir():
            raise OutputError(f"output is a directory: {path} ({what}; give a file name)")
        for inp in inputs:
            if same_file(path, Path(inp)):
                raise OutputError(f"output {path} ({what}) is the same file as the input {inp}; choose another name")
        for other_what, other in seen:
            if same_file(path, other):
                names = what if what == other_what else f"{other_what} and {what}"
                raise OutputError(f"{path} is named twice as an output ({names}); give each output its own file")
        seen.append((what, path))
    if not overwrite:
        existing = [path for _, path in seen if path.exists() or path.is_symlink()]
        if len(existing) == 1:
            raise OutputError(f"output exists: {existing[0]} (use --overwrite to replace it)")
        if existing:
            raise OutputError(f"output exists: {existing[0]} and {len(existing) - 1} more (use --overwrite to replace them)")


def prepare_output(final: Path, overwrite: bool = False, inputs: tuple[Path, ...] = ()) -> Path:
    """Validate an output path before any work starts; create its folder if needed; take its
    lock (:func:`acquire_lock`, released by :func:`commit` / :func:`discard` or at exit).

    Raises:
        OutputError: it exists (without ``overwrite``), equals an input, is a directory,
            its folder cannot be created or written, or another run is writing it.
    """
    final = Path(final)
    if final.is_dir():
        raise OutputError(f"output is a directory: {final} (give a file name)")
    for inp in inputs:
        if same_file(final, Path(inp)):
            raise OutputError(f"output {final} is the same file as the input; choose another name")
    if final.exists() and not overwrite:
        raise OutputError(f"output exists: {final} (use --overwrite to replace it)")
    parent = final.parent if str(final.parent) else Path(".")
    if not parent.exists():
        try:
            parent.mkdir(parents=True)
            log.info(f"created output folder {parent}")
        except OSError as exc:
            raise OutputError(f"cannot create output folder {parent}: {exc.strerror or exc}") from None
    if not os.access(parent, os.W_OK):
        raise OutputError(f"no permission to write in {parent}")
    acquire_lock(final)  # before the probe below touches a .partial file another run may be writing
    probe = partial_path(final)
    try:  # the only sure test (read-only mounts, special file systems, root squash)
        with open(probe, "ab"):
            pass
        probe.unlink()
    except OSError as exc:
        release_lock(final)
        reason = "no permission" if isinstance(exc, PermissionError) else (exc.strerror or str(exc))
        raise OutputError(f"cannot write {final}: {reason}") from None
    return final


def commit(tmp: Path, final: Path) -> Path:
    """Atomically move a finished temporary file to its final name."""
    try:
        os.replace(tmp, final)
    except OSError as exc:
        raise OutputError(f"cannot rename {tmp} to {final}: {exc.strerror or exc}") from None
    finally:
        release_lock(final)
    return final


def discard(tmp: Path) -> None:
    """Remove a temporary file that must not be kept (errors are ignored)."""
    try:
        tmp.unlink()
    except OSError:
        pass
    name = Path(tmp).name
    if ".partial" in name:  # <stem>.partial<ext> -> <stem><ext>
        release_lock(Path(tmp).with_name(name.replace(".partial", "", 1)))
