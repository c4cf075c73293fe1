"""The checks behind :meth:`streamseg.pipeline.spec.RunSpec.make`, the one validator of a
run's options: :func:`check_value` (one option's type and range, the same for a config file's
value, a command-line flag and a Python API argument), :func:`check_table` (a config table's
keys and types), :func:`load_run_config` (a ``--config`` TOML file) and
:func:`check_method_name`.

A config file has up to four tables; options given directly win over the file:

- ``[method]``: ``name``, ``provider``, ``threads``, ``size``, ``batch``, ``strict``,
  ``params`` (classical parameter file), ``tta`` (``none`` or ``flip``), ``quality``
  (``fast``, ``balanced`` or ``best``) and method settings
  (``open``, ``blur``, ``backend``, ``model_selection``, ``io_binding``, ``postprocess``) handed
  to the method;
- ``[output]``: ``threshold``, ``types``, the effect settings (``feather``, ``strength``,
  ``overlay_color``, ``overlay_alpha``, ``outline``), the encoder's (``codec``, ``crf``,
  ``bitrate``, ``preset``), ``hud`` and ``alert_above``;
- ``[smooth]``: ``mode`` (what ``--smooth`` takes) and smoothing settings (checked by
  :mod:`streamseg.smooth.config`);
- ``[rois]``: ROI settings (checked by :class:`streamseg.rois.RoiOptions`).

Example:
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
from pathlib import Path
from typing import Any, Mapping, Sequence

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from streamseg.errors import ConfigError

#: the most accurate method within the per-frame budget of a 2-core laptop CPU: it leads the
#: val, mosaic and darker-skin proxies at a fraction of that budget (scores and latency: docs/eval.md)
DEFAULT_METHOD = "selfie-skin"

#: type names for messages
_TYPE_WORDS = {int: "an integer", float: "a number", str: "a string", bool: "true or false", dict: "a table", list: "a list"}

#: [method] keys that are MethodOptions fields, and the method settings passed on in ``extra``
METHOD_KEYS: dict[str, Any] = {
    "name": str, "provider": str, "threads": int, "size": int, "batch": int, "strict": bool, "fallback": bool, "params": str, "tta": str, "quality": str,
    "open": int, "blur": (int, float), "backend": str, "model_selection": int, "io_binding": bool, "postprocess": dict,
}
OUTPUT_KEYS: dict[str, Any] = {
    "threshold": (int, float), "types": (str, list), "feather": (int, float), "strength": (int, float), "overlay_color": str,
    "overlay_alpha": (int, float), "outline": bool, "codec": str, "crf": int, "bitrate": str, "preset": str, "hud": bool,
    "alert_above": (int, float),
}
TABLES: dict[str, dict[str, Any] | None] = {"method": METHOD_KEYS, "output": OUTPUT_KEYS, "smooth": None, "rois": None}
#: the most frames per inference (``--batch``)
MAX_BATCH = 64
#: the smallest model input size (``--size``) and camera width or height (``--width``)
MIN_SIZE = 16
#: the constant rate factors x264 and x265 take (``--crf``)
CRF_RANGE = (0, 51)


def max_threads() -> int:
    """The most inference threads a run may ask for: the logical cores of this machine
    (``os.cpu_count()``). More threads than cores only fight over them, and a run of
    hundreds of threads stops answering Ctrl-C."""
    return max(1, os.cpu_count() or 1)


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def _fraction(value: Any) -> str | None:
    return None if _is_number(value) and 0 <= value <= 1 else "a number in [0, 1]"


def _switch(value: Any) -> str | None:
    return None if value is None or isinstance(value, bool) else "true or false"


def _text(value: Any) -> str | None:
    return None if isinstance(value, str) else "a string"


def _positive(value: Any) -> str | None:
    return None if _is_number(value) and value > 0 else "a number above 0"


def _count(value: Any) -> str | None:
    return None if _is_int(value) and value >= 1 else "an integer of at least 1"


def _path(value: Any) -> str | None:
    return None if isinstance(value, (str, Path)) and str(value) else "a path"


def _threads(value: Any) -> str | None:
    top = max_threads()
    return None if _is_int(value) and 0 <= value <= top else f"an integer from 0 (the library's default) to {top} (the cores of this machine)"


def _batch(value: Any) -> str | None:
    return None if _is_int(value) and 1 <= value <= MAX_BATCH else f"an integer from 1 to {MAX_BATCH}"


def _size(value: Any) -> str | None:
    return None if value is None or (_is_int(value) and value >= MIN_SIZE) else f"an integer of at least {MIN_SIZE}"


def _crf(value: Any) -> str | None:
    lo, hi = CRF_RANGE
    return None if _is_int(value) and lo <= value <= hi else f"an integer from {lo} to {hi}"


def _provider(value: Any) -> str | None:
    from streamseg.segment.providers import CHOICES, parse_provider

    try:
        if not isinstance(value, str):
            raise ConfigError("not a string")
        parse_provider(value)
    except ConfigError:
        return f"one of {', '.join(CHOICES)} (or cuda:N, dml:N)"
    return None


def _quality(value: Any) -> str | None:
    from streamseg.segment.quality import QUALITIES

    return None if value in QUALITIES else f"{', '.join(QUALITIES[:-1])} or {QUALITIES[-1]}"


def _method(value: Any) -> str | None:
    return None if isinstance(value, (str, Path)) and str(value) else "a method name or a path to an .onnx file"


def _types(value: Any) -> str | None:
    ok = isinstance(value, str) or (isinstance(value, (list, tuple)) and all(isinstance(t, str) for t in value))
    return None if ok else "output type names (a list, or comma-separated)"


def _rois(value: Any) -> str | None:
    ok = isinstance(value, str) or (isinstance(value, (list, tuple)) and all(isinstance(t, str) for t in value))
    return None if ok else "ROI sink specs (jsonl:-, jsonl:FILE, osc://HOST:PORT, ws://HOST:PORT)"


def _table(value: Any) -> str | None:
    return None if isinstance(value, Mapping) else "a table of settings"


def _colour(value: Any) -> str | None:
    ok = isinstance(value, str) or (isinstance(value, tuple) and len(value) == 3)
    return None if ok else "a colour name, #RRGGBB, R,G,B or a (B, G, R) tuple"


def _pixels(value: Any) -> str | None:
    return None if _is_number(value) and value >= 0 else "a number of pixels >= 0"


def _tta(value: Any) -> str | None:
    return None if isinstance(value, str) else "a string (none or flip)"


def _side(value: Any) -> str | None:
    return None if value is None or (_is_int(value) and value >= MIN_SIZE) else f"an integer of at least {MIN_SIZE}"


#: option -> check (``None`` when the value is good, else what it must be); :func:`check_value`
CHECKS: dict[str, Any] = {
    "method": _method, "provider": _provider, "threads": _threads, "size": _size, "batch": _batch, "tta": _tta,
    "quality": _quality, "strict": _switch, "fallback": _switch, "params": _path, "method_settings": _table,
    "smooth": _text, "smooth_params": _table,
    "output_types": _types, "output_type": _types, "threshold": _fraction, "feather": _pixels,
    "strength": _fraction, "overlay_color": _colour, "overlay_alpha": _fraction, "outline": _switch,
    "codec": _text, "crf": _crf, "bitrate": _text, "preset": _text, "hud": _switch, "stats_csv": _path, "alert_above": _fraction,
    "rois": _rois, "hands": _switch, "roi_options": _table,
    "width": _side, "height": _side, "fps": _positive, "mjpg": _switch, "reconnect": _switch, "timeout": _positive, "loop": _switch,
    "max_frames": _count, "duration": _positive, "status": _switch, "status_interval": _positive,
    "virtual_cam": _switch, "virtual_cam_device": _text, "virtual_cam_backend": _text,
    "workers": _count, "ray_address": _text, "force": _switch, "chunk": _count,
}


#: options whose messages name their command-line flag when given directly (the effect settings
#: are known by their flags)
FLAG_NAMES = {
    "feather": "--feather", "strength": "--strength", "overlay_color": "--overlay-color", "overlay_alpha": "--overlay-alpha",
    "outline": "--outline", "alert_above": "--alert-above",
}


def check_value(key: str, value: Any, where: str = "") -> Any:
    """The one check of a run option's type and range (:data:`CHECKS`), the same for a config
    file's value, a command-line flag and a Python API argument: ``threshold`` and the other
    fractions (finite numbers in [0, 1]), ``provider`` (:data:`streamseg.segment.providers.CHOICES`,
    ``cuda:N``, ``dml:N``), ``threads`` (0 = the library's default, at most :func:`max_threads`),
    ``size`` (``None`` or at least :data:`MIN_SIZE`), ``batch`` (1 to :data:`MAX_BATCH`),
    ``crf`` (:data:`CRF_RANGE`), ``quality``, switches (booleans or ``None``), counts and
    seconds. Keys without a check pass as they are.

    Args:
        key: the option's name. value: its value. where: what the message names before the
            key, e.g. ``"run.toml [method]"`` (empty for options given directly).

    Returns:
        ``value``, unchanged.

    Raises:
        ConfigError: ``<where> <key>: must be ..., got <value>``.
    """
    check = CHECKS.get(key)
    want = check(value) if check is not None else None
    if want is not None:
        raise ConfigError(f"{f'{where} {FLAG_NAMES.get(key, key) if not where else key}'.strip()}: must be {want}, got {value!r}")
    return value


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
        out[key] = check_table(data[key], schema, where) if schema is not None else dict(data[key])
    return out


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
