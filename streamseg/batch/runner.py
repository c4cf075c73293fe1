"""Run a batch: plan (skip what is up to date, probe the rest, longest first), then hand one file
at a time to whichever worker is free: Ray actors (embedded local Ray, or a cluster) or, with
one worker, this process.

- A bad or truncated file fails its own job (its one-line error is in the report).
- A worker process that dies has its file retried once on another worker; a replacement worker
  is started so the pool keeps its size.
- Ctrl-C / SIGTERM: workers stop after their current frame (those outputs stay ``.partial``),
  finished files are kept, the report is written; a second Ctrl-C ends at once.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from streamseg import log
from streamseg.batch.images import RESULTS_NAME, ImageChunk, ResultsLog, finish_chunk, plan_images, result_row, retry_tasks, to_tasks
from streamseg.batch.inputs import Job, is_up_to_date
from streamseg.batch.report import REPORT_NAME, BatchProgress, BatchReport, FileResult, print_summary
from streamseg.batch.worker import FileWorker, quiet_log
from streamseg.errors import ConfigError, InputError, StreamsegError

#: the one line printed when Ray is needed but missing
RAY_MISSING = (
    "Ray is not installed: pip install 'streamseg[ray]' for parallel workers or a cluster, "
    "or use --workers 1 to run in this process"
)
#: how many times a file is tried when its worker dies (the first try and one retry)
MAX_ATTEMPTS = 2
#: seconds to wait for workers to finish their current frame after a stop
STOP_GRACE_S = 20.0


def cpu_count() -> int:
    """Cores this process may use (affinity and cgroup aware where the OS says so)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def plan_workers(workers: int | None, threads: int, cpus: int) -> tuple[int, int]:
    """``(workers, threads per worker)``: by default one worker per ``threads`` cores (one
    thread each unless ``--threads``), so the workers never oversubscribe the cores."""
    if workers is not None and workers < 1:
        raise ConfigError(f"--workers {workers}: must be at least 1")
    if threads and threads > 0:
        per = threads
    elif workers:
        per = max(1, cpus // workers)
    else:
        per = 1
    return (workers or max(1, cpus // per)), per


def import_ray():
    """The ``ray`` module, or a :class:`ConfigError` with the one-line install hint."""
    try:
        import ray
    except ImportError:
        raise ConfigError(RAY_MISSING) from None
    return ray


def _quiet_ray_logging() -> None:
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    for name in ("ray", "ray.data", "ray.tune", "ray.serve", "ray.train"):
        logging.getLogger(name).setLevel(logging.ERROR)


def init_ray(address: str | None, num_cpus: int) -> bool:
    """Start embedded Ray (``address=None``) or connect to a cluster, with Ray's own logging
    silenced. Returns whether this call started it (then :func:`shutdown_ray` ends it); a Ray
    that the caller already started is used as it is.

    The embedded Ray is private to this process (:mod:`streamseg.batch.ray_local`): it listens
    on 127.0.0.1 only, has no dashboard, ignores ``RAY_ADDRESS`` and a stale
    ``/tmp/ray/ray_current_cluster``, and its processes and temp dir go with the run.

    Raises:
        ConfigError: Ray is missing, or the cluster cannot be reached.
    """
    ray = import_ray()
    if ray.is_initialized():
        return False
    _quiet_ray_logging()
    quiet = dict(logging_level=logging.ERROR, log_to_driver=False, configure_logging=True)
    try:
        if address:
            if address.startswith("ray://"):
                ray.init(address=address, logging_level=logging.ERROR, log_to_driver=False)
            else:
                ray.init(address=address, include_dashboard=False, **quiet)
        else:
            from streamseg.batch import ray_local

            ray_local.start(num_cpus, **quiet)
    except Exception as exc:  # noqa: BLE001 - ConnectionError, ValueError, RuntimeError...
        where = f"the Ray cluster at {address}" if address else "a local Ray"
        msg = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ConfigError(f"cannot start or reach {where}: {msg}") from None
    _quiet_ray_logging()
    return True


def shutdown_ray() -> None:
    """Shut down the Ray of this process; the embedded one also has its left-over processes
    stopped and its temp dir removed (:func:`streamseg.batch.ray_local.stop`)."""
    from streamseg.batch import ray_local

    with quiet_log():
        ray_local.stop()


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """SIGTERM acts like Ctrl-C while Ray starts (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(_signum, _frame):
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def _fail_start(info: dict[str, Any]) -> StreamsegError:
    exc = StreamsegError(info.get("error") or "the workers could not start")
    exc.exit_code = int(info.get("exit_code") or 2)
    return exc


def _discard_partials(job: Job) -> None:
    from streamseg.sinks.output_path import discard, partial_path

    for p in job.all_outputs():
        tmp = partial_path(Path(p))
        discard(tmp)
        discard(tmp.with_name(tmp.name + ".lock"))  # its writer is dead, so is its flock


class _Run:
    """The bookkeeping shared by both schedulers."""

    def __init__(self, jobs: Sequence[Job], results: dict[str, FileResult], bar: BatchProgress,
                 on_event: Callable[..., None] | None, results_log: ResultsLog | None = None) -> None:
        self.jobs: list[Any] = list(jobs)
        self.results = results
        self.bar = bar
        self.on_event = on_event
        self.results_log = results_log
        self.frames_done = 0
        self.files_done = 0
        self.images_done = 0
        self.failed = 0
        self.inflight_frames = 0

    def event(self, kind: str, job: Job, **info: Any) -> None:
        if self.on_event is not None:
            self.on_event(kind, job, **info)

    def finish(self, job: Job, res: dict[str, Any]) -> None:
        if isinstance(job, ImageChunk):
            self.finish_images(job, res)
            return
        r = self.results[job.input]
        r.status = res["status"]
        r.frames = res.get("frames")
        r.seconds = round(res.get("seconds") or 0.0, 3)
        r.fps = round(r.frames / res["seconds"], 2) if r.frames and res.get("seconds") else None
        r.error = res.get("error")
        r.attempts = job.attempts
        r.worker = res.get("pid")
        if r.status == "done":
            self.files_done += 1
            self.frames_done += r.frames or 0
        elif r.status == "failed":
            self.files_done += 1
            self.failed += 1
        self.event(r.status, job, result=r)
        if self.results_log is not None and r.status in ("done", "failed"):
            self.results_log.write([result_row(r)])
        self.tick()

    def finish_images(self, chunk: ImageChunk, res: dict[str, Any]) -> None:
        finished = finish_chunk(chunk, res, self.results)
        for job, r in finished:
            self.files_done += r.status in ("done", "failed")
            self.images_done += r.status == "done"
            self.failed += r.status == "failed"
            self.event(r.status, job, result=r)
        if self.results_log is not None:
            self.results_log.write([result_row(r) for _, r in finished if r.status in ("done", "failed")])
        self.tick()

    def tick(self) -> None:
        self.bar.update(self.files_done, self.failed, self.frames_done + self.inflight_frames, self.images_done)


def _run_local(run: _Run, wargs: tuple, stop: threading.Event) -> dict[str, Any]:
    """One worker in this process, file after file."""
    from streamseg.pipeline.processor import stop_on_signals

    worker = FileWorker(*wargs)
    info = worker.ready()
    if "error" in info:
        raise _fail_start(info)
    worker._stop = stop
    last = [0.0]

    def on_frame() -> None:
        now = time.perf_counter()
        if now - last[0] > 0.2:
            last[0] = now
            run.inflight_frames = worker.frames
            run.tick()

    worker.on_frame = on_frame
    with stop_on_signals(stop):
        for job in run.jobs:
            if stop.is_set():
                break
            job.attempts += 1
            run.event("start", job, pid=info["pid"])
            res = worker.process(job)
            run.inflight_frames = 0
            run.finish(job, res)
    return info


def _run_ray(run: _Run, wargs: tuple, stop: threading.Event, workers: int, per: int) -> dict[str, Any]:
    """One Ray actor per worker; one task per file, sent to whichever actor is free."""
    import ray
    from ray.exceptions import GetTimeoutError, RayActorError, RayError

    from streamseg.pipeline.processor import stop_on_signals

    actor_cls = ray.remote(num_cpus=per, max_concurrency=2, max_restarts=0)(FileWorker)
    pending = collections.deque(run.jobs)
    starting: dict[Any, Any] = {}
    busy: dict[Any, tuple[Any, Job]] = {}
    idle: list[Any] = []
    pids: dict[Any, int] = {}
    alive: list[Any] = []
    info: dict[str, Any] = {}
    start_error: dict[str, Any] | None = None

    def spawn() -> None:
        a = actor_cls.remote(*wargs)
        alive.append(a)
        starting[a.ready.remote()] = a

    def bury(a: Any) -> None:
        if a in alive:
            alive.remove(a)
        try:
            ray.kill(a, no_restart=True)
        except Exception:  # noqa: BLE001 - already gone
            pass

    for _ in range(workers):
        spawn()
    last_poll = 0.0
    try:
        with stop_on_signals(stop):
            while (pending or busy) and not stop.is_set():
                refs = [*starting, *busy]
                if not refs:
                    err = (start_error or {}).get("error", "no worker is left")
                    if not info:
                        raise _fail_start(start_error or {})
                    for job in pending:
                        run.finish(job, {"status": "failed", "error": f"no worker left to run it: {err}", "seconds": 0.0})
                    pending.clear()
                    break
                ready, _ = ray.wait(refs, num_returns=1, timeout=0.25)
                for ref in ready:
                    if ref in starting:
                        a = starting.pop(ref)
                        try:
                            r = ray.get(ref)
                        except RayError as exc:
                            r = {"error": f"a worker could not start: {type(exc).__name__}", "exit_code": 1}
                        if "error" in r:
                            start_error = r
                            bury(a)
                        else:
                            pids[a] = r["pid"]
                            info = info or r
                            idle.append(a)
                        continue
                    a, job = busy.pop(ref)
                    try:
                        res = ray.get(ref)
                    except RayActorError:
                        bury(a)
                        if job.attempts < MAX_ATTEMPTS:
                            run.event("retry", job, pid=pids.get(a))
                            pending.extendleft(reversed(retry_tasks(job)))
                        else:
                            _discard_partials(job)
                            run.finish(job, {"status": "failed", "seconds": 0.0, "pid": pids.get(a),
                                             "error": f"its worker died {job.attempts} times (killed or out of memory?)"})
                        if pending:
                            spawn()
                        continue
                    except RayError as exc:
                        res = {"status": "failed", "seconds": 0.0, "error": f"{type(exc).__name__}: {exc}".splitlines()[0]}
                    run.finish(job, res)
                    idle.append(a)
                while idle and pending and not stop.is_set():
                    a, job = idle.pop(), pending.popleft()
                    job.attempts += 1
                    busy[a.process.remote(job)] = (a, job)
                    run.event("start", job, pid=pids.get(a))
                now = time.perf_counter()
                if busy and now - last_poll > 0.5:
                    last_poll = now
                    polls = [a.progress.remote() for a, _ in busy.values()]
                    done, _ = ray.wait(polls, num_returns=len(polls), timeout=0.5)
                    total = 0
                    for p in done:
                        try:
                            total += int(ray.get(p, timeout=0))
                        except (RayError, GetTimeoutError, ValueError, TypeError):
                            pass
                    run.inflight_frames = total
                    run.tick()
            if stop.is_set() and busy:
                for a, _ in busy.values():
                    try:
                        a.stop.remote()
                    except RayError:
                        pass
                deadline = time.perf_counter() + STOP_GRACE_S
                while busy and time.perf_counter() < deadline:
                    ready, _ = ray.wait(list(busy), num_returns=1, timeout=0.5)
                    for ref in ready:
                        a, job = busy.pop(ref)
                        try:
                            run.finish(job, ray.get(ref))
                        except RayError:
                            run.finish(job, {"status": "interrupted", "seconds": 0.0, "error": "its worker was stopped"})
                for ref, (a, job) in list(busy.items()):
                    run.finish(job, {"status": "interrupted", "seconds": 0.0, "error": "stopped before it finished"})
                busy.clear()
    finally:
        for a in list(alive):
            bury(a)
    return info


def run_batch(
    jobs: Sequence[Job],
    spec: Any,
    out_dir: Path,
    *,
    output_types: Sequence[str] = ("mask",),
    progress: bool = False,
    stop: threading.Event | None = None,
    on_event: Callable[..., None] | None = None,
) -> BatchReport:
    """Process ``jobs`` (from :func:`~streamseg.batch.inputs.plan_jobs`) and write ``batch_report.json``;
    every file that finishes gets a row in ``results.jsonl`` as it finishes.

    Args:
        spec: the :class:`~streamseg.pipeline.spec.RunSpec` every worker builds its parts from;
            its ``workers`` part says how many workers (default: the cores, one ONNX Runtime
            thread each, or ``cores // threads``; 1 without ``ray_address`` runs in this
            process, without Ray), where (``ray_address``: ``auto`` or ``ray://HOST:PORT`` for
            an existing cluster; else embedded Ray), whether to redo files whose outputs are
            complete and newer than their input (``force``) and how many images per task
            (``chunk``: default about 8 tasks per worker, at most 64 images each).
        out_dir: where the report goes (the outputs' paths are in the jobs).
        output_types: what each file is rendered into (as for ``process_video``).
        progress: the progress bar and the summary table on stderr.
        stop: set it to stop (Ctrl-C and SIGTERM do).
        on_event: ``on_event(kind, job, **info)`` for ``start`` (``pid``), ``retry``, ``done``,
            ``failed``, ``interrupted`` (``result``), e.g. for tests; ``start`` and ``retry`` of
            images come with their :class:`~streamseg.batch.images.ImageChunk`.

    Returns:
        The :class:`~streamseg.batch.report.BatchReport` (``interrupted`` when stopped).

    Raises:
        ConfigError: Ray is needed but missing, or the cluster cannot be reached.
        StreamsegError: the method cannot load in any worker (its own error and exit code).
    """
    from streamseg.capture.file import probe_video
    from rich.console import Console

    t0 = time.perf_counter()
    stop = stop or threading.Event()
    out_dir = Path(out_dir)
    workers, ray_address, force, threads = spec.workers.workers, spec.workers.ray_address, spec.workers.force, spec.method.threads
    results = {j.input: FileResult(input=j.input, outputs=dict(zip(j.outputs, j.outputs.values()))) for j in jobs}
    for j in jobs:
        if j.rois:
            results[j.input].outputs["rois"] = j.rois
    todo: list[Job] = plan_images([j for j in jobs if j.kind == "image"], results, out_dir, force)
    for j in jobs:
        r = results[j.input]
        if j.kind == "image":  # planned above: no probe, skipped by their results.jsonl rows
            continue
        if not force and is_up_to_date(j):
            r.status = "skipped"
            continue
        try:
            with quiet_log():
                vi = probe_video(j.input)
        except InputError as exc:
            r.status, r.error, r.frames = "failed", str(exc), 0
            continue
        j.frames, j.width, j.height, j.duration = vi.frame_count, vi.width, vi.height, vi.duration
        todo.append(j)
    todo.sort(key=lambda j: j.cost, reverse=True)
    report = BatchReport(out_dir=str(out_dir.absolute()), files=list(results.values()))
    console = Console(stderr=True, highlight=False)
    if progress:
        n_skip, n_bad = report.skipped, len(report.failed)
        notes = [f"{n_skip} up to date (skipped; --force redoes them)"] if n_skip else []
        notes += [f"{n_bad} cannot be opened"] if n_bad else []
        log.info(f"{len(jobs)} files: {len(todo)} to process" + (f", {', '.join(notes)}" if notes else ""))

    cpus = cpu_count()
    n_workers, per = plan_workers(workers, threads, cpus)
    use_ray = bool(ray_address) or min(n_workers, len(todo)) > 1  # one file (or worker): no Ray needed
    owned = False  # whether this run starts Ray (then it also shuts it down)
    if todo and use_ray:
        owned = not import_ray().is_initialized()  # the one-line hint before anything starts
    n_workers = max(1, min(n_workers, len(todo))) if use_ray else 1
    if not use_ray:
        per = threads or cpus
    report.workers = n_workers if todo else 0
    report.backend = ("ray " + ray_address if ray_address else "local ray") if use_ray else "in-process"
    n_images = sum(1 for j in todo if j.kind == "image")
    bar = BatchProgress(console, len(todo), sum(j.frames or 0 for j in todo) or None, enabled=progress and bool(todo), total_images=n_images)
    run = _Run(todo, results, bar, on_event, ResultsLog(out_dir / RESULTS_NAME))
    try:
        if todo and use_ray:
            with _sigterm_interrupts():
                if ray_address:
                    init_ray(ray_address, cpus)
                    import ray

                    cluster = int(ray.cluster_resources().get("CPU", 0)) or cpus
                    n_workers, per = plan_workers(workers, threads, cluster)
                    n_workers = report.workers = max(1, min(n_workers, len(todo)))
                else:
                    init_ray(None, max(cpus, n_workers * per))
        spec = spec.with_(threads=threads or per)
        if todo:
            if progress:
                log.info(f"starting {n_workers} worker{'s' if n_workers != 1 else ''} ({report.backend}, {per} thread{'s' if per != 1 else ''} each)")
            run.jobs = to_tasks(run.jobs, n_workers, spec.workers.chunk)  # videos one per task, images in chunks
            with run.bar:
                wargs = (spec, list(output_types))
                info = _run_ray(run, wargs, stop, n_workers, per) if use_ray else _run_local(run, wargs, stop)
            report.method, report.provider = info.get("method", ""), info.get("provider", "")
            if info.get("fallback_from"):
                log.warn(f"{info['fallback_from']} could not run; the workers used {info.get('method')}")
    except KeyboardInterrupt:
        stop.set()
    finally:
        report.interrupted = stop.is_set()
        report.seconds = time.perf_counter() - t0
        if owned:
            shutdown_ray()
        try:
            report.write(out_dir / REPORT_NAME)
        except OSError as exc:
            log.warn(f"cannot write {out_dir / REPORT_NAME}: {exc.strerror or exc}")
    if progress:
        print_summary(report, console)
        if report.report_path:
            log.info(f"report: {report.report_path}")
    return report


def run(
    inputs: Any,
    out_dir: Path | str,
    spec: Any,
    *,
    rois: bool = False,
    progress: bool = False,
    stop: threading.Event | None = None,
    on_event: Callable[..., None] | None = None,
) -> BatchReport:
    """A batch run of ``spec`` (:class:`~streamseg.pipeline.spec.RunSpec`) over ``inputs``
    (files, folders, globs, manifests): cheap checks first (inputs, output types and files, the
    output folder), then :func:`run_batch`.

    Args:
        rois: write the ROI stream of each file to ``<stem>_rois.jsonl`` (also with ``hands``).

    Raises:
        InputError: an input is missing or holds no video. ConfigError, OutputError: a bad
        option or output. IncompleteError (``.report``): some files failed, after the others
        are done. Interrupted (``.report``): stopped; finished files are kept.
    """
    from streamseg.batch.inputs import expand_batch_inputs, plan_jobs
    from streamseg.errors import IncompleteError, Interrupted, OutputError
    from streamseg.pipeline import outputs as out

    types = out.check_output_types(spec.output.types_or(["mask"]), extra=("prob",))
    folder = Path(out_dir)
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"output folder is a file: {folder}")
    items = [inputs] if isinstance(inputs, (str, Path)) else list(inputs)
    if not items:
        raise InputError("no input given (files, folders, globs or a manifest)")
    files, anchors = expand_batch_inputs(items, exclude=folder)
    jobs = plan_jobs(files, folder, types, anchors=anchors, rois=rois or spec.rois.wanted)
    videos = [job for job in jobs if job.kind != "image"]
    if videos and "prob" in types:
        raise ConfigError(f"--output-type prob is for images only; the inputs have {len(videos)} video file(s), e.g. {videos[0].input}")
    for job in videos:
        for t, p in job.outputs.items():
            out.check_video_output(t, Path(p), spec.output.encoder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create output folder {folder}: {exc.strerror or exc}") from None
    report = run_batch(jobs, spec, folder, output_types=types, progress=progress, stop=stop, on_event=on_event)
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
