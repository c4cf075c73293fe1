"""The Python API (``import streamseg``), a small one in the manner of rembg: sessions and
one-call helpers for pictures, and one function per kind of run. The CLI commands call exactly
these functions.

- :func:`new_session` -> a segmenter; :func:`segment` -> its probability of one picture;
  :func:`render` -> one output picture (mask, overlay, cut-out, ...); :func:`remove` -> the
  skin cut out, with alpha. Pictures are BGR ``uint8`` arrays of shape ``(H, W, 3)`` by
  default, RGB ones with ``channels="rgb"``, PIL images (RGB by definition), paths or the bytes
  of an image file; :func:`render` and :func:`remove` answer in the kind they were given.
- :func:`process_video`, :func:`process_live`, :func:`process_images`, :func:`process_batch`:
  a source, a destination and a :class:`~streamseg.pipeline.spec.RunSpec` (or a config file);
  the options of the spec may also be given as keywords (``method=``, ``output_types=``,
  ``smooth=``, ``feather=``, ``codec=``, ...: :data:`~streamseg.pipeline.spec.KEYWORDS`).

Probabilities are ``float32`` arrays of shape ``(H, W)`` in ``[0, 1]``. Errors a caller can
cause are :class:`~streamseg.errors.StreamsegError` with a one-line message. The library logs
through :mod:`logging` (logger ``streamseg``) and prints nothing unless asked.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from streamseg.errors import ConfigError, FrameError
from streamseg.pipeline.config import DEFAULT_METHOD  # noqa: F401 - the model used when none is named
from streamseg.pipeline.spec import RunSpec
from streamseg.sinks.base import Sink  # noqa: F401 - the contract of what a run writes to

PathLike = str | Path
#: what a picture may be given as: a BGR (or, with ``channels="rgb"``, RGB) uint8 array, a PIL
#: image, a path, or the bytes of an image file
Picture = Any
#: a run's spec: a :class:`RunSpec`, a TOML config file, or its tables as a mapping
SpecLike = RunSpec | PathLike | Mapping[str, Any] | None


def new_session(name_or_path: str | None = None, provider: str = "auto", **options: Any):
    """A segmenter for a method name (``streamseg.list_methods()``) or an ``.onnx`` path, like
    rembg's ``new_session``.

    Args:
        name_or_path: ``dlmv``, ``ellipse-diag``, ... or a path to an ``.onnx`` / ``.json`` spec file;
            ``None`` = the default model (``selfie-skin``), which falls back to ``ellipse-diag`` with a
            warning when it cannot run. A method named here that cannot run is an error unless
            ``fallback=True``.
        provider: ONNX Runtime provider: ``auto``, ``cuda``, ``cuda:N``, ``tensorrt`` or ``cpu``.
        **options: ``threads``, ``size``, ``batch``, ``tta`` (``"flip"``: mean of the frame and
            its mirror image, ONNX models), ``quality`` (``"fast"``, ``"balanced"`` or ``"best"``:
            :mod:`streamseg.segment.quality`), ``strict`` (no fallback even for the
            default model), ``fallback`` (fall back for a named method too), ``params``
            (classical parameter file), ``warmup`` (default False) and method settings
            (``open``, ``blur``, ``model_selection``, ...).

    Returns:
        A :class:`~streamseg.segment.base.Segmenter`: ``session.segment(bgr)`` -> float32 (H, W)
        in [0, 1]; ``name``, ``provider``, ``fallback_from`` say what runs.

    Raises:
        MethodError: unknown method, or it cannot run (and ``strict`` or no fallback).
        ConfigError: a bad provider or option.
    """
    from streamseg.pipeline.build import method_of

    warm = bool(options.pop("warmup", False))
    seg = method_of(_method_spec(name_or_path, provider, options))
    if warm:
        seg.warmup()
    return seg


def _method_spec(method: Any, provider: str | None, options: Mapping[str, Any]) -> RunSpec:
    """The spec of a session: ``options`` that are spec keywords, the rest method settings."""
    from streamseg.pipeline.spec import KEYWORDS

    known = {k: v for k, v in options.items() if k in KEYWORDS}
    settings = {k: v for k, v in options.items() if k not in KEYWORDS}
    return RunSpec.make(method=method, provider=provider, method_settings=settings or None, **known)


#: sessions of :func:`segment`, :func:`render` and :func:`remove`: method options -> (segmenter, lock)
_SESSIONS: OrderedDict[str, tuple[Any, threading.Lock]] = OrderedDict()
_SESSIONS_LOCK = threading.Lock()
#: how many sessions :func:`segment` keeps loaded (the least recently used goes first)
MAX_SESSIONS = 4


def _cached_session(spec: RunSpec) -> tuple[Any, threading.Lock]:
    """The session of ``spec``'s method, made on first use and kept (at most :data:`MAX_SESSIONS`)."""
    from streamseg.pipeline.build import method_of

    key = repr(spec.method)
    with _SESSIONS_LOCK:
        if key in _SESSIONS:
            _SESSIONS.move_to_end(key)
            return _SESSIONS[key]
    entry = (method_of(spec), threading.Lock())
    with _SESSIONS_LOCK:
        entry = _SESSIONS.setdefault(key, entry)
        while len(_SESSIONS) > MAX_SESSIONS:
            _SESSIONS.popitem(last=False)
    return entry


def _picture(image: Picture, channels: str) -> tuple[np.ndarray, str]:
    """``(BGR uint8 (H, W, 3), kind)`` of a picture given as an array (``channels`` ``bgr`` or
    ``rgb``), a PIL image (RGB by definition), a path or encoded bytes; ``kind`` is ``array``,
    ``pil``, ``path`` or ``bytes``.

    Raises:
        ConfigError: ``channels`` is neither. FrameError: an array that is not uint8 (H, W, 3),
        or a type that is no picture. InputError: a file or bytes that are no image.
    """
    if channels not in ("bgr", "rgb"):
        raise ConfigError(f"channels: must be bgr or rgb, got {channels!r}")
    if isinstance(image, (str, Path)):
        from streamseg.capture.image import read_image

        return read_image(Path(image)), "path"
    if isinstance(image, (bytes, bytearray, memoryview)):
        from streamseg.capture.image import decode_image

        return decode_image(bytes(image), "the image bytes"), "bytes"
    if type(image).__module__.startswith("PIL.") and hasattr(image, "convert"):
        rgb = np.asarray(image.convert("RGB"))
        return np.ascontiguousarray(rgb[..., ::-1]), "pil"
    if isinstance(image, np.ndarray):
        if channels == "rgb":
            from streamseg.segment.base import check_frame

            return np.ascontiguousarray(check_frame(image)[..., ::-1]), "array"
        return image, "array"
    raise FrameError(f"expected a picture (a uint8 (H, W, 3) array, a PIL image, a path or bytes), got {type(image).__name__}")


def _as_given(picture: np.ndarray, kind: str, channels: str) -> Any:
    """A rendered picture (grey (H, W), BGR (H, W, 3) or BGRA (H, W, 4) uint8) in the kind its
    input came in: a PIL image (``L``, ``RGB``, ``RGBA``), PNG bytes, or an array (RGB order
    with ``channels="rgb"``; BGR for paths)."""
    import cv2

    if kind == "bytes":
        ok, buf = cv2.imencode(".png", picture)
        if not ok:
            from streamseg.errors import OutputError

            raise OutputError("cannot encode the picture as PNG")
        return buf.tobytes()
    to_rgb = picture.ndim == 3 and (kind == "pil" or (kind == "array" and channels == "rgb"))
    if to_rgb:
        picture = cv2.cvtColor(picture, cv2.COLOR_BGRA2RGBA if picture.shape[2] == 4 else cv2.COLOR_BGR2RGB)
    if kind == "pil":
        from PIL import Image

        return Image.fromarray(picture)
    return picture


def segment(image: Picture, method: Any = None, *, channels: str = "bgr", **options: Any) -> np.ndarray:
    """Skin probability of one picture.

    Args:
        image: a BGR uint8 (H, W, 3) array (RGB with ``channels="rgb"``), a PIL image, the
            path of an image file (greyscale, RGBA and 16-bit files are converted) or its bytes.
        method: a method name, an ``.onnx`` path, or a session from :func:`new_session`;
            ``None`` = the default model, on every call. Sessions made here are kept and reused
            (one per method and options).
        channels: ``bgr`` or ``rgb``: the order of an array's channels.
        **options: ``provider`` and the options of :func:`new_session`.

    Returns:
        float32 (H, W) in [0, 1].

    Raises:
        InputError: the file cannot be read, or (:class:`~streamseg.errors.FrameError`, also a
        ``ValueError``) the array is not uint8 (H, W, 3) with H, W >= 1.
        ConfigError, MethodError: as for :func:`new_session`.
    """
    bgr, _ = _picture(image, channels)
    if hasattr(method, "segment"):
        method.reset()
        return method.segment(bgr)
    seg, lock = _cached_session(_method_spec(method, options.pop("provider", None), options))
    with lock:
        seg.reset()
        return seg.segment(bgr)


def render(image: Picture, output_type: str = "mask", method: Any = None, *, channels: str = "bgr", **options: Any) -> Any:
    """One output picture of one picture, what ``streamseg image -T <output_type>`` writes for it.

    Args:
        image: as for :func:`segment`.
        output_type: ``mask`` (0/255, one channel), ``prob`` (8-bit probability), ``overlay``,
            ``cutout``, ``side-by-side``, ``alpha`` (with an alpha channel), ``retouch``,
            ``blur``, ``pixelate``, ``hair``.
        method: a method name, an ``.onnx`` path, or a session from :func:`new_session`.
        channels: ``bgr`` or ``rgb``: the order of an array's channels, in and out.
        **options: ``threshold``, the effect settings (``feather``, ``strength``,
            ``overlay_color``, ``overlay_alpha``, ``outline``) and the options of :func:`new_session`.

    Returns:
        The picture in the kind it was given: a PIL image for a PIL image (``L``, ``RGB`` or
        ``RGBA``), PNG bytes for bytes, else a uint8 array ((H, W) for ``mask`` and ``prob``;
        BGR(A), or RGB(A) with ``channels="rgb"``).

    Raises:
        ConfigError: an unknown output type or option. As for :func:`segment` otherwise.
    """
    from streamseg.effects import make_effect
    from streamseg.frames import Frame
    from streamseg.pipeline import outputs
    from streamseg.pipeline.processor import Processor
    from streamseg.sinks.images import image_picture

    bgr, kind = _picture(image, channels)
    given = None if hasattr(method, "segment") else method
    spec = RunSpec.make(method=given, output_types=[output_type], **options)
    types = outputs.check_output_types(list(spec.output.types), extra=("prob",))
    m = spec.method
    person_of = outputs.person_segmenter(types, provider=m.provider, threads=m.threads)
    effects = {t: make_effect(t, spec.output.effect, person_of) for t in types if t != "prob"}
    seg, lock = (method, threading.Lock()) if given is None and method is not None else _cached_session(spec)
    with lock:
        processor = Processor(seg, None, spec.output.threshold, output_types=tuple(effects), effects=effects, scene_cut=False)
        result = processor.process(Frame(bgr, index=0, time=0.0, reset=True))
    return _as_given(image_picture(result, types[0]), kind, channels)


def remove(image: Picture, method: Any = None, *, channels: str = "bgr", **options: Any) -> Any:
    """The skin of a picture cut out, with alpha (like rembg's ``remove``):
    :func:`render` of ``alpha`` (BGRA, or an ``RGBA`` PIL image for a PIL image).

    Example:
        >>> import numpy as np
        >>> remove(np.zeros((4, 6, 3), np.uint8), "ellipse").shape
        (4, 6, 4)
    """
    return render(image, "alpha", method, channels=channels, **options)


def _spec(spec: SpecLike, overrides: dict[str, Any]) -> RunSpec:
    """``spec`` (or the ``config=`` keyword of earlier versions) with ``overrides`` over it."""
    config = overrides.pop("config", None)
    if spec is not None and config is not None:
        raise ConfigError("give the config as spec or as config=, not both")
    return RunSpec.make(spec if spec is not None else config, **overrides)


def process_video(
    src: PathLike | None,
    dst: PathLike | Mapping[str, PathLike] | None = None,
    spec: SpecLike = None,
    *,
    sinks: Sequence[Any] = (),
    progress: bool = False,
    stop: threading.Event | None = None,
    overwrite: bool = False,
    **overrides: Any,
):
    """Segment every frame of a video file into one video per output type (like supervision's
    ``process_video``); keeps frame count, timestamps, fps and the audio track.

    Args:
        src: the video file (``None``: the demo clip of a source checkout).
        dst: output file (one type), folder (several), or type -> path; default
            ``<stem>_<type>.mp4`` next to ``src`` (``<stem>_alpha.mov`` for ``alpha``).
        spec: a :class:`~streamseg.pipeline.spec.RunSpec`, or a config file (``--config``) or
            its tables; ``None``: the defaults.
        sinks: more sinks (``write(result)``; the caller closes them).
        progress: a progress bar on stderr. stop: set it to stop early (SIGINT/SIGTERM also do).
        overwrite: replace existing outputs.
        **overrides: options of the spec (:data:`~streamseg.pipeline.spec.KEYWORDS`), e.g.
            ``method``, ``output_types`` (``mask``, ``overlay``, ``cutout``, ``side-by-side``,
            ``alpha``, ``retouch``, ``blur``, ``pixelate``, ``hair``; list or comma-separated),
            ``smooth``, ``threshold``, ``feather``, ``strength``, ``overlay_color``,
            ``overlay_alpha``, ``outline``, ``codec``, ``crf``, ``bitrate``, ``preset``
            (``None``: ``ultrafast`` for mask videos, ``veryfast`` for the others), ``hud``,
            ``stats_csv``, ``alert_above``, ``rois``, ``hands``, ``provider``, ``threads``,
            ``batch``, ``tta``, ``quality``.

    Returns:
        :class:`~streamseg.pipeline.RunReport` (``outputs``: type -> file written).

    Raises:
        InputError, OutputError, ConfigError, MethodError: one line each; IncompleteError when
        frames were lost; Interrupted on Ctrl-C/SIGTERM (partial outputs kept).
    """
    from streamseg.pipeline import file_run

    return file_run.run(src, dst, _spec(spec, overrides), sinks=sinks, progress=progress, stop=stop, overwrite=overwrite)


def process_live(
    source: int | PathLike = 0,
    spec: SpecLike = None,
    *,
    show: bool = False,
    record: PathLike | None = None,
    sinks: Sequence[Any] = (),
    stop: threading.Event | None = None,
    overwrite: bool = False,
    **overrides: Any,
):
    """Segment a camera or stream live (newest frame wins) until it ends, ``stop`` is set, the
    window is closed, or the spec's ``max_frames`` / ``duration`` is reached.

    Args:
        source: camera index, ``/dev/videoN``, an ``rtsp://`` / ``http://`` URL, or a video file
            (played once at its own rate; ``loop=True`` to repeat it).
        spec: as for :func:`process_video`.
        show: a window with the output and a HUD (method, provider, fps, latency).
        record: a video file of what is shown.
        sinks: more sinks (``write(result)``; the caller closes them).
        stop: set it to stop. overwrite: replace an existing recording or stats file.
        **overrides: options of the spec, e.g. ``method``, ``output_type`` (one; default
            ``overlay``), ``width``, ``height``, ``fps``, ``mjpg``, ``reconnect``, ``timeout``,
            ``loop``, ``max_frames`` (at least 1), ``duration`` (seconds above 0), ``status``
            (a status line on stderr while there is no window), ``status_interval``,
            ``virtual_cam``, ``virtual_cam_device``, the effect, HUD, stats and ROI options of
            :func:`process_video`.

    Returns:
        :class:`~streamseg.pipeline.RunReport` (``latency_ms``, ``dropped``, ``outputs``).
    """
    from streamseg.pipeline import live_run

    return live_run.run(source, _spec(spec, overrides), show=show, record=record, sinks=sinks, stop=stop, overwrite=overwrite)


def process_images(
    paths: PathLike | Sequence[PathLike],
    out_dir: PathLike | None = None,
    spec: SpecLike = None,
    *,
    overwrite: bool = False,
    **overrides: Any,
):
    """Write ``<stem>_<type>.png`` for each image: ``mask`` (0/255), ``overlay``, ``cutout``,
    ``side-by-side``, ``prob`` (8-bit probability), ``alpha`` (RGBA, alpha = feathered mask),
    ``retouch``, ``blur``, ``pixelate``, ``hair`` (person minus skin, 0/255).

    Args:
        paths: image files, folders and globs. out_dir: output folder (default: next to each
            image), or a ``.png`` file name for one image.
        spec: as for :func:`process_video`. overwrite: replace existing files.
        **overrides: options of the spec: ``method``, ``output_types``, ``threshold``, the
            effect settings and the options of :func:`new_session`.

    Returns:
        :class:`~streamseg.pipeline.ImagesReport` (``done``, ``failed``, ``written``, ``errors``).

    Raises:
        InputError: no image found. IncompleteError: some images failed (after the others are done).
    """
    from streamseg.pipeline import image_run

    return image_run.run(paths, out_dir, _spec(spec, overrides), overwrite=overwrite)


def process_batch(
    inputs: PathLike | Sequence[PathLike],
    out_dir: PathLike,
    spec: SpecLike = None,
    *,
    rois: bool = False,
    progress: bool = False,
    stop: threading.Event | None = None,
    on_event: Any | None = None,
    **overrides: Any,
):
    """Segment many video and image files, one task per video or per chunk of images, on Ray
    workers that load the method once (embedded local Ray, or a cluster with ``ray_address``);
    ``workers=1`` runs in this process without Ray. Each video's outputs are what
    :func:`process_video` writes for it, each image's what :func:`process_images` writes.

    Args:
        inputs: files, folders (recursively, video and image extensions only), globs, and
            manifests (``.txt``: one path per line; ``.csv``: a ``path`` column).
        out_dir: outputs mirror the input tree under it (``<rel dir>/<stem>_<type>.mp4`` for
            videos, ``.png`` for images), with ``batch_report.json`` and ``results.jsonl``
            (one row per finished file: path, size, skin fraction and regions of images, ms,
            status, error; a re-run skips the images it has as done).
        spec: as for :func:`process_video`.
        rois: write the ROI stream of each file to ``<stem>_rois.jsonl``.
        progress: progress bar and summary table on stderr. stop: set it to stop (Ctrl-C does).
        on_event: ``on_event(kind, job, **info)`` per file event (``start``, ``retry``, ``done``, ...).
        **overrides: options of the spec: those of :func:`process_video`, and ``workers`` (default:
            the cores, capped so each gets its ``threads``), ``ray_address`` (``auto`` or
            ``ray://HOST:PORT``), ``force`` (redo files whose outputs are complete and newer than
            their input), ``chunk`` (images per task).

    Returns:
        :class:`~streamseg.batch.report.BatchReport` (``files``: per-file status, frames, seconds, fps, error).

    Raises:
        InputError: an input is missing or holds no video. ConfigError: a bad option, or Ray
        needed but not installed (one line). IncompleteError (``.report``): some files failed,
        after the others are done. Interrupted (``.report``): stopped; finished files are kept.
    """
    from streamseg.batch import runner

    return runner.run(inputs, out_dir, _spec(spec, overrides), rois=bool(rois), progress=progress, stop=stop, on_event=on_event)


def list_methods(provider: str = "auto"):
    """Every method with whether it can run here and why not.

    Returns:
        A list of :class:`~streamseg.segment.registry.MethodInfo` (``name``, ``kind``,
        ``description``, ``reason``: ``None`` when it runs here).
    """
    from streamseg.segment import MethodOptions
    from streamseg.segment import list_methods as _list

    return _list(MethodOptions(provider=provider))
