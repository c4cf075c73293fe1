"""The README's Python API examples run as doctests, in a folder with a generated clip and image."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from streamseg.synthetic import make_video, synthetic_frame

README = Path(__file__).resolve().parent.parent / "README.md"


def api_examples() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Python API", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert blocks and all(">>>" in b for b in blocks)
    return "\n".join(blocks)


def test_readme_api_examples_run(tmp_path, monkeypatch):
    make_video(tmp_path / "clip.mp4", frames=10, width=64, height=48)
    cv2.imwrite(str(tmp_path / "photo.png"), synthetic_frame(0, 64, 48))
    monkeypatch.chdir(tmp_path)
    test = doctest.DocTestParser().get_doctest(api_examples(), {}, "README.md: Python API", str(README), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.attempted >= 10
    assert result.failed == 0, f"{result.failed} README example(s) failed (see the output above)"
    assert (tmp_path / "out" / "clip_mask.mp4").is_file() and (tmp_path / "masks" / "photo_prob.png").is_file()


def test_api_errors_are_one_line(tmp_path):
    import streamseg
    from streamseg.errors import StreamsegError

    with pytest.raises(StreamsegError, match="unknown method") as info:
        streamseg.new_session("no-such-method")
    assert "\n" not in str(info.value)
    with pytest.raises(StreamsegError, match="not found|cannot"):
        streamseg.process_video(tmp_path / "missing.mp4", tmp_path / "o.mp4", method="ellipse")
    with pytest.raises(ValueError, match="BGR uint8"):
        streamseg.segment(np.zeros((4, 4), np.uint8), method="ellipse")


def test_version_and_lazy_import():
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", "import sys, streamseg; print(streamseg.__version__, 'streamseg.api' in sys.modules, 'cv2' in sys.modules)"],
                         capture_output=True, text=True, check=True).stdout.split()
    assert out[1:] == ["False", "False"]
    cli = subprocess.run([sys.executable, "-m", "streamseg", "--version"], capture_output=True, text=True)
    assert cli.returncode == 0 and cli.stdout.strip() == f"streamseg {out[0]}"


def test_readme_layout_matches_the_tree():
    """Every file and folder the Layout table names exists, and every module and package of
    streamseg/ is named there."""
    text = README.read_text(encoding="utf-8")
    table = text.split("## Layout", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| `streamseg")]
    named = {p.rstrip("/") for row in rows for p in re.findall(r"`(streamseg/[\w/.]+)`", row.split(" | ")[0])}
    root = README.parent
    for path in named:
        assert (root / path).exists(), f"README's layout names {path}, which does not exist"
    for row in rows:  # the files a row's description names, in its own folder
        folder = re.findall(r"`(streamseg/[\w/]+)/`", row.split(" | ")[0])
        for name in re.findall(r"`([\w/]+\.py)`", row.split(" | ", 1)[1]) if folder else ():
            path = name if name.startswith("streamseg/") else f"{folder[0]}/{name}"
            assert (root / path).exists(), f"README's layout names {path}, which does not exist"
    package = root / "streamseg"
    tops = {f"streamseg/{p.name}" for p in package.iterdir() if (p.suffix == ".py" or (p.is_dir() and (p / "__init__.py").exists())) and not p.name.startswith("__init__")}
    tops.add("streamseg/__init__.py")
    assert not tops - named, f"not in README's layout: {sorted(tops - named)}"
