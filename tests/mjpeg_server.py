"""A tiny MJPEG-over-HTTP server on 127.0.0.1, the way IP cameras stream to OpenCV (tests only)."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import numpy as np


def make_frame(i: int, width: int = 160, height: int = 120) -> np.ndarray:
    """A BGR test frame: a skin-coloured disc moving over a blue background."""
    img = np.full((height, width, 3), (120, 60, 20), np.uint8)
    cx = int(width * (0.3 + 0.4 * ((i % 30) / 30)))
    cv2.circle(img, (cx, height // 2), height // 4, (130, 150, 200), -1)
    return img


class MJPEGServer:
    """Serves ``frames`` JPEG frames as multipart/x-mixed-replace at ``fps``, then stops sending
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
                        ok, jpg = cv2.imencode(".jpg", make_frame(i, w, h))
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
