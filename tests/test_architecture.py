"""The package's structure is a contract: its layers and the absence of import cycles (the
import-linter contracts in pyproject.toml), and the API's small shape."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_are_kept(capsys):
    import logging

    from importlinter.cli import lint_imports

    ours = logging.getLogger("streamseg")
    was = ours.disabled
    try:
        code = lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True)
    finally:
        ours.disabled = was  # its logging.config call switches off the loggers that exist
    out = capsys.readouterr().out
    assert code == 0, out
    assert "2 kept, 0 broken" in out, out


@pytest.mark.parametrize("name", ["process_video", "process_live", "process_images", "process_batch"])
def test_each_run_takes_a_source_a_destination_and_a_spec(name):
    import streamseg

    params = inspect.signature(getattr(streamseg, name)).parameters
    assert len(params) <= 8, list(params)
    assert "spec" in params and list(params)[:3].count("spec") == 1
    assert any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())  # the spec's options as keywords


def test_the_package_name_segment_stays_the_api_function():
    """Importing the subpackage streamseg.segment must not hide streamseg.segment()."""
    import numpy as np

    import streamseg
    import streamseg.segment.registry  # noqa: F401 - what the API itself imports

    assert callable(streamseg.segment) and streamseg.segment.__module__ == "streamseg.api"
    assert streamseg.segment(np.zeros((4, 6, 3), np.uint8), method="ellipse").shape == (4, 6)
