"""numba kernel of the smoothers: weight, flow warp, blend and hysteresis in one pass per pixel.

The kernel is single-threaded on purpose. It releases the GIL (``nogil``) so it overlaps with
the decode, segmentation and encode threads. A ``prange`` version was 2 to 4 times *slower* in
the pipeline whenever the other stages kept the cores busy.

The NumPy/OpenCV path in :mod:`streamseg.smooth.smoothers` computes the same thing in several
full-frame passes (about 3-4x slower at 1280x720); it is used when numba cannot run here and
by the tests as the reference. Low-resolution maps (motion weight, flow) are sampled the way
``cv2.resize(..., INTER_LINEAR)`` does, and the state the way ``cv2.remap`` with
``BORDER_REPLICATE`` does, so both paths agree to float rounding.
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



@njit(inline="always", cache=True)
def _coord(i, scale, n):  # pragma: no cover - compiled
    """Source index and fraction of destination index i (cv2 INTER_LINEAR convention)."""
    x = (i + 0.5) * scale - 0.5
    if x < 0.0:
        x = 0.0
    i0 = int(x)
    if i0 >= n - 1:
        return n - 1, n - 1, 0.0
    return i0, i0 + 1, x - i0


@njit(inline="always", cache=True)
def _bilinear(img, y, x):  # pragma: no cover - compiled
    """img sampled at float (y, x), clamped to the border (BORDER_REPLICATE)."""
    h, w = img.shape
    if y < 0.0:
        y = 0.0
    if x < 0.0:
        x = 0.0
    if y > h - 1:
        y = h - 1.0
    if x > w - 1:
        x = w - 1.0
    y0, x0 = int(y), int(x)
    y1, x1 = min(y0 + 1, h - 1), min(x0 + 1, w - 1)
    fy, fx = y - y0, x - x0
    top = img[y0, x0] + (img[y0, x1] - img[y0, x0]) * fx
    bot = img[y1, x0] + (img[y1, x1] - img[y1, x0]) * fx
    return top + (bot - top) * fy


@njit(cache=True)
def _columns(w, scale, n):  # pragma: no cover - compiled
    """Per destination column: the two source columns and the fraction (hoisted out of the rows)."""
    c0 = np.empty(w, np.int64)
    c1 = np.empty(w, np.int64)
    f = np.empty(w, np.float32)
    for j in range(w):
        a, b, t = _coord(j, scale, n)
        c0[j], c1[j], f[j] = a, b, t
    return c0, c1, f


@njit(nogil=True, cache=True, fastmath=True)
def smooth_step(
    prob, state, state_out, result,
    alpha, use_unc, min_weight, gamma,
    wsmall, use_motion, flow, use_flow,
    on_prev, on_out, use_hyst, t_high, t_low, threshold, below,
    gate, gate_gain, jump, hold, held,
):  # pragma: no cover - compiled
    """One frame of :class:`~streamseg.smooth.smoothers.TemporalSmoother`.

    prob, state: float32 (H, W); state_out, result: float32 (H, W) written here (state_out = the
    blend, result = what the caller gets). alpha: constant weight (< 0 = no ema). use_unc:
    uncertainty weight max(min_weight, |2p-1|**gamma). wsmall: float32 (h, w) motion weight,
    flow: float32 (h, w, 2) in low-res pixels (where each pixel was in the previous frame).
    on_prev, on_out: bool (H, W) hysteresis state. Weights combine by max; none -> 1.
    gate (``still``): the hysteresis band shrinks with the motion weight wm, to nothing where the
    picture moves: stillness s = clip((1 - wm) * gate_gain, 0, 1) (gate_gain = 1 / (1 -
    static_weight)), band [threshold + (t_low - threshold) * s, threshold + (t_high - threshold) * s].
    jump (``still.jump``, > 0): a change |p - state| counts as motion too, ramping from none at
    jump / 2 to full at jump (a model changing its mind at once passes; noise is damped).
    hold (``still.hold``, > 0): held, uint8 (H, W) updated in place, counts the consecutive frames
    in which the gated mask differs from ``v >= threshold``; at ``hold`` the mask takes that value
    (a debounce: the band never keeps a stale decision longer than ``hold`` frames).
    """
    h, w = prob.shape
    sh, sw = wsmall.shape
    fh, fw = flow.shape[0], flow.shape[1]
    sy_w, sx_w = sh / h, sw / w
    sy_f, sx_f = fh / h, fw / w
    wc0, wc1, wcf = _columns(w, sx_w, sw)
    fc0, fc1, fcf = _columns(w, sx_f, fw)
    fixed = alpha if alpha >= 0.0 else np.float32(-1.0)
    for i in range(h):
        wy0, wy1, wfy = _coord(i, sy_w, sh)
        fy0, fy1, ffy = _coord(i, sy_f, fh)
        for j in range(w):
            p = prob[i, j]
            wt = fixed
            if use_unc:
                c = abs(np.float32(2.0) * p - np.float32(1.0))
                if gamma != 1.0:
                    c = c**gamma
                wt = max(wt, max(c, min_weight))
            wm = np.float32(1.0)
            if use_motion:
                x0, x1, fx = wc0[j], wc1[j], wcf[j]
                top = wsmall[wy0, x0] + (wsmall[wy0, x1] - wsmall[wy0, x0]) * fx
                bot = wsmall[wy1, x0] + (wsmall[wy1, x1] - wsmall[wy1, x0]) * fx
                wm = top + (bot - top) * wfy
                wt = max(wt, wm)
            if wt < 0.0:
                wt = np.float32(1.0)
            py, px = float(i), float(j)
            if jump > 0.0:
                dj = (abs(p - state[i, j]) * np.float32(2.0) - jump) / jump
                dj = min(max(dj, np.float32(0.0)), np.float32(1.0))
                if dj > 0.0:
                    wt = max(wt, dj)
                    wm = max(wm, dj)
            if use_flow:
                x0, x1, fx = fc0[j], fc1[j], fcf[j]
                top = flow[fy0, x0, 0] + (flow[fy0, x1, 0] - flow[fy0, x0, 0]) * fx
                bot = flow[fy1, x0, 0] + (flow[fy1, x1, 0] - flow[fy1, x0, 0]) * fx
                px += (top + (bot - top) * ffy) / sx_f
                top = flow[fy0, x0, 1] + (flow[fy0, x1, 1] - flow[fy0, x0, 1]) * fx
                bot = flow[fy1, x0, 1] + (flow[fy1, x1, 1] - flow[fy1, x0, 1]) * fx
                py += (top + (bot - top) * ffy) / sy_f
                s = _bilinear(state, py, px)
            else:
                s = state[i, j]
            v = np.float32(s + wt * (p - s))
            state_out[i, j] = v
            if use_hyst:
                if use_flow:
                    yi = min(max(int(np.floor(py + 0.5)), 0), h - 1)
                    xi = min(max(int(np.floor(px + 0.5)), 0), w - 1)
                    was_on = on_prev[yi, xi]
                else:
                    was_on = on_prev[i, j]
                if gate:
                    st = min(max((np.float32(1.0) - wm) * gate_gain, np.float32(0.0)), np.float32(1.0))
                    th = threshold + (t_high - threshold) * st
                    tl = threshold + (t_low - threshold) * st
                else:
                    th, tl = t_high, t_low
                on = (v >= th) | (was_on & (v >= tl))
                if hold > 0:
                    plain = v >= threshold
                    if on != plain:
                        k = held[i, j] + 1
                        if k >= hold:
                            on = plain
                            k = 0
                        held[i, j] = k
                    else:
                        held[i, j] = 0
                on_out[i, j] = on
                # branch-free select: noisy masks would mispredict a branch here
                result[i, j] = max(v, threshold) * on + min(v, below) * (1 - on)
            else:
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
    smooth_step(
        z, z, z.copy(), z.copy(), np.float32(0.5), False, np.float32(0.2), np.float32(1.0),
        z, False, np.zeros((2, 2, 2), np.float32), False,
        np.zeros((2, 2), bool), np.zeros((2, 2), bool), False,
        np.float32(0.6), np.float32(0.4), np.float32(0.5), np.float32(0.49),
        False, np.float32(1.0), np.float32(0.0), 0, np.zeros((2, 2), np.uint8),
    )


@njit(nogil=True, cache=True)
def colour_thumbnail(frame, scale, out):  # pragma: no cover - compiled
    """BGR uint8 (H, W, 3) -> out, BGR uint8 (H // scale, W // scale, 3): the mean of each
    scale x scale block, read from every other row of the block when scale >= 4 (half the
    memory traffic; still 2 * scale pixels per block against the sensor noise).

    The rows are summed whole (a vectorised add of W * 3 bytes per row), then each block's
    columns: the frame is read once, in order."""
    sh, sw = out.shape[0], out.shape[1]
    step = 2 if scale >= 4 else 1
    nrows = (scale + step - 1) // step
    inv = np.float32(1.0) / np.float32(nrows * scale)
    n = sw * scale * 3
    acc = np.zeros(n, np.uint16)
    for i in range(sh):
        acc[:] = 0
        for r in range(i * scale, i * scale + scale, step):
            row = frame[r].reshape(-1)
            for x in range(n):
                acc[x] += row[x]
        for j in range(sw):
            b = j * scale * 3
            for k in range(3):
                t = np.uint32(0)
                for c in range(scale):
                    t += acc[b + 3 * c + k]
                out[i, j, k] = np.uint8(t * inv + np.float32(0.5))


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
