"""Run the server: listen (127.0.0.1 by default), load the method, hand the socket to uvicorn
(one process, or ``workers`` processes that share it, each loading the method once), and stop
cleanly on SIGTERM or Ctrl-C (requests in flight are finished first).

uvicorn's own log lines (start-up banner, access log, warnings about bad requests) are off
unless ``access_log`` or ``--verbose``; what the user sees is one line when the server is
ready and one when it stops.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import signal
import socket
import sys
from typing import Any, Callable, Iterator

from streamseg import log
from streamseg.errors import ConfigError
from streamseg.serve.settings import ENV_SETTINGS, ServeSettings

#: the line printed when serve runs without its extra
SERVE_MISSING = "streamseg serve needs FastAPI and uvicorn: pip install 'streamseg[serve]'"
#: seconds requests in flight get to finish after SIGTERM / Ctrl-C
GRACEFUL_S = 10


def check_installed() -> None:
    """Raises ConfigError with the install hint when FastAPI, uvicorn or python-multipart is missing."""
    try:
        import fastapi  # noqa: F401
        import python_multipart  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise ConfigError(SERVE_MISSING) from None


def log_config(access_log: bool) -> dict[str, Any]:
    """uvicorn's logging: its loggers silent, the access log (one line per request) on request."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"access": {"format": "%(message)s"}},
        "handlers": {
            "null": {"class": "logging.NullHandler"},
            "access": {"class": "logging.StreamHandler", "formatter": "access", "stream": "ext://sys.stderr"},
        },
        "loggers": {
            "uvicorn": {"handlers": ["null"], "level": "CRITICAL", "propagate": False},
            "uvicorn.error": {"handlers": ["null"], "level": "CRITICAL", "propagate": False},
            "uvicorn.asgi": {"handlers": ["null"], "level": "CRITICAL", "propagate": False},
            "uvicorn.access": {"handlers": ["access" if access_log else "null"], "level": "INFO" if access_log else "CRITICAL", "propagate": False},
        },
    }


def listen(host: str, port: int, backlog: int = 128) -> socket.socket:
    """A listening TCP socket on ``host:port`` (``port`` 0: any free port).

    Raises:
        ConfigError: the address cannot be used (in use, not this machine's, no permission).
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ConfigError(f"--host {host}: {exc.strerror or exc}") from None
    family, _, _, _, addr = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(addr)
        sock.listen(backlog)
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"


@contextlib.contextmanager
def _quiet_stop() -> Iterator[None]:
    """SIGTERM and SIGINT end the run like a normal return: uvicorn shuts down on them, then
    re-raises them to the handlers it found, which here do nothing (the default SIGTERM
    handler would kill the process, Python's SIGINT one raise KeyboardInterrupt)."""
    sigs = [signal.SIGINT, signal.SIGTERM]
    old = {s: signal.signal(s, lambda *_: None) for s in sigs}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def run_server(
    settings: ServeSettings,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    access_log: bool = False,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve until SIGTERM or Ctrl-C.

    Args:
        settings: the method, limits and request defaults. host, port: where to listen
            (port 0: any free port; the URL is in the ready line). workers: processes, each
            with its own method and its own bound of ``settings.max_concurrent`` requests.
        access_log: one line per request on stderr. on_ready: called with the URL when listening.

    Raises:
        ConfigError: FastAPI/uvicorn missing, or the address cannot be used.
        StreamsegError: the method cannot load.
    """
    check_installed()
    import uvicorn

    from streamseg.serve.app import create_app
    from streamseg.serve.engine import Engine

    if workers < 1:
        raise ConfigError(f"--workers {workers}: must be at least 1")
    verbose = not getattr(log, "_quiet", True)
    engine = Engine(settings)  # a method that cannot load is one error line, before listening
    logging_kw: dict[str, Any] = {} if verbose else {"log_config": log_config(access_log)}
    common = dict(
        access_log=access_log or verbose, limit_concurrency=settings.max_connections, server_header=False,
        timeout_graceful_shutdown=GRACEFUL_S, lifespan="off", **logging_kw,
    )
    sock = listen(host, port)
    url = url_of(sock)
    bound = f"up to {settings.max_concurrent} requests at once" + (" per worker" if workers > 1 else "")
    log.info(
        f"serving {engine.name} on {engine.provider} at {url} ({workers} worker{'s' if workers != 1 else ''}, {bound}; "
        f"docs: {url}/docs); Ctrl-C or SIGTERM stops it"
    )
    if on_ready is not None:
        on_ready(url)
    try:
        with _quiet_stop():
            if workers == 1:
                server = uvicorn.Server(uvicorn.Config(create_app(settings, engine), **common))
                server.run(sockets=[sock])
            else:
                from uvicorn.supervisors import Multiprocess

                del engine  # each worker process loads its own
                os.environ[ENV_SETTINGS] = settings.to_json()
                if verbose:
                    os.environ["STREAMSEG_VERBOSE"] = "1"
                config = uvicorn.Config("streamseg.serve.app:app_from_env", factory=True, workers=workers, **common)
                if "target" in inspect.signature(Multiprocess).parameters:  # uvicorn before 0.53 takes the target
                    Multiprocess(config, target=uvicorn.Server(config).run, sockets=[sock]).run()
                else:
                    Multiprocess(config, sockets=[sock]).run()
    finally:
        sock.close()
    log.info("stopped")
    sys.stderr.flush()
