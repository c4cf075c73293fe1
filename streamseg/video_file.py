"""Process one video file end to end: decode thread -> processor -> encode threads.

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
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from streamseg import log
from streamseg.capture.file import FileSource
from streamseg.errors import IncompleteError, Interrupted, OutputError, StreamsegError
from streamseg.pipeline import EncoderSink, Processor, RoiSink, RunReport, run_frames, stop_on_signals
from streamseg.render import output_size
from streamseg.segment.base import Segmenter
from streamseg.sinks.encoder import EncoderSettings, VideoEncoder


def _progress(total: int | None) -> Progress:
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
    settings: EncoderSettings | None = None,
    roi_stage: Any | None = None,
    roi_sinks: Any | None = None,
    batch: int = 1,
    progress: bool = True,
    stop: threading.Event | None = None,
) -> RunReport:
    """Segment every frame of ``input`` and write one video per output type.

    Args:
        input: a readable video file.
        outputs: output type (``mask``, ``overlay``, ``cutout``, ``side-by-side``) -> path
            (already validated with :func:`~streamseg.sinks.output_path.prepare_output`).
        segmenter, smoother, threshold: the processing (see :class:`~streamseg.pipeline.Processor`).
        settings: encoder settings shared by all outputs.
        roi_stage, roi_sinks: optional ROI extraction and its sinks.
        batch: frames per inference.
        progress: show a rich progress bar on stderr.
        stop: set it to stop early (SIGINT/SIGTERM also do).

    Returns:
        The run report; ``report.output`` is the first output path.

    Raises:
        Interrupted: stopped early; every output is kept, playable, under its ``.partial`` name.
        IncompleteError: some frames could not be decoded; outputs kept as ``.partial``.
        OutputError: writing failed (disk full, permissions); nothing is left behind.
    """
    stop = stop or threading.Event()
    source = FileSource(input)
    info = source.info
    encoders: dict[str, VideoEncoder] = {}
    ok = False
    try:
        for kind, path in outputs.items():
            w, h = output_size(info.width, info.height, kind)
            encoders[kind] = VideoEncoder(
                path,
                w,
                h,
                info.fps,
                time_base=info.time_base,
                settings=settings,
                audio_from=input if info.has_audio else None,
            )
        if roi_stage is not None:
            roi_stage.warmup(info.height, info.width)
        processor = Processor(segmenter, smoother, threshold, output_type=None, roi_stage=roi_stage)
        sinks: list[Any] = [EncoderSink(enc, kind) for kind, enc in encoders.items()]
        if roi_sinks is not None:
            sinks.append(RoiSink(roi_sinks))
        log.info(
            f"input: {input} ({info.width}x{info.height}, {float(info.fps):.3g} fps, "
            f"{info.frame_count or '?'} frames{', audio' if info.has_audio else ''})"
        )
        bar = _progress(info.frame_count) if progress else None
        with stop_on_signals(stop):
            if bar is not None:
                with bar:
                    task = bar.add_task("segmenting", total=info.frame_count, fps=0.0)

                    def on_frame(_res, _t=[0]):
                        _t[0] += 1
                        elapsed = bar.tasks[task].elapsed or 0
                        bar.update(task, advance=1, fps=_t[0] / elapsed if elapsed else 0.0)

                    report = run_frames(iter(source), processor, sinks, stop=stop, batch=batch, on_frame=on_frame)
            else:
                report = run_frames(iter(source), processor, sinks, stop=stop, batch=batch)
        report.decode_errors = source.errors
        report.frames_lost = source.lost if not report.interrupted else 0
        n = max(report.frames_out, 1)
        report.extra_ms = {"decode": 1000 * source.decode_seconds / n}
        for kind, enc in encoders.items():
            report.extra_ms[f"encode {kind}"] = 1000 * enc.encode_seconds / n
        if report.interrupted:
            kept = [enc.abort(keep_partial=True) for enc in encoders.values()]
            kept_s = ", ".join(str(p) for p in kept if p) or "nothing (no frame was processed)"
            raise Interrupted(f"interrupted after {report.frames_out} frames; partial output kept: {kept_s}")
        if report.frames_out == 0:
            for enc in encoders.values():
                enc.abort(keep_partial=False)
            detail = f" ({source.error_messages[0]})" if source.error_messages else ""
            raise IncompleteError(f"no frame of {input} could be decoded{detail}")
        if report.frames_lost or report.decode_errors:
            kept = [enc.abort(keep_partial=True) for enc in encoders.values()]
            total = info.frame_count or report.frames_out + report.frames_lost
            raise IncompleteError(
                f"{input}: {report.frames_lost} of {total} frames could not be decoded "
                f"({report.decode_errors} corrupt packets; truncated or damaged file); "
                f"the {report.frames_out} decoded frames are in: " + ", ".join(str(p) for p in kept if p)
            )
        written = [enc.finish() for enc in encoders.values()]
        ok = True
        report.output = written[0]
        for kind, path in zip(encoders, written):
            log.info(f"wrote {kind}: {path} ({encoders[kind].frames_written} frames)")
        log.info(f"{report.frames_out} frames in {report.seconds:.1f} s ({report.fps:.1f} fps)")
        return report
    except StreamsegError:
        raise
    except OSError as exc:
        raise OutputError(f"{exc.strerror or exc}") from None
    finally:
        if not ok:
            for enc in encoders.values():
                enc.abort(keep_partial=False)
        source.close()
        if roi_stage is not None:
            roi_stage.close()
        if roi_sinks is not None:
            roi_sinks.close()
