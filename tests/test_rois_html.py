"""examples/rois.html in headless Chromium draws the boxes it receives over the WebSocket (checked from the page).

Skips when no Chromium is installed (Debian: ``apt-get install chromium``).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from streamseg.frames import Frame, FrameResult
from streamseg.rois import RoiOptions, RoiStage
from streamseg.sinks.rois import open_roi_sinks

BROWSER = next((shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)
PAGE = Path(__file__).resolve().parents[1] / "examples" / "rois.html"
pytestmark = pytest.mark.skipif(BROWSER is None, reason="chromium is not installed")

H, W = 240, 320
SKIN_RGB = (0x3C, 0xA0, 0xFF)  # COLOURS.skin in rois.html

CHECK = """(() => {
  const s = window.roiState, c = document.getElementById('view'), ctx = c.getContext('2d');
  const px = (x, y) => Array.from(ctx.getImageData(Math.round(x), Math.round(y), 1, 1).data.slice(0, 3));
  return JSON.stringify({connected: s.connected, messages: s.messages, frame: s.lastFrame, size: [c.width, c.height],
    drawn: s.drawn.map(d => { const [x, y, w, h] = d.box;
      return {id: d.id, label: d.label, box: d.box, bottom: px(x + w / 2, y + h), left: px(x, y + h / 2), inside: px(x + w / 2, y + h / 2)}; })});
})()"""


def wait_for(cond, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(0.1)
    return cond()


def messages(n: int) -> list[dict]:
    stage = RoiStage(RoiOptions(labels=False))
    out = []
    for i in range(n):
        mask = np.zeros((H, W), bool)
        mask[40:100, 30:90] = True  # still squares: integer boxes, so edge pixels are exact
        mask[120:200, 200:260] = True
        out.append(stage.process(FrameResult(Frame(np.zeros((H, W, 3), np.uint8), i, i / 25), mask.astype(np.float32), mask)))
    return out


def test_page_draws_the_boxes_it_receives(tmp_path):
    from websockets.sync.client import connect

    sinks = open_roi_sinks(["ws://127.0.0.1:0"])
    ws = sinks.sinks[0]
    url = f"{PAGE.as_uri()}?ws=ws://127.0.0.1:{ws.port}"
    proc = subprocess.Popen(
        [BROWSER, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--remote-debugging-port=0",
         "--remote-allow-origins=*", f"--user-data-dir={tmp_path / 'profile'}", url],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        port = None
        deadline = time.monotonic() + 30
        while port is None and time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line and proc.poll() is not None:
                break
            m = re.search(r"DevTools listening on ws://[\d.]+:(\d+)/", line)
            port = int(m.group(1)) if m else None
        assert port, "chromium did not start its DevTools endpoint"
        threading.Thread(target=proc.stderr.read, daemon=True).start()  # keep draining: a full pipe would stall chromium
        assert wait_for(lambda: ws.clients == 1), "the page did not connect to the WebSocket"
        msgs = messages(12)
        for m in msgs:
            sinks.send(m)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
            page = next(t for t in json.load(r) if t["type"] == "page")
        with connect(page["webSocketDebuggerUrl"], open_timeout=10, max_size=None) as cdp:
            def state():
                cdp.send(json.dumps({"id": 1, "method": "Runtime.evaluate", "params": {"expression": CHECK, "returnByValue": True}}))
                while True:
                    reply = json.loads(cdp.recv(timeout=10))
                    if reply.get("id") == 1:
                        s = json.loads(reply["result"]["result"]["value"])
                        return s if s["frame"] == len(msgs) - 1 else None

            s = wait_for(state)
        assert s, "the page never drew the last frame"
        assert s["connected"] and s["messages"] == len(msgs) and s["size"] == [W, H]
        expected = {r["id"]: r["box"] for r in msgs[-1]["regions"]}
        assert {d["id"]: d["box"] for d in s["drawn"]} == expected
        for d in s["drawn"]:
            assert d["label"] == "skin"
            assert d["bottom"] == list(SKIN_RGB) and d["left"] == list(SKIN_RGB), d
            assert d["inside"] == [0, 0, 0], d  # stroked, not filled
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        sinks.close()
