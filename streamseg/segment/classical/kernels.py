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
def cube_table_u8(frame, table, out):  # pragma: no cover - compiled
    """out[i, j] = table[b << 16 | g << 8 | r]: uint8 (2^24,) -> uint8 (H, W) (the table value itself).

    :func:`cube_table` is this followed by :func:`u8_to_f32`. Writing a quarter of the bytes, it
    lets the opening run on uint8 (min/max commute with the monotone ``t -> float32(t) / 255``,
    so opening then scaling is bit-identical to scaling then opening).
    """
    h, w = out.shape
    for i in prange(h):
        fr = frame[i]
        o = out[i]
        for j in range(w):
            o[j] = table[(np.int64(fr[j, 0]) << 16) | (np.int64(fr[j, 1]) << 8) | np.int64(fr[j, 2])]


@njit(**_JIT)
def u8_to_f32(src, out):  # pragma: no cover - compiled
    """out = float32(src) * float32(1/255) (as :func:`cube_table`): uint8 (H, W) -> float32 (H, W)."""
    h, w = out.shape
    scale = np.float32(1.0 / 255.0)
    for i in prange(h):
        s = src[i]
        o = out[i]
        for j in range(w):
            o[j] = np.float32(s[j]) * scale


@njit(inline="always", cache=True)
def _erode_row(src, k, e):  # pragma: no cover - compiled
    # e = src row k eroded by the 3x3 cross; pixels outside the frame are ignored (as OpenCV's default border)
    h, w = src.shape
    c = src[k]
    up = src[k - 1] if k > 0 else c
    dn = src[k + 1] if k + 1 < h else c
    for j in range(w):
        e[j] = min(min(c[j], up[j]), dn[j])
    if w > 1:
        first = min(e[0], c[1])
        for j in range(1, w - 1):  # reads c only, writes e: branch-free, vectorised
            e[j] = min(e[j], min(c[j - 1], c[j + 1]))
        e[w - 1] = min(e[w - 1], c[w - 2])
        e[0] = first


@njit(**_JIT)
def open3_u8_to_f32(src, out):  # pragma: no cover - compiled
    """Opening by the 3x3 cross (``MORPH_ELLIPSE`` 3x3), then ``float32(v) * float32(1/255)``, in one pass.

    src uint8 (H, W) -> out float32 (H, W). Same as ``cv2.morphologyEx(src, MORPH_OPEN, cross)``
    followed by :func:`u8_to_f32`, bit for bit: erosion and dilation are minima and maxima, and
    pixels outside the frame are ignored, as OpenCV's default border does. Rows are processed
    in blocks, each eroding its rows and one row either side into a ring of three rows.
    """
    h, w = out.shape
    scale = np.float32(1.0 / 255.0)
    block = 64
    for b in prange((h + block - 1) // block):
        r0 = b * block
        r1 = min(h, r0 + block)
        ring = np.empty((3, w), np.uint8)
        d = np.empty(w, np.uint8)
        if r0 > 0:
            _erode_row(src, r0 - 1, ring[(r0 - 1) % 3])
        _erode_row(src, r0, ring[r0 % 3])
        for i in range(r0, r1):
            if i + 1 < h:
                _erode_row(src, i + 1, ring[(i + 1) % 3])
            c = ring[i % 3]
            up = ring[(i - 1) % 3] if i > 0 else c
            dn = ring[(i + 1) % 3] if i + 1 < h else c
            for j in range(w):
                d[j] = max(max(c[j], up[j]), dn[j])
            o = out[i]
            if w > 1:
                o[0] = np.float32(max(d[0], c[1])) * scale
                for j in range(1, w - 1):
                    o[j] = np.float32(max(d[j], max(c[j - 1], c[j + 1]))) * scale
                o[w - 1] = np.float32(max(d[w - 1], c[w - 2])) * scale
            else:
                o[0] = np.float32(d[0]) * scale


@njit(inline="always", cache=True)
def _reflect101(p, n):  # pragma: no cover - compiled
    # OpenCV's borderInterpolate(p, n, BORDER_REFLECT_101), the default border of GaussianBlur
    if n == 1:
        return 0
    while p < 0 or p >= n:
        p = -p if p < 0 else 2 * n - 2 - p
    return p


@njit(**_JIT)
def open3_blur5_binary(src, out):  # pragma: no cover - compiled
    """Opening by the 3x3 cross, then OpenCV's 5x5 Gaussian (sigma 0), of a 0 / 255 image, in one pass.

    src uint8 (H, W), every value 0 or 255 (the caller checks the table) -> out float32 (H, W),
    bit-identical to ``cv2.GaussianBlur(opened / 255 as float32, (5, 5), 0)``: for sigma 0
    OpenCV's 5-tap kernel is the fixed (1, 4, 6, 4, 1) / 16, so on a 0 / 1 image every partial
    sum of its float32 row and column passes is k / 256 with k <= 256, exact in any order
    (with or without FMA); here they are the same sums as integers (uint8 row sums <= 16,
    uint16 column sums <= 256), converted to float32 and scaled by 1/256 (exact). Borders: the
    opening ignores pixels outside the frame (as OpenCV's morphology does), the blur reflects
    (``BORDER_REFLECT_101``). Rows are processed
    in blocks, each recomputing the few rows either side that it reads.
    """
    h, w = out.shape
    inv = np.float32(1.0 / 256.0)
    block = 32
    for b in prange((h + block - 1) // block):
        r0 = b * block
        r1 = min(h, r0 + block)
        o0 = max(0, r0 - 2)  # opened rows read by the blur of rows r0..r1-1 (reflected rows included)
        o1 = min(h, r1 + 2)
        e0 = max(0, o0 - 1)  # eroded rows read by the opening of those
        e1 = min(h, o1 + 1)
        ero = np.empty((e1 - e0, w), np.uint8)
        for k in range(e0, e1):
            _erode_row(src, k, ero[k - e0])
        rows = np.empty((o1 - o0, w), np.uint8)  # opened (0 / 1) rows after the horizontal blur: 0..16
        t = np.empty(w, np.uint8)
        one, four, six = np.uint8(1), np.uint8(4), np.uint8(6)
        for k in range(o0, o1):
            c = ero[k - e0]
            up = ero[k - 1 - e0] if k > 0 else c
            dn = ero[k + 1 - e0] if k + 1 < h else c
            for j in range(w):
                t[j] = max(max(c[j], up[j]), dn[j])
            if w > 1:
                t0 = max(t[0], c[1])
                for j in range(1, w - 1):
                    t[j] = max(t[j], max(c[j - 1], c[j + 1]))
                t[w - 1] = max(t[w - 1], c[w - 2])
                t[0] = t0
            for j in range(w):
                t[j] = t[j] & one
            r = rows[k - o0]
            for j in range(min(2, w)):
                r[j] = np.uint8(
                    t[_reflect101(j - 2, w)] + 4 * t[_reflect101(j - 1, w)] + 6 * t[j]
                    + 4 * t[_reflect101(j + 1, w)] + t[_reflect101(j + 2, w)]
                )
            for j in range(2, w - 2):
                r[j] = np.uint8(t[j - 2] + four * (t[j - 1] + t[j + 1]) + six * t[j] + t[j + 2])
            for j in range(max(2, w - 2), w):
                r[j] = np.uint8(
                    t[_reflect101(j - 2, w)] + 4 * t[_reflect101(j - 1, w)] + 6 * t[j]
                    + 4 * t[_reflect101(j + 1, w)] + t[_reflect101(j + 2, w)]
                )
        f4, f6 = np.uint16(4), np.uint16(6)
        for i in range(r0, r1):
            a = rows[_reflect101(i - 2, h) - o0]
            bb = rows[_reflect101(i - 1, h) - o0]
            c = rows[i - o0]
            d = rows[_reflect101(i + 1, h) - o0]
            e = rows[_reflect101(i + 2, h) - o0]
            o = out[i]
            for j in range(w):
                s16 = np.uint16(
                    np.uint16(a[j]) + f4 * (np.uint16(bb[j]) + np.uint16(d[j])) + f6 * np.uint16(c[j]) + np.uint16(e[j])
                )
                o[j] = np.float32(s16) * inv


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
        fr = frame[i]
        for j in range(w):
            cb, cr = _cb_cr(np.int64(fr[j, 0]), np.int64(fr[j, 1]), np.int64(fr[j, 2]))
            d = dtable[cb, cr]
            dunary[i, j] = d
            labels[i, j] = 1 if d < 0 else 0
        # squared Lab differences in int32 (at most 3 * 255^2) over flat rows: separate simple
        # loops that LLVM vectorises, unlike one loop that also does the unary's table lookups
        cur = lab[i].reshape(-1)
        acc = np.int64(0)
        dr = d2r[i]
        for j in range(w - 1):
            a0 = np.int32(cur[3 * j]) - np.int32(cur[3 * j + 3])
            a1 = np.int32(cur[3 * j + 1]) - np.int32(cur[3 * j + 4])
            a2 = np.int32(cur[3 * j + 2]) - np.int32(cur[3 * j + 5])
            e = np.int32(a0 * a0 + a1 * a1 + a2 * a2)
            dr[j] = e
            acc += e
        dr[w - 1] = 0
        dd = d2d[i]
        if i + 1 < h:
            nxt = lab[i + 1].reshape(-1)
            for j in range(w):
                a0 = np.int32(cur[3 * j]) - np.int32(nxt[3 * j])
                a1 = np.int32(cur[3 * j + 1]) - np.int32(nxt[3 * j + 1])
                a2 = np.int32(cur[3 * j + 2]) - np.int32(nxt[3 * j + 2])
                e = np.int32(a0 * a0 + a1 * a1 + a2 * a2)
                dd[j] = e
                acc += e
        else:
            for j in range(w):
                dd[j] = 0
        rows[i] = acc
    return rows.sum()


@njit(**_JIT)
def icm_pack(dunary, labels, d2r, d2d, table, wr, wd, planes, signs):  # pragma: no cover - compiled
    """Edge weights by table lookup, laid out by checkerboard colour for branch-free sweeps.

    dunary float32 (H, W), labels uint8 (H, W), d2r/d2d int32 (H, W) from :func:`icm_prepare`;
    table float32 (K,). First writes wr/wd float32 (H, W), the weights of the edges to the right
    and down, ``table[min(d2, K - 1)]`` (0 where the edge would leave the frame). Then pixel
    (i, j), of colour ``c = (i + j) & 1``, goes to column ``k = j // 2`` of its colour's rows:
    planes float32 (2, 5, H, Wp), ``Wp = (W + 1) // 2``, holds per colour the unary and the
    weights to the up, down, left and right neighbours (a padding cell past the last column gets
    unary +1 and no edges); signs float32 (2, H + 2, Wp + 2) holds +1 (background) or -1 (skin)
    inside a border the caller set to +1 once.
    """
    h, w = dunary.shape
    wp = planes.shape[3]
    last = table.shape[0] - 1
    for i in prange(h):
        for j in range(w):
            wr[i, j] = table[min(d2r[i, j], last)]
            wd[i, j] = table[min(d2d[i, j], last)]
        wr[i, w - 1] = 0.0
        if i == h - 1:
            for j in range(w):
                wd[i, j] = 0.0
    for i in prange(h):
        for c in range(2):
            o = (i + c) & 1
            un, wu, wdn, wl, wrt = planes[c, 0, i], planes[c, 1, i], planes[c, 2, i], planes[c, 3, i], planes[c, 4, i]
            me = signs[c, i + 1]
            n = (w - o + 1) // 2  # real cells of this colour in this row
            for k in range(n):
                j = 2 * k + o
                un[k] = dunary[i, j]
                wdn[k] = wd[i, j]
                wrt[k] = wr[i, j]
                me[k + 1] = np.float32(1 - 2 * np.int64(labels[i, j]))
            if i > 0:
                for k in range(n):
                    wu[k] = wd[i - 1, 2 * k + o]
            else:
                wu[:n] = 0.0
            for k in range(n):
                j = 2 * k + o
                wl[k] = wr[i, j - 1] if j > 0 else np.float32(0.0)
            for k in range(n, wp):  # padding cell past the last column: background, no edges
                un[k] = 1.0
                wu[k] = wdn[k] = wl[k] = wrt[k] = 0.0
                me[k + 1] = 1.0


@njit(**_JIT)
def icm_sweeps(planes, signs, sweeps):  # pragma: no cover - compiled
    """Iterated conditional modes, red-black order, on the layout of :func:`icm_pack`; returns the sweeps run.

    A pixel becomes skin when ``unary + w_up s_up + w_down s_down + w_left s_left + w_right s_right < 0``
    (s = +1 background, -1 skin; summed in that order, as the NumPy reference does, so the results
    are bit-identical). A colour's row only reads rows of the other colour, so a half-sweep is
    order-free and parallel, and the inner loop is branch-free over contiguous memory (SIMD).
    After the first sweep a row is visited again only when one of the three other-colour rows it
    reads changed in that colour's last half-sweep. Stops early when a sweep changes nothing.
    """
    h, wp = planes.shape[2], planes.shape[3]
    changed_rows = np.ones((2, h), np.uint8)
    neg, pos = np.float32(-1.0), np.float32(1.0)
    done = 0
    for sweep in range(sweeps):
        changed = 0
        for c in range(2):
            oc = 1 - c
            counts = np.zeros(h, np.int64)
            for i in prange(h):
                if sweep > 0 and not (
                    changed_rows[oc, i] or (i > 0 and changed_rows[oc, i - 1]) or (i + 1 < h and changed_rows[oc, i + 1])
                ):
                    changed_rows[c, i] = 0
                    continue
                o = (i + c) & 1
                un, wu, wd, wl, wr = planes[c, 0, i], planes[c, 1, i], planes[c, 2, i], planes[c, 3, i], planes[c, 4, i]
                me = signs[c, i + 1]
                up, mid, down = signs[oc, i], signs[oc, i + 1], signs[oc, i + 2]
                cnt = 0
                for k in range(wp):
                    s = un[k] + wu[k] * up[k + 1]
                    s += wd[k] * down[k + 1]
                    s += wl[k] * mid[k + o]
                    s += wr[k] * mid[k + 1 + o]
                    new = neg if s < 0 else pos
                    cnt += new != me[k + 1]
                    me[k + 1] = new
                counts[i] = cnt
                changed_rows[c, i] = cnt > 0
            changed += counts.sum()
        done += 1
        if changed == 0:
            break
    return done


@njit(**_JIT)
def icm_unpack(signs, labels):  # pragma: no cover - compiled
    """labels uint8 (H, W) = 1 where the packed sign of :func:`icm_pack`'s layout is -1 (skin)."""
    h, w = labels.shape
    for i in prange(h):
        for j in range(w):
            c = (i + j) & 1
            labels[i, j] = 1 if signs[c, i + 1, j // 2 + 1] < 0 else 0


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
        out8 = np.empty((3, 4), np.uint8)
        cube_table_u8(frame, table, out8)
        out8.flags.writeable = writeable
        u8_to_f32(out8, out)
        open3_u8_to_f32(out8, out)
        open3_blur5_binary(out8, out)
        dun = np.empty((3, 4), np.float32)
        lab_ = np.empty((3, 4), np.uint8)
        d2r = np.empty((3, 4), np.int32)
        d2d = np.empty((3, 4), np.int32)
        icm_prepare(frame, frame, lut, dun, lab_, d2r, d2d)
    wr = np.empty((3, 4), np.float32)
    wd = np.empty((3, 4), np.float32)
    planes = np.empty((2, 5, 3, 2), np.float32)
    signs = np.ones((2, 5, 4), np.float32)
    icm_pack(dun, lab_, d2r, d2d, np.ones(8, np.float32), wr, wd, planes, signs)
    icm_sweeps(planes, signs, 2)
    icm_unpack(signs, lab_)
    expand_cbcr(np.zeros((256, 256), np.uint8), np.empty(1 << 24, np.uint8))
