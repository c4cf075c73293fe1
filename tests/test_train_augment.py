"""Every augmentation keeps image and mask aligned (fixtures generated here, no shared data)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

pytest.importorskip("torch")

from streamseg.train import augment as A  # noqa: E402
from streamseg.train.augment import AugmentConfig, Augmenter  # noqa: E402


def blocks(size: int = 96, cell: int = 12, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A blocky colour image and the mask drawn from it (red channel > 127 = 'skin')."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (size // cell, size // cell, 3), dtype=np.uint8)
    small[..., 2] = np.where(small[..., 2] > 127, 230, 20)  # keep red far from the threshold
    img = cv2.resize(small, (size, size), interpolation=cv2.INTER_NEAREST)
    return img, np.where(img[..., 2] > 127, 255, 0).astype(np.uint8)


def interior(mask: np.ndarray, r: int = 2) -> np.ndarray:
    """Pixels at least ``r`` px away from any mask edge (where bilinear sampling is unambiguous)."""
    k = np.ones((2 * r + 1, 2 * r + 1), np.uint8)
    edge = cv2.dilate(mask, k) != cv2.erode(mask, k)
    return ~edge


@pytest.mark.parametrize("seed", range(8))
def test_geometric_warp_keeps_mask_on_image(seed: int) -> None:
    img, mask = blocks(96, 24, seed=seed)
    cfg = AugmentConfig(crop_scale=(0.5, 1.2), rotate_deg=20, p_flip=0.5)
    m = A.affine_matrix(mask.shape, 64, np.random.default_rng(seed), cfg)
    wi, wm = A.warp(img, mask, m, 64)
    redrawn = np.where(wi[..., 2] > 127, 255, 0)
    ok = interior(wm)
    assert ok.mean() > 0.4  # the check covers a good part of the image
    assert np.array_equal(redrawn[ok], wm[ok])


def test_flip_moves_mask_with_image() -> None:
    img = np.zeros((64, 64, 3), np.uint8)
    img[:, :16, 2] = 255  # a red strip on the left only
    mask = np.where(img[..., 2] > 127, 255, 0).astype(np.uint8)
    cfg = AugmentConfig(crop_scale=(1.0, 1.0), aspect=(1.0, 1.0), rotate_deg=0, p_flip=1.0)
    wi, wm = A.warp(img, mask, A.affine_matrix(mask.shape, 64, np.random.default_rng(0), cfg), 64)
    assert wm[:, -8:].all() and not wm[:, :40].any()
    assert np.array_equal(np.where(wi[..., 2] > 127, 255, 0), wm)


def _identity_geometry(**kw) -> AugmentConfig:
    base = {f: 0.0 for f in AugmentConfig.__dataclass_fields__ if f.startswith("p_")}
    base.update(crop_scale=(1.0, 1.0), aspect=(1.0, 1.0), rotate_deg=0.0)
    base.update(kw)
    return AugmentConfig(**base)


@pytest.mark.parametrize(
    "prob", ["p_hue", "p_desaturate", "p_grey", "p_contrast", "p_sepia", "p_channel_swap", "p_blur", "p_noise", "p_jpeg"]
)
def test_photometric_changes_image_not_mask(prob: str) -> None:
    img, mask = blocks(64, 8, seed=3)
    aug = Augmenter(64, _identity_geometry(**{prob: 1.0}), np.random.default_rng(1))
    out_img, out_mask = aug(img, mask)
    assert np.array_equal(out_mask, mask)
    assert out_img.shape == img.shape and out_img.dtype == np.uint8
    assert not np.array_equal(out_img, img)


def test_identity_geometry_is_identity() -> None:
    img, mask = blocks(64, 8, seed=4)
    out_img, out_mask = Augmenter(64, _identity_geometry(), np.random.default_rng(0))(img, mask)
    assert np.array_equal(out_img, img) and np.array_equal(out_mask, mask)


@pytest.mark.parametrize("seed", range(6))
def test_lattice_clears_mask_exactly_where_it_draws(seed: int) -> None:
    img = np.full((80, 80, 3), 128, np.uint8)
    img[0, 0] = 7  # a pixel value the lattice colour cannot be confused with below
    mask = np.full((80, 80), 255, np.uint8)
    out_img, out_mask = A.lattice(img, mask, np.random.default_rng(seed))
    changed = np.any(out_img != img, axis=2)
    cleared = out_mask == 0
    # every cleared pixel was painted over; painted pixels whose colour happens to equal the old one are allowed
    painted_same = cleared & ~changed
    assert np.array_equal(changed, cleared & changed)
    assert (painted_same.sum() == 0) or np.all(out_img[painted_same] == img[painted_same])
    assert cleared.any()
    assert np.array_equal(img[0, 1], [128, 128, 128])  # inputs untouched


@pytest.mark.parametrize("seed", range(5))
def test_full_augmenter_geometry_aligned(seed: int) -> None:
    """Everything on except colour changes: the mask redrawn from the output image matches off the edges."""
    img, mask = blocks(96, 12, seed=seed)
    cfg = _identity_geometry(crop_scale=(0.5, 1.15), aspect=(0.75, 1.33), rotate_deg=15.0, p_flip=0.5)
    out_img, out_mask = Augmenter(64, cfg, np.random.default_rng(seed))(img, mask)
    ok = interior(out_mask)
    assert np.array_equal(np.where(out_img[..., 2] > 127, 255, 0)[ok], out_mask[ok])


def test_config_rejects_unknown_key() -> None:
    with pytest.raises(KeyError):
        AugmentConfig.from_dict({"p_nope": 1.0})


@pytest.mark.parametrize("seed", range(4))
def test_blank_view_is_a_skinless_smooth_wall(seed: int) -> None:
    img, mask = blocks(64, 8, seed=seed)
    out_img, out_mask = Augmenter(64, _identity_geometry(p_blank=1.0), np.random.default_rng(seed))(img, mask)
    assert out_img.shape == (64, 64, 3) and out_img.dtype == np.uint8
    assert not out_mask.any()
    # a flat colour or a linear ramp: neighbouring pixels differ by at most a few levels
    step = np.abs(np.diff(out_img.astype(int), axis=0)).max(), np.abs(np.diff(out_img.astype(int), axis=1)).max()
    assert max(step) <= 8
    # p_blank = 0 (the default) never blanks
    again, again_mask = Augmenter(64, _identity_geometry(), np.random.default_rng(seed))(img, mask)
    assert np.array_equal(again_mask, mask)


def _others(seed: int):
    def others(k: int):
        return [blocks(96, 12, seed=seed * 31 + j + 1) for j in range(k)]

    return others


@pytest.mark.parametrize("seed", range(6))
def test_mosaic_and_small_subject_keep_every_tile_aligned(seed: int) -> None:
    """Compositions of several images: the mask redrawn from the output image matches off the edges."""
    img, mask = blocks(96, 12, seed=seed)
    for key in ("p_mosaic", "p_small_subject"):
        cfg = _identity_geometry(crop_scale=(0.5, 1.15), rotate_deg=10.0, p_flip=0.5, **{key: 1.0})
        out_img, out_mask = Augmenter(96, cfg, np.random.default_rng(seed))(img, mask, _others(seed))
        # off the edges, and where resizing left the red channel clearly on one side
        ok = interior(out_mask) & (np.abs(out_img[..., 2].astype(int) - 127) > 20)
        assert ok.sum() > 500
        assert np.array_equal(np.where(out_img[..., 2] > 127, 255, 0)[ok], out_mask[ok])


def test_mosaic_tiles_in_reading_order() -> None:
    views = [(np.full((10, 10, 3), 20 * i, np.uint8), np.full((10, 10), 255 * (i % 2), np.uint8)) for i in range(9)]
    img, msk = A.mosaic(views, 3, 30)
    assert img.shape == (30, 30, 3) and msk.shape == (30, 30)
    for i in range(9):
        r, c = divmod(i, 3)
        assert (img[r * 10:(r + 1) * 10, c * 10:(c + 1) * 10] == 20 * i).all()
        assert (msk[r * 10:(r + 1) * 10, c * 10:(c + 1) * 10] == 255 * (i % 2)).all()
    with pytest.raises(ValueError):
        A.mosaic(views[:4], 3, 30)


def test_small_subject_area_is_in_range() -> None:
    cfg = _identity_geometry(p_small_subject=1.0, small_subject_area=(0.05, 0.20))
    subject = (np.full((64, 64, 3), 230, np.uint8), np.full((64, 64), 255, np.uint8))
    for seed in range(20):
        aug = Augmenter(128, cfg, np.random.default_rng(seed))
        _, msk = aug(*subject, lambda k: [(np.zeros((64, 64, 3), np.uint8), np.zeros((64, 64), np.uint8))] * k)
        assert 0.04 <= (msk > 0).mean() <= 0.21


@pytest.mark.parametrize("lightness", [0.5, 1.25])
def test_skin_tone_changes_skin_only_and_keeps_the_mask(lightness: float) -> None:
    img = np.full((64, 64, 3), (90, 120, 60), np.uint8)
    img[16:48, 16:48] = (120, 150, 200)
    mask = np.zeros((64, 64), np.uint8)
    mask[16:48, 16:48] = 255
    out = A.skin_tone(img, mask, lightness)
    far = cv2.dilate(mask, np.ones((9, 9), np.uint8)) == 0
    assert np.array_equal(out[far], img[far])
    lab_in = cv2.cvtColor(img, cv2.COLOR_BGR2LAB)[20:44, 20:44, 0].astype(float).mean()
    lab_out = cv2.cvtColor(out, cv2.COLOR_BGR2LAB)[20:44, 20:44, 0].astype(float).mean()
    assert (lab_out < lab_in - 20) if lightness < 1 else (lab_out > lab_in + 10)
    cfg = _identity_geometry(p_skin_tone=1.0, p_white_balance=1.0)
    _, out_mask = Augmenter(64, cfg, np.random.default_rng(0))(img, mask)
    assert np.array_equal(out_mask, mask)


def test_warm_white_balance_lowers_blue_raises_red() -> None:
    img = np.full((8, 8, 3), 128, np.uint8)
    warm = A.white_balance(img, (0.65, 0.9, 1.1))
    assert warm[..., 0].max() < 90 and warm[..., 2].min() > 135


def _scene(seed: int = 0) -> np.ndarray:
    """A 'room' with no skin: blocky colours whose red channel stays below the skin threshold."""
    rng = np.random.default_rng(seed + 1000)
    small = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    small[..., 2] = rng.integers(0, 60, (8, 8))
    return cv2.resize(small, (120, 96), interpolation=cv2.INTER_NEAREST)


@pytest.mark.parametrize("seed", range(6))
def test_scene_paste_keeps_subjects_aligned_and_the_scene_empty(seed: int) -> None:
    """Subjects pasted onto a scene: the mask redrawn from the output image matches where the
    subject is opaque, the scene's own pixels are never skin, and trust is 0 only away from subjects."""
    img, mask = blocks(96, 12, seed=seed)
    cfg = _identity_geometry(p_scene_paste=1.0, scene_paste_area=(0.1, 0.3), scene_paste_max=3)
    aug = Augmenter(96, cfg, np.random.default_rng(seed))
    out_img, out_mask, trust = aug.compose(img, mask, _others(seed), lambda: _scene(seed))
    assert out_img.shape == (96, 96, 3) and out_mask.shape == (96, 96) and trust.shape == (96, 96)
    assert set(np.unique(out_mask)) <= {0, 255} and set(np.unique(trust)) <= {0, 1}
    assert not out_mask[trust == 0].any()  # outside every pasted subject: the scene, no skin
    assert 0 < trust.mean() < 1
    # where the mask says skin, the pixel is a subject's skin pixel (red far above the scene's)
    skin = interior(out_mask) & (out_mask == 255)
    assert (out_img[..., 2][skin] > 127).all()


def test_scene_view_is_all_negative_and_untrusted() -> None:
    cfg = _identity_geometry(p_scene=1.0)
    img, mask = blocks(96, 12, seed=3)
    out_img, out_mask, trust = Augmenter(96, cfg, np.random.default_rng(0)).compose(img, mask, None, lambda: _scene(3))
    assert not out_mask.any() and not trust.any()
    assert (out_img[..., 2] < 100).all()  # the scene, not the subject


def test_without_scenes_compose_is_the_plain_view_fully_trusted() -> None:
    cfg = _identity_geometry(p_scene=1.0, p_scene_paste=1.0)
    img, mask = blocks(96, 12, seed=4)
    a = Augmenter(96, cfg, np.random.default_rng(5)).compose(img, mask, None, None)
    b = Augmenter(96, cfg, np.random.default_rng(5))(img, mask)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) and a[2].all()


def test_cutout_alpha_holds_the_skin_and_fades_at_the_border() -> None:
    mask = np.zeros((60, 60), np.uint8)
    mask[20:40, 20:40] = 255
    alpha = A.cutout_alpha(mask)
    assert alpha.dtype == np.float32 and (alpha[25:35, 25:35] == 1.0).all()
    assert alpha[0, 0] == 0.0 and alpha[30, 0] == 0.0  # the square's border is transparent
    assert 0 < alpha[30, 12] < 1  # feathered around the skin
    empty = A.cutout_alpha(np.zeros((60, 60), np.uint8))
    assert empty[30, 30] > 0.5 and empty[0, 0] == 0.0  # no skin: a centred ellipse
