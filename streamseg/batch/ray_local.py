"""The embedded local Ray of ``streamseg batch``: private to this run, on the loopback
interface only, and cleaned up even when the run is killed.

- Every Ray server (GCS, raylet and its object manager, the agents, the workers, this driver)
  listens on 127.0.0.1 only; no dashboard is started.
- It never attaches to a cluster it did not ask for: ``RAY_ADDRESS`` and a stale
  ``/tmp/ray/ray_current_cluster`` are ignored (``address="local"``, a temp dir of its own).
- A *guard* process watches the run through a pipe. When the run ends, however it ends (a
  SIGKILL included), the guard stops every process that still holds a file in the run's Ray
  temp dir (Ray's agents outlive a killed driver), then removes the temp dir.

The guard is this module run as ``python -m streamseg.batch.ray_local TEMP_DIR OWNER_PID``; it
imports neither Ray nor streamseg's heavy modules.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Collection, Iterator

#: the only address the local Ray listens on
LOOPBACK = "127.0.0.1"
#: seconds Ray's processes get to exit on their own before the guard terminates them, and
#: again before it kills those that ignore SIGTERM
GRACE_S = 3.0
#: seconds :func:`stop` waits for the guard to finish cleaning up
GUARD_WAIT_S = 20.0

#: Ray reads this once, at import, to choose between the loopback and the LAN address
_CLUSTER_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"

_guard: "subprocess.Popen[bytes] | None" = None
_temp_dir: str | None = None


def start(num_cpus: int, **init_kwargs: Any) -> str:
    """Start a private local Ray with ``num_cpus`` CPUs; ``init_kwargs`` go to ``ray.init``
    (logging settings). Returns its temp dir.

    Raises:
        Whatever ``ray.init`` raises (the guard cleans up what it started).
    """
    import ray

    global _guard, _temp_dir
    if _guard is not None:  # the Ray it guarded was shut down without stop()
        stop()
    temp_dir = tempfile.mkdtemp(prefix="streamseg-ray-")
    guard = _start_guard(temp_dir)
    try:
        with _loopback_only():
            ray.init(
                address="local", num_cpus=num_cpus, include_dashboard=False,
                _node_ip_address=LOOPBACK, _temp_dir=temp_dir, **init_kwargs,
            )
    except BaseException:
        _close_guard(guard, temp_dir)
        raise
    _guard, _temp_dir = guard, temp_dir
    return temp_dir


def stop() -> None:
    """Shut down the Ray this process runs (if any) and, for one started by :func:`start`,
    wait until its guard has stopped what is left and removed the temp dir."""
    global _guard, _temp_dir
    ray = sys.modules.get("ray")
    if ray is not None and ray.is_initialized():
        ray.shutdown()
    guard, temp_dir, _guard, _temp_dir = _guard, _temp_dir, None, None
    if guard is not None:
        _close_guard(guard, temp_dir)


def owns_ray() -> bool:
    """Whether the Ray this process runs was started by :func:`start`."""
    return _guard is not None


def temp_dir() -> str | None:
    """The temp dir of the Ray started by :func:`start` (``None`` when none runs)."""
    return _temp_dir


@contextlib.contextmanager
def _loopback_only() -> Iterator[None]:
    """Ray's node address is the loopback one while Ray starts: in this process (Ray's
    constant, read when Ray was imported) and in the processes it starts (the environment
    they inherit). ``RAY_ADDRESS`` is hidden from them too."""
    saved = {k: os.environ.get(k) for k in (_CLUSTER_ENV, "RAY_ADDRESS")}
    os.environ[_CLUSTER_ENV] = "0"
    os.environ.pop("RAY_ADDRESS", None)
    constants = sys.modules.get("ray._private.ray_constants")
    had = getattr(constants, "ENABLE_RAY_CLUSTER", None)
    if constants is not None and had is not None:
        constants.ENABLE_RAY_CLUSTER = False
    try:
        yield
    finally:
        if constants is not None and had is not None:
            constants.ENABLE_RAY_CLUSTER = had
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _start_guard(temp_dir: str) -> "subprocess.Popen[bytes]":
    """The guard process: it reads its stdin until this process closes it or dies."""
    package_root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    kwargs: dict[str, Any] = {}
    if os.name == "posix":
        kwargs["start_new_session"] = True  # a Ctrl-C or a kill of the run's process group spares it
    return subprocess.Popen(
        [sys.executable, "-m", "streamseg.batch.ray_local", temp_dir, str(os.getpid())],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, close_fds=True, **kwargs,
    )


def _close_guard(guard: "subprocess.Popen[bytes]", temp_dir: str | None) -> None:
    try:
        if guard.stdin is not None:
            guard.stdin.close()
        guard.wait(timeout=GUARD_WAIT_S)
    except (OSError, subprocess.TimeoutExpired):
        pass
    if temp_dir and guard.returncode is None:
        shutil.rmtree(temp_dir, ignore_errors=True)


# --------------------------------------------------------------------------- the guard process


def holders(temp_dir: str, exclude: Collection[int] = ()) -> list:
    """The processes (``psutil.Process``) that hold a file under ``temp_dir`` open: the Ray
    processes of that run. Empty without psutil."""
    try:
        import psutil
    except ImportError:
        return []
    prefix = os.path.join(os.path.realpath(temp_dir), "")
    found = []
    for proc in psutil.process_iter():
        if proc.pid in exclude or proc.pid == os.getpid():
            continue
        try:
            if any(os.path.realpath(f.path).startswith(prefix) for f in proc.open_files()):
                found.append(proc)
        except (psutil.Error, OSError):
            continue
    return found


def sweep(temp_dir: str, exclude: Collection[int] = ()) -> int:
    """Stop the processes of :func:`holders`: they get :data:`GRACE_S` to exit, then SIGTERM,
    then SIGKILL. Returns how many were still running at the start."""
    procs = holders(temp_dir, exclude)
    if not procs:
        return 0
    import psutil

    _, alive = psutil.wait_procs(procs, timeout=GRACE_S)
    for sig in (signal.SIGTERM, getattr(signal, "SIGKILL", signal.SIGTERM)):
        for p in alive:
            with contextlib.suppress(psutil.Error):
                p.send_signal(sig)
        _, alive = psutil.wait_procs(alive, timeout=GRACE_S)
        if not alive:
            break
    return len(procs)


def main(argv: list[str] | None = None) -> int:
    """The guard: wait for the owner to close the pipe (or die), then clean up its Ray."""
    temp_dir, owner = (argv if argv is not None else sys.argv[1:])[:2]
    if hasattr(signal, "SIGINT"):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        while sys.stdin.buffer.read(65536):
            pass
    except OSError:
        pass
    # the owner has closed the pipe after ray.shutdown(), or is dead: a live owner still holds
    # its own driver log in the temp dir, and is not ours to stop
    sweep(temp_dir, exclude={int(owner)})
    for _ in range(3):
        shutil.rmtree(temp_dir, ignore_errors=True)
        if not os.path.exists(temp_dir):
            break
        time.sleep(0.5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
