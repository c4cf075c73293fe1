"""A HUD (text box) sized from the frame, legible in a small window and burnt into recordings.

Example:
    >>> import numpy as np
    >>> img = np.zeros((720, 1280, 3), np.uint8)
    >>> draw_hud(img, ["dlmv", "30.0 fps"])
    >>> bool(img[:40, :200].any()), bool(img[300:].any())
    (True, False)
"""

from __future__ import annotations

import cv2
import numpy as np

FONT = cv2.FONT_HERSHEY_SIMPLEX


def hud_scale(height: int, width: int) -> float:
    """Font scale: 0.7 at 720 rows, proportional to the shorter side, never below 0.35."""
    return max(0.35, 0.7 * min(height, width * 9 / 16) / 720)


def hud_lines(
    fps: float | None = None,
    latency_ms: float | None = None,
    method: str | None = None,
    provider: str | None = None,
    skin_fraction: float | None = None,
    extra: tuple[str, ...] = (),
) -> list[str]:
    """The HUD's text: whichever of method, provider, fps/latency and skin fraction are given."""
    lines = []
    if method:
        lines.append(f"method: {method}")
    if provider:
        lines.append(f"provider: {provider}")
    rate = []
    if fps is not None:
        rate.append(f"{fps:5.1f} fps")
    if latency_ms is not None:
        rate.append(f"latency {latency_ms:5.1f} ms")
    if rate:
        lines.append("  ".join(rate))
    if skin_fraction is not None:
        lines.append(f"skin {100 * skin_fraction:5.1f} %")
    return lines + list(extra)


def draw_hud(image: np.ndarray, lines: list[str], scale: float | None = None) -> None:
    """Draw ``lines`` in a darkened box in the top-left corner of ``image``, in place.

    Args:
        image: BGR uint8 (H, W, 3) or BGRA uint8 (H, W, 4); in BGRA the box is made opaque so
            the HUD shows in a cut-out.
        lines: text lines (ASCII).
        scale: font scale (default :func:`hud_scale` of the image size).
    """
    if not lines:
        return
    h_img, w_img = image.shape[:2]
    s = scale or hud_scale(h_img, w_img)
    thick = max(1, round(2 * s))
    pad = max(3, round(10 * s))
    sizes = [cv2.getTextSize(t, FONT, s, thick) for t in lines]
    line_h = max(sz[1] + base for sz, base in sizes) + pad // 2
    w = min(w_img, max(sz[0] for sz, _ in sizes) + 2 * pad)
    h = min(h_img, line_h * len(lines) + pad)
    roi = image[:h, :w]
    roi[..., :3] = (roi[..., :3] * 0.35).astype(np.uint8)
    if image.shape[2] == 4:
        roi[..., 3] = 255
    colour = (255, 255, 255, 255) if image.shape[2] == 4 else (255, 255, 255)
    y = pad // 2
    for text, (sz, base) in zip(lines, sizes):
        y += line_h
        cv2.putText(image, text, (pad, y - base - pad // 4), FONT, s, colour, thick, cv2.LINE_AA)


def burn_hud(picture: np.ndarray, lines: list[str]) -> np.ndarray:
    """A copy of ``picture`` with ``lines`` drawn by :func:`draw_hud` (the pictures a run renders
    are shared by its sinks: never draw on them). A grey (H, W) picture becomes BGR, so the box
    and its text show."""
    import cv2

    out = cv2.cvtColor(picture, cv2.COLOR_GRAY2BGR) if picture.ndim == 2 else picture.copy()
    draw_hud(out, lines)
    return out
