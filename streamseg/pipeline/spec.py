"""The run spec: what a run is made of, as a frozen :class:`RunSpec` of small parts, and
:meth:`RunSpec.make`, the one validator that config files, command-line flags and API
keywords all go through.

The parts:

- :class:`MethodSpec`: the method and how it runs (``[method]`` in a config file);
- :class:`SmoothSpec`: temporal smoothing (``[smooth]``: ``mode`` and the settings of
  :mod:`streamseg.smooth.config`);
- :class:`OutputSpec`: the output types, the threshold, their effect settings
  (:class:`~streamseg.effects.params.EffectParams`) and encoder settings, the HUD and the
  per-frame stats (``[output]``);
- :class:`RoiSpec`: regions of interest and where they go (``[rois]``);
- :class:`LiveSpec`: what a live run asks of its camera and when it stops;
- :class:`WorkerSpec`: how a batch run spreads its files over workers.

A keyword of :meth:`RunSpec.make` names one field of one part (:data:`KEYWORDS`); ``None`` means
"not given", so a config file's value holds. Every value is checked by
:func:`streamseg.pipeline.config.check_value` before anything loads.

Example:
    >>> spec = RunSpec.make(method="ellipse", smooth="ema", smooth_params={"ema.alpha": 0.6}, feather=4)
    >>> spec.method.name, spec.smooth.params, spec.output.effect.feather_px
    ('ellipse', {'ema.alpha': 0.6}, 4.0)
    >>> spec.with_(threshold=0.3).output.threshold, spec.output.threshold
    (0.3, 0.5)
    >>> RunSpec.make({"smooth": {"mode": "ema", "alpha": 0.7}}).smooth
    SmoothSpec(mode='ema', params={'alpha': 0.7})
    >>> RunSpec.make(crf=70)
    Traceback (most recent call last):
    ...
    streamseg.errors.ConfigError: crf: must be an integer from 0 to 51, got 70
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping, Sequence

from streamseg.effects.params import EffectParams, OverlayStyle
from streamseg.errors import ConfigError
from streamseg.pipeline.config import DEFAULT_METHOD, TABLES, check_method_name, check_table, check_value, load_run_config
from streamseg.sinks.settings import EncoderSettings

PathLike = str | Path


@dataclass(frozen=True)
class MethodSpec:
    """The method and how it runs.

    Attributes:
        name: a registered method name or a path to an ``.onnx`` file; ``None`` = the default
            model (:data:`~streamseg.pipeline.config.DEFAULT_METHOD`).
        provider, threads, size, batch, params, tta, quality: see
            :class:`~streamseg.segment.MethodOptions`.
        strict, fallback: what happens when the method cannot run. The default model falls
            back to a classical method with a warning; a method the user named is an error
            unless ``fallback`` is set; ``strict`` makes the default model strict too
            (``None``: decided by whether a method was named).
        settings: method-specific settings (``MethodOptions.extra``: ``open``, ``blur``, ...).
    """

    name: str | None = None
    provider: str = "auto"
    threads: int = 0
    size: int | None = None
    batch: int = 1
    strict: bool | None = None
    fallback: bool = False
    params: Path | None = None
    tta: str = "none"
    quality: str = "fast"
    settings: Mapping[str, Any] = field(default_factory=dict)

    @property
    def method(self) -> str:
        """The method that runs: ``name``, or the default model."""
        return str(self.name) if self.name is not None else DEFAULT_METHOD

    @property
    def is_strict(self) -> bool:
        """Whether a method that cannot run is an error (rather than a fallback with a warning)."""
        return bool(self.strict) if self.strict is not None else (self.name is not None and not self.fallback)

    def options(self, batch: int | None = None):
        """The :class:`~streamseg.segment.MethodOptions` of this method (``batch`` overrides)."""
        from streamseg.segment.base import MethodOptions

        return MethodOptions(
            provider=self.provider, threads=self.threads, size=self.size, batch=batch or self.batch,
            strict=self.is_strict, fallback=bool(self.fallback), params=self.params, tta=self.tta,
            quality=self.quality, extra=dict(self.settings),
        )


@dataclass(frozen=True)
class SmoothSpec:
    """Temporal smoothing: ``mode`` (``none``, a smoother, a ``+``-combination, each with
    ``:key=value`` settings; ``None`` = the default for the method's kind,
    :func:`streamseg.smooth.default_smoothing`) and setting overrides (``{"ema.alpha": 0.6}``)."""

    mode: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OutputSpec:
    """What a run writes for each frame.

    Attributes:
        types: output types (:data:`streamseg.effects.EFFECTS`, and ``prob`` for images);
            empty = the run's default (``mask`` for files and images, ``overlay`` live).
        threshold: skin probability threshold in [0, 1].
        effect: feather, strength and overlay style of the effects.
        encoder: codec, crf, bitrate and preset of the videos.
        hud: burn the HUD into the videos.
        stats_csv: a CSV file with one row per frame, or ``None``.
        alert_above: report when the skin fraction crosses this value, or ``None``.
    """

    types: tuple[str, ...] = ()
    threshold: float = 0.5
    effect: EffectParams = field(default_factory=EffectParams)
    encoder: EncoderSettings = field(default_factory=EncoderSettings)
    hud: bool = False
    stats_csv: Path | None = None
    alert_above: float | None = None

    def types_or(self, default: Sequence[str]) -> list[str]:
        """``types``, or ``default`` when none were given."""
        return list(self.types or default)


@dataclass(frozen=True)
class RoiSpec:
    """Regions of interest: ``sinks`` (``jsonl:-``, ``jsonl:FILE``, ``osc://HOST:PORT``,
    ``ws://HOST:PORT``), ``hands`` (21 landmarks and gestures) and setting overrides of
    :class:`~streamseg.rois.RoiOptions`."""

    sinks: tuple[str, ...] = ()
    hands: bool = False
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def wanted(self) -> bool:
        """Whether the run extracts regions at all."""
        return bool(self.sinks) or self.hands

    def roi_options(self):
        """The validated :class:`~streamseg.rois.RoiOptions`."""
        from streamseg.rois import RoiOptions

        values = {**self.options, "hands": self.hands or bool(self.options.get("hands", False))}
        return RoiOptions.from_dict(values).validate()


@dataclass(frozen=True)
class LiveSpec:
    """What a live run asks of its source and when it stops.

    Attributes:
        width, height, fps, mjpg: what to ask the camera for. reconnect, timeout: stream handling.
        loop: a video file as source starts again at its end.
        max_frames, duration: stop after this many frames or seconds (``None``: no limit).
        status: a status line on stderr while there is no window (the CLI's; off for the
            library, which prints nothing of its own). status_interval: seconds between status
            lines when stderr is not a terminal.
        virtual_cam, virtual_cam_device, virtual_cam_backend: send the output to a virtual camera.
    """

    width: int | None = None
    height: int | None = None
    fps: float | None = None
    mjpg: bool = True
    reconnect: bool = True
    timeout: float = 5.0
    loop: bool = False
    max_frames: int | None = None
    duration: float | None = None
    status: bool = False
    status_interval: float = 10.0
    virtual_cam: bool = False
    virtual_cam_device: str | None = None
    virtual_cam_backend: str | None = None


@dataclass(frozen=True)
class WorkerSpec:
    """How a batch run spreads its files: ``workers`` (``None``: the cores), ``ray_address``
    (``auto``, ``ray://HOST:PORT``), ``force`` (redo complete outputs), ``chunk`` (images per task)."""

    workers: int | None = None
    ray_address: str | None = None
    force: bool = False
    chunk: int | None = None


#: the parts of a :class:`RunSpec`, by attribute
PARTS: dict[str, type] = {
    "method": MethodSpec, "smooth": SmoothSpec, "output": OutputSpec, "rois": RoiSpec, "live": LiveSpec, "workers": WorkerSpec,
}
_EFFECT = ("feather", "strength", "overlay_color", "overlay_alpha", "outline")
_ENCODER = ("codec", "crf", "bitrate", "preset")
#: keyword of :meth:`RunSpec.make` -> (part, field); the effect and encoder keywords are fields
#: of ``output.effect`` and ``output.encoder``
KEYWORDS: dict[str, tuple[str, str]] = {
    "method": ("method", "name"), "method_settings": ("method", "settings"),
    **{k: ("method", k) for k in ("provider", "threads", "size", "batch", "strict", "fallback", "params", "tta", "quality")},
    "smooth": ("smooth", "mode"), "smooth_params": ("smooth", "params"),
    "output_types": ("output", "types"), "output_type": ("output", "types"),
    **{k: ("output", k) for k in ("threshold", "hud", "stats_csv", "alert_above", *_EFFECT, *_ENCODER)},
    "rois": ("rois", "sinks"), "hands": ("rois", "hands"), "roi_options": ("rois", "options"),
    **{f.name: ("live", f.name) for f in fields(LiveSpec)},
    **{f.name: ("workers", f.name) for f in fields(WorkerSpec)},
}
#: config-file keys that are spelled otherwise as keywords (``[method] name``, ``[output] types``, ``[smooth] mode``)
_FILE_NAMES = {("method", "name"): "method", ("output", "types"): "output_types", ("smooth", "mode"): "smooth"}


@dataclass(frozen=True)
class RunSpec:
    """Everything a run is made of except its source and destinations; made (and checked) by
    :meth:`make`, never changed afterwards (:meth:`with_` makes a new one)."""

    method: MethodSpec = field(default_factory=MethodSpec)
    smooth: SmoothSpec = field(default_factory=SmoothSpec)
    output: OutputSpec = field(default_factory=OutputSpec)
    rois: RoiSpec = field(default_factory=RoiSpec)
    live: LiveSpec = field(default_factory=LiveSpec)
    workers: WorkerSpec = field(default_factory=WorkerSpec)

    @classmethod
    def make(cls, config: "RunSpec | PathLike | Mapping[str, Any] | None" = None, /, **options: Any) -> "RunSpec":
        """The spec of ``options`` over ``config`` over the defaults, checked.

        Args:
            config: a :class:`RunSpec` to start from, a TOML file (``--config``), or its tables
                as a mapping (``{"method": {...}, "output": {...}, "smooth": {...}, "rois": {...}}``).
            **options: keywords of :data:`KEYWORDS`; ``None`` = not given. ``smooth_params``,
                ``roi_options`` and ``method_settings`` are merged over the file's.

        Raises:
            ConfigError: an unknown keyword, a bad file, or a value of the wrong type or range
                (named); MethodError: an unknown method or a missing model file.
        """
        unknown = sorted(set(options) - set(KEYWORDS))
        if unknown:
            raise ConfigError(f"unknown option(s) {', '.join(unknown)}; known: {', '.join(sorted(KEYWORDS))}")
        given = config.keywords() if isinstance(config, RunSpec) else _file_keywords(config)
        for key, value in options.items():
            if value is None:
                continue
            if key in ("smooth_params", "roi_options", "method_settings"):
                value = {**given.get(key, {}), **dict(value)}
            given[key] = check_value(key, value)
        return cls._build(given).check()

    @classmethod
    def _build(cls, given: Mapping[str, Any]) -> "RunSpec":
        """The parts from checked keyword values."""
        values: dict[str, dict[str, Any]] = {part: {} for part in PARTS}
        for key, value in given.items():
            if key in _EFFECT or key in _ENCODER:
                continue
            part, name = KEYWORDS[key]
            values[part][name] = _normalise(key, value)
        out = values["output"]
        from streamseg.pipeline.outputs import effect_params

        out["effect"] = effect_params(**{k: given.get(k) for k in _EFFECT})
        out["encoder"] = EncoderSettings(**{k: given[k] for k in _ENCODER if k in given})
        return cls(**{part: PARTS[part](**v) for part, v in values.items()})

    def keywords(self) -> dict[str, Any]:
        """The keyword values that make this spec again (what differs from the defaults)."""
        out: dict[str, Any] = {}
        for key, (part, name) in KEYWORDS.items():
            if key in ("output_type", *_EFFECT, *_ENCODER):
                continue
            value = getattr(getattr(self, part), name)
            if value != getattr(PARTS[part](), name):
                out[key] = value
        effect, style = self.output.effect, self.output.effect.overlay
        default, default_style = EffectParams(), OverlayStyle()
        for key, now, was in (
            ("feather", effect.feather_px, default.feather_px), ("strength", effect.strength, default.strength),
            ("overlay_color", style.color, default_style.color), ("overlay_alpha", style.alpha, default_style.alpha),
            ("outline", style.outline, default_style.outline),
        ):
            if now != was:
                out[key] = now
        for key in _ENCODER:
            value = getattr(self.output.encoder, key)
            if value != getattr(EncoderSettings(), key):
                out[key] = value
        return out

    def with_(self, **options: Any) -> "RunSpec":
        """A new spec: this one with ``options`` (keywords of :meth:`make`) over it."""
        return RunSpec.make(self, **options)

    def check(self) -> "RunSpec":
        """The checks across fields, before any model loads: the method's name (a missing
        model file only where it may fall back), its ``tta``, the smoothing and ROI settings,
        the output types, and that the face/hand models are there for ``hands``.

        Raises:
            ConfigError, MethodError: the first problem, named.
        """
        m = self.method
        if m.strict and m.fallback:
            raise ConfigError("--strict and --fallback contradict each other; give one")
        check_method_name(m.method, fallback=not m.is_strict)
        from streamseg.segment.registry import check_tta_for

        check_tta_for(m.method, m.tta)
        if self.smooth.mode is not None or self.smooth.params:
            from streamseg.smooth import default_smoothing, smoothing_settings

            smoothing_settings(self.smooth.mode or default_smoothing("model"), dict(self.smooth.params))
        if self.output.types:
            from streamseg.pipeline.outputs import check_output_types

            check_output_types(list(self.output.types), extra=("prob",))
        if self.rois.wanted or self.rois.options:
            self.rois.roi_options()
        if self.rois.hands:
            from streamseg.rois.blaze import unavailable_reason

            reason = unavailable_reason(hands=True)
            if reason:
                from streamseg.errors import MethodError

                raise MethodError(f"--hands: {reason}")
        return self


def _normalise(key: str, value: Any) -> Any:
    """A checked keyword value as its part keeps it (tuples for lists, paths for files)."""
    if key in ("output_types", "output_type"):
        items = value.split(",") if isinstance(value, str) else list(value)
        return tuple(dict.fromkeys(str(t).strip() for t in items if str(t).strip()))
    if key == "rois":
        return (value,) if isinstance(value, str) else tuple(value)
    if key in ("params", "stats_csv"):
        return Path(value)
    if key in ("smooth_params", "roi_options", "method_settings"):
        return dict(value)
    if key == "method":
        return str(value)
    return value


def _file_keywords(config: PathLike | Mapping[str, Any] | None) -> dict[str, Any]:
    """A config file (path or tables) as keyword values of :meth:`RunSpec.make`, checked."""
    if config is None:
        return {}
    if not isinstance(config, (str, Path, Mapping)):
        raise ConfigError(f"spec: must be a RunSpec, a config file or its tables, got {type(config).__name__}")
    if isinstance(config, Mapping):
        unknown = sorted(set(config) - set(TABLES))
        if unknown:
            raise ConfigError(f"unknown table(s) {', '.join(unknown)}; known: {', '.join(TABLES)}")
        tables = {k: check_table(v, TABLES[k], f"[{k}]") if TABLES[k] is not None else dict(v) for k, v in config.items()}
        where = ""
    else:
        tables = load_run_config(config)
        where = str(config)
    out: dict[str, Any] = {}
    for table, values in tables.items():
        at = f"{where} [{table}]".strip()
        values = dict(values)
        if table == "smooth":
            if "mode" in values:
                out["smooth"] = check_value("smooth", values.pop("mode"), at)
            out["smooth_params"] = values
        elif table == "rois":
            out["roi_options"] = values
        elif table == "method":
            settings = {k: values.pop(k) for k in list(values) if (table, k) not in _FILE_NAMES and k not in KEYWORDS}
            if settings:
                out["method_settings"] = settings
            for key, value in values.items():
                kw = _FILE_NAMES.get((table, key), key)
                out[kw] = check_value(kw, value, at)
        else:
            for key, value in values.items():
                kw = _FILE_NAMES.get((table, key), key)
                out[kw] = check_value(kw, value, at)
    return out


__all__ = [
    "KEYWORDS", "LiveSpec", "MethodSpec", "OutputSpec", "PARTS", "RoiSpec", "RunSpec", "SmoothSpec", "WorkerSpec",
]
