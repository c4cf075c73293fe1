"""The classical methods behind the registry: outputs, fallbacks, parameters, post-processing."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from streamseg.errors import ConfigError, MethodError
from streamseg.segment import MethodOptions, create
from streamseg.segment.classical import face as face_mod
from streamseg.segment.classical import kernels
from streamseg.segment.classical.params import ClassicalParams, load_params, read_params
from streamseg.segment.classical.postprocess import PostProcess
# 'face' runs MediaPipe's face detector converted to ONNX (shipped): no mediapipe needed
NAMES = ["ellipse", "ellipse-diag", "ycbcr", "hsv", "hsv+ycbcr", "icm", "face"]
SKIN = (90, 140, 200)  # BGR of a typical light skin tone


@pytest.fixture(scope="module")
def methods() -> dict:
    return {n: create(n) for n in NAMES}


def test_registry_metadata(methods):
    for name, seg in methods.items():
        assert seg.name == name
        assert seg.kind == "classical"
        assert seg.provider == ("numba" if kernels.numba_error() is None else "numpy")


@pytest.mark.parametrize("value", [0, 255, 128, "gradient"])
def test_grey_black_white_frames_give_no_skin(methods, value):
    if value == "gradient":
        frame = np.repeat(np.repeat(np.linspace(0, 255, 64).astype(np.uint8)[None, :, None], 48, 0), 3, 2)
    else:
        frame = np.full((48, 64, 3), value, np.uint8)
    for name, seg in methods.items():
        seg.reset()
        prob = seg(frame)
        assert prob.dtype == np.float32 and prob.shape == (48, 64), name
        assert np.isfinite(prob).all() and prob.min() >= 0.0 and prob.max() <= 1.0, name
        assert prob.max() == 0.0, name


def test_skin_colour_is_skin(methods):
    frame = np.full((32, 40, 3), SKIN, np.uint8)
    for name, seg in methods.items():
        if name == "ellipse":  # the original ellipse is very narrow and misses this tone
            continue
        seg.reset()
        assert seg(frame).min() == 1.0, name


def test_tiny_and_odd_frames(methods):
    rng = np.random.default_rng(0)
    for shape in [(1, 1, 3), (1, 7, 3), (5, 1, 3), (3, 5, 3)]:
        frame = rng.integers(0, 256, shape, dtype=np.uint8)
        for name, seg in methods.items():
            prob = seg(frame)
            assert prob.shape == shape[:2] and prob.dtype == np.float32, name


def test_bad_frames_raise(methods):
    for seg in methods.values():
        with pytest.raises(ValueError):
            seg(np.zeros((4, 4), np.uint8))
        with pytest.raises(ValueError):
            seg(np.zeros((4, 4, 3), np.float32))


def test_face_without_a_face_equals_its_fallback(methods):
    rng = np.random.default_rng(3)
    face, fallback = methods["face"], create("ellipse-diag")
    for frame in (rng.integers(0, 256, (60, 80, 3), dtype=np.uint8), np.full((60, 80, 3), SKIN, np.uint8)):
        face.reset()
        assert np.array_equal(face(frame), fallback(frame))
        assert face.last_source == "fallback"


def test_face_statistics_are_carried_then_dropped(monkeypatch):
    seg = create("face")
    stats = (np.array([110.0, 150.0]), np.diag([9.0, 9.0]))
    frame = np.full((30, 30, 3), SKIN, np.uint8)
    calls = iter([stats] + [None] * (face_mod.HOLD_FRAMES + 1))
    monkeypatch.setattr(seg, "detect", lambda f: "a face")
    monkeypatch.setattr(seg, "face_stats", lambda f, box: next(calls))
    seg(frame)
    assert seg.last_source == "face"
    for _ in range(face_mod.HOLD_FRAMES):
        seg(frame)
        assert seg.last_source == "carried"
    seg(frame)
    assert seg.last_source == "fallback"


def test_face_robust_stats_ignore_outliers():
    rng = np.random.default_rng(0)
    skin = rng.normal((110, 150), 3, (900, 2))
    outliers = rng.uniform(0, 255, (100, 2))
    mean, cov = face_mod.robust_stats(np.vstack([skin, outliers]), 0.1)
    assert np.allclose(mean, (110, 150), atol=1.0)
    assert np.all(np.diag(cov) < 25)
    assert face_mod.robust_stats(skin[:10], 0.1) is None


def test_face_does_not_need_mediapipe(monkeypatch):
    face_mod._detector_reason.cache_clear()
    monkeypatch.setitem(sys.modules, "mediapipe", None)  # import mediapipe -> ImportError
    try:
        assert face_mod.FaceSeeded.unavailable_reason() is None
        seg = create("face", MethodOptions(strict=True))
        assert seg.name == "face"
        seg.close()
    finally:
        face_mod._detector_reason.cache_clear()


def test_face_reports_a_missing_detector_model(monkeypatch, tmp_path):
    import streamseg.paths

    face_mod._detector_reason.cache_clear()
    monkeypatch.setattr(streamseg.paths, "shipped_models_dir", lambda: tmp_path)  # an empty model folder
    try:
        reason = face_mod.FaceSeeded.unavailable_reason()
        assert reason and "face-detect-full-192" in reason and "\n" not in reason
        with pytest.raises(MethodError, match="face-detect-full-192"):
            create("face", MethodOptions(strict=True))
    finally:
        face_mod._detector_reason.cache_clear()


def test_numba_failure_degrades_to_numpy(monkeypatch):
    from streamseg.segment.classical import rule

    warnings: list[str] = []
    monkeypatch.setattr(rule.log, "warn", warnings.append)
    monkeypatch.setattr(kernels, "numba_error", lambda: "RuntimeError: no LLVM")
    frame = np.random.default_rng(0).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    for name in ("ellipse-diag", "hsv", "icm"):
        seg = create(name)
        assert seg.provider == "numpy"
        want = create(name, MethodOptions(extra={"backend": "numpy"}))(frame)
        assert np.array_equal(seg(frame), want)
    assert len(warnings) == 3 and "NumPy" in warnings[0]


@pytest.mark.parametrize("kernel", ["cube_table", "cube_table_u8", "u8_to_f32", "open3_u8_to_f32", "open3_blur5_binary"])
def test_kernel_error_at_run_time_degrades(monkeypatch, kernel):
    from streamseg.segment.classical import rule

    if kernels.numba_error() is not None:
        pytest.skip("numba unavailable")
    extra = {"cube_table": {"open": 0}, "u8_to_f32": {"open": 5}, "open3_u8_to_f32": {"blur": 3}}.get(kernel, {})
    seg = create("ycbcr", MethodOptions(extra=extra))
    frame = np.full((8, 8, 3), SKIN, np.uint8)
    want = seg(frame)

    def boom(*args):
        raise RuntimeError("kernel exploded")

    warnings: list[str] = []
    monkeypatch.setattr(rule.log, "warn", warnings.append)
    monkeypatch.setattr(kernels, kernel, boom)
    assert np.array_equal(seg(frame), want)
    assert seg.provider == "numpy" and warnings


# -- parameters -------------------------------------------------------------------------------
def test_params_round_trip(tmp_path):
    from streamseg.segment.classical.params import GMM

    g = GMM(np.array([0.4, 0.6]), np.array([[100.0, 150.0], [120.0, 140.0]]), np.array([np.eye(2) * 4, np.eye(2) * 9]))
    p = ClassicalParams(ellipse_diag=(110, 150, 30, 12, 140), skin_gmm=g, bg_gmm=g, icm_lambda=12.0, meta={"a": 1})
    for suffix in (".npz", ".json"):
        path = tmp_path / f"p{suffix}"
        p.save(path)
        q = read_params(path)
        assert q.ellipse_diag == (110, 150, 30, 12, 140)
        assert q.icm_lambda == 12.0 and q.meta == {"a": 1}
        assert np.allclose(q.skin_gmm.means, g.means) and np.allclose(q.bg_gmm.covs, g.covs)
    seg = create("ellipse-diag", MethodOptions(params=tmp_path / "p.npz"))
    assert seg.params.ellipse_diag == (110, 150, 30, 12, 140)


def test_bad_param_files(tmp_path):
    with pytest.raises(ConfigError):
        read_params(tmp_path / "missing.npz")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ConfigError):
        read_params(bad)
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, format=np.array(1), ellipse_diag=np.array([object(), 1], dtype=object))
    with pytest.raises(ConfigError):
        read_params(pickled)
    js = tmp_path / "p.json"
    js.write_text(json.dumps({"format": 1, "ellipse_diag": [1, 2, -3, 4, 5]}))
    with pytest.raises(ConfigError, match="semi-axes"):
        read_params(js)
    js.write_text(json.dumps({"format": 1, "icm": [0.3, 40, 5]}))
    with pytest.raises(ConfigError, match="shape"):
        read_params(js)
    js.write_text(json.dumps({"format": 1, "skin_weights": [1], "skin_means": [[1, 2]], "skin_covs": [[[1, 0], [0, 1]]]}))
    with pytest.raises(ConfigError, match="background"):
        read_params(js)
    with pytest.raises(ConfigError):
        create("ellipse", MethodOptions(params=tmp_path / "nope.npz"))


def test_defaults_without_a_file(monkeypatch):
    from streamseg.segment.classical import params

    monkeypatch.setattr(params, "shipped_params_path", lambda: None)
    p = load_params(None)
    assert p.source == "defaults" and p.ellipse_diag == (119.314, 155.558, 37.089, 14.809, 148.633)
    skin, bg = p.gmms()  # icm works without fitted mixtures
    assert skin.log_density(np.array([[119.314, 155.558]]))[0] > bg.log_density(np.array([[119.314, 155.558]]))[0]
    assert create("icm")(np.full((6, 6, 3), SKIN, np.uint8)).shape == (6, 6)


# -- post-processing ---------------------------------------------------------------------------
def test_postprocess_settings(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text("[postprocess]\nopen = 5\nblur = 0\n[postprocess.icm]\nopen = 0\n")
    assert PostProcess.for_method("hsv", {}, cfg) == PostProcess(open=5, blur=0)
    assert PostProcess.for_method("icm", {}, cfg) == PostProcess(open=0, blur=0)
    assert PostProcess.for_method("icm", {"blur": 3}, cfg) == PostProcess(open=0, blur=3)
    assert PostProcess.for_method("hsv", {"postprocess": {"open": 1}}, cfg).open == 1
    with pytest.raises(ConfigError):
        PostProcess.for_method("hsv", {"open": -1}, cfg)
    with pytest.raises(ConfigError):
        PostProcess.for_method("hsv", {"blur": "big"}, cfg)
    broken = tmp_path / "broken.toml"
    broken.write_text("[postprocess\n")
    with pytest.raises(ConfigError):
        PostProcess.for_method("hsv", {}, broken)


def test_postprocess_removes_specks_and_softens_edges():
    prob = np.zeros((20, 20), np.float32)
    prob[2, 2] = 1.0
    prob[8:, 8:] = 1.0
    out = PostProcess(open=3, blur=5)(prob.copy())
    assert out[2, 2] < 0.01
    assert out[15, 15] == pytest.approx(1.0)
    assert 0.0 < out[8, 12] < 1.0
    assert np.array_equal(PostProcess(open=0, blur=0)(prob.copy()), prob)
