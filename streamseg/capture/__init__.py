"""Sources of frames: video files (PyAV decode thread), live cameras and streams, still images."""

from streamseg.capture.file import FileSource, probe_video
from streamseg.capture.live import LiveSource, parse_source

__all__ = ["FileSource", "LiveSource", "parse_source", "probe_video"]
