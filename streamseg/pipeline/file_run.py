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
    roi_sinks: Any | None = None,
    batch: int = 1,
    progress: bool = True,
    stop: threading.Event | None = None,
    sinks: Sequence[Any] = (),
    renderers: Mapping[str, Callable[[Any], Any]] | None = None,
    hud: bool = False,
) -> RunReport:
    """Segment every frame of ``input`` and write one video per output type.

    Args:
        input: a readable video file.
        outputs: output type (``mask``, ``overlay``, ``cutout``, ``side-by-side``) -> path
            (already validated with :func:`~streamseg.sinks.output_path.prepare_output`).
        segmenter, smoother, threshold: the processing (see :class:`~streamseg.pipeline.Processor`).
        settings: :class:`~streamseg.sinks.encoder.EncoderSettings` shared by all outputs.
        roi_stage, roi_sinks: optional ROI extraction and its sinks (:class:`~streamseg.rois.RoiSinks`).
        batch: frames per inference.
        progress: show a rich progress bar on stderr.
        stop: set it to stop early (SIGINT/SIGTERM also do).
        sinks: more :class:`~streamseg.sinks.base.Sink` objects (written after the videos; closed
            by their owner).
        renderers: output type -> ``FrameResult -> picture`` (:func:`streamseg.pipeline.outputs.renderers`);
            needed for the types of :mod:`streamseg.effects` that :mod:`streamseg.render` does not draw.
            4-channel types (``alpha``) go to ``.mov`` / ``.webm`` alpha writers.
        hud: burn the HUD (method, fps, skin fraction) into every output video.

    Returns:
        The run report; ``report.outputs`` maps each type to its file, ``report.output`` is the first.

    Raises:
        Interrupted: stopped early; every output is kept, playable, under its ``.partial`` name.
        IncompleteError: some frames could not be decoded; outputs kept as ``.partial``.
        OutputError: writing failed (disk full, permissions); nothing is left behind.
    """
    from streamseg.capture.file import FileSource
    from streamseg.pipeline.outputs import HudText, open_video_sink
    from streamseg.pipeline.outputs import renderers as make_renderers

    stop = stop or threading.Event()
    source = FileSource(input)
    info = source.info
    videos: dict[str, Any] = {}
    render = dict(renderers) if renderers is not None else make_renderers(list(outputs))
    hud_text = HudText(segmenter) if hud else None
    ok = False
    hard_stop = False  # a second Ctrl-C: stop at once, but keep what was written
    try:
        for kind, path in outputs.items():
            videos[kind] = open_video_sink(
                kind, path, info.width, info.height, info.fps, render[kind], time_base=info.time_base,
                settings=settings, audio_from=input if info.has_audio else None, hud=hud_text,
            )
        if roi_stage is not None:
            roi_stage.warmup(info.height, info.width)
        # a grey mask video needs no rendered picture (its sink encodes the mask itself)
        rendered = tuple(t for t in outputs if not getattr(videos[t], "grey", False))
        processor = Processor(segmenter, smoother, threshold, output_types=rendered, roi_stage=roi_stage, renderers=render)
        all_sinks: list[Any] = [*videos.values()]
        if roi_sinks is not None:
            all_sinks.append(roi_sinks)
        all_sinks += list(sinks)
        log.info(
            f"input: {input} ({info.width}x{info.height}, {float(info.fps):.3g} fps, "
            f"{info.frame_count or '?'} frames{', audio' if info.has_audio else ''}"
            f"{f', turned {info.rotation} degrees clockwise' if info.rotation else ''}"
            f"{', mirrored' if getattr(info, 'mirrored', False) else ''}"
            f"{' as its display matrix says' if info.rotation or getattr(info, 'mirrored', False) else ''})"
        )
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
        n = max(report.frames_out, 1)
        report.extra_ms = {"decode": 1000 * source.decode_seconds / n}
        for kind, v in videos.items():
            report.extra_ms[f"encode {kind}"] = 1000 * v.encoder.encode_seconds / n
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
        for v in videos.values():
            v.close()
        ok = True
        report.outputs = {kind: v.path for kind, v in videos.items()}
        report.output = next(iter(report.outputs.values()), None)
        for kind, v in videos.items():
            log.info(f"wrote {kind}: {v.path} ({v.encoder.frames_written} frames)")
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
        if roi_stage is not None:
            roi_stage.close()
        if roi_sinks is not None:
            roi_sinks.close()
