"""The one builder: a :class:`~streamseg.pipeline.spec.RunSpec` -> the :class:`Parts` of a run
(the method, warmed up; its smoother; the ROI stage; one configured effect per output type),
and the processor that joins them. The runs (video files, live sources, images, batch workers) call
:func:`build`; nothing else creates a run's method.

Example:
    >>> from streamseg.pipeline.spec import RunSpec
    >>> parts = build(RunSpec.make(method="ellipse", smooth="ema"), output_types=["mask"])
    >>> parts.segmenter.name, parts.smoother.spec, parts.roi_stage is None
    ('ellipse', 'ema', True)
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

from streamseg import log
from streamseg.pipeline.processor import Processor
from streamseg.pipeline.spec import RoiSpec, RunSpec, SmoothSpec


@dataclass
class Parts:
    """What :func:`build` makes of a spec.

    Attributes:
        spec: the run spec.
        segmenter: the method (BGR uint8 (H, W, 3) -> float32 (H, W) in [0, 1]), warmed up.
        smoother: its temporal smoother, or ``None`` (``none``).
        roi_stage: the ROI stage, or ``None`` when the run extracts no regions.
        effects: output type -> configured :class:`~streamseg.effects.base.Effect`.
        scene_cut: the scene-cut settings (``min_diff``, ``thumb_width`` of
            :data:`streamseg.smooth.config.SCHEMA`, as the spec's smoothing sets them).
    """

    spec: RunSpec
    segmenter: Any
    smoother: Any | None = None
    roi_stage: Any | None = None
    effects: dict[str, Any] = field(default_factory=dict)
    scene_cut: dict[str, Any] = field(default_factory=dict)

    def __enter__(self) -> "Parts":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Release what the parts hold between frames (the ROI stage's detector thread); the
        run that built them calls it, also as a context manager."""
        if self.roi_stage is not None:
            self.roi_stage.close()

    def cut_detector(self):
        """A new :class:`~streamseg.smooth.scenecut.SceneCutDetector` of these settings."""
        from streamseg.smooth.scenecut import SceneCutDetector

        return SceneCutDetector(self.scene_cut["min_diff"], self.scene_cut["thumb_width"])

    def processor(self, output_types: Sequence[str] = (), smoothing: bool = True) -> Processor:
        """The :class:`~streamseg.pipeline.processor.Processor` of these parts rendering
        ``output_types`` for every frame (``smoothing=False``: still images, no temporal state)."""
        return Processor(
            self.segmenter, self.smoother if smoothing else None, self.spec.output.threshold, output_types=tuple(output_types),
            roi_stage=self.roi_stage if smoothing else None, effects=self.effects,
            scene_cut=self.cut_detector() if smoothing else False,
        )


def build(
    spec: RunSpec,
    output_types: Sequence[str] = (),
    batch: int | None = None,
    rois: bool = True,
    announce: bool = True,
) -> Parts:
    """Load and warm up what ``spec`` runs.

    Args:
        spec: the checked run spec.
        output_types: the types the run renders (their effects are configured; ``hair`` loads
            the person model).
        batch: frames per inference (default ``spec.method.batch``).
        rois: build the ROI stage when the spec asks for regions.
        announce: log which method runs on what (``method: ...``, at INFO level).

    Raises:
        MethodError: the method (or the person model) cannot load and may not fall back.
    """
    from streamseg.effects import make_effect
    from streamseg.pipeline import outputs
    from streamseg.segment import create

    m = spec.method
    person_of = outputs.person_segmenter(output_types, provider=m.provider, threads=m.threads)
    seg = create(m.method, m.options(batch=batch))
    seg.warmup()
    if announce:
        log.info(f"method: {seg.name} on {seg.provider}")
    from streamseg.smooth import default_smoothing, smoothing_settings

    mode = spec.smooth.mode or default_smoothing(seg.kind)
    return Parts(
        spec=spec,
        segmenter=seg,
        smoother=build_smoother(spec.smooth, kind=seg.kind, threshold=spec.output.threshold),
        scene_cut=smoothing_settings(mode, dict(spec.smooth.params))[2]["scene_cut"],
        roi_stage=build_roi_stage(spec.rois) if rois else None,
        effects={t: make_effect(t, spec.output.effect, person_of) for t in output_types if t != "prob"},
    )


def build_smoother(smooth: SmoothSpec, kind: str = "model", threshold: float = 0.5):
    """The smoother of ``smooth`` for a method of ``kind``, or ``None`` for ``none``.

    The default per kind is :func:`streamseg.smooth.default_smoothing`; a hysteresis band
    follows the run's ``threshold`` unless set explicitly.
    """
    from streamseg.smooth import default_smoothing, make_smoother, parse_spec

    mode = smooth.mode or default_smoothing(kind)
    if mode == "none":
        return None
    params = dict(smooth.params)
    if parse_spec(mode)[1] and not any(k.startswith("hysteresis") or k == "threshold" for k in params):
        params["hysteresis.threshold"] = threshold
    return make_smoother(mode, params or None)


def build_roi_stage(rois: RoiSpec):
    """The :class:`~streamseg.rois.RoiStage` of ``rois``, or ``None`` when no regions are asked for."""
    if not rois.wanted:
        return None
    from streamseg.rois import RoiStage

    return RoiStage(rois.roi_options())


def open_roi_sinks(specs: Sequence[str], source: str):
    """The ROI stream (:class:`~streamseg.rois.RoiSinks`) of ``specs``, opened: a sink that
    sends nothing without any (the run opens it, and closes it)."""
    from streamseg.sinks.rois import open_roi_sinks as _open

    return _open(list(specs), source=source)


def method_of(spec: RunSpec):
    """The segmenter of ``spec``'s method alone (no warm-up, no smoother): what
    :func:`streamseg.new_session` returns."""
    from streamseg.segment import create

    return create(spec.method.method, spec.method.options())




@contextlib.contextmanager
def stats_sinks(spec: RunSpec, csv_path: Path | None, roi_sinks: Any | None = None) -> Iterator[list[Any]]:
    """The ``--stats-csv`` writer (to ``csv_path``, already prepared) and the ``--alert-above``
    detector of ``spec`` as sinks, opened for the block and closed (or aborted) after it;
    alerts also go to the ROI stream of ``roi_sinks``."""
    from streamseg.pipeline import outputs

    with contextlib.ExitStack() as stack:
        extra = [stack.enter_context(s) for s in outputs.stats_sinks(csv_path, spec.output.alert_above, emit=roi_sinks.send if roi_sinks else None)]
        yield extra
        reports = [s.close() for s in extra]
    if csv_path is not None:
        log.info(f"wrote stats: {csv_path} ({reports[-1].written} rows)")


__all__ = ["Parts", "build", "build_roi_stage", "build_smoother", "method_of", "open_roi_sinks", "stats_sinks"]
