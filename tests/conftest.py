"""Shared fixtures: small videos generated with PyAV, and an in-process CLI runner."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from streamseg.synthetic import make_video, read_video, synthetic_frame  # noqa: E402,F401


@pytest.fixture
def cli(capsys):
    """Run the CLI in-process: ``code, out, err = cli("video", ...)``."""
    from streamseg.cli import main

    def run(*args: str) -> tuple[int, str, str]:
        old = sys.argv
        sys.argv = ["streamseg", *map(str, args)]
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            sys.argv = old
        out, err = capsys.readouterr()
        return code, out, err

    return run
