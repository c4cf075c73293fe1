"""Options shared by the ``video``, ``webcam``, ``image`` and ``batch`` commands (one by one, and
in groups added with :func:`with_options`), and the ``--stats`` table."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Annotated, Any, Callable, Optional

import typer

from streamseg.pipeline.config import DEFAULT_METHOD
from streamseg.smooth.config import default_smoothing


def given_or_none(ctx: typer.Context, param: typer.CallbackParam, value: Any) -> Any:
    """A run option left at its default reaches the API as ``None`` ("not given"), so a
    ``--config`` file's value holds; a flag given on the command line wins. Its range is
    checked with the config file's, by :func:`streamseg.pipeline.config.check_value`."""
    source = ctx.get_parameter_source(param.name) if param.name else None
    return None if source is not None and source.name == "DEFAULT" else value


MethodOpt = Annotated[
    Optional[str],
    typer.Option(
        "--method", "--model", "-m", show_default=False,
        help=f"Method name (see `streamseg methods`) or a path to an .onnx model \\[default: {DEFAULT_METHOD}]. "
        "A method you name that cannot run is an error (see --fallback); the default falls back to ellipse-diag with a warning.",
    ),
]
ProviderOpt = Annotated[
    str,
    typer.Option(
        "--provider", callback=given_or_none,
        help="ONNX Runtime provider: auto, cuda, cuda:N, tensorrt, coreml (macOS), dml or dml:N (Windows DirectML), or cpu.",
    ),
]
ThreadsOpt = Annotated[
    int, typer.Option("--threads", callback=given_or_none, help="Inference threads: 0 = library default, at most the cores of this machine.")
]
SizeOpt = Annotated[Optional[int], typer.Option("--size", help="Model input size for models with a dynamic size (at least 16).")]
TtaOpt = Annotated[
    Optional[str],
    typer.Option(
        "--tta", show_default=False,
        help="Test-time augmentation of ONNX models: none (default) or flip (the mean of the frame and its mirror image: "
        "+0.6 to +1 point val mIoU, twice the inference time).",
    ),
]
QualityOpt = Annotated[
    Optional[str],
    typer.Option(
        "--quality", show_default=False,
        help="fast (default: the method alone, real time), balanced (plus the mirror view and a person gate) or best "
        "(plus overlapping tiles fused with the full view: pictures and offline video). docs/eval.md has what each adds.",
    ),
]
StrictOpt = Annotated[
    bool, typer.Option("--strict", help="Fail instead of falling back, for the default model too (a method you name is strict already).")
]
FallbackOpt = Annotated[
    bool, typer.Option("--fallback", help="If the method you named cannot run, warn and continue with ellipse-diag.")
]
ThresholdOpt = Annotated[float, typer.Option("--threshold", "-t", callback=given_or_none, help="Skin probability threshold, 0..1.")]
SmoothOpt = Annotated[
    Optional[str],
    typer.Option(
        "--smooth",
        help="Temporal smoothing: none, ema, uncertainty, motion, still, hysteresis or a+b, each name with optional "
        f":key=value settings (default: {default_smoothing('model')} for models, {default_smoothing('classical')} "
        "for classical methods; see docs/smoothing.md).",
    ),
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
    typer.Option("--config", "-c", help="TOML file with \\[method], \\[output], \\[smooth] and \\[rois] tables (options given on the command line win)."),
]
HandsOpt = Annotated[bool, typer.Option("--hands", help="Add 21 hand landmarks, handedness and gestures to ROIs.")]
StatsOpt = Annotated[bool, typer.Option("--stats", help="Print per-stage timings at the end.")]
OverwriteOpt = Annotated[bool, typer.Option("--overwrite", "-y", help="Replace existing outputs.")]

#: -T help shared by the commands: the output types of streamseg.effects
OUTPUT_TYPES_HELP = (
    "mask, overlay, cutout, side-by-side, alpha (cut-out with an alpha channel: .mov ProRes 4444 / .webm VP9; "
    "RGBA PNG for images), retouch, blur, pixelate, hair (person minus skin)"
)
FeatherOpt = Annotated[
    Optional[float], typer.Option("--feather", help="Feather the mask edge over this many pixels (alpha, retouch, blur, pixelate; default 3).")
]
StrengthOpt = Annotated[
    Optional[float], typer.Option("--strength", help="How strong retouch, blur and pixelate are, 0..1 (default 0.5).")
]
OverlayColorOpt = Annotated[
    Optional[str], typer.Option("--overlay-color", help="Overlay tint: a name (magenta, green...), #RRGGBB or R,G,B (default magenta).")
]
OverlayAlphaOpt = Annotated[
    Optional[float], typer.Option("--overlay-alpha", help="Overlay opacity, 0..1 (default 0.45).")
]
OutlineOpt = Annotated[Optional[bool], typer.Option("--outline/--no-outline", help="Outline the skin in overlays (default on).", show_default=False)]
HudOpt = Annotated[bool, typer.Option("--hud", help="Burn the HUD (method, fps, skin fraction) into the output video, sized to the frame.")]
StatsCsvOpt = Annotated[
    Optional[Path], typer.Option("--stats-csv", help="Write one row per frame: frame, time_s, skin_fraction, fps, latency_ms.")
]
AlertAboveOpt = Annotated[
    Optional[float],
    typer.Option("--alert-above", help="Print (and send to the --rois stream) an event when the skin fraction crosses this value."),
]

CodecOpt = Annotated[
    str, typer.Option("--codec", help="Video encoder (FFmpeg name); for -T alpha to .mov, prores_aw is ~3x faster than the default prores_ks.")
]
CrfOpt = Annotated[int, typer.Option("--crf", min=0, max=51, help="Constant rate factor for x264/x265 (lower = better).")]
BitrateOpt = Annotated[Optional[str], typer.Option("--bitrate", help="Target bitrate instead of CRF, e.g. 4M.")]
PresetOpt = Annotated[
    Optional[str],
    typer.Option("--preset", help="x264 speed preset (default: ultrafast for mask videos, veryfast for the others; docs/speed.md).", show_default=False),
]
BatchOpt = Annotated[int, typer.Option("--batch", callback=given_or_none, help="Frames per inference (models with a dynamic batch), 1..64.")]

#: option groups for :func:`with_options`: parameter name -> (annotated type, default)
EFFECT_OPTIONS: dict[str, tuple[Any, Any]] = {
    "feather": (FeatherOpt, None),
    "strength": (StrengthOpt, None),
    "overlay_color": (OverlayColorOpt, None),
    "overlay_alpha": (OverlayAlphaOpt, None),
    "outline": (OutlineOpt, None),
}
#: what ``video`` and ``webcam`` add to every frame's output
RUN_OUTPUT_OPTIONS: dict[str, tuple[Any, Any]] = {
    "hud": (HudOpt, False),
    "stats_csv": (StatsCsvOpt, None),
    "alert_above": (AlertAboveOpt, None),
}
#: the video encoder's settings (``video``, ``batch``)
ENCODER_OPTIONS: dict[str, tuple[Any, Any]] = {
    "codec": (CodecOpt, "libx264"),
    "crf": (CrfOpt, 20),
    "bitrate": (BitrateOpt, None),
    "preset": (PresetOpt, None),
}
#: how the method runs (``strict`` goes on as ``None`` when not given: see :func:`api_options`)
MODEL_OPTIONS: dict[str, tuple[Any, Any]] = {
    "provider": (ProviderOpt, "auto"),
    "threads": (ThreadsOpt, 0),
    "size": (SizeOpt, None),
    "tta": (TtaOpt, None),
    "quality": (QualityOpt, None),
    "strict": (StrictOpt, False),
    "fallback": (FallbackOpt, False),
}


def with_options(group: dict[str, tuple[Any, Any]], after: str) -> Callable:
    """Add the options of ``group`` to a Typer command, after its parameter ``after``; the
    command takes them in its ``**kwargs`` (see :func:`api_options`), which Typer does not see.

    Example:
        >>> @with_options(EFFECT_OPTIONS, after="x")
        ... def cmd(x: int = 0, **shared):
        ...     return shared
        >>> list(inspect.signature(cmd).parameters)[:3]
        ['x', 'feather', 'strength']
    """

    def add(func: Callable) -> Callable:
        sig = inspect.signature(func, eval_str=True)
        params = [p for p in sig.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
        i = [p.name for p in params].index(after) + 1
        new = [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=d, annotation=t) for n, (t, d) in group.items()]
        func.__signature__ = sig.replace(parameters=[*params[:i], *new, *params[i:]])
        return func

    return add


def api_options(shared: dict[str, Any]) -> dict[str, Any]:
    """The options of :func:`with_options` groups as the Python API takes them: ``strict``
    ``None`` when the flag is not given (a config file's ``strict`` then holds)."""
    if "strict" in shared:
        shared = {**shared, "strict": shared["strict"] or None}
    return shared


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
