"""A short description of the machine and libraries, stored in every report."""

from __future__ import annotations

import os
import platform
import shlex
import sys
from pathlib import Path


def cpu_name() -> str:
    """The CPU model from ``/proc/cpuinfo`` (Linux) or ``platform.processor()``."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def thread_counts() -> dict[str, int]:
    """Threads each library will use: OpenCV, numba, and the cores the process may use."""
    import cv2

    out = {"cpu_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)}
    out["opencv"] = int(cv2.getNumThreads())
    try:
        import numba

        out["numba"] = int(numba.get_num_threads())
    except ImportError:
        pass
    return out


def load_average() -> float | None:
    """The 1-minute load average (``None`` where the OS has none): timings taken while it exceeds
    the core count are inflated by other processes."""
    try:
        return round(os.getloadavg()[0], 2)
    except (OSError, AttributeError):
        return None


def busy_warning(info: dict) -> str | None:
    """A one-line warning when the machine was busy (load above its cores), else ``None``."""
    load, cores = info.get("load_avg_1m"), info.get("threads", {}).get("cpu_cores")
    if load is not None and cores and load > cores:
        return f"the machine is busy (load average {load} on {cores} cores): timings are inflated by other processes"
    return None


def gpu_name() -> str | None:
    """The first NVIDIA GPU's name from ``nvidia-smi``, or ``None``."""
    import shutil
    import subprocess

    if not shutil.which("nvidia-smi"):
        return None
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    name = out.stdout.strip().splitlines()
    return name[0] if out.returncode == 0 and name else None


def describe() -> dict:
    """Machine, OS, library versions and thread counts (JSON-serialisable)."""
    import cv2
    import numpy as np

    info: dict = {
        "cpu": cpu_name(),
        "gpu": gpu_name(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "opencv": cv2.__version__,
        "threads": thread_counts(),
        "load_avg_1m": load_average(),
    }
    try:
        import onnxruntime as ort

        info["onnxruntime"] = ort.__version__
        info["ort_providers"] = ort.get_available_providers()
    except ImportError:
        pass
    return info


def describe_run(threads: int) -> dict:
    """:func:`describe` plus the requested thread count, warning on stderr when the machine is
    busy. Call it before the run, so the load average is not our own."""
    from streamseg import log

    info = describe()
    info["threads"]["requested"] = threads
    warning = busy_warning(info)
    if warning:
        log.warn(warning)
    return info


def summary_line(info: dict) -> str:
    """``"AMD EPYC, 2 cores (threads: opencv 2, numba 2), no GPU, Linux 6.8, Python 3.11, load 0.3"``."""
    t = info.get("threads", {})
    threads = ", ".join(f"{k} {v}" for k, v in t.items() if k not in ("cpu_cores", "requested"))
    if t.get("requested"):
        threads += f"; --threads {t['requested']}"
    gpu = f", GPU {info['gpu']}" if info.get("gpu") else ", no GPU"
    load = f", load {info['load_avg_1m']}" if info.get("load_avg_1m") is not None else ""
    return (
        f"{info.get('cpu', '?')}, {t.get('cpu_cores', '?')} cores (threads: {threads}){gpu}, "
        f"{info.get('os', '')}, Python {info.get('python', '')}{load}"
    )


def short_line(info: dict) -> str:
    """``"AMD EPYC, 2 cores, no GPU, --threads 1"``: for plot subtitles."""
    t = info.get("threads", {})
    gpu = f"GPU {info['gpu']}" if info.get("gpu") else "no GPU"
    threads = f", --threads {t['requested']}" if t.get("requested") else ""
    return f"{info.get('cpu', '?')}, {t.get('cpu_cores', '?')} cores, {gpu}{threads}"


def command_line() -> str:
    """The command as the user typed it (``streamseg ...``)."""
    return "streamseg " + shlex.join(sys.argv[1:])
