"""Hand and face regions of interest from the skin mask, for HCI apps (``--rois``, ``--hands``).

Per frame the pipeline calls ``message = RoiStage(options).process(result)`` (regions, labels,
tracking, gestures -> a JSON-ready dict, see ``schemas/rois.schema.json``), draws it with
:func:`draw_rois` and sends it with :func:`open_roi_sinks` (JSONL, OSC, WebSocket).
"""

from streamseg.rois.draw import draw_rois
from streamseg.rois.gestures import GESTURES, classify_gesture
from streamseg.rois.message import SCHEMA_VERSION, load_schema, schema_path
from streamseg.rois.sinks import RoiSinks, open_roi_sinks, parse_spec
from streamseg.rois.stage import RoiOptions, RoiStage

__all__ = [
    "GESTURES",
    "SCHEMA_VERSION",
    "RoiOptions",
    "RoiSinks",
    "RoiStage",
    "classify_gesture",
    "draw_rois",
    "load_schema",
    "open_roi_sinks",
    "parse_spec",
    "schema_path",
]
