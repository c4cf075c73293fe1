"""Temporal smoothing of skin probabilities and the measurements behind it.

- :mod:`~streamseg.smooth.smoothers`: ``make_smoother(spec, params)`` -> :class:`Smoother`
  (``none``, ``ema``, ``uncertainty``, ``motion``, ``hysteresis`` and ``+``-joined combinations).
- :mod:`~streamseg.smooth.config`: the one schema of the settings and defaults, and their validation.
- :mod:`~streamseg.smooth.scenecut`: scene-cut detection (the pipeline's processor resets every
  stage's state on a cut).
- :mod:`~streamseg.smooth.flicker`: dtSSD, mean |m_t - m_{t-1}|, consecutive IoU, step lag,
  still-pixel flicker.
- :mod:`~streamseg.smooth.pseudo_video`: ground-truth videos made from one image and its mask.

Example:
    >>> import numpy as np
    >>> sm = make_smoother(default_smoothing("model"))
    >>> out = sm.update(np.full((4, 4), 0.9, np.float32), np.zeros((4, 4, 3), np.uint8))
    >>> out.dtype, out.shape
    (dtype('float32'), (4, 4))
"""

from streamseg.smooth.config import DEFAULT_SMOOTHING, default_smoothing
from streamseg.smooth.smoothers import NAMES, Smoother, TemporalSmoother, make_smoother, parse_spec, smoothing_settings, split_spec

__all__ = [
    "DEFAULT_SMOOTHING", "NAMES", "Smoother", "TemporalSmoother", "default_smoothing", "make_smoother", "parse_spec",
    "smoothing_settings", "split_spec",
]
