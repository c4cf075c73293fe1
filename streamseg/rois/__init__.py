"""Hand and face regions of interest from the skin mask, for HCI apps (``--rois``, ``--hands``).

Per frame the pipeline calls ``message = RoiStage(options).process(result)`` (regions, labels,
tracking, gestures -> a JSON-ready dict, see ``schemas/rois.schema.json``) and draws it with
:func:`draw_rois`; :mod:`streamseg.sinks.rois` sends it (JSONL, OSC, WebSocket).
"""

from streamseg.rois.draw import draw_rois
from streamseg.rois.gestures import GESTURES, classify_gesture
from streamseg.rois.message import SCHEMA_VERSION, load_schema, schema_path
from streamseg.rois.stage import RoiOptions, RoiStage

__all__ = [
    "GESTURES",
    "SCHEMA_VERSION",
    "RoiOptions",
    "RoiStage",
    "classify_gesture",
    "draw_rois",
    "load_schema",
    "schema_path",
]
