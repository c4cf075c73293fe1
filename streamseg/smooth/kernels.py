"""numba kernel of the smoothers: weight, blend and hysteresis in one pass per pixel.

The kernel is single-threaded on purpose. It releases the GIL (``nogil``) so it overlaps with
the decode, segmentation and encode threads. A ``prange`` version was 2 to 4 times *slower* in
the pipeline whenever the other stages kept the cores busy.

Its inputs are at the grid size: the caller resizes the motion weight (``cv2.resize``
INTER_LINEAR) and, with ``motion.flow``, warps the state and the hysteresis mask
(``cv2.remap``) first, exactly as the NumPy/OpenCV path in :mod:`streamseg.smooth.smoothers`
does, so the two agree to float rounding. That path (several full-grid passes) runs when numba
cannot, and is the tests' reference.
"""

from __future__ import annotations

import numpy as np

try:  # numba is a dependency, but a broken install must degrade to the NumPy path, not crash
    from numba import njit

    IMPORT_ERROR: str | None = None
except Exception as exc:  # noqa: BLE001
    IMPORT_ERROR = f"{type(exc).__name__}: {exc}"

    def njit(*args, **kwargs):  # type: ignore[no-redef]
        return lambda f: f


@njit(inline="always")
def _blend(p, s, c, m, fixed, uf, min_weight, jump, jinv, jf):  # pragma: no cover - compiled
    """Blended value and motion weight (jump included) of one pixel; see :func:`smooth_step`."""
    one, zero, two = np.float32(1.0), np.float32(0.0), np.float32(2.0)
    m = max(m, min(max((abs(p - s) * two - jump) * jinv, zero), one) * jf)
    wt = max(max(fixed, max(c, min_weight) * uf + (uf - one)), m)
    return s + wt * (p - s), m


@njit(nogil=True, cache=True, fastmath=True)
def smooth_step(
    prob, state, state_out, result, conf, wm,
    fixed, use_unc, min_weight, jump,
    on_prev, on_out, use_hyst, t_high, t_low, threshold, below,
    gate_gain, gate_off, hold, held, snap,
):  # pragma: no cover - compiled
    """One frame of :class:`~streamseg.smooth.smoothers.TemporalSmoother`, at grid size.

    prob, state: float32 (H, W) (state already warped by the flow, when there is one);
    state_out, result: float32 (H, W) written here (state_out = the blend, result = what the
    caller gets). conf: float32 (H, W), |2p - 1| ** gamma (read only with ``use_unc``).
    wm: float32 (H, W) motion weight at the same size (-1 without motion).
    Weight of the new value: the largest of ``fixed`` (ema alpha, 1 when no blend filter is on,
    else -1), the uncertainty weight max(min_weight, conf) when ``use_unc``, and wm.
    jump (> 0, ``still.jump``): a change |p - state| counts as motion too, ramping from none at
    jump / 2 to full at jump.
    on_prev, on_out: bool (H, W) hysteresis state. The band shrinks with the stillness
    s = clip((1 - wm) * gate_gain + gate_off, 0, 1): [threshold + (t_low - threshold) * s,
    threshold + (t_high - threshold) * s] (``still``: gate_gain = 1 / (1 - static_weight),
    gate_off = 0; plain hysteresis: gate_gain = 0, gate_off = 1, the fixed band).
    held: uint8 (H, W), updated in place: consecutive frames in which the banded mask differs
    from ``v >= threshold``; at ``hold`` (1-254; 255 = never) the mask takes that value.
    result: ``max(v, threshold)`` where on, ``min(v, below)`` where off, so that
    ``result >= threshold`` is the mask; with ``snap`` (the result will be upsampled) the band's
    edge on the side of the decision instead of ``threshold``, so that the upsampled boundary
    does not move while a decision holds.

    The inner loops have no branches, so LLVM vectorises them: ten times faster than the
    per-pixel branching kernel this replaced (256 x 256, one core).
    """
    h, w = prob.shape
    one, zero = np.float32(1.0), np.float32(0.0)
    uf = one if use_unc else zero
    jf = one if jump > 0.0 else zero
    jinv = one / jump if jump > 0.0 else zero
    sf = one if snap else zero
    for i in range(h):
        if use_hyst:
            for j in range(w):
                v, m = _blend(prob[i, j], state[i, j], conf[i, j], wm[i, j], fixed, uf, min_weight, jump, jinv, jf)
                state_out[i, j] = v
                st = min(max((one - m) * gate_gain + gate_off, zero), one)
                th = threshold + (t_high - threshold) * st
                tl = threshold + (t_low - threshold) * st
                on = (v >= th) | (on_prev[i, j] & (v >= tl))
                plain = v >= threshold
                k = np.uint8(min(held[i, j] + 1, 254)) * np.uint8(on != plain)
                release = k >= hold
                on = (on & (not release)) | (plain & release)
                held[i, j] = k * np.uint8(not release)
                on_out[i, j] = on
                e_on = threshold + (th - threshold) * sf
                e_off = min(below + (tl - below) * sf, below)
                result[i, j] = max(v, e_on) * np.float32(on) + min(v, e_off) * np.float32(not on)
        else:
            for j in range(w):
                v, m = _blend(prob[i, j], state[i, j], conf[i, j], wm[i, j], fixed, uf, min_weight, jump, jinv, jf)
                state_out[i, j] = v
                result[i, j] = v


def numba_error() -> str | None:
    """``None`` when the kernel runs here, else why not (one line)."""
    if IMPORT_ERROR:
        return IMPORT_ERROR
    try:
        _run_tiny()
    except Exception as exc:  # noqa: BLE001 - any compile failure means: use NumPy
        return f"{type(exc).__name__}: {exc}"
    return None


def _run_tiny() -> None:
    z = np.zeros((2, 2), np.float32)
    f = np.float32
    smooth_step(
        z, z, z.copy(), z.copy(), z, z, f(0.5), False, f(0.2), f(0.0),
        np.zeros((2, 2), bool), np.zeros((2, 2), bool), True, f(0.6), f(0.4), f(0.5), f(0.49),
        f(0.0), f(1.0), 255, np.zeros((2, 2), np.uint8), False,
    )


@njit(nogil=True, cache=True)
def max_channel_diff(a, b, out):  # pragma: no cover - compiled
    """a, b: uint8 (h, w, 3) -> out float32 (h, w): the largest |a - b| over the channels."""
    h, w = out.shape
    for i in range(h):
        for j in range(w):
            m = 0
            for k in range(3):
                d = abs(np.int32(a[i, j, k]) - np.int32(b[i, j, k]))
                if d > m:
                    m = d
            out[i, j] = np.float32(m)
