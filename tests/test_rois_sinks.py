"""ROI sinks on loopback: JSONL validates, a real OSC server and real WebSocket clients get every frame in order."""

from __future__ import annotations

import json
import socket
import threading
import time

import jsonschema
import numpy as np
import pytest

from streamseg.errors import ConfigError, OutputError
from streamseg.frames import Frame, FrameResult
from streamseg.rois import RoiOptions, RoiStage, load_schema
from streamseg.sinks.rois import open_roi_sinks, parse_spec

H, W = 120, 160


def messages(n: int = 30, contours: bool = False) -> list[dict]:
    """Messages of a generated clip: a square sliding right and a still disc (no MediaPipe)."""
    stage = RoiStage(RoiOptions(labels=False, contours=contours, min_area=0.005))
    yy, xx = np.mgrid[:H, :W]
    out = []
    for i in range(n):
        mask = np.zeros((H, W), bool)
        mask[30:60, 10 + 2 * i : 40 + 2 * i] = True
        mask |= (xx - 120) ** 2 + (yy - 90) ** 2 < 15**2
        prob = np.where(mask, 0.9, 0.05).astype(np.float32)
        out.append(stage.process(FrameResult(Frame(np.zeros((H, W, 3), np.uint8), i, i / 30), prob, mask)))
    return out


def wait_for(cond, timeout: float = 5.0) -> bool:
    """Poll ``cond`` until true or ``timeout`` seconds (a bound, not a speed check)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.01)
    return cond()


@pytest.mark.parametrize(
    "spec, kind, kw",
    [
        ("jsonl:-", "jsonl", {"target": "-"}),
        ("jsonl:out/rois.jsonl", "jsonl", {"target": "out/rois.jsonl"}),
        ("osc://:9000", "osc", {"host": "127.0.0.1", "port": 9000, "prefix": "/streamseg"}),
        ("osc://192.168.1.5:7000/td", "osc", {"host": "192.168.1.5", "port": 7000, "prefix": "/td"}),
        ("ws://:8765", "ws", {"host": "127.0.0.1", "port": 8765}),
        ("ws://0.0.0.0:8765", "ws", {"host": "0.0.0.0", "port": 8765}),
    ],
)
def test_parse_good_specs(spec, kind, kw):
    assert parse_spec(spec) == (kind, kw)


@pytest.mark.parametrize(
    "spec", ["jsonl:", "osc://host", "osc://:0", "osc://:99999", "ws://:port", "ws://:8765/path", "udp://:9000", "file.jsonl", "ws://:1?x=1"]
)
def test_bad_specs_are_one_line_config_errors(spec):
    with pytest.raises(ConfigError) as exc:
        open_roi_sinks([spec])
    assert spec.split("?")[0][:8] in str(exc.value) and "\n" not in str(exc.value)


def test_jsonl_file_lines_validate_against_schema(tmp_path):
    msgs = messages(contours=True)
    path = tmp_path / "rois.jsonl"
    with open_roi_sinks([f"jsonl:{path}"], source="generated.mp4") as sinks:
        for m in msgs:
            sinks.send(m)
    lines = path.read_text().splitlines()
    assert len(lines) == len(msgs)
    schema = load_schema()
    for i, line in enumerate(lines):
        obj = json.loads(line)
        jsonschema.validate(obj, schema)
        assert obj["frame"] == i and obj["source"] == "generated.mp4"
        assert len(obj["regions"]) == 2 and all("contour" in r for r in obj["regions"])


def test_jsonl_stdout(capsys):
    with open_roi_sinks(["jsonl:-"]) as sinks:
        for m in messages(3):
            sinks.send(m)
    out = capsys.readouterr().out.splitlines()
    assert [json.loads(line)["frame"] for line in out] == [0, 1, 2]


def test_unwritable_jsonl_file_is_output_error(tmp_path):
    with pytest.raises(OutputError, match="cannot write ROI file"):
        open_roi_sinks([f"jsonl:{tmp_path}/missing/dir/rois.jsonl"])


def test_osc_server_receives_every_frame_in_order():
    from pythonosc.dispatcher import Dispatcher
    from pythonosc.osc_server import BlockingOSCUDPServer

    got: list[tuple] = []
    disp = Dispatcher()
    disp.map("/streamseg/*", lambda address, *args: got.append((address, args)))
    server = BlockingOSCUDPServer(("127.0.0.1", 0), disp)
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    msgs = messages()
    try:
        with open_roi_sinks([f"osc://127.0.0.1:{port}"]) as sinks:
            for m in msgs:
                sinks.send(m)
        expected = sum(1 + len(m["regions"]) for m in msgs)
        assert wait_for(lambda: len(got) >= expected), f"{len(got)} of {expected} OSC messages"
    finally:
        server.shutdown()
        server.server_close()
    frames = [args for address, args in got if address == "/streamseg/frame"]
    assert [f[0] for f in frames] == list(range(len(msgs)))
    assert frames[0][2:4] == (W, H) and frames[0][5] == 2
    # each frame's /region messages follow its /frame message
    i = 0
    for m in msgs:
        assert got[i][0] == "/streamseg/frame"
        regions = [args for _, args in got[i + 1 : i + 1 + len(m["regions"])]]
        assert [r[0] for r in regions] == [r["id"] for r in m["regions"]]
        assert regions[0][1] == m["regions"][0]["label"]
        assert regions[0][3] == pytest.approx(m["regions"][0]["box_norm"][0], abs=1e-5)
        i += 1 + len(m["regions"])


def test_osc_bundle_has_landmarks_for_hands():
    from pythonosc.osc_bundle import OscBundle

    from streamseg.sinks.rois import OscSink

    sink = OscSink("127.0.0.1", 9)
    region = {"id": 4, "label": "hand", "score": 0.9, "box_norm": [0.1, 0.2, 0.3, 0.4], "centroid_norm": [0.2, 0.3],
              "area_norm": 0.01, "predicted": False, "gesture": "pinch", "handedness": "left",
              "landmarks_norm": [[0.1 * k, 0.2, -0.01] for k in range(21)]}
    bundle = OscBundle(sink.bundle({"frame": 7, "time": 0.2, "size": [640, 480], "skin_fraction": 0.1, "regions": [region]}).dgram)
    contents = list(bundle)
    assert [c.address for c in contents] == ["/streamseg/frame", "/streamseg/region", "/streamseg/landmarks"]
    assert contents[1].params[11:] == ["pinch", "left"]
    assert len(contents[2].params) == 1 + 63 and contents[2].params[0] == 4
    sink.close()


def test_websocket_clients_receive_every_frame_in_order():
    from websockets.sync.client import connect

    msgs = messages()
    sinks = open_roi_sinks(["ws://:0"], source="gen")
    ws = sinks.sinks[0]
    assert ws._server.sockets[0].getsockname()[0] == "127.0.0.1"  # loopback unless told otherwise
    url = f"ws://127.0.0.1:{ws.port}"
    try:
        with connect(url, open_timeout=5) as a, connect(url, open_timeout=5) as b:
            assert wait_for(lambda: ws.clients == 2)
            for m in msgs:
                sinks.send(m)
            for client in (a, b):
                frames = [json.loads(client.recv(timeout=5))["frame"] for _ in msgs]
                assert frames == list(range(len(msgs)))
            assert ws.dropped == 0
    finally:
        sinks.close()
    assert not ws._thread.is_alive()


def test_websocket_slow_client_is_dropped_from_not_waited_for():
    from streamseg.sinks.rois import WebSocketSink

    sink = WebSocketSink("127.0.0.1", 0, queue_size=4)
    raw = socket.create_connection(("127.0.0.1", sink.port), timeout=5)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    try:
        raw.sendall(
            b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        assert wait_for(lambda: sink.clients == 1)
        big = "x" * 200_000
        for i in range(200):  # ~40 MB to a client that never reads
            sink.send({}, json.dumps({"frame": i, "pad": big}))
        assert wait_for(lambda: sink.dropped > 0)
    finally:
        sink.close(grace=0.2)
        raw.close()
    assert not sink._thread.is_alive()


def test_port_in_use_is_output_error():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    try:
        with pytest.raises(OutputError, match="cannot serve ROIs"):
            open_roi_sinks([f"ws://127.0.0.1:{s.getsockname()[1]}"])
    finally:
        s.close()


def _line_reader(proc):
    """A function returning the child's next stdout line, or "" after 10 s (never hangs the suite)."""
    import queue

    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()

    def read(timeout: float = 10.0) -> str:
        try:
            return lines.get(timeout=timeout)
        except queue.Empty:
            return ""

    return read


def test_osc_receiver_example_prints_each_frame():
    import subprocess
    import sys
    from pathlib import Path

    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    script = Path(__file__).resolve().parents[1] / "examples" / "osc_receiver.py"
    proc = subprocess.Popen([sys.executable, str(script), "--port", str(port)], stdout=subprocess.PIPE, text=True)
    read = _line_reader(proc)
    try:
        assert "listening" in read()
        msgs = messages(4)
        with open_roi_sinks([f"osc://127.0.0.1:{port}"]) as sinks:
            for m in msgs:
                sinks.send(m)
        lines = [read() for _ in range(3)]  # a frame prints when the next one starts
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert [int(line.split()[1]) for line in lines] == [0, 1, 2]
    assert all("160x120" in line and "#1 skin" in line and "#2 skin" in line for line in lines), lines
