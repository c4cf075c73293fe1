"""The Python API (``import streamseg``); the CLI commands call exactly these functions.

Frames are BGR ``uint8`` arrays of shape ``(H, W, 3)``; skin probabilities are ``float32``
arrays of shape ``(H, W)`` in ``[0, 1]``.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from streamseg.errors import ConfigError, InputError
from streamseg.pipeline.config import DEFAULT_METHOD, RunConfig  # noqa: F401 - DEFAULT_METHOD: the model used when none is named

PathLike = str | Path


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
            its mirror image, ONNX models), ``strict`` (no fallback even for the
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
    from streamseg.segment import create

    warm = bool(options.pop("warmup", False))
    fields = {k: options.pop(k) for k in ("threads", "size", "batch", "strict", "fallback", "params", "tta") if k in options}
    cfg = RunConfig.make(method=name_or_path, provider=provider, method_settings=options or None, **fields)
    seg = create(cfg.method, cfg.method_options())
    if warm:
        seg.warmup()
    return seg


def _session(method: Any, provider: str = "auto", **options: Any):
    return method if hasattr(method, "segment") else new_session(None if method is None else str(method), provider=provider, **options)


def segment(image: np.ndarray | PathLike, method: Any = None, provider: str = "auto", **options: Any) -> np.ndarray:
    """Skin probability of one image.

    Args:
        image: BGR uint8 (H, W, 3) array, or the path of an image file (greyscale, RGBA and
            16-bit files are converted).
        method: a method name, an ``.onnx`` path, or a session from :func:`new_session`.
        provider, **options: as for :func:`new_session`.

    Returns:
        float32 (H, W) in [0, 1].

    Raises:
        InputError: the file cannot be read, or (:class:`~streamseg.errors.FrameError`, also a
        ``ValueError``) the array is not BGR uint8 (H, W, 3) with H, W >= 1.
        ConfigError, MethodError: as for :func:`new_session`.
    """
    if isinstance(image, (str, Path)):
        from streamseg.capture.image import read_image

        image = read_image(Path(image))
    seg = _session(method, provider, **options)
    seg.reset()
    return seg.segment(image)


def _build(cfg: RunConfig, batch: int = 1, log_method: bool = True):
    """(segmenter, smoother) of a run: the method warmed up, its smoothing by its kind."""
    from streamseg import log
    from streamseg.pipeline.config import build_smoother
    from streamseg.segment import create

    seg = create(cfg.method, cfg.method_options(batch=batch))
    seg.warmup()
    if log_method:
        log.info(f"method: {seg.name} on {seg.provider}")
    return seg, build_smoother(cfg, kind=seg.kind)


def _run_config(config, method, smooth, threshold, smooth_params, roi_options, rois, hands, options) -> RunConfig:
    """The :class:`RunConfig` of a video, live or batch run: the config file or mapping, then the
    arguments given (``None``: not given)."""
    return RunConfig.make(
        config, smooth_params=smooth_params, roi_options=roi_options, method=method, smooth=smooth,
        threshold=threshold, rois=list(rois) if rois else None, hands=hands or None, **options,
    )


def _run_with_stats(csv_path: Path | None, alert_above: float | None, roi_sinks, run):
    """``run(extra_sinks)`` with the ``--stats-csv`` / ``--alert-above`` sinks (closed after it,
    whatever happens); says where the stats went."""
    from streamseg import log
    from streamseg.pipeline import outputs as out

    extra = out.stats_sinks(csv_path, alert_above, emit=roi_sinks.send if roi_sinks else None)
    try:
        report = run(extra)
    finally:
        out.close_all(extra)
    if csv_path is not None:
        log.info(f"wrote stats: {csv_path} ({extra[-1].rows} rows)")
    return report


def process_video(
    src: PathLike | None,
    dst: PathLike | Mapping[str, PathLike] | None = None,
    method: str | None = None,
    output_types: str | Sequence[str] = ("mask",),
    smooth: str | None = None,
    *,
    threshold: float | None = None,
    config: PathLike | Mapping[str, Any] | None = None,
    smooth_params: Mapping[str, Any] | None = None,
    rois: Sequence[str] | None = None,
    hands: bool = False,
    roi_options: Mapping[str, Any] | None = None,
    codec: str = "libx264",
    crf: int = 20,
    bitrate: str | None = None,
    preset: str | None = None,
    overwrite: bool = False,
    progress: bool = False,
    sinks: Sequence[Any] = (),
    stop: threading.Event | None = None,
    feather: float | None = None,
    strength: float | None = None,
    overlay_color: str | tuple[int, int, int] | None = None,
    overlay_alpha: float | None = None,
    outline: bool | None = None,
    hud: bool = False,
    stats_csv: PathLike | None = None,
    alert_above: float | None = None,
    **options: Any,
):
    """Segment every frame of a video file into one video per output type (like supervision's
    ``process_video``); keeps frame count, timestamps, fps and the audio track.

    Args:
        src: the video file (``None``: the demo clip of a source checkout).
        dst: output file (one type), folder (several), or type -> path; default
            ``<stem>_<type>.mp4`` next to ``src`` (``<stem>_alpha.mov`` for ``alpha``).
        method: method name or ``.onnx`` path. output_types: ``mask``, ``overlay``, ``cutout``,
            ``side-by-side``, ``alpha`` (``.mov`` ProRes 4444 or ``.webm`` VP9 with alpha),
            ``retouch``, ``blur``, ``pixelate``, ``hair`` (needs mediapipe); list or comma-separated.
        smooth: ``none``, ``ema``, ``uncertainty``, ``motion``, ``hysteresis`` or ``a+b``;
            ``None`` = the default for the method's kind.
        threshold, config, smooth_params, rois, hands, roi_options: see :class:`~streamseg.pipeline.RunConfig`.
        codec, crf, bitrate, preset: encoder settings (``preset=None``: ``ultrafast`` for mask
            videos, ``veryfast`` for the others; see docs/speed.md). overwrite: replace existing outputs.
        progress: a progress bar on stderr. sinks: more :class:`~streamseg.sinks.base.Sink` objects.
        feather, strength, overlay_color, overlay_alpha, outline: effect settings
            (:func:`streamseg.pipeline.outputs.effect_params`; ``None`` = default).
        hud: burn the HUD (method, fps, skin fraction) into the videos.
        stats_csv: write one row per frame (frame, time_s, skin_fraction, fps, latency_ms).
        alert_above: report (stderr, and the ROI stream if any) when the skin fraction crosses it.
        **options: ``provider``, ``threads``, ``size``, ``batch``, ``tta``, ``strict``, ``params``.

    Returns:
        :class:`~streamseg.pipeline.RunReport` (``outputs``: type -> file written).

    Raises:
        InputError, OutputError, ConfigError, MethodError: one line each; IncompleteError when
        frames were lost; Interrupted on Ctrl-C/SIGTERM (partial outputs kept).
    """
    from streamseg.capture.file import probe_video
    from streamseg.paths import demo_clip
    from streamseg.pipeline.config import build_rois
    from streamseg.pipeline import outputs as out
    from streamseg.pipeline.file_run import process_video_file
    from streamseg.sinks.encoder import EncoderSettings
    from streamseg.sinks.output_path import prepare_output, released_on_error

    inp = Path(src) if src is not None else demo_clip()
    # cheap checks first (method name, input, config), outputs next, models last
    types = out.check_output_types(output_types)
    params = out.effect_params(feather, strength, overlay_color, overlay_alpha, outline)
    out.check_alert(alert_above)
    cfg = _run_config(config, method, smooth, threshold, smooth_params, roi_options, rois, hands, options)
    probe_video(inp)  # fail on a bad input before loading a model
    if isinstance(dst, Mapping):
        outputs = {t: Path(dst[t]) for t in types if t in dst}
        if set(outputs) != set(types):
            raise ConfigError(f"dst: give a path for every output type ({', '.join(types)})")
    elif len(types) == 1 and dst is not None and Path(dst).suffix and not Path(dst).is_dir():
        outputs = {types[0]: Path(dst)}
    elif dst is not None and Path(dst).suffix and not Path(dst).is_dir():
        # a file name with several types: <name>_<type>.<ext> next to it (never a folder named out.mp4)
        outputs = {t: Path(dst).parent / out.default_output_name(Path(dst).stem, t) for t in types}
    else:
        folder = Path(dst) if dst is not None else None
        outputs = {t: (folder or inp.parent) / out.default_output_name(inp.stem, t) for t in types}
    settings = EncoderSettings(codec=codec, crf=crf, bitrate=bitrate, preset=preset)
    outputs = {t: out.check_video_output(t, p, settings) for t, p in outputs.items()}
    out.check_run_outputs([(f"the {t} video", p) for t, p in outputs.items()], stats_csv, cfg.rois, inputs=(inp,), overwrite=overwrite)
    outputs = {t: prepare_output(p, overwrite=overwrite, inputs=(inp,)) for t, p in outputs.items()}
    csv_path = prepare_output(Path(stats_csv), overwrite=overwrite, inputs=(inp,)) if stats_csv is not None else None
    with released_on_error(*outputs.values(), csv_path):
        person_of = out.person_segmenter(types, provider=cfg.provider, threads=cfg.threads)
        seg, smoother = _build(cfg, batch=cfg.batch)
        roi_stage, roi_sinks = build_rois(cfg, source=str(inp))
        return _run_with_stats(csv_path, alert_above, roi_sinks, lambda extra: process_video_file(
            inp, outputs, seg, smoother=smoother, threshold=cfg.threshold,
            settings=settings, roi_stage=roi_stage, roi_sinks=roi_sinks, batch=cfg.batch, progress=progress, stop=stop,
            sinks=[*sinks, *extra], renderers=out.renderers(types, params, person_of), hud=hud,
        ))


def process_live(
    source: int | str = 0,
    method: str | None = None,
    output_type: str = "overlay",
    smooth: str | None = None,
    *,
    show: bool = False,
    record: PathLike | None = None,
    sinks: Sequence[Any] = (),
    width: int | None = None,
    height: int | None = None,
    fps: float | None = None,
    mjpg: bool = True,
    reconnect: bool = True,
    timeout: float = 5.0,
    threshold: float | None = None,
    config: PathLike | Mapping[str, Any] | None = None,
    smooth_params: Mapping[str, Any] | None = None,
    rois: Sequence[str] | None = None,
    hands: bool = False,
    roi_options: Mapping[str, Any] | None = None,
    max_frames: int | None = None,
    duration: float | None = None,
    loop: bool = False,
    overwrite: bool = False,
    stop: threading.Event | None = None,
    feather: float | None = None,
    strength: float | None = None,
    overlay_color: str | tuple[int, int, int] | None = None,
    overlay_alpha: float | None = None,
    outline: bool | None = None,
    hud: bool = False,
    stats_csv: PathLike | None = None,
    alert_above: float | None = None,
    virtual_cam: bool = False,
    virtual_cam_device: str | None = None,
    virtual_cam_backend: str | None = None,
    status: bool | None = None,
    status_interval: float = 10.0,
    **options: Any,
):
    """Segment a camera or stream live, newest frame first, into a window, a recording, the ROI
    stream and any ``sinks`` (:class:`~streamseg.sinks.base.Sink`: ``write(result)``, ``close()``;
    ``result.prob`` float32 (H, W) in [0, 1], ``result.picture(output_type)`` BGR uint8).

    Args:
        source: camera index, ``/dev/videoN``, ``rtsp://``/``http://`` URL (or a video file).
        method, smooth, threshold, config, smooth_params, rois, hands, roi_options: as for
            :func:`process_video`. output_type: what the window, the recording and the virtual
            camera show (any type of :func:`process_video`; ``alpha`` records to ``.mov``/``.webm``).
        show: open a window (q/Esc ends). record: a video file for the output.
        feather, strength, overlay_color, overlay_alpha, outline, hud, stats_csv, alert_above:
            as for :func:`process_video` (``hud``: burnt into the recording).
        virtual_cam: send the output to a virtual camera (pyvirtualcam, ``streamseg[virtualcam]``);
            ``virtual_cam_device``: e.g. ``/dev/video10``; ``virtual_cam_backend``: a pyvirtualcam
            backend name (``v4l2loopback``, ``obs``, ``unitycapture``; default: the platform's).
        status: the status line on stderr (fps, latency, dropped frames, reconnects); ``None`` =
            when there is no window. Refreshed each second on a terminal, else one line every
            ``status_interval`` seconds.
        width, height, fps, mjpg: what to ask the camera for. reconnect, timeout: stream handling.
        loop: a video file as source plays once at its own rate; ``loop=True`` starts it again at the end.
        max_frames, duration: when to stop (else at the end of the source, Ctrl-C or SIGTERM);
            ``max_frames`` is at least 1 and ``duration`` above 0 (``max_frames=0`` is refused,
            as ``--max-frames 0`` is, rather than read as "no frames" or "no limit").
        **options: ``provider``, ``threads``, ``size``, ``tta``, ``strict``, ``params``.

    Returns:
        :class:`~streamseg.pipeline.RunReport` (``latency_ms``, ``dropped``, ``outputs``).
    """
    from streamseg import log
    from streamseg.capture.live import CaptureRequest, LiveSource
    from streamseg.pipeline.config import build_rois
    from streamseg.pipeline import outputs as out
    from streamseg.pipeline.live_run import live_run
    from streamseg.sinks.output_path import prepare_output, released_on_error

    types = out.check_output_types([output_type])
    if len(types) != 1 or "," in output_type:
        raise ConfigError(f"--output-type {output_type!r}: a live run shows one output type")
    params = out.effect_params(feather, strength, overlay_color, overlay_alpha, outline)
    out.check_alert(alert_above)
    if status_interval <= 0:
        raise ConfigError(f"--status-interval must be > 0 seconds, got {status_interval}")
    if max_frames is not None and (isinstance(max_frames, bool) or not isinstance(max_frames, int) or max_frames < 1):
        raise ConfigError(f"max_frames: must be an integer of at least 1 (None: no limit), got {max_frames!r}")
    if duration is not None and (isinstance(duration, bool) or not isinstance(duration, (int, float)) or not duration > 0):
        raise ConfigError(f"duration: must be a number of seconds above 0 (None: no limit), got {duration!r}")
    if virtual_cam:
        from streamseg.sinks.virtual_cam import _import_pyvirtualcam

        _import_pyvirtualcam()  # missing extra: one line before anything loads
    cfg = _run_config(config, method, smooth, threshold, smooth_params, roi_options, rois, hands, options)
    live_inputs = [Path(source)] if isinstance(source, (str, Path)) and Path(source).is_file() else []
    recorded = [("--record", Path(record))] if record is not None else []
    out.check_run_outputs(recorded, stats_csv, cfg.rois, inputs=live_inputs, overwrite=overwrite)
    rec = prepare_output(out.check_video_output(output_type, Path(record)), overwrite=overwrite) if record is not None else None
    csv_path = prepare_output(Path(stats_csv), overwrite=overwrite) if stats_csv is not None else None
    with released_on_error(rec, csv_path):
        if show:
            from streamseg.sinks.window import display_available

            if not display_available():
                log.warn("no display found (DISPLAY is not set); running without a window")
                show = False
        src = LiveSource(
            source, CaptureRequest(width=width, height=height, fps=fps, mjpg=mjpg, timeout_s=timeout), reconnect=reconnect, loop=loop,
        )
        src.open(start=False)  # a missing camera is reported before a model loads
        if not show and rec is None and not rois and not sinks and not virtual_cam and csv_path is None and alert_above is None:
            log.warn("no window, no --record and no --rois: results go nowhere (use --max-frames or Ctrl-C to stop)")
        try:
            person_of = out.person_segmenter(types, provider=cfg.provider, threads=cfg.threads)
            seg, smoother = _build(cfg)
            roi_stage, roi_sinks = build_rois(cfg, source="")
        except BaseException:
            src.close()
            raise
        return _run_with_stats(csv_path, alert_above, roi_sinks, lambda extra: live_run(
            src, seg, smoother, cfg.threshold, output_type=output_type, show=show, record=rec, roi_stage=roi_stage,
            roi_sinks=roi_sinks, sinks=[*sinks, *extra], max_frames=max_frames, duration_s=duration, stop=stop,
            renderers=out.renderers(types, params, person_of), hud=hud,
            status=(not show) if status is None else status, status_interval=status_interval,
            virtual_cam=virtual_cam, virtual_cam_device=virtual_cam_device,
            virtual_cam_backend=virtual_cam_backend, background=params.background,
        ))


def process_images(
    paths: PathLike | Sequence[PathLike],
    out_dir: PathLike | None = None,
    method: str | None = None,
    output_types: str | Sequence[str] = ("mask",),
    *,
    threshold: float = 0.5,
    overwrite: bool = False,
    feather: float | None = None,
    strength: float | None = None,
    overlay_color: str | tuple[int, int, int] | None = None,
    overlay_alpha: float | None = None,
    outline: bool | None = None,
    **options: Any,
):
    """Write ``<stem>_<type>.png`` for each image: ``mask`` (0/255), ``overlay``, ``cutout``,
    ``side-by-side``, ``prob`` (8-bit probability), ``alpha`` (RGBA, alpha = feathered mask),
    ``retouch``, ``blur``, ``pixelate``, ``hair`` (person minus skin, 0/255; needs mediapipe).

    Args:
        paths: image files, folders and globs. out_dir: output folder (default: next to each
            image), or a ``.png`` file name for one image.
        method: method name or ``.onnx`` path. threshold: skin probability threshold.
        overwrite: replace existing files. feather, strength, overlay_color, overlay_alpha,
        outline: effect settings, as for :func:`process_video`. **options: as for :func:`new_session`.

    Returns:
        :class:`~streamseg.pipeline.ImagesReport` (``done``, ``failed``, ``written``, ``errors``).

    Raises:
        InputError: no image found. IncompleteError: some images failed (after the others are done).
    """
    from streamseg import log
    from streamseg.capture.image import expand_inputs
    from streamseg.errors import IncompleteError, OutputError
    from streamseg.pipeline import outputs as out
    from streamseg.pipeline.image_run import run_images
    from streamseg.sinks.images import ImageFileSink

    types = out.check_output_types(output_types, extra=("prob",))
    params = out.effect_params(feather, strength, overlay_color, overlay_alpha, outline)
    cfg = RunConfig.make(method=method, threshold=threshold, **options)
    items = [str(paths)] if isinstance(paths, (str, Path)) else [str(p) for p in paths]
    files = expand_inputs(items)
    sink = ImageFileSink(Path(out_dir) if out_dir else None, types, overwrite)
    files = sink.check(_without_own_outputs(files, items, sink))  # every output, before anything loads
    person_of = out.person_segmenter(types, provider=cfg.provider, threads=cfg.threads)
    seg, _ = _build(cfg, log_method=True)
    report = run_images(
        files, seg, cfg.threshold, sinks=[sink],
        renderers=out.renderers([t for t in types if t != "mask"], params, person_of),
    )
    log.info(f"{report.done} of {len(files)} images done, {report.written} files written")
    if report.output_failed:
        raise OutputError(f"{report.output_failed} of {len(files)} images could not be written: {report.errors[0]}")
    if report.failed:
        raise IncompleteError(f"{report.failed} of {len(files)} images could not be read: {report.errors[0]}")
    return report


def _without_own_outputs(files: list[Path], items: Sequence[str], sink) -> list[Path]:
    """Drop, from what folders and globs found, the files a run like this one writes
    (``<stem>_<type>.png`` in the output folder), so a second run does not segment its own
    masks; files named one by one are kept."""
    from streamseg import log
    from streamseg.sinks.images import IMAGE_OUTPUT_TYPES

    named = {Path(i).resolve() for i in items if Path(i).is_file()}
    suffixes = tuple(f"_{t}" for t in IMAGE_OUTPUT_TYPES)
    kept = []
    for f in files:
        folder = sink.folder if sink.folder is not None else f.parent
        own = f.suffix.lower() == ".png" and f.stem.endswith(suffixes) and folder.resolve() == f.parent.resolve()
        if own and f.resolve() not in named:
            continue
        kept.append(f)
    if len(kept) < len(files):
        log.info(f"skipped {len(files) - len(kept)} files named like this command's outputs (<stem>_<type>.png)")
    if not kept:
        raise InputError(f"no images left: every file found is named like an output of streamseg image ({', '.join(items)})")
    return kept


def process_batch(
    inputs: PathLike | Sequence[PathLike],
    out_dir: PathLike,
    method: str | None = None,
    output_types: str | Sequence[str] = ("mask",),
    smooth: str | None = None,
    *,
    workers: int | None = None,
    ray_address: str | None = None,
    force: bool = False,
    threshold: float | None = None,
    config: PathLike | Mapping[str, Any] | None = None,
    smooth_params: Mapping[str, Any] | None = None,
    rois: bool = False,
    hands: bool = False,
    roi_options: Mapping[str, Any] | None = None,
    codec: str = "libx264",
    crf: int = 20,
    bitrate: str | None = None,
    preset: str | None = None,
    feather: float | None = None,
    strength: float | None = None,
    overlay_color: str | tuple[int, int, int] | None = None,
    overlay_alpha: float | None = None,
    outline: bool | None = None,
    hud: bool = False,
    progress: bool = False,
    stop: threading.Event | None = None,
    on_event: Any | None = None,
    chunk: int | None = None,
    **options: Any,
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
        method, output_types, smooth, threshold, config, smooth_params, roi_options, hands,
            codec, crf, bitrate, preset, feather, strength, overlay_color, overlay_alpha,
            outline, hud: as for :func:`process_video`.
        rois: write the ROI stream of each file to ``<stem>_rois.jsonl``.
        workers: how many (default: the cores, capped so each gets its ``threads``).
        ray_address: ``auto`` or ``ray://HOST:PORT`` (a Ray that is already initialised is used as it is).
        force: redo files whose outputs are complete and newer than their input (else skipped).
        progress: progress bar and summary table on stderr. stop: set it to stop (Ctrl-C does).
        on_event: ``on_event(kind, job, **info)`` per file event (``start``, ``retry``, ``done``, ...).
        chunk: images per task (default: about 8 tasks per worker, at most 64 images each).
        **options: ``provider``, ``threads`` (per worker), ``size``, ``batch``, ``tta``, ``strict``, ``fallback``, ``params``.

    Returns:
        :class:`~streamseg.batch.report.BatchReport` (``files``: per-file status, frames, seconds, fps, error).

    Raises:
        InputError: an input is missing or holds no video. ConfigError: a bad option, or Ray
        needed but not installed (one line). IncompleteError (``.report``): some files failed,
        after the others are done. Interrupted (``.report``): stopped; finished files are kept.
    """
    from streamseg.batch.inputs import expand_batch_inputs, plan_jobs
    from streamseg.batch.runner import run_batch
    from streamseg.errors import IncompleteError, Interrupted, OutputError
    from streamseg.pipeline import outputs as out
    from streamseg.sinks.encoder import EncoderSettings

    types = out.check_output_types(output_types, extra=("prob",))
    params = out.effect_params(feather, strength, overlay_color, overlay_alpha, outline)
    cfg = _run_config(config, method, smooth, threshold, smooth_params, roi_options, None, hands, options)
    folder = Path(out_dir)
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"output folder is a file: {folder}")
    items = [inputs] if isinstance(inputs, (str, Path)) else list(inputs)
    if not items:
        raise InputError("no input given (files, folders, globs or a manifest)")
    files, anchors = expand_batch_inputs(items, exclude=folder)
    jobs = plan_jobs(files, folder, types, anchors=anchors, rois=rois or hands)
    videos = [job for job in jobs if job.kind != "image"]
    if videos and "prob" in types:
        raise ConfigError(f"--output-type prob is for images only; the inputs have {len(videos)} video file(s), e.g. {videos[0].input}")
    for job in videos:
        for t, p in job.outputs.items():
            out.check_video_output(t, Path(p), EncoderSettings(codec=codec, crf=crf, bitrate=bitrate, preset=preset))
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create output folder {folder}: {exc.strerror or exc}") from None
    report = run_batch(
        jobs, cfg, dict(codec=codec, crf=crf, bitrate=bitrate, preset=preset), folder, output_types=types,
        params=params, hud=hud, workers=workers, ray_address=ray_address, force=force, progress=progress,
        stop=stop, on_event=on_event, chunk=chunk,
    )
    if report.interrupted:
        exc: Exception = Interrupted(f"interrupted: {report.done} of {len(report.files)} files done and kept; run again to do the rest")
        exc.report = report  # type: ignore[attr-defined]
        raise exc
    if report.failed:
        names = ", ".join(Path(f.input).name for f in report.failed[:3]) + (", ..." if len(report.failed) > 3 else "")
        exc = IncompleteError(f"{len(report.failed)} of {len(report.files)} files failed ({names}); see {report.report_path}")
        exc.report = report  # type: ignore[attr-defined]
        raise exc
    return report


def list_methods(provider: str = "auto"):
    """Every method with whether it can run here and why not.

    Returns:
        A list of :class:`~streamseg.segment.registry.MethodInfo` (``name``, ``kind``,
        ``description``, ``reason``: ``None`` when it runs here).
    """
    from streamseg.segment import MethodOptions
    from streamseg.segment import list_methods as _list

    return _list(MethodOptions(provider=provider))
