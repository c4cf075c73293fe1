"""Hostile and odd inputs as property tests (issue 16): random option values and config files,
odd videos, corrupted packets, images that lie about their size, odd paths.

The rule for every one: a one-line error (exit 2 or 3) or a complete result (exit 0), never a
traceback or an internal error, never a hang (each run is bounded by an alarm), and never a
complete-looking output of lost frames (a non-zero exit leaves nothing under the final name;
exit 0 means every frame is there). Bounded to stay well under a minute on two busy cores.
"""

from __future__ import annotations

import contextlib
import io
import shutil
import signal
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import make_video, read_video

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from streamseg.synthetic import png_header_only  # noqa: E402

RUN_TIMEOUT_S = 30
FAST = settings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))


class Hang(BaseException):
    """Raised by the alarm: not an Exception, so the CLI cannot turn it into an exit code."""


def run_cli(*args) -> tuple[int, str]:
    """The CLI in-process, bounded by an alarm: (exit code, stderr)."""
    from streamseg.cli import main

    def alarm(*_):
        raise Hang(f"streamseg {' '.join(map(str, args))} ran over {RUN_TIMEOUT_S} s")

    old_argv, old_handler = sys.argv, signal.signal(signal.SIGALRM, alarm)
    sys.argv = ["streamseg", *map(str, args)]
    err, out = io.StringIO(), io.StringIO()
    code = 0
    signal.alarm(RUN_TIMEOUT_S)
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old_handler)
        sys.argv = old_argv
    return code, err.getvalue() + out.getvalue()


def check_rule(code: int, err: str, outputs: list[Path] = (), frames: int | None = None) -> None:
    assert "Traceback" not in err, err
    assert "internal error" not in err, err
    if code == 0:
        for p in outputs:
            assert p.is_file(), err
            if frames is not None:
                assert read_video(p)["frames"] == frames, err
        return
    assert code in (2, 3), (code, err)
    last = err.strip().splitlines()[-1]
    assert last.startswith("error:"), err
    for p in outputs:
        assert not p.exists(), f"{p} exists after exit {code}: {err}"


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return make_video(tmp_path_factory.mktemp("prop") / "clip.mp4", frames=6)


@pytest.fixture
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("w")


# ---------------------------------------------------------------- random option values

_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12)
_number = st.one_of(st.integers(-5, 100), st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(["nan", "1e309", "-0", "x"]))
OPTIONS = {
    "--threshold": _number,
    "--crf": _number,
    "--batch": _number,
    "--size": _number,
    "--threads": _number,
    "--smooth": st.one_of(st.sampled_from(["none", "ema", "motion+hysteresis", "ema+", "+", "motion+motion"]), _text),
    "--smooth-param": st.one_of(st.sampled_from(["ema.alpha=0.5", "ema.alpha=2", "ema.alpha=x", "=1", "x", "motion.blur=-1"]), _text),
    "--output-type": st.one_of(st.sampled_from(["mask", "overlay,mask", "mask,mask", ",", "cutout,side-by-side"]), _text),
    "--provider": st.one_of(st.sampled_from(["cpu", "auto", "cuda:x", "tensorrt:9", ""]), _text),
    "--codec": st.sampled_from(["libx264", "nope", "mjpeg", ""]),
    "--preset": st.sampled_from(["veryfast", "ludicrous", ""]),
    "--bitrate": st.sampled_from(["4M", "-1", "lots", "0"]),
}


@FAST
@given(st.dictionaries(st.sampled_from(sorted(OPTIONS)), st.just(None), min_size=1, max_size=3).flatmap(
    lambda keys: st.fixed_dictionaries({k: OPTIONS[k] for k in keys})))
def test_random_option_values(clip, work, options):
    out = work / "o"
    shutil.rmtree(out, ignore_errors=True)
    args = ["video", clip, "-m", "ellipse", "-o", out, "-y"]
    for key, value in options.items():
        args += [key, str(value)]
    code, err = run_cli(*args)
    written = sorted(out.glob("*.mp4")) if out.is_dir() else []
    check_rule(code, err)
    if code == 0:
        assert written and all(read_video(p)["frames"] == 6 for p in written if ".partial" not in p.name), err
    else:
        assert not [p for p in written if ".partial" not in p.name], err


# ---------------------------------------------------------------- random config files

_toml_value = st.one_of(
    st.integers(-3, 3), st.floats(-2, 2, allow_nan=False), st.booleans(), st.sampled_from(['"x"', '"ema"', "[1, 2]", "{a = 1}"]),
)
_keys = {
    "method": ["name", "threads", "size", "strict", "fallback", "bogus", "open", "blur"],
    "output": ["threshold", "bogus"],
    "smooth": ["ema.alpha", "motion.blur", "hysteresis.t_high", "bogus"],
    "rois": ["min_area", "labels", "max_regions", "bogus"],
    "nope": ["x"],
}


def _render(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@FAST
@given(
    st.dictionaries(st.sampled_from(sorted(_keys)), st.just(None), min_size=1, max_size=3).flatmap(
        lambda tables: st.fixed_dictionaries(
            {t: st.dictionaries(st.sampled_from(_keys[t]), _toml_value, max_size=2) for t in tables})),
    st.booleans(),
)
def test_random_config_files(clip, work, tables, garbage):
    lines = []
    for table, values in tables.items():
        lines.append(f"[{table}]")
        lines += [f'"{k}" = {_render(v)}' for k, v in values.items()]
    text = "\n".join(lines) + ("\n[[[oops" if garbage else "\n")
    cfg = work / "run.toml"
    cfg.write_text(text, encoding="utf-8")
    out = work / "o.mp4"
    out.unlink(missing_ok=True)
    code, err = run_cli("video", clip, "-m", "ellipse", "-o", out, "-c", cfg)
    check_rule(code, err, [out], frames=6)


# ---------------------------------------------------------------- odd videos


def _zero_frames(path: Path) -> Path:
    """A Matroska file with its header and a video track but no frame at all."""
    full = make_video(path.with_name("one.mkv"), frames=1)
    data = full.read_bytes()
    cluster = data.find(b"\x1f\x43\xb6\x75")
    path.write_bytes(data[:cluster] if cluster > 0 else data[:200])
    return path


def _backwards(path: Path) -> Path:
    """MPEG-TS whose timestamps jump back (two recordings glued: 5 s, then 0 s)."""
    a = make_video(path.with_name("a.ts"), frames=4, vfr_pts=[5000, 5040, 5080, 5120])
    b = make_video(path.with_name("b.ts"), frames=4)
    path.write_bytes(a.read_bytes() + b.read_bytes())
    return path


ODD = {
    "1x1": lambda p: make_video(p, frames=3, width=1, height=1, pix_fmt="yuv444p"),
    "3x2": lambda p: make_video(p, frames=3, width=3, height=2, pix_fmt="yuv444p"),
    "4097 wide": lambda p: make_video(p, frames=2, width=4097, height=2, pix_fmt="yuv444p"),
    "1 frame": lambda p: make_video(p, frames=1),
    "1000 fps": lambda p: make_video(p, frames=5, fps=1000),
    "1 fps": lambda p: make_video(p, frames=2, fps=1),
    "0 frames": lambda p: _zero_frames(p.with_suffix(".mkv")),
    "raw h264, no rate": lambda p: make_video(p.with_suffix(".h264"), frames=4),
    "backwards timestamps": lambda p: _backwards(p.with_suffix(".ts")),
}


@pytest.mark.parametrize("kind", sorted(ODD))
def test_odd_videos(work, kind):
    src = ODD[kind](work / "odd.mp4")
    expected = None if kind in ("0 frames",) else {"1x1": 3, "3x2": 3, "4097 wide": 2, "1 frame": 1, "1000 fps": 5,
                                                   "1 fps": 2, "raw h264, no rate": 4, "backwards timestamps": 8}[kind]
    out = work / "out.mp4"
    code, err = run_cli("video", src, "-m", "ellipse", "-o", out, "-T", "mask,overlay")
    outputs = [work / "out_mask.mp4", work / "out_overlay.mp4"]
    check_rule(code, err, outputs, frames=expected)
    if kind == "0 frames":
        assert code != 0, err  # nothing to process is not a result


# ---------------------------------------------------------------- corrupted packets


@pytest.fixture(scope="module")
def longer(tmp_path_factory) -> tuple[Path, bytes]:
    p = make_video(tmp_path_factory.mktemp("c") / "c.mp4", frames=24, options={"movflags": "+faststart"})
    return p, p.read_bytes()


@settings(max_examples=10, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(st.lists(st.tuples(st.floats(0.3, 0.95), st.integers(1, 255)), min_size=1, max_size=40))
def test_corrupted_packets_mid_stream(longer, work, flips):
    _, data = longer
    buf = bytearray(data)
    for where, xor in flips:
        buf[int(where * (len(buf) - 1))] ^= xor
    src = work / "bad.mp4"
    src.write_bytes(bytes(buf))
    out = work / "bad_out.mp4"
    out.unlink(missing_ok=True)
    code, err = run_cli("video", src, "-m", "ellipse", "-o", out)
    check_rule(code, err, [out])
    if code == 0:  # a complete result holds every frame the file promised
        assert read_video(out)["frames"] == 24, err


# ---------------------------------------------------------------- images that lie about their size


@FAST
@given(st.integers(1, 200_000), st.integers(1, 200_000), st.booleans())
def test_images_lying_about_their_size(work, width, height, real_pixels):
    d = work / "img"
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir()
    if real_pixels:  # a real 8x6 PNG whose header says width x height
        ok, png = cv2.imencode(".png", np.full((6, 8, 3), 128, np.uint8))
        data = bytearray(png.tobytes())
        data[16:24] = width.to_bytes(4, "big") + height.to_bytes(4, "big")
        (d / "liar.png").write_bytes(bytes(data))
    else:
        png_header_only(d / "liar.png", width, height)
    code, err = run_cli("image", d / "liar.png", "-m", "ellipse")
    check_rule(code, err, [d / "liar_mask.png"])


# ---------------------------------------------------------------- paths with spaces and unicode

_name = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"), exclude_characters="/\\\0"),
    min_size=1, max_size=20,
).filter(lambda s: s.strip(" .") and not s.startswith("-"))


@settings(max_examples=8, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(_name)
def test_paths_with_spaces_and_unicode(clip, work, name):
    d = work / f"dir {name}"
    d.mkdir(exist_ok=True)
    src = d / f"{name} clip.mp4"
    shutil.copy(clip, src)
    code, err = run_cli("video", src, "-m", "ellipse", "-y")
    check_rule(code, err, [d / f"{name} clip_mask.mp4"], frames=6)
    assert code == 0, err
    img = d / f"{name}.png"
    cv2.imencode(".png", np.full((6, 8, 3), 128, np.uint8))[1].tofile(str(img))
    code, err = run_cli("image", img, "-m", "ellipse", "-y")
    check_rule(code, err, [d / f"{name}_mask.png"])
    assert code == 0, err
