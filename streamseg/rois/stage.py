"""The ROI stage of the pipeline: skin mask -> labelled, tracked regions -> one message per frame.

Example:
    >>> import numpy as np
    >>> from streamseg.frames import Frame, FrameResult
    >>> stage = RoiStage(RoiOptions(labels=False, min_area=0.01))
    >>> mask = np.zeros((48, 64), bool); mask[10:30, 20:40] = True
    >>> res = FrameResult(Frame(np.zeros((48, 64, 3), np.uint8), 0, 0.0), mask.astype(np.float32), mask)
    >>> msg = stage.process(res)
    >>> [(r["id"], r["label"], r["box"]) for r in msg["regions"]]
    [(1, 'skin', [20.0, 10.0, 20.0, 20.0])]
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from streamseg.errors import ConfigError
from streamseg.frames import FrameResult
from streamseg.rois.boxes import covered, iou
from streamseg.rois.detectors import Detection, OnnxDetectors, load_detectors, to_rgb
from streamseg.rois.labeller import BackgroundLabeller
from streamseg.rois.message import build_message
from streamseg.rois.regions import find_regions, pad_box
from streamseg.rois.tracking import IMPOSSIBLE, FilterParams, Tracker, assign_pairs


@dataclass
class RoiOptions:
    """Settings of the ROI stage (the CLI sets ``hands`` from ``--hands``; the rest from Python or a config table).

    Attributes:
        min_area: smallest skin region, as a fraction of the frame's pixels.
        contours: add a simplified outline to each region.
        contour_epsilon: outline simplification, as a fraction of the region's box diagonal.
        labels: label regions ``face``/``hand`` with MediaPipe (else all are ``skin``).
        hands: run MediaPipe hands on every frame and report the 21 landmarks.
        detect_every: run the face (and, without ``hands``, the hand) detector every N frames;
            labels and gestures are held in between.
        background_labels: without ``hands``, run the detectors in a background thread so no
            frame waits for them; their results arrive a frame or two later, moved by the
            tracks' motion since (with ``hands`` they always run on the frame itself).
        max_hands: at most this many hands.
        hand_tracking: let MediaPipe Hands track landmarks from frame to frame (cheaper) instead
            of finding the palm afresh on every call (default: slower, but it cannot lock onto
            a misread pose, which tracking did on the demo clip's thumbs-up).
        min_confidence: MediaPipe detection threshold.
        mirrored: frames are mirrored (selfie view); only changes ``handedness``.
        face_range: ``short`` (within ~2 m) or ``full`` (within ~5 m) face model.
        min_cutoff, beta, d_cutoff: One-Euro filter of the boxes (Hz, per object size, Hz).
        landmark_min_cutoff, landmark_beta, landmark_d_cutoff: One-Euro filter of landmarks.
        max_missed_s: keep reporting a lost region (``predicted``) this long, to bridge occlusions.
        label_hold_s: keep a face/hand label this long without a fresh detection.
        gesture_votes: a hand's gesture is the majority of its last N detections (1 = raw).
        max_regions: at most this many ``skin`` regions per frame (the largest).
        anchor_pad: a face/hand box claims the skin pixels within it grown by this fraction.
        source: the input's name, written into every message.
    """

    min_area: float = 0.002
    contours: bool = False
    contour_epsilon: float = 0.01
    labels: bool = True
    hands: bool = False
    detect_every: int = 3
    background_labels: bool = True
    max_hands: int = 2
    hand_tracking: bool = False
    min_confidence: float = 0.5
    mirrored: bool = False
    face_range: str = "short"
    min_cutoff: float = 1.0
    beta: float = 8.0
    d_cutoff: float = 1.0
    landmark_min_cutoff: float = 1.0
    landmark_beta: float = 8.0
    landmark_d_cutoff: float = 1.0
    max_missed_s: float = 0.5
    label_hold_s: float = 0.5
    gesture_votes: int = 3
    max_regions: int = 16
    anchor_pad: float = 0.1
    source: str = ""

    def validate(self) -> RoiOptions:
        """Check every value; raises :class:`ConfigError` naming the option. Returns ``self``."""
        checks = [
            ("min_area", 0.0 <= self.min_area < 1.0, "a fraction of the frame in [0, 1)"),
            ("contour_epsilon", 0.0 <= self.contour_epsilon <= 1.0, "in [0, 1]"),
            ("detect_every", isinstance(self.detect_every, int) and self.detect_every >= 1, "an integer >= 1"),
            ("max_hands", isinstance(self.max_hands, int) and 1 <= self.max_hands <= 4, "an integer in 1..4"),
            ("min_confidence", 0.0 <= self.min_confidence <= 1.0, "in [0, 1]"),
            ("face_range", self.face_range in ("short", "full"), "'short' or 'full'"),
            ("min_cutoff", self.min_cutoff > 0, "> 0 (Hz)"),
            ("beta", self.beta >= 0, ">= 0"),
            ("d_cutoff", self.d_cutoff > 0, "> 0 (Hz)"),
            ("landmark_min_cutoff", self.landmark_min_cutoff > 0, "> 0 (Hz)"),
            ("landmark_beta", self.landmark_beta >= 0, ">= 0"),
            ("landmark_d_cutoff", self.landmark_d_cutoff > 0, "> 0 (Hz)"),
            ("max_missed_s", self.max_missed_s >= 0, ">= 0 (seconds)"),
            ("label_hold_s", self.label_hold_s >= 0, ">= 0 (seconds)"),
            ("gesture_votes", isinstance(self.gesture_votes, int) and self.gesture_votes >= 1, "an integer >= 1"),
            ("max_regions", isinstance(self.max_regions, int) and self.max_regions >= 1, "an integer >= 1"),
            ("anchor_pad", 0.0 <= self.anchor_pad <= 1.0, "in [0, 1]"),
        ]
        for name, ok, what in checks:
            if not ok:
                raise ConfigError(f"ROI option {name} = {getattr(self, name)!r} must be {what}")
        return self

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> RoiOptions:
        """Options from a config mapping (e.g. a ``[rois]`` table); unknown keys raise :class:`ConfigError`."""
        names = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - set(names))
        if unknown:
            raise ConfigError(f"unknown ROI option(s) {', '.join(unknown)}; known: {', '.join(names)}")
        kwargs = {}
        for k, v in values.items():
            default = names[k].default
            if isinstance(default, bool) and not isinstance(v, bool):
                raise ConfigError(f"ROI option {k} must be true or false, got {v!r}")
            if isinstance(default, (int, float)) and not isinstance(default, bool):
                if isinstance(v, bool) or not isinstance(v, (int, float)):
                    raise ConfigError(f"ROI option {k} must be a number, got {v!r}")
                v = type(default)(v) if isinstance(default, float) or float(v).is_integer() else v
            kwargs[k] = v
        return cls(**kwargs).validate()


def _scale(dets: list[Detection], image_shape: tuple[int, int], mask_shape: tuple[int, int]) -> None:
    """Rescale detections found on an image of ``image_shape`` (H, W) to mask pixels, in place."""
    if tuple(image_shape) == tuple(mask_shape):
        return
    sx, sy = mask_shape[1] / image_shape[1], mask_shape[0] / image_shape[0]
    for d in dets:
        d.box = d.box * np.array([sx, sy, sx, sy])
        if d.landmarks is not None:
            d.landmarks = d.landmarks * np.array([sx, sy, sx])


#: a face detection below this score may continue a face track but not start one
FACE_START = 0.6

#: a fresh detection continues a face/hand track whose centre is within this many detection sizes
CLAIM_GATE = 2.0

#: a held face/hand box grows by this fraction per side before claiming skin (the object moves meanwhile)
HELD_PAD = 0.1


def _same_object(det: np.ndarray, *boxes: np.ndarray) -> bool:
    """True when a detection box and any of a track's boxes overlap by a fifth of either, or their
    centres are less than one detection size apart (fast motion tolerated)."""
    size = float(np.sqrt(max((det[2] - det[0]) * (det[3] - det[1]), 1.0)))
    centre = (det[:2] + det[2:]) / 2
    return any(
        max(covered(det, b), covered(b, det)) >= 0.2 or float(np.linalg.norm((b[:2] + b[2:]) / 2 - centre)) < size
        for b in boxes
    )


class RoiStage:
    """Per-frame regions of interest: build once per run, call :meth:`process` on every frame.

    MediaPipe loads on the first frame that needs it; when it cannot, the stage warns once and
    labels every region ``skin``.
    """

    def __init__(self, options: RoiOptions | None = None) -> None:
        self.options = (options or RoiOptions()).validate()
        o = self.options
        self.tracker = Tracker(
            FilterParams(o.min_cutoff, o.beta, o.d_cutoff),
            FilterParams(o.landmark_min_cutoff, o.landmark_beta, o.landmark_d_cutoff),
            max_missed_s=o.max_missed_s,
            label_hold_s=o.label_hold_s,
            gesture_votes=o.gesture_votes,
        )
        self._detectors: OnnxDetectors | None = None
        self._detectors_tried = False
        self._count = 0
        self._last_t: float | None = None
        self._worker: BackgroundLabeller | None = None
        self._last_submit = -(10**9)
        self._job_shape: tuple[int, int] | None = None
        self._history: dict[int, dict[int, np.ndarray]] = {}  # frame count -> track id -> box
        #: seconds the last :meth:`process` call took, and how they split (labels, regions, tracking, message)
        self.last_seconds = 0.0
        self.last_parts: dict[str, float] = {}

    @property
    def detectors(self) -> OnnxDetectors | None:
        """The face/hand detectors (loaded on first use; ``None`` when disabled or unavailable)."""
        if not self._detectors_tried and (self.options.labels or self.options.hands):
            self._detectors_tried = True
            o = self.options
            self._detectors = load_detectors(
                hands=True, faces=o.labels, max_hands=o.max_hands, min_confidence=o.min_confidence,
                mirrored=o.mirrored, face_range=o.face_range, static=not o.hand_tracking,
            )
        return self._detectors

    def warmup(self, height: int = 480, width: int = 640) -> None:
        """Load MediaPipe and run it once on a blank (height, width) frame, so the first real
        frame does not pay for it (about a second); nothing to do when labels and hands are off."""
        det = self.detectors
        if self._worker is not None:
            self._worker.wait(5.0)
        if det is not None:
            rgb = np.zeros((height, width, 3), np.uint8)
            det.faces(rgb)
            det.hands(rgb)
            det.reset()

    def reset(self) -> None:
        """Forget tracks and MediaPipe's tracking state (new source, reconnect, scene cut)."""
        self.tracker.reset()
        self._count = 0
        self._last_t = None
        self._last_submit = -(10**9)
        self._history.clear()
        if self._worker is not None:  # drop what it found in the old source
            self._worker.wait(5.0)
            self._worker.take()
        if self._detectors is not None:
            self._detectors.reset()

    def close(self) -> None:
        """Stop the background labeller and release MediaPipe."""
        if self._worker is not None:
            self._worker.close()
            self._worker = None
        if self._detectors is not None:
            self._detectors.close()
            self._detectors = None

    def _detect(self, image: np.ndarray, shape: tuple[int, int], t: float) -> tuple[list[Detection], list[bool], list[int | None]]:
        """Anchors for this frame: fresh detections plus labels held from tracks the detectors did not (re)confirm."""
        o = self.options
        if o.background_labels and o.labels and not o.hands:
            fresh, ran = self._detect_background(image, shape, t)
        else:
            due = self._count % o.detect_every == 0
            run_hands = o.hands or (o.labels and due)
            run_faces = o.labels and due
            det = self.detectors if (run_hands or run_faces) else self._detectors
            fresh = []
            if det is not None and (run_hands or run_faces):
                rgb = to_rgb(image)
                if run_faces:
                    fresh += det.faces(rgb)
                if run_hands:
                    fresh += det.hands(rgb)
                _scale(fresh, image.shape[:2], shape)
            ran = {"face": run_faces and det is not None, "hand": run_hands and det is not None}
        owners: list[int | None] = self._claim(fresh, t)
        # hysteresis: a weak face detection may continue a face, not start one (a hand can look like a face)
        keep = [not (d.label == "face" and own is None and d.score < FACE_START) for d, own in zip(fresh, owners)]
        fresh = [d for d, k in zip(fresh, keep) if k]
        owners = [own for own, k in zip(owners, keep) if k]
        anchors, held = list(fresh), [False] * len(fresh)
        claimed = {tid for tid in owners if tid is not None}
        h, w = shape
        for tr in self.tracker.tracks:
            if tr.label not in ("face", "hand") or t - tr.label_seen > o.label_hold_s or tr.missed > 0:
                continue
            if tr.id in claimed:
                continue  # the detector saw it again: its fresh detection stands for it
            held_box = self.tracker.held_anchor(tr, t)
            if held_box is None:
                continue
            if ran[tr.label] and any(d.label == tr.label and _same_object(d.box, tr.box, held_box) for d in fresh):
                continue  # overlaps a fresh detection that went to another track: no duplicate
            box = pad_box(held_box, HELD_PAD, w, h)
            anchors.append(Detection(tr.label, box, tr.score, handedness=tr.handedness, gesture=tr.gesture))
            held.append(True)
            owners.append(tr.id)
        return anchors, held, owners

    def _claim(self, fresh: list[Detection], t: float) -> list[int | None]:
        """Per fresh detection, the face/hand track (same label) it continues, or ``None`` for a new one.

        Matched here, with a wider gate than the tracker's, so that a hand that moved fast keeps
        its id instead of starting a second hand track while the old one is held.
        """
        owners: list[int | None] = [None] * len(fresh)
        for label in ("face", "hand"):
            idx = [k for k, d in enumerate(fresh) if d.label == label]
            cands = [
                tr for tr in self.tracker.tracks
                if tr.label == label and t - tr.label_seen <= self.options.label_hold_s + self.options.max_missed_s
            ]
            if not idx or not cands:
                continue
            cost = np.full((len(cands), len(idx)), IMPOSSIBLE)
            for a, tr in enumerate(cands):
                pred = tr.box_filter.predict(t)
                pred = tr.box if pred is None else pred
                ref = self.tracker.held_anchor(tr, t)
                for b, k in enumerate(idx):
                    box = fresh[k].box
                    o = max(iou(box, pred), iou(box, ref) if ref is not None else 0.0)
                    size = float(np.sqrt(max((box[2] - box[0]) * (box[3] - box[1]), 1.0)))
                    d = float(np.linalg.norm((box[:2] + box[2:]) / 2 - (pred[:2] + pred[2:]) / 2)) / size
                    if o > 0 or d < CLAIM_GATE:
                        cost[a, b] = (1.0 - o) + 0.5 * d
            for a, b in assign_pairs(cost):
                owners[idx[b]] = cands[a].id
            # there are at most max_hands hands: one found beyond the gate while that many are
            # already tracked is one of them that moved fast (or was missed for a while), so it
            # continues the nearest unclaimed one with the same handedness
            if label == "hand":
                free = [tr for tr in cands if tr.id not in owners]
                tracked = sum(1 for tr in self.tracker.tracks if tr.label == "hand")
                for k in idx:
                    if owners[k] is not None or tracked < self.options.max_hands or not free:
                        continue
                    d = fresh[k]
                    same = [tr for tr in free if not (tr.handedness and d.handedness) or tr.handedness == d.handedness]
                    if not same:
                        continue
                    centre = (d.box[:2] + d.box[2:]) / 2
                    tr = min(same, key=lambda tr: float(np.linalg.norm((tr.box[:2] + tr.box[2:]) / 2 - centre)))
                    tr.box_filter.reset()  # a jump: do not smooth from where it was
                    tr.lm_filter.reset()
                    owners[k] = tr.id
                    free.remove(tr)
        return owners

    def _detect_background(self, image: np.ndarray, shape: tuple[int, int], t: float) -> tuple[list[Detection], dict[str, bool]]:
        """Collect what the background labeller found (moved to this frame) and hand it a new frame when due."""
        o = self.options
        ran = {"face": False, "hand": False}
        fresh: list[Detection] = []
        if self._worker is None:
            det = self.detectors
            if det is None:
                return fresh, ran
            self._worker = BackgroundLabeller(det, faces=o.labels, hands=True)
        done = self._worker.take()
        if done is not None and self._job_shape is not None:
            k, _, fresh = done
            _scale(fresh, self._job_shape, shape)
            self._move_to_now(fresh, k, t)
            ran = {"face": o.labels, "hand": True}
        if self._count - self._last_submit >= o.detect_every and self._worker.idle:
            if self._worker.submit(self._count, t, to_rgb(image)):
                self._last_submit = self._count
                self._job_shape = image.shape[:2]
        return fresh, ran

    def _move_to_now(self, dets: list[Detection], k: int, t: float) -> None:
        """Shift detections found on frame count ``k`` by the motion since of the track each overlapped then."""
        then = self._history.get(k, {})
        tracks = {tr.id: tr for tr in self.tracker.tracks}
        for d in dets:
            best, best_iou = None, 0.05
            for tid, box in then.items():
                o = iou(d.box, box)
                if o > best_iou and tid in tracks:
                    best, best_iou = tid, o
            if best is None:
                continue
            tr = tracks[best]
            now = tr.box_filter.predict(t)
            now = tr.box if now is None else now
            dx, dy = (now[:2] + now[2:]) / 2 - (then[best][:2] + then[best][2:]) / 2
            d.box = d.box + np.array([dx, dy, dx, dy])
            if d.landmarks is not None:
                d.landmarks = d.landmarks + np.array([dx, dy, 0.0])

    def process(self, result: FrameResult) -> dict[str, Any]:
        """Regions of one frame as a message (see ``schemas/rois.schema.json``).

        Args:
            result: ``frame.image`` BGR uint8 (H, W, 3), ``frame.index``, ``frame.time`` (s),
                ``prob`` float32 (H, W) in [0, 1], ``mask`` bool (H, W). Temporal state is reset by
                whoever owns the run (:class:`~streamseg.pipeline.Processor`) through :meth:`reset`.

        Returns:
            The message dict (JSON types only). Also sets ``result.timings["rois"]`` (seconds).
        """
        t0 = time.perf_counter()
        frame = result.frame
        o = self.options
        mask = np.asarray(result.mask, dtype=bool)
        h, w = mask.shape
        t = float(frame.time)
        if self._last_t is not None and not t > self._last_t:
            t = self._last_t + 1.0 / 30.0  # repeated or missing timestamps (still images): a nominal step
        self._last_t = t
        anchors, held, owners = self._detect(frame.image, (h, w), t)
        t1 = time.perf_counter()
        min_px = max(1, int(round(o.min_area * h * w)))
        regions = find_regions(
            mask, result.prob, min_px, anchors, o.anchor_pad, o.contours, o.contour_epsilon, o.max_regions, held, owners
        )
        t2 = time.perf_counter()
        tracks = self.tracker.update(regions, t)
        t3 = time.perf_counter()
        if self._worker is not None:
            self._history[self._count] = {tr.id: tr.box.copy() for tr in tracks if tr.missed == 0}
            self._history.pop(self._count - 64, None)
        report = [tr for tr in tracks if tr.missed == 0 or tr.hits >= 3]
        message = build_message(
            report,
            source=o.source,
            index=frame.index,
            time=float(frame.time),
            width=w,
            height=h,
            skin_fraction=float(np.count_nonzero(mask)) / mask.size,
            landmarks=o.hands,
            contours=o.contours,
        )
        self._count += 1
        self.last_seconds = time.perf_counter() - t0
        self.last_parts = {"labels": t1 - t0, "regions": t2 - t1, "tracking": t3 - t2, "message": self.last_seconds - (t3 - t0)}
        result.timings["rois"] = self.last_seconds
        return message
