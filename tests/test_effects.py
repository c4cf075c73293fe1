"""Effect renderers on generated frames with a known skin region (no model, no GPU)."""

from __future__ import annotations

import av
import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamseg import effects as fx
from streamseg.effects.params import EffectParams, OverlayStyle, parse_color
from streamseg.errors import ConfigError
from streamseg.frames import Frame, FrameResult

SETTINGS = settings(max_examples=25, deadline=None)


def textured(h: int, w: int, seed: int = 0) -> np.ndarray:
    """BGR uint8 skin-like colour with spots and noise, so smoothing has something to change."""
    rng = np.random.default_rng(seed)
    img = np.empty((h, w, 3), np.uint8)
    img[:] = (120, 140, 190)
    noise = rng.normal(0, 12, (h, w, 3))
    return np.clip(img + noise, 0, 255).astype(np.uint8)


def disc_mask(h: int, w: int, cx: float = 0.5, r: float = 0.3) -> np.ndarray:
    m = np.zeros((h, w), np.uint8)
    cv2.circle(m, (int(w * cx), h // 2), max(2, int(min(h, w) * r)), 1, -1)
    return m.astype(np.float32)


CHANGERS = {
    "retouch": lambda f, m: fx.retouch(f, m, strength=1.0),
    "blur": lambda f, m: fx.blur(f, m, strength=0.5),
    "pixelate": lambda f, m: fx.pixelate(f, m, strength=0.5),
}


@pytest.mark.parametrize("name", sorted(CHANGERS))
def test_changes_inside_and_keeps_outside(name):
    frame = textured(180, 320)
    m = disc_mask(180, 320)
    out = CHANGERS[name](frame, m)
    assert out.shape == frame.shape and out.dtype == np.uint8
    outside, inside = m == 0, fx.feather(m, 3.0) >= 1.0
    np.testing.assert_array_equal(out[outside], frame[outside])
    diff = np.abs(out.astype(int) - frame.astype(int))[inside].mean()
    assert diff > 2.0, f"{name} changed the skin by only {diff:.2f} levels on average"
    assert frame is not out


@pytest.mark.parametrize("name", sorted(CHANGERS))
def test_on_generated_clip_within_codec_error(tmp_path, name):
    """Through a lossy encode: outside the region the effect's output equals the input's
    (encoded the same way) within codec error; inside it differs by much more."""
    h, w, n = 96, 128, 6
    frames, masks = [], []
    for i in range(n):
        frames.append(textured(h, w, seed=i))
        masks.append(disc_mask(h, w, cx=0.35 + 0.05 * i))
    outs = [CHANGERS[name](f, m) for f, m in zip(frames, masks)]

    def roundtrip(images, path):
        with av.open(str(path), "w") as c:
            s = c.add_stream("libx264", rate=25)
            s.width, s.height, s.pix_fmt = w, h, "yuv444p"
            s.options = {"crf": "1", "preset": "ultrafast", "g": "1", "aq-mode": "0"}  # near-lossless: noise is incompressible
            for i, im in enumerate(images):
                fr = av.VideoFrame.from_ndarray(im, format="bgr24")
                fr.pts = i
                for p in s.encode(fr):
                    c.mux(p)
            for p in s.encode(None):
                c.mux(p)
        with av.open(str(path)) as c:
            return [f.to_ndarray(format="bgr24").astype(int) for f in c.decode(video=0)]

    a, b = roundtrip(frames, tmp_path / "in.mp4"), roundtrip(outs, tmp_path / "out.mp4")
    assert len(a) == len(b) == n
    for i in range(n):
        # stay off the edge: a codec block straddling it mixes both sides
        far_out = cv2.dilate(masks[i], np.ones((9, 9), np.uint8)) == 0
        core = fx.feather(masks[i], 6.0) >= 1.0
        err_out = np.abs(a[i] - b[i])[far_out].mean()
        err_in = np.abs(a[i] - b[i])[core].mean()
        assert err_out < 1.0, (i, err_out)
        assert err_in > 2 * err_out + 1.5, (i, err_in, err_out)


@SETTINGS
@given(
    h=st.integers(4, 48),
    w=st.integers(4, 48),
    seed=st.integers(0, 2**16),
    strength=st.floats(0.0, 1.0),
    feather_px=st.floats(0.0, 8.0),
    name=st.sampled_from(sorted(CHANGERS) + ["overlay-no-outline", "alpha"]),
)
def test_outside_mask_is_bit_exact(h, w, seed, strength, feather_px, name):
    rng = np.random.default_rng(seed)
    frame = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    m = (rng.random((h, w)) < rng.random()).astype(np.float32)
    if name == "retouch":
        out = fx.retouch(frame, m, strength, feather_px)
    elif name == "blur":
        out = fx.blur(frame, m, strength, feather_px)
    elif name == "pixelate":
        out = fx.pixelate(frame, m, strength, feather_px)
    elif name == "alpha":
        out = fx.alpha(frame, m, feather_px)
        assert (out[m == 0][:, 3] == 0).all()
        out = out[..., :3]
        frame = np.where(m[..., None] > 0, frame, 0).astype(np.uint8)
    else:
        out = fx.overlay(frame, m, OverlayStyle(alpha=strength, outline=False))
    np.testing.assert_array_equal(out[m == 0], frame[m == 0])


@SETTINGS
@given(h=st.integers(1, 40), w=st.integers(1, 40), seed=st.integers(0, 2**16), feather_px=st.floats(0.0, 10.0))
def test_feather_properties(h, w, seed, feather_px):
    rng = np.random.default_rng(seed)
    m = rng.random((h, w)) < 0.6
    f = fx.feather(m.astype(np.float32), feather_px)
    assert f.dtype == np.float32 and f.shape == (h, w)
    assert (f[~m] == 0).all() and (f[m] > 0).all() and f.max() <= 1.0
    np.testing.assert_array_equal(fx.feather(m, 0), m.astype(np.float32))
    assert (fx.feather(m, feather_px + 2) <= f + 1e-6).all()  # wider feather = softer
    from streamseg.effects.mask import box

    bx = box(m.view(np.uint8), 1)
    if bx is not None:  # the effects feather only the mask's box: it must equal the whole frame's
        np.testing.assert_array_equal(fx.feather(m[bx], feather_px), f[bx])


def test_alpha_equals_feathered_mask():
    frame = textured(60, 80)
    m = disc_mask(60, 80)
    out = fx.alpha(frame, m, feather_px=4)
    assert out.shape == (60, 80, 4)
    np.testing.assert_array_equal(out[..., 3], np.rint(fx.feather(m, 4) * 255).astype(np.uint8))
    inside = out[..., 3] > 0
    np.testing.assert_array_equal(out[..., :3][inside], frame[inside])


def test_flatten_composites_over_colour():
    bgra = np.zeros((2, 2, 4), np.uint8)
    bgra[0, 0] = (10, 20, 30, 255)
    bgra[0, 1] = (200, 200, 200, 0)
    bgra[1, 0] = (0, 0, 0, 128)
    out = fx.flatten(bgra, (0, 177, 64))
    assert out[0, 0].tolist() == [10, 20, 30] and out[0, 1].tolist() == [0, 177, 64]
    assert out[1, 0].tolist() == [0, 88, 32]


def test_hair_is_person_minus_skin_on_generated_frame():
    h, w = 120, 160
    person = np.zeros((h, w), np.float32)
    cv2.ellipse(person, (80, 70), (50, 60), 0, 0, 360, 1.0, -1)  # head and shoulders
    skin = np.zeros((h, w), np.float32)
    cv2.ellipse(skin, (80, 80), (30, 35), 0, 0, 360, 1.0, -1)  # the face, inside the person
    skin[0:5, 0:5] = 1.0  # skin outside the person: subtraction saturates at 0
    hm = fx.hair(person, skin)
    expected = ((person > 0) & ~(skin > 0)).astype(np.float32)
    np.testing.assert_array_equal(hm, expected)
    img = fx.render_effect("hair", textured(h, w), skin, person=person)
    np.testing.assert_array_equal(img[..., 0], expected.astype(np.uint8) * 255)
    with pytest.raises(ConfigError, match="person"):
        fx.render_effect("hair", textured(h, w), skin)


def test_overlay_style():
    frame = np.full((50, 60, 3), 100, np.uint8)
    m = disc_mask(50, 60)
    plain = fx.overlay(frame, m, OverlayStyle(color=parse_color("#00ff00"), alpha=0.5, outline=False))
    assert plain[25, 30].tolist() == [50, 178, 50]
    np.testing.assert_array_equal(plain[m == 0], frame[m == 0])
    lined = fx.overlay(frame, m, OverlayStyle(color="green", alpha=0.0, outline=True))
    edge = (cv2.dilate(m, np.ones((3, 3))) > 0) & (cv2.erode(m, np.ones((3, 3))) == 0)
    assert (lined[edge] != frame[edge]).any()
    core = cv2.erode(m, np.ones((7, 7))) > 0  # anti-aliased lines reach a pixel or two inwards
    assert (lined[core] == frame[core]).all()


@pytest.mark.parametrize("text", ["pink-ish", "#12345", "1,2", "300,0,0"])
def test_bad_colour_is_config_error(text):
    with pytest.raises(ConfigError, match="--overlay-color"):
        parse_color(text)


@pytest.mark.parametrize("kw", [{"strength": 1.5}, {"strength": -0.1}, {"feather_px": -1}, {"feather_px": float("nan")}])
def test_bad_params_are_config_errors(kw):
    with pytest.raises(ConfigError):
        EffectParams(**kw)


def test_registry_renders_every_type():
    frame = textured(40, 50)
    m = disc_mask(40, 50)
    for name, effect in fx.EFFECTS.items():
        out = fx.render_effect(name, frame, m, person=np.ones((40, 50), np.float32))
        assert out.dtype == np.uint8
        assert out.shape == (40, 50 * effect.width_factor, *(() if effect.channels == 1 else (effect.channels,))), name
        assert fx.output_size(name, 50, 40) == (out.shape[1], out.shape[0])
    with pytest.raises(ConfigError, match="unknown output type"):
        fx.get("sepia")


def test_the_processor_renders_each_type_once_with_its_settings_and_draws_rois_on_overlays():
    from streamseg.pipeline.processor import Processor

    class Given:
        name, kind, provider, fallback_from = "given", "model", "cpu", None

        def segment(self, frame):
            return (disc_mask(40, 50) > 0).astype(np.float32)

        def reset(self):
            pass

    class Rois:
        def process(self, result):
            return {"regions": [{"id": 1, "label": "skin", "box": [5.0, 5.0, 20.0, 20.0], "score": 1.0}]}

        def reset(self):
            pass

    frame = textured(40, 50)
    m = disc_mask(40, 50) > 0
    effects = {
        "retouch": fx.make_effect("retouch", EffectParams(strength=1.0)),
        "overlay": fx.make_effect("overlay", EffectParams(overlay=OverlayStyle(color="red", alpha=1.0, outline=False))),
    }
    calls = []
    for e in effects.values():
        real = e.render
        e.render = lambda f, mask, real=real: calls.append(1) or real(f, mask)
    res = Processor(Given(), output_types=("retouch", "overlay", "mask"), effects=effects).process(Frame(frame, 0, 0.0))
    assert len(calls) == 2 and set(res.pictures) == {"retouch", "overlay", "mask"}
    np.testing.assert_array_equal(res.pictures["retouch"], fx.retouch(frame, m.astype(np.float32), 1.0))
    assert res.pictures["overlay"][20, 25].tolist() == [0, 0, 255]
    plain = Processor(Given(), output_types=("overlay",), effects=effects).process(Frame(frame, 0, 0.0)).pictures["overlay"]
    drawn = Processor(Given(), output_types=("overlay",), effects=effects, roi_stage=Rois()).process(Frame(frame, 0, 0.0)).pictures["overlay"]
    assert (plain != drawn).any()  # the ROI box is drawn on the overlay
    with pytest.raises(ConfigError, match="person"):
        fx.make_effect("hair")


def test_skin_fraction_and_person_exposure():
    m = np.zeros((10, 10), np.float32)
    m[:5] = 1
    person = np.zeros((10, 10), bool)
    person[:, :5] = True
    assert fx.skin_fraction(m) == 0.5
    assert fx.person_exposure(m, person) == 0.5
    assert fx.person_exposure(m, np.zeros((10, 10), bool)) is None


def test_hud_scales_with_frame():
    def box_height(h, w, channels=3):
        img = np.zeros((h, w, channels), np.uint8)
        img[..., :3] = 200
        fx.draw_hud(img, fx.hud_lines(fps=30.0, latency_ms=12.0, method="dlmv", skin_fraction=0.2))
        rows = np.nonzero((img[:, 0, :3] != 200).any(axis=1))[0]
        return rows.max() + 1, img

    small, _ = box_height(360, 640)
    big, _ = box_height(1080, 1920)
    assert 2.2 < big / small < 3.8
    _, bgra = box_height(720, 1280, channels=4)
    assert bgra[5, 5, 3] == 255 and bgra[700, 1200, 3] == 0


@SETTINGS
@given(h=st.integers(1, 40), w=st.integers(1, 40), seed=st.integers(0, 2**16), alpha=st.floats(0.0, 1.0))
def test_overlay_and_cutout_match_their_per_pixel_definitions(h, w, seed, alpha):
    """The OpenCV paths (cached colour frame + copyTo) against the plain per-pixel formulas."""
    rng = np.random.default_rng(seed)
    frame = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    m = rng.random((h, w)) < rng.random()
    colour = (int(rng.integers(256)), int(rng.integers(256)), int(rng.integers(256)))
    out = fx.overlay(frame, m.astype(np.float32), OverlayStyle(color=colour, alpha=alpha, outline=False))
    want = np.rint(frame.astype(np.float64) * (1 - alpha) + np.array(colour, np.float64) * alpha)
    assert np.abs(out[m].astype(int) - want[m]).max(initial=0) <= 1  # addWeighted rounds in float32
    np.testing.assert_array_equal(out[~m], frame[~m])
    cut = fx.render_effect("cutout", frame, m)
    np.testing.assert_array_equal(cut[m], frame[m])
    assert not cut[~m].any()
    again = fx.overlay(frame, m.astype(np.float32), OverlayStyle(color=colour, alpha=alpha, outline=False))
    np.testing.assert_array_equal(again, out)  # the cached colour frame is not written to


@SETTINGS
@given(h=st.integers(1, 60), w=st.integers(1, 60), f=st.integers(2, 5), seed=st.integers(0, 2**16))
def test_exact_factor_boxes_keep_outside_pixels_and_shapes(h, w, f, seed):
    """The box grown to a multiple of the downscale factor, and the area_down / linear_up pair,
    on sizes that are and are not multiples of it."""
    from streamseg.effects.mask import _grow, area_down, linear_up

    rng = np.random.default_rng(seed)
    frame = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    small = area_down(frame, f)
    assert small.shape == (max(1, h // f), max(1, w // f), 3)
    assert linear_up(small, h, w, f).shape == frame.shape
    a, b = sorted(int(v) for v in rng.integers(0, h + 1, 2))
    g = _grow(slice(a, max(b, a + 1) if a < h else h), f, h)
    assert 0 <= g.start <= a and g.stop >= min(h, max(b, a + 1)) and g.stop <= h
    assert (g.stop - g.start) % f == 0 or (g.start == 0 and g.stop == h)
    m = np.zeros((h, w), np.float32)
    m[rng.integers(0, h) :, rng.integers(0, w) :] = 1.0
    out = fx.retouch(frame, m, strength=1.0, scale=f)
    np.testing.assert_array_equal(out[m == 0], frame[m == 0])
