"""streamseg's messages, through :mod:`logging` (logger ``streamseg``).

The library prints nothing of its own: what it logs goes where the application's logging
configuration sends it (without one, Python shows warnings and above on stderr, as it does for
any library). The CLI shows the messages with :func:`to_console`: informational lines as they
are, warnings as ``warning: ...``, on stderr (rich).

Example:
    >>> import logging
    >>> logging.getLogger("streamseg").isEnabledFor(logging.INFO)   # quiet unless asked
    False
"""

from __future__ import annotations

import logging
import os
import sys
from contextlib import contextmanager
from typing import Iterator

from rich.console import Console

console = Console(stderr=True, highlight=False)
logger = logging.getLogger("streamseg")


def info(msg: str) -> None:
    """An informational line (what runs, where output went); shown by the CLI."""
    logger.info(msg)


def warn(msg: str) -> None:
    """A one-line warning; the job goes on."""
    logger.warning(msg)


def notice(msg: str) -> None:
    """A line the user asked for (an ``--alert-above`` event): logged at WARNING level, so it
    shows wherever warnings do, and shown by the CLI as it is."""
    logger.warning(msg, extra={"plain": True})


def error(msg: str) -> None:
    """The CLI's one-line error (the caller exits non-zero)."""
    console.print(f"[red]error:[/red] {escape(msg)}", soft_wrap=True)
    sys.stderr.flush()


def escape(msg: str) -> str:
    from rich.markup import escape as _escape

    return _escape(str(msg))


class _ConsoleHandler(logging.Handler):
    """streamseg's records on :data:`console`: INFO as it is, WARNING as ``warning: ...``."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            msg = record.getMessage()
            if record.levelno >= logging.WARNING and not getattr(record, "plain", False):
                console.print(f"[yellow]warning:[/yellow] {escape(msg)}", soft_wrap=True)
            else:
                console.print(msg, markup=False, soft_wrap=True)
        except Exception:  # noqa: BLE001 - logging must never break the run
            self.handleError(record)


def show_on_console(level: int = logging.INFO) -> logging.Handler:
    """Show streamseg's records from ``level`` up on stderr (the CLI's and the server's lines)
    rather than hand them to the application's logging. Returns the handler (see :func:`to_console`)."""
    handler = _ConsoleHandler(level)
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    logger.disabled = False  # logging.config's disable_existing_loggers may have switched it off
    return handler


@contextmanager
def to_console(level: int = logging.INFO) -> Iterator[None]:
    """:func:`show_on_console` inside the block; as it was after."""
    before = logger.level, logger.propagate, logger.disabled
    handler = show_on_console(level)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(before[0])
        logger.propagate, logger.disabled = before[1], before[2]


#: lines that libraries write straight to file descriptor 2 (not through Python): glog/absl
#: (``W0000 00:00:…``), TFLite (``INFO: Created TensorFlow Lite…``), FFmpeg (``[tcp @ 0x…]``),
#: OpenCV (``[ WARN:0@0.04]``, ``[ERROR:0@0.6]``), libpng and libjpeg inside OpenCV
LIBRARY_LINE = (
    r"^(?:[IWEF]\d{4} \d\d:\d\d:\d\d"
    r"|INFO: |WARNING: All log messages before absl"
    r"|\[[\w\s./:-]+ @ (?:0x)?[0-9a-fA-F]+\]"
    r"|\[ ?(?:WARN|ERROR|INFO|DEBUG|FATAL):\d+@"
    r"|libpng (?:warning|error): |Corrupt JPEG data: |Premature end of JPEG file)"
)

_quiet = False


def quiet_libraries(verbose: bool = False) -> None:
    """Keep library log output off the terminal, so a fault reads as one ``error:`` line.

    Sets the log levels of OpenCV (and its FFmpeg), PyAV, absl/glog (MediaPipe), TFLite and
    ONNX Runtime before they are imported, ignores Python warnings raised outside streamseg
    (setuptools/pkg_resources banners, deprecations), and, when stderr is the process's own,
    filters the lines C++ code writes straight to file descriptor 2 (:data:`LIBRARY_LINE`).
    ``verbose`` (``--verbose``, ``STREAMSEG_VERBOSE=1``, ``STREAMSEG_DEBUG=1``) leaves all of
    it as the libraries have it.
    """
    global _quiet

    if verbose or _quiet:
        return
    _quiet = True
    for key, value in {
        "OPENCV_LOG_LEVEL": "SILENT",
        "OPENCV_FFMPEG_LOGLEVEL": "-8",  # AV_LOG_QUIET
        "OPENCV_VIDEOIO_DEBUG": "0",
        "GLOG_minloglevel": "3",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "ORT_LOGGING_LEVEL": "3",
    }.items():
        os.environ[key] = value if key not in _USER_ENV else _USER_ENV[key]
    import warnings

    warnings.filterwarnings("ignore", module=r"(?!streamseg)")
    if "cv2" in sys.modules and "OPENCV_LOG_LEVEL" not in _USER_ENV:
        _opencv_log_level(0)  # imported already: the environment variable comes too late
    if "av" in sys.modules:
        try:
            sys.modules["av"].logging.set_level(None)
        except Exception:  # noqa: BLE001
            pass
    try:
        from absl import logging as absl_logging  # mediapipe's Python side

        absl_logging.set_verbosity(absl_logging.ERROR)
    except Exception:  # noqa: BLE001 - absl is optional
        pass
    if sys.stderr is sys.__stderr__:
        _filter_fd2()


def _opencv_log_level(level: int) -> int | None:
    """Set OpenCV's log level (0 = silent) and return the one before; ``None`` when this OpenCV
    has no such call (``cv2.setLogLevel`` up to 4.11, ``cv2.utils.logging`` from 4.12)."""
    import cv2

    ul = getattr(getattr(cv2, "utils", None), "logging", None)
    get, put = (ul.getLogLevel, ul.setLogLevel) if hasattr(ul, "setLogLevel") else (
        getattr(cv2, "getLogLevel", None), getattr(cv2, "setLogLevel", None)
    )
    if get is None or put is None:
        return None
    try:
        before = int(get())
        put(level)
    except Exception:  # noqa: BLE001 - an OpenCV build without logging
        return None
    return before


@contextmanager
def opencv_silenced() -> Iterator[None]:
    """OpenCV's own log lines off inside the block (opening a camera: OpenCV >= 4.12 logs every
    backend it tries, over several lines), the level restored after. Only where
    :func:`quiet_libraries` quietened the libraries: ``--verbose`` shows them."""
    if not _quiet or "OPENCV_LOG_LEVEL" in _USER_ENV:
        yield
        return
    before = _opencv_log_level(0)
    try:
        yield
    finally:
        if before is not None:
            _opencv_log_level(before)


#: environment values the user set before streamseg started (they win over ours)
_USER_ENV = {
    k: v
    for k, v in os.environ.items()
    if k in ("OPENCV_LOG_LEVEL", "OPENCV_FFMPEG_LOGLEVEL", "OPENCV_VIDEOIO_DEBUG", "GLOG_minloglevel", "TF_CPP_MIN_LOG_LEVEL", "ORT_LOGGING_LEVEL")
}


def _filter_fd2() -> None:
    """Route file descriptor 2 through a thread that drops :data:`LIBRARY_LINE` lines; Python's
    ``sys.stderr`` (our messages, tracebacks with ``STREAMSEG_DEBUG``) keeps the real stream."""
    import re
    import threading

    if os.name == "nt":
        return
    try:
        sys.stderr.flush()
        real = os.dup(2)
        r, w = os.pipe()
        os.dup2(w, 2)
        os.close(w)
    except OSError:
        return
    enc = getattr(sys.__stderr__, "encoding", None) or "utf-8"
    sys.stderr = open(real, "w", buffering=1, encoding=enc, errors="backslashreplace", closefd=False)  # noqa: SIM115
    pattern = re.compile(LIBRARY_LINE.encode())

    def pump() -> None:
        buf = b""
        while True:
            try:
                chunk = os.read(r, 65536)
            except OSError:
                return
            if not chunk:
                break
            buf += chunk
            *lines, buf = buf.split(b"\n")
            out = b"".join(line + b"\n" for line in lines if not pattern.match(line))
            if out:
                try:
                    os.write(real, out)
                except OSError:
                    pass
        if buf and not pattern.match(buf):
            os.write(real, buf)

    threading.Thread(target=pump, name="streamseg-stderr-filter", daemon=True).start()
