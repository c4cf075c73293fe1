"""Thread counts per pipeline stage, so decoder, model and encoder do not oversubscribe the CPU.

A file run has three busy stages in three threads (decode, segment, encode). Each library
would otherwise size its own pool for the whole machine (FFmpeg: cores + 1, x264: 1.5 x cores,
ONNX Runtime: all physical cores with spinning workers), so on 2 cores eight threads fight
for two. :func:`plan` splits the cores instead; ``STREAMSEG_THREADS`` overrides any stage,
e.g. ``STREAMSEG_THREADS=decode=2,encode=1,infer=2`` (``0`` = the library's own default).
An explicit ``--threads N`` still sets the inference threads.

Example:
    >>> plan(2)
    ThreadPlan(decode=1, encode=1, infer=1)
    >>> plan(8)
    ThreadPlan(decode=2, encode=2, infer=4)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

ENV = "STREAMSEG_THREADS"


@dataclass(frozen=True)
class ThreadPlan:
    """Threads of the video decoder (FFmpeg), the encoder (x264) and ONNX Runtime's intra-op pool."""

    decode: int
    encode: int
    infer: int


def available_cores() -> int:
    """CPU cores this process may run on (its affinity mask, else ``os.cpu_count()``)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def plan(cores: int | None = None) -> ThreadPlan:
    """Half the cores to inference, a quarter each to decoding and encoding (at least 1 each),
    then any ``STREAMSEG_THREADS`` overrides.

    Raises:
        ValueError: a malformed ``STREAMSEG_THREADS``.
    """
    c = cores or available_cores()
    p = ThreadPlan(decode=max(1, c // 4), encode=max(1, c // 4), infer=max(1, c // 2))
    text = os.environ.get(ENV, "").strip()
    if not text:
        return p
    fields = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep or key not in ("decode", "encode", "infer") or not value.strip().isdigit():
            raise ValueError(f"{ENV}: expected e.g. decode=1,encode=1,infer=2, got {text!r}")
        fields[key] = int(value)
    return replace(p, **fields)
