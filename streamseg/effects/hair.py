"""``-T hair``: the person mask minus the skin mask (saturated subtraction).

What is left of the person is hair, and also clothes and anything held; the person mask
comes from MediaPipe's selfie segmentation, shipped as ONNX (``person-selfie-256.onnx``).

Example:
    >>> import numpy as np
    >>> person = np.array([[1.0, 1.0, 0.0]], np.float32)
    >>> skin = np.array([[0.0, 1.0, 1.0]], np.float32)
    >>> hair(person, skin).tolist()
    [[1.0, 0.0, 0.0]]
"""

from __future__ import annotations

import cv2
import numpy as np

from streamseg.effects.base import Effect


def _as_float(mask: np.ndarray) -> np.ndarray:
    if mask.dtype == np.bool_:
        return mask.astype(np.float32)
    if mask.dtype == np.uint8:
        return mask.astype(np.float32) * np.float32(1 / 255)
    return mask.astype(np.float32, copy=False)


def hair(person: np.ndarray, skin: np.ndarray) -> np.ndarray:
    """``clip(person - skin, 0, 1)``.

    Args:
        person: person probability or mask (H, W), float32 in [0, 1] (bool / uint8 0-255 too).
        skin: skin probability or mask (H, W), same kinds.

    Returns:
        float32 (H, W) in [0, 1].
    """
    if person.shape != skin.shape:
        raise ValueError(f"person mask {person.shape} and skin mask {skin.shape} differ in size")
    return np.clip(_as_float(person) - _as_float(skin), 0.0, 1.0)


def hair_mask_image(person: np.ndarray, skin: np.ndarray) -> np.ndarray:
    """BGR uint8 (H, W, 3): 255 where :func:`hair` is >= 0.5, else 0 (like ``-T mask``)."""
    if person.shape != skin.shape:
        raise ValueError(f"person mask {person.shape} and skin mask {skin.shape} differ in size")
    d = cv2.subtract(_as_float(person), _as_float(skin))  # float: no saturation needed before >= 0.5
    g = cv2.compare(d, 0.5, cv2.CMP_GE)
    return cv2.cvtColor(g, cv2.COLOR_GRAY2BGR)


class HairEffect(Effect):
    """``-T hair``: BGR 0/255, where the person (``person_of`` of the frame: the shipped person
    model) is and the skin is not."""

    name, summary, needs_person = "hair", "person mask minus skin mask (0/255)", True

    def render(self, frame: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return hair_mask_image(self.person_of(frame), mask)
