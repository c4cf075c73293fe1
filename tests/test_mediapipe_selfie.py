"""The ``mediapipe`` method (MediaPipe selfie segmentation, the bundled TFLite model)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from streamseg.errors import ConfigError
from streamseg.segment import MethodOptions, create, list_methods
from streamseg.segment.mediapipe_selfie import MediaPipeSelfie

if MediaPipeSelfie.unavailable_reason() is not None:
    pytest.skip(f"mediapipe unavailable: {MediaPipeSelfie.unavailable_reason()}", allow_module_level=True)


@pytest.fixture(scope="module")
def seg():
    s = create("mediapipe")
    yield s
    s.close()


def test_registered_and_listed(seg):
    assert isinstance(seg, MediaPipeSelfie) and seg.name == "mediapipe" and seg.kind == "model"
    row = next(r for r in list_methods() if r.name == "mediapipe")
    assert row.reason is None and "person" in row.description


@pytest.mark.parametrize("hw", [(240, 320), (37, 91), (480, 270)])
def test_output_contract(seg, hw):
    frame = np.random.default_rng(0).integers(0, 256, (*hw, 3), dtype=np.uint8)
    prob = seg(frame)
    assert prob.shape == hw and prob.dtype == np.float32
    assert np.isfinite(prob).all() and prob.min() >= 0 and prob.max() <= 1


def test_blank_frame_has_no_person(seg):
    assert seg(np.zeros((256, 256, 3), np.uint8)).max() < 0.5


def test_output_depends_on_content(seg):
    """A drawn head-and-shoulders silhouette scores higher inside than the flat background around it."""
    frame = np.full((256, 256, 3), (40, 120, 40), np.uint8)
    cv2.ellipse(frame, (128, 110), (45, 58), 0, 0, 360, (120, 150, 200), -1)
    cv2.ellipse(frame, (128, 260), (110, 80), 0, 0, 360, (90, 60, 40), -1)
    blank = seg(np.full((256, 256, 3), (40, 120, 40), np.uint8))
    prob = seg(frame)
    assert not np.allclose(prob, blank)


def test_close_then_use_restarts(seg):
    seg.close()
    assert seg(np.zeros((20, 30, 3), np.uint8)).shape == (20, 30)


def test_landscape_model_and_bad_selection():
    s = MediaPipeSelfie(MethodOptions(extra={"model_selection": 1}))
    assert s(np.zeros((144, 256, 3), np.uint8)).shape == (144, 256)
    s.close()
    with pytest.raises(ConfigError, match="model_selection"):
        MediaPipeSelfie(MethodOptions(extra={"model_selection": 2}))


def test_rejects_bad_frame(seg):
    with pytest.raises(ValueError):
        seg(np.zeros((10, 10), np.uint8))
