"""Errors that reach the user as one line and a non-zero exit code (never a traceback)."""

from __future__ import annotations


class StreamsegError(Exception):
    """A problem the user can act on; the CLI prints ``error: <message>`` and exits with ``exit_code``."""

    exit_code = 2


class InputError(StreamsegError):
    """The input (file, camera, stream, image) cannot be opened or decoded."""


class FrameError(InputError, ValueError):
    """A frame given to the Python API is not BGR uint8 (H, W, 3) with H and W at least 1 (a
    ``ValueError`` too, for callers that catch that)."""


class OutputError(StreamsegError):
    """The output cannot be written (permissions, disk full, already exists...)."""


class MethodError(StreamsegError):
    """A segmentation method or model cannot be created or run."""


class ConfigError(StreamsegError):
    """A config file or option value is invalid; the message names the key."""


class IncompleteError(StreamsegError):
    """The job ran, but part of the input was lost (e.g. a truncated video)."""

    exit_code = 3


class Interrupted(StreamsegError):
    """Stopped by Ctrl-C or SIGTERM after finalising what was already processed."""

    exit_code = 130
