"""Pseudo-videos with ground truth: one image and its skin mask moved together, frame by frame.

Each frame warps the image and the mask with the same smooth affine motion (pan, zoom, rotation),
then degrades only the image the way a camera does: brightness drift, per-frame Gaussian sensor
noise and JPEG re-encoding. Every frame therefore has an exact mask, and any change between
consecutive predicted masks that the true masks do not share is flicker.

Optionally a *skin patch* (the most skin-covered square of the image, with its own mask) is
pasted abruptly onto the least skin-covered part of the scene at ``patch_on`` and removed at
``patch_off``: a step change like a hand entering and leaving, for measuring lag.

Example:
    >>> import numpy as np
    >>> img = np.full((48, 64, 3), 90, np.uint8); mask = np.zeros((48, 64), bool); mask[10:30, 20:40] = True
    >>> video = make_pseudo_video(img, mask, PseudoVideoOptions(frames=5, seed=1))
    >>> len(video.frames), video.frames[0].shape, video.masks[0].dtype
    (5, (48, 64, 3), dtype('bool'))
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterator

import cv2
import numpy as np


@dataclass
class PseudoVideoOptions:
    """How a pseudo-video moves and degrades.

    frames: number of frames. max_side: the image is downscaled so its longer side is at most
    this (0 = keep); sizes are cropped to even numbers for video encoders.
    pan: peak translation, fraction of the frame size. zoom: peak relative scale change.
    rotate: peak rotation in degrees. period: frames per motion cycle (the motion is a sum of
    sinusoids with random phases, so it is smooth and never stops at once).
    noise: standard deviation of the per-frame Gaussian sensor noise (grey levels).
    drift: peak relative brightness change. jpeg: JPEG quality of the per-frame re-encoding
    (0 = none). patch_on / patch_off: frame where the skin patch appears / disappears (``None``
    = never). patch_size: side of the patch, fraction of the shorter image side. seed: RNG seed.
    """

    frames: int = 60
    max_side: int = 0
    pan: float = 0.05
    zoom: float = 0.06
    rotate: float = 3.0
    period: float = 80.0
    noise: float = 3.0
    drift: float = 0.08
    jpeg: int = 80
    patch_on: int | None = None
    patch_off: int | None = None
    patch_size: float = 0.3
    seed: int = 0


@dataclass
class PseudoVideo:
    """A generated clip: frames BGR uint8 (H, W, 3); masks bool (H, W), the truth of each frame;
    patch bool (H, W) per frame, where the skin patch's skin is (also while hidden: the region a
    step change moves); patch_on / patch_off as in the options (``None`` without a patch)."""

    frames: list[np.ndarray] = field(default_factory=list)
    masks: list[np.ndarray] = field(default_factory=list)
    patch: list[np.ndarray] = field(default_factory=list)
    patch_on: int | None = None
    patch_off: int | None = None


def _prepare(image: np.ndarray, mask: np.ndarray, max_side: int) -> tuple[np.ndarray, np.ndarray]:
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected a BGR uint8 image (H, W, 3), got {image.dtype} {image.shape}")
    if mask.shape != image.shape[:2]:
        raise ValueError(f"mask {mask.shape} and image {image.shape[:2]} sizes differ")
    mask = mask.astype(bool)
    h, w = mask.shape
    if max_side and max(h, w) > max_side:
        s = max_side / max(h, w)
        size = (max(2, round(w * s)), max(2, round(h * s)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        mask = cv2.resize(mask.astype(np.uint8) * 255, size, interpolation=cv2.INTER_AREA) > 127
    h, w = mask.shape
    h2, w2 = h - h % 2, w - w % 2
    if h2 < 2 or w2 < 2:
        raise ValueError(f"image too small for a pseudo-video: {w}x{h}")
    return np.ascontiguousarray(image[:h2, :w2]), np.ascontiguousarray(mask[:h2, :w2])


def _box_means(mask: np.ndarray, side: int) -> np.ndarray:
    """Skin fraction of every side x side window, indexed by its top-left corner."""
    ii = cv2.integral(mask.astype(np.uint8))
    s = ii[side:, side:] - ii[:-side, side:] - ii[side:, :-side] + ii[:-side, :-side]
    return s / float(side * side)


def skin_patch(image: np.ndarray, mask: np.ndarray, size: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Paste the image's most skin-covered square onto its least skin-covered one.

    Returns (image with the patch, mask with the patch, patch region bool (H, W)).
    Raises ValueError when the image has too little skin (< 20 % in the best square).
    """
    h, w = mask.shape
    side = max(2, round(size * min(h, w)))
    frac = _box_means(mask, side)
    sy, sx = np.unravel_index(np.argmax(frac), frac.shape)
    if frac[sy, sx] < 0.2:
        raise ValueError("the mask has too little skin for a skin patch (< 20 % in the best square)")
    # among the least skin-covered squares, the one nearest the centre (so motion keeps it in view)
    yy, xx = np.mgrid[0 : frac.shape[0], 0 : frac.shape[1]]
    dist = np.hypot(yy - frac.shape[0] / 2, xx - frac.shape[1] / 2) / max(frac.shape)
    dy, dx = np.unravel_index(np.argmin(frac + 0.1 * dist), frac.shape)
    alpha = mask[sy : sy + side, sx : sx + side]
    region = np.zeros_like(mask)
    region[dy : dy + side, dx : dx + side] = alpha
    img2 = image.copy()
    img2[region] = image[sy : sy + side, sx : sx + side][alpha]
    return img2, mask | region, region


def iter_pseudo_video(image: np.ndarray, mask: np.ndarray, options: PseudoVideoOptions | None = None) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Yield (frame BGR uint8 (H, W, 3), true mask bool (H, W), patch region bool (H, W)) per frame.

    ``image`` is BGR uint8 (H, W, 3), ``mask`` bool (H, W) (True = skin); see
    :class:`PseudoVideoOptions`. Deterministic for a given seed.
    """
    o = options or PseudoVideoOptions()
    if o.frames < 1:
        raise ValueError(f"frames must be >= 1, got {o.frames}")
    image, mask = _prepare(image, mask, o.max_side)
    h, w = mask.shape
    rng = np.random.default_rng(o.seed)
    use_patch = o.patch_on is not None
    if use_patch:
        img_p, mask_p, region = skin_patch(image, mask, o.patch_size)
    else:
        img_p, mask_p, region = image, mask, np.zeros_like(mask)
    off = o.patch_off if o.patch_off is not None else o.frames
    phases = rng.uniform(0, 2 * math.pi, 6)
    centre = (w / 2.0, h / 2.0)
    for t in range(o.frames):
        a = 2 * math.pi * t / o.period
        tx = o.pan * w * (0.7 * math.sin(a + phases[0]) + 0.3 * math.sin(2.3 * a + phases[1]))
        ty = o.pan * h * (0.7 * math.sin(0.8 * a + phases[2]) + 0.3 * math.sin(1.9 * a + phases[3]))
        # zoom in by at least 1 + zoom/2 so reflected borders stay rare
        scale = 1.0 + o.zoom * (1.0 + 0.5 * math.sin(1.3 * a + phases[4]))
        angle = o.rotate * math.sin(0.9 * a + phases[5])
        m = cv2.getRotationMatrix2D(centre, angle, scale)
        m[:, 2] += (tx, ty)
        shown = use_patch and o.patch_on <= t < off
        src_img, src_mask = (img_p, mask_p) if shown else (image, mask)
        frame = cv2.warpAffine(src_img, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
        truth = cv2.warpAffine(src_mask.astype(np.uint8) * 255, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101) > 127
        patch = (
            cv2.warpAffine(region.astype(np.uint8) * 255, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101) > 127
            if use_patch
            else np.zeros((h, w), bool)
        )
        gain = 1.0 + o.drift * math.sin(0.6 * a + phases[0] + 1.0)
        noisy = frame.astype(np.float32) * gain
        if o.noise > 0:
            noisy += rng.standard_normal(frame.shape, dtype=np.float32) * o.noise
        frame = np.clip(noisy + 0.5, 0, 255).astype(np.uint8)
        if o.jpeg:
            ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, int(o.jpeg)])
            frame = cv2.imdecode(buf, cv2.IMREAD_COLOR)
        yield frame, truth, patch


def make_pseudo_video(image: np.ndarray, mask: np.ndarray, options: PseudoVideoOptions | None = None) -> PseudoVideo:
    """All frames of :func:`iter_pseudo_video` in memory (keep them small: use ``max_side``)."""
    o = options or PseudoVideoOptions()
    video = PseudoVideo(patch_on=o.patch_on, patch_off=o.patch_off if o.patch_on is not None else None)
    for frame, truth, patch in iter_pseudo_video(image, mask, o):
        video.frames.append(frame)
        video.masks.append(truth)
        video.patch.append(patch)
    return video
