"""numba JIT kernels of the classical detectors (NumPy/OpenCV references: :mod:`.reference`).

Every kernel is ``parallel`` over rows (``prange``), releases the GIL (``nogil``) so it overlaps
with the decode and encode threads, is cached on disk (``cache``) and writes into arrays the
caller allocated. Frames are BGR uint8 (H, W, 3), C-contiguous (callers make them so).

If numba cannot compile or run here, :func:`numba_error` says why and the segmenters use the
NumPy references instead (with a warning).

Example:
    >>> import numpy as np
    >>> from streamseg.segment.classical.colorspace import ellipse_lut
    >>> frame = np.full((2, 3, 3), (90, 140, 200), np.uint8)
    >>> out = np.empty((2, 3), np.float32)
    >>> cbcr_lut(frame, ellipse_lut((119.314, 155.558), (37.089, 14.809), 148.633), out)
    >>> out.tolist()
    [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]

Rules that depend only on (Cb, Cr) are expanded once into a uint8 table over the whole 2^24
BGR cube (16 MiB, :func:`expand_cbcr`): the per-frame kernel :func:`cube_table` is then one
shift-or and one load per pixel, no arithmetic, which is what brings it down to the cost of a
single ``cv2.cvtColor``. :func:`cbcr_lut` converts in the loop instead (for tables that change
every frame, such as the face-seeded one).
"""

from __future__ import annotations

import os

import numpy as np

try:  # numba is a hard dependency, but a broken install must degrade, not crash
    from numba import njit, prange

    _IMPORT_ERROR: str | None = None
except Exception as exc:  # noqa: BLE001
    _IMPORT_ERROR = f"{type(exc).__name__}: {exc}"

    def njit(*args, **kwargs):  # type: ignore[no-redef]
        return lambda f: f

    prange = range  # type: ignore[assignment]

_JIT = dict(parallel=True, nogil=True, cache=True)


@njit(inline="always", cache=True)
def _cb_cr(b, g, r):  # pragma: no cover - compiled
    # OpenCV's fixed-point BGR2YCrCb (see colorspace.py); ints are int64 here, no overflow
    y = (r * 4899 + g * 9617 + b * 1868 + 8192) >> 14
    cr = ((r - y) * 11682 + 2105344) >> 14  # 2105344 = (128 << 14) + (1 << 13)
    cb = ((b - y) * 9241 + 2105344) >> 14
    cr = min(max(cr, 0), 255)
    cb = min(max(cb, 0), 255)
    return cb, cr


@njit(**_JIT)
def cbcr_lut(frame, lut, out):  # pragma: no cover - compiled
    """out[i, j] = lut[Cb, Cr] of frame[i, j]: BGR uint8 (H, W, 3), float32 (256, 256) -> float32 (H, W)."""
    h, w = out.shape
    for i in prange(h):
        for j in range(w):
            cb, cr = _cb_cr(np.int64(frame[i, j, 0]), np.int64(frame[i, j, 1]), np.int64(frame[i, j, 2]))
            out[i, j] = lut[cb, cr]


@njit(**_JIT)
def cube_table(frame, table, out):  # pragma: no cover - compiled
    """out[i, j] = table[b << 16 | g << 8 | r] / 255 (as ``* float32(1/255)``): uint8 (2^24,) -> float32 (H, W)."""
    h, w = out.shape
    scale = np.float32(1.0 / 255.0)
    for i in prange(h):
        for j in range(w):
            k = (np.int64(frame[i, j, 0]) << 16) | (np.int64(frame[i, j, 1]) << 8) | np.int64(frame[i, j, 2])
            out[i, j] = np.float32(table[k]) * scale


@njit(**_JIT)
def expand_cbcr(lut8, table):  # pragma: no cover - compiled
    """table[b << 16 | g << 8 | r] = lut8[Cb, Cr] for all 2^24 colours: uint8 (256, 256) -> uint8 (2^24,)."""
    for b in prange(256):
        for g in range(256):
            base = (b << 16) | (g << 8)
            for r in range(256):
                cb, cr = _cb_cr(np.int64(b), np.int64(g), np.int64(r))
                table[base | r] = lut8[cb, cr]


@njit(**_JIT)
def icm_prepare(frame, lab, dtable, dunary, labels, d2r, d2d):  # pragma: no cover - compiled
    """First pass of the MRF: unaries, initial labels and squared Lab differences.

    frame: BGR uint8 (H, W, 3); lab: uint8 (H, W, 3) from ``cv2.COLOR_BGR2Lab``; dtable: float32
    (256, 256) ``[Cb, Cr]`` unary difference U(skin) - U(background). Writes dunary float32 (H, W),
    labels uint8 (H, W) (1 where dunary < 0), d2r int32 (H, W) (to the right neighbour, last
    column 0) and d2d int32 (H, W) (to the neighbour below, last row 0). Returns the sum of all
    squared differences over the ``H(W-1) + (H-1)W`` edges (int64).
    """
    h, w = dunary.shape
    rows = np.zeros(h, np.int64)
    for i in prange(h):
        row = np.int64(0)
        for j in range(w):
            cb, cr = _cb_cr(np.int64(frame[i, j, 0]), np.int64(frame[i, j, 1]), np.int64(frame[i, j, 2]))
            d = dtable[cb, cr]
            dunary[i, j] = d
            labels[i, j] = 1 if d < 0 else 0
            l0 = np.int64(lab[i, j, 0])
            a0 = np.int64(lab[i, j, 1])
            b0 = np.int64(lab[i, j, 2])
            if j + 1 < w:
                e = (l0 - lab[i, j + 1, 0]) ** 2 + (a0 - lab[i, j + 1, 1]) ** 2 + (b0 - lab[i, j + 1, 2]) ** 2
                d2r[i, j] = e
                row += e
            else:
                d2r[i, j] = 0
            if i + 1 < h:
                e = (l0 - lab[i + 1, j, 0]) ** 2 + (a0 - lab[i + 1, j, 1]) ** 2 + (b0 - lab[i + 1, j, 2]) ** 2
                d2d[i, j] = e
                row += e
            else:
                d2d[i, j] = 0
        rows[i] = row
    return rows.sum()


@njit(**_JIT)
def icm_weights(d2r, d2d, table, wr, wd):  # pragma: no cover - compiled
    """Edge weights by table lookup: w = table[min(d2, len(table) - 1)] (float32 (H, W) each)."""
    h, w = d2r.shape
    last = table.shape[0] - 1
    for i in prange(h):
        for j in range(w):
            wr[i, j] = table[min(d2r[i, j], last)]
            wd[i, j] = table[min(d2d[i, j], last)]


CHUNK = 64  # columns per change-tracking cell of icm_sweeps


@njit(**_JIT)
def icm_sweeps(dunary, wr, wd, labels, sweeps):  # pragma: no cover - compiled
    """Iterated conditional modes with red-black (checkerboard) order; returns the sweeps run.

    A pixel becomes skin when ``dunary + sum_n (+w_n if neighbour n is background else -w_n) < 0``
    (neighbours summed up, down, left, right). Pixels of one colour only read pixels of the
    other, so each half-sweep is order-free and parallel. Stops early when a sweep changes nothing.

    After the first sweep only cells (a row x ``CHUNK`` columns) next to a cell that changed in
    the previous half-sweep are visited again: a pixel whose neighbours did not change would
    take the same decision, so the result is exactly that of full sweeps (:mod:`.reference`).
    """
    h, w = dunary.shape
    nc = (w + CHUNK - 1) // CHUNK
    dirty = np.ones((h, nc), np.uint8)  # changed in the previous half-sweep
    nxt = np.zeros((h, nc), np.uint8)
    done = 0
    for sweep in range(sweeps):
        changed = 0
        for parity in range(2):
            counts = np.zeros(h, np.int64)
            for i in prange(h):
                row = 0
                for c in range(nc):
                    need = sweep == 0
                    if not need:
                        for ii in range(max(i - 1, 0), min(i + 2, h)):
                            for cc in range(max(c - 1, 0), min(c + 2, nc)):
                                if dirty[ii, cc]:
                                    need = True
                    nxt[i, c] = 0
                    if not need:
                        continue
                    j0 = c * CHUNK
                    cnt = 0
                    for j in range(j0 + ((i + parity + j0) & 1), min(w, j0 + CHUNK), 2):
                        s = dunary[i, j]
                        if i > 0:
                            s += wd[i - 1, j] if labels[i - 1, j] == 0 else -wd[i - 1, j]
                        if i + 1 < h:
                            s += wd[i, j] if labels[i + 1, j] == 0 else -wd[i, j]
                        if j > 0:
                            s += wr[i, j - 1] if labels[i, j - 1] == 0 else -wr[i, j - 1]
                        if j + 1 < w:
                            s += wr[i, j] if labels[i, j + 1] == 0 else -wr[i, j]
                        new = 1 if s < 0 else 0
                        if new != labels[i, j]:
                            labels[i, j] = new
                            cnt += 1
                    if cnt:
                        nxt[i, c] = 1
                    row += cnt
                counts[i] = row
            changed += counts.sum()
            dirty, nxt = nxt, dirty
        done += 1
        if changed == 0:
            break
    return done


_checked: str | None | bool = False  # False = not checked yet


def numba_error() -> str | None:
    """``None`` when every kernel compiles and runs here (compiling/loading the disk cache once), else why not.

    ``STREAMSEG_CLASSICAL_BACKEND=numpy`` forces the NumPy references.
    """
    global _checked
    if os.environ.get("STREAMSEG_CLASSICAL_BACKEND", "").lower() == "numpy":
        return "STREAMSEG_CLASSICAL_BACKEND=numpy"
    if _IMPORT_ERROR:
        return _IMPORT_ERROR
    if _checked is False:
        try:
            warm()
            _checked = None
        except Exception as exc:  # noqa: BLE001 - any numba failure degrades to NumPy
            _checked = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    return _checked  # type: ignore[return-value]


def warm() -> None:
    """Compile (or load from the disk cache) every kernel for writable and read-only frames."""
    for writeable in (True, False):
        frame = np.zeros((3, 4, 3), np.uint8)
        frame.flags.writeable = writeable
        lut = np.zeros((256, 256), np.float32)
        lut.flags.writeable = writeable
        table = np.zeros(1 << 24, np.uint8)
        table.flags.writeable = writeable
        out = np.empty((3, 4), np.float32)
        cbcr_lut(frame, lut, out)
        cube_table(frame, table, out)
        dun = np.empty((3, 4), np.float32)
        lab_ = np.empty((3, 4), np.uint8)
        d2r = np.empty((3, 4), np.int32)
        d2d = np.empty((3, 4), np.int32)
        icm_prepare(frame, frame, lut, dun, lab_, d2r, d2d)
    wr = np.empty((3, 4), np.float32)
    wd = np.empty((3, 4), np.float32)
    icm_weights(d2r, d2d, np.ones(8, np.float32), wr, wd)
    icm_sweeps(dun, wr, wd, lab_, 2)
    expand_cbcr(np.zeros((256, 256), np.uint8), np.empty(1 << 24, np.uint8))
