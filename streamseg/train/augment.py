"""Training augmentations on numpy/OpenCV arrays (image BGR uint8 ``(H, W, 3)``, mask uint8 ``(H, W)`` 0/255).

Geometric transforms move image and mask together (one affine warp: random scale and crop with
aspect jitter, small rotation, horizontal flip). Photometric transforms change only the image
and leave the mask as it is, except the occlusion lattice, which also clears the mask under the
lines it draws (a fishnet or watch strap over skin is not skin). The colour transforms follow the
original project, which found them decisive: hue rotation, desaturation and greyscale, contrast
and brightness (including low contrast), sepia / channel swap; plus blur, noise and JPEG
re-compression, since webcam frames are compressed.

Example:
    >>> import numpy as np
    >>> aug = Augmenter(64, AugmentConfig(), np.random.default_rng(0))
    >>> img, mask = aug(np.zeros((80, 80, 3), np.uint8), np.zeros((80, 80), np.uint8))
    >>> img.shape, mask.shape, img.dtype, mask.dtype
    ((64, 64, 3), (64, 64), dtype('uint8'), dtype('uint8'))
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import cv2
import numpy as np


@dataclass
class AugmentConfig:
    """Probabilities and ranges of each augmentation (the ``[augment]`` table of a train config)."""

    crop_scale: tuple[float, float] = (0.45, 1.15)  # crop side / image side (>1 zooms out)
    aspect: tuple[float, float] = (0.5, 2.0)  # crop width/height jitter; 16:9 frames are squashed 1.78x
    rotate_deg: float = 15.0
    p_flip: float = 0.5
    p_hue: float = 0.3
    p_desaturate: float = 0.2
    p_grey: float = 0.1
    p_contrast: float = 0.6
    contrast: tuple[float, float] = (0.35, 1.5)
    brightness: float = 50.0
    p_sepia: float = 0.05
    p_channel_swap: float = 0.1
    p_lattice: float = 0.2
    p_blur: float = 0.2
    p_noise: float = 0.2
    noise_sigma: tuple[float, float] = (2.0, 10.0)
    p_jpeg: float = 0.4
    jpeg_quality: tuple[int, int] = (30, 90)
    p_blank: float = 0.0  # replace the view by a skinless wall (flat colour or gradient), mask all 0
    # real-world failure modes (small faces in groups, darker skin, warm rooms, wide shots)
    p_mosaic: float = 0.0  # tile 2x2 or 3x3 views (4-9 images): small faces, several people
    p_small_subject: float = 0.0  # paste a view at small_subject_area of the frame onto another view
    small_subject_area: tuple[float, float] = (0.05, 0.20)
    p_skin_tone: float = 0.0  # shift the skin pixels darker or lighter in Lab
    skin_tone_dark: float = 0.7  # of the shifts, the share that go darker
    p_white_balance: float = 0.0  # warm (tungsten) or cool white balance
    # scenes without people (the trainer's ``scenes`` folder): hard negatives and backgrounds
    p_scene: float = 0.0  # the view is a scene alone, mask all 0
    p_scene_paste: float = 0.0  # 1..scene_paste_max subjects cut out and pasted onto a scene
    scene_paste_area: tuple[float, float] = (0.03, 0.30)  # each subject's share of the frame
    scene_paste_max: int = 4

    @classmethod
    def from_dict(cls, d: dict) -> "AugmentConfig":
        """Build from a TOML table; unknown keys raise ``KeyError`` naming the key."""
        names = {f.name for f in fields(cls)}
        for k in d:
            if k not in names:
                raise KeyError(k)
        kw = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}
        return cls(**kw)


# ---------------------------------------------------------------------------------------------
# geometric (image and mask together)
# ---------------------------------------------------------------------------------------------


def affine_matrix(
    src_hw: tuple[int, int], size: int, rng: np.random.Generator, cfg: AugmentConfig
) -> np.ndarray:
    """A random 2x3 matrix mapping the source image to a ``size`` x ``size`` crop.

    The crop covers ``crop_scale`` of each side (aspect-jittered), is rotated by up to
    ``rotate_deg`` and flipped horizontally with ``p_flip``.
    """
    h, w = src_hw
    s = rng.uniform(*cfg.crop_scale)
    a = math.exp(rng.uniform(math.log(cfg.aspect[0]), math.log(cfg.aspect[1])))
    cw, ch = w * s * math.sqrt(a), h * s / math.sqrt(a)
    # crop centre: anywhere that keeps the crop inside the image (centred when it cannot)
    cx = rng.uniform(min(cw / 2, w / 2), max(w - cw / 2, w / 2))
    cy = rng.uniform(min(ch / 2, h / 2), max(h - ch / 2, h / 2))
    theta = math.radians(rng.uniform(-cfg.rotate_deg, cfg.rotate_deg))
    flip = -1.0 if rng.random() < cfg.p_flip else 1.0
    sx, sy = size / cw, size / ch
    c, sn = math.cos(theta), math.sin(theta)
    # dst = T(size/2) . diag(flip*sx, sy) . R(theta) . T(-cx, -cy)
    m = np.array([[flip * sx * c, -flip * sx * sn, 0.0], [sy * sn, sy * c, 0.0]])
    m[:, 2] = np.array([size / 2, size / 2]) - m[:, :2] @ np.array([cx, cy])
    return m


def warp(image: np.ndarray, mask: np.ndarray, m: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Apply the 2x3 matrix ``m`` to image (bilinear) and mask (bilinear, re-binarised at 128).

    Borders are mirrored for both, so they stay aligned. Returns ``size`` x ``size`` arrays.
    """
    img = cv2.warpAffine(image, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
    msk = cv2.warpAffine(mask, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
    return img, np.where(msk >= 128, 255, 0).astype(np.uint8)


# ---------------------------------------------------------------------------------------------
# photometric (image only)
# ---------------------------------------------------------------------------------------------


def _lut(image: np.ndarray, table: np.ndarray) -> np.ndarray:
    return cv2.LUT(image, np.clip(table, 0, 255).astype(np.uint8))


def hue_rotate(image: np.ndarray, degrees: float) -> np.ndarray:
    """Rotate the hue by ``degrees`` (HSV, OpenCV's 0-179 hue scale)."""
    hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)
    shift = int(round(degrees / 2)) % 180
    hsv[..., 0] = ((hsv[..., 0].astype(np.int16) + shift) % 180).astype(np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)


def desaturate(image: np.ndarray, amount: float) -> np.ndarray:
    """Blend towards greyscale; ``amount`` 1 = fully grey (still 3 channels)."""
    grey = cv2.cvtColor(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    return cv2.addWeighted(image, 1.0 - amount, grey, amount, 0.0)


def contrast_brightness(image: np.ndarray, contrast: float, brightness: float) -> np.ndarray:
    """``(x - 128) * contrast + 128 + brightness``, clipped; contrast < 1 gives washed-out frames."""
    x = np.arange(256, dtype=np.float32)
    return _lut(image, (x - 128.0) * contrast + 128.0 + brightness)


def sepia(image: np.ndarray) -> np.ndarray:
    """The classic sepia matrix (in BGR order)."""
    k = np.array([[0.131, 0.534, 0.272], [0.168, 0.686, 0.349], [0.189, 0.769, 0.393]], np.float32)
    return np.clip(cv2.transform(image.astype(np.float32), k), 0, 255).astype(np.uint8)


def channel_swap(image: np.ndarray, order: tuple[int, int, int]) -> np.ndarray:
    """Permute the colour channels."""
    return np.ascontiguousarray(image[..., list(order)])


def blur(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Gaussian blur (k 3 or 5) or a short motion blur."""
    if rng.random() < 0.7:
        k = int(rng.choice([3, 5]))
        return cv2.GaussianBlur(image, (k, k), 0)
    k = int(rng.integers(3, 8))
    kernel = np.zeros((k, k), np.float32)
    kernel[k // 2, :] = 1.0 / k
    rot = cv2.getRotationMatrix2D(((k - 1) / 2, (k - 1) / 2), float(rng.uniform(0, 180)), 1.0)
    kernel = cv2.warpAffine(kernel, rot, (k, k))
    kernel /= max(float(kernel.sum()), 1e-6)
    return cv2.filter2D(image, -1, kernel)


def noise(image: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Additive Gaussian noise with standard deviation ``sigma`` (in 0-255 units)."""
    n = rng.normal(0.0, sigma, image.shape).astype(np.float32)
    return np.clip(image.astype(np.float32) + n, 0, 255).astype(np.uint8)


def jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    """Encode and decode as JPEG at ``quality`` (webcam and stream frames are compressed)."""
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR) if ok else image


def lattice(
    image: np.ndarray, mask: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Lay a rotated lattice (fishnet) or a band (watch, bracelet) over part of the image.

    Pixels under the drawn lines get the lattice colour in the image and 0 in the mask.
    Returns new arrays; the inputs are not modified.
    """
    h, w = mask.shape
    layer = np.zeros((h, w), np.uint8)
    diag = int(math.hypot(h, w)) + 2
    angle = rng.uniform(0, math.pi)
    d = np.array([math.cos(angle), math.sin(angle)])
    n = np.array([-d[1], d[0]])
    centre = np.array([rng.uniform(0, w), rng.uniform(0, h)])
    if rng.random() < 0.7:  # fishnet: two families of parallel lines
        spacing = rng.uniform(6, max(8.0, min(h, w) / 6))
        thick = int(rng.integers(1, 3 if spacing < 12 else 4))
        for dirv, nv in ((d, n), (n, -d)):
            for k in range(-int(diag / spacing) - 1, int(diag / spacing) + 2):
                o = centre + nv * k * spacing
                p1, p2 = o - dirv * diag, o + dirv * diag
                cv2.line(layer, tuple(int(v) for v in p1), tuple(int(v) for v in p2), 255, thick)
        # confine the net to a random rotated rectangle (a sleeve, a stocking, a glove)
        region = np.zeros_like(layer)
        rw, rh = rng.uniform(0.3, 1.2) * w, rng.uniform(0.3, 1.2) * h
        box = cv2.boxPoints(((float(centre[0]), float(centre[1])), (rw, rh), math.degrees(rng.uniform(0, math.pi))))
        cv2.fillPoly(region, [box.astype(np.int32)], 255)
        layer &= region
    else:  # a band: watch strap or bracelet
        thick = int(rng.uniform(0.03, 0.12) * min(h, w)) + 1
        p1, p2 = centre - n * diag, centre + n * diag
        cv2.line(layer, tuple(int(v) for v in p1), tuple(int(v) for v in p2), 255, thick)
    if rng.random() < 0.5:
        colour = rng.integers(0, 60, 3)  # dark, like most fishnets and straps
    else:
        colour = rng.integers(0, 256, 3)
    on = layer > 0
    img = image.copy()
    img[on] = colour.astype(np.uint8)
    msk = mask.copy()
    msk[on] = 0
    return img, msk


# ---------------------------------------------------------------------------------------------


def blank_frame(size: int, rng: np.random.Generator) -> np.ndarray:
    """A skinless ``size`` x ``size`` BGR uint8 view: a flat colour or a linear gradient, grey-biased.

    Teaches the models that a textureless wall (grey, white, beige or black) is not skin.
    """
    c0 = rng.uniform(0, 255, 3)
    if rng.random() < 0.5:  # greys and whites: the walls models most often mistake for skin
        c0 = np.full(3, c0[0]) + rng.normal(0, 8, 3)
    c1 = c0 + rng.normal(0, 40, 3) if rng.random() < 0.6 else c0
    t = np.linspace(0.0, 1.0, size, dtype=np.float32)
    angle = rng.uniform(0, 2 * math.pi)
    ramp = np.clip(0.5 + (t[None, :] - 0.5) * math.cos(angle) + (t[:, None] - 0.5) * math.sin(angle), 0, 1)
    img = c0[None, None, :] * (1 - ramp[..., None]) + c1[None, None, :] * ramp[..., None]
    return np.clip(img, 0, 255).astype(np.uint8)


def skin_tone(image: np.ndarray, mask: np.ndarray, lightness: float, chroma: float = 1.0) -> np.ndarray:
    """Shift the skin pixels' tone in Lab: ``L *= lightness``, ``(a, b)`` chroma scaled by ``chroma``.

    image: BGR uint8 (H, W, 3); mask: uint8 (H, W) 0/255. The change is blended by a slightly
    feathered mask so no seam shows at the skin's edge; pixels away from skin are unchanged, and
    the mask itself does not change. ``lightness`` < 1 darkens (0.5 is about two Fitzpatrick types).
    """
    if not mask.any():
        return image
    lab = cv2.cvtColor(image, cv2.COLOR_BGR2LAB).astype(np.float32)
    lab[..., 0] *= lightness
    lab[..., 1:] = 128.0 + (lab[..., 1:] - 128.0) * chroma
    shifted = cv2.cvtColor(np.clip(lab, 0, 255).astype(np.uint8), cv2.COLOR_LAB2BGR).astype(np.float32)
    alpha = cv2.GaussianBlur((mask > 127).astype(np.float32), (0, 0), 1.5)[..., None]
    alpha = np.maximum(alpha, (mask > 127)[..., None].astype(np.float32))
    return np.clip(image * (1 - alpha) + shifted * alpha + 0.5, 0, 255).astype(np.uint8)


def white_balance(image: np.ndarray, gains_bgr: tuple[float, float, float]) -> np.ndarray:
    """Per-channel gains (B, G, R): tungsten light is about ``(0.65, 0.9, 1.1)``, daylight shade cool."""
    table = np.stack([np.clip(np.arange(256) * g, 0, 255) for g in gains_bgr], axis=1).astype(np.uint8)
    out = np.empty_like(image)
    for c in range(3):
        out[..., c] = table[image[..., c], c]
    return out


def random_white_balance(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Warm (tungsten, 2/3 of the draws) or cool white balance of random strength."""
    t = rng.uniform(0.3, 1.0)
    if rng.random() < 2 / 3:
        gains = (1 - 0.4 * t, 1 - 0.08 * t, 1 + 0.12 * t)
    else:
        gains = (1 + 0.15 * t, 1.0, 1 - 0.25 * t)
    return white_balance(image, gains)


def cell_bounds(size: int, n: int) -> list[int]:
    """Pixel edges of ``n`` cells along a side of ``size`` (as even as integers allow)."""
    return [round(i * size / n) for i in range(n + 1)]


def mosaic(views: list[tuple[np.ndarray, np.ndarray]], n: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Tile ``n * n`` (image, mask) pairs row by row into one ``size`` x ``size`` pair.

    Each pair is resized to its cell (INTER_AREA for the image; the mask re-binarised at 128), so a
    3x3 mosaic of portraits has nine faces at a third of their size. Used by training (small
    faces, several people) and by ``streamseg eval --mosaic``.
    """
    if len(views) != n * n:
        raise ValueError(f"mosaic of {n}x{n} needs {n * n} views, got {len(views)}")
    edges = cell_bounds(size, n)
    img = np.zeros((size, size, 3), np.uint8)
    msk = np.zeros((size, size), np.uint8)
    for k, (vi, vm) in enumerate(views):
        r, c = divmod(k, n)
        y0, y1, x0, x1 = edges[r], edges[r + 1], edges[c], edges[c + 1]
        img[y0:y1, x0:x1] = cv2.resize(vi, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)
        m = cv2.resize(vm, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)
        msk[y0:y1, x0:x1] = np.where(m >= 128, 255, 0)
    return img, msk


def paste(background: tuple[np.ndarray, np.ndarray], subject: tuple[np.ndarray, np.ndarray],
          side: int, y: int, x: int) -> tuple[np.ndarray, np.ndarray]:
    """Paste ``subject`` resized to ``side`` x ``side`` at ``(y, x)`` over ``background`` (image, mask).

    The mask is the background's outside the pasted square and the subject's inside it.
    """
    img, msk = background[0].copy(), background[1].copy()
    si = cv2.resize(subject[0], (side, side), interpolation=cv2.INTER_AREA)
    sm = cv2.resize(subject[1], (side, side), interpolation=cv2.INTER_AREA)
    img[y:y + side, x:x + side] = si
    msk[y:y + side, x:x + side] = np.where(sm >= 128, 255, 0)
    return img, msk


def cutout_alpha(mask: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
    """Soft cut-out of a subject around its skin: float32 (H, W) in [0, 1].

    The skin mask grown by about a fifth of the side (hair, neck and clothes around a face come
    along) and feathered, so a pasted subject has no square edge; a view without skin gets a
    centred ellipse (a garment or a background patch, still a negative).
    """
    h, w = mask.shape
    side = max(h, w)
    if mask.any():
        k = max(3, int(side * (0.2 if rng is None else rng.uniform(0.12, 0.3))) | 1)
        grown = cv2.dilate((mask > 127).astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    else:
        grown = np.zeros((h, w), np.uint8)
        cv2.ellipse(grown, (w // 2, h // 2), (max(1, w // 3), max(1, h // 3)), 0, 0, 360, 1, -1)
    alpha = cv2.GaussianBlur(grown.astype(np.float32), (0, 0), max(0.5, side * 0.04))
    alpha = np.maximum(alpha, (mask > 127).astype(np.float32))  # skin itself is opaque...
    # ...except near the view's square border, so a face cut by the crop fades instead of ending
    # in a straight edge (the mask follows: skin under alpha < 0.5 is labelled background)
    ramp_y = np.minimum(np.arange(h), np.arange(h)[::-1]).astype(np.float32) / max(1.0, 0.1 * h)
    ramp_x = np.minimum(np.arange(w), np.arange(w)[::-1]).astype(np.float32) / max(1.0, 0.1 * w)
    taper = np.minimum(np.clip(ramp_y, 0, 1)[:, None], np.clip(ramp_x, 0, 1)[None, :])
    return np.clip(alpha * taper, 0.0, 1.0)


def match_light(subject: np.ndarray, alpha: np.ndarray, scene: np.ndarray, amount: float) -> np.ndarray:
    """Move the subject's mean Lab colour ``amount`` of the way towards the scene's (light and cast).

    subject, scene: BGR uint8; alpha: float32 (H, W) weights of the subject's pixels. Returns BGR uint8.
    """
    lab = cv2.cvtColor(subject, cv2.COLOR_BGR2LAB).astype(np.float32)
    wsum = float(alpha.sum())
    if wsum < 1.0:
        return subject
    mean_s = (lab * alpha[..., None]).reshape(-1, 3).sum(0) / wsum
    mean_b = cv2.cvtColor(scene, cv2.COLOR_BGR2LAB).reshape(-1, 3).astype(np.float32).mean(0)
    shift = amount * (mean_b - mean_s) * np.array([1.0, 0.5, 0.5], np.float32)
    return cv2.cvtColor(np.clip(lab + shift, 0, 255).astype(np.uint8), cv2.COLOR_LAB2BGR)


def paste_cutout(background: tuple[np.ndarray, np.ndarray], subject: tuple[np.ndarray, np.ndarray],
                 y: int, x: int, alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Blend ``subject`` (image, mask) at ``(y, x)`` over ``background`` through ``alpha``.

    Returns (image, mask, region): the mask is the subject's skin where it is pasted (alpha >= 0.5)
    and the background's elsewhere; ``region`` (uint8 0/1) marks the pixels the subject covers
    (alpha > 0.05), where a teacher's soft mask is trusted on a scene.
    """
    img, msk = background[0].copy(), background[1].copy()
    si, sm = subject
    h, w = sm.shape
    a = alpha[..., None]
    roi = img[y:y + h, x:x + w].astype(np.float32)
    img[y:y + h, x:x + w] = np.clip(si.astype(np.float32) * a + roi * (1 - a) + 0.5, 0, 255).astype(np.uint8)
    m = msk[y:y + h, x:x + w]
    msk[y:y + h, x:x + w] = np.where(alpha >= 0.5, np.where(sm > 127, 255, 0), m).astype(np.uint8)
    region = np.zeros(msk.shape, np.uint8)
    region[y:y + h, x:x + w] = alpha > 0.05
    return img, msk, region


class Augmenter:
    """Random training view: ``(image, mask)`` of any size -> ``size`` x ``size`` pair.

    image: BGR uint8 (H, W, 3); mask: uint8 (H, W), 0/255. Returns the same dtypes.
    """

    def __init__(self, size: int, cfg: AugmentConfig, rng: np.random.Generator) -> None:
        self.size = size
        self.cfg = cfg
        self.rng = rng

    def __call__(self, image: np.ndarray, mask: np.ndarray, others=None) -> tuple[np.ndarray, np.ndarray]:
        """One view of ``(image, mask)``; ``others(k)`` returns ``k`` more raw (image, mask) pairs
        for the mosaic and small-subject compositions (no composition when it is ``None``)."""
        img, msk, _ = self.compose(image, mask, others)
        return img, msk

    def compose(self, image: np.ndarray, mask: np.ndarray, others=None, scene=None):
        """As ``__call__``, plus scenes: ``scene()`` returns one raw BGR photo with nobody in it.

        Returns (image, mask, trust): ``trust`` uint8 (size, size) is 1 where a teacher's soft mask
        may be believed and 0 on the scene pixels around pasted subjects (they are known to hold
        no skin, whatever the teacher says).
        """
        cfg, rng = self.cfg, self.rng
        full = np.ones((self.size, self.size), np.uint8)
        if scene is not None and cfg.p_scene > 0 and rng.random() < cfg.p_scene:
            bg = scene()
            img, msk = self.view(bg, np.zeros(bg.shape[:2], np.uint8), self.size, skin=False)
            img, msk = self.photometric(img, msk)
            return img, msk, np.zeros_like(full)
        if scene is not None and cfg.p_scene_paste > 0 and rng.random() < cfg.p_scene_paste:
            bg = scene()
            img, msk = self.view(bg, np.zeros(bg.shape[:2], np.uint8), self.size, skin=False)
            trust = np.zeros_like(full)
            n = int(rng.integers(1, cfg.scene_paste_max + 1))
            subjects = [(image, mask), *(others(n - 1) if others is not None and n > 1 else [])]
            for si, sm in subjects:
                side = max(8, int(round(self.size * math.sqrt(rng.uniform(*cfg.scene_paste_area)))))
                vi, vm = self.view(si, sm, side)
                alpha = cutout_alpha(vm, rng)
                vi = match_light(vi, alpha, img, rng.uniform(0.2, 0.6))
                y, x = (int(rng.integers(0, self.size - side + 1)) for _ in range(2))
                img, msk, region = paste_cutout((img, msk), (vi, vm), y, x, alpha)
                trust |= region
            img, msk = self.photometric(img, msk)
            return img, msk, trust
        if others is not None and cfg.p_mosaic > 0 and rng.random() < cfg.p_mosaic:
            n = 2 if rng.random() < 0.5 else 3
            cell = -(-self.size // n)
            views = [self.view(i, m, cell) for i, m in [(image, mask), *others(n * n - 1)]]
            img, msk = mosaic(views, n, self.size)
        elif others is not None and cfg.p_small_subject > 0 and rng.random() < cfg.p_small_subject:
            side = int(round(self.size * math.sqrt(rng.uniform(*cfg.small_subject_area))))
            (bi, bm), = others(1)
            y, x = (int(rng.integers(0, self.size - side + 1)) for _ in range(2))
            img, msk = paste(self.view(bi, bm, self.size), self.view(image, mask, side), side, y, x)
        else:
            img, msk = self.view(image, mask, self.size)
        img, msk = self.photometric(img, msk)
        return img, msk, full

    def view(self, image: np.ndarray, mask: np.ndarray, size: int, skin: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Geometric view at ``size`` (plus the per-subject skin-tone shift and the blank wall;
        neither for a scene, ``skin=False``)."""
        cfg, rng = self.cfg, self.rng
        img, msk = warp(image, mask, affine_matrix(mask.shape[:2], size, rng, cfg), size)
        if not skin:
            return img, msk
        if cfg.p_blank > 0 and rng.random() < cfg.p_blank:
            return blank_frame(size, rng), np.zeros_like(msk)
        if cfg.p_skin_tone > 0 and rng.random() < cfg.p_skin_tone:
            if rng.random() < cfg.skin_tone_dark:
                img = skin_tone(img, msk, rng.uniform(0.4, 0.8), rng.uniform(0.9, 1.3))
            else:
                img = skin_tone(img, msk, rng.uniform(1.08, 1.3), rng.uniform(0.7, 1.0))
        return img, msk

    def photometric(self, img: np.ndarray, msk: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Colour, occlusion, blur, noise and JPEG on a composed view (the lattice also clears the mask)."""
        cfg, rng = self.cfg, self.rng
        if cfg.p_white_balance > 0 and rng.random() < cfg.p_white_balance:
            img = random_white_balance(img, rng)
        if rng.random() < cfg.p_lattice:
            img, msk = lattice(img, msk, rng)
        if rng.random() < cfg.p_hue:
            img = hue_rotate(img, rng.uniform(-180, 180))
        if rng.random() < cfg.p_grey:
            img = desaturate(img, 1.0)
        elif rng.random() < cfg.p_desaturate:
            img = desaturate(img, rng.uniform(0.3, 0.9))
        if rng.random() < cfg.p_contrast:
            img = contrast_brightness(img, rng.uniform(*cfg.contrast), rng.uniform(-cfg.brightness, cfg.brightness))
        if rng.random() < cfg.p_sepia:
            img = sepia(img)
        elif rng.random() < cfg.p_channel_swap:
            perms = [(0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)]
            img = channel_swap(img, perms[int(rng.integers(len(perms)))])
        if rng.random() < cfg.p_blur:
            img = blur(img, rng)
        if rng.random() < cfg.p_noise:
            img = noise(img, rng.uniform(*cfg.noise_sigma), rng)
        if rng.random() < cfg.p_jpeg:
            img = jpeg(img, int(rng.integers(cfg.jpeg_quality[0], cfg.jpeg_quality[1] + 1)))
        return img, msk
