"""The one assembly layer: the stages joined into runs.

source -> :class:`Processor` (reset, segment, smooth, threshold, ROIs, render) -> sinks
(``write(result)``, ``close()``).

- :mod:`~streamseg.pipeline.spec`: :class:`RunSpec`, what a run is made of, and its one validator
  (:mod:`~streamseg.pipeline.config` holds the checks and reads ``--config`` files);
- :mod:`~streamseg.pipeline.build`: :func:`build`, a spec -> the :class:`Parts` of a run;
- :mod:`~streamseg.pipeline.processor`: :class:`Processor`, :class:`RunReport`;
- :mod:`~streamseg.pipeline.file_run`: video files, no frame dropped;
- :mod:`~streamseg.pipeline.live_run`: cameras and streams, newest frame wins;
- :mod:`~streamseg.pipeline.image_run`: still images.

The public face is :mod:`streamseg` (``process_video``, ``process_live``, ``process_images``);
the CLI calls those.
"""

from __future__ import annotations

from typing import Any

#: name -> submodule (imported on first use, so the CLI starts fast)
_NAMES = {
    "RunSpec": "spec", "MethodSpec": "spec", "SmoothSpec": "spec", "OutputSpec": "spec", "RoiSpec": "spec",
    "LiveSpec": "spec", "WorkerSpec": "spec",
    "Parts": "build",
    "check_table": "config", "check_value": "config", "load_run_config": "config", "parse_assignments": "config",
    "process_video_file": "file_run", "run_frames": "file_run",
    "ImagesReport": "image_run", "run_images": "image_run",
    "run_live": "live_run",
    "Processor": "processor", "RunReport": "processor", "StageTimes": "processor", "stop_on_signals": "processor",
}
__all__ = sorted(_NAMES)


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        import importlib

        return getattr(importlib.import_module(f"streamseg.pipeline.{_NAMES[name]}"), name)
    raise AttributeError(f"module 'streamseg.pipeline' has no attribute {name!r}")
