"""Where results go: the video encoder, the live window, image files (ROI sinks live in streamseg.rois)."""
