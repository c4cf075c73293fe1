"""MediaPipe's face detectors, palm detector and hand landmarks on ONNX Runtime.

The models are MediaPipe's own (the mediapipe 0.10.21 wheel, Apache-2.0), converted once to ONNX
(``scripts/convert_mediapipe.py``) and shipped in ``streamseg/data/models`` with specs whose
``task`` keeps them out of the skin methods. Around them this module does what MediaPipe's graphs
do: letterboxed or rotated crops (:mod:`streamseg.rois.rects`), anchors, decoding and weighted
NMS (:mod:`streamseg.rois.ssd`), landmark projection, and MediaPipe's hand tracking (the next
frame's crop from this frame's landmarks; the palm detector runs only while fewer hands than
``max_hands`` are tracked). The sessions run on CUDA when it really works
(:mod:`streamseg.segment.providers`), else on the CPU; mediapipe itself is not needed.

Example:
    >>> import numpy as np
    >>> faces = FaceDetector("short")                          # doctest: +SKIP
    >>> faces.detect(np.zeros((480, 640, 3), np.uint8))        # doctest: +SKIP
    []
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from streamseg.errors import MethodError
from streamseg.rois import rects, ssd
from streamseg.rois.rects import NormRect

#: model file stems in streamseg/data/models
FACE_MODELS = {"short": ("face-detect-short-128", ssd.FACE_SHORT), "full": ("face-detect-full-192", ssd.FACE_FULL)}
PALM_MODEL = ("palm-detect-lite-192", ssd.PALM)
HAND_MODEL = "hand-landmark-lite-224"
#: the landmark model's z is scaled by this in MediaPipe's decoding (its training distribution)
NORMALIZE_Z = 0.4


def model_path(stem: str) -> Path:
    """The shipped ``<stem>.onnx`` (named by its spec ``<stem>.json``).

    Raises:
        MethodError: the file or its spec is missing or broken.
    """
    from streamseg.paths import shipped_models_dir

    spec_path = shipped_models_dir() / f"{stem}.json"
    if not spec_path.is_file():
        raise MethodError(f"detector model {stem}: {spec_path} is missing (reinstall streamseg)")
    try:
        spec = json.loads(spec_path.read_text(encoding="utf-8"))
        path = spec_path.parent / spec["file"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise MethodError(f"detector model {stem}: cannot read its spec {spec_path} ({exc})") from None
    if not path.is_file():
        raise MethodError(f"detector model {stem}: {path} is missing (reinstall streamseg)")
    return path


def unavailable_reason(hands: bool = True, faces: bool = True, face_range: str = "short") -> str | None:
    """``None`` when ONNX Runtime and the detector models are here, else a one-line reason (nothing loads)."""
    from streamseg.segment import providers

    stems = ([FACE_MODELS[face_range][0]] if faces else []) + ([PALM_MODEL[0], HAND_MODEL] if hands else [])
    try:
        providers.import_onnxruntime()
        for stem in stems:
            model_path(stem)
    except MethodError as exc:
        return str(exc)
    return None


class Session:
    """An ONNX Runtime session of one shipped detector model, on CUDA when it works, else the CPU.

    Args:
        stem: the model's file stem in ``streamseg/data/models``.
        provider: ``auto`` (CUDA when it really runs, else CPU), ``cuda``, ``cpu``, ...
        threads: intra-op threads (0 = streamseg's default share).
    """

    def __init__(self, stem: str, provider: str = "auto", threads: int = 0) -> None:
        from streamseg.segment import providers

        ort = providers.import_onnxruntime()
        path = model_path(stem)
        self.name = stem
        last_exc: Exception | None = None
        for kind, dev in providers.candidates(provider):
            wanted = providers.ORT_NAMES[kind]
            try:
                with providers.quiet_ort():
                    sess = ort.InferenceSession(str(path), providers.session_options(threads, kind),
                                                providers=providers.provider_args(kind, dev), enable_fallback=0)
            except Exception as exc:  # noqa: BLE001 - ORT raises several pybind types
                last_exc = exc
                continue
            if sess.get_providers()[0] != wanted:
                continue
            self.session = sess
            self.provider = wanted
            self.input_name = sess.get_inputs()[0].name
            self.output_names = [o.name for o in sess.get_outputs()]
            return
        why = str(last_exc).strip().splitlines()[0] if last_exc and str(last_exc).strip() else "no provider runs it"
        raise MethodError(f"detector model {stem} cannot load ({why})")

    def __call__(self, batch: np.ndarray) -> list[np.ndarray]:
        """float32 (N, 3, S, S) RGB in [0, 1] -> the model's outputs, in its order."""
        return self.session.run(self.output_names, {self.input_name: batch})


def to_tensor(images: list[np.ndarray]) -> np.ndarray:
    """RGB uint8 (S, S, 3) crops -> float32 (N, 3, S, S) in [0, 1]."""
    x = np.stack(images).astype(np.float32)
    x *= 1.0 / 255.0
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


@dataclass
class Face:
    """A face: box float64 (4,) ``x0, y0, x1, y1`` and keypoints (6, 2) in pixels (right eye, left
    eye, nose tip, mouth, right ear, left ear, as MediaPipe orders them), score in [0, 1]."""

    box: np.ndarray
    keypoints: np.ndarray
    score: float


class FaceDetector:
    """MediaPipe's face detection (``short``: within about 2 m, ``full``: within about 5 m).

    Args:
        face_range: ``short`` or ``full``.
        min_confidence: score threshold, never below the model's own (0.5 short, 0.6 full range:
            MediaPipe applies those whatever ``min_detection_confidence`` says).
        provider, threads: see :class:`Session`.
    """

    def __init__(self, face_range: str = "short", min_confidence: float = 0.5, provider: str = "auto",
                 threads: int = 0) -> None:
        if face_range not in FACE_MODELS:
            raise MethodError(f"face range must be 'short' or 'full', got {face_range!r}")
        stem, self.cfg = FACE_MODELS[face_range]
        self.min_confidence = max(float(min_confidence), self.cfg.min_score)
        self.session = Session(stem, provider, threads)
        self.anchors = ssd.ssd_anchors(self.cfg)

    @property
    def provider(self) -> str:
        return self.session.provider

    def detect(self, rgb: np.ndarray) -> list[Face]:
        """Faces in an RGB uint8 (H, W, 3) frame, best first."""
        h, w = rgb.shape[:2]
        size = self.cfg.input_size
        roi = rects.full_frame_rect(w, h, keep_aspect=True)
        boxes, scores = self.session(to_tensor([rects.crop(rgb, roi, size, border="zero")]))
        det = ssd.weighted_nms(ssd.decode(boxes[0], scores[0], self.anchors, self.cfg, self.min_confidence),
                               self.cfg.nms_threshold)
        out = []
        for i in range(len(det)):
            corners = rects.project_letterboxed(det.boxes[i].reshape(2, 2), roi, w, h) * [w, h]
            kp = rects.project_letterboxed(det.keypoints[i], roi, w, h) * [w, h]
            out.append(Face(corners.reshape(4), kp, float(det.scores[i])))
        return out


@dataclass
class Hand:
    """A hand: landmarks float64 (21, 3) normalised to the frame (x, y; z in units of the frame
    width, relative to the wrist), world landmarks (21, 3) in metres around the hand's centre,
    MediaPipe's handedness label (``left``/``right``, for a mirrored view) and its score, the
    presence score, and the crop it was found in."""

    landmarks: np.ndarray
    world: np.ndarray
    handedness: str
    handedness_score: float
    presence: float
    rect: NormRect


class HandTracker:
    """MediaPipe's hand tracking (palm detection, hand landmarks, crops carried between frames).

    Args:
        max_hands: at most this many hands.
        min_detection: palm score threshold.
        min_tracking: hand presence threshold (below it a hand is dropped and searched for anew).
        static: every call is a new image (no tracking; the palm detector runs every time).
        provider, threads: see :class:`Session`.
    """

    def __init__(self, max_hands: int = 2, min_detection: float = 0.5, min_tracking: float = 0.5,
                 static: bool = False, provider: str = "auto", threads: int = 0) -> None:
        self.max_hands = int(max_hands)
        self.min_detection = float(min_detection)
        self.min_tracking = float(min_tracking)
        self.static = bool(static)
        stem, self.cfg = PALM_MODEL
        self.palm = Session(stem, provider, threads)
        self.landmark = Session(HAND_MODEL, provider, threads)
        self.anchors = ssd.ssd_anchors(self.cfg)
        self._prev: list[NormRect] = []

    @property
    def provider(self) -> str:
        return self.landmark.provider

    def palms(self, rgb: np.ndarray) -> list[NormRect]:
        """Hand crops from the palm detector on the whole frame, best first, at most ``max_hands``."""
        h, w = rgb.shape[:2]
        roi = rects.full_frame_rect(w, h, keep_aspect=True)
        boxes, scores = self.palm(to_tensor([rects.crop(rgb, roi, self.cfg.input_size, border="zero")]))
        det = ssd.weighted_nms(ssd.decode(boxes[0], scores[0], self.anchors, self.cfg, self.min_detection),
                               self.cfg.nms_threshold)
        out = []
        for i in range(min(len(det), self.max_hands)):
            box = rects.project_letterboxed(det.boxes[i].reshape(2, 2), roi, w, h).reshape(4)
            kp = rects.project_letterboxed(det.keypoints[i], roi, w, h)
            out.append(rects.palm_rect(box, kp, w, h))
        return out

    def landmarks(self, rgb: np.ndarray, crops: list[NormRect]) -> list[Hand]:
        """Run the landmark model on ``crops`` of the frame (one batch); the hands present."""
        if not crops:
            return []
        size = 224
        tensors = [rects.crop(rgb, r, size, border="replicate") for r in crops]
        lms, presence, handed, world = self.landmark(to_tensor(tensors))
        out = []
        for i, r in enumerate(crops):
            p = float(presence[i].reshape(-1)[0])
            if p <= self.min_tracking:
                continue
            raw = lms[i].reshape(21, 3).astype(np.float64) / size
            pts = np.empty((21, 3))
            pts[:, :2] = rects.project(raw[:, :2], r)
            pts[:, 2] = raw[:, 2] / NORMALIZE_Z * r.w
            wr = world[i].reshape(21, 3).astype(np.float64)
            c, s = np.cos(r.rotation), np.sin(r.rotation)
            wpts = np.stack([c * wr[:, 0] - s * wr[:, 1], s * wr[:, 0] + c * wr[:, 1], wr[:, 2]], -1)
            left = float(handed[i].reshape(-1)[0])
            label, score = ("left", left) if left >= 0.5 else ("right", 1.0 - left)
            out.append(Hand(pts, wpts, label, score, p, r))
        return out

    def process(self, rgb: np.ndarray) -> list[Hand]:
        """Hands in an RGB uint8 (H, W, 3) frame (tracked from the previous call unless ``static``)."""
        h, w = rgb.shape[:2]
        prev = [] if self.static else self._prev
        palms = self.palms(rgb) if len(prev) < self.max_hands else []
        hands = self.landmarks(rgb, rects.associate(palms, prev))
        self._prev = [rects.landmarks_rect(hd.landmarks, w, h) for hd in hands]
        return hands

    def reset(self) -> None:
        """Forget the tracked hands (new source, scene cut)."""
        self._prev = []
