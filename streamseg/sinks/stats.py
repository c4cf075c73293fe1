"""Per-frame exposure statistics: the ``--stats-csv`` writer and the ``--alert-above`` crossing
detector, both :class:`~streamseg.sinks.base.Sink` classes.

Example:
    >>> det = AlertDetector(0.3, hysteresis=0.05)
    >>> [det.update(f) for f in (0.1, 0.35, 0.32, 0.28, 0.2, 0.4)]
    [None, 'above', None, None, 'below', 'above']
"""

from __future__ import annotations

import csv
import time
from pathlib import Path
from typing import Any, Callable

from streamseg import log
from streamseg.effects.exposure import skin_fraction
from streamseg.errors import ConfigError, OutputError
from streamseg.sinks.base import Sink, SinkReport


class RateMeter:
    """Frames per second from the times between calls (exponential average, like the live HUD)."""

    def __init__(self, smoothing: float = 0.9) -> None:
        self.smoothing = smoothing
        self.fps = 0.0
        self._last: float | None = None

    def tick(self, now: float) -> float:
        """Record a frame at ``now`` (seconds); returns the current fps (0.0 for the first)."""
        if self._last is not None and now > self._last:
            inst = 1.0 / (now - self._last)
            self.fps = inst if self.fps == 0 else self.smoothing * self.fps + (1 - self.smoothing) * inst
        self._last = now
        return self.fps


class StatsCsvWriter(Sink):
    """``--stats-csv FILE``: one row per frame.

    Columns: ``frame`` (source index), ``time_s`` (source time), ``skin_fraction`` (0..1),
    ``fps`` (processing rate at this frame, 0 for the first), ``latency_ms`` (capture to this
    row; empty when the frame has no capture time). Rows are flushed as written, so the file
    can be followed during a live run; a file that got no row is removed on :meth:`close`.

    Args:
        path: the CSV file (overwritten).
        clock: seconds, the clock of ``Frame.captured_at`` (``time.perf_counter``).

    Raises:
        OutputError: the file cannot be opened.
    """

    COLUMNS = ("frame", "time_s", "skin_fraction", "fps", "latency_ms")

    def __init__(self, path: str | Path, clock: Callable[[], float] = time.perf_counter) -> None:
        self.path = Path(path)
        self.clock = clock
        self.rows = 0
        self._rate = RateMeter()
        try:
            self._file = open(self.path, "w", newline="", encoding="utf-8")
        except OSError as exc:
            raise OutputError(f"cannot write --stats-csv {self.path}: {exc.strerror or exc}") from None
        self._csv = csv.writer(self._file)
        self._csv.writerow(self.COLUMNS)

    def write_row(self, frame: int, time_s: float, fraction: float, fps: float, latency_ms: float | None) -> None:
        """Append one row (the values of :attr:`COLUMNS`)."""
        lat = "" if latency_ms is None else f"{latency_ms:.2f}"
        self._csv.writerow((frame, f"{time_s:.4f}", f"{fraction:.5f}", f"{fps:.2f}", lat))
        self._file.flush()
        self.rows += 1

    def write(self, result: Any) -> None:
        """One row for a :class:`~streamseg.frames.FrameResult`."""
        now = self.clock()
        f = result.frame
        latency = 1000 * (now - f.captured_at) if f.captured_at else None
        self.write_row(f.index, f.time, skin_fraction(result.mask), self._rate.tick(now), latency)

    def close(self) -> SinkReport:
        """Close the file; one that got no row (a run that failed before its first frame) is
        removed rather than left as a header-only table. The report counts the rows."""
        if not self._file.closed:
            self._file.close()
            if self.rows == 0:
                self.path.unlink(missing_ok=True)
        return SinkReport(self.path if self.rows else None, self.rows)


class AlertDetector:
    """Finds where the skin fraction crosses ``threshold``.

    It reports ``"above"`` when the fraction goes above ``threshold`` and ``"below"`` when it
    drops under ``threshold - hysteresis``, so noise around the threshold gives one event, not
    one per frame. The state starts as below.
    """

    def __init__(self, threshold: float, hysteresis: float = 0.02) -> None:
        if not 0.0 <= threshold <= 1.0:
            raise ConfigError(f"--alert-above must be a fraction in [0, 1], got {threshold}")
        if hysteresis < 0:
            raise ConfigError(f"alert hysteresis must be >= 0, got {hysteresis}")
        self.threshold = float(threshold)
        self.hysteresis = float(hysteresis)
        self.above = False

    def update(self, fraction: float) -> str | None:
        """Feed one frame's skin fraction; returns ``"above"``, ``"below"`` or ``None``."""
        if not self.above and fraction > self.threshold:
            self.above = True
            return "above"
        if self.above and fraction < self.threshold - self.hysteresis:
            self.above = False
            return "below"
        return None

    def reset(self) -> None:
        self.above = False


class AlertSink(Sink):
    """``--alert-above F``: on each crossing, logs one line (:func:`streamseg.log.notice`; the
    CLI shows it on stderr) and passes an event to ``emit`` (e.g. the ROI sinks' ``send``, a
    JSONL file); the report of :meth:`close` counts the events.

    Event: ``{"type": "skin_alert", "event": "above" | "below", "threshold": F,
    "skin_fraction": f, "frame": index, "time": seconds}``.
    """

    def __init__(
        self,
        threshold: float,
        hysteresis: float = 0.02,
        emit: Callable[[dict], None] | None = None,
        quiet: bool = False,
    ) -> None:
        self.detector = AlertDetector(threshold, hysteresis)
        self.emit = emit
        self.quiet = quiet
        self.events: list[dict] = []

    def write(self, result: Any) -> None:
        fraction = skin_fraction(result.mask)
        kind = self.detector.update(fraction)
        if kind is None:
            return
        f = result.frame
        event = {
            "type": "skin_alert",
            "event": kind,
            "threshold": self.detector.threshold,
            "skin_fraction": round(fraction, 5),
            "frame": f.index,
            "time": round(f.time, 4),
        }
        self.events.append(event)
        if not self.quiet:
            word = "above" if kind == "above" else "back below"
            log.notice(f"alert: skin fraction {fraction:.3f} {word} {self.detector.threshold:g} at frame {f.index} ({f.time:.2f} s)")
        if self.emit is not None:
            self.emit(event)

    def close(self) -> SinkReport:
        return SinkReport(written=len(self.events))
