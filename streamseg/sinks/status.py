"""The live status line of headless runs (``webcam --no-show``): fps, latency, dropped frames
and reconnects on stderr.

On a terminal it is one line refreshed about once a second (rich ``Live``, removed at the end,
log lines still print above it); when stderr is not a terminal (a log file, a service) it stays
quiet apart from one ``status:`` line every ``interval_s`` seconds.

Example:
    >>> import io, numpy as np
    >>> from rich.console import Console
    >>> from streamseg.frames import Frame, FrameResult
    >>> t = [0.0]
    >>> out = io.StringIO()
    >>> line = StatusLine(console=Console(file=out, force_terminal=False), interval_s=1.0, clock=lambda: t[0])
    >>> m = np.zeros((2, 2), bool)
    >>> for i in range(5):
    ...     t[0] = 0.5 * i
    ...     line.write(FrameResult(Frame(np.zeros((2, 2, 3), np.uint8), i, 0.0, captured_at=t[0] - 0.01), m.astype(np.float32), m))
    >>> line.close(); out.getvalue().splitlines()[0]
    'status: 3 frames, 2.0 fps, latency 10 ms, 0 dropped, 0 reconnects'
"""

from __future__ import annotations

import time
from typing import Any, Callable

from streamseg.sinks.base import Sink


class StatusLine(Sink):
    """A :class:`~streamseg.sinks.base.Sink` that reports the run's health on stderr.

    Args:
        source: the live source (its ``dropped`` and ``reconnects`` counters), or ``None``.
        console: a rich console (default: streamseg's stderr console).
        interval_s: seconds between ``status:`` lines when the console is not a terminal.
        refresh_s: seconds between refreshes on a terminal.
        clock: seconds, the clock of ``Frame.captured_at`` (``time.perf_counter``).
    """

    def __init__(
        self,
        source: Any | None = None,
        console: Any | None = None,
        interval_s: float = 10.0,
        refresh_s: float = 1.0,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        if console is None:
            from streamseg import log

            console = log.console
        self.source = source
        self.console = console
        self.tty = bool(console.is_terminal)
        self.interval_s = float(refresh_s if self.tty else interval_s)
        self.clock = clock
        self.frames = 0
        self.lines = 0
        self._t0: float | None = None
        self._last_report: float | None = None
        self._window: list[tuple[float, float | None]] = []  # (time, latency ms) since the last report
        self._fps = 0.0
        self._latency: float | None = None
        self._live: Any | None = None

    def text(self) -> str:
        """The status text: frames, fps (over the last interval), latency (median of the last
        interval), dropped frames, reconnects."""
        dropped = getattr(self.source, "dropped", 0) if self.source is not None else 0
        reconnects = getattr(self.source, "reconnects", 0) if self.source is not None else 0
        lat = "-" if self._latency is None else f"{self._latency:.0f} ms"
        return f"{self.frames} frames, {self._fps:.1f} fps, latency {lat}, {dropped} dropped, {reconnects} reconnects"

    def write(self, result: Any) -> None:
        now = self.clock()
        self.frames += 1
        captured = getattr(result.frame, "captured_at", 0.0)
        latency = 1000 * (now - captured) if captured else None
        if self._t0 is None:  # the first frame starts the clock
            self._t0 = self._last_report = now
            self._latency = latency
            return
        self._window.append((now, latency))
        if now - self._last_report >= self.interval_s:
            self._report(now)

    def _report(self, now: float) -> None:
        span = now - (self._last_report if self._last_report is not None else now)
        self._fps = len(self._window) / span if span > 0 else 0.0
        lats = sorted(x for _, x in self._window if x is not None)
        self._latency = lats[len(lats) // 2] if lats else None
        self._window = []
        self._last_report = now
        self.lines += 1
        if self.tty:
            from rich.text import Text

            if self._live is None:
                from rich.live import Live

                self._live = Live(Text(self.text()), console=self.console, auto_refresh=False, transient=True)
                self._live.start()
            self._live.update(Text(self.text()), refresh=True)
        else:
            self.console.print(f"status: {self.text()}", markup=False, highlight=False, soft_wrap=True)

    def close(self) -> None:
        """Remove the terminal line (the run's summary follows it)."""
        if self._live is not None:
            self._live.stop()
            self._live = None
