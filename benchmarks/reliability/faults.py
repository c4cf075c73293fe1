"""Try every fault case of the reliability spec and print what streamseg did, as a markdown table.

Each case builds its own bad input in a temporary folder (no shared data needed) and runs the
real CLI in a subprocess. The table in docs/troubleshooting.md is this script's output.

Usage:
    .venv/bin/python -m benchmarks.reliability.faults > /tmp/faults.md
"""

from __future__ import annotations

import random
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from streamseg.synthetic import MJPEGServer, make_video, png_header_only, read_video

CLI = [sys.executable, "-m", "streamseg"]
TMP = Path(tempfile.mkdtemp(prefix="streamseg-faults-"))
ROWS: list[tuple[str, str, int]] = []


def run(case: str, args: list[str], preexec=None, note: str = "") -> subprocess.CompletedProcess:
    p = subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, preexec_fn=preexec, timeout=300)
    lines = [l for l in p.stderr.strip().splitlines() if l.startswith(("error:", "warning:"))]
    said = lines[0] if lines else (p.stderr.strip().splitlines() or [""])[-1]
    said = said.replace(str(TMP), "<tmp>")
    ROWS.append((case, (said + (f" — {note}" if note else "")).replace("|", "\\|"), p.returncode))
    return p


def only_line(p: subprocess.CompletedProcess) -> str:
    """A note for a case whose message should stand alone on stderr."""
    n = len([ln for ln in p.stderr.splitlines() if ln.strip()])
    return "the only line" if n == 1 else f"{n} lines on stderr"


def interrupt(case: str, args: list[str], wait_for: Path, sig: int, check) -> None:
    p = subprocess.Popen([*CLI, *map(str, args)], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not wait_for.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)
    p.send_signal(sig)
    _, err = p.communicate(timeout=60)
    lines = [l for l in err.strip().splitlines() if l.startswith(("error:", "recorded"))]
    said = (lines[-1] if lines else "").replace(str(TMP), "<tmp>")
    ROWS.append((case, (said + " — " + check()).replace("|", "\\|"), p.returncode))


def main() -> None:
    d = TMP
    m = ["-m", "ellipse"]
    ok = make_video(d / "ok.mp4", frames=20, audio=True)
    # inputs
    run("input path does not exist", ["video", d / "missing.mp4", *m])
    run("input is a directory", ["video", d, *m])
    (d / "zero.mp4").write_bytes(b"")
    run("zero-byte file", ["video", d / "zero.mp4", *m])
    (d / "text.mp4").write_text("hello\n" * 100)
    run("text file named .mp4", ["video", d / "text.mp4", *m])
    full = make_video(d / "full.mp4", frames=100, width=128, height=96, options={"movflags": "faststart"})
    (d / "cut.mp4").write_bytes(full.read_bytes()[: int(full.stat().st_size * 0.6)])
    run("truncated video (60% of the bytes)", ["video", d / "cut.mp4", *m, "-o", d / "cut_out.mp4"])
    data = bytearray(make_video(d / "c.mp4", frames=100, width=128, height=96).read_bytes())
    rng = random.Random(1)
    for k in range(5):
        o = int(len(data) * (0.3 + 0.1 * k))
        data[o : o + 200] = bytes(rng.randrange(256) for _ in range(200))
    (d / "corrupt.mp4").write_bytes(bytes(data))
    run("corrupt packets in the middle", ["video", d / "corrupt.mp4", *m, "-o", d / "corrupt_out.mp4"])
    import av

    with av.open(str(d / "audio.m4a"), "w") as c:
        a = c.add_stream("aac", rate=48000)
        fr = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        fr.sample_rate = 48000
        for pk in [*a.encode(fr), *a.encode(None)]:
            c.mux(pk)
    run("audio only, no video", ["video", d / "audio.m4a", *m])
    data = make_video(d / "rec10.mp4", frames=10).read_bytes()
    moov, mdat = data.find(b"moov") - 4, data.find(b"mdat") - 4
    ftyp = int.from_bytes(data[:4], "big")  # what a crashed recorder leaves: ftyp + mdat, no moov
    (d / "crash.mp4").write_bytes(data[:ftyp] + (data[mdat:moov] if moov > mdat else data[mdat:]))
    run("`.mp4` cut off while recording (no `moov` index)", ["video", d / "crash.mp4", *m])
    pts = [0, 40, 70, 150, 160, 300, 310, 320, 400, 500]
    make_video(d / "vfr.mkv", frames=len(pts), vfr_pts=pts)
    p = run("variable frame rate", ["video", d / "vfr.mkv", *m, "-o", d / "vfr_out.mp4"])
    if p.returncode == 0:
        ROWS[-1] = (ROWS[-1][0], f"timestamps kept: {[round(t, 3) for t in read_video(d / 'vfr_out.mp4')['times']]}", 0)
    make_video(d / "rot.mp4", frames=5, width=64, height=48, rotation=90)
    p = run("phone video, rotation metadata 90°", ["video", d / "rot.mp4", *m, "-o", d / "rot_out.mp4"])
    if p.returncode == 0:
        ROWS[-1] = (ROWS[-1][0], f"upright output, {read_video(d / 'rot_out.mp4')['shapes']} (h, w) from a 64x48 stream", 0)
    make_video(d / "odd.mp4", frames=5, width=63, height=47)
    p = run("odd frame size 63x47", ["video", d / "odd.mp4", *m, "-o", d / "odd_out.mp4"])
    note = next((ln for ln in p.stderr.splitlines() if ln.startswith("odd frame size")), "")
    shapes = read_video(d / "odd_out.mp4")["shapes"] if p.returncode == 0 else "-"
    ROWS[-1] = (ROWS[-1][0], f"note: {note} — output {shapes} (h, w)", ROWS[-1][2])
    for pf in ("yuv420p10le", "yuv444p"):
        make_video(d / f"{pf}.mp4", frames=5, pix_fmt=pf)
        p = run(f"{pf} source", ["video", d / f"{pf}.mp4", *m, "-o", d / f"{pf}_out.mp4"])
        if p.returncode == 0:
            ROWS[-1] = (ROWS[-1][0], f"processed, {read_video(d / f'{pf}_out.mp4')['frames']} of 5 frames", 0)
    cv2.imwrite(str(d / "grey.png"), np.full((20, 30), 128, np.uint8))
    cv2.imwrite(str(d / "rgba.png"), np.zeros((20, 30, 4), np.uint8))
    cv2.imwrite(str(d / "deep.png"), np.zeros((20, 30, 3), np.uint16))
    p = run("greyscale, RGBA and 16-bit images", ["image", d / "grey.png", d / "rgba.png", d / "deep.png", *m, "-o", d / "img"])
    png_header_only(d / "huge.png", 40000, 40000)
    run("image of 40000x40000", ["image", d / "huge.png", *m, "-o", d / "img"])
    _, png = cv2.imencode(".png", np.full((6, 8, 3), 128, np.uint8))
    liar = bytearray(png.tobytes())
    liar[16:24] = (640).to_bytes(4, "big") + (480).to_bytes(4, "big")  # a real 8x6 PNG whose header says 640x480
    (d / "liar.png").write_bytes(bytes(liar))
    p = run("image whose header lies about its size", ["image", d / "liar.png", *m, "-o", d / "img"])
    ROWS[-1] = (ROWS[-1][0], ROWS[-1][1] + (" (libpng's own lines silenced)" if "libpng" not in p.stderr else ""), ROWS[-1][2])
    # live
    p = run("camera index that does not exist", ["webcam", "--source", "57", "--no-show", *m])
    before = ", reported before a model loads" if "method:" not in p.stderr else ""
    quiet = ", OpenCV's own log lines silenced (`--verbose` shows them)" if only_line(p) == "the only line" else ""
    ROWS[-1] = (ROWS[-1][0], ROWS[-1][1] + f" — {only_line(p)}{before}{quiet}", ROWS[-1][2])
    p = run("stream URL that does not answer", ["webcam", "--source", "http://127.0.0.1:9/x", "--no-show", *m, "--timeout", "1"])
    ROWS[-1] = (ROWS[-1][0], ROWS[-1][1] + f" — {only_line(p)}", ROWS[-1][2])
    with MJPEGServer(frames=10, fps=30) as srv:
        run("stream stops, --no-reconnect", ["webcam", "--source", srv.url, "--no-show", *m, "--no-reconnect", "--timeout", "1"])
    with MJPEGServer(frames=10, fps=30) as srv:
        p = run("stream stops, reconnect (default)", ["webcam", "--source", srv.url, "--no-show", *m, "--timeout", "1", "--duration", "4"])
        ROWS[-1] = (ROWS[-1][0], f"reopened with backoff, {srv.connections} connections; smoothing state reset on the first new frame", p.returncode)
    with MJPEGServer(frames=30, fps=30, size_change_at=10) as srv:
        p = run("stream changes frame size", ["webcam", "--source", srv.url, "--no-show", *m, "--no-reconnect", "--record", d / "sz.mp4"])
        ROWS[-1] = (ROWS[-1][0], f"kept going; recording stays {read_video(d / 'sz.mp4')['shapes']} (h, w)", p.returncode)
    # outputs
    p = run("output folder missing", ["video", ok, *m, "-o", d / "new" / "dir" / "o.mp4"])
    ROWS[-1] = (ROWS[-1][0], "created output folder, wrote the file", p.returncode)
    run("no write permission (read-only file system)", ["video", ok, *m, "-o", "/proc/o.mp4"])
    (d / "exists.mp4").write_bytes(b"x")
    run("output exists", ["video", ok, *m, "-o", d / "exists.mp4"])
    run("output equals input", ["video", ok, *m, "-o", ok, "--overwrite"])
    p = run("`-o out.mp4` with several `-T` types", ["video", ok, *m, "-T", "mask,overlay", "-o", d / "several" / "out.mp4"])
    written = sorted(f.name for f in (d / "several").iterdir()) if (d / "several").is_dir() else []
    ROWS[-1] = (ROWS[-1][0], f"wrote {', '.join(written)} (one file per type, named after it; never a folder named out.mp4)", p.returncode)

    def small_disk():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))

    big = make_video(d / "big.mp4", frames=200, width=160, height=120)
    run("disk full (20 kB file-size limit)", ["video", big, *m, "-T", "overlay", "-o", d / "full_out.mp4", "--crf", "0"], preexec=small_disk,
        note=f"final name exists: {(d / 'full_out.mp4').exists()}, partial left: {(d / 'full_out.partial.mp4').exists()}")
    # models
    import onnx
    from onnx import TensorProto, helper

    def graph(path: Path, in_shape, out_shape, op="Identity") -> Path:
        x = helper.make_tensor_value_info("input", TensorProto.FLOAT, in_shape)
        y = helper.make_tensor_value_info("output", TensorProto.FLOAT, out_shape)
        nodes = [helper.make_node(op, ["input"], ["output"])]
        g = helper.make_graph(nodes, "g", [x], [y])
        onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), str(path))
        return path

    good = graph(d / "good.onnx", [1, 3, 32, 32], [1, 3, 32, 32])
    (d / "trunc.onnx").write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    run("truncated ONNX model named with `-m`", ["video", ok, "-m", d / "trunc.onnx", "-o", d / "m1.mp4"])
    run("truncated ONNX model with `--fallback`", ["video", ok, "-m", d / "trunc.onnx", "--fallback", "-o", d / "m1f.mp4"])
    (d / "notonnx.onnx").write_text("def f(): pass\n")
    run("non-ONNX file named .onnx", ["video", ok, "-m", d / "notonnx.onnx", "-o", d / "m2.mp4"])
    graph(d / "rank3.onnx", [3, 32, 32], [3, 32, 32])
    run("model input of rank 3", ["video", ok, "-m", d / "rank3.onnx", "-o", d / "m3.mp4"])
    graph(d / "ch1.onnx", [1, 1, 32, 32], [1, 1, 32, 32])
    run("model input with 1 channel", ["video", ok, "-m", d / "ch1.onnx", "-o", d / "m4.mp4"])
    graph(d / "flat.onnx", [1, 3, 32, 32], [1, 3072], op="Flatten")
    run("model output of the wrong shape (1x3072)", ["video", ok, "-m", d / "flat.onnx", "-o", d / "m8.mp4"])
    run("model file missing (`-m missing.onnx`)", ["video", ok, "-m", d / "missing.onnx", "-o", d / "m5.mp4"])
    run("model file missing, with `--fallback`", ["video", ok, "-m", d / "missing.onnx", "--fallback", "-o", d / "m5f.mp4"])
    run("truncated ONNX model with --strict", ["video", ok, "-m", d / "trunc.onnx", "--strict", "-o", d / "m6.mp4"])
    run("`--strict` and `--fallback` together", ["video", ok, "-m", d / "trunc.onnx", "--strict", "--fallback", "-o", d / "m9.mp4"])
    run("--provider cuda on a machine without CUDA", ["video", ok, "-m", good, "--provider", "cuda", "-o", d / "m7.mp4"])
    # config files
    for name, text in (("unknown key", "[smooth]\nbogus = 1\n"), ("wrong type", '[smooth]\nema = {alpha = "high"}\n'),
                       ("out-of-range value", "[smooth]\nema = {alpha = 2.0}\n"), ("unknown ROI option", "[rois]\nnope = 1\n")):
        (d / "c.toml").write_text(text)
        run(f"config file: {name}", ["video", ok, *m, "--smooth", "ema", "--rois", f"jsonl:{d / 'r.jsonl'}", "-c", d / "c.toml"])
    for name, text in (("unknown `[rois]` key, without `--rois`", "[rois]\nmin_areaa = 0.01\n"),
                       ("unknown `[smooth]` key with the default smoothing", "[smooth]\nbogus = 1\n")):
        (d / "c.toml").write_text(text)
        run(f"config file: {name}", ["video", ok, *m, "-c", d / "c.toml", "-o", d / "c_out.mp4"])
    # command line
    run("unknown method (`-m elipse`)", ["video", ok, "-m", "elipse"])
    run("a switch given a value (`--strict true`)", ["video", ok, *m, "--strict", "true"])
    run("bad option value (`--batch 0`)", ["video", ok, *m, "--batch", "0"])
    run("unknown option (`--bogus`)", ["video", ok, *m, "--bogus"])
    # interruptions
    long = make_video(d / "long.mp4", frames=1500, width=320, height=240)
    for sig in (signal.SIGINT, signal.SIGTERM):
        name = signal.Signals(sig).name
        interrupt(f"{name} during `streamseg video`", ["video", long, *m, "-o", d / f"int_{name}.mp4"], d / f"int_{name}.partial.mp4", sig,
                  lambda n=name: f"partial file decodes: {read_video(d / f'int_{n}.partial.mp4')['frames']} frames")
    with MJPEGServer(frames=100000, fps=30) as srv:
        interrupt("SIGTERM during `streamseg webcam --record`", ["webcam", "--source", srv.url, "--no-show", *m, "--record", d / "rec.mp4"],
                  d / "rec.partial.mp4", signal.SIGTERM, lambda: f"rec.mp4 decodes: {read_video(d / 'rec.mp4')['frames']} frames")
    print("| fault | what streamseg did | exit code |")
    print("|---|---|---|")
    for case, said, code in ROWS:
        print(f"| {case} | {said} | {code} |")


if __name__ == "__main__":
    main()
