"""Options and builders shared by the ``video``, ``webcam`` and ``image`` commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from streamseg import log
from streamseg.errors import ConfigError

DEFAULT_METHOD = "dlmv"

MethodOpt = Annotated[
    str,
    typer.Option("--method", "--model", "-m", help="Method name (see `streamseg methods`) or a path to an .onnx model."),
]
ProviderOpt = Annotated[str, typer.Option("--provider", help="ONNX Runtime provider: auto, cuda, cuda:N, tensorrt or cpu.")]
ThreadsOpt = Annotated[int, typer.Option("--threads", min=0, help="Inference threads (0 = library default).")]
SizeOpt = Annotated[Optional[int], typer.Option("--size", min=16, help="Model input size for models with a dynamic size.")]
StrictOpt = Annotated[bool, typer.Option("--strict", help="Fail instead of falling back to a classical method.")]
ThresholdOpt = Annotated[float, typer.Option("--threshold", "-t", min=0.0, max=1.0, help="Skin probability threshold.")]
SmoothOpt = Annotated[
    Optional[str],
    typer.Option("--smooth", help="Temporal smoothing: none, ema, uncertainty, motion, hysteresis or a+b (default: motion for models, motion+hysteresis for classical methods)."),
]
RoisOpt = Annotated[
    Optional[list[str]],
    typer.Option("--rois", help="ROI sink, repeatable: jsonl:-, jsonl:FILE, osc://HOST:PORT, ws://HOST:PORT."),
]
SmoothParamOpt = Annotated[
    Optional[list[str]],
    typer.Option("--smooth-param", help="Override a smoothing setting, repeatable: KEY=VALUE, e.g. ema.alpha=0.6."),
]
RoiOptionOpt = Annotated[
    Optional[list[str]],
    typer.Option("--roi-option", help="Override an ROI setting, repeatable: KEY=VALUE, e.g. min_area=0.005 or labels=false."),
]
ConfigOpt = Annotated[
    Optional[Path],
    typer.Option("--config", "-c", help="TOML file with [smooth] and [rois] tables (options given on the command line win)."),
]
HandsOpt = Annotated[bool, typer.Option("--hands", help="Add 21 hand landmarks, handedness and gestures to ROIs.")]
StatsOpt = Annotated[bool, typer.Option("--stats", help="Print per-stage timings at the end.")]
OverwriteOpt = Annotated[bool, typer.Option("--overwrite", "-y", help="Replace existing outputs.")]


def build_segmenter(method: str, provider: str, threads: int, size: int | None, strict: bool, batch: int = 1):
    """Create the segmenter (falling back to a classical method unless ``strict``), warm it up
    and say what runs."""
    from streamseg.segment import MethodOptions, create
    from streamseg.segment.providers import parse_provider

    parse_provider(provider)  # a bad value is an error before anything loads
    seg = create(method, MethodOptions(provider=provider, threads=threads, size=size, batch=batch, strict=strict))
    seg.warmup()
    log.info(f"method: {seg.name} on {seg.provider}")
    return seg


def parse_assignments(items: list[str] | None, flag: str) -> dict:
    """``["a=1", "b.c=true", "d=x"]`` -> ``{"a": 1, "b.c": True, "d": "x"}`` (values read as TOML, else text)."""
    import tomllib

    out: dict = {}
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


def load_run_config(path: Path | None) -> dict:
    """The ``--config`` file: a TOML mapping with optional ``[smooth]`` and ``[rois]`` tables.

    Raises:
        ConfigError: missing file, invalid TOML, or an unknown table (named).
    """
    import tomllib

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
    unknown = sorted(set(data) - {"smooth", "rois"})
    if unknown:
        raise ConfigError(f"{path}: unknown table(s) {', '.join(unknown)}; known: smooth, rois")
    for key in ("smooth", "rois"):
        if key in data and not isinstance(data[key], dict):
            raise ConfigError(f"{path}: {key} must be a table ([{key}])")
    return data


def build_smoother(spec: str | None, params: dict | None = None, kind: str = "model", threshold: float = 0.5):
    """The smoother for ``--smooth`` with setting overrides ``params``, or ``None`` for ``none``.

    ``spec=None`` picks the default for the method's ``kind`` (``DEFAULT_SMOOTH_BY_KIND``);
    a hysteresis band follows the pipeline's ``threshold`` unless set explicitly.
    """
    from streamseg.smooth import DEFAULT_SMOOTH, DEFAULT_SMOOTH_BY_KIND, make_smoother, parse_spec

    spec = spec or DEFAULT_SMOOTH_BY_KIND.get(kind, DEFAULT_SMOOTH)
    if spec == "none":
        return None
    params = dict(params or {})
    if parse_spec(spec)[1] and not any(k.startswith("hysteresis") or k == "threshold" for k in params):
        params["hysteresis.threshold"] = threshold
    return make_smoother(spec, params or None)


def build_rois(specs: list[str] | None, hands: bool, source: str, options: dict | None = None):
    """(roi_stage, roi_sinks) for ``--rois``/``--hands`` with ROI setting overrides ``options``;
    (None, None) when neither is given."""
    if not specs and not hands:
        return None, None
    from streamseg.rois import RoiOptions, RoiStage, open_roi_sinks

    values = dict(options or {})
    values["hands"] = hands or bool(values.get("hands", False))
    stage = RoiStage(RoiOptions.from_dict(values).validate())
    sinks = open_roi_sinks(list(specs or []), source=source)
    return stage, sinks


def print_stats(report, extra: dict[str, float] | None = None) -> None:
    """A rich table of per-stage timings (ms per frame) for ``--stats``."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{report.frames_out} frames in {report.seconds:.2f} s = {report.fps:.1f} fps")
    for col in ("stage", "mean ms", "median ms", "p90 ms", "frames"):
        table.add_column(col, justify="right" if col != "stage" else "left")
    for stage, s in report.stages.items():
        table.add_row(stage, f"{s['mean_ms']:.2f}", f"{s['median_ms']:.2f}", f"{s['p90_ms']:.2f}", str(s["n"]))
    for stage, ms in (extra or {}).items():
        table.add_row(stage + " (thread)", f"{ms:.2f}", "", "", "")
    Console(stderr=True).print(table)


def default_output(inp: Path, output_type: str, ext: str = ".mp4") -> Path:
    """``<stem>_<type>.mp4`` next to the input."""
    return inp.with_name(f"{inp.stem}_{output_type}{ext}")
