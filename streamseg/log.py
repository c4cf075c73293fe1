"""User-facing messages on stderr (rich), shared by every command."""

from __future__ import annotations

import sys

from rich.console import Console

console = Console(stderr=True, highlight=False)


def info(msg: str) -> None:
    """An informational line (what runs, where output went)."""
    console.print(msg, markup=False, soft_wrap=True)


def warn(msg: str) -> None:
    """A one-line warning; the job goes on."""
    console.print(f"[yellow]warning:[/yellow] {escape(msg)}", soft_wrap=True)


def error(msg: str) -> None:
    """A one-line error (the caller exits non-zero)."""
    console.print(f"[red]error:[/red] {escape(msg)}", soft_wrap=True)
    sys.stderr.flush()


def escape(msg: str) -> str:
    from rich.markup import escape as _escape

    return _escape(str(msg))
