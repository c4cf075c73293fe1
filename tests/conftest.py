"""Shared fixtures: small videos generated with PyAV, and an in-process CLI runner."""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from streamseg.synthetic import make_video, read_video, synthetic_frame  # noqa: E402,F401

HAVE_RAY = importlib.util.find_spec("ray") is not None
#: for the tests that start Ray workers (``from conftest import needs_ray``)
needs_ray = pytest.mark.skipif(not HAVE_RAY, reason="ray is not installed (pip install 'streamseg[ray]')")


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


@pytest.fixture
def damaged_mp4(tmp_path: Path) -> Path:
    """A 100-frame 128x96 MP4 (``tmp_path / "bad.mp4"``) with five 200-byte runs of random bytes
    at 30 % to 70 % of the file: damaged packets in the middle, a whole file around them."""
    src = make_video(tmp_path / "c.mp4", frames=100, width=128, height=96)
    data = bytearray(src.read_bytes())
    rng = random.Random(1)  # fixed: the same packets are hit on every run
    for k in range(5):
        o = int(len(data) * (0.3 + 0.1 * k))
        data[o : o + 200] = bytes(rng.randrange(256) for _ in range(200))
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(bytes(data))
    return bad


@pytest.fixture(scope="module")
def ray_session():
    """One local Ray (2 CPUs) for the Ray tests of a module, shut down at the module's end."""
    import ray

    from streamseg.batch.runner import init_ray

    init_ray(None, 2)
    try:
        yield ray
    finally:
        ray.shutdown()
