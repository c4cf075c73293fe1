"""Face detection and hands for labelling regions: MediaPipe's models on ONNX Runtime.

:class:`OnnxDetectors` runs the face detector, palm detector and hand landmark model that
mediapipe 0.10.21 bundles, converted to ONNX and shipped with streamseg
(:mod:`streamseg.rois.blaze`), on CUDA when it works, else on the CPU; mediapipe is not needed.
Hands also give 21 landmarks, handedness and (through :mod:`streamseg.rois.gestures`) a
gesture. If the models cannot load, :func:`load_detectors` warns once and returns ``None``: the
ROI stage then labels every region ``skin``. :class:`MediaPipeDetectors` runs the same models
through ``mp.solutions`` where mediapipe is installed (the parity tests compare the two).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import cv2
import numpy as np

from streamseg import log
from streamseg.rois.boxes import covered, iou
from streamseg.rois.gestures import classify_gesture


@dataclass
class Detection:
    """One face or hand found by MediaPipe, in pixels of the frame it was found in.

    box: float64 (4,) ``x0, y0, x1, y1``. landmarks: float64 (21, 3) ``x, y, z`` in pixels
    (z: depth relative to the wrist, same scale as x; hands only). world: (21, 3) metres
    (hands only). handedness: ``left``/``right`` from the person's point of view.
    """

    label: str  # "face" | "hand"
    box: np.ndarray
    score: float
    landmarks: np.ndarray | None = None
    world: np.ndarray | None = None
    handedness: str | None = None
    gesture: str | None = None


def _hand_box(points: np.ndarray, width: int, height: int, pad: float = 0.12) -> np.ndarray:
    """Box around the landmarks, padded because landmarks sit on joints, not on the skin's edge."""
    x0, y0 = points[:, 0].min(), points[:, 1].min()
    x1, y1 = points[:, 0].max(), points[:, 1].max()
    p = pad * max(x1 - x0, y1 - y0)
    return np.array([max(x0 - p, 0.0), max(y0 - p, 0.0), min(x1 + p, width), min(y1 + p, height)])


def suppress_duplicates(dets: list[Detection], max_iou: float = 0.5, max_inside: float = 0.7) -> list[Detection]:
    """Drop detections overlapping a higher-scored one by more than ``max_iou``, or lying mostly
    (``max_inside``) within it or around it: MediaPipe sometimes reports one hand twice."""

    kept: list[Detection] = []
    for d in sorted(dets, key=lambda d: -d.score):
        if all(
            iou(d.box, k.box) <= max_iou and covered(d.box, k.box) < max_inside and covered(k.box, d.box) < max_inside
            for k in kept
        ):
            kept.append(d)
    return kept


def _face_detection(box: np.ndarray, score: float, width: int, height: int) -> Detection | None:
    """A face box (pixels) clipped to the frame, or ``None`` when less than a pixel is left."""
    box = np.clip(np.asarray(box, np.float64), 0, [width, height, width, height])
    if box[2] - box[0] >= 1 and box[3] - box[1] >= 1:
        return Detection("face", box, float(score))
    return None


def _hand_detection(pts: np.ndarray, world: np.ndarray | None, hand: str | None, score: float, mirrored: bool,
                    width: int, height: int) -> Detection:
    """A hand from its landmarks in pixels; MediaPipe's handedness (for a mirrored view) swapped
    unless the frames are mirrored, so ``left`` is the person's left hand."""
    if hand is not None and not mirrored:
        hand = {"left": "right", "right": "left"}.get(hand, hand)
    gesture = classify_gesture(world if world is not None else pts, pts)
    return Detection("hand", _hand_box(pts, width, height), score, pts, world, hand, gesture)


class OnnxDetectors:
    """Face detection and hand landmarks: MediaPipe's models on ONNX Runtime
    (:mod:`streamseg.rois.blaze`). Same arguments and methods as :class:`MediaPipeDetectors`,
    plus ``provider`` and ``threads`` (ONNX Runtime: ``auto`` = CUDA when it works)."""

    def __init__(
        self,
        hands: bool = True,
        faces: bool = True,
        max_hands: int = 2,
        min_confidence: float = 0.5,
        mirrored: bool = False,
        face_range: str = "short",
        static: bool = False,
        provider: str = "auto",
        threads: int = 0,
    ) -> None:
        from streamseg.rois.blaze import FaceDetector, HandTracker

        self.mirrored = mirrored
        self._hands = (
            HandTracker(max_hands=max_hands, min_detection=min_confidence, min_tracking=0.5, static=static,
                        provider=provider, threads=threads)
            if hands
            else None
        )
        self._faces = FaceDetector(face_range, min_confidence, provider=provider, threads=threads) if faces else None

    @property
    def providers(self) -> list[str]:
        """The ONNX Runtime providers the models run on."""
        return [m.provider for m in (self._faces, self._hands) if m is not None]

    def faces(self, rgb: np.ndarray) -> list[Detection]:
        """Faces in an RGB uint8 (H, W, 3) frame; boxes in pixels."""
        if self._faces is None:
            return []
        h, w = rgb.shape[:2]
        out = [_face_detection(f.box, f.score, w, h) for f in self._faces.detect(rgb)]
        return suppress_duplicates([d for d in out if d is not None])

    def hands(self, rgb: np.ndarray) -> list[Detection]:
        """Hands in an RGB uint8 (H, W, 3) frame: box, landmarks (pixels), world landmarks, handedness, gesture."""
        if self._hands is None:
            return []
        h, w = rgb.shape[:2]
        out = []
        for hd in self._hands.process(rgb):
            pts = hd.landmarks * [w, h, w]
            out.append(_hand_detection(pts, hd.world, hd.handedness, hd.handedness_score, self.mirrored, w, h))
        return suppress_duplicates(out)

    def reset(self) -> None:
        """Forget the tracked hands (new source or reconnect)."""
        if self._hands is not None:
            self._hands.reset()

    def close(self) -> None:
        """Release the sessions."""
        self._hands = self._faces = None


class MediaPipeDetectors:
    """Face detection and hand landmarks from ``mp.solutions`` (the optional mediapipe package).

    Args:
        hands: create the hands solution (landmarks, handedness, gestures).
        faces: create the face detector.
        max_hands: at most this many hands.
        min_confidence: detection threshold for both.
        mirrored: the frames are mirrored (selfie view). MediaPipe's handedness assumes
            mirrored input; for a plain camera or file it is swapped so ``left`` is the
            person's left hand.
        face_range: ``short`` (within ~2 m, model 0) or ``full`` (within ~5 m, model 1).
        static: detect hands afresh on every call instead of tracking them from the previous
            call; better when called on every Nth frame only (labels without ``--hands``).
    """

    def __init__(
        self,
        hands: bool = True,
        faces: bool = True,
        max_hands: int = 2,
        min_confidence: float = 0.5,
        mirrored: bool = False,
        face_range: str = "short",
        static: bool = False,
    ) -> None:
        os.environ.setdefault("GLOG_minloglevel", "2")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import mediapipe as mp

        self.mirrored = mirrored
        self._hands = (
            mp.solutions.hands.Hands(
                static_image_mode=static,
                max_num_hands=max_hands,
                model_complexity=0,
                min_detection_confidence=min_confidence,
                min_tracking_confidence=0.5,
            )
            if hands
            else None
        )
        self._faces = (
            mp.solutions.face_detection.FaceDetection(
                model_selection=1 if face_range == "full" else 0, min_detection_confidence=min_confidence
            )
            if faces
            else None
        )

    def faces(self, rgb: np.ndarray) -> list[Detection]:
        """Faces in an RGB uint8 (H, W, 3) frame; boxes in pixels."""
        if self._faces is None:
            return []
        h, w = rgb.shape[:2]
        out: list[Detection] = []
        res = self._faces.process(rgb)
        for d in res.detections or []:
            b = d.location_data.relative_bounding_box
            box = np.array([b.xmin * w, b.ymin * h, (b.xmin + b.width) * w, (b.ymin + b.height) * h], np.float64)
            det = _face_detection(box, float(d.score[0]), w, h)
            if det is not None:
                out.append(det)
        return suppress_duplicates(out)

    def hands(self, rgb: np.ndarray) -> list[Detection]:
        """Hands in an RGB uint8 (H, W, 3) frame: box, landmarks (pixels), world landmarks, handedness, gesture."""
        if self._hands is None:
            return []
        h, w = rgb.shape[:2]
        res = self._hands.process(rgb)
        out: list[Detection] = []
        lms = res.multi_hand_landmarks or []
        worlds = res.multi_hand_world_landmarks or [None] * len(lms)
        sides = res.multi_handedness or [None] * len(lms)
        for lm, world, side in zip(lms, worlds, sides):
            pts = np.array([[p.x * w, p.y * h, p.z * w] for p in lm.landmark], np.float64)
            wpts = np.array([[p.x, p.y, p.z] for p in world.landmark], np.float64) if world is not None else None
            score, hand = 0.5, None
            if side is not None and side.classification:
                c = side.classification[0]
                score = float(c.score)
                hand = c.label.lower()
            out.append(_hand_detection(pts, wpts, hand, score, self.mirrored, w, h))
        return suppress_duplicates(out)

    def reset(self) -> None:
        """Drop MediaPipe's tracking state (new source or reconnect)."""
        for s in (self._hands, self._faces):
            if s is not None:
                s.reset()

    def close(self) -> None:
        """Release the MediaPipe graphs."""
        for s in (self._hands, self._faces):
            if s is not None:
                s.close()
        self._hands = self._faces = None


def load_detectors(hands: bool, faces: bool, **kwargs) -> OnnxDetectors | None:
    """Create :class:`OnnxDetectors`, or warn once and return ``None`` when the models cannot load."""
    try:
        return OnnxDetectors(hands=hands, faces=faces, **kwargs)
    except Exception as exc:  # noqa: BLE001 - any failure means "no labels", not a crash
        what = "hand landmarks and face/hand labels" if hands else "face/hand labels"
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        log.warn(f"the face/hand detectors cannot load ({reason}); no {what}, regions are labelled 'skin'")
        return None


def to_rgb(image: np.ndarray) -> np.ndarray:
    """BGR uint8 (H, W, 3) -> contiguous RGB uint8 (H, W, 3) for the detectors."""
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
