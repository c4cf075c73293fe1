"""Capture -> mask latency of a live run, measured end to end with time stamps burnt into the frames.

A separate process serves MJPEG over HTTP on 127.0.0.1 (as IP cameras do) at ``--fps``: demo
clip frames at each ``--size``, each with its send time (``time.time()`` in microseconds, 40
bits) written as a strip of black/white 16x16 blocks in the top rows just before it is JPEG
encoded and sent. :func:`streamseg.process_live` reads the stream as ``streamseg webcam
--source http://...`` does; a sink, called when the result is shown/recorded (after
segmentation, smoothing and rendering), decodes the stamp from the frame and takes
``now - stamp``.

Reported per size and method: median / p90 / p99 latency in ms, processed fps, frames skipped
as stale, the median segment time and the live target (median <= one inference + one
frame interval, p99 <= twice that).

Usage:
    .venv/bin/python -m benchmarks.latency.live_latency                          # 640x480 and 1280x720, the default model and ellipse-diag, 20 s each
    .venv/bin/python -m benchmarks.latency.live_latency --size 640x480 --method ellipse-diag --seconds 10
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import time

import numpy as np

from streamseg.pipeline.config import DEFAULT_METHOD
from benchmarks.timing import now, percentile

BITS = 40
BLOCK = 16


def stamp(img: np.ndarray, t_us: int) -> None:
    """Write ``t_us`` (mod 2**40) into the top ``BLOCK`` rows as black/white blocks, in place."""
    for b in range(BITS):
        img[:BLOCK, b * BLOCK : (b + 1) * BLOCK] = 255 if (t_us >> b) & 1 else 0


def read_stamp(img: np.ndarray) -> int:
    """The value :func:`stamp` wrote (robust to JPEG: each block's centre is averaged)."""
    c = BLOCK // 2
    v = 0
    for b in range(BITS):
        if img[c - 3 : c + 3, b * BLOCK + c - 3 : b * BLOCK + c + 3].mean() > 127:
            v |= 1 << b
    return v


def _serve(width: int, height: int, fps: float, port_q, stop_ev) -> None:
    import socketserver
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    import av
    import cv2

    from streamseg.paths import demo_clip

    frames = []
    with av.open(str(demo_clip())) as c:
        for i, f in enumerate(c.decode(video=0)):
            if i >= 60:
                break
            frames.append(cv2.resize(f.to_ndarray(format="bgr24"), (width, height), interpolation=cv2.INTER_AREA))

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
            self.end_headers()
            t_next = now()
            i = 0
            try:
                while not stop_ev.is_set():
                    img = frames[i % len(frames)].copy()
                    stamp(img, int(time.time() * 1e6))
                    ok, jpg = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 85])
                    data = jpg.tobytes()
                    self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: " + str(len(data)).encode() + b"\r\n\r\n" + data + b"\r\n")
                    self.wfile.flush()
                    i += 1
                    t_next += 1 / fps
                    time.sleep(max(0.0, t_next - now()))
            except (BrokenPipeError, ConnectionResetError):
                pass

    socketserver.TCPServer.allow_reuse_address = True
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    port_q.put(httpd.server_address[1])
    httpd.timeout = 0.2
    while not stop_ev.is_set():
        httpd.handle_request()
    httpd.server_close()


class StampSink:
    """Decodes each shown frame's send time; keeps ``now - sent`` in ms."""

    def __init__(self) -> None:
        self.latency_ms: list[float] = []
        self.unreadable = 0

    def write(self, result) -> None:
        now_us = int(time.time() * 1e6) % (1 << BITS)
        sent = read_stamp(result.frame.image)
        dt = (now_us - sent) % (1 << BITS)
        if dt > 10_000_000:  # > 10 s: a misread stamp
            self.unreadable += 1
            return
        self.latency_ms.append(dt / 1000)

    def close(self) -> None:
        pass


def run_one(width: int, height: int, method: str, seconds: float, fps: float, output_type: str) -> dict:
    import streamseg

    ctx = mp.get_context("spawn")
    port_q, stop_ev = ctx.Queue(), ctx.Event()
    proc = ctx.Process(target=_serve, args=(width, height, fps, port_q, stop_ev), daemon=True)
    proc.start()
    try:
        port = port_q.get(timeout=60)
        sink = StampSink()
        rep = streamseg.process_live(
            f"http://127.0.0.1:{port}/video.mjpg", method=method, output_type=output_type, sinks=[sink],
            duration=seconds, mjpg=False, reconnect=False,
        )
    finally:
        stop_ev.set()
        proc.join(timeout=5)
        if proc.is_alive():
            proc.terminate()
    lat = sink.latency_ms[5:]  # the first frames include the session's warm-up
    seg_ms = rep.stages.get("segment", {}).get("median_ms", float("nan"))
    target = seg_ms + 1000 / fps
    return {
        "size": f"{width}x{height}", "method": method, "frames": len(lat), "fps": rep.fps,
        "median": statistics.median(lat) if lat else float("nan"), "p90": percentile(lat, 90), "p99": percentile(lat, 99),
        "dropped": rep.dropped, "segment": seg_ms, "target": target, "unreadable": sink.unreadable,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", action="append", help="WxH, repeatable (default 640x480 and 1280x720)")
    ap.add_argument("--method", action="append", help=f"repeatable (default {DEFAULT_METHOD} and ellipse-diag)")
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--fps", type=float, default=30.0)
    ap.add_argument("--output-type", default="overlay")
    args = ap.parse_args()
    sizes = [tuple(int(v) for v in s.lower().split("x")) for s in (args.size or ["640x480", "1280x720"])]
    methods = args.method or [DEFAULT_METHOD, "ellipse-diag"]
    rows = [run_one(w, h, m, args.seconds, args.fps, args.output_type) for (w, h) in sizes for m in methods]
    print(f"MJPEG on loopback at {args.fps:g} fps, {args.seconds:g} s per row, -T {args.output_type}; latency = shown - sent")
    print("| size | method | frames | fps | median ms | p90 ms | p99 ms | stale skipped | segment ms | target median (seg + 1/fps) | met (median, p99 <= 2x) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        met = f"{'yes' if r['median'] <= r['target'] else 'no'}, {'yes' if r['p99'] <= 2 * r['target'] else 'no'}"
        print(
            f"| {r['size']} | {r['method']} | {r['frames']} | {r['fps']:.1f} | {r['median']:.1f} | {r['p90']:.1f} | {r['p99']:.1f} "
            f"| {r['dropped']} | {r['segment']:.1f} | {r['target']:.1f} | {met} |"
        )


if __name__ == "__main__":
    main()
