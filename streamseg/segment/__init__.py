"""Segmentation methods behind one interface (see :mod:`streamseg.segment.base`)."""

from streamseg.segment.base import MethodOptions, Segmenter
from streamseg.segment.registry import create, create_exact, list_methods, method_names

__all__ = ["MethodOptions", "Segmenter", "create", "create_exact", "list_methods", "method_names"]
