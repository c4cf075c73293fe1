"""Segmentation methods behind one interface (see :mod:`streamseg.segment.base`).

The API function :func:`streamseg.segment` shares this package's name; ``streamseg.segment``
is always the function (see :mod:`streamseg`), this package is ``import streamseg.segment``'s
module in ``sys.modules`` and what ``from streamseg.segment import ...`` reads.
"""

from streamseg.segment.base import MethodOptions, Segmenter
from streamseg.segment.registry import create, create_exact, list_methods, method_names

__all__ = ["MethodOptions", "Segmenter", "create", "create_exact", "list_methods", "method_names"]
