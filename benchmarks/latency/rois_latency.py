"""Latency of the ROI stage and end-to-end capture -> message on the socket, on the demo clip.

Decodes the clip with PyAV, segments each frame (``--method``, default ``ellipse``),
thresholds at 0.5, runs :class:`streamseg.rois.RoiStage` and sends the message to an OSC sink and
a WebSocket sink with one loopback client. Frames are paced at the clip's rate (as a camera
would deliver them) unless ``--no-pace``.

Reported per configuration (labels off / labels on, in a background thread (default) or in
the frame's thread / ``--hands``):

- ``stage``: time in ``RoiStage.process`` (ms per frame), split into labels (MediaPipe, or
  handing a frame to the background labeller), regions, tracking and message;
- ``e2e osc``: from the frame being decoded to the OSC bundle having left the UDP socket;
- ``e2e ws``: from the frame being decoded to the WebSocket client having received the JSON
  (an upper bound of "leaving the socket": it includes the client's receive).

Usage:
    .venv/bin/python -m benchmarks.latency.rois_latency [--clip PATH] [--method ellipse] [--frames N] [--no-pace] [--only NAME]
"""

from __future__ import annotations

import argparse
import json
import threading
import time

import av
import numpy as np

from streamseg.frames import Frame, FrameResult
from streamseg.paths import demo_clip
from streamseg.rois import RoiOptions, RoiStage
from streamseg.sinks.rois import open_roi_sinks
from streamseg.segment import create
from benchmarks.timing import now, summary


def decode(path: str, limit: int | None) -> tuple[list[np.ndarray], list[float], float]:
    with av.open(path) as c:
        stream = c.streams.video[0]
        fps = float(stream.average_rate or 25)
        frames, times = [], []
        for f in c.decode(stream):
            frames.append(f.to_ndarray(format="bgr24"))
            times.append(float(f.time or 0.0))
            if limit and len(frames) >= limit:
                break
    return frames, times, fps


def ws_client(url: str, received: dict[int, float], stop: threading.Event, ready: threading.Event) -> None:
    from websockets.sync.client import connect

    with connect(url) as ws:
        ready.set()
        while not stop.is_set():
            try:
                text = ws.recv(timeout=0.2)
            except TimeoutError:
                continue
            except Exception:  # noqa: BLE001 - server closed
                return
            received[json.loads(text)["frame"]] = now()


def run(name: str, options: RoiOptions, frames, times, fps, method: str, pace: bool) -> dict:
    seg = create(method)
    seg.warmup(*frames[0].shape[:2])
    stage = RoiStage(options)
    sinks = open_roi_sinks(["osc://127.0.0.1:9", "ws://127.0.0.1:0"], source="demo")
    ws = sinks.sinks[1]
    received: dict[int, float] = {}
    stop, ready = threading.Event(), threading.Event()
    client = threading.Thread(target=ws_client, args=(f"ws://127.0.0.1:{ws.port}", received, stop, ready), daemon=True)
    client.start()
    ready.wait(5)
    while ws.clients < 1:
        time.sleep(0.01)
    # warm-up frame (MediaPipe graph creation) outside the measurement
    p = seg(frames[0])
    stage.process(FrameResult(Frame(frames[0], 0, 0.0), p, p >= 0.5))
    stage.reset()
    captured, stage_ms, seg_ms, osc_e2e = {}, [], [], []
    parts: dict[str, list[float]] = {}
    start = now()
    for i, (img, t) in enumerate(zip(frames, times)):
        if pace:
            delay = start + i / fps - now()
            if delay > 0:
                time.sleep(delay)
        cap = now()  # the frame is "captured" (decoded frames are in memory)
        captured[i] = cap
        t0 = now()
        prob = seg(img)
        mask = prob >= 0.5
        seg_ms.append((now() - t0) * 1000)
        res = FrameResult(Frame(img, i, t, captured_at=cap), prob, mask)
        msg = stage.process(res)
        stage_ms.append(res.timings["rois"] * 1000)
        for k, v in stage.last_parts.items():
            parts.setdefault(k, []).append(v * 1000)
        sinks.send(msg)
        osc_e2e.append((sinks.sent_at - cap) * 1000)
    deadline = time.monotonic() + 5
    while len(received) < len(frames) and time.monotonic() < deadline:
        time.sleep(0.02)
    sinks.close()
    stop.set()
    client.join(2)
    stage.close()
    ws_e2e = [(received[i] - captured[i]) * 1000 for i in received]

    def stats(v):
        s = summary([float(x) for x in v])
        return f"median {s['median']:6.2f}  p90 {s['p90']:6.2f}  max {s['max']:6.2f}"

    print(f"{name}:")
    print(f"  segment ({method}) ms  {stats(seg_ms)}")
    print(f"  ROI stage ms         {stats(stage_ms)}")
    for k, v in parts.items():
        print(f"    {k:<18} ms {stats(v)}")
    print(f"  e2e osc ms           {stats(osc_e2e)}")
    print(f"  e2e ws ms            {stats(ws_e2e)}   ({len(received)}/{len(frames)} frames received)")
    return {"stage": float(np.median(stage_ms))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clip", default=str(demo_clip()))
    ap.add_argument("--method", default="ellipse")
    ap.add_argument("--frames", type=int, default=None)
    ap.add_argument("--no-pace", dest="pace", action="store_false")
    ap.add_argument("--only", choices=["skin", "labels", "labels-sync", "hands"], default=None)
    args = ap.parse_args()
    frames, times, fps = decode(args.clip, args.frames)
    h, w = frames[0].shape[:2]
    print(f"{args.clip}: {len(frames)} frames {w}x{h} @ {fps:.2f} fps, pace={args.pace}")
    configs = {
        "skin": ("labels off (skin regions only)", RoiOptions(labels=False)),
        "labels": ("labels on, default (face + hands every 3rd frame, background thread)", RoiOptions(labels=True)),
        "labels-sync": ("labels on, in the frame's thread (background_labels=False)", RoiOptions(labels=True, background_labels=False)),
        "hands": ("--hands (hands + landmarks every frame, face every 3rd)", RoiOptions(hands=True)),
    }
    for key, (name, opts) in configs.items():
        if args.only in (None, key):
            run(name, opts, frames, times, fps, args.method, args.pace)


if __name__ == "__main__":
    main()
