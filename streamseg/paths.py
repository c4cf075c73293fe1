"""Where streamseg finds the files it ships (models, fitted parameters, configs, schemas).

Everything the runtime needs is package data under ``streamseg/data/`` and is found through
:mod:`importlib.resources`, so a wheel installed anywhere works like a source checkout:

- ``data/models/``: ``<name>.onnx`` + ``<name>.json`` spec (+ ``<name>.md`` card) pairs and the
  fitted classical parameters ``classical.npz``; any pair placed there is picked up;
- ``data/configs/``: ``classical.toml``;
- ``data/schemas/``: ``rois.schema.json``.

``$STREAMSEG_MODELS`` (``os.pathsep``-separated folders) adds model folders on top.

Example:
    >>> data_dir().joinpath("models").is_dir()
    True
    >>> model_dirs()[0] == data_dir() / "models"
    True
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from streamseg.errors import InputError

#: the installed package (``streamseg/``)
PACKAGE_DIR = Path(str(resources.files("streamseg")))
#: the source checkout, when running from one (only the demo clip is looked up there)
REPO_DIR = PACKAGE_DIR.parent
DEMO_CLIP = "face_thumbsup_pixabay_720p.mp4"


def data_dir() -> Path:
    """The package's data folder (``streamseg/data``) as a filesystem path."""
    return Path(str(resources.files("streamseg").joinpath("data")))


def shipped_models_dir() -> Path:
    """The folder of the shipped models and where new models of this project go: ``streamseg/data/models``."""
    return data_dir() / "models"


def model_dirs() -> list[Path]:
    """Model folders in search order: the shipped ``streamseg/data/models``, then each folder of
    ``$STREAMSEG_MODELS`` (``os.pathsep``-separated); only folders that exist, each once."""
    dirs = [shipped_models_dir()]
    extra = os.environ.get("STREAMSEG_MODELS", "")
    dirs += [Path(p).expanduser() for p in extra.split(os.pathsep) if p]
    seen: list[Path] = []
    for d in dirs:
        if d.is_dir() and d.resolve() not in {s.resolve() for s in seen}:
            seen.append(d)
    return seen


def config_dir() -> Path:
    """The shipped run-time configs (``streamseg/data/configs``: ``classical.toml``)."""
    return data_dir() / "configs"


def schema_dir() -> Path:
    """The shipped JSON schemas (``streamseg/data/schemas``)."""
    return data_dir() / "schemas"


def demo_clip() -> Path:
    """The demo clip of the source checkout (``examples/face_thumbsup_pixabay_720p.mp4``).

    Raises:
        InputError: not there (a wheel does not carry it): give a video file instead.
    """
    p = REPO_DIR / "examples" / DEMO_CLIP
    if not p.is_file():
        raise InputError(f"no input given and the demo clip ({DEMO_CLIP}) is not installed (it ships with the source only): give a video file")
    return p
