"""File runs: decode thread -> processor (this thread) -> encode threads, joined by bounded
queues so memory stays flat and no frame is ever dropped (cf. supervision's ``process_video``).

Example:
    >>> from streamseg.paths import demo_clip
    >>> from streamseg.segment import create
    >>> report = process_video_file(demo_clip(), {"mask": Path("/tmp/demo_mask.mp4")},
    ...                             create("ellipse"), progress=False)   # doctest: +SKIP
    >>> report.frames_out == report.frames_in                          # doctest: +SKIP
    True
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

from streamseg import log
from streamseg.errors import IncompleteError, Interrupted, OutputError, StreamsegError
from streamseg.frames import Frame
from streamseg.pipeline.processor import Processor, RunReport, stop_on_signals
from streamseg.segment.base import Segmenter


def _batches(frames: Iterator[Frame], n: int) -> Iterator[list[Frame]]:
    batch: list[Frame] = []
    for f in frames:
        batch.append(f)
        if len(batch) >= n:
            yield batch
            batch = []
    if batch:
        yield batch


def run_frames(
    frames: Iterator[Frame],
    processor: Processor,
    sinks: Sequence[Any] = (),
    stop: threading.Event | None = None,
    batch: int = 1,
    on_frame: Any | None = None,
) -> RunReport:
    """Push every frame of a (file) iterator through ``processor`` into ``sinks``; drop none.

    Each sink is a :class:`~streamseg.sinks.base.Sink` (only ``write`` is called here);
    ``on_frame(result)`` is called after the sinks (progress). Stops early, with
    ``report.interrupted``, when ``stop`` is set.
    """
    stop = stop or threading.Event()
    report = RunReport()
    t_start = time.perf_counter()
    for group in _batches(frames, max(1, batch)):
        report.frames_in += len(group)
        for result in processor.process_batch(group):
            t0 = time.perf_counter()
            for sink in sinks:
                sink.write(result)
            processor.times.add("sinks", time.perf_counter() - t0)
            report.frames_out += 1
            if on_frame is not None:
                on_frame(result)
        if stop.is_set():
            report.interrupted = True
            break
    report.seconds = time.perf_counter() - t_start
    report.stages = processor.times.summary()
    return report


def _progress():
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[fps]:>6.1f} fps"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=log.console,
        transient=False,
    )


def process_video_file(
    input: Path,
    outputs: dict[str, Path],
    segmenter: Segmenter,
    smoother: Any | None = None,
    threshold: float = 0.5,
    settings: Any | None = None,
    roi_stage: Any | None = None,
    batch: int = 1,
    progress: bool = True,
    stop: threading.Event | None = None,
    sinks: Sequence[Any] = (),
    effects: Mapping[str, Any] | None = None,
    hud: bool = False,
    scene_cut: Any | bool = True,
) -> RunReport:
    """Segment every frame of ``input`` and write one video per output type.

    Args:
        input: a readable video file.
        outputs: output type (``mask``, ``overlay``, ``cutout``, ``side-by-side``, ...) -> path
            (already validated with :func:`~streamseg.sinks.output_path.prepare_output`); the
            :class:`~streamseg.sinks.video.VideoSink` of each is opened, and closed (or aborted), here.
        segmenter, smoother, threshold, roi_stage: the processing (see
            :class:`~streamseg.pipeline.Processor`; the caller owns them).
        settings: :class:`~streamseg.sinks.settings.EncoderSettings` shared by all outputs.
        batch: frames per inference.
        progress: show a rich progress bar on stderr.
        stop: set it to stop early (SIGINT/SIGTERM also do).
        sinks: the caller's sinks (the ROI stream, counters...): written after the videos,
            never closed here.
        effects: output type -> configured :class:`~streamseg.effects.base.Effect` (a type
            without one gets the defaults).
        hud: burn the HUD (method, fps, skin fraction) into every output video.
        scene_cut: the processor's scene-cut detector (see :class:`~streamseg.pipeline.Processor`).

    Returns:
        The run report; ``report.outputs`` maps each type to its file, ``report.output`` is the first.

    Raises:
        Interrupted: stopped early; every output is kept, playable, under its ``.partial`` name.
        IncompleteError: some frames could not be decoded; outputs kept as ``.partial``.
        OutputError: writing failed (disk full, permissions); nothing is left behind.
    """
    from streamseg.capture.file import FileSource
    from streamseg.pipeline.outputs import HudText
    from streamseg.sinks.video import VideoSink

    stop = stop or threading.Event()
    source = FileSource(input)
    info = source.info
    videos: dict[str, VideoSink] = {}
    hud_text = HudText(segmenter) if hud else None
    ok = False
    hard_stop = False  # a second Ctrl-C: stop at once, but keep what was written
    try:
        for kind, path in outputs.items():
            videos[kind] = VideoSink(
                path, kind, info.width, info.height, info.fps, time_base=info.time_base, settings=settings,
                audio_from=input if info.has_audio else None, hud=hud_text,
            )
        if roi_stage is not None:
            roi_stage.warmup(info.height, info.width)
        processor = Processor(
            segmenter, smoother, threshold, output_types=tuple(outputs), roi_stage=roi_stage, effects=effects, scene_cut=scene_cut,
        )
        log.info(
            f"input: {input} ({info.width}x{info.height}, {float(info.fps):.3g} fps, "
            f"{info.frame_count or '?'} frames{', audio' if info.has_audio else ''}"
            f"{f', turned {info.rotation} degrees clockwise' if info.rotation else ''}"
            f"{', mirrored' if info.mirrored else ''}"
            f"{' as its display matrix says' if info.rotation or info.mirrored else ''})"
        )
        all_sinks = [*videos.values(), *sinks]
        bar = _progress() if progress else None
        with stop_on_signals(stop):
            if bar is not None:
                with bar:
                    task = bar.add_task("segmenting", total=info.frame_count, fps=0.0)

                    def on_frame(_res, _t=[0]):
                        _t[0] += 1
                        elapsed = bar.tasks[task].elapsed or 0
                        bar.update(task, advance=1, fps=_t[0] / elapsed if elapsed else 0.0)

                    report = run_frames(iter(source), processor, all_sinks, stop=stop, batch=batch, on_frame=on_frame)
            else:
                report = run_frames(iter(source), processor, all_sinks, stop=stop, batch=batch)
        report.decode_errors = source.errors
        report.frames_lost = source.lost if not report.interrupted else 0
        if report.interrupted:
            kept = [v.abort(keep_partial=True) for v in videos.values()]
            kept_s = ", ".join(str(p) for p in kept if p) or "nothing (no frame was processed)"
            raise Interrupted(f"interrupted after {report.frames_out} frames; partial output kept: {kept_s}")
        if report.frames_out == 0:
            for v in videos.values():
                v.abort(keep_partial=False)
            detail = f" ({source.error_messages[0]})" if source.error_messages else ""
            raise IncompleteError(f"no frame of {input} could be decoded{detail}")
        if report.frames_lost or report.decode_errors:
            kept = [v.abort(keep_partial=True) for v in videos.values()]
            # the container's frame count is a hint (edit lists, dropped-frame entries): the total
            # is what was decoded plus what was lost
            total = report.frames_out + report.frames_lost
            about = "" if source.lost_exact else "about "
            raise IncompleteError(
                f"{input}: {about}{report.frames_lost} of {about}{total} frames could not be decoded "
                f"({source.damage}); "
                f"the {report.frames_out} decoded frames are in: " + ", ".join(str(p) for p in kept if p)
            )
        written = {kind: v.close() for kind, v in videos.items()}
        ok = True
        n = max(report.frames_out, 1)
        report.extra_ms = {"decode": 1000 * source.decode_seconds / n}
        report.extra_ms.update({f"encode {kind}": 1000 * w.seconds / n for kind, w in written.items()})
        report.outputs = {kind: w.path for kind, w in written.items()}
        report.output = next(iter(report.outputs.values()), None)
        for kind, w in written.items():
            log.info(f"wrote {kind}: {w.path} ({w.written} frames)")
        log.info(f"{report.frames_out} frames in {report.seconds:.1f} s ({report.fps:.1f} fps)")
        return report
    except StreamsegError:
        raise
    except OSError as exc:
        raise OutputError(f"{exc.strerror or exc}") from None
    except KeyboardInterrupt:
        hard_stop = True
        raise
    finally:
        if not ok:
            kept = [v.abort(keep_partial=hard_stop) for v in videos.values()]
            if hard_stop and any(kept):
                log.warn("partial output kept: " + ", ".join(str(p) for p in kept if p))
        source.close()


def output_paths(dst: Any, types: Sequence[str], inp: Path) -> dict[str, Path]:
    """Output type -> path of a file run: ``dst`` a file (one type; with several,
    ``<name>_<type>.<ext>`` next to it), a folder, a type -> path mapping, or ``None``
    (``<stem>_<type>.mp4`` next to the input; ``.mov`` for types with alpha).

    Raises:
        ConfigError: a mapping that misses a type.
    """
    from streamseg.errors import ConfigError
    from streamseg.pipeline.outputs import default_output_name

    if isinstance(dst, Mapping):
        outputs = {t: Path(dst[t]) for t in types if t in dst}
        if set(outputs) != set(types):
            raise ConfigError(f"dst: give a path for every output type ({', '.join(types)})")
        return outputs
    if dst is not None and Path(dst).suffix and not Path(dst).is_dir():
        if len(types) == 1:
            return {types[0]: Path(dst)}
        # a file name with several types: <name>_<type>.<ext> next to it (never a folder named out.mp4)
        return {t: Path(dst).parent / default_output_name(Path(dst).stem, t) for t in types}
    folder = Path(dst) if dst is not None else inp.parent
    return {t: folder / default_output_name(inp.stem, t) for t in types}


def run(
    src: Path | str | None,
    dst: Any,
    spec: Any,
    *,
    sinks: Sequence[Any] = (),
    progress: bool = False,
    stop: threading.Event | None = None,
    overwrite: bool = False,
) -> RunReport:
    """A video file run of ``spec`` (:class:`~streamseg.pipeline.spec.RunSpec`): cheap checks
    first (input, output types and paths), then :func:`~streamseg.pipeline.build.build`, then
    :func:`process_video_file`. ``sinks`` are the caller's (written, never closed here).

    Args:
        src: the video file (``None``: the demo clip of a source checkout).
        dst: see :func:`output_paths`.
    """
    from streamseg.capture.file import probe_video
    from streamseg.paths import demo_clip
    from streamseg.pipeline import outputs as out
    from streamseg.pipeline.build import build, open_roi_sinks, stats_sinks
    from streamseg.sinks.output_path import prepare_output, released_on_error

    inp = Path(src) if src is not None else demo_clip()
    types = out.check_output_types(spec.output.types_or(["mask"]))
    probe_video(inp)  # fail on a bad input before loading a model
    settings = spec.output.encoder
    outputs = {t: out.check_video_output(t, p, settings) for t, p in output_paths(dst, types, inp).items()}
    stats_csv = spec.output.stats_csv
    out.check_run_outputs([(f"the {t} video", p) for t, p in outputs.items()], stats_csv, spec.rois.sinks, inputs=(inp,), overwrite=overwrite)
    outputs = {t: prepare_output(p, overwrite=overwrite, inputs=(inp,)) for t, p in outputs.items()}
    csv_path = prepare_output(stats_csv, overwrite=overwrite, inputs=(inp,)) if stats_csv is not None else None
    with released_on_error(*outputs.values(), csv_path), build(spec, output_types=types) as parts:
        with open_roi_sinks(spec.rois.sinks, source=str(inp)) as roi_sinks, stats_sinks(spec, csv_path, roi_sinks) as extra:
            return process_video_file(
                inp, outputs, parts.segmenter, smoother=parts.smoother, threshold=spec.output.threshold,
                settings=settings, roi_stage=parts.roi_stage, batch=spec.method.batch, progress=progress, stop=stop,
                sinks=[roi_sinks, *extra, *sinks], effects=parts.effects, hud=spec.output.hud, scene_cut=parts.cut_detector(),
            )
