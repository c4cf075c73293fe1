"""Plain NumPy/OpenCV implementations of the kernels in :mod:`.kernels`.

They define what the kernels must compute (the tests compare them bit for bit), serve as the
fallback when numba cannot run, and are the "plain implementation" of the speed benchmarks.
Same arguments and outputs as the kernels.

Example:
    >>> import numpy as np
    >>> from streamseg.segment.classical.colorspace import ellipse_lut
    >>> out = np.empty((1, 2), np.float32)
    >>> lut = ellipse_lut((119.314, 155.558), (37.089, 14.809), 148.633)
    >>> cbcr_lut(np.full((1, 2, 3), (90, 140, 200), np.uint8), lut, out)
    >>> out.tolist()
    [[1.0, 1.0]]
"""

from __future__ import annotations

import cv2
import numpy as np

from streamseg.segment.classical.colorspace import cube_image, ycrcb_reference


def cbcr_lut(frame: np.ndarray, lut: np.ndarray, out: np.ndarray) -> None:
    """out = lut[Cb, Cr] with Cb, Cr from ``cv2.cvtColor(frame, COLOR_BGR2YCrCb)``."""
    ycc = ycrcb_reference(frame)
    out[...] = lut[ycc[..., 2], ycc[..., 1]]


def cube_table(frame: np.ndarray, table: np.ndarray, out: np.ndarray) -> None:
    """out = table[b << 16 | g << 8 | r] * float32(1/255)."""
    f = frame.astype(np.int64)
    k = (f[..., 0] << 16) | (f[..., 1] << 8) | f[..., 2]
    out[...] = table[k].astype(np.float32) * np.float32(1.0 / 255.0)


def cube_table_u8(frame: np.ndarray, table: np.ndarray, out: np.ndarray) -> None:
    """out = table[b << 16 | g << 8 | r] (uint8)."""
    f = frame.astype(np.int64)
    out[...] = table[(f[..., 0] << 16) | (f[..., 1] << 8) | f[..., 2]]


def u8_to_f32(src: np.ndarray, out: np.ndarray) -> None:
    """out = float32(src) * float32(1/255)."""
    out[...] = src.astype(np.float32) * np.float32(1.0 / 255.0)


def expand_cbcr(lut8: np.ndarray, table: np.ndarray) -> None:
    """table[b << 16 | g << 8 | r] = lut8[Cb, Cr] for all 2^24 colours (Cb, Cr from ``cv2.cvtColor``)."""
    ycc = ycrcb_reference(cube_image())
    table[:] = lut8[ycc[..., 2], ycc[..., 1]].reshape(-1)


def icm_prepare(
    frame: np.ndarray,
    lab: np.ndarray,
    dtable: np.ndarray,
    dunary: np.ndarray,
    labels: np.ndarray,
    d2r: np.ndarray,
    d2d: np.ndarray,
) -> int:
    """Unaries, initial labels and squared Lab differences; returns their sum (see the kernel)."""
    ycc = ycrcb_reference(frame)
    dunary[...] = dtable[ycc[..., 2], ycc[..., 1]]
    labels[...] = dunary < 0
    lab = lab.astype(np.int64)
    d2r[...] = 0
    d2d[...] = 0
    d2r[:, :-1] = ((lab[:, 1:] - lab[:, :-1]) ** 2).sum(-1)
    d2d[:-1, :] = ((lab[1:] - lab[:-1]) ** 2).sum(-1)
    return int(d2r.sum(dtype=np.int64) + d2d.sum(dtype=np.int64))


def icm_weights(d2r: np.ndarray, d2d: np.ndarray, table: np.ndarray, wr: np.ndarray, wd: np.ndarray) -> None:
    """w = table[min(d2, len(table) - 1)]."""
    last = table.shape[0] - 1
    wr[...] = table[np.minimum(d2r, last)]
    wd[...] = table[np.minimum(d2d, last)]


def icm_sweeps(dunary: np.ndarray, wr: np.ndarray, wd: np.ndarray, labels: np.ndarray, sweeps: int) -> int:
    """Red-black ICM sweeps, vectorised per half-sweep; returns the sweeps run (see the kernel)."""
    h, w = dunary.shape
    # weight of the edge to each neighbour, 0 where there is none
    w_up = np.zeros_like(wd)
    w_up[1:] = wd[:-1]
    w_down = np.zeros_like(wd)
    w_down[:-1] = wd[:-1]
    w_left = np.zeros_like(wr)
    w_left[:, 1:] = wr[:, :-1]
    w_right = np.zeros_like(wr)
    w_right[:, :-1] = wr[:, :-1]
    ii, jj = np.indices((h, w))
    colour = [((ii + jj) & 1) == p for p in range(2)]
    padded = np.zeros((h + 2, w + 2), np.uint8)
    done = 0
    for _ in range(sweeps):
        changed = 0
        for p in range(2):
            padded[1:-1, 1:-1] = labels
            s = dunary.copy()
            for nb, wn in (
                (padded[:-2, 1:-1], w_up),
                (padded[2:, 1:-1], w_down),
                (padded[1:-1, :-2], w_left),
                (padded[1:-1, 2:], w_right),
            ):
                s += np.where(nb == 0, wn, -wn)
            new = (s < 0).astype(np.uint8)
            upd = colour[p] & (new != labels)
            changed += int(np.count_nonzero(upd))
            labels[upd] = new[upd]
        done += 1
        if changed == 0:
            break
    return done


def open3_u8_to_f32(src: np.ndarray, out: np.ndarray) -> None:
    """out = float32(opening of src by the 3x3 cross) * float32(1/255), with OpenCV's ``morphologyEx``."""
    cross = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
    u8_to_f32(cv2.morphologyEx(src, cv2.MORPH_OPEN, cross), out)


def open3_blur5_binary(src: np.ndarray, out: np.ndarray) -> None:
    """out = ``cv2.GaussianBlur`` 5x5 (sigma 0) of :func:`open3_u8_to_f32` of a 0 / 255 ``src``."""
    open3_u8_to_f32(src, out)
    cv2.GaussianBlur(out, (5, 5), 0, dst=out)
