"""streamseg: real-time skin segmentation for webcams, IP cameras, video files and images.

Frames are BGR ``uint8`` arrays of shape ``(H, W, 3)``; skin probabilities are ``float32``
arrays of shape ``(H, W)`` in ``[0, 1]`` until the last step, where a threshold makes the mask.

The API (imported lazily, so ``import streamseg`` stays fast): :func:`new_session`,
:func:`segment`, :func:`render`, :func:`remove`, :func:`process_video`, :func:`process_batch`,
:func:`process_live`, :func:`process_images`, :func:`list_methods` and the runs' spec
:class:`RunSpec` (see :mod:`streamseg.api`).
The library logs through :mod:`logging` (logger ``streamseg``) and prints nothing unless asked.

Example:
    >>> import numpy as np, streamseg
    >>> session = streamseg.new_session("ellipse")
    >>> prob = session.segment(np.zeros((4, 6, 3), np.uint8))
    >>> prob.shape, prob.dtype
    ((4, 6), dtype('float32'))
"""

from __future__ import annotations

import sys
import types
from typing import Any

__version__ = "0.1.0"

_API = {
    "RunSpec", "Sink", "list_methods", "new_session", "process_batch", "process_images", "process_live", "process_video", "remove",
    "render", "segment",
}

__all__ = ["__version__", *sorted(_API)]


def __getattr__(name: str) -> Any:
    if name in _API:
        from streamseg import api

        return getattr(api, name)
    raise AttributeError(f"module 'streamseg' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _API)


class _Package(types.ModuleType):
    """``streamseg``: its API names stay the API's functions. Importing the subpackage
    :mod:`streamseg.segment` would otherwise bind its module to ``streamseg.segment`` and hide
    the function :func:`streamseg.segment`; the module stays in ``sys.modules``."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _API and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
