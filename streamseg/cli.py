"""The ``streamseg`` command line (typer).

Each command lives in its own module under :mod:`streamseg.commands` and exposes a function
named ``command``; heavy imports happen inside it so ``streamseg --help`` stays fast.
Errors reach the user as one line and a non-zero exit code, never a traceback
(set ``STREAMSEG_DEBUG=1`` to see one).
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys

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
    "batch": "batch",
    "webcam": "webcam",
    "image": "image",
    "serve": "serve",
    "methods": "methods",
    "fit": "fit",
    "train": "train",
    "export": "export",
    "eval": "evaluate",
    "bench": "bench",
    "pseudo-video": "pseudo_video",
}


def _print_version(value: bool) -> None:
    if value:
        from streamseg import __version__

        typer.echo(f"streamseg {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", help="Print the version and exit.", is_eager=True, callback=_print_version, metavar=""
    ),
    verbose: bool = typer.Option(
        False, "--verbose", help="Show the libraries' own log lines (OpenCV, FFmpeg, MediaPipe); also after a command.", metavar=""
    ),
) -> None:
    """Real-time skin segmentation for webcams, IP cameras, video files and images.

    Examples:

        streamseg video                       # the demo clip -> mask video

        streamseg webcam --model dlmv

        streamseg methods
    """


def _register() -> None:
    for name, module in COMMANDS.items():
        try:
            mod = importlib.import_module(f"streamseg.commands.{module}")
        except ModuleNotFoundError as exc:
            if exc.name == f"streamseg.commands.{module}":
                continue  # command not built yet
            raise
        app.command(name, short_help=_first_paragraph(mod.command.__doc__))(mod.command)


def _first_paragraph(doc: str | None) -> str | None:
    """The first paragraph of a command's docstring on one line: the command list shows it as
    it is, so a docstring wrapped in the source would be wrapped mid-sentence there."""
    if not doc:
        return None
    return " ".join(inspect.cleandoc(doc).split("\n\n", 1)[0].split())


_register()


#: words a user may put after a flag (``--strict true``), which would become an argument
_BOOL_WORDS = {"true", "false", "yes", "no", "on", "off"}


def _command():
    """The click command of :data:`app`, flags shown without a ``<bool>`` metavar (it invites
    ``--strict true``); and the names of every flag."""
    cmd = typer.main.get_command(app)
    flags: set[str] = set()
    groups = [cmd]
    while groups:
        group = groups.pop()
        for param in group.params:
            if getattr(param, "is_flag", False) and getattr(param, "opts", None):
                flags.update(param.opts)
                flags.update(param.secondary_opts)
                if param.metavar is None:
                    param.metavar = ""
        groups += list(getattr(group, "commands", {}).values())
        group.get_help_option = _without_metavar(group.get_help_option)
    return cmd, flags


def _without_metavar(get_help_option):
    def wrapped(ctx):
        opt = get_help_option(ctx)
        if opt is not None and getattr(opt, "metavar", None) is None:
            opt.metavar = ""
        return opt

    return wrapped


def _click_errors():
    """The exceptions module of the click that typer runs on (typer may bundle its own)."""
    try:
        from typer._click import exceptions
    except ImportError:
        from click import exceptions
    return exceptions


def _check_flag_values(argv: list[str], flags: set[str]) -> None:
    """``--strict true`` -> one error naming the flag (else ``true`` is read as the input)."""
    from streamseg.errors import ConfigError

    for flag, value in zip(argv, argv[1:]):
        if flag in flags and value.lower() in _BOOL_WORDS:
            raise ConfigError(f"{flag} is a switch and takes no value: write {flag} alone, not {flag} {value}")


def _reopen_closed_streams() -> None:
    """A run started with stdin, stdout or stderr closed gets ``os.devnull`` on that file
    descriptor, so no file the run opens takes it (library log lines and our messages would be
    written into it). With stderr closed the messages go nowhere and the exit code alone says
    what happened; with stdout closed ``sys.stdout`` stays ``None``, so what must write there
    (``--rois jsonl:-``) refuses with an error on stderr."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - for the life of the process


def main() -> None:
    """Console-script entry point."""
    _reopen_closed_streams()
    debug = bool(os.environ.get("STREAMSEG_DEBUG"))
    verbose = debug or bool(os.environ.get("STREAMSEG_VERBOSE")) or "--verbose" in sys.argv[1:]
    if "--verbose" in sys.argv[1:]:
        sys.argv = [sys.argv[0], *(a for a in sys.argv[1:] if a != "--verbose")]
    log.quiet_libraries(verbose)
    with log.to_console():
        _run(debug)


def _run(debug: bool) -> None:
    """The command of ``sys.argv``; every error ends as one line and an exit code."""
    try:
        cmd, flags = _command()
        _check_flag_values(sys.argv[1:], flags)
        try:
            code = cmd(standalone_mode=False)
        except _click_errors().ClickException as exc:  # a usage error: one line, not a box
            if exc.format_message().strip() and type(exc).__name__ != "NoArgsIsHelpError":
                sub = next((a for a in sys.argv[1:] if a in COMMANDS), None)
                log.error(f"{exc.format_message()} (see streamseg {sub + ' ' if sub else ''}--help)")
            sys.exit(exc.exit_code)
        except typer.Abort:
            raise KeyboardInterrupt from None
        if isinstance(code, int) and code:
            sys.exit(code)
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
