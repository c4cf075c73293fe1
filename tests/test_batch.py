"""`streamseg batch`: inputs and output names, Ray workers (one local Ray with 2 CPUs shared by
the module), skips and --force, equality with `streamseg video`, a killed worker, and the
one-line message without Ray."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import make_video, needs_ray, read_video

from streamseg.batch.inputs import expand_batch_inputs, plan_jobs


def _decoded(path: Path) -> list[np.ndarray]:
    import av

    with av.open(str(path)) as c:
        return [f.to_ndarray(format="gray") for f in c.decode(video=0)]


def _report(out: Path) -> dict:
    return json.loads((out / "batch_report.json").read_text())


def _by_name(report: dict) -> dict[str, dict]:
    return {str(Path(f["input"]).relative_to(Path(f["input"]).parents[1])): f for f in report["files"]}


# --- inputs and names (no Ray) ---------------------------------------------------------------


def test_nested_equal_names_do_not_collide(tmp_path):
    for sub in ("a", "b", "b/c"):
        (tmp_path / "in" / sub).mkdir(parents=True, exist_ok=True)
        (tmp_path / "in" / sub / "clip.mp4").write_bytes(b"x")
    (tmp_path / "in" / "b" / "clip.mov").write_bytes(b"x")
    (tmp_path / "in" / "notes.txt").write_text("not a video")
    files, anchors = expand_batch_inputs([tmp_path / "in"])
    assert len(files) == 4  # the .txt inside a folder is not an input
    jobs = plan_jobs(files, tmp_path / "out", ["mask", "overlay"], anchors=anchors)
    outs = [p for j in jobs for p in j.outputs.values()]
    assert len(set(outs)) == len(outs) == 8
    rel = sorted(str(Path(j.outputs["mask"]).relative_to(tmp_path / "out")) for j in jobs)
    assert rel == ["a/clip_mask.mp4", "b/c/clip_mask.mp4", "b/clip_mov_mask.mp4", "b/clip_mp4_mask.mp4"]
    # two files given directly with equal names mirror their folders too
    jobs = plan_jobs([tmp_path / "in/a/clip.mp4", tmp_path / "in/b/clip.mp4"], tmp_path / "out", ["mask"])
    assert [Path(j.outputs["mask"]).parent.name for j in jobs] == ["a", "b"]


def test_manifests_globs_and_the_output_folder_is_never_an_input(tmp_path):
    (tmp_path / "v").mkdir()
    for name in ("x.mp4", "y.mkv"):
        (tmp_path / "v" / name).write_bytes(b"x")
    (tmp_path / "list.txt").write_text("# a comment\nv/x.mp4\n\nv/y.mkv\n")
    (tmp_path / "list.csv").write_text("id,path\n1,v/x.mp4\n2,v/y.mkv\n")
    (tmp_path / "bad.csv").write_text("id,file\n1,v/x.mp4\n")
    for item in ("list.txt", "list.csv", "v/*.m*"):
        files, _ = expand_batch_inputs([str(tmp_path / item)])
        assert sorted(f.name for f in files) == ["x.mp4", "y.mkv"], item
    from streamseg.errors import InputError

    with pytest.raises(InputError, match="no 'path' column"):
        expand_batch_inputs([tmp_path / "bad.csv"])
    (tmp_path / "v" / "out").mkdir()
    (tmp_path / "v" / "out" / "x_mask.mp4").write_bytes(b"x")
    (tmp_path / "v" / "z.partial.mp4").write_bytes(b"x")
    files, _ = expand_batch_inputs([tmp_path / "v"], exclude=tmp_path / "v" / "out")
    assert sorted(f.name for f in files) == ["x.mp4", "y.mkv"]


def test_bad_inputs_are_one_line_errors(tmp_path, cli):
    code, _, err = cli("batch", tmp_path / "missing", "-o", tmp_path / "out")
    assert code == 2 and err.strip().count("\n") == 0 and "input not found" in err
    (tmp_path / "empty").mkdir()
    code, _, err = cli("batch", tmp_path / "empty", "-o", tmp_path / "out")
    assert code == 2 and "no video files in folder" in err and "Traceback" not in err
    src = make_video(tmp_path / "a.mp4", frames=3)
    (tmp_path / "file").write_text("x")
    code, _, err = cli("batch", src, "-o", tmp_path / "file")
    assert code == 2 and "output folder is a file" in err
    code, _, err = cli("batch", src, "-o", tmp_path / "out", "-T", "nope")
    assert code == 2 and "--output-type" in err and err.strip().count("\n") == 0


def test_without_ray_one_line_hint_and_workers_1_runs_in_process(tmp_path, cli, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` fails as if it were not installed
    (tmp_path / "in").mkdir()
    for name in ("a", "b"):
        make_video(tmp_path / "in" / f"{name}.mp4", frames=4)
    code, _, err = cli("batch", tmp_path / "in", "-o", tmp_path / "out", "-m", "ellipse", "--workers", "2")
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 2 and lines[0].startswith("2 files")  # the plan, then the one error line
    assert lines[1].startswith("error: Ray is not installed") and "pip install 'streamseg[ray]'" in lines[1]
    assert "--workers 1" in lines[1]
    code, _, err = cli("batch", tmp_path / "in", "-o", tmp_path / "out", "-m", "ellipse", "--workers", "1")
    assert code == 0, err
    assert {p.name for p in (tmp_path / "out").iterdir()} == {"a_mask.mp4", "b_mask.mp4", "batch_report.json", "results.jsonl"}
    assert _report(tmp_path / "out")["backend"] == "in-process"


# --- on Ray ----------------------------------------------------------------------------------


@needs_ray
def test_three_clips_and_junk_then_skip_then_force(tmp_path, cli, ray_session):
    src = tmp_path / "in"
    want = {"a/clip.mp4": 12, "b/clip.mp4": 18, "b/long.mp4": 30}
    for rel, n in want.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        make_video(src / rel, frames=n)
    (src / "b" / "junk.mp4").write_bytes(os.urandom(3000))
    out = tmp_path / "out"
    args = ("batch", src, "-o", out, "-m", "ellipse", "--workers", "2", "--smooth", "none")
    code, _, err = cli(*args)
    assert code == 3, err
    assert "junk.mp4" in err.splitlines()[-1] and err.splitlines()[-1].startswith("error:")
    assert "Traceback" not in err
    for rel, n in want.items():
        assert read_video(out / rel.replace(".mp4", "_mask.mp4"))["frames"] == n, rel
    assert not list(out.rglob("*.partial*"))
    rep = _report(out)
    assert (rep["done"], rep["failed"], rep["total"], rep["backend"]) == (3, 1, 4, "local ray")
    files = _by_name(rep)
    assert files["b/junk.mp4"]["status"] == "failed" and "junk.mp4" in files["b/junk.mp4"]["error"]
    for rel, n in want.items():
        f = files[rel]
        assert f["status"] == "done" and f["frames"] == n and f["seconds"] > 0 and f["fps"] > 0 and f["error"] is None

    mtimes = {p: p.stat().st_mtime_ns for p in out.rglob("*_mask.mp4")}
    code, _, err = cli(*args)
    assert code == 3, err  # the junk file still fails
    assert [f["status"] for rel, f in sorted(_by_name(_report(out)).items()) if rel in want] == ["skipped"] * 3
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*_mask.mp4")} == mtimes

    time.sleep(0.01)
    code, _, err = cli(*args, "--force")
    assert code == 3, err
    files = _by_name(_report(out))
    assert all(files[rel]["status"] == "done" for rel in want)
    assert all(p.stat().st_mtime_ns > t for p, t in mtimes.items())


@needs_ray
def test_mask_frames_equal_streamseg_video(tmp_path, cli, ray_session):
    src = tmp_path / "in"
    src.mkdir()
    for i, n in enumerate((16, 12, 9)):  # three files on two workers: one worker does two in a row
        make_video(src / f"c{i}.mp4", frames=n, width=96, height=64)
    opts = ("-m", "ellipse-diag", "-T", "mask,overlay", "--crf", "18")  # default smoothing: state must reset per file
    code, _, err = cli("batch", src, "-o", tmp_path / "batch", "--workers", "2", *opts)
    assert code == 0, err
    for i in range(3):
        code, _, err = cli("video", src / f"c{i}.mp4", "-o", tmp_path / "video", *opts)
        assert code == 0, err
        for kind in ("mask", "overlay"):
            got = _decoded(tmp_path / "batch" / f"c{i}_{kind}.mp4")
            ref = _decoded(tmp_path / "video" / f"c{i}_{kind}.mp4")
            assert len(got) == len(ref) > 0
            assert all(np.array_equal(a, b) for a, b in zip(got, ref)), (i, kind)


@needs_ray
def test_a_killed_worker_has_its_file_retried_and_completed(tmp_path, ray_session):
    import streamseg

    src = tmp_path / "in"
    src.mkdir()
    make_video(src / "long.mp4", frames=240, width=320, height=240)
    make_video(src / "short.mp4", frames=10)
    out = tmp_path / "out"
    partial = out / "long_mask.partial.mp4"
    killed: list[int] = []

    def kill_when_writing(pid: int) -> None:
        deadline = time.time() + 60
        while time.time() < deadline:
            if partial.exists() and partial.stat().st_size > 0:
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                return
            time.sleep(0.01)

    def on_event(kind, job, **info):
        if kind == "start" and job.input.endswith("long.mp4") and job.attempts == 1:
            threading.Thread(target=kill_when_writing, args=(info["pid"],), daemon=True).start()

    report = streamseg.process_batch(src, out, method="ellipse", workers=2, smooth="none", on_event=on_event)
    assert killed, "the worker was not killed mid-file"
    long = next(f for f in report.files if f.input.endswith("long.mp4"))
    assert (long.status, long.attempts, long.frames) == ("done", 2, 240)
    assert long.worker != killed[0]
    assert read_video(out / "long_mask.mp4")["frames"] == 240
    assert read_video(out / "short_mask.mp4")["frames"] == 10
    assert not list(out.glob("*.partial*"))
