"""Checks and temporary names for output files, so nothing half-written is passed off as complete.

Example:
    >>> from pathlib import Path
    >>> partial_path(Path("out/clip_mask.mp4"))
    PosixPath('out/clip_mask.partial.mp4')
"""

from __future__ import annotations

import os
from pathlib import Path

from streamseg import log
from streamseg.errors import OutputError


def partial_path(final: Path) -> Path:
    """The name an output has while it is written (and keeps if the job did not complete)."""
    return final.with_name(f"{final.stem}.partial{final.suffix}")


def prepare_output(final: Path, overwrite: bool = False, inputs: tuple[Path, ...] = ()) -> Path:
    """Validate an output path before any work starts; create its folder if needed.

    Raises:
        OutputError: it exists (without ``overwrite``), equals an input, is a directory,
            or its folder cannot be created or written.
    """
    final = Path(final)
    if final.is_dir():
        raise OutputError(f"output is a directory: {final} (give a file name)")
    for inp in inputs:
        try:
            if inp.exists() and final.exists() and os.path.samefile(inp, final) or inp.resolve() == final.resolve():
                raise OutputError(f"output {final} is the same file as the input; choose another name")
        except OSError:
            pass
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
    probe = partial_path(final)
    try:  # the only sure test (read-only mounts, special file systems, root squash)
        with open(probe, "ab"):
            pass
        probe.unlink()
    except OSError as exc:
        reason = "no permission" if isinstance(exc, PermissionError) else (exc.strerror or str(exc))
        raise OutputError(f"cannot write {final}: {reason}") from None
    return final


def commit(tmp: Path, final: Path) -> Path:
    """Atomically move a finished temporary file to its final name."""
    try:
        os.replace(tmp, final)
    except OSError as exc:
        raise OutputError(f"cannot rename {tmp} to {final}: {exc.strerror or exc}") from None
    return final


def discard(tmp: Path) -> None:
    """Remove a temporary file that must not be kept (errors are ignored)."""
    try:
        tmp.unlink()
    except OSError:
        pass
