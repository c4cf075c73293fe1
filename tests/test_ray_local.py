"""The embedded local Ray of `streamseg batch`: every process it starts listens on the loopback
interface only, it does not attach to a cluster named by RAY_ADDRESS, and what it started (its
processes, its temp dir) is gone after the run, a SIGKILLed one included. Also: the `ray`
extra brings Ray Client for `--ray-address ray://...`."""

from __future__ import annotations

import importlib.util
import ipaddress
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import make_video

needs_ray = pytest.mark.skipif(
    importlib.util.find_spec("ray") is None or importlib.util.find_spec("psutil") is None,
    reason="ray and psutil are not installed (pip install 'streamseg[ray]')",
)

#: how long Ray's processes may take to go after their driver is killed (a guard, not a speed test)
GONE_WITHIN_S = 30.0


def _loopback(ip: str) -> bool:
    addr = ipaddress.ip_address(ip.split("%")[0])
    mapped = getattr(addr, "ipv4_mapped", None)
    return (mapped or addr).is_loopback


def _listening(procs) -> dict[str, set[str]]:
    """process name -> the local addresses it listens on (TCP and UDP)."""
    import psutil

    out: dict[str, set[str]] = {}
    for p in procs:
        try:
            conns = p.net_connections(kind="inet") if hasattr(p, "net_connections") else p.connections(kind="inet")
            name = p.name()
        except psutil.Error:
            continue
        for c in conns:
            if c.laddr and (c.status == psutil.CONN_LISTEN or c.type == 2 and not c.raddr):  # 2: SOCK_DGRAM
                out.setdefault(f"{name} ({p.pid})", set()).add(f"{c.laddr.ip}:{c.laddr.port}")
    return out


def _still_running(pids: list[int]) -> list[str]:
    import psutil

    left = []
    for pid in pids:
        try:
            p = psutil.Process(pid)
            if p.status() != psutil.STATUS_ZOMBIE:
                left.append(f"{p.name()} ({pid})")
        except psutil.Error:
            continue
    return left


@needs_ray
def test_local_batch_listens_on_loopback_only_ignores_ray_address_and_leaves_nothing(tmp_path, monkeypatch):
    import psutil

    import streamseg
    from streamseg.batch import ray_local

    # a cluster the run did not ask for: attaching to it fails ("num_cpus ... must not be provided")
    monkeypatch.setenv("RAY_ADDRESS", "127.0.0.1:9")
    src = tmp_path / "in"
    src.mkdir()
    for i in range(2):
        make_video(src / f"c{i}.mp4", frames=40)
    seen: dict[str, set[str]] = {}
    started: set[int] = set()
    temp_dirs: set[str] = set()

    def on_event(kind, job, **info):
        if kind != "start":
            return
        children = psutil.Process().children(recursive=True)
        started.update(p.pid for p in children)
        seen.update(_listening([psutil.Process(), *children]))
        temp_dirs.add(str(ray_local.temp_dir()))

    report = streamseg.process_batch(src, tmp_path / "out", method="ellipse", workers=2, smooth="none", on_event=on_event)
    assert report.backend == "local ray" and report.done == 2
    names = " ".join(seen)
    assert "raylet" in names and "gcs_server" in names, seen  # the sockets of Ray's own processes were read
    exposed = {name: sorted(a for a in addrs if not _loopback(a.rsplit(":", 1)[0])) for name, addrs in seen.items()}
    assert not any(exposed.values()), {k: v for k, v in exposed.items() if v}
    assert not _still_running(sorted(started))  # Ray's processes and the guard are gone
    assert temp_dirs and all(d != "None" and not Path(d).exists() for d in temp_dirs), temp_dirs
    assert not ray_local.owns_ray()


_KILLED_DRIVER = r"""
import json, os, signal
import psutil, ray
from streamseg.batch import ray_local
from streamseg.batch.runner import init_ray

init_ray(None, 1)

@ray.remote(num_cpus=1)
def pid():
    return os.getpid()

ray.get(pid.remote())
pids = [p.pid for p in psutil.Process().children(recursive=True)]
print(json.dumps({"temp_dir": ray_local.temp_dir(), "pids": pids}), flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


@needs_ray
def test_a_sigkilled_run_leaves_no_ray_process_and_no_temp_dir(tmp_path):
    proc = subprocess.run([sys.executable, "-c", _KILLED_DRIVER], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == -9, proc.stderr[-2000:]
    info = json.loads(proc.stdout.strip().splitlines()[-1])
    assert info["pids"] and info["temp_dir"]
    deadline = time.monotonic() + GONE_WITHIN_S
    while time.monotonic() < deadline and (_still_running(info["pids"]) or Path(info["temp_dir"]).exists()):
        time.sleep(0.5)
    assert not _still_running(info["pids"])  # DashboardAgent and RuntimeEnvAgent stayed without the guard
    assert not Path(info["temp_dir"]).exists()


def test_the_ray_extra_brings_ray_client_for_ray_addresses():
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"]
    ray_reqs = [r.replace(" ", "") for r in project["optional-dependencies"]["ray"]]
    assert any(r.startswith("ray[") and "client" in r.split("]")[0] for r in ray_reqs), ray_reqs
