"""The small API and its one run spec: pictures in and out in the kind they came, sessions kept
and reused, the default model on every call, one validator for files, flags and keywords."""

from __future__ import annotations

import numpy as np
import pytest

import streamseg
from streamseg.errors import ConfigError, StreamsegError
from streamseg.pipeline.spec import RunSpec
from streamseg.synthetic import synthetic_frame


@pytest.fixture
def bgr() -> np.ndarray:
    return synthetic_frame(3, 64, 48)


def test_a_pil_image_an_rgb_array_and_a_bgr_array_give_one_mask(bgr):
    from PIL import Image

    rgb = np.ascontiguousarray(bgr[..., ::-1])
    a = streamseg.segment(bgr, "ellipse-diag")
    assert 0.01 < (a >= 0.5).mean() < 0.99  # a picture with skin and background
    np.testing.assert_array_equal(streamseg.segment(rgb, "ellipse-diag", channels="rgb"), a)
    np.testing.assert_array_equal(streamseg.segment(Image.fromarray(rgb), "ellipse-diag"), a)
    masks = [streamseg.render(x, "mask", "ellipse-diag", **kw) for x, kw in ((bgr, {}), (rgb, {"channels": "rgb"}))]
    pil = streamseg.render(Image.fromarray(rgb), "mask", "ellipse-diag")
    assert pil.mode == "L"
    np.testing.assert_array_equal(masks[0], masks[1])
    np.testing.assert_array_equal(np.asarray(pil), masks[0])


def test_render_and_remove_answer_in_the_kind_they_were_given(bgr, tmp_path):
    import cv2
    from PIL import Image

    rgb = np.ascontiguousarray(bgr[..., ::-1])
    cut = streamseg.remove(Image.fromarray(rgb), "ellipse-diag")
    assert isinstance(cut, Image.Image) and cut.mode == "RGBA" and cut.size == (64, 48)
    bgra = streamseg.remove(bgr, "ellipse-diag")
    assert bgra.shape == (48, 64, 4)
    np.testing.assert_array_equal(np.asarray(cut), cv2.cvtColor(bgra, cv2.COLOR_BGRA2RGBA))
    np.testing.assert_array_equal(streamseg.remove(rgb, "ellipse-diag", channels="rgb"), np.asarray(cut))
    ok, png = cv2.imencode(".png", bgr)
    out = streamseg.render(png.tobytes(), "overlay", "ellipse-diag")
    assert isinstance(out, bytes) and out.startswith(b"\x89PNG")
    np.testing.assert_array_equal(cv2.imdecode(np.frombuffer(out, np.uint8), cv2.IMREAD_COLOR), streamseg.render(bgr, "overlay", "ellipse-diag"))
    path = tmp_path / "p.png"
    cv2.imwrite(str(path), bgr)
    np.testing.assert_array_equal(streamseg.render(path, "mask", "ellipse-diag"), streamseg.render(bgr, "mask", "ellipse-diag"))


def test_sessions_are_reused_and_none_is_the_default_model_on_every_call(bgr, monkeypatch):
    import streamseg.api as api
    import streamseg.pipeline.build as build

    made = []
    real = build.method_of
    monkeypatch.setattr(build, "method_of", lambda spec: made.append(spec.method.method) or real(spec))
    monkeypatch.setattr(api, "_SESSIONS", type(api._SESSIONS)())
    for _ in range(3):
        streamseg.segment(bgr)
    streamseg.segment(bgr, "ellipse")
    streamseg.segment(bgr, "ellipse")
    streamseg.segment(bgr, "ellipse", threads=1)
    assert made == [streamseg.api.DEFAULT_METHOD, "ellipse", "ellipse"]


@pytest.mark.parametrize("call", [
    lambda img: streamseg.segment(img, "ellipse", channels="hsv"),
    lambda img: streamseg.segment([[1, 2, 3]], "ellipse"),
    lambda img: streamseg.segment(b"not an image", "ellipse"),
    lambda img: streamseg.render(img, "sepia", "ellipse"),
    lambda img: streamseg.render(img, "mask", "ellipse", feather=-1),
    lambda img: streamseg.process_video("x.mp4", spec=42),
])
def test_what_a_caller_gets_wrong_is_a_streamseg_error(bgr, call):
    with pytest.raises(StreamsegError) as info:
        call(bgr)
    assert "\n" not in str(info.value)


def test_the_spec_is_made_the_same_way_from_a_file_flags_and_keywords(tmp_path):
    cfg = tmp_path / "run.toml"
    cfg.write_text('[method]\nname = "ellipse"\n[smooth]\nmode = "ema"\nalpha = 0.7\n[output]\nfeather = 5\ncrf = 30\n')
    spec = RunSpec.make(cfg)
    assert (spec.method.name, spec.smooth.mode, spec.smooth.params, spec.output.effect.feather_px, spec.output.encoder.crf) == (
        "ellipse", "ema", {"alpha": 0.7}, 5.0, 30,
    )
    assert RunSpec.make(cfg, smooth="none", crf=18).smooth.mode == "none"  # keywords win over the file
    assert RunSpec.make(spec, threshold=0.2).with_(feather=1).keywords() == {
        "method": "ellipse", "smooth": "ema", "smooth_params": {"alpha": 0.7}, "threshold": 0.2, "feather": 1.0, "crf": 30,
    }
    cfg.write_text("[output]\ncrf = 99\n")
    with pytest.raises(ConfigError, match=r"run.toml \[output\] crf: must be an integer from 0 to 51, got 99"):
        RunSpec.make(cfg)
    with pytest.raises(ConfigError, match="unknown option"):
        RunSpec.make(colour="red")


def test_bad_values_are_refused_before_any_model_loads(tmp_path, monkeypatch):
    import streamseg.pipeline.build as build
    from streamseg.synthetic import make_video

    clip = make_video(tmp_path / "c.mp4", frames=2, width=32, height=24)
    monkeypatch.setattr(build, "build", lambda *a, **k: pytest.fail("a model was loaded"))
    for bad in ({"crf": 70}, {"smooth": "blurry"}, {"strength": 3}, {"max_frames": 0}, {"workers": 0}, {"smooth_params": {"ema.alpha": 2}}):
        with pytest.raises(ConfigError):
            streamseg.process_video(clip, tmp_path / "o.mp4", method="ellipse", **bad)


def test_methods_marks_the_default(cli):
    code, out, _ = cli("methods")
    assert code == 0
    rows = [line for line in out.splitlines() if "(default)" in line]
    assert len(rows) == 1 and streamseg.api.DEFAULT_METHOD in rows[0]


def test_help_texts_have_no_raw_markup_and_keep_their_brackets():
    """Every help text of every command: no reST ``quotes``, and no [word] that rich would take
    for markup and drop (``pip install 'streamseg[serve]'`` showed as 'streamseg')."""
    import re

    import typer

    from streamseg.cli import app

    cmd = typer.main.get_command(app)
    texts = [cmd.help or ""]
    for sub in cmd.commands.values():
        texts.append(sub.help or "")
        texts += [getattr(p, "help", None) or "" for p in sub.params]
    for text in texts:
        assert "``" not in text, text
        assert not re.findall(r"(?<!\\)\[[a-z#/@][^\[\]]*\]", text), text
