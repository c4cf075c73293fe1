"""Training and export of streamseg's own skin models (needs the ``train`` extra: torch, onnx).

Nothing outside this package and the ``train``/``export`` commands imports torch, so the
runtime works without it.
"""
