"""`streamseg serve`: a real server process on 127.0.0.1 (a free port) and a real HTTP client
(httpx): answers equal to `streamseg image`, 4xx JSON for bad bodies, 503 past the bound, a
clean stop on SIGTERM with no library log line."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

pytest.importorskip("fastapi", reason="streamseg serve needs pip install 'streamseg[serve]'")
pytest.importorskip("uvicorn", reason="streamseg serve needs pip install 'streamseg[serve]'")
pytest.importorskip("python_multipart", reason="streamseg serve needs pip install 'streamseg[serve]'")
httpx = pytest.importorskip("httpx", reason="the tests' HTTP client: pip install httpx")

from streamseg.commands.common import MODEL_OPTIONS  # noqa: E402
from streamseg.synthetic import synthetic_frame  # noqa: E402

#: whether `streamseg image` has --quality (a request's quality is then compared with it)
HAVE_QUALITY = "quality" in MODEL_OPTIONS
#: the bound of the module's server, and its limits (small, so the tests' bodies cross them)
MAX_CONCURRENT = 2
MAX_MB = 0.5
MAX_MEGAPIXELS = 1.0


class Server:
    """A `streamseg serve --port 0` process; ``url`` from its ready line; stderr collected."""

    def __init__(self, *args: str) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("STREAMSEG_DEBUG", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamseg", "serve", "--port", "0", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )
        self.lines: list[str] = []
        ready = threading.Event()
        self.url = ""

        def pump() -> None:
            for line in self.proc.stderr:
                self.lines.append(line.rstrip("\n"))
                m = re.search(r"at (http://127\.0\.0\.1:\d+) ", line)
                if m and not self.url:
                    self.url = m.group(1)
                    ready.set()
            ready.set()

        self._pump = threading.Thread(target=pump, daemon=True)
        self._pump.start()
        if not ready.wait(180) or not self.url:
            self.proc.kill()
            raise RuntimeError("the server did not start: " + "\n".join(self.lines))

    def stop(self) -> int:
        """SIGTERM, then the exit code (killed after a minute if it has not ended)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self._pump.join(10)
        return code


@pytest.fixture(scope="module")
def server():
    srv = Server("-m", "ellipse-diag", "--max-concurrent", str(MAX_CONCURRENT), "--max-mb", str(MAX_MB),
                 "--max-megapixels", str(MAX_MEGAPIXELS))
    try:
        yield srv
    finally:
        srv.stop()


def _photo(path: Path, width: int = 160, height: int = 120) -> Path:
    img = synthetic_frame(7, width, height)
    img[: height // 4, -width // 5 :] = (60, 110, 190)  # a second skin patch, apart from the disc: two regions
    assert cv2.imwrite(str(path), img)
    return path


def _post(url: str, data: bytes, params: dict | None = None, multipart: bool = False, timeout: float = 60) -> httpx.Response:
    if multipart:
        return httpx.post(f"{url}/segment", params=params, files={"file": ("photo", data)}, timeout=timeout)
    return httpx.post(f"{url}/segment", params=params, content=data, timeout=timeout)


def test_answers_equal_streamseg_image(server, tmp_path, cli):
    for name in ("photo.png", "photo.jpg"):
        src = _photo(tmp_path / name)
        data = src.read_bytes()
        cases = [((), {}), (("-t", "0.35", "--feather", "6"), {"threshold": 0.35, "feather": 6})]
        if HAVE_QUALITY:
            cases.append((("--quality", "balanced"), {"quality": "balanced"}))  # another quality than the server's
        for k, (opts, params) in enumerate(cases):
            out = tmp_path / f"ref_{name}_{k}"
            code, _, err = cli("image", src, "-o", out, "-m", "ellipse-diag", "-T", "mask,alpha,prob", *opts)
            assert code == 0, err
            for output in ("mask", "alpha", "prob"):
                for multipart in (False, True):
                    r = _post(server.url, data, {**params, "output": output}, multipart)
                    assert r.status_code == 200, r.text
                    assert r.headers["content-type"] == "image/png"
                    assert r.content == (out / f"photo_{output}.png").read_bytes(), (name, output, params, multipart)
            r = _post(server.url, data, {**params, "output": "stats"})
            assert r.status_code == 200, r.text
            stats = r.json()
            mask = cv2.imread(str(out / "photo_mask.png"), cv2.IMREAD_GRAYSCALE)
            assert (stats["width"], stats["height"]) == (160, 120)
            assert stats["skin_fraction"] == round(float((mask > 0).mean()), 5)
            n, _, cc, _ = cv2.connectedComponentsWithStats((mask > 0).astype(np.uint8), connectivity=8)
            assert stats["regions"] == int((cc[1:n, cv2.CC_STAT_AREA] >= 0.002 * mask.size).sum())
            assert stats["method"] == "ellipse-diag" and stats["quality"] == params.get("quality", "fast")
        if HAVE_QUALITY:
            fast, balanced = ((tmp_path / f"ref_{name}_{k}" / "photo_mask.png").read_bytes() for k in (0, 2))
            assert fast != balanced  # the quality asked for is the one that ran


def test_health_methods_and_docs(server):
    h = httpx.get(f"{server.url}/health", timeout=30).json()
    assert h["status"] == "ok" and h["method"] == "ellipse-diag" and h["max_concurrent"] == MAX_CONCURRENT
    m = httpx.get(f"{server.url}/methods", timeout=60).json()
    assert m["served"] == "ellipse-diag"
    assert [x["name"] for x in m["methods"] if x["served"]] == ["ellipse-diag"]
    assert httpx.get(f"{server.url}/docs", timeout=30).status_code == 200
    spec = httpx.get(f"{server.url}/openapi.json", timeout=30).json()
    assert {"/segment", "/health", "/methods"} <= set(spec["paths"])
    assert "multipart/form-data" in spec["paths"]["/segment"]["post"]["requestBody"]["content"]


def test_bad_bodies_get_4xx_json(server, tmp_path):
    good = _photo(tmp_path / "p.jpg").read_bytes()
    big = cv2.imencode(".png", np.zeros((1000, 1100, 3), np.uint8))[1].tobytes()  # 1.1 MP in a few kB
    assert len(big) < MAX_MB * 1024 * 1024
    cases = {
        "empty": (b"", {}, False, 400),
        "truncated": (good[: len(good) // 2], {}, False, 400),
        "truncated multipart": (good[: len(good) - 10], {}, True, 400),
        "not an image": (b"hello, this is text" * 10, {}, False, 415),
        "a GIF": (b"GIF89a" + bytes(64), {}, False, 415),
        "over the byte limit": (os.urandom(int(MAX_MB * 1024 * 1024) + 1000), {}, False, 413),
        "over the megapixels": (big, {}, False, 413),
        "bad output": (good, {"output": "nope"}, False, 400),
        "bad threshold": (good, {"threshold": 2}, False, 400),
        "another method": (good, {"method": "dlmv"}, False, 400),
    }
    for what, (data, params, multipart, status) in cases.items():
        r = _post(server.url, data, params, multipart)
        assert r.status_code == status, (what, r.status_code, r.text)
        assert r.headers["content-type"] == "application/json", what
        err = r.json()["error"]
        assert err and "\n" not in err and "Traceback" not in err, what
    r = httpx.post(f"{server.url}/segment", files={"x": (None, "1")}, timeout=30)  # a multipart form without a file
    assert r.status_code == 400 and "file" in r.json()["error"]
    r = httpx.post(f"{server.url}/segment", content=b"--x\r\nbroken", headers={"content-type": "multipart/form-data; boundary=x"}, timeout=30)
    assert r.status_code == 400 and "error" in r.json()
    assert _post(server.url, good).status_code == 200  # still serving


def test_requests_past_the_bound_get_503(server, tmp_path):
    data = _photo(tmp_path / "p.png").read_bytes()
    release = threading.Event()
    answers: list[int] = []

    def slow_body():
        yield data[:100]
        release.wait(120)
        yield data[100:]

    def slow_client():
        answers.append(httpx.post(f"{server.url}/segment", content=slow_body(), timeout=180).status_code)

    threads = [threading.Thread(target=slow_client) for _ in range(MAX_CONCURRENT)]
    for t in threads:
        t.start()
    try:
        for _ in range(600):  # until both requests are in flight (each waits for the rest of its body)
            if httpx.get(f"{server.url}/health", timeout=30).json()["inflight"] == MAX_CONCURRENT:
                break
            threading.Event().wait(0.05)
        else:
            pytest.fail("the slow requests never got in flight")
        for multipart in (False, True):
            r = _post(server.url, data, multipart=multipart)
            assert r.status_code == 503, r.text
            assert int(r.headers["retry-after"]) >= 1 and "busy" in r.json()["error"]
    finally:
        release.set()
        for t in threads:
            t.join(120)
    assert answers == [200] * MAX_CONCURRENT  # the requests within the bound were served
    assert _post(server.url, data).status_code == 200


def test_sigterm_ends_cleanly_without_library_lines(tmp_path):
    srv = Server("-m", "ellipse-diag")
    try:
        data = _photo(tmp_path / "p.png").read_bytes()
        assert _post(srv.url, data).status_code == 200
        assert _post(srv.url, b"junk").status_code == 415
        assert httpx.get(f"{srv.url}/nowhere", timeout=30).status_code == 404
        import socket

        host, port = srv.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=30) as s:  # uvicorn rejects it: no log line either
            s.sendall(b"NOT HTTP AT ALL\r\n\r\n")
            s.recv(1024)
    finally:
        code = srv.stop()
    assert code == 0, srv.lines
    assert srv.lines[0].startswith("serving ellipse-diag") and srv.lines[-1] == "stopped", srv.lines
    assert len(srv.lines) == 2, srv.lines  # no access log, no uvicorn banner, no warning
    assert srv.proc.stdout.read() == ""


def test_without_the_extra_one_line(cli, monkeypatch):
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # `import uvicorn` fails as if it were not installed
    code, out, err = cli("serve", "--port", "0")
    assert code == 2 and err.strip() == "error: streamseg serve needs FastAPI and uvicorn: pip install 'streamseg[serve]'"


def test_busy_port_is_one_line(cli):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        code, _, err = cli("serve", "--port", str(port), "-m", "ellipse-diag")
    assert code == 2 and err.strip().startswith(f"error: cannot listen on 127.0.0.1:{port}") and "\n" not in err.strip()


def test_stats_are_json_numbers(server, tmp_path):
    r = _post(server.url, _photo(tmp_path / "p.png").read_bytes(), {"output": "stats"})
    stats = json.loads(r.text)
    assert set(stats) == {"width", "height", "skin_fraction", "regions", "method", "quality", "threshold", "ms"}
    assert 0.0 < stats["skin_fraction"] < 1.0 and stats["threshold"] == 0.5 and stats["ms"] >= 0
