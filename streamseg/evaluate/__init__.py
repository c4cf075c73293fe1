"""Accuracy and speed tables for choosing a method: ``streamseg eval`` and ``streamseg bench``.

- :mod:`~streamseg.evaluate.selection`: ``--methods all|a,b`` -> segmenters (+ why others were skipped)
- :mod:`~streamseg.evaluate.pairs`: matching a mask to its image (resize or report a mismatch)
- :mod:`~streamseg.evaluate.accuracy`: mIoU, pixel precision/recall/F1, per source, worst images
- :mod:`~streamseg.evaluate.latency`: median/p90 latency next to the ``cv2.cvtColor`` floor
- :mod:`~streamseg.evaluate.video_fps`: end-to-end pipeline fps on a clip vs bare inference fps
- :mod:`~streamseg.evaluate.reports`: terminal tables, ``report.md``/``.csv``/``.json``
- :mod:`~streamseg.evaluate.plots`: the example grid and the "which method" scatter plot
"""

from streamseg.evaluate.accuracy import EvalResult, MethodResult, evaluate
from streamseg.evaluate.pairs import match_mask

__all__ = ["EvalResult", "MethodResult", "evaluate", "match_mask"]
