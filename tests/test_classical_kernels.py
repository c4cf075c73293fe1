"""The numba kernels of the classical detectors match their NumPy/OpenCV references bit for bit."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from streamseg.segment.classical import kernels, reference
from streamseg.segment.classical.colorspace import cube_image, ellipse_lut
from streamseg.segment.classical.icm import MRFBuffers, edge_table, icm_labels

pytestmark = pytest.mark.skipif(kernels.numba_error() is not None, reason="numba kernels unavailable here")

RULES = ["ellipse", "ellipse-diag", "ycbcr", "hsv", "hsv+ycbcr"]
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def cube() -> np.ndarray:
    return cube_image()


@pytest.fixture(scope="module")
def rules() -> dict:
    from streamseg.segment import create

    return {name: create(name) for name in RULES}


def frames(max_side: int = 37):
    """Random BGR frames from 1x1 to odd sizes, sometimes non-contiguous or read-only."""

    @st.composite
    def build(draw):
        h = draw(st.integers(1, max_side))
        w = draw(st.integers(1, max_side))
        view = draw(st.sampled_from(["plain", "strided", "transposed", "readonly"]))
        if view == "strided":
            base = draw(arrays(np.uint8, (2 * h, 2 * w, 3)))
            return base[::2, ::2]
        if view == "transposed":
            return draw(arrays(np.uint8, (w, h, 3))).transpose(1, 0, 2)
        f = draw(arrays(np.uint8, (h, w, 3)))
        if view == "readonly":
            f.flags.writeable = False
        return f

    return build()


def test_in_loop_ycbcr_is_opencv_over_the_whole_cube(cube):
    # a table holding its own index returns (Cb << 8 | Cr) for every colour (exact in float32)
    index = np.arange(65536, dtype=np.float32).reshape(256, 256)
    out = np.empty(cube.shape[:2], np.float32)
    kernels.cbcr_lut(cube, index, out)
    ycc = cv2.cvtColor(cube, cv2.COLOR_BGR2YCrCb)
    assert np.array_equal(out.astype(np.int64), ycc[..., 2].astype(np.int64) << 8 | ycc[..., 1])


def test_cube_expansion_matches_reference():
    lut8 = (ellipse_lut((119.314, 155.558), (37.089, 14.809), 148.633) * 255).astype(np.uint8)
    lut8[::7, ::5] = 17  # not only 0/255
    a, b = np.empty(1 << 24, np.uint8), np.empty(1 << 24, np.uint8)
    kernels.expand_cbcr(lut8, a)
    reference.expand_cbcr(lut8, b)
    assert np.array_equal(a, b)


@SETTINGS
@given(frame=frames(), seed=st.integers(0, 2**32 - 1))
def test_cbcr_lut_kernel(frame, seed):
    lut = np.random.default_rng(seed).random((256, 256), dtype=np.float32)
    f = np.ascontiguousarray(frame)
    if not frame.flags.writeable:
        f.flags.writeable = False
    a = np.full(f.shape[:2], -1, np.float32)
    b = np.full(f.shape[:2], -2, np.float32)
    kernels.cbcr_lut(f, lut, a)
    reference.cbcr_lut(f, lut, b)
    assert np.array_equal(a, b)


@SETTINGS
@given(frame=frames(), seed=st.integers(0, 2**32 - 1))
def test_cube_table_kernel(frame, seed):
    rng = np.random.default_rng(seed)
    table = np.zeros(1 << 24, np.uint8)
    f = np.ascontiguousarray(frame)
    k = (f[..., 0].astype(np.int64) << 16) | (f[..., 1].astype(np.int64) << 8) | f[..., 2]
    table[k.ravel()] = rng.integers(0, 256, k.size, dtype=np.uint8)
    a = np.full(f.shape[:2], -1, np.float32)
    b = np.full(f.shape[:2], -2, np.float32)
    kernels.cube_table(f, table, a)
    reference.cube_table(f, table, b)
    assert np.array_equal(a, b)


@SETTINGS
@given(frame=frames(), seed=st.integers(0, 2**32 - 1))
def test_cube_table_u8_and_u8_to_f32_kernels(frame, seed):
    rng = np.random.default_rng(seed)
    table = rng.integers(0, 256, 1 << 24, dtype=np.uint8)
    f = np.ascontiguousarray(frame)
    if not frame.flags.writeable:
        f.flags.writeable = False
    a = np.full(f.shape[:2], 1, np.uint8)
    b = np.full(f.shape[:2], 2, np.uint8)
    kernels.cube_table_u8(f, table, a)
    reference.cube_table_u8(f, table, b)
    assert np.array_equal(a, b)
    fa = np.full(f.shape[:2], -1, np.float32)
    fb = np.full(f.shape[:2], -2, np.float32)
    kernels.u8_to_f32(a, fa)
    reference.u8_to_f32(b, fb)
    assert np.array_equal(fa, fb)
    fc = np.full(f.shape[:2], -3, np.float32)
    kernels.cube_table(f, table, fc)  # cube_table == cube_table_u8 then u8_to_f32
    assert np.array_equal(fa, fc)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    h=st.integers(1, 150),
    w=st.integers(1, 70),
    binary=st.booleans(),
    density=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_open3_kernel_is_opencv(h, w, binary, density, seed):
    # blocks of 64 rows: up to 150 rows crosses two block edges
    rng = np.random.default_rng(seed)
    if binary:
        src = np.where(rng.random((h, w)) < density, 255, 0).astype(np.uint8)
    else:
        src = rng.integers(0, 256, (h, w), dtype=np.uint8)
    a = np.full((h, w), -1, np.float32)
    b = np.full((h, w), -2, np.float32)
    kernels.open3_u8_to_f32(src, a)
    reference.open3_u8_to_f32(src, b)
    assert np.array_equal(a, b)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    h=st.integers(1, 100),
    w=st.integers(1, 70),
    density=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_open3_blur5_kernel_is_opencv(h, w, density, seed):
    # blocks of 32 rows; tiny frames exercise the reflected borders
    rng = np.random.default_rng(seed)
    src = np.where(rng.random((h, w)) < density, 255, 0).astype(np.uint8)
    a = np.full((h, w), -1, np.float32)
    b = np.full((h, w), -2, np.float32)
    kernels.open3_blur5_binary(src, a)
    reference.open3_blur5_binary(src, b)
    assert np.array_equal(a, b)


def test_open3_blur5_kernel_on_blobs():
    # large skin-like regions (the random test mostly sees specks that the opening removes)
    rng = np.random.default_rng(1)
    src = (cv2.GaussianBlur(rng.random((300, 401)).astype(np.float32), (0, 0), 6) > 0.5).astype(np.uint8) * 255
    for sub in (src, src[:97, :3], src[5:, 7:], np.full((40, 50), 255, np.uint8)):
        sub = np.ascontiguousarray(sub)
        a = np.empty(sub.shape, np.float32)
        b = np.empty(sub.shape, np.float32)
        kernels.open3_blur5_binary(sub, a)
        reference.open3_blur5_binary(sub, b)
        assert np.array_equal(a, b)
        assert 0.0 < a.mean() and (0.0 < a).any()


@SETTINGS
@given(frame=frames(), opening=st.sampled_from([2, 3, 5]), blur=st.sampled_from([0, 3, 5]), seed=st.integers(0, 2**32 - 1))
def test_u8_opening_path_is_bit_identical(frame, opening, blur, seed):
    # segment() opens the uint8 table values, then scales; post(raw()) scales, then opens
    from streamseg.segment import MethodOptions, create

    seg = create("ellipse-diag", MethodOptions(extra={"open": opening, "blur": blur}))
    assert np.array_equal(seg(frame), seg.post(seg.raw(frame)))
    # any table values, not only 0 / 255
    rng = np.random.default_rng(seed)
    f = np.ascontiguousarray(frame)
    table = rng.integers(0, 256, 1 << 24, dtype=np.uint8)
    raw8 = np.empty(f.shape[:2], np.uint8)
    kernels.cube_table_u8(f, table, raw8)
    prob = np.empty(f.shape[:2], np.float32)
    kernels.cube_table(f, table, prob)
    assert np.array_equal(seg.post.from_u8(raw8, kernels.u8_to_f32), seg.post(prob))


def test_u8_opening_path_on_a_real_frame(rules):
    from streamseg.evaluate.latency import bench_frame

    frame = bench_frame(1280, 720)
    for name, seg in rules.items():
        assert np.array_equal(seg(frame), seg.post(seg.raw(frame))), name


@SETTINGS
@given(frame=frames())
def test_every_rule_matches_its_reference(rules, frame):
    for name, seg in rules.items():
        assert seg.provider == "numba"
        got = seg.raw(frame)
        want = seg.reference(np.ascontiguousarray(frame))
        assert got.dtype == np.float32 and got.shape == frame.shape[:2]
        assert np.array_equal(got, want), name


def test_rules_use_the_full_table(rules, cube):
    # every colour at once: the tabulated rule is the reference rule for all 2^24 colours
    sub = np.ascontiguousarray(cube[::3, ::3])  # 1366 x 1366, about 1.9M colours
    for name, seg in rules.items():
        assert np.array_equal(seg.raw(sub), seg.reference(sub)), name


@SETTINGS
@given(
    frame=frames(29),
    seed=st.integers(0, 2**32 - 1),
    lam=st.floats(0.0, 100.0, width=32),
    sweeps=st.integers(0, 6),
)
def test_icm_kernels(frame, seed, lam, sweeps):
    rng = np.random.default_rng(seed)
    dtable = (rng.standard_normal((256, 256)) * 20).astype(np.float32)
    f = np.ascontiguousarray(frame)
    lab = cv2.cvtColor(f, cv2.COLOR_BGR2Lab)
    h, w = f.shape[:2]
    a, b = MRFBuffers.of(h, w), MRFBuffers.of(h, w)
    sa = kernels.icm_prepare(f, lab, dtable, a.dunary, a.labels, a.d2r, a.d2d)
    sb = reference.icm_prepare(f, lab, dtable, b.dunary, b.labels, b.d2r, b.d2d)
    assert sa == sb
    for x, y in zip((a.dunary, a.labels, a.d2r, a.d2d), (b.dunary, b.labels, b.d2r, b.d2d)):
        assert np.array_equal(x, y)
    table = edge_table(lam, sa, h * (w - 1) + (h - 1) * w)
    kernels.icm_pack(a.dunary, a.labels, a.d2r, a.d2d, table, a.wr, a.wd, a.planes, a.signs)
    reference.icm_weights(b.d2r, b.d2d, table, b.wr, b.wd)
    # the kernel zeroes the weights of edges that leave the frame; the reference never reads them
    assert np.array_equal(a.wr[:, :-1], b.wr[:, :-1]) and np.array_equal(a.wd[:-1], b.wd[:-1])
    assert not a.wr[:, -1].any() and not a.wd[-1].any()
    na = kernels.icm_sweeps(a.planes, a.signs, sweeps)
    kernels.icm_unpack(a.signs, a.labels)
    nb = reference.icm_sweeps(b.dunary, b.wr, b.wd, b.labels, sweeps)
    assert na == nb
    assert np.array_equal(a.labels, b.labels)


def _cbcr(bgr: tuple[int, int, int]) -> tuple[int, int]:
    ycc = cv2.cvtColor(np.array([[bgr]], np.uint8), cv2.COLOR_BGR2YCrCb)[0, 0]
    return int(ycc[2]), int(ycc[1])


def test_icm_removes_specks_of_similar_colour_and_keeps_edges():
    # two regions; 5% of each region's pixels get a barely different colour whose unary says the
    # opposite label: the Potts term (high weight at low contrast) flips them back, while the
    # high-contrast boundary between the regions costs nothing and stays put
    skin, skin_speck = (90, 140, 200), (96, 140, 196)
    grey, grey_speck = (128, 128, 128), (122, 128, 132)
    assert len({_cbcr(c) for c in (skin, skin_speck, grey, grey_speck)}) == 4
    dtable = np.full((256, 256), 5.0, np.float32)
    for c in (skin, grey_speck):
        dtable[_cbcr(c)] = -5.0
    rng = np.random.default_rng(1)
    frame = np.empty((40, 40, 3), np.uint8)
    frame[:, :20] = skin
    frame[:, 20:] = grey
    speck = rng.random((40, 40)) < 0.05
    frame[speck & (np.arange(40) < 20)] = skin_speck
    frame[speck & (np.arange(40) >= 20)] = grey_speck
    want = np.zeros((40, 40), np.uint8)
    want[:, :20] = 1
    for use_numba in (True, False):
        unary_only = icm_labels(frame, dtable, 20.0, 0, use_numba).copy()
        assert np.count_nonzero(unary_only != want) == np.count_nonzero(speck)
        labels = icm_labels(frame, dtable, 20.0, 5, use_numba)
        assert np.array_equal(labels, want)


@pytest.mark.parametrize("lam", [0.5, 5.0, 50.0])
def test_icm_sweeps_skip_only_rows_that_cannot_change(lam):
    # many rows, odd width: revisiting only rows next to a changed row must give the full sweeps' result
    rng = np.random.default_rng(int(lam * 10))
    frame = cv2.GaussianBlur(rng.integers(0, 256, (97, 203, 3), dtype=np.uint8), (7, 7), 0)
    dtable = (rng.standard_normal((256, 256)) * 3).astype(np.float32)
    for sweeps in (1, 2, 3, 10):
        a = icm_labels(frame, dtable, lam, sweeps, True).copy()
        b = icm_labels(frame, dtable, lam, sweeps, False).copy()
        assert np.array_equal(a, b), sweeps
