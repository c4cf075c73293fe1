"""``--methods all|a,b,...`` -> segmenters, with a one-line reason for every method skipped.

Methods are always created with ``strict=True``: a model that cannot run must never be
measured silently as its classical fallback under the model's name.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from streamseg.errors import ConfigError, MethodError
from streamseg.segment import MethodOptions, Segmenter, create_exact, list_methods, method_names


@dataclass
class Selection:
    """Segmenters that will run (name -> instance, in order) and the ones skipped (name -> why)."""

    segmenters: dict[str, Segmenter] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    def close(self) -> None:
        """Close every segmenter (sessions, threads)."""
        for seg in self.segmenters.values():
            seg.close()


def parse_names(spec: str) -> list[str]:
    """``"a, b,a"`` -> ``["a", "b"]`` (order kept, duplicates dropped); ``"all"`` -> ``["all"]``.

    Raises:
        ConfigError: the list is empty.
    """
    names: list[str] = []
    for part in spec.split(","):
        part = part.strip()
        if part and part not in names:
            names.append(part)
    if not names:
        raise ConfigError("--methods is empty: give 'all' or a comma-separated list (see `streamseg methods`)")
    return names


def _create(name: str, opts: MethodOptions, fallback_size: int | None) -> Segmenter:
    from streamseg.segment.quality import with_quality
    from streamseg.segment.registry import quality_options

    opts = quality_options(name, opts)
    try:
        seg = create_exact(name, opts)
    except MethodError as first:
        if fallback_size is None or opts.size is not None:
            raise
        try:  # a model whose graph has a dynamic input size needs a size to start
            seg = create_exact(name, replace(opts, size=fallback_size))
        except MethodError:
            raise first from None
    return with_quality(seg, opts.quality, opts)


def _label(name: str, opts: MethodOptions) -> str:
    if opts.quality != "fast":
        return f"{name}+{opts.quality}" + (f"+{opts.tta}" if opts.tta != "none" else "")
    return name if opts.tta == "none" else f"{name}+{opts.tta}"


def select_methods(spec: str, options: MethodOptions | None = None, fallback_size: int | None = None) -> Selection:
    """Create the segmenters named by ``spec`` (``all`` or ``a,b,...``).

    With ``all``, methods that cannot run here are skipped with their reason. Named methods
    must exist and run: an unknown name or one that cannot run raises. With ``options.tta``
    other than ``none`` a method is listed as ``name+flip`` and with ``options.quality`` other
    than ``fast`` as ``name+balanced`` or ``name+best`` (so a report says what was scored),
    and ``all`` skips the methods it does not apply to. ``fallback_size`` is
    tried for a method that cannot start without a size (an ONNX graph with a dynamic input).

    Raises:
        MethodError: unknown method, or a named method cannot run here (one line).
        ConfigError: empty list, or ``all`` found nothing that runs.
    """
    opts = replace(options or MethodOptions(), strict=True)
    names = parse_names(spec)
    sel = Selection()
    if [n.lower() for n in names] == ["all"]:
        for info in list_methods(opts):
            if info.reason:
                sel.skipped[info.name] = info.reason
                continue
            try:
                sel.segmenters[_label(info.name, opts)] = _create(info.name, opts, fallback_size)
            except (MethodError, ConfigError) as exc:
                sel.skipped[info.name] = str(exc)
        if not sel.segmenters:
            raise ConfigError("no method can run here: " + "; ".join(f"{k}: {v}" for k, v in sel.skipped.items()))
        return sel
    if "all" in (n.lower() for n in names):
        raise ConfigError("--methods: 'all' cannot be combined with other names")
    known = method_names()
    for name in names:
        if name not in known and not (name.lower().endswith(".onnx") or "/" in name or "\\" in name):
            sel.close()
            raise MethodError(f"unknown method {name!r}; known: {', '.join(known)} (or a path to an .onnx file)")
    try:
        for name in names:
            sel.segmenters[_label(name, opts)] = _create(name, opts, fallback_size)
    except (MethodError, ConfigError):
        sel.close()
        raise
    return sel
