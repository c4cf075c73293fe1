"""Temporal smoothing of skin probabilities and the measurements behind it.

- :mod:`~streamseg.smooth.smoothers`: ``make_smoother(spec, params)`` -> :class:`Smoother`
  (``none``, ``ema``, ``uncertainty``, ``motion``, ``hysteresis`` and ``+``-joined combinations).
- :mod:`~streamseg.smooth.config`: ``configs/smooth.toml`` settings and their validation.
- :mod:`~streamseg.smooth.scenecut`: scene-cut detection that resets the smoothers.
- :mod:`~streamseg.smooth.flicker`: dtSSD, mean |m_t - m_{t-1}|, consecutive IoU, step lag,
  still-pixel flicker.
- :mod:`~streamseg.smooth.pseudo_video`: ground-truth videos made from one image and its mask.

Example:
    >>> import numpy as np
    >>> sm = make_smoother(DEFAULT_SMOOTH)
    >>> out = sm.update(np.full((4, 4), 0.9, np.float32), np.zeros((4, 4, 3), np.uint8))
    >>> out.dtype, out.shape
    (dtype('float32'), (4, 4))
"""

from streamseg.smooth.config import DEFAULT_SMOOTHING, default_smoothing
from streamseg.smooth.smoothers import NAMES, Smoother, TemporalSmoother, make_smoother, parse_spec, split_spec

#: the spec used when --smooth is not given and the method's kind is unknown: the model default
#: (chosen from benchmarks/temporal.py, see docs/smoothing.md)
DEFAULT_SMOOTH = default_smoothing("model")

#: the default per method kind (``streamseg.smooth.config.default_smoothing``; specs with their
#: settings written in, e.g. ``still:static_weight=0.05:hold=0:blur=5``)
DEFAULT_SMOOTH_BY_KIND = dict(DEFAULT_SMOOTHING)

__all__ = [
    "DEFAULT_SMOOTH", "DEFAULT_SMOOTHING", "DEFAULT_SMOOTH_BY_KIND", "NAMES", "Smoother", "TemporalSmoother",
    "default_smoothing", "make_smoother", "parse_spec", "split_spec",
]  # fmt: skip
