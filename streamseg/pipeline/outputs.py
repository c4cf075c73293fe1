"""What a run writes besides the segmentation itself: the checks of its output types and files
before anything loads, the person model of the types that need one, the HUD burnt into
recordings and shown in the window (:class:`HudText`, the one HUD), and the per-frame stats
sinks (``--stats-csv``, ``--alert-above``).

This is the policy the runs share:

- ``-T`` names are checked with :func:`streamseg.effects.get` (one error line listing the known types);
- a 4-channel type (``alpha``) needs a container with alpha (``.mov`` ProRes 4444, ``.webm``
  VP9 with alpha; any other extension is one error line before anything runs), the others a
  video file type that takes the encoder (:class:`~streamseg.sinks.video.VideoSink` picks the writer);
- a type that needs a person mask (``hair``) gets the shipped person model.

Example:
    >>> check_output_types("mask,retouch")
    ['mask', 'retouch']
    >>> default_output_name("clip", "alpha"), default_output_name("clip", "blur")
    ('clip_alpha.mov', 'clip_blur.mp4')
    >>> effect_params(strength=0.8, overlay_color="green").overlay.color
    (0, 255, 0)
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from streamseg.effects.params import EffectParams, OverlayStyle
from streamseg.errors import ConfigError

def check_output_types(
    output_types: str | Sequence[str], extra: Sequence[str] = (), flag: str = "--output-type"
) -> list[str]:
    """Split and check ``-T`` (a list, or comma-separated text) against :data:`streamseg.effects.EFFECTS`
    and ``extra`` (e.g. ``prob`` for images).

    Returns:
        The type names, in order, without duplicates.

    Raises:
        ConfigError: empty, or an unknown name (the message lists the known ones).
    """
    from streamseg.effects import EFFECTS, get

    raw = output_types.split(",") if isinstance(output_types, str) else list(output_types)
    types: list[str] = []
    for t in (str(x).strip() for x in raw):
        if t and t not in types:
            types.append(t)
    if not types:
        raise ConfigError(f"{flag}: give at least one of {', '.join([*EFFECTS, *extra])}")
    for t in types:
        if t not in extra:
            try:
                get(t)
            except ConfigError:
                raise ConfigError(f"{flag} {t!r}: choose from {', '.join([*EFFECTS, *extra])}") from None
    return types


def effect_params(
    feather: float | None = None,
    strength: float | None = None,
    overlay_color: str | tuple[int, int, int] | None = None,
    overlay_alpha: float | None = None,
    outline: bool | None = None,
) -> EffectParams:
    """:class:`~streamseg.effects.EffectParams` from the ``--feather``, ``--strength``,
    ``--overlay-color``, ``--overlay-alpha`` and ``--outline/--no-outline`` options (``None`` = default).

    Raises:
        ConfigError: a value out of range or a colour that is not one (named).
    """
    base, style = EffectParams(), OverlayStyle()
    overlay = OverlayStyle(
        color=style.color if overlay_color is None else overlay_color,
        alpha=style.alpha if overlay_alpha is None else float(overlay_alpha),
        outline=style.outline if outline is None else bool(outline),
    )
    return EffectParams(
        feather_px=base.feather_px if feather is None else float(feather),
        strength=base.strength if strength is None else float(strength),
        overlay=overlay,
    )


def channels(output_type: str) -> int:
    """3 (BGR) or 4 (BGRA) for an output type (``prob`` and unknown extras: 1)."""
    from streamseg.effects import EFFECTS

    effect = EFFECTS.get(output_type)
    return effect.channels if effect is not None else 1


def default_output_name(stem: str, output_type: str) -> str:
    """``<stem>_<type>.mp4``, or ``<stem>_<type>.mov`` (ProRes 4444) for types with alpha."""
    return f"{stem}_{output_type}{'.mov' if channels(output_type) == 4 else '.mp4'}"


def check_video_output(output_type: str, path: Path, settings: Any = None) -> Path:
    """Check, before anything loads, that ``path`` can hold ``output_type``: a container with
    alpha for 4-channel types; for the others a video file type that takes the encoder of
    ``settings`` (:class:`~streamseg.sinks.settings.EncoderSettings`, default libx264), with a
    valid ``--preset`` and ``--bitrate`` (:func:`streamseg.sinks.writer.check_output`).

    Raises:
        OutputError: ``out.mp4: .mp4 cannot carry alpha; use .mov (ProRes 4444) or .webm (VP9 with alpha)``,
            ``out.txt: .txt is not a video file type; ...``, ``--preset nosuch: ...``.
    """
    if channels(output_type) == 4:
        from streamseg.sinks.alpha_writer import alpha_codec

        alpha_codec(Path(path))
    else:
        from streamseg.sinks.settings import EncoderSettings
        from streamseg.sinks.writer import check_output

        check_output(Path(path), (settings or EncoderSettings()).for_output(output_type))
    return Path(path)


def check_run_outputs(
    videos: Sequence[tuple[str, Path]],
    stats_csv: Path | None = None,
    rois: Sequence[str] = (),
    inputs: Sequence[Path] = (),
    overwrite: bool = False,
) -> None:
    """Every file a video or live run writes through one check
    (:func:`streamseg.sinks.output_path.check_outputs`): the videos (``(option, path)`` pairs,
    e.g. ``("-T mask", out.mp4)``), the ``--stats-csv`` file and the ``jsonl:FILE`` ROI streams.

    Raises:
        OutputError: an output exists (without ``overwrite``), is an input, is named twice, or is a folder.
        ConfigError: a malformed ``--rois`` spec.
    """
    from streamseg.sinks.rois import roi_files
    from streamseg.sinks.output_path import check_outputs

    named = [*((what, Path(p)) for what, p in videos)]
    if stats_csv is not None:
        named.append(("--stats-csv", Path(stats_csv)))
    named += [("--rois jsonl", p) for p in roi_files(list(rois))]
    check_outputs(named, inputs=[Path(i) for i in inputs], overwrite=overwrite)


def person_segmenter(output_types: Sequence[str], provider: str = "auto", threads: int = 0) -> Callable[[np.ndarray], np.ndarray] | None:
    """BGR uint8 (H, W, 3) -> person mask float32 (H, W) in [0, 1] (MediaPipe's selfie
    segmentation shipped as ONNX, ``person-selfie-256.onnx``, on ONNX Runtime) when one of
    ``output_types`` needs it (``hair``), else ``None``.

    Raises:
        MethodError: the person model is missing or cannot load (one line).
    """
    from streamseg.effects import EFFECTS

    need = [t for t in output_types if t in EFFECTS and EFFECTS[t].needs_person]
    if not need:
        return None
    from streamseg.errors import MethodError
    from streamseg.paths import shipped_models_dir
    from streamseg.segment import MethodOptions
    from streamseg.segment.onnx_model import ModelSpec, OnnxSegmenter

    spec_path = shipped_models_dir() / "person-selfie-256.json"
    try:
        seg = OnnxSegmenter.from_spec(ModelSpec.load(spec_path), MethodOptions(provider=provider, threads=threads, strict=True))
    except MethodError as exc:
        raise MethodError(f"-T {need[0]} needs the person model: {exc}") from None
    seg.warmup()

    def person_of(image: np.ndarray) -> np.ndarray:
        return seg.segment(image)

    person_of.segmenter = seg  # type: ignore[attr-defined]
    return person_of


class HudText:
    """The HUD's lines for a result: method, provider, processing fps, latency (live frames
    only) and skin fraction; for ``--hud`` in recordings and the live window.

    Args:
        segmenter: what runs (its ``name``, ``provider``, ``fallback_from``).
        clock: seconds (``time.perf_counter``, the clock of ``Frame.captured_at``).
    """

    def __init__(self, segmenter: Any, clock: Callable[[], float] = time.perf_counter) -> None:
        from streamseg.sinks.stats import RateMeter

        self.segmenter = segmenter
        self.clock = clock
        self.rate = RateMeter()
        self._last: tuple[Any, list[str]] | None = None

    def __call__(self, result: Any) -> list[str]:
        """The lines for ``result``; the same lines for every sink that asks about one result."""
        from streamseg.effects.exposure import skin_fraction
        from streamseg.effects.hud import hud_lines

        if self._last is not None and self._last[0] is result:
            return self._last[1]
        now = self.clock()
        fps = self.rate.tick(now)
        seg = self.segmenter
        name = seg.name + (f" (fallback for {seg.fallback_from})" if getattr(seg, "fallback_from", None) else "")
        captured = getattr(result.frame, "captured_at", 0.0)
        latency = 1000 * (now - captured) if captured else None
        lines = hud_lines(fps=fps, latency_ms=latency, method=name, provider=seg.provider, skin_fraction=skin_fraction(result.mask))
        self._last = (result, lines)
        return lines


def stats_sinks(
    stats_csv: Path | None = None,
    alert_above: float | None = None,
    emit: Callable[[dict], None] | None = None,
) -> list[Any]:
    """The ``--stats-csv`` writer and the ``--alert-above`` detector, as sinks (the caller closes them:
    :func:`streamseg.pipeline.build.stats_sinks`).

    Args:
        stats_csv: CSV path (already validated), or ``None``.
        alert_above: skin fraction in [0, 1], or ``None``.
        emit: where alert events are streamed besides stderr (e.g. the ROI sinks' ``send``).

    Raises:
        ConfigError: ``alert_above`` outside [0, 1]. OutputError: the CSV cannot be opened.
    """
    from streamseg.sinks.stats import AlertSink, StatsCsvWriter

    out: list[Any] = []
    if alert_above is not None:
        out.append(AlertSink(float(alert_above), emit=emit))
    if stats_csv is not None:
        out.append(StatsCsvWriter(stats_csv))
    return out


__all__ = [
    "HudText", "channels", "check_output_types", "check_run_outputs", "check_video_output",
    "default_output_name", "effect_params", "person_segmenter", "stats_sinks",
]
