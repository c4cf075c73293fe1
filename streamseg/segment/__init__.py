"""Segmentation methods behind one interface (see :mod:`streamseg.segment.base`).

This package shares its name with the API function :func:`streamseg.segment` (``import
streamseg.segment`` puts the package on that attribute), so the package is callable too:
``streamseg.segment(image, method=...)`` is :func:`streamseg.api.segment` either way.
"""

import sys
import types

from streamseg.segment.base import MethodOptions, Segmenter
from streamseg.segment.registry import create, create_exact, list_methods, method_names

__all__ = ["MethodOptions", "Segmenter", "create", "create_exact", "list_methods", "method_names"]


class _CallablePackage(types.ModuleType):
    def __call__(self, image, method="dlmv", provider="auto", **options):
        """:func:`streamseg.api.segment`: BGR uint8 (H, W, 3) array or image path -> float32 (H, W) in [0, 1]."""
        from streamseg.api import segment

        return segment(image, method=method, provider=provider, **options)


sys.modules[__name__].__class__ = _CallablePackage
