"""Base class of the per-pixel colour-rule detectors (ellipses and boxes).

A rule is tabulated once over the 2^24 BGR cube (uint8, 16 MiB, shared by every instance with
the same rule); each frame is then one pass of :func:`kernels.cube_table` (``raw``), or of
:func:`kernels.cube_table_u8` followed by the uint8 post-processing (``segment``). Subclasses give the
rule twice: :meth:`ColourRule.reference` (plain NumPy/OpenCV on a frame) and
:meth:`ColourRule.cube` (the table). When numba cannot run, the reference is used instead.
"""

from __future__ import annotations

import threading
from typing import Callable, ClassVar

import numpy as np

from streamseg import log
from streamseg.segment.base import MethodOptions, Segmenter, check_frame
from streamseg.segment.classical import kernels, reference
from streamseg.segment.classical.params import ClassicalParams, load_params
from streamseg.segment.classical.postprocess import PostProcess

_tables: dict[tuple, np.ndarray] = {}
_binary: dict[tuple, bool] = {}
_tables_lock = threading.Lock()


def cached_table(key: tuple, build: Callable[[], np.ndarray]) -> np.ndarray:
    """A read-only table built once per process for ``key``."""
    with _tables_lock:
        t = _tables.get(key)
        if t is None:
            t = build()
            t.flags.writeable = False
            _tables[key] = t
        return t


def is_binary(key: tuple, table: np.ndarray) -> bool:
    """Whether every value of the cached ``table`` of ``key`` is 0 or 255 (checked once, about 30 ms)."""
    with _tables_lock:
        b = _binary.get(key)
        if b is None:
            b = _binary[key] = not bool(np.any((table != 0) & (table != 255)))
        return b


def cbcr_cube(lut: np.ndarray, use_numba: bool) -> np.ndarray:
    """Expand a float32 (256, 256) ``[Cb, Cr]`` table in [0, 1] to a uint8 (2^24,) cube table."""
    lut8 = np.round(np.clip(lut, 0.0, 1.0) * 255.0).astype(np.uint8)
    table = np.empty(1 << 24, np.uint8)
    (kernels.expand_cbcr if use_numba else reference.expand_cbcr)(lut8, table)
    return table


#: numba threads when ``MethodOptions.threads`` is 0. One thread: the kernels are cheap per frame
#: anyway, and a parallel region stalls whenever another thread (decode, encode, other jobs)
#: holds the second core, so on a loaded 2-core machine two threads are several times slower
#: than one (docs/classical.md).
DEFAULT_THREADS = 1


class NumbaBackend:
    """Picks numba or the NumPy reference for one segmenter and degrades (with a warning) on failure."""

    def __init__(self, method: str, options: MethodOptions) -> None:
        self.method = method
        self.threads = options.threads if options.threads > 0 else DEFAULT_THREADS
        forced = str(options.extra.get("backend", "")).lower()
        err = "backend=numpy requested" if forced == "numpy" else kernels.numba_error()
        self.use_numba = err is None
        if err is not None and forced != "numpy":
            log.warn(f"{method}: numba kernels unavailable ({err}); using the NumPy reference (slower)")

    @property
    def provider(self) -> str:
        return "numba" if self.use_numba else "numpy"

    def set_threads(self) -> None:
        """Apply the thread count to the calling thread (numba's setting is per thread)."""
        import numba

        numba.set_num_threads(max(1, min(self.threads, numba.config.NUMBA_NUM_THREADS)))

    def run(self, numba_fn: Callable, numpy_fn: Callable, *args):
        """Call the kernel (or the reference once numba has failed) with ``args``."""
        if self.use_numba:
            try:
                self.set_threads()
                return numba_fn(*args)
            except Exception as exc:  # noqa: BLE001 - any numba failure degrades to NumPy
                self.fail(exc)
        return numpy_fn(*args)

    def fail(self, exc: Exception) -> None:
        """Switch to the NumPy reference for good after a kernel raised ``exc`` (one warning)."""
        self.use_numba = False
        log.warn(f"{self.method}: numba kernel failed ({type(exc).__name__}: {exc}); using the NumPy reference")


def contiguous(frame: np.ndarray) -> np.ndarray:
    """Validate a BGR uint8 frame and make it C-contiguous (a copy only when it is not)."""
    return np.ascontiguousarray(check_frame(frame))


class ColourRule(Segmenter):
    """A per-pixel colour rule: table lookup (numba) or the NumPy reference, then post-processing."""

    kind = "classical"
    #: what the rule depends on, for the table cache (subclasses include their parameters)
    rule_key: ClassVar[str] = ""

    def __init__(self, options: MethodOptions | None = None) -> None:
        self.options = options or MethodOptions()
        self.params: ClassicalParams = load_params(self.options.params)
        self.post = PostProcess.for_method(self.name, self.options.extra)
        self.backend = NumbaBackend(self.name, self.options)
        self._table: np.ndarray | None = None
        self._binary: bool | None = None

    @property
    def provider(self) -> str:  # type: ignore[override]
        return self.backend.provider

    # -- the rule, twice ---------------------------------------------------------------------
    def key(self) -> tuple:
        """Identifies the rule's table (class and parameters)."""
        return (type(self).__name__,)

    def cube(self) -> np.ndarray:
        """The rule over the 2^24 BGR cube: uint8 (2^24,), 255 = skin."""
        raise NotImplementedError

    def reference(self, frame: np.ndarray) -> np.ndarray:
        """Plain NumPy/OpenCV rule: BGR uint8 (H, W, 3) -> float32 (H, W) in {0, 1}."""
        raise NotImplementedError

    # -- running -----------------------------------------------------------------------------
    def table(self) -> np.ndarray:
        if self._table is None:
            self._table = cached_table(self.key(), self.cube)
        return self._table

    def binary(self) -> bool:
        """Whether the table holds only 0 and 255 (then post-processing can run as one exact pass)."""
        if self._binary is None:
            self._binary = is_binary(self.key(), self.table())
        return self._binary

    def raw(self, frame: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """The rule without post-processing: BGR uint8 (H, W, 3) -> float32 (H, W) in {0, 1}."""
        frame = contiguous(frame)
        if out is None:
            out = np.empty(frame.shape[:2], np.float32)
        if self.backend.use_numba:
            self.backend.run(kernels.cube_table, self._reference_into, frame, self.table(), out)
        else:
            out[...] = self.reference(frame)
        return out

    def _reference_into(self, frame: np.ndarray, table: np.ndarray, out: np.ndarray) -> None:
        out[...] = self.reference(frame)

    def raw8(self, frame: np.ndarray) -> np.ndarray | None:
        """The table values without post-processing: uint8 (H, W), 255 = skin (numba only).

        ``None`` when numba is not in use or the kernel failed (then it is not used again).
        """
        if not self.backend.use_numba:
            return None
        frame = contiguous(frame)
        out = np.empty(frame.shape[:2], np.uint8)
        try:
            self.backend.set_threads()
            kernels.cube_table_u8(frame, self.table(), out)
        except Exception as exc:  # noqa: BLE001 - any numba failure degrades to NumPy
            self.backend.fail(exc)
            return None
        return out

    def _to_float(self, raw8: np.ndarray, out: np.ndarray) -> None:
        self.backend.run(kernels.u8_to_f32, reference.u8_to_f32, raw8, out)

    def _open3_to_float(self, raw8: np.ndarray, out: np.ndarray) -> None:
        self.backend.run(kernels.open3_u8_to_f32, reference.open3_u8_to_f32, raw8, out)

    def _open3_blur5(self, raw8: np.ndarray, out: np.ndarray) -> None:
        self.backend.run(kernels.open3_blur5_binary, reference.open3_blur5_binary, raw8, out)

    def segment(self, frame: np.ndarray) -> np.ndarray:
        """BGR uint8 (H, W, 3) -> float32 (H, W) skin probability in [0, 1] (post-processed).

        With numba and an opening, the rule's uint8 table values are opened in uint8 and only
        then scaled to float32; with a 0 / 255 table and the default 3x3 opening and 5x5 blur,
        the whole post-processing is one exact numba pass (:func:`kernels.open3_blur5_binary`).
        Bit-identical to ``post(raw(frame))`` (see :meth:`PostProcess.from_u8`), and 2.2x
        faster at 720p on one thread (1.33 vs 2.92 ms, docs/classical.md).
        """
        if self.post.open > 1:
            raw8 = self.raw8(frame)
            if raw8 is not None:
                blur5 = self._open3_blur5 if self.binary() else None
                return self.post.from_u8(raw8, self._to_float, self._open3_to_float, blur5)
        return self.post(self.raw(frame))
