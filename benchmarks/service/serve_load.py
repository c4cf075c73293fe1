"""Load on `streamseg serve` over loopback: requests per second and p50/p99 latency at 1, 4 and
16 concurrent clients, and the server's memory (RSS) before and after 10,000 requests.

The server is started here (127.0.0.1, a free port) and stopped at the end (SIGTERM); every
request goes to 127.0.0.1 only. Each level is bounded in count and in time, and so is the soak:
the run stops by itself. Clients are asyncio tasks on one httpx client in this process (on a
small machine they take CPU from the server: the numbers are for client and server together).

- levels: ``--per-level`` requests (or ``--level-seconds``) at each concurrency, after a warm-up;
  requests per second = answered requests / wall time; latency = request sent -> answer read.
  The server's bound (``--max-concurrent``) is set to the largest level, so no request gets 503.
- memory: VmRSS of the server process (``/proc/PID/status``) after the warm-up, after the
  levels, and after ``--soak`` more requests (4 clients), with ``--soak-method`` (a second server
  when it differs from ``--method``).

Usage:
    .venv/bin/python -m benchmarks.service.serve_load [--method dlmv] [--levels 1,4,16] [--per-level 300]
        [--soak 10000] [--soak-method ellipse-diag] [--image photo.jpg] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
from pathlib import Path

import httpx
from benchmarks.timing import now, percentile

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"  # loopback only


class Server:
    """`streamseg serve --host 127.0.0.1 --port 0` in a child process."""

    def __init__(self, method: str, max_concurrent: int, extra: list[str]) -> None:
        cmd = [sys.executable, "-m", "streamseg", "serve", "--host", HOST, "--port", "0", "-m", method,
               "--max-concurrent", str(max_concurrent), *extra]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self.url = ""
        ready = threading.Event()

        def pump() -> None:
            for line in self.proc.stderr:
                self.lines.append(line.rstrip())
                m = re.search(r"at (http://127\.0\.0\.1:\d+) ", line)
                if m and not self.url:
                    self.url = m.group(1)
                    ready.set()
            ready.set()

        threading.Thread(target=pump, daemon=True).start()
        if not ready.wait(300) or not self.url:
            self.proc.kill()
            sys.exit("the server did not start:\n" + "\n".join(self.lines))

    def rss_mb(self) -> float:
        text = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(re.search(r"VmRSS:\s+(\d+) kB", text).group(1)) / 1024

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


def test_image(path: Path | None) -> bytes:
    """The posted picture: a file, or a 640x360 JPEG of the demo clip's first frame."""
    if path is not None:
        return path.read_bytes()
    import av
    import cv2

    with av.open(str(ROOT / "examples" / "face_thumbsup_pixabay_720p.mp4")) as c:
        frame = next(c.decode(video=0)).to_ndarray(format="bgr24")
    return cv2.imencode(".jpg", cv2.resize(frame, (640, 360), interpolation=cv2.INTER_AREA))[1].tobytes()


async def load(url: str, data: bytes, clients: int, count: int, seconds: float, params: dict) -> dict:
    """``count`` requests (or ``seconds``) from ``clients`` concurrent tasks."""
    latencies: list[float] = []
    codes: dict[int, int] = {}
    issued = 0
    deadline = now() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=120) as client:

        async def one_client() -> None:
            nonlocal issued
            while issued < count and now() < deadline:
                issued += 1
                t0 = now()
                r = await client.post("/segment", params=params, content=data, headers={"content-type": "image/jpeg"})
                await r.aread()
                latencies.append(now() - t0)
                codes[r.status_code] = codes.get(r.status_code, 0) + 1

        t0 = now()
        await asyncio.gather(*(one_client() for _ in range(clients)))
        wall = now() - t0
    ok = codes.get(200, 0)
    lat = sorted(latencies)
    return {
        "clients": clients, "requests": len(lat), "ok": ok, "codes": codes, "seconds": round(wall, 2),
        "rps": round(ok / wall, 2), "p50_ms": round(1000 * statistics.median(lat), 1), "p99_ms": round(1000 * percentile(lat, 99), 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--method", default="dlmv")
    ap.add_argument("--levels", default="1,4,16")
    ap.add_argument("--per-level", type=int, default=300)
    ap.add_argument("--level-seconds", type=float, default=90.0)
    ap.add_argument("--soak", type=int, default=10_000)
    ap.add_argument("--soak-seconds", type=float, default=600.0)
    ap.add_argument("--soak-method", default=None, help="method of the soak (default: --method)")
    ap.add_argument("--output", default="mask", help="mask, alpha, prob or stats")
    ap.add_argument("--image", type=Path, default=None)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()

    data = test_image(args.image)
    levels = [int(x) for x in args.levels.split(",")]
    params = {"output": args.output}
    result: dict = {"method": args.method, "output": args.output, "image_bytes": len(data), "cores": os.cpu_count()}
    server = Server(args.method, max(levels), [])
    try:
        asyncio.run(load(server.url, data, 2, 20, 120, params))  # warm-up
        result["rss_mb_after_warmup"] = round(server.rss_mb(), 1)
        result["levels"] = []
        for c in levels:
            row = asyncio.run(load(server.url, data, c, args.per_level, args.level_seconds, params))
            result["levels"].append(row)
            print(json.dumps(row), flush=True)
        result["rss_mb_after_levels"] = round(server.rss_mb(), 1)
        soak_method = args.soak_method or args.method
        if soak_method != args.method:
            result["exit_code"] = server.stop()
            server = Server(soak_method, 4, [])
            asyncio.run(load(server.url, data, 2, 20, 120, params))
        before = server.rss_mb()
        t0 = now()
        soak = asyncio.run(load(server.url, data, 4, args.soak, args.soak_seconds, params))
        after = server.rss_mb()
        result["soak"] = {
            "method": soak_method, "requests": soak["requests"], "ok": soak["ok"], "codes": soak["codes"],
            "seconds": round(now() - t0, 1), "rps": soak["rps"], "p50_ms": soak["p50_ms"], "p99_ms": soak["p99_ms"],
            "rss_mb_before": round(before, 1), "rss_mb_after": round(after, 1),
        }
        print(json.dumps(result["soak"]), flush=True)
    finally:
        code = server.stop()
        result.setdefault("exit_code", code)
        result["stderr_lines"] = server.lines
    result["load_avg_1min"] = round(os.getloadavg()[0], 2)
    print(f"{'clients':>7} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'requests':>8}")
    for r in result["levels"]:
        print(f"{r['clients']:>7} {r['rps']:>7.1f} {r['p50_ms']:>7.1f} {r['p99_ms']:>7.1f} {r['requests']:>8}")
    s = result["soak"]
    print(f"RSS {result['rss_mb_after_warmup']} MB after warm-up, {result['rss_mb_after_levels']} MB after the levels ({args.method}); "
          f"soak ({s['method']}): {s['rss_mb_before']} -> {s['rss_mb_after']} MB over {s['requests']} requests "
          f"({s['rps']} req/s); load average {result['load_avg_1min']} on {result['cores']} cores")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
