"""The one schema of temporal smoothing: every setting with its type, default, range and
meaning (:data:`SCHEMA`), and the default smoothing per method kind (:data:`DEFAULT_SMOOTHING`);
:func:`load_settings` merges caller overrides over the defaults and validates them.

Every setting lives in a section named after its smoother (``ema.alpha``, ``hysteresis.t_high``,
``scene_cut.min_diff``...). Overrides may be given as a nested dict (``{"ema": {"alpha": 0.6}}``),
dotted keys (``{"ema.alpha": 0.6}``) or bare keys when only one section has them
(``{"alpha": 0.6}``): ``--smooth-param``, the ``[smooth]`` table of a ``--config`` file and
``name:key=value`` inside ``--smooth`` all end here. Unknown keys, wrong types and out-of-range
values raise :class:`~streamseg.errors.ConfigError` naming the key.

Example:
    >>> cfg = load_settings({"ema.alpha": 0.7})
    >>> cfg["ema"]["alpha"], cfg["hysteresis"]["t_low"] <= cfg["hysteresis"]["t_high"]
    (0.7, True)
    >>> SCHEMA["ema"]["alpha"].help
    'weight of the new frame: out = alpha * new + (1 - alpha) * previous (1 = no smoothing)'
"""

from __future__ import annotations

import copy
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from streamseg.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


@dataclass(frozen=True)
class Field:
    """One setting: its type, default, allowed closed range and what it does."""

    kind: type
    default: Any
    lo: float | None = None
    hi: float | None = None
    help: str = ""


#: section -> key -> Field: the defaults and ranges of every smoothing setting
SCHEMA: dict[str, dict[str, Field]] = {
    "scene_cut": {
        "min_diff": Field(float, 20.0, 0.0, 255.0, "a new scene when the mean absolute difference of two consecutive grey "
                          "thumbnails (0-255 levels, brightness-normalised) exceeds this; 0 disables cut detection"),
        "thumb_width": Field(int, 32, 4, 512, "thumbnail width in pixels of the cut detector (height follows the aspect ratio)"),
    },
    "ema": {"alpha": Field(float, 0.5, 0.0, 1.0, "weight of the new frame: out = alpha * new + (1 - alpha) * previous (1 = no smoothing)")},
    "uncertainty": {
        "min_weight": Field(float, 0.2, 0.0, 1.0, "weight of the new frame = max(min_weight, |2p - 1| ** gamma): confident values pass at once"),
        "gamma": Field(float, 1.0, 0.05, 20.0, "exponent of the confidence |2p - 1| in the weight"),
    },
    "motion": {
        "static_weight": Field(float, 0.25, 0.0, 1.0, "weight of the new frame where the picture is still (1 where it moves)"),
        "diff_low": Field(float, 3.0, 0.0, 255.0, "blurred frame difference (grey levels) where motion starts counting"),
        "diff_high": Field(float, 10.0, 0.0, 255.0, "frame difference where motion reaches full weight"),
        "scale": Field(int, 4, 1, 32, "the difference is computed on a thumbnail this many times smaller than the frame"),
        "blur": Field(int, 5, 1, 99, "box blur (thumbnail pixels) spreading the motion weight over the mask edges next to a moving edge"),
        "flow": Field(bool, False, help="follow motion with DIS optical flow (the state is warped along it)"),
    },
    "still": {
        "static_weight": Field(float, 0.25, 0.0, 1.0, "weight of the new frame where the picture is still"),
        "diff_low": Field(float, 3.0, 0.0, 255.0, "frame difference (grey levels, largest of B, G, R with colour) where motion starts"),
        "diff_high": Field(float, 10.0, 0.0, 255.0, "frame difference where motion is full"),
        "scale": Field(int, 4, 1, 32, "thumbnail scale of the difference"),
        "blur": Field(int, 1, 1, 99, "box blur (thumbnail pixels) of the difference"),
        "colour": Field(bool, True, help="difference of colour thumbnails (largest channel) rather than grey ones"),
        "hold": Field(int, 6, 0, 255, "a decision the band keeps against value >= threshold is given up after this many frames (0 = never)"),
        "jump": Field(float, 0.0, 0.0, 1.0, "a change |p - state| of at least this counts as motion, from half of it on (0 = off)"),
        "memory": Field(bool, False, help="compare with the thumbnail as it was when the pixel last moved, not the previous frame"),
    },
    "grid": {
        "max_width": Field(int, 640, 0, 16384, "probabilities wider than this are smoothed on a grid this wide and resized back (0 = full size)"),
    },
    "hysteresis": {
        "t_high": Field(float, 0.65, 0.0, 1.0, "a pixel switches on when its probability reaches this"),
        "t_low": Field(float, 0.35, 0.0, 1.0, "and off when it falls below this"),
        "threshold": Field(float, 0.5, 0.0, 1.0, "the run's threshold; set alone, it moves the band with it (same width)"),
    },
}

#: the smoothing used when ``--smooth`` is not given, per method kind (``Segmenter.kind``), as a
#: spec with its settings written in (``make_smoother`` and ``--smooth`` take it as it is).
#: Chosen by ``benchmarks/smoothing/temporal.py`` (still-pixel flicker on real clips, step lag and mIoU on
#: pseudo-videos; docs/smoothing.md, "Second round"). Models: the probability can change where the
#: picture does not (the model's context), so the band holds a decision at most ``hold`` frames;
#: classical methods: the probability is a function of the pixel's colour, so a change without
#: a change of the picture is noise and still pixels are damped hard.
DEFAULT_SMOOTHING: dict[str, str] = {
    # the [still] defaults (hold 6, colour, blur 1) at static_weight 0.2: on the native-map path
    # it lowers the still-pixel flicker of both models on every real clip while the pseudo-video
    # mIoU stays within half a point (docs/smoothing.md, third round)
    "model": "still:static_weight=0.2",
    "classical": "still:static_weight=0.05:hold=0:blur=5",
}


def default_smoothing(kind: str) -> str:
    """The default smoothing spec for a method of ``kind`` (``"model"`` or ``"classical"``); an
    unknown kind gets the model default (the safer one: it never holds a decision for long).

    Example:
        >>> default_smoothing("classical")
        'still:static_weight=0.05:hold=0:blur=5'
    """
    return DEFAULT_SMOOTHING.get(kind, DEFAULT_SMOOTHING["model"])


def _coerce(key: str, field: Field, value: Any) -> Any:
    if field.kind is bool:
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no", "on", "off"):
            return value.lower() in ("true", "1", "yes", "on")
        if isinstance(value, bool) or (isinstance(value, int) and value in (0, 1)):
            return bool(value)
        raise ConfigError(f"smoothing setting {key!r} must be true or false, got {value!r}")
    # bool is an int subclass: refuse it explicitly so `alpha = true` is an error
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"smoothing setting {key!r} must be a number, got {value!r}")
    if field.kind is int:
        if isinstance(value, float) and not value.is_integer():
            raise ConfigError(f"smoothing setting {key!r} must be a whole number, got {value!r}")
        value = int(value)
    else:
        value = float(value)
        if not math.isfinite(value):
            raise ConfigError(f"smoothing setting {key!r} must be finite, got {value!r}")
    if (field.lo is not None and value < field.lo) or (field.hi is not None and value > field.hi):
        raise ConfigError(f"smoothing setting {key!r} = {value} is out of range [{field.lo}, {field.hi}]")
    return value


def _parse_value(key: str, value: Any) -> Any:
    """Strings from the command line (``alpha=0.6``) become numbers."""
    if isinstance(value, str) and value.lower() not in ("true", "false", "yes", "no", "on", "off"):
        try:
            return int(value)
        except ValueError:
            pass
        try:
            return float(value)
        except ValueError:
            raise ConfigError(f"smoothing setting {key!r} must be a number, got {value!r}") from None
    return value


def _flatten(params: dict, sections: tuple[str, ...] | None) -> dict[tuple[str, str], Any]:
    """Overrides in any accepted form -> {(section, key): value}."""
    out: dict[tuple[str, str], Any] = {}
    for raw_key, value in params.items():
        if not isinstance(raw_key, str):
            raise ConfigError(f"smoothing setting names must be strings, got {raw_key!r}")
        if isinstance(value, dict):
            if raw_key not in SCHEMA:
                raise ConfigError(f"unknown smoothing section {raw_key!r}; known: {', '.join(SCHEMA)}")
            for k, v in value.items():
                out.update(_flatten({f"{raw_key}.{k}": v}, sections))
            continue
        if "." in raw_key:
            section, _, key = raw_key.partition(".")
            if section not in SCHEMA or key not in SCHEMA[section]:
                raise ConfigError(f"unknown smoothing setting {raw_key!r}; known: {', '.join(all_keys())}")
            out[(section, key)] = _parse_value(raw_key, value)
            continue
        owners = [s for s in SCHEMA if raw_key in SCHEMA[s]]
        if sections is not None and len(owners) > 1:
            owners = [s for s in owners if s in sections] or owners
        if not owners:
            raise ConfigError(f"unknown smoothing setting {raw_key!r}; known: {', '.join(all_keys())}")
        if len(owners) > 1:
            raise ConfigError(
                f"smoothing setting {raw_key!r} is ambiguous; write one of " + ", ".join(f"{s}.{raw_key}" for s in owners)
            )
        out[(owners[0], raw_key)] = _parse_value(raw_key, value)
    return out


def all_keys() -> list[str]:
    """Every setting as ``section.key``."""
    return [f"{s}.{k}" for s, keys in SCHEMA.items() for k in keys]


def read_file(path: Path) -> dict:
    """The raw TOML of a smoothing settings file (the sections of :data:`SCHEMA`).

    Raises:
        ConfigError: the file is missing or is not TOML.
    """
    if not Path(path).is_file():
        raise ConfigError(f"smoothing config not found: {path}")
    try:
        with Path(path).open("rb") as fh:
            return tomllib.load(fh)
    except (tomllib.TOMLDecodeError, OSError) as exc:
        raise ConfigError(f"cannot read smoothing config {path}: {exc}") from None


def load_settings(
    params: dict | None = None, sections: tuple[str, ...] | None = None, path: Path | None = None
) -> dict[str, dict[str, Any]]:
    """Defaults (:data:`SCHEMA`) <- the file at ``path``, if one is given <- ``params``; validated.
    Returns ``{section: {key: value}}``.

    ``sections`` (the smoothers in use) resolves bare keys that several sections share. When
    ``params`` set ``hysteresis.threshold`` but neither ``t_high`` nor ``t_low``, the band moves
    with the threshold (same width).
    """
    cfg = {s: {k: f.default for k, f in keys.items()} for s, keys in SCHEMA.items()}
    raw = copy.deepcopy(read_file(path)) if path is not None else {}
    for (section, key), value in _flatten(raw, None).items():
        cfg[section][key] = _coerce(f"{section}.{key}", SCHEMA[section][key], value)
    overrides = _flatten(params or {}, sections)
    hy = cfg["hysteresis"]
    file_threshold = hy["threshold"]
    for (section, key), value in overrides.items():
        cfg[section][key] = _coerce(f"{section}.{key}", SCHEMA[section][key], value)
    if ("hysteresis", "threshold") in overrides and not {("hysteresis", "t_high"), ("hysteresis", "t_low")} & overrides.keys():
        # a new threshold alone (the pipeline's --threshold) moves the band with it
        shift = hy["threshold"] - file_threshold
        hy["t_high"] = min(1.0, hy["t_high"] + shift)
        hy["t_low"] = max(0.0, hy["t_low"] + shift)
    if not hy["t_low"] <= hy["threshold"] <= hy["t_high"]:
        raise ConfigError(
            f"smoothing setting 'hysteresis.t_low' <= 'hysteresis.threshold' <= 'hysteresis.t_high' does not hold "
            f"({hy['t_low']}, {hy['threshold']}, {hy['t_high']})"
        )
    for sec in ("motion", "still"):
        mo = cfg[sec]
        if mo["diff_high"] <= mo["diff_low"]:
            raise ConfigError(f"smoothing setting '{sec}.diff_high' ({mo['diff_high']}) must exceed '{sec}.diff_low' ({mo['diff_low']})")
    return cfg
