"""The one timer of the benchmarks: a stopwatch, repeated and interleaved timings, and their summary.

Every benchmark times with these helpers, so all of them read the same clocks (wall:
``time.perf_counter``; CPU of the calling thread: ``time.thread_time``) and summarise the same way.

Example:
    >>> with Stopwatch() as sw:
    ...     _ = sum(range(1000))
    >>> sw.s >= 0 and sw.ms >= 0
    True
    >>> s = summary([3.0, 1.0, 2.0])
    >>> s["min"], s["median"], s["n"]
    (1.0, 2.0, 3)
"""

from __future__ import annotations

import statistics
import time
from typing import Callable, Mapping

#: The wall clock of every benchmark, in seconds (for deadlines, pacing and time stamps).
now = time.perf_counter


class Stopwatch:
    """Wall and thread CPU time of a ``with`` block: ``.s``/``.ms`` (wall), ``.cpu_ms``.

    While the block runs, :meth:`elapsed` gives the wall seconds since it started.
    """

    def __init__(self) -> None:
        self.t0 = self.c0 = 0.0
        self.s = self.cpu_s = 0.0

    def __enter__(self) -> "Stopwatch":
        self.t0, self.c0 = time.perf_counter(), time.thread_time()
        return self

    def __exit__(self, *exc) -> None:
        self.s = time.perf_counter() - self.t0
        self.cpu_s = time.thread_time() - self.c0

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    @property
    def ms(self) -> float:
        return 1000.0 * self.s

    @property
    def cpu_ms(self) -> float:
        return 1000.0 * self.cpu_s


def timed(fn: Callable[[], object]) -> tuple[object, float]:
    """``(fn(), wall seconds it took)``."""
    with Stopwatch() as sw:
        out = fn()
    return out, sw.s


def repeat_ms(fn: Callable[[], object], runs: int, warmup: int = 0) -> list[float]:
    """Call ``fn`` ``warmup`` times untimed, then ``runs`` times: the wall ms of each timed call."""
    for _ in range(max(0, warmup)):
        fn()
    out = []
    for _ in range(runs):
        with Stopwatch() as sw:
            fn()
        out.append(sw.ms)
    return out


def interleaved_ms(
    fns: Mapping[str, Callable[[], object]], rounds: int, warmup: int = 1, cpu: bool = False
) -> dict[str, list[float]] | tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Time every function once per round, ``rounds`` rounds, so bursts of load from other
    processes hit them alike. Returns the wall ms per call per name (and, with ``cpu``, also
    the calling thread's CPU ms: ``(wall, cpu)``)."""
    for _ in range(max(0, warmup)):
        for fn in fns.values():
            fn()
    wall: dict[str, list[float]] = {k: [] for k in fns}
    cpu_ms: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(rounds):
        for k, fn in fns.items():
            with Stopwatch() as sw:
                fn()
            wall[k].append(sw.ms)
            cpu_ms[k].append(sw.cpu_ms)
    return (wall, cpu_ms) if cpu else wall


def percentile(xs: list[float], q: float) -> float:
    """The ``q``-th percentile (0..100) of ``xs``, linear between ranks; NaN when empty."""
    if not xs:
        return float("nan")
    s = sorted(xs)
    pos = (len(s) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def summary(xs: list[float]) -> dict[str, float]:
    """min, median, mean, p90, p99, max and n of a list of timings (any unit)."""
    if not xs:
        nan = float("nan")
        return {"min": nan, "median": nan, "mean": nan, "p90": nan, "p99": nan, "max": nan, "n": 0}
    return {
        "min": min(xs), "median": statistics.median(xs), "mean": statistics.fmean(xs),
        "p90": percentile(xs, 90), "p99": percentile(xs, 99), "max": max(xs), "n": len(xs),
    }


#: CPU time of the whole process, in seconds (all threads: numba's and OpenCV's included).
process_cpu = time.process_time
