"""The ``streamseg`` command line (typer).

Each command lives in its own module under :mod:`streamseg.commands` and exposes a function
named ``command``; heavy imports happen inside it so ``streamseg --help`` stays fast.
Errors reach the user as one line and a non-zero exit code, never a traceback
(set ``STREAMSEG_DEBUG=1`` to see one).
"""

from __future__ import annotations

import importlib
import os
import sys

# OpenCV's own warnings (e.g. "can't open camera by index") would duplicate our one-line errors.
os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")

import typer  # noqa: E402

from streamseg import log  # noqa: E402
from streamseg.errors import StreamsegError  # noqa: E402

app = typer.Typer(
    name="streamseg",
    help="Real-time skin segmentation for webcams, IP cameras, video files and images.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)

#: command name -> module under streamseg.commands
COMMANDS: dict[str, str] = {
    "video": "video",
    "webcam": "webcam",
    "image": "image",
    "methods": "methods",
    "fit": "fit",
    "train": "train",
    "export": "export",
    "eval": "evaluate",
    "bench": "bench",
    "pseudo-video": "pseudo_video",
}


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", help="Print the version and exit.", is_eager=True),
) -> None:
    """Real-time skin segmentation for webcams, IP cameras, video files and images.

    Examples:

        streamseg video                       # the demo clip -> mask video

        streamseg webcam --model dlmv

        streamseg methods
    """
    if version:
        from streamseg import __version__

        typer.echo(__version__)
        raise typer.Exit()


def _register() -> None:
    for name, module in COMMANDS.items():
        try:
            mod = importlib.import_module(f"streamseg.commands.{module}")
        except ModuleNotFoundError as exc:
            if exc.name == f"streamseg.commands.{module}":
                continue  # command not built yet
            raise
        app.command(name)(mod.command)


_register()


def main() -> None:
    """Console-script entry point."""
    debug = bool(os.environ.get("STREAMSEG_DEBUG"))
    try:
        app()
    except StreamsegError as exc:
        log.error(str(exc))
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        log.error("interrupted")
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - the user gets one line, not a traceback
        if debug:
            raise
        log.error(f"internal error: {type(exc).__name__}: {exc} (set STREAMSEG_DEBUG=1 for details)")
        sys.exit(1)


if __name__ == "__main__":
    main()
