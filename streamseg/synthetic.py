"""Synthetic media for tests, fault reports and benchmarks: small videos written with PyAV, and an MJPEG stream served on loopback.

Example:
    >>> import tempfile, pathlib
    >>> p = make_video(pathlib.Path(tempfile.mkdtemp()) / "t.mp4", frames=3, audio=True)
    >>> info = read_video(p)
    >>> info["frames"], info["audio_packets"] > 0
    (3, True)
"""

from __future__ import annotations

import struct
import threading
import time
import zlib
from fractions import Fraction
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import av
import cv2
import numpy as np


def synthetic_frame(i: int, width: int, height: int) -> np.ndarray:
    """BGR uint8: a skin-coloured disc moving over a blue-grey background, plus a frame counter bar."""
    import cv2

    img = np.full((height, width, 3), (110, 70, 40), np.uint8)
    cx = int(width * (0.25 + 0.5 * ((i % 20) / 20)))
    cv2.circle(img, (cx, height // 2), max(2, min(width, height) // 4), (130, 150, 200), -1)
    return img


def make_video(
    path: Path,
    frames: int = 20,
    width: int = 64,
    height: int = 48,
    fps: int = 25,
    audio: bool = False,
    vfr_pts: list[int] | None = None,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    rotation: int | None = None,
    time_base: Fraction | None = None,
    options: dict[str, str] | None = None,
) -> Path:
    """Write a test video with PyAV. ``vfr_pts`` gives explicit timestamps (in ``time_base``,
    default 1/1000) for a variable frame rate; ``audio`` adds a 440 Hz AAC track."""
    path = Path(path)
    with av.open(str(path), "w", options=options or {}) as c:
        s = c.add_stream(codec, rate=fps)
        if (width % 2 or height % 2) and pix_fmt == "yuv420p":
            pix_fmt = "yuv444p"  # 4:2:0 needs even sizes
        s.width, s.height, s.pix_fmt = width, height, pix_fmt
        if vfr_pts is not None:
            tb = time_base or Fraction(1, 1000)
            s.time_base = tb
            s.codec_context.time_base = tb
        if rotation is not None:
            s.set_display_rotation(rotation)
        a = None
        if audio:
            a = c.add_stream("aac", rate=48000)
            a.layout = "mono"
        for i in range(frames):
            fr = av.VideoFrame.from_ndarray(synthetic_frame(i, width, height), format="bgr24")
            if vfr_pts is not None:
                fr.pts = vfr_pts[i]
                fr.time_base = s.time_base
            else:
                fr.pts = i
                fr.time_base = Fraction(1, fps)
            for p in s.encode(fr):
                c.mux(p)
        for p in s.encode(None):
            c.mux(p)
        if a is not None:
            n = int(48000 * frames / fps)
            t = np.arange(n) / 48000
            samples = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None, :]
            for start in range(0, n, 1024):
                af = av.AudioFrame.from_ndarray(samples[:, start : start + 1024], format="fltp", layout="mono")
                af.sample_rate = 48000
                af.pts = start
                af.time_base = Fraction(1, 48000)
                for p in a.encode(af):
                    c.mux(p)
            for p in a.encode(None):
                c.mux(p)
    return path


def read_video(path: Path) -> dict:
    """Decode a video: frame count, pts list, size, time base, audio packet count."""
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        pts, shapes = [], set()
        for fr in c.decode(v):
            pts.append(fr.pts)
            shapes.add((fr.height, fr.width))
        tb = v.time_base
    with av.open(str(path)) as c:
        audio_packets = sum(1 for p in c.demux(c.streams.audio) if p.size) if c.streams.audio else 0
    return {"frames": len(pts), "pts": pts, "times": [float(p * tb) for p in pts], "shapes": shapes, "audio_packets": audio_packets}


def png_header_only(path: Path, width: int, height: int) -> Path:
    """Write a PNG whose header claims ``width`` x ``height`` but holds almost no pixel data:
    an "image too large" input that costs nothing to make."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path = Path(path)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))
    return path



def make_stream_frame(i: int, width: int = 160, height: int = 120) -> np.ndarray:
    """A BGR test frame: a skin-coloured disc moving over a blue background."""
    img = np.full((height, width, 3), (120, 60, 20), np.uint8)
    cx = int(width * (0.3 + 0.4 * ((i % 30) / 30)))
    cv2.circle(img, (cx, height // 2), height // 4, (130, 150, 200), -1)
    return img


class MJPEGServer:
    """A tiny MJPEG-over-HTTP server on 127.0.0.1, the way IP cameras stream to OpenCV.

    Serves ``frames`` JPEG frames as multipart/x-mixed-replace at ``fps``, then stops sending
    (``stall=True`` keeps the connection open without data; otherwise it closes).

    ``size_change_at``: from that frame on, frames are twice as large.
    """

    def __init__(self, frames: int = 60, fps: float = 30, stall: bool = False, size_change_at: int | None = None) -> None:
        self.frames, self.fps, self.stall, self.size_change_at = frames, fps, stall, size_change_at
        self.connections = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                server.connections += 1
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                try:
                    for i in range(server.frames):
                        w, h = (320, 240) if server.size_change_at is not None and i >= server.size_change_at else (160, 120)
                        ok, jpg = cv2.imencode(".jpg", make_stream_frame(i, w, h))
                        data = jpg.tobytes()
                        self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\n")
                        self.wfile.write(f"Content-Length: {len(data)}\r\n\r\n".encode())
                        self.wfile.write(data + b"\r\n")
                        self.wfile.flush()
                        time.sleep(1 / server.fps)
                    if server.stall:
                        time.sleep(30)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/video.mjpg"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "MJPEGServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
