"""Where ROI messages go: JSON lines, OSC over UDP, and a WebSocket server (``--rois``, repeatable).

Specs:

- ``jsonl:-`` (stdout) or ``jsonl:FILE``: one JSON object per frame and line, flushed each frame.
- ``osc://HOST:PORT[/PREFIX]``: one OSC bundle per frame over UDP (python-osc); address
  scheme in ``docs/rois.md`` (prefix ``/streamseg`` by default). ``osc://:9000`` = 127.0.0.1.
- ``ws://HOST:PORT``: a WebSocket server (websockets) broadcasting each frame's JSON to every
  connected client. ``ws://:8765`` binds 127.0.0.1; bind ``0.0.0.0`` only when you mean to.
  It runs in its own thread: the pipeline only enqueues; a client that cannot keep up loses
  its oldest queued messages, it never slows the pipeline down.

Example:
    >>> sinks = open_roi_sinks([], source="cam")
    >>> sinks.send({"regions": []}); bool(sinks), sinks.close().written
    (False, 0)
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any, Protocol, TextIO
from urllib.parse import urlsplit

from streamseg import log
from streamseg.errors import ConfigError, OutputError
from streamseg.sinks.base import Sink, SinkReport

DEFAULT_HOST = "127.0.0.1"
DEFAULT_OSC_PREFIX = "/streamseg"
#: messages queued per WebSocket client before the oldest are dropped (~1 s of video)
WS_QUEUE = 32
#: seconds a WebSocket client gets to answer the closing handshake
CLOSE_TIMEOUT = 1.0

SPEC_HELP = "use jsonl:-, jsonl:FILE, osc://HOST:PORT or ws://HOST:PORT"


class RoiChannel(Protocol):
    """One destination of the ROI stream (JSONL, OSC, WebSocket). ``text`` is ``message``
    already serialised as compact JSON. The pipeline sees only :class:`RoiSinks`, which is a
    :class:`~streamseg.sinks.base.Sink`."""

    name: str

    def send(self, message: dict[str, Any], text: str) -> None: ...

    def close(self) -> None: ...


def dumps(message: dict[str, Any]) -> str:
    """Compact JSON of one message (one line)."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


class JsonlSink:
    """One JSON object per line to stdout (``-``) or a file (overwritten)."""

    def __init__(self, target: str) -> None:
        self.name = f"jsonl:{target}"
        self._own = target != "-"
        self._broken = False
        if self._own:
            try:
                self._fh: TextIO = Path(target).expanduser().open("w", encoding="utf-8")
            except OSError as exc:
                raise OutputError(f"cannot write ROI file {target}: {exc.strerror or exc}") from exc
        else:
            if sys.stdout is None or getattr(sys.stdout, "closed", False):
                raise OutputError("cannot write the ROI stream to stdout (jsonl:-): stdout is closed; give jsonl:FILE instead")
            self._fh = sys.stdout

    def send(self, message: dict[str, Any], text: str) -> None:
        if self._broken:
            return
        try:
            self._fh.write(text + "\n")
            self._fh.flush()
        except (BrokenPipeError, ValueError):
            self._broken = True
            log.warn(f"{self.name}: the reader went away; no more ROI lines are written there")
        except OSError as exc:
            raise OutputError(f"cannot write ROI lines to {self.name}: {exc.strerror or exc}") from exc

    def close(self) -> None:
        if self._own:
            self._fh.close()


class OscSink:
    """One OSC bundle per frame over UDP (see ``docs/rois.md`` for the addresses)."""

    def __init__(self, host: str, port: int, prefix: str = DEFAULT_OSC_PREFIX) -> None:
        from pythonosc.udp_client import UDPClient

        self.name = f"osc://{host}:{port}{prefix}"
        self.prefix = prefix.rstrip("/") or DEFAULT_OSC_PREFIX
        self._warned = False
        try:
            self._client = UDPClient(host, port)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot send OSC to {host}:{port}: {exc}") from exc

    def bundle(self, message: dict[str, Any]) -> Any:
        """The OSC bundle of one message (python-osc ``OscBundle``)."""
        from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
        from pythonosc.osc_message_builder import OscMessageBuilder

        def msg(address: str, args: list[tuple[Any, str]]) -> Any:
            b = OscMessageBuilder(address=self.prefix + address)
            for value, kind in args:
                b.add_arg(value, kind)
            return b.build()

        w, h = message.get("size") or (1, 1)
        regions = message.get("regions", [])
        bb = OscBundleBuilder(IMMEDIATELY)
        bb.add_content(
            msg(
                "/frame",
                [
                    (int(message.get("frame", 0)), "i"),
                    (float(message.get("time", 0.0)), "f"),
                    (int(w), "i"),
                    (int(h), "i"),
                    (float(message.get("skin_fraction", 0.0)), "f"),
                    (len(regions), "i"),
                ],
            )
        )
        for r in regions:
            x, y, bw, bh = r["box_norm"]
            cx, cy = r["centroid_norm"]
            bb.add_content(
                msg(
                    "/region",
                    [
                        (int(r["id"]), "i"),
                        (str(r["label"]), "s"),
                        (float(r["score"]), "f"),
                        (float(x), "f"),
                        (float(y), "f"),
                        (float(bw), "f"),
                        (float(bh), "f"),
                        (float(cx), "f"),
                        (float(cy), "f"),
                        (float(r["area_norm"]), "f"),
                        (int(bool(r.get("predicted"))), "i"),
                        (str(r.get("gesture") or ""), "s"),
                        (str(r.get("handedness") or ""), "s"),
                    ],
                )
            )
            if "landmarks_norm" in r:
                flat = [(float(v), "f") for p in r["landmarks_norm"] for v in p]
                bb.add_content(msg("/landmarks", [(int(r["id"]), "i"), *flat]))
        return bb.build()

    def send(self, message: dict[str, Any], text: str) -> None:
        try:
            self._client.send(self.bundle(message))
        except OSError as exc:
            if not self._warned:
                self._warned = True
                log.warn(f"{self.name}: cannot send ({exc.strerror or exc}); ROI bundles may be lost")

    def close(self) -> None:
        sock = getattr(self._client, "_sock", None)
        if sock is not None:
            sock.close()


class WebSocketSink:
    """A WebSocket server in its own thread broadcasting each message's JSON text.

    ``port`` 0 picks a free port; :attr:`port` holds the bound one. ``dropped`` counts
    messages dropped for clients that were too slow.
    """

    def __init__(self, host: str, port: int, queue_size: int = WS_QUEUE) -> None:
        self.host, self.port = host, port
        self.queue_size = queue_size
        self.dropped = 0
        self._queues: set[asyncio.Queue] = set()
        self._loop = asyncio.new_event_loop()
        self._server: Any = None
        self._error: BaseException | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="streamseg-rois-ws", daemon=True)
        self._thread.start()
        if not self._ready.wait(10.0):
            raise OutputError(f"WebSocket server on {host}:{port} did not start")
        if self._error is not None:
            err = self._error
            msg = getattr(err, "strerror", None) or str(err)
            raise OutputError(f"cannot serve ROIs on ws://{host}:{port}: {msg}") from err
        self.name = f"ws://{self.host}:{self.port}"

    @property
    def clients(self) -> int:
        """Connected clients now."""
        return len(self._queues)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._start())
        except BaseException as exc:  # noqa: BLE001 - reported to the opening thread
            self._error = exc
            self._ready.set()
            self._loop.close()
            return
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            self._loop.close()

    async def _start(self) -> None:
        from websockets.asyncio.server import serve

        self._server = await serve(
            self._handler, self.host, self.port, compression=None, max_size=2**16, close_timeout=CLOSE_TIMEOUT
        )
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def _handler(self, conn: Any) -> None:
        from websockets.exceptions import ConnectionClosed

        queue: asyncio.Queue = asyncio.Queue(self.queue_size)
        self._queues.add(queue)

        async def pump() -> None:
            while True:
                text = await queue.get()
                if text is None:
                    return
                await conn.send(text)

        sender = asyncio.create_task(pump())
        receiver = asyncio.create_task(self._drain(conn))
        try:
            await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
        except ConnectionClosed:
            pass
        finally:
            self._queues.discard(queue)
            for task in (sender, receiver):
                task.cancel()
            await asyncio.gather(sender, receiver, return_exceptions=True)

    @staticmethod
    async def _drain(conn: Any) -> None:
        """Read and ignore what clients send; returns when the client goes away."""
        from websockets.exceptions import ConnectionClosed

        try:
            async for _ in conn:
                pass
        except ConnectionClosed:
            pass

    def _broadcast(self, text: str | None) -> None:
        for queue in list(self._queues):
            if queue.full():
                queue.get_nowait()
                self.dropped += 1
            queue.put_nowait(text)

    def send(self, message: dict[str, Any], text: str) -> None:
        if self._loop.is_closed():
            return
        try:
            self._loop.call_soon_threadsafe(self._broadcast, text)
        except RuntimeError:  # loop closed meanwhile
            pass

    async def _shutdown(self, grace: float) -> None:
        deadline = time.monotonic() + grace
        while any(not q.empty() for q in self._queues) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        self._broadcast(None)  # each client's pump ends after what it has queued
        self._server.close()
        try:
            await asyncio.wait_for(self._server.wait_closed(), timeout=CLOSE_TIMEOUT + 1.0)
        except (asyncio.TimeoutError, Exception):  # noqa: BLE001 - a stuck client must not stop the shutdown
            pass
        rest = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in rest:
            task.cancel()
        await asyncio.gather(*rest, return_exceptions=True)

    def close(self, grace: float = 1.0) -> None:
        """Deliver what is queued (up to ``grace`` seconds), close every connection and stop the thread."""
        if self._loop.is_closed() or not self._thread.is_alive():
            return
        fut = asyncio.run_coroutine_threadsafe(self._shutdown(grace), self._loop)
        try:
            fut.result(timeout=grace + CLOSE_TIMEOUT + 3.0)
        except Exception:  # noqa: BLE001 - closing must not fail the run
            pass
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=3.0)


class RoiSinks(Sink):
    """Every ROI destination of a run, as one :class:`~streamseg.sinks.base.Sink`:
    :meth:`write` (or :meth:`send`) once per frame, :meth:`close` at the end (its report counts
    the messages sent). Without destinations it sends nothing and is false.

    ``sent_at`` is ``time.perf_counter()`` right after the last message was handed to every
    sink (written, sent, or queued for the WebSocket thread), for latency measurements.
    """

    def __init__(self, sinks: list[RoiChannel], source: str = "") -> None:
        self.sinks = sinks
        self.source = source
        self.sent = 0
        self.sent_at = 0.0

    def __bool__(self) -> bool:
        return bool(self.sinks)

    def write(self, result: Any) -> None:
        """The :class:`~streamseg.sinks.base.Sink` side: send ``result.rois`` (a FrameResult's message)."""
        self.send(result.rois)

    def send(self, message: dict[str, Any] | None) -> None:
        """Send one frame's message to every sink (``None``: nothing)."""
        if message is None or not self.sinks:
            return
        if self.source and not message.get("source"):
            message["source"] = self.source
        text = dumps(message)
        for s in self.sinks:
            s.send(message, text)
        self.sent += 1
        self.sent_at = time.perf_counter()

    def close(self) -> SinkReport:
        """Close every sink (the WebSocket server first delivers what it has queued)."""
        for s in self.sinks:
            try:
                s.close()
            except Exception as exc:  # noqa: BLE001
                log.warn(f"closing {getattr(s, 'name', s)}: {exc}")
        self.sinks = []
        return SinkReport(written=self.sent)


def _host_port(spec: str, scheme: str, allow_zero: bool) -> tuple[str, int, str]:
    try:
        parts = urlsplit(spec)
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"bad ROI sink {spec!r}: {exc}; {SPEC_HELP}") from exc
    if parts.scheme != scheme:
        raise ConfigError(f"bad ROI sink {spec!r}; {SPEC_HELP}")
    if port is None or (port == 0 and not allow_zero):
        raise ConfigError(f"ROI sink {spec!r} needs a port, e.g. {scheme}://127.0.0.1:{9000 if scheme == 'osc' else 8765}")
    if parts.query or parts.fragment or parts.username:
        raise ConfigError(f"bad ROI sink {spec!r}: only {scheme}://HOST:PORT is understood")
    return parts.hostname or DEFAULT_HOST, port, parts.path


def parse_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """``(kind, kwargs)`` of one sink spec; raises :class:`ConfigError` with a one-line reason.

    >>> parse_spec("osc://:9000")
    ('osc', {'host': '127.0.0.1', 'port': 9000, 'prefix': '/streamseg'})
    """
    s = spec.strip()
    if s.startswith("jsonl:"):
        target = s[len("jsonl:") :]
        if not target:
            raise ConfigError(f"ROI sink {spec!r} needs a file name or '-' for stdout (jsonl:-)")
        return "jsonl", {"target": target}
    if s.startswith("osc://"):
        host, port, path = _host_port(s, "osc", allow_zero=False)
        prefix = path.rstrip("/") or DEFAULT_OSC_PREFIX
        if any(c in prefix for c in " #*,?[]{}"):
            raise ConfigError(f"bad OSC address prefix {prefix!r} in {spec!r}")
        return "osc", {"host": host, "port": port, "prefix": prefix}
    if s.startswith("ws://"):
        host, port, path = _host_port(s, "ws", allow_zero=True)
        if path not in ("", "/"):
            raise ConfigError(f"bad ROI sink {spec!r}: the WebSocket server takes no path")
        return "ws", {"host": host, "port": port}
    raise ConfigError(f"unknown ROI sink {spec!r}; {SPEC_HELP}")


def roi_files(specs: list[str]) -> list[Path]:
    """The files the ``jsonl:FILE`` specs among ``specs`` write (``jsonl:-`` is stdout), for the
    run's output check (:func:`streamseg.sinks.output_path.check_outputs`) before anything opens.

    >>> roi_files(["jsonl:-", "jsonl:rois.jsonl,osc://:9000"])
    [PosixPath('rois.jsonl')]

    Raises:
        ConfigError: a spec is malformed.
    """
    parsed = [parse_spec(p) for spec in specs for p in str(spec).split(",") if p.strip()]
    return [Path(kw["target"]).expanduser() for kind, kw in parsed if kind == "jsonl" and kw["target"] != "-"]


def open_roi_sinks(specs: list[str], source: str = "") -> RoiSinks:
    """Open every sink named in ``specs`` (each may also hold several, comma-separated).

    Args:
        specs: e.g. ``["jsonl:-", "osc://127.0.0.1:9000", "ws://:8765"]``.
        source: the input's name, filled into messages that have none.

    Raises:
        ConfigError: a spec is malformed (one line naming it).
        OutputError: a file cannot be written or a port cannot be bound.
    """
    parsed = [parse_spec(p) for spec in specs for p in str(spec).split(",") if p.strip()]
    if sum(1 for kind, kw in parsed if kind == "jsonl" and kw["target"] == "-") > 1:
        raise ConfigError("jsonl:- given twice")
    opened: list[RoiChannel] = []
    try:
        for kind, kw in parsed:
            if kind == "jsonl":
                opened.append(JsonlSink(**kw))
            elif kind == "osc":
                opened.append(OscSink(**kw))
            else:
                opened.append(WebSocketSink(**kw))
                log.info(f"ROIs: WebSocket server on {opened[-1].name}")
    except BaseException:
        for s in opened:
            s.close()
        raise
    return RoiSinks(opened, source)
