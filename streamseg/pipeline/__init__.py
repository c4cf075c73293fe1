"""The one assembly layer: the stages joined into runs.

source -> :class:`Processor` (reset, segment, smooth, threshold, ROIs, render) -> sinks
(:class:`~streamseg.sinks.base.Sink`: ``write(result)``, ``close()``).

- :mod:`~streamseg.pipeline.config`: :class:`RunConfig` from options and a ``--config`` file, one validator;
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
    "RunConfig": "config", "build_rois": "config", "build_smoother": "config", "check_table": "config",
    "load_run_config": "config", "parse_assignments": "config",
    "process_video_file": "file_run", "run_frames": "file_run",
    "ImagesReport": "image_run", "run_images": "image_run",
    "hud_lines": "live_run", "live_run": "live_run", "run_live": "live_run",
    "Processor": "processor", "RunReport": "processor", "StageTimes": "processor", "stop_on_signals": "processor",
}
__all__ = sorted(_NAMES)


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        import importlib

        return getattr(importlib.import_module(f"streamseg.pipeline.{_NAMES[name]}"), name)
    raise AttributeError(f"module 'streamseg.pipeline' has no attribute {name!r}")
