"""One batch worker: loads the method once, then segments file after file (a video per task,
or a chunk of images per task).

The same class runs in this process (``--workers 1``) and as a Ray actor (one per worker). Every
call returns plain data (dicts), never raises for a bad file: a failure belongs to its file.

Example:
    >>> from streamseg.pipeline.spec import RunSpec
    >>> w = FileWorker(RunSpec.make(method="ellipse"), ["mask"])   # doctest: +SKIP
    >>> w.ready()["method"]                                        # doctest: +SKIP
    'ellipse'
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Iterator

from streamseg.errors import Interrupted, StreamsegError
from streamseg.sinks.base import Sink


@contextlib.contextmanager
def quiet_log() -> Iterator[None]:
    """Silence the per-file lines of :mod:`streamseg.log` (the batch reports instead)."""
    from streamseg import log

    old = log.console.quiet
    log.console.quiet = True
    try:
        yield
    finally:
        log.console.quiet = old


class _Counter(Sink):
    """A sink that counts frames (progress across workers)."""

    def __init__(self, worker: "FileWorker") -> None:
        self.worker = worker

    def write(self, result) -> None:
        self.worker.frames += 1
        if self.worker.on_frame is not None:
            self.worker.on_frame()


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    msg = text[0] if text else ""
    return msg if isinstance(exc, StreamsegError) else f"{type(exc).__name__}: {msg}"


class FileWorker:
    """Segment many files with the parts of one spec, built once.

    Args:
        spec: the run's :class:`~streamseg.pipeline.spec.RunSpec` (its ROI sinks are ignored:
            ROI lines go to one ``<stem>_rois.jsonl`` per file when a job asks for it).
        output_types: the types every job writes (their effects are configured here).
    """

    def __init__(self, spec: Any, output_types: Any = ("mask",)) -> None:
        self.spec = spec
        self.output_types = list(output_types)
        self.frames = 0
        self.on_frame: Callable[[], None] | None = None
        self._stop = threading.Event()
        self._error: str | None = None
        self._exit_code = 2
        self.parts: Any = None
        self._image_processor = None
        try:
            from streamseg.pipeline.build import build

            with quiet_log():
                self.parts = build(spec, output_types=self.output_types, rois=False, announce=False)
        except BaseException as exc:  # noqa: BLE001 - reported by ready()
            self._error = _one_line(exc)
            self._exit_code = getattr(exc, "exit_code", 1)

    def ready(self) -> dict[str, Any]:
        """What runs here: ``pid``, ``method``, ``provider``, ``fallback_from``; or ``error``."""
        if self._error is not None:
            return {"pid": os.getpid(), "error": self._error, "exit_code": self._exit_code}
        seg = self.parts.segmenter
        return {
            "pid": os.getpid(), "method": seg.name, "provider": getattr(seg, "provider", "cpu"),
            "fallback_from": getattr(seg, "fallback_from", None),
        }

    def progress(self) -> int:
        """Frames done in the current file."""
        return self.frames

    def stop(self) -> None:
        """Ask the current file to stop after its current frame (its outputs stay ``.partial``)."""
        self._stop.set()

    def _set_threads(self) -> None:
        threads = self.spec.method.threads
        if threads:
            with contextlib.suppress(Exception):  # numba's thread count is per calling thread
                import numba

                numba.set_num_threads(max(1, min(int(threads), numba.config.NUMBA_NUM_THREADS)))

    def process(self, job: Any) -> dict[str, Any]:
        """Segment one file into its outputs; returns ``status`` (done, failed, interrupted),
        ``frames``, ``seconds``, ``error``, ``pid``. A chunk of images goes to :meth:`process_images`."""
        from streamseg.batch.images import ImageChunk

        if isinstance(job, ImageChunk):
            return self.process_images(job)
        from streamseg.pipeline.build import build_roi_stage, open_roi_sinks
        from streamseg.pipeline.file_run import process_video_file
        from streamseg.sinks.output_path import commit, discard, partial_path, prepare_output

        self.frames = 0
        t0 = time.perf_counter()
        self._set_threads()
        out: dict[str, Any] = {"status": "failed", "frames": 0, "seconds": 0.0, "error": None, "pid": os.getpid()}
        if self._stop.is_set():
            out["status"] = "interrupted"
            return out
        rois_tmp = Path(partial_path(Path(job.rois))) if job.rois else None
        try:
            if self._error is not None:
                raise StreamsegError(self._error)
            inp = Path(job.input)
            parts, out_spec = self.parts, self.spec.output
            with quiet_log(), contextlib.ExitStack() as owned:
                outputs = {t: prepare_output(Path(p), overwrite=True, inputs=(inp,)) for t, p in job.outputs.items()}
                roi_stage, roi_specs = None, ()
                if rois_tmp is not None:
                    prepare_output(Path(job.rois), overwrite=True, inputs=(inp,))
                    roi_specs = (f"jsonl:{rois_tmp}",)
                    roi_stage = build_roi_stage(replace(self.spec.rois, sinks=roi_specs))
                    owned.callback(roi_stage.close)
                roi_sinks = owned.enter_context(open_roi_sinks(roi_specs, source=str(inp)))
                report = process_video_file(
                    inp, outputs, parts.segmenter, smoother=parts.smoother, threshold=out_spec.threshold,
                    settings=out_spec.encoder, roi_stage=roi_stage, batch=self.spec.method.batch, progress=False,
                    stop=self._stop, sinks=[roi_sinks, _Counter(self)], effects=parts.effects, hud=out_spec.hud,
                    scene_cut=parts.cut_detector(),
                )
            if rois_tmp is not None:
                commit(rois_tmp, Path(job.rois))
            out.update(status="done", frames=report.frames_out)
        except Interrupted as exc:
            out.update(status="interrupted", frames=self.frames, error=_one_line(exc))
        except BaseException as exc:  # noqa: BLE001 - a bad file fails its own task only
            out.update(frames=self.frames, error=_one_line(exc))
            if isinstance(exc, KeyboardInterrupt):
                out["status"] = "interrupted"
        finally:
            if rois_tmp is not None and out["status"] != "done":
                discard(rois_tmp)
            if out["status"] != "done":  # a kept .partial must not keep its lock file after this job
                from streamseg.sinks import output_path

                release = getattr(output_path, "release_lock", None)
                for p in job.all_outputs() if release is not None else ():
                    with contextlib.suppress(Exception):
                        release(Path(p))
            out["seconds"] = time.perf_counter() - t0
        return out

    def process_images(self, chunk: Any) -> dict[str, Any]:
        """Segment each image of a :class:`~streamseg.batch.images.ImageChunk` into its PNG
        outputs (what ``streamseg image`` writes for it); a bad image fails alone.

        Returns:
            ``status`` (done, or interrupted when stopped before the end), ``seconds``, ``pid``
            and ``images``: one row per image processed (see :meth:`process_image`).
        """
        t0 = time.perf_counter()
        self._set_threads()
        out: dict[str, Any] = {"status": "done", "images": [], "seconds": 0.0, "error": None, "pid": os.getpid()}
        with quiet_log():
            for job in chunk.jobs:
                if self._stop.is_set():
                    out.update(status="interrupted", error="stopped before it finished")
                    break
                out["images"].append(self.process_image(job))
        out["seconds"] = time.perf_counter() - t0
        return out

    def process_image(self, job: Any) -> dict[str, Any]:
        """One image -> its outputs. Returns its row: ``input``, ``status`` (done or failed),
        ``width``, ``height``, ``bytes``, ``skin_fraction``, ``regions``, ``ms``, ``error``, ``end``
        (Unix time when it finished)."""
        from streamseg.capture.image import read_image
        from streamseg.frames import Frame
        from streamseg.pipeline.image_stats import mask_stats
        from streamseg.sinks.images import write_image_outputs

        t0 = time.perf_counter()
        row: dict[str, Any] = {"input": job.input, "status": "failed", "width": None, "height": None, "bytes": None,
                               "skin_fraction": None, "regions": None, "error": None}
        try:
            if self._error is not None:
                raise StreamsegError(self._error)
            inp = Path(job.input)
            row["bytes"] = inp.stat().st_size if inp.exists() else None
            img = read_image(inp)
            row["height"], row["width"] = int(img.shape[0]), int(img.shape[1])
            result = self._images().process(Frame(img, index=0, time=0.0, reset=True, source=job.input))
            write_image_outputs(result, {t: Path(p) for t, p in job.outputs.items()}, inp, overwrite=True)
            row.update(mask_stats(result.mask), status="done")
        except Exception as exc:  # noqa: BLE001 - a bad image fails its own row only
            row["error"] = _one_line(exc)
        row["ms"] = round(1000 * (time.perf_counter() - t0), 2)
        row["end"] = round(time.time(), 3)
        return row

    def _images(self):
        """The processor of still images: no smoothing, effect types rendered once per image
        (as ``streamseg image`` builds it)."""
        if self._image_processor is None:
            rendered = [t for t in self.output_types if t in self.parts.effects]
            self._image_processor = self.parts.processor(rendered, smoothing=False)
        return self._image_processor
