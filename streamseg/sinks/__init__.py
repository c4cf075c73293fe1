"""Where results go, each a :class:`~streamseg.sinks.base.Sink`: video files, the live window, the virtual camera, image files, the stats CSV and alerts, the status line and the ROI stream."""
