"""`streamseg batch` over images: a folder with nested duplicate names, a corrupt JPEG and a
0-byte file (masks equal to `streamseg image`, the two bad files reported, exit 3, a second run
rewrites nothing), a SIGKILL mid-run then a re-run that finishes the rest, images and videos
mixed on Ray workers, and a worker killed in the middle of a chunk."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import cv2
import numpy as np
from conftest import make_video, needs_ray, read_video

from streamseg.synthetic import synthetic_frame


def _photo(path: Path, i: int, width: int = 96, height: int = 64) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), synthetic_frame(i, width, height))
    return path


def _report(out: Path) -> dict:
    return json.loads((out / "batch_report.json").read_text())


def _rows(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines() if line.strip()]


def _by_rel(report: dict, root: Path) -> dict[str, dict]:
    return {str(Path(f["input"]).relative_to(root)): f for f in report["files"]}


def test_folder_with_duplicates_corrupt_and_empty(tmp_path, cli):
    src = tmp_path / "photos"
    good = {"a/x.jpg": 1, "b/x.jpg": 2, "b/x.png": 3, "b/c/x.jpg": 4, "b/c/y.webp": 5}
    for rel, i in good.items():
        _photo(src / rel, i)
    jpg = (src / "a/x.jpg").read_bytes()
    (src / "b/corrupt.jpg").write_bytes(jpg[: len(jpg) // 2])  # truncated in the middle of its scan
    (src / "a/empty.png").write_bytes(b"")
    (src / "notes.txt").write_text("not an image")
    out = tmp_path / "out"
    args = ("batch", src, "-o", out, "-m", "ellipse-diag", "-T", "mask,prob", "--workers", "1")
    code, _, err = cli(*args)
    assert code == 3, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: 2 of 7 files failed") and "corrupt.jpg" in last and "empty.png" in last
    assert "Traceback" not in err and "images/s" in err

    # every other image has its mask, named as `streamseg image` names it, under the mirrored tree
    want = {"a/x.jpg": "a/x", "b/x.jpg": "b/x_jpg", "b/x.png": "b/x_png", "b/c/x.jpg": "b/c/x", "b/c/y.webp": "b/c/y"}
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*.png"))
    assert written == sorted(f"{stem}_{t}.png" for stem in want.values() for t in ("mask", "prob"))
    for rel, stem in want.items():  # byte for byte what `streamseg image` writes for the same file
        ref = tmp_path / "ref" / rel.replace("/", "_").replace(".", "_")
        code, _, e = cli("image", src / rel, "-o", ref, "-m", "ellipse-diag", "-T", "mask,prob")
        assert code == 0, e
        for t in ("mask", "prob"):
            assert (out / f"{stem}_{t}.png").read_bytes() == (ref / f"{Path(rel).stem}_{t}.png").read_bytes(), (rel, t)

    rep = _report(out)
    assert (rep["total"], rep["done"], rep["failed"], rep["images"], rep["backend"]) == (7, 5, 2, 5, "in-process")
    files = _by_rel(rep, src)
    assert files["b/corrupt.jpg"]["status"] == "failed" and "cannot decode" in files["b/corrupt.jpg"]["error"]
    assert files["a/empty.png"]["status"] == "failed" and "empty (0 bytes)" in files["a/empty.png"]["error"]
    for rel in want:
        f = files[rel]
        mask = cv2.imread(str(out / f"{want[rel]}_mask.png"), cv2.IMREAD_GRAYSCALE)
        assert f["status"] == "done" and f["kind"] == "image" and (f["width"], f["height"]) == (96, 64)
        assert f["skin_fraction"] == round(float((mask > 0).mean()), 5) and f["regions"] == 1 and f["ms"] >= 0
        assert f["bytes"] == (src / rel).stat().st_size and "frames" not in f
    rows = {r["path"]: r for r in _rows(out)}
    assert {str(Path(p).relative_to(src)) for p in rows} == {*want, "b/corrupt.jpg", "a/empty.png"}
    assert all(rows[str(src / rel)]["skin_fraction"] == files[rel]["skin_fraction"] for rel in want)

    # a second run rewrites nothing: the done images are skipped with their numbers, the bad ones fail again
    mtimes = {p: p.stat().st_mtime_ns for p in out.rglob("*.png")}
    n_rows = len(_rows(out))
    code, _, err = cli(*args)
    assert code == 3, err
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.png")} == mtimes
    files = _by_rel(_report(out), src)
    assert all(files[rel]["status"] == "skipped" and files[rel]["skin_fraction"] is not None for rel in want)
    assert files["b/corrupt.jpg"]["status"] == "failed"
    assert len(_rows(out)) == n_rows + 2  # only the two bad files got new rows
    assert not [p for p in out.rglob("*") if ".partial" in p.name]


def test_prob_is_for_images_only(tmp_path, cli):
    (tmp_path / "in").mkdir()
    make_video(tmp_path / "in" / "a.mp4", frames=3)
    _photo(tmp_path / "in" / "b.png", 0)
    code, _, err = cli("batch", tmp_path / "in", "-o", tmp_path / "out", "-T", "mask,prob", "--workers", "1")
    assert code == 2 and err.strip().count("\n") == 0 and "prob is for images only" in err


def test_sigkill_mid_run_then_a_rerun_finishes_the_rest(tmp_path, cli):
    src = tmp_path / "photos"
    n = 120
    for i in range(n):
        _photo(src / f"d{i % 3}" / f"p{i:03d}.jpg", i, 640, 480)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "streamseg", "batch", str(src), "-o", str(out), "-m", "ellipse-diag", "--workers", "1", "--chunk", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    results = out / "results.jsonl"
    try:
        deadline = time.time() + 300
        while time.time() < deadline and proc.poll() is None:
            if results.exists() and results.read_text().count("\n") >= 5:
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.005)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read()
    done_before = {r["path"] for r in _rows(out) if r["status"] == "done"}
    assert 5 <= len(done_before) < n  # killed in the middle

    code, _, err = cli("batch", src, "-o", out, "-m", "ellipse-diag", "--workers", "1")
    assert code == 0, err
    rep = _report(out)
    statuses = [f["status"] for f in rep["files"]]
    assert statuses.count("skipped") >= len(done_before) and statuses.count("done") + statuses.count("skipped") == n
    assert {f["input"] for f in rep["files"] if f["status"] == "skipped"} <= done_before | {
        f["input"] for f in rep["files"] if (Path(f["outputs"]["mask"])).exists()
    }
    assert len(list(out.rglob("*_mask.png"))) == n
    assert not [p for p in out.rglob("*") if ".partial" in p.name]  # no stale temporary or lock file
    rows = {}
    for r in _rows(out):  # every line parses (a torn line of the killed run is ended, not glued to the next)
        rows[r["path"]] = r
    assert len(rows) == n and all(r["status"] == "done" for r in rows.values())


def test_results_log_ends_a_torn_line(tmp_path):
    from streamseg.batch.images import ResultsLog, read_results

    path = tmp_path / "results.jsonl"
    path.write_text('{"path": "/a.jpg", "status": "done"}\n{"path": "/b.jpg", "sta')  # a run killed mid-row
    ResultsLog(path).write([{"path": "/c.jpg", "status": "done"}])
    assert sorted(read_results(path)) == ["/a.jpg", "/c.jpg"]


# --- on Ray ----------------------------------------------------------------------------------


@needs_ray
def test_images_and_videos_mixed_on_ray_workers(tmp_path, cli, ray_session):
    src = tmp_path / "in"
    (src / "v").mkdir(parents=True)
    make_video(src / "v" / "clip.mp4", frames=12)
    for i in range(7):
        _photo(src / "p" / f"img{i}.png", i)
    _photo(src / "v" / "clip.jpg", 9)  # the same stem as the video in its folder
    out = tmp_path / "out"
    code, _, err = cli("batch", src, "-o", out, "-m", "ellipse-diag", "--workers", "2", "--chunk", "3", "--smooth", "none")
    assert code == 0, err
    rep = _report(out)
    assert (rep["done"], rep["images"], rep["frames"], rep["backend"]) == (9, 8, 12, "local ray")
    assert read_video(out / "v" / "clip_mp4_mask.mp4")["frames"] == 12
    assert (out / "v" / "clip_jpg_mask.png").exists()
    assert all(f["worker"] and f["attempts"] == 1 for f in rep["files"])
    kinds = {Path(f["input"]).suffix: f["kind"] for f in rep["files"]}
    assert kinds == {".mp4": "video", ".png": "image", ".jpg": "image"}
    assert sorted(r["kind"] for r in _rows(out)) == ["image"] * 8 + ["video"]


@needs_ray
def test_a_worker_killed_in_a_chunk_has_its_images_retried_one_by_one(tmp_path, ray_session):
    import streamseg

    src = tmp_path / "in"
    for i in range(8):
        _photo(src / f"p{i}.png", i, 1280, 960)
    out = tmp_path / "out"
    killed: list[int] = []
    events: list[tuple[str, int]] = []

    def on_event(kind, job, **info):
        jobs = getattr(job, "jobs", None)
        if jobs is not None:
            events.append((kind, len(jobs)))
            if kind == "start" and len(jobs) == 4 and not killed:
                os.kill(info["pid"], signal.SIGKILL)  # before it can finish four 1280x960 images
                killed.append(info["pid"])

    report = streamseg.process_batch(src, out, method="ellipse-diag", workers=2, chunk=4, on_event=on_event)
    assert killed and ("retry", 4) in events
    assert [n for kind, n in events if kind == "start"].count(1) == 4  # the chunk came back as four tasks
    assert all(f.status == "done" for f in report.files) and len(report.files) == 8
    retried = [f for f in report.files if f.attempts == 2]
    assert len(retried) == 4 and all(f.worker != killed[0] for f in retried)
    assert len(list(out.glob("*_mask.png"))) == 8 and not list(out.glob("*.partial*"))
    for f in report.files:  # a retried image's mask is whole: the mask of its picture
        mask = cv2.imread(f.outputs["mask"], cv2.IMREAD_GRAYSCALE)
        prob = streamseg.segment(f.input, method="ellipse-diag")
        assert np.array_equal(mask > 0, prob >= 0.5), f.input
