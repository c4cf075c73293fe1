"""The pseudo-video generator and the ``streamseg pseudo-video`` command, on small synthetic images."""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from streamseg.smooth.pseudo_video import PseudoVideoOptions, make_pseudo_video, skin_patch


def scene(h: int = 60, w: int = 80) -> tuple[np.ndarray, np.ndarray]:
    """A skin-coloured ellipse (mask True) on a blue textured background."""
    rng = np.random.default_rng(0)
    mask = np.zeros((h, w), np.uint8)
    cv2.ellipse(mask, (w // 2, h // 2), (w // 5, h // 3), 20, 0, 360, 1, -1)
    img = np.empty((h, w, 3), np.uint8)
    img[:] = (200, 80, 40)
    img[mask.astype(bool)] = (120, 150, 210)
    img = np.clip(img.astype(int) + rng.integers(-10, 10, img.shape), 0, 255).astype(np.uint8)
    return img, mask.astype(bool)


def test_masks_follow_the_image() -> None:
    img, mask = scene()
    video = make_pseudo_video(img, mask, PseudoVideoOptions(frames=12, noise=0, jpeg=0, drift=0, pan=0.1, zoom=0.1, rotate=10, period=12))
    moved = 0
    for frame, truth in zip(video.frames, video.masks):
        assert frame.shape == (60, 80, 3) and frame.dtype == np.uint8 and truth.dtype == bool
        # skin pixels are red-dominant, background blue: the true mask matches the colour
        # everywhere except on a thin band at the interpolated edge
        reddish = frame[..., 2].astype(int) > frame[..., 0].astype(int)
        assert np.mean(reddish == truth) > 0.97
        moved += not np.array_equal(truth, video.masks[0])
    assert moved >= 10  # the scene really moves


def test_degradations_and_determinism() -> None:
    img, mask = scene()
    opts = PseudoVideoOptions(frames=4, pan=0, zoom=0, rotate=0, drift=0, noise=5.0, jpeg=70, seed=3)
    a, b = make_pseudo_video(img, mask, opts), make_pseudo_video(img, mask, opts)
    for fa, fb in zip(a.frames, b.frames):
        np.testing.assert_array_equal(fa, fb)
    # still camera: the mask is the same in every frame, the pixels are not (noise + JPEG)
    assert all(np.array_equal(m, a.masks[0]) for m in a.masks)
    assert not np.array_equal(a.frames[0], a.frames[1])
    diff = np.abs(a.frames[0].astype(int) - a.frames[1].astype(int))
    assert 1.0 < diff.mean() < 12.0
    c = make_pseudo_video(img, mask, PseudoVideoOptions(frames=2, pan=0, zoom=0, rotate=0, drift=0, noise=5.0, jpeg=70, seed=4))
    assert not np.array_equal(a.frames[0], c.frames[0])


def test_brightness_drift() -> None:
    img, mask = scene()
    video = make_pseudo_video(img, mask, PseudoVideoOptions(frames=40, pan=0, zoom=0, rotate=0, noise=0, jpeg=0, drift=0.2, period=40))
    means = [f.mean() for f in video.frames]
    assert max(means) / min(means) > 1.2


def test_skin_patch_step() -> None:
    img, mask = scene()
    video = make_pseudo_video(img, mask, PseudoVideoOptions(frames=9, patch_on=3, patch_off=6, pan=0, zoom=0, rotate=0, noise=0, jpeg=0))
    sizes = [int(m.sum()) for m in video.masks]
    assert sizes[0] == sizes[2] < sizes[3] == sizes[5] and sizes[6] == sizes[0]
    # the patch region is reported in every frame, and its skin is exactly what was added
    for t in range(9):
        assert video.patch[t].any()
        added = video.masks[t] & ~video.masks[0]
        if 3 <= t < 6:
            np.testing.assert_array_equal(added, video.patch[t] & ~video.masks[0])
        else:
            assert not added.any()
    assert (video.patch_on, video.patch_off) == (3, 6)


def test_skin_patch_needs_skin() -> None:
    img, _ = scene()
    with pytest.raises(ValueError, match="too little skin"):
        skin_patch(img, np.zeros(img.shape[:2], bool), 0.3)


def test_sizes_and_bad_inputs() -> None:
    img, mask = scene(61, 83)
    v = make_pseudo_video(img, mask, PseudoVideoOptions(frames=1))
    assert v.frames[0].shape == (60, 82, 3)  # even sizes for video encoders
    v = make_pseudo_video(img, mask, PseudoVideoOptions(frames=1, max_side=40))
    assert max(v.frames[0].shape[:2]) <= 40
    with pytest.raises(ValueError, match="sizes differ"):
        make_pseudo_video(img, mask[:-1], PseudoVideoOptions(frames=1))


def test_command(tmp_path: Path) -> None:
    from streamseg.cli import app

    img, mask = scene()
    cv2.imwrite(str(tmp_path / "img.png"), img)
    cv2.imwrite(str(tmp_path / "mask.png"), mask.astype(np.uint8) * 255)
    runner = CliRunner()
    args = ["pseudo-video", str(tmp_path / "img.png"), str(tmp_path / "mask.png"), "-o", str(tmp_path / "pv.mp4"), "-n", "8", "--patch-on", "3"]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    with av.open(str(tmp_path / "pv.mp4")) as c:
        frames = [f.to_ndarray(format="bgr24") for f in c.decode(video=0)]
    assert len(frames) == 8 and frames[0].shape == (60, 80, 3)
    with np.load(tmp_path / "pv_masks.npz") as z:
        masks, patch, on, off = z["masks"], z["patch"], int(z["patch_on"]), int(z["patch_off"])
    assert masks.shape == (8, 60, 80) and masks.dtype == bool and patch.shape == masks.shape and (on, off) == (3, 8)
    expected = make_pseudo_video(img, mask, PseudoVideoOptions(frames=8, patch_on=3))
    np.testing.assert_array_equal(masks, np.stack(expected.masks))
    # a mask video instead of the .npz: lossless, so it thresholds back to the same masks
    args2 = [*args[:4], str(tmp_path / "pv2.mp4"), "-n", "8", "--masks", str(tmp_path / "m.mkv")]
    assert runner.invoke(app, args2).exit_code == 0
    with av.open(str(tmp_path / "m.mkv")) as c:
        back = np.stack([f.to_ndarray(format="gray") > 127 for f in c.decode(video=0)])
    np.testing.assert_array_equal(back, np.stack(make_pseudo_video(img, mask, PseudoVideoOptions(frames=8)).masks))
    # existing output, bad patch order, missing file: one-line errors with exit code 2
    for bad in (args, [*args, "--patch-off", "2", "-y"], ["pseudo-video", str(tmp_path / "no.png"), str(tmp_path / "mask.png"), "-o", str(tmp_path / "x.mp4")]):
        res = runner.invoke(app, bad)
        assert res.exit_code != 0
