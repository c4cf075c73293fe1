"""Optional dependencies: what is missing, said once and the same way everywhere.

mediapipe is an optional extra (``pip install 'streamseg[mediapipe]'``): only the ``mediapipe``
baseline method, the training import of its bundled models and the parity tests use it. The
face and hand detectors, the ``face`` method and the person model run MediaPipe's models
converted to ONNX (:mod:`streamseg.rois.blaze`) without it. mediapipe 0.10.21, the last release
that bundles ``mp.solutions``, has wheels for CPython 3.10-3.12 only.

Example:
    >>> reason = mediapipe_missing()
    >>> reason is None or "mediapipe" in reason
    True
"""

from __future__ import annotations

import importlib.util
import sys
from functools import lru_cache


@lru_cache(maxsize=1)
def mediapipe_missing() -> str | None:
    """``None`` when mediapipe is installed, else a one-line reason with the fix."""
    if importlib.util.find_spec("mediapipe") is not None:
        return None
    py = f"{sys.version_info.major}.{sys.version_info.minor}"
    if sys.version_info >= (3, 13):
        return f"needs mediapipe<=0.10.21, which has no wheel for Python {py} (use Python 3.10-3.12)"
    return "needs mediapipe, which is not installed: pip install 'streamseg[mediapipe]'"


def require_torch(message: str) -> None:
    """Raise :class:`~streamseg.errors.MethodError` with ``message`` when PyTorch (the ``train``
    extra) is not installed; the training and export entry points call it before importing torch."""
    try:
        import torch  # noqa: F401
    except ImportError:
        from streamseg.errors import MethodError

        raise MethodError(message) from None
