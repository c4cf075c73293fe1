"""What a ``streamseg serve`` process runs with: the method and its options, the defaults of a
request, and the bounds that keep one worker's memory and queue finite.

Example:
    >>> s = ServeSettings(method="ellipse-diag", max_concurrent=2)
    >>> ServeSettings.from_json(s.to_json()) == s
    True
    >>> s.max_pixels
    25000000
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from streamseg.errors import ConfigError

#: the environment variable that hands the settings to uvicorn's worker processes
ENV_SETTINGS = "STREAMSEG_SERVE_SETTINGS"


@dataclass(frozen=True)
class ServeSettings:
    """Settings of one server (every worker process has the same).

    Args:
        method: method name or ``.onnx`` path (``None``: the default model).
        options: method options as :func:`streamseg.new_session` takes them (``provider``,
            ``threads``, ``size``, ``tta``, ``quality``, ``strict``, ``fallback``).
        threshold: the default ``threshold`` of a request (``None``: the run's default, 0.5).
        feather: the default ``feather`` of ``output=alpha`` (``None``: the effect's default).
        max_concurrent: requests one worker handles at once; past it, 503 with ``Retry-After``.
        max_bytes: the largest request body.
        max_megapixels: the largest image (width x height from its header, before decoding).
        read_timeout_s: a body that takes longer to arrive gets 408.
        max_connections: open connections one worker accepts (uvicorn answers 503 past it).
    """

    method: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    threshold: float | None = None
    feather: float | None = None
    max_concurrent: int = 4
    max_bytes: int = 20 * 1024 * 1024
    max_megapixels: float = 25.0
    read_timeout_s: float = 30.0
    max_connections: int = 256

    def __post_init__(self) -> None:
        checks = [
            ("threshold", self.threshold is None or 0.0 <= self.threshold <= 1.0, "must be in [0, 1]"),
            ("max_concurrent", self.max_concurrent >= 1, "must be at least 1"),
            ("max_bytes", self.max_bytes >= 1, "must be at least 1"),
            ("max_megapixels", self.max_megapixels > 0, "must be above 0"),
            ("read_timeout_s", self.read_timeout_s > 0, "must be above 0"),
            ("max_connections", self.max_connections > self.max_concurrent, "must be above max_concurrent"),
            ("feather", self.feather is None or self.feather >= 0, "must be at least 0"),
        ]
        for name, ok, why in checks:
            if not ok:
                raise ConfigError(f"serve {name} {getattr(self, name)}: {why}")

    def __hash__(self) -> int:
        return hash(self.to_json())

    @property
    def max_pixels(self) -> int:
        return int(self.max_megapixels * 1_000_000)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "ServeSettings":
        return cls(**json.loads(text))
