"""Latency of methods per model input size / frame size, next to the ``cv2.cvtColor`` floor.

Every row times the full ``segment`` call (BGR frame in, probability at frame size out) after
a warm-up: the median and 90th percentile of repeated calls. The floor is one
``cv2.cvtColor(BGR -> YCrCb)`` over the same frame: no per-pixel method can beat it by much.

Example:
    >>> t = time_call(lambda: None, warmup=1, repeats=5)
    >>> t.n, t.median_ms >= 0
    (5, True)
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from streamseg.errors import ConfigError, MethodError
from streamseg.segment import MethodOptions, Segmenter, create_exact


@dataclass
class Timing:
    """Median and 90th percentile of ``n`` timed calls, in milliseconds."""

    median_ms: float
    p90_ms: float
    n: int


def time_call(fn: Callable[[], object], warmup: int = 3, repeats: int = 30, budget_s: float = 5.0) -> Timing:
    """Call ``fn`` ``warmup`` times untimed, then up to ``repeats`` times timed.

    Stops early once ``budget_s`` seconds were spent timing (at least 5 timed calls, or
    ``repeats`` if fewer), so slow models on a CPU do not take minutes per row.
    """
    for _ in range(max(0, warmup)):
        fn()
    times: list[float] = []
    spent = 0.0
    floor_n = min(5, repeats)
    while len(times) < repeats and (len(times) < floor_n or spent < budget_s):
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        times.append(dt)
        spent += dt
    arr = np.asarray(times) * 1000.0
    return Timing(float(np.median(arr)), float(np.percentile(arr, 90)), len(times))


def parse_frame_sizes(spec: str) -> list[tuple[int, int]]:
    """``"640x480,1280x720"`` -> ``[(640, 480), (1280, 720)]`` (width, height).

    Raises:
        ConfigError: an entry is not ``WIDTHxHEIGHT`` with positive integers.
    """
    out: list[tuple[int, int]] = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        w, sep, h = part.lower().partition("x")
        if not sep or not w.isdigit() or not h.isdigit() or int(w) < 1 or int(h) < 1:
            raise ConfigError(f"--frame-sizes: {part!r} is not WIDTHxHEIGHT (e.g. 1280x720)")
        out.append((int(w), int(h)))
    if not out:
        raise ConfigError("--frame-sizes is empty (e.g. 640x480,1280x720)")
    return out


def parse_sizes(spec: str) -> list[int]:
    """``"256,320"`` -> ``[256, 320]``.

    Raises:
        ConfigError: an entry is not a positive integer.
    """
    out: list[int] = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        if not part.isdigit() or int(part) < 1:
            raise ConfigError(f"--sizes: {part!r} is not a positive integer (e.g. 256,320,512)")
        out.append(int(part))
    if not out:
        raise ConfigError("--sizes is empty (e.g. 256,320,512)")
    return out


def bench_frame(width: int, height: int, clip: Path | None = None) -> np.ndarray:
    """A realistic BGR uint8 (height, width, 3) frame: a frame of ``clip`` (default: the demo
    clip, which shows a face and a hand) resized, or a synthetic scene when no clip can be read.
    Data-dependent methods (face seeding, ICM) need real content to be timed fairly."""
    if clip is None:
        from streamseg.errors import InputError
        from streamseg.paths import demo_clip

        try:
            clip = demo_clip()
        except InputError:  # an installed wheel has no demo clip
            return synthetic_frame(width, height)
    frame = _clip_frame(clip) if clip.is_file() else None
    if frame is None:
        return synthetic_frame(width, height)
    return cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)


_FRAME_CACHE: dict[str, np.ndarray | None] = {}


def _clip_frame(clip: Path, index: int = 60) -> np.ndarray | None:
    key = str(clip)
    if key not in _FRAME_CACHE:
        cap = cv2.VideoCapture(key)
        frame = None
        for _ in range(index + 1):
            ok, f = cap.read()
            if not ok:
                break
            frame = f
        cap.release()
        _FRAME_CACHE[key] = frame
    return _FRAME_CACHE[key]


def synthetic_frame(width: int, height: int, seed: int = 0) -> np.ndarray:
    """BGR uint8 (height, width, 3): a noisy grey gradient with two skin-coloured ellipses."""
    rng = np.random.default_rng(seed)
    x = np.linspace(40, 200, width, dtype=np.float32)
    img = np.repeat(np.repeat(x[None, :, None], height, 0), 3, 2)
    img += rng.normal(0, 8, img.shape).astype(np.float32)
    img = np.clip(img, 0, 255).astype(np.uint8)
    skin = (120, 150, 210)  # BGR
    cv2.ellipse(img, (width // 3, height // 2), (width // 8, height // 4), 0, 0, 360, skin, -1)
    cv2.ellipse(img, (2 * width // 3, height // 2), (width // 12, height // 6), 30, 0, 360, skin, -1)
    return img


def floor_ms(frame: np.ndarray, warmup: int = 3, repeats: int = 30, threads: int | None = None) -> Timing:
    """Time one ``cv2.cvtColor(frame, COLOR_BGR2YCrCb)``: the floor next to every row, on
    ``threads`` OpenCV threads (``None``: OpenCV's current setting), so that a method is
    compared at the thread count it runs at."""
    before = cv2.getNumThreads()
    if threads:
        cv2.setNumThreads(int(threads))
    try:
        return time_call(lambda: cv2.cvtColor(frame, cv2.COLOR_BGR2YCrCb), warmup=warmup, repeats=repeats)
    finally:
        cv2.setNumThreads(before)


def method_threads(seg: Segmenter, options: MethodOptions) -> tuple[str, int | None]:
    """(library, threads) a method computes on: ``("ort", n)``, ``("numba", n)``, ``("opencv", n)``
    or ``("default", None)`` for a model that does not say; ``n`` is ``None`` where the library
    picks its own. The floor of the method's row is timed on the same number of threads."""
    from streamseg.evaluate.machine import thread_counts

    prov = str(seg.provider).lower()
    if "executionprovider" in prov:
        return "ort", options.threads or None
    t = thread_counts()
    if "numba" in prov:
        return "numba", options.threads or t.get("numba")
    if seg.kind == "model":
        return "default", None
    return "opencv", t.get("opencv")


def model_input_hw(seg: Segmenter) -> tuple[int, int] | None:
    """The model's input (height, width) as the segmenter reports it (``seg.input_size`` or
    ``seg.spec.input_size``: an int or ``(h, w)``), or ``None`` when it does not say."""
    for obj in (seg, getattr(seg, "spec", None)):
        size = getattr(obj, "input_size", None) if obj is not None else None
        if isinstance(size, int) and size > 0:
            return size, size
        if isinstance(size, (tuple, list)) and len(size) == 2 and all(isinstance(v, int) and v > 0 for v in size):
            return int(size[0]), int(size[1])
    return None


def model_input_size(seg: Segmenter) -> str | None:
    """The input size label of a model: ``"256"`` when square, ``"WxH"`` otherwise, ``None`` if unknown."""
    hw = model_input_hw(seg)
    if hw is None:
        return None
    return str(hw[0]) if hw[0] == hw[1] else f"{hw[1]}x{hw[0]}"


def is_dynamic(seg: Segmenter) -> bool:
    """True when a model accepts ``MethodOptions(size=N)``: its graph's height/width are not fixed.

    Reads ``seg.dynamic_size`` when the segmenter sets it, else the ONNX Runtime session's input shape.
    """
    flag = getattr(seg, "dynamic_size", None)
    if isinstance(flag, bool):
        return flag
    sess = getattr(seg, "session", None)
    if sess is None or not hasattr(sess, "get_inputs"):
        return False
    inputs = sess.get_inputs()
    if not inputs:
        return False
    name = getattr(seg, "input_name", None)
    inp = next((i for i in inputs if i.name == name), inputs[0])
    return any(not isinstance(d, int) or d <= 0 for d in list(inp.shape)[2:4])


@dataclass
class BenchRow:
    """One row of the latency table (``size`` is the model input side, or ``WxH`` for classical)."""

    method: str
    kind: str
    size: str
    frame: str
    provider: str
    threads: str
    median_ms: float
    p90_ms: float
    floor_ms: float
    n: int
    note: str = ""

    @property
    def fps(self) -> float:
        return 1000.0 / self.median_ms if self.median_ms > 0 else float("inf")

    def as_dict(self) -> dict:
        d = asdict(self)
        d["fps"] = round(self.fps, 2)
        return d


def _threads_label(seg: Segmenter, options: MethodOptions) -> str:
    """What sets the thread count of this method and how many: ``"numba 1"``, ``"ort default"``..."""
    lib, n = method_threads(seg, options)
    return lib if lib == "default" else f"{lib} {n or 'default'}"


def bench_method(
    name: str,
    seg: Segmenter,
    sizes: list[int],
    frame_sizes: list[tuple[int, int]],
    options: MethodOptions,
    warmup: int = 3,
    repeats: int = 30,
    clip: Path | None = None,
    floors: dict[tuple[tuple[int, int], int | None], Timing] | None = None,
    on_row: Callable[[BenchRow], None] | None = None,
    make: Callable[[MethodOptions], Segmenter] | None = None,
) -> list[BenchRow]:
    """Latency rows of one method.

    Classical methods: one row per frame size. Models: one row per ``sizes`` entry when the
    graph is dynamic (a new segmenter with ``MethodOptions(size=N)`` each), else one row at
    the native size; models are fed frames of the first frame size. ``make(options)`` creates
    the method at another size (default: :func:`~streamseg.segment.create_exact` by ``name``).

    Raises:
        MethodError: the method fails on the frame.
    """
    floors = floors if floors is not None else {}
    rows: list[BenchRow] = []

    def floor_for(wh: tuple[int, int], frame: np.ndarray, threads: int | None) -> Timing:
        key = (wh, threads)
        if key not in floors:
            floors[key] = floor_ms(frame, warmup, repeats, threads)
        return floors[key]

    def timed(s: Segmenter, wh: tuple[int, int], size: str, note: str) -> BenchRow:
        frame = bench_frame(wh[0], wh[1], clip)
        try:
            s.warmup(wh[1], wh[0])
            t = time_call(lambda: s.segment(frame), warmup=warmup, repeats=repeats)
        except MethodError:
            raise
        except Exception as exc:  # noqa: BLE001 - one line naming the method
            raise MethodError(f"method {name!r} failed on a {wh[0]}x{wh[1]} frame: {type(exc).__name__}: {exc}") from exc
        row = BenchRow(
            name, s.kind, size, f"{wh[0]}x{wh[1]}", str(s.provider), _threads_label(s, options),
            t.median_ms, t.p90_ms, floor_for(wh, frame, method_threads(s, options)[1]).median_ms, t.n, note,
        )
        if on_row:
            on_row(row)
        return row

    if seg.kind != "model":
        for wh in frame_sizes:
            rows.append(timed(seg, wh, f"{wh[0]}x{wh[1]}", ""))
        return rows

    wh = frame_sizes[0]
    native = model_input_size(seg)
    if not is_dynamic(seg):
        note = f"fixed input {native}; --sizes ignored" if native else "fixed input; --sizes ignored"
        rows.append(timed(seg, wh, native or "native", note))
        return rows
    for size in sizes:
        try:
            sized_options = replace(options, size=size, strict=True)
            sized = make(sized_options) if make else create_exact(name, sized_options)
        except MethodError as exc:
            raise MethodError(f"method {name!r} at size {size}: {exc}") from exc
        try:
            rows.append(timed(sized, wh, str(size), "dynamic input"))
        finally:
            sized.close()
    return rows
