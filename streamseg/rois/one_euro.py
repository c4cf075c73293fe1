"""One-Euro filter (Casiez et al., CHI 2012) over a vector of values, as MediaPipe uses for landmarks.

The cutoff frequency rises with speed: ``cutoff = min_cutoff + beta * |dx/dt| / scale``, so a
still target is smoothed hard (little jitter) and a fast one lightly (little lag). ``scale``
makes ``beta`` independent of the target's size: pass the object size in the same units as
the values (MediaPipe's ``object_scale`` idea), so speed is measured in object sizes per second.

Example:
    >>> f = OneEuroFilter(min_cutoff=1.0, beta=0.0, d_cutoff=1.0)
    >>> f(np.array([0.0]), 0.0).tolist()
    [0.0]
    >>> 0.0 < float(f(np.array([10.0]), 0.04)[0]) < 10.0
    True
"""

from __future__ import annotations

import math

import numpy as np


def _alpha(cutoff: np.ndarray | float, dt: float) -> np.ndarray | float:
    tau = 1.0 / (2.0 * math.pi * cutoff)
    return 1.0 / (1.0 + tau / dt)


class OneEuroFilter:
    """Filters a float vector sampled at (possibly irregular) times in seconds.

    Args:
        min_cutoff: cutoff frequency (Hz) at zero speed; lower = smoother and laggier.
        beta: speed coefficient; higher = less lag on fast motion.
        d_cutoff: cutoff (Hz) of the derivative estimate.
    """

    def __init__(self, min_cutoff: float = 1.0, beta: float = 0.0, d_cutoff: float = 1.0) -> None:
        self.min_cutoff = float(min_cutoff)
        self.beta = float(beta)
        self.d_cutoff = float(d_cutoff)
        self.x: np.ndarray | None = None  # last filtered value
        self.raw: np.ndarray | None = None  # last raw sample
        self.dx: np.ndarray | None = None  # last filtered derivative (units per second)
        self.t: float | None = None

    def reset(self) -> None:
        """Forget the history; the next sample passes through unchanged."""
        self.x = self.dx = self.t = self.raw = None

    def __call__(self, value: np.ndarray, t: float, scale: float = 1.0) -> np.ndarray:
        """Filter one sample.

        Args:
            value: float array (any shape, same every call).
            t: sample time in seconds (must increase; a non-increasing time counts as 1/30 s later).
            scale: object size in the units of ``value`` (> 0), see the module docstring.

        Returns:
            The filtered value, float64, same shape as ``value`` (a new array).
        """
        value = np.asarray(value, dtype=np.float64)
        if self.x is None or self.x.shape != value.shape or self.t is None:
            self.x, self.dx, self.t, self.raw = value.copy(), np.zeros_like(value), t, value.copy()
            return value.copy()
        dt = t - self.t
        if not dt > 0:
            dt = 1.0 / 30.0
        self.t = self.t + dt
        dx = (value - self.raw) / dt  # from the last raw sample, as MediaPipe does: no lag bias
        self.dx = self.dx + _alpha(self.d_cutoff, dt) * (dx - self.dx)
        cutoff = self.min_cutoff + self.beta * np.abs(self.dx) / max(scale, 1e-9)
        self.x = self.x + _alpha(cutoff, dt) * (value - self.x)
        self.raw = value.copy()
        return self.x.copy()

    def predict(self, t: float) -> np.ndarray | None:
        """Extrapolate the last filtered value to time ``t`` with the filtered derivative (``None`` before the first sample)."""
        if self.x is None or self.t is None:
            return None
        return self.x + self.dx * max(t - self.t, 0.0)

    def coast(self, t: float, damping: float = 1.0) -> None:
        """Move the state to time ``t`` without a measurement (occlusion), scaling the velocity by ``damping``."""
        if self.x is None or self.t is None:
            return
        dt = max(t - self.t, 0.0)
        self.x = self.x + self.dx * dt
        self.raw = self.raw + self.dx * dt if self.raw is not None else self.x.copy()
        self.dx = self.dx * damping
        self.t = max(t, self.t)
