"""Method registry: a name maps to a segmenter class, like rembg's sessions.

Adding a method is one new file (a :class:`~streamseg.segment.base.Segmenter` subclass) plus
one line in ``BUILTIN``. ONNX models are registered by the spec files found in the model
directories (see :mod:`streamseg.segment.onnx_model`); a path to an ``.onnx`` file also works.

Example:
    >>> from streamseg.segment.registry import create, method_names
    >>> "ellipse" in method_names()
    True
    >>> create("ellipse").name
    'ellipse'
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, replace
from pathlib import Path

from streamseg.errors import ConfigError, MethodError
from streamseg.segment.base import MethodOptions, Segmenter, check_tta

#: name -> "module:Class" (imported lazily so listing methods stays cheap)
BUILTIN: dict[str, str] = {
    "ellipse": "streamseg.segment.classical.ellipse:Ellipse",
    "ellipse-diag": "streamseg.segment.classical.ellipse:EllipseDiag",
    "ycbcr": "streamseg.segment.classical.thresholds:YCbCrBox",
    "hsv": "streamseg.segment.classical.thresholds:HSVBox",
    "hsv+ycbcr": "streamseg.segment.classical.thresholds:HSVYCbCrBox",
    "face": "streamseg.segment.classical.face:FaceSeeded",
    "icm": "streamseg.segment.classical.icm:ICM",
    "mediapipe": "streamseg.segment.mediapipe_selfie:MediaPipeSelfie",
}

#: models this project ships (``models/<file>`` + spec); a missing one falls back like a broken file
SHIPPED_MODELS: dict[str, str] = {
    "selfie-skin": "selfie-skin-384.onnx", "selfie-skin-hq": "selfie-skin-hq-512.onnx",
    "dlmv": "dlmv-256.onnx", "u2netp": "u2netp-256.onnx",
}

#: classical methods tried in this order when a model cannot run
FALLBACK_ORDER = ("ellipse-diag", "ellipse")


@dataclass(frozen=True)
class MethodInfo:
    """One row of ``streamseg methods``."""

    name: str
    kind: str
    description: str
    reason: str | None  # None = can run here
    source: str  # module path or model file


def _load_class(target: str) -> type[Segmenter]:
    module, _, attr = target.partition(":")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise MethodError(f"cannot load {target}: {exc}") from exc


def _model_specs() -> dict:
    try:
        from streamseg.segment.onnx_model import discover_models
    except ImportError:
        return {}
    return discover_models()


def method_names() -> list[str]:
    """Every registered method name: built-ins first, then the models found."""
    names = [n for n in BUILTIN]
    names += [n for n in _model_specs() if n not in BUILTIN]
    return names


def _is_model_path(name: str) -> bool:
    return name.lower().endswith(".onnx") or ("/" in name or "\\" in name)


def check_tta_for(name: str, tta: str) -> None:
    """Cheap check (nothing loads) that test-time augmentation ``tta`` applies to method ``name``.

    Raises:
        ConfigError: an unknown ``tta``, or one other than ``none`` for a built-in method (they
            are not ONNX models).
    """
    if check_tta(tta) != "none" and name in BUILTIN:
        raise ConfigError(f"--tta {tta} works with ONNX models; {name!r} is not one")


def create_exact(name: str, options: MethodOptions | None = None) -> Segmenter:
    """Create method ``name`` (a registered name or a path to an ``.onnx`` file), no fallback.

    Raises:
        MethodError: unknown name, or the method cannot run here (one-line reason).
    """
    options = options or MethodOptions()
    check_tta_for(name, options.tta)
    if name in BUILTIN:
        cls = _load_class(BUILTIN[name])
        reason = cls.unavailable_reason(options)
        if reason:
            raise MethodError(f"method {name!r} cannot run here: {reason}")
        return cls(options)
    specs = _model_specs()
    if name in specs or _is_model_path(name):
        from streamseg.segment.onnx_model import OnnxSegmenter

        if name in specs:
            return OnnxSegmenter.from_spec(specs[name], options)
        return OnnxSegmenter.from_file(Path(name), options)
    if name in SHIPPED_MODELS:
        from streamseg.paths import model_dirs

        where = ", ".join(str(d) for d in model_dirs()) or "no model directory"
        raise MethodError(f"model {name!r} ({SHIPPED_MODELS[name]} and its .json spec) not found in {where}")
    known = ", ".join(method_names())
    raise MethodError(f"unknown method {name!r}; known: {known} (or a path to an .onnx file)")


def first_fallback(options: MethodOptions | None = None) -> Segmenter:
    """The first classical method of :data:`FALLBACK_ORDER` that can be created here.

    Raises:
        MethodError: none can.
    """
    options = replace(options or MethodOptions(), tta="none")
    for fb in FALLBACK_ORDER:
        try:
            return create_exact(fb, options)
        except MethodError:
            continue
    raise MethodError(f"no classical fallback ({', '.join(FALLBACK_ORDER)}) could be created")


def create(name: str, options: MethodOptions | None = None) -> Segmenter:
    """Create method ``name``; a model that cannot be created or later fails to run is replaced
    by a classical method, with one warning
    (:class:`~streamseg.segment.fallback.FallbackSegmenter`).

    With ``options.strict`` the failure is raised instead and the model is returned bare.
    The returned segmenter's ``fallback_from`` names the method it replaces.
    ``options.quality`` adds the mirror view (models), the person gate and tiles
    (:func:`~streamseg.segment.quality.with_quality`).
    """
    from streamseg.segment.quality import with_quality

    options = quality_options(name, options or MethodOptions())
    seg = _create(name, options)
    return with_quality(seg, options.quality, options)


def quality_options(name: str, options: MethodOptions) -> MethodOptions:
    """``options`` with the mirror view (``tta="flip"``) that ``options.quality`` asks of a model.

    Raises:
        ConfigError: an unknown quality.
    """
    from streamseg.segment.quality import PLANS, check_quality

    plan = PLANS[check_quality(options.quality)]
    is_model = name not in BUILTIN or _load_class(BUILTIN[name]).kind == "model"
    if plan.flip and is_model and options.tta == "none":
        return replace(options, tta="flip")
    return options


def _create(name: str, options: MethodOptions) -> Segmenter:
    from streamseg import log
    from streamseg.segment.fallback import FallbackSegmenter, fallback_note

    try:
        seg = create_exact(name, options)
    except MethodError as exc:
        if options.strict or name in BUILTIN and _load_class(BUILTIN[name]).kind == "classical":
            raise
        if name not in method_names() and name not in SHIPPED_MODELS and not _is_model_path(name):
            raise
        try:
            fb = first_fallback(options)
        except MethodError:
            raise exc from None
        log.warn(f"{exc}; falling back to {fb.name!r} {fallback_note(options)}")
        return FallbackSegmenter.standing_in(name, fb)
    if name not in BUILTIN and not options.strict:  # ONNX models: a run-time failure falls back
        return FallbackSegmenter(seg, lambda: first_fallback(options))
    return seg


def list_methods(options: MethodOptions | None = None) -> list[MethodInfo]:
    """Every method with whether it can run here and why not."""
    options = options or MethodOptions()
    rows: list[MethodInfo] = []
    for name, target in BUILTIN.items():
        try:
            cls = _load_class(target)
            rows.append(MethodInfo(name, cls.kind, cls.description, cls.unavailable_reason(options), target))
        except MethodError as exc:
            rows.append(MethodInfo(name, "?", "", str(exc), target))
    specs = _model_specs()
    for name, file in SHIPPED_MODELS.items():
        if name not in specs:
            rows.append(MethodInfo(name, "model", "", f"{file} not found in the model directories (falls back to ellipse-diag)", file))
    for name, spec in specs.items():
        if name in BUILTIN:
            continue
        from streamseg.segment.onnx_model import OnnxSegmenter

        rows.append(
            MethodInfo(name, "model", spec.description, OnnxSegmenter.spec_unavailable_reason(spec, options), str(spec.path))
        )
    return rows
