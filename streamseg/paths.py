"""Where streamseg looks for models and configs."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent


def model_dirs() -> list[Path]:
    """Model directories in search order: the shipped ``models/``, then ``$STREAMSEG_MODELS`` (``os.pathsep``-separated)."""
    dirs = [PACKAGE_DIR / "models", REPO_DIR / "models"]
    extra = os.environ.get("STREAMSEG_MODELS", "")
    dirs += [Path(p).expanduser() for p in extra.split(os.pathsep) if p]
    seen: list[Path] = []
    for d in dirs:
        if d.is_dir() and d not in seen:
            seen.append(d)
    return seen


def config_dir() -> Path:
    """The shipped ``configs/`` directory."""
    for d in (PACKAGE_DIR / "configs", REPO_DIR / "configs"):
        if d.is_dir():
            return d
    return REPO_DIR / "configs"


def demo_clip() -> Path:
    """The embedded demo clip (the default input of ``streamseg video``)."""
    for d in (PACKAGE_DIR / "examples", REPO_DIR / "examples"):
        p = d / "face_thumbsup_pixabay_720p.mp4"
        if p.is_file():
            return p
    return REPO_DIR / "examples" / "face_thumbsup_pixabay_720p.mp4"
