"""Long live run: an MJPEG stream on loopback whose server is killed and restarted every few
minutes, segmented by ``streamseg.process_live`` with a recording.

Reports resident memory (start, peak, end), every reconnect against every server restart,
whether the recording holds every processed frame, and how long the end-to-end latency takes to
recover after each reconnect (the server writes its send time into each frame as a bar code,
so the latency is from the server's send to the end of processing).

    .venv/bin/python -m benchmarks.reliability.soak                       # 30 min, restart every 5 min
    .venv/bin/python -m benchmarks.reliability.soak --minutes 2 --restart-every 0.5 --json out.json
"""

from __future__ import annotations

import argparse
import json
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BITS = 40  # ms timestamp bits in the bar code
W, H = 320, 240

SERVER = r'''
import sys, time, cv2, numpy as np
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
port, fps, W, H, BITS = int(sys.argv[1]), float(sys.argv[2]), 320, 240, 40
def frame(i):
    img = np.full((H, W, 3), (120, 60, 20), np.uint8)
    cx = int(W * (0.3 + 0.4 * ((i % 60) / 60)))
    cv2.circle(img, (cx, H // 2 + 10), H // 4, (130, 150, 200), -1)
    ms = int(time.time() * 1000) % (1 << BITS)
    for b in range(BITS):
        img[0:8, b * 8:(b + 1) * 8] = 255 if (ms >> b) & 1 else 0
    return cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()
class H_(BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
        self.end_headers()
        i, t0 = 0, time.perf_counter()
        try:
            while True:
                jpg = frame(i)
                self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % len(jpg) + jpg + b"\r\n")
                i += 1
                time.sleep(max(0.0, t0 + i / fps - time.perf_counter()))
        except (BrokenPipeError, ConnectionResetError):
            pass
ThreadingHTTPServer.allow_reuse_address = True
srv = ThreadingHTTPServer(("127.0.0.1", port), H_)
print("ready", flush=True)
srv.serve_forever()
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class Server:
    """The MJPEG server as a child process, so it can be killed (SIGKILL) like a crashed camera."""

    def __init__(self, port: int, fps: float) -> None:
        self.port, self.fps, self.proc = port, fps, None
        self.starts = 0

    def start(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", SERVER, str(self.port), str(self.fps)], stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == "ready"
        self.starts += 1

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
            self.proc = None


class Probe:
    """A sink that records, per processed frame, the wall time, the end-to-end latency (from the
    bar code) and whether the frame started anew (a reconnect)."""

    def __init__(self) -> None:
        self.rows: list[tuple[float, float, bool]] = []

    def write(self, result) -> None:
        img = result.frame.image
        if img.shape[1] < BITS * 8:
            return
        bars = img[2:6, : BITS * 8].reshape(4, BITS, 8, 3).mean(axis=(0, 2, 3)) > 128
        ms = int(sum(int(b) << i for i, b in enumerate(bars)))
        now = time.time()
        sent = (int(now * 1000) & ~((1 << BITS) - 1)) + ms
        self.rows.append((now, now - sent / 1000.0, bool(result.frame.reset)))

    def close(self) -> None:
        pass


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=30.0, help="length of the run")
    ap.add_argument("--restart-every", type=float, default=5.0, help="minutes between server kills")
    ap.add_argument("--down", type=float, default=2.0, help="seconds the server stays down")
    ap.add_argument("--fps", type=float, default=15.0, help="server frame rate")
    ap.add_argument("--method", default="ellipse-diag")
    ap.add_argument("--recover-ms", type=float, default=None, help="latency counted as recovered (default 2x the steady median)")
    ap.add_argument("--json", type=Path, default=None, help="write the numbers here too")
    args = ap.parse_args()

    from streamseg import log

    log.quiet_libraries()  # before OpenCV loads: one line per reconnect, not FFmpeg's and OpenCV's too
    import streamseg
    from streamseg.synthetic import read_video

    port = free_port()
    server = Server(port, args.fps)
    server.start()
    total_s, every_s = args.minutes * 60, args.restart_every * 60
    stop = threading.Event()
    kills: list[float] = []
    rss: list[tuple[float, float]] = []

    def chaos() -> None:
        t0 = time.monotonic()
        n = 1
        while not stop.wait(max(0.0, t0 + n * every_s - time.monotonic())):
            if time.monotonic() - t0 > total_s - args.down - 5:
                break
            server.kill()
            kills.append(time.time())
            if stop.wait(args.down):
                break
            server.start()
            n += 1

    def sample() -> None:
        while not stop.wait(1.0):
            rss.append((time.time(), rss_mb()))

    tmp = Path(tempfile.mkdtemp(prefix="streamseg-soak-"))
    record = tmp / "soak.mp4"
    probe = Probe()
    threads = [threading.Thread(target=chaos, daemon=True), threading.Thread(target=sample, daemon=True)]
    rss.append((time.time(), rss_mb()))
    for t in threads:
        t.start()
    try:
        report = streamseg.process_live(
            f"http://127.0.0.1:{port}/stream", method=args.method, record=record, sinks=[probe],
            duration=total_s, timeout=2.0, provider="cpu",
        )
    finally:
        stop.set()
        server.kill()
    rss.append((time.time(), rss_mb()))
    recorded = read_video(record)["frames"]

    lat = [r[1] * 1000 for r in probe.rows]
    steady = statistics.median(lat) if lat else 0.0
    limit = args.recover_ms or max(2 * steady, steady + 50)
    recoveries = []
    for k in kills:
        after = [(t, ms) for t, ms, _ in probe.rows if t > k]
        if not after:
            recoveries.append(None)
            continue
        first = after[0][0]
        ok = next((t for i, (t, ms) in enumerate(after) if all(m <= limit for _, m in after[i : i + 5])), None)
        recoveries.append(None if ok is None else round(ok - first, 2))
    warm = [m for t, m in rss if t - rss[0][0] > 20] or [m for _, m in rss]
    numbers = {
        "minutes": args.minutes,
        "restart_every_min": args.restart_every,
        "server_kills": len(kills),
        "reconnects": report.reconnects,
        "frames_processed": report.frames_out,
        "frames_recorded": recorded,
        "recording_complete": recorded == report.frames_out,
        "stale_frames_skipped": report.dropped,
        "rss_mb": {"start": round(rss[0][1], 1), "after_20s": round(warm[0], 1), "peak": round(max(m for _, m in rss), 1),
                   "end": round(rss[-1][1], 1)},
        "latency_ms": {"median": round(steady, 1), "p90": round(sorted(lat)[int(0.9 * (len(lat) - 1))], 1) if lat else None,
                       "recovered_below": round(limit, 1)},
        "recovery_s_after_each_reconnect": recoveries,
        "all_recovered_within_2s": all(r is not None and r <= 2.0 for r in recoveries),
    }
    print(json.dumps(numbers, indent=2))
    if args.json:
        args.json.write_text(json.dumps(numbers, indent=2))
    ok = numbers["recording_complete"] and numbers["reconnects"] >= len(kills) and numbers["all_recovered_within_2s"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
