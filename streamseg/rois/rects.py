"""Rotated regions of interest as MediaPipe computes them: crops into model tensors, projection
back to the frame, palm and landmark rectangles, and the association of tracked hands.

A :class:`NormRect` is MediaPipe's ``NormalizedRect``: centre, size (normalised by the frame's
width and height) and a rotation in radians. :func:`crop` samples it into a model's square input
the way ``ImageToTensorCalculator`` does on the CPU (``cv2.warpPerspective``, bilinear, the
rectangle's corners onto the tensor's corners), and :func:`project` maps points of that tensor
back into the frame. The rectangle rules (``DetectionsToRectsCalculator``,
``RectTransformationCalculator``, ``HandLandmarksToRectCalculator``,
``AssociationNormRectCalculator``) follow MediaPipe's hand-tracking graph.

Example:
    >>> r = full_frame_rect(1280, 720, keep_aspect=True)
    >>> round(r.w, 4), round(r.h, 4)
    (1.0, 1.7778)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import cv2
import numpy as np


@dataclass(frozen=True)
class NormRect:
    """Centre ``(cx, cy)`` and size ``(w, h)`` normalised by the frame's width and height, and a
    rotation in radians (clockwise on the image, as MediaPipe's)."""

    cx: float
    cy: float
    w: float
    h: float
    rotation: float = 0.0


def normalize_radians(angle: float) -> float:
    """``angle`` wrapped into [-pi, pi)."""
    return angle - 2 * math.pi * math.floor((angle + math.pi) / (2 * math.pi))


def full_frame_rect(width: int, height: int, keep_aspect: bool, tensor_aspect: float = 1.0) -> NormRect:
    """The whole frame as a rectangle; with ``keep_aspect`` grown around its centre to the tensor's
    aspect (``tensor_h / tensor_w``), so the frame is letterboxed, not squashed."""
    if not keep_aspect:
        return NormRect(0.5, 0.5, 1.0, 1.0)
    frame_aspect = height / width
    if tensor_aspect > frame_aspect:
        return NormRect(0.5, 0.5, 1.0, tensor_aspect * width / height)
    return NormRect(0.5, 0.5, height / tensor_aspect / width, 1.0)


def square_long(rect: NormRect, width: int, height: int) -> NormRect:
    """``rect`` grown to a square in pixels (its long side), centre and rotation kept."""
    side = max(rect.w * width, rect.h * height)
    return replace(rect, w=side / width, h=side / height)


def _corners_px(rect: NormRect, width: int, height: int) -> np.ndarray:
    """The rectangle's corners in pixels, in ``cv2.boxPoints`` order (bottom-left first)."""
    box = ((rect.cx * width, rect.cy * height), (rect.w * width, rect.h * height), math.degrees(rect.rotation))
    return cv2.boxPoints(box).astype(np.float32)


def crop(image: np.ndarray, rect: NormRect, size: int, border: str = "zero") -> np.ndarray:
    """Sample ``rect`` of ``image`` (H, W, C uint8) into a ``size`` x ``size`` tensor image.

    The rectangle's corners go onto the output's corners (bilinear, the image edge ``border``:
    ``"zero"`` or ``"replicate"``), as MediaPipe's CPU ``ImageToTensorCalculator`` does.
    """
    h, w = image.shape[:2]
    src = _corners_px(rect, w, h)
    dst = np.array([[0, size], [0, 0], [size, 0], [size, size]], np.float32)
    m = cv2.getPerspectiveTransform(src, dst)
    mode = cv2.BORDER_CONSTANT if border == "zero" else cv2.BORDER_REPLICATE
    return cv2.warpPerspective(image, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=mode, borderValue=0)


def project(points: np.ndarray, rect: NormRect) -> np.ndarray:
    """Points (..., 2) normalised to a crop of ``rect`` -> normalised to the frame.

    Assumes the crop was taken with the rectangle's own aspect (no letterbox inside it).
    """
    p = np.asarray(points, np.float64)
    x, y = p[..., 0] - 0.5, p[..., 1] - 0.5
    c, s = math.cos(rect.rotation), math.sin(rect.rotation)
    out = np.empty_like(p)
    out[..., 0] = (c * x - s * y) * rect.w + rect.cx
    out[..., 1] = (s * x + c * y) * rect.h + rect.cy
    return out


def project_letterboxed(points: np.ndarray, rect: NormRect, width: int, height: int) -> np.ndarray:
    """Points (..., 2) normalised to a tensor of ``rect`` (no rotation) -> normalised to the frame.

    For a ``full_frame_rect(keep_aspect=True)`` this is MediaPipe's letterbox removal.
    """
    p = np.asarray(points, np.float64)
    out = np.empty_like(p)
    out[..., 0] = (p[..., 0] - 0.5) * rect.w + rect.cx
    out[..., 1] = (p[..., 1] - 0.5) * rect.h + rect.cy
    return out


def rotation_between(p0: np.ndarray, p1: np.ndarray, width: int, height: int, target: float = math.pi / 2) -> float:
    """The rotation that turns the vector ``p0 -> p1`` (normalised points) to ``target`` radians."""
    x0, y0 = p0[0] * width, p0[1] * height
    x1, y1 = p1[0] * width, p1[1] * height
    return normalize_radians(target - math.atan2(-(y1 - y0), x1 - x0))


def transform(rect: NormRect, width: int, height: int, scale: float, shift_y: float, shift_x: float = 0.0,
              make_square: bool = True) -> NormRect:
    """MediaPipe's ``RectTransformationCalculator``: shift along the rotated axes (fractions of
    the size), square on the long side, scale."""
    w, h, r = rect.w, rect.h, rect.rotation
    if r == 0.0:
        cx, cy = rect.cx + w * shift_x, rect.cy + h * shift_y
    else:
        cx = rect.cx + (width * w * shift_x * math.cos(r) - height * h * shift_y * math.sin(r)) / width
        cy = rect.cy + (width * w * shift_x * math.sin(r) + height * h * shift_y * math.cos(r)) / height
    if make_square:
        side = max(w * width, h * height)
        w, h = side / width, side / height
    return NormRect(cx, cy, w * scale, h * scale, r)


def palm_rect(box: np.ndarray, keypoints: np.ndarray, width: int, height: int) -> NormRect:
    """The hand region from a palm detection (normalised to the frame): the palm box rotated so
    the wrist -> middle-finger knuckle line points up, shifted towards the fingers and grown
    2.6 times, square (MediaPipe's ``PalmDetectionDetectionToRoi``)."""
    x0, y0, x1, y1 = (float(v) for v in box)
    rot = rotation_between(keypoints[0], keypoints[2], width, height)
    raw = NormRect((x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0, rot)
    return transform(raw, width, height, scale=2.6, shift_y=-0.5)


#: hand landmarks the rotation of the next crop is measured on
WRIST, INDEX_MCP, MIDDLE_MCP, RING_MCP = 0, 5, 9, 13
#: the landmarks that move least between frames (wrist, thumb base, knuckles and middle joints,
#: no finger tips): the next crop is fitted to them, then grown
STABLE = (0, 1, 2, 3, 5, 6, 9, 10, 13, 14, 17, 18)


def landmarks_rect(points: np.ndarray, width: int, height: int) -> NormRect:
    """The next frame's hand region from 21 landmarks (normalised to the frame; MediaPipe's
    ``HandLandmarksToRectCalculator`` on the :data:`STABLE` subset, then
    ``RectTransformationCalculator`` scale 2, shift -0.1)."""
    full = np.asarray(points, np.float64)[:, :2]
    p = full[list(STABLE)]
    mid = ((full[INDEX_MCP] + full[RING_MCP]) / 2 + full[MIDDLE_MCP]) / 2
    rot = rotation_between(full[WRIST], mid, width, height)
    reverse = normalize_radians(-rot)
    lo, hi = p.min(0), p.max(0)
    centre = (lo + hi) / 2
    d = (p - centre) * [width, height]
    c, s = math.cos(reverse), math.sin(reverse)
    proj = np.stack([d[:, 0] * c - d[:, 1] * s, d[:, 0] * s + d[:, 1] * c], -1)
    plo, phi = proj.min(0), proj.max(0)
    pc = (plo + phi) / 2
    c, s = math.cos(rot), math.sin(rot)
    cx = (pc[0] * c - pc[1] * s + width * centre[0]) / width
    cy = (pc[0] * s + pc[1] * c + height * centre[1]) / height
    raw = NormRect(cx, cy, (phi[0] - plo[0]) / width, (phi[1] - plo[1]) / height, rot)
    return transform(raw, width, height, scale=2.0, shift_y=-0.1)


def rect_iou(a: NormRect, b: NormRect) -> float:
    """IoU of the axis-aligned boxes of two rectangles (rotation ignored, as MediaPipe's association)."""
    ax0, ay0, ax1, ay1 = a.cx - a.w / 2, a.cy - a.h / 2, a.cx + a.w / 2, a.cy + a.h / 2
    bx0, by0, bx1, by1 = b.cx - b.w / 2, b.cy - b.h / 2, b.cx + b.w / 2, b.cy + b.h / 2
    iw, ih = min(ax1, bx1) - max(ax0, bx0), min(ay1, by1) - max(ay0, by0)
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    union = a.w * a.h + b.w * b.h - inter
    return inter / union if union > 0 else 0.0


def associate(*groups: list[NormRect], threshold: float = 0.5) -> list[NormRect]:
    """Merge rectangle lists, later ones winning: each rectangle replaces those already taken
    that overlap it by IoU > ``threshold`` (MediaPipe's ``AssociationNormRectCalculator``)."""
    out: list[NormRect] = []
    for group in groups:
        for r in group:
            out = [o for o in out if rect_iou(r, o) <= threshold]
            out.append(r)
    return out
