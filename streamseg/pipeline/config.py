"""The run configuration: what a run is made of, from keyword options and a ``--config`` TOML
file, checked by one validator before anything loads; and the builders that turn it into parts.

A config file has up to four tables; options given directly win over the file:

- ``[method]``: ``name``, ``provider``, ``threads``, ``size``, ``batch``, ``strict``,
  ``params`` (classical parameter file), ``tta`` (``none`` or ``flip``) and method settings
  (``open``, ``blur``, ``backend``, ``model_selection``, ``io_binding``, ``postprocess``) handed
  to the method;
- ``[output]``: ``threshold``;
- ``[smooth]``: smoothing settings (checked by :mod:`streamseg.smooth.config`);
- ``[rois]``: ROI settings (checked by :class:`streamseg.rois.RoiOptions`).

Example:
    >>> cfg = RunConfig.make(method="ellipse", smooth="ema", smooth_params={"ema.alpha": 0.6})
    >>> cfg.method, cfg.smooth_params
    ('ellipse', {'ema.alpha': 0.6})
    >>> check_table({"threads": "two"}, {"threads": int}, "[method]")
    Traceback (most recent call last):
    ...
    streamseg.errors.ConfigError: [method] threads: must be an integer, got 'two'
    >>> check_value("threshold", 7, "run.toml [output]")
    Traceback (most recent call last):
    ...
    streamseg.errors.ConfigError: run.toml [output] threshold: must be a number in [0, 1], got 7
"""

from __future__ import annotations

import math
import numbers
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping, Sequence

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from streamseg.errors import ConfigError

#: the most accurate method that runs at <= 15 ms per frame on a 2-core laptop CPU (docs/eval.md):
#: val 0.810 / 3x3 mosaics 0.694 / darker skin 0.801 at 9.4 ms (2 threads), against dlmv's 0.742 / 0.544 / 0.730
DEFAULT_METHOD = "selfie-skin"

#: type names for messages
_TYPE_WORDS = {int: "an integer", float: "a number", str: "a string", bool: "true or false", dict: "a table", list: "a list"}

#: [method] keys that are MethodOptions fields, and the method settings passed on in ``extra``
METHOD_KEYS: dict[str, Any] = {
    "name": str, "provider": str, "threads": int, "size": int, "batch": int, "strict": bool, "fallback": bool, "params": str, "tta": str,
    "open": int, "blur": (int, float), "backend": str, "model_selection": int, "io_binding": bool, "postprocess": dict,
}
OUTPUT_KEYS: dict[str, Any] = {"threshold": (int, float)}
TABLES: dict[str, dict[str, Any] | None] = {"method": METHOD_KEYS, "output": OUTPUT_KEYS, "smooth": None, "rois": None}
_OPTION_FIELDS = ("name", "provider", "threads", "size", "batch", "strict", "fallback", "params", "tta")
#: the options :func:`check_value` checks, in a config file, on the command line and in the API
CHECKED_OPTIONS = ("threshold", "provider", "threads", "size", "batch", "tta", "strict", "fallback")
#: the most frames per inference (``--batch``)
MAX_BATCH = 64
#: the smallest model input size (``--size``)
MIN_SIZE = 16


def max_threads() -> int:
    """The most inference threads a run may ask for: the logical cores of this machine
    (``os.cpu_count()``). More threads than cores only fight over them, and a run of
    hundreds of threads stops answering Ctrl-C."""
    return max(1, os.cpu_count() or 1)


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_value(key: str, value: Any, where: str = "") -> Any:
    """The one check of a run option's type and range, the same for a config file's value, a
    command-line flag and a Python API argument: ``threshold`` (a finite number in [0, 1]),
    ``provider`` (:data:`streamseg.segment.providers.CHOICES`, ``cuda:N``, ``dml:N``),
    ``threads`` (0 = the library's default, at most :func:`max_threads`), ``size``
    (``None`` or at least :data:`MIN_SIZE`), ``batch`` (1 to :data:`MAX_BATCH`), ``tta``
    (a string, checked against the method later), ``strict`` and ``fallback`` (booleans or
    ``None``). Other keys pass unchecked.

    Args:
        key: the option's name. value: its value. where: what the message names before the
            key, e.g. ``"run.toml [method]"`` (empty for options given directly).

    Returns:
        ``value``, unchanged.

    Raises:
        ConfigError: ``<where> <key>: must be ..., got <value>``.
    """
    name = f"{where} {key}".strip()

    def bad(want: str) -> ConfigError:
        return ConfigError(f"{name}: must be {want}, got {value!r}")

    if key == "threshold":
        if not isinstance(value, numbers.Real) or isinstance(value, bool) or not math.isfinite(value) or not 0 <= value <= 1:
            raise bad("a number in [0, 1]")
    elif key == "threads":
        top = max_threads()
        if not _is_int(value) or not 0 <= value <= top:
            raise bad(f"an integer from 0 (the library's default) to {top} (the cores of this machine)")
    elif key == "batch":
        if not _is_int(value) or not 1 <= value <= MAX_BATCH:
            raise bad(f"an integer from 1 to {MAX_BATCH}")
    elif key == "size":
        if value is not None and (not _is_int(value) or value < MIN_SIZE):
            raise bad(f"an integer of at least {MIN_SIZE}")
    elif key == "provider":
        from streamseg.segment.providers import CHOICES, parse_provider

        try:
            if not isinstance(value, str):
                raise ConfigError("not a string")
            parse_provider(value)
        except ConfigError:
            raise bad(f"one of {', '.join(CHOICES)} (or cuda:N, dml:N)") from None
    elif key == "tta":
        if not isinstance(value, str):
            raise bad("a string (none or flip)")
    elif key in ("strict", "fallback"):
        if value is not None and not isinstance(value, bool):
            raise bad("true or false")
    return value


def _check_options(table: Mapping[str, Any], where: str) -> dict[str, Any]:
    """``table`` with every key of :data:`CHECKED_OPTIONS` in it checked by :func:`check_value`."""
    for key in CHECKED_OPTIONS:
        if key in table:
            check_value(key, table[key], where)
    return dict(table)


def check_table(table: Mapping[str, Any], schema: Mapping[str, Any], where: str) -> dict[str, Any]:
    """The one validator of config tables: every key known, every value of its type.

    Args:
        table: the values (from TOML or keyword options).
        schema: key -> type or tuple of types; ``None`` = any value.
        where: the table's name for messages, e.g. ``"[method]"``.

    Returns:
        A copy of ``table``.

    Raises:
        ConfigError: one line naming the first unknown key or wrong type.
    """
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where} must be a table")
    unknown = sorted(set(table) - set(schema))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(schema)}")
    for key, value in table.items():
        want = schema[key]
        if want is None:
            continue
        types = want if isinstance(want, tuple) else (want,)
        ok = isinstance(value, types) and not (isinstance(value, bool) and bool not in types)
        if not ok:
            words = " or ".join(_TYPE_WORDS.get(t, t.__name__) for t in types)
            raise ConfigError(f"{where} {key}: must be {words}, got {value!r}")
    return dict(table)


def parse_assignments(items: Sequence[str] | None, flag: str) -> dict[str, Any]:
    """``["a=1", "b.c=true", "d=x"]`` -> ``{"a": 1, "b.c": True, "d": "x"}`` (values read as TOML, else text).

    Raises:
        ConfigError: an item without ``=`` or without a key.
    """
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"{flag} {item!r}: expected KEY=VALUE")
        try:
            value = tomllib.loads(f"v = {raw.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw.strip()
        out[key.strip()] = value
    return out


def load_run_config(path: str | Path | None) -> dict[str, dict[str, Any]]:
    """Read and check a ``--config`` file: table name -> table (see the module doc).

    Raises:
        ConfigError: missing file, invalid TOML, an unknown table or key, a wrong type (named).
    """
    if path is None:
        return {}
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    unknown = sorted(set(data) - set(TABLES))
    if unknown:
        raise ConfigError(f"{path}: unknown table(s) {', '.join(unknown)}; known: {', '.join(TABLES)}")
    out: dict[str, dict[str, Any]] = {}
    for key, schema in TABLES.items():
        if key not in data:
            continue
        if not isinstance(data[key], dict):
            raise ConfigError(f"{path}: {key} must be a table ([{key}])")
        where = f"{path} [{key}]"
        out[key] = _check_options(check_table(data[key], schema, where), where) if schema is not None else dict(data[key])
    return out


@dataclass
class RunConfig:
    """Everything a run is made of except its source and destinations.

    Attributes:
        method: a registered method name or a path to an ``.onnx`` file.
        provider, threads, size, batch, params, tta: see :class:`~streamseg.segment.MethodOptions`.
        strict, fallback: what happens when the method cannot run. The default model (no method
            given) falls back to a classical method with a warning; a method the user named
            (option or ``[method] name``) is an error unless ``fallback`` is set. ``strict``
            makes the default model strict too. :meth:`make` resolves ``strict`` to a bool.
        method_settings: method-specific settings (``MethodOptions.extra``).
        threshold: skin probability threshold in [0, 1].
        smooth: ``none``, a smoother or a ``+``-combination; ``None`` = the default for the
            method's kind (``motion`` for models, ``motion+hysteresis`` for classical methods).
        smooth_params: smoothing setting overrides (``{"ema.alpha": 0.6}``).
        rois: ROI sink specs (``jsonl:-``, ``osc://HOST:PORT``, ``ws://HOST:PORT``).
        hands: 21 hand landmarks and gestures in the ROI messages.
        roi_options: ROI setting overrides.
    """

    method: str = DEFAULT_METHOD
    provider: str = "auto"
    threads: int = 0
    size: int | None = None
    batch: int = 1
    strict: bool | None = None
    fallback: bool = False
    params: Path | None = None
    tta: str = "none"
    method_settings: dict[str, Any] = field(default_factory=dict)
    threshold: float = 0.5
    smooth: str | None = None
    smooth_params: dict[str, Any] = field(default_factory=dict)
    rois: list[str] = field(default_factory=list)
    hands: bool = False
    roi_options: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def make(
        cls,
        config: str | Path | Mapping[str, Any] | None = None,
        *,
        smooth_params: Mapping[str, Any] | None = None,
        roi_options: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> "RunConfig":
        """Options over a config file (path, or its tables as a dict) over the defaults.

        ``options`` are the attributes above; ``None`` values mean "not given".

        Raises:
            ConfigError: an unknown option, a bad file, or a value of the wrong type or range.
        """
        tables = load_run_config(config) if not isinstance(config, Mapping) else {
            k: (_check_options(check_table(v, TABLES[k], f"[{k}]"), f"[{k}]") if TABLES.get(k) else dict(v))
            for k, v in config.items() if k in TABLES
        }
        if isinstance(config, Mapping) and set(config) - set(TABLES):
            raise ConfigError(f"unknown table(s) {', '.join(sorted(set(config) - set(TABLES)))}; known: {', '.join(TABLES)}")
        cfg = cls()
        method_table = dict(tables.get("method", {}))
        for key in _OPTION_FIELDS:
            if key in method_table:
                value = method_table.pop(key)
                setattr(cfg, "method" if key == "name" else key, Path(value) if key == "params" else value)
        cfg.method_settings = method_table
        if "threshold" in tables.get("output", {}):
            cfg.threshold = float(tables["output"]["threshold"])
        cfg.smooth_params = {**tables.get("smooth", {}), **dict(smooth_params or {})}
        cfg.roi_options = {**tables.get("rois", {}), **dict(roi_options or {})}
        known = {f for f in cls.__dataclass_fields__}
        bad = sorted(set(options) - known)
        if bad:
            raise ConfigError(f"unknown option(s) {', '.join(bad)}; known: {', '.join(sorted(known))}")
        for key, value in options.items():
            if value is not None:
                setattr(cfg, key, check_value(key, value))
        explicit = options.get("method") is not None or "name" in tables.get("method", {})
        if cfg.strict and cfg.fallback:
            raise ConfigError("--strict and --fallback contradict each other; give one")
        if cfg.strict is None:
            cfg.strict = explicit and not cfg.fallback
        cfg.strict = bool(cfg.strict)
        if cfg.method is None:
            cfg.method = DEFAULT_METHOD
        if isinstance(cfg.rois, str):
            cfg.rois = [cfg.rois]
        cfg.rois = list(cfg.rois or [])
        return cfg.check()

    def check(self) -> "RunConfig":
        """Check ranges and that the smoothing and ROI settings are valid, before any model loads.

        Raises:
            ConfigError: the first bad value, named.
        """
        for key in CHECKED_OPTIONS:  # a bad value is an error before anything loads
            check_value(key, getattr(self, key))
        if not isinstance(self.method, (str, Path)):
            raise ConfigError(f"method: must be a method name or a path to an .onnx file, got {self.method!r}")
        check_method_name(str(self.method), fallback=not self.strict)
        from streamseg.segment.registry import check_tta_for

        check_tta_for(str(self.method), self.tta)
        if self.smooth is not None or self.smooth_params:
            build_smoother(self, kind="model")  # settings are checked whatever the default smoother
        if self.rois or self.hands or self.roi_options:
            from streamseg.rois import RoiOptions

            RoiOptions.from_dict({**self.roi_options, "hands": self.hands or bool(self.roi_options.get("hands", False))}).validate()
        if self.hands:
            from streamseg.rois.blaze import unavailable_reason

            reason = unavailable_reason(hands=True)
            if reason:
                from streamseg.errors import MethodError

                raise MethodError(f"--hands: {reason}")
        return self

    def method_options(self, batch: int | None = None):
        """The :class:`~streamseg.segment.MethodOptions` of this run."""
        from streamseg.segment import MethodOptions

        return MethodOptions(
            provider=self.provider, threads=self.threads, size=self.size, batch=batch or self.batch,
            strict=bool(self.strict), fallback=bool(self.fallback), params=self.params, tta=self.tta, extra=dict(self.method_settings),
        )

    def with_(self, **changes: Any) -> "RunConfig":
        """A copy with some attributes changed."""
        return replace(self, **changes)


def check_method_name(name: str, fallback: bool = False) -> None:
    """Cheap checks of a method name before anything loads: a registered name, or a model
    file that exists (a missing file is only let through when it may fall back).

    Raises:
        MethodError: unknown name, or a model path that does not exist.
    """
    from streamseg.errors import MethodError
    from streamseg.segment.registry import BUILTIN, SHIPPED_MODELS, _is_model_path, method_names

    if name in BUILTIN or name in SHIPPED_MODELS:
        return
    if _is_model_path(name):
        if not fallback and not Path(name).is_file():
            what = "is a directory, not a model file" if Path(name).is_dir() else "not found"
            raise MethodError(f"model file {what}: {name}")
        return
    if name not in method_names():
        known = ", ".join(method_names())
        raise MethodError(f"unknown method {name!r}; known: {known} (or a path to an .onnx file)")


def build_smoother(cfg: RunConfig, kind: str = "model"):
    """The smoother of ``cfg`` for a method of ``kind``, or ``None`` for ``none``.

    The default per kind is the one policy of :data:`streamseg.smooth.DEFAULT_SMOOTH_BY_KIND`;
    a hysteresis band follows the run's threshold unless set explicitly.
    """
    from streamseg.smooth import DEFAULT_SMOOTH, DEFAULT_SMOOTH_BY_KIND, make_smoother, parse_spec

    spec = cfg.smooth or DEFAULT_SMOOTH_BY_KIND.get(kind, DEFAULT_SMOOTH)
    if spec == "none":
        return None
    params = dict(cfg.smooth_params or {})
    if parse_spec(spec)[1] and not any(k.startswith("hysteresis") or k == "threshold" for k in params):
        params["hysteresis.threshold"] = cfg.threshold
    return make_smoother(spec, params or None)


def build_rois(cfg: RunConfig, source: str):
    """(roi_stage, roi_sinks) of ``cfg``; (None, None) without ``rois`` and ``hands``."""
    if not cfg.rois and not cfg.hands:
        return None, None
    from streamseg.rois import RoiOptions, RoiStage, open_roi_sinks

    values = dict(cfg.roi_options)
    values["hands"] = cfg.hands or bool(values.get("hands", False))
    stage = RoiStage(RoiOptions.from_dict(values).validate())
    sinks = open_roi_sinks(list(cfg.rois), source=source)
    return stage, sinks
