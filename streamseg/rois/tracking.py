"""Stable region ids across frames, with One-Euro smoothing of boxes and landmarks.

Each frame:

1. every track predicts its box at the frame's time from its filtered velocity;
2. a ``skin`` region that covers the predicted boxes of two or more live ``skin`` tracks is a
   *merge* (two blobs touching or crossing): those tracks coast on their velocity, kept inside
   the merged region, and keep their ids (for up to ``max_merged_s``), instead of one of them
   taking the merged blob;
3. the other regions are matched to tracks by overlap and centre distance (Hungarian
   assignment, gated; a face track never takes a hand region and vice versa);
4. matched tracks are filtered, unmatched tracks coast for up to ``max_missed_s`` seconds
   (short occlusions are bridged, reported with ``predicted: true``), unmatched regions start
   new tracks with new ids.

Example:
    >>> import numpy as np
    >>> from streamseg.rois.regions import Region
    >>> t = Tracker()
    >>> r = Region("skin", np.array([0., 0., 10., 10.]), 100, (5.0, 5.0), 1.0, 1.0)
    >>> [tr.id for tr in t.update([r], 0.0)], [tr.id for tr in t.update([r], 0.04)]
    ([1], [1])
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from streamseg.rois.one_euro import OneEuroFilter
from streamseg.rois.boxes import box_area, covered, iou
from streamseg.rois.regions import Region

IMPOSSIBLE = 1e6
#: extra matching cost when a track would change label (skin <-> face or hand)
LABEL_SWITCH_COST = 1.0
#: cost of leaving a track or a region unmatched; a pair is matched when cheaper than leaving both (2x this)
UNMATCHED_COST = 1.5


@dataclass
class FilterParams:
    """One-Euro parameters (``beta`` is per object size per second, see :mod:`streamseg.rois.one_euro`)."""

    min_cutoff: float = 1.0
    beta: float = 0.0
    d_cutoff: float = 1.0

    def make(self) -> OneEuroFilter:
        return OneEuroFilter(self.min_cutoff, self.beta, self.d_cutoff)


@dataclass
class Track:
    """A region followed over time. ``box`` is the filtered ``x0, y0, x1, y1`` in pixels."""

    id: int
    label: str
    box: np.ndarray
    region: Region
    first_seen: float
    last_seen: float
    box_filter: OneEuroFilter
    lm_filter: OneEuroFilter
    hits: int = 1
    missed: int = 0  # frames since the last measurement
    merged: bool = False  # coasting inside a merged region this frame
    label_seen: float = -np.inf  # last time a fresh face/hand detection confirmed the label
    anchor_box: np.ndarray | None = None  # that detection's own box (x0, y0, x1, y1)
    anchor_centre: np.ndarray | None = None  # the track's box centre at that time
    landmarks: np.ndarray | None = None  # filtered (21, 3) pixels, only when fresh this frame
    handedness: str | None = None
    gesture: str | None = None
    score: float = 0.0
    centroid: tuple[float, float] = (0.0, 0.0)
    gestures: list[str] = field(default_factory=list)  # the last fresh gestures, newest last

    @property
    def predicted(self) -> bool:
        """True when this frame's box is a prediction (occluded, merged or missed), not a measurement."""
        return self.missed > 0 or self.merged


def assign_pairs(cost: np.ndarray, unmatched: float = UNMATCHED_COST) -> list[tuple[int, int]]:
    """Minimum-cost matching of rows (tracks) to columns (regions) where either may stay unmatched.

    Each row and column gets a private "unmatched" option costing ``unmatched``, so an
    impossible pair (cost ``IMPOSSIBLE``) is never forced just because every column must be used.
    """
    n, m = cost.shape
    big = np.full((n + m, m + n), IMPOSSIBLE)
    big[:n, :m] = cost
    big[:n, m:][np.arange(n), np.arange(n)] = unmatched
    big[n:, :m][np.arange(m), np.arange(m)] = unmatched
    big[n:, m:] = 0.0
    rows, cols = linear_sum_assignment(big)
    return [(int(a), int(b)) for a, b in zip(rows, cols) if a < n and b < m and cost[a, b] < IMPOSSIBLE]


def _vote(gestures: list[str]) -> str:
    """Most frequent gesture; among equally frequent ones, the most recent."""
    counts = Counter(gestures)
    best = max(counts.values())
    return next(g for g in reversed(gestures) if counts[g] == best)


def _size(box: np.ndarray) -> float:
    return float(np.sqrt(max(box_area(box), 1.0)))


def _centre(box: np.ndarray) -> np.ndarray:
    return np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])


def _shift_inside(box: np.ndarray, outer: np.ndarray) -> np.ndarray:
    """Move ``box`` (keeping its size where it fits) so it lies inside ``outer``."""
    b = box.copy()
    for lo, hi in ((0, 2), (1, 3)):
        size = min(b[hi] - b[lo], outer[hi] - outer[lo])
        b[lo] = np.clip(b[lo], outer[lo], outer[hi] - size)
        b[hi] = b[lo] + size
    return b


class Tracker:
    """Associates regions over frames.

    Args:
        box_filter: One-Euro parameters for box corners.
        landmark_filter: One-Euro parameters for hand landmarks.
        max_missed_s: an unmatched track is kept (coasting) this long, bridging short occlusions.
        label_hold_s: a face/hand label survives this long without a fresh detection.
        gate: largest centre distance, in object sizes, for a match without overlap.
        missed_damping: velocity factor per missed frame while coasting without any region.
        gesture_votes: a hand's gesture is the most frequent of its last this-many detections
            (ties: the newest), so a single misread frame does not flip it.
        max_merged_s: skin tracks merged into one region coast at most this long, then end
            (the merged region goes on under one id).
    """

    def __init__(
        self,
        box_filter: FilterParams | None = None,
        landmark_filter: FilterParams | None = None,
        max_missed_s: float = 0.5,
        label_hold_s: float = 0.5,
        gate: float = 1.5,
        missed_damping: float = 0.7,
        gesture_votes: int = 3,
        max_merged_s: float = 1.0,
    ) -> None:
        self.gesture_votes = max(1, gesture_votes)
        self.max_merged_s = max_merged_s
        self.box_params = box_filter or FilterParams()
        self.lm_params = landmark_filter or FilterParams()
        self.max_missed_s = max_missed_s
        self.label_hold_s = label_hold_s
        self.gate = gate
        self.missed_damping = missed_damping
        self.tracks: list[Track] = []
        self._next_id = 1
        self._last_t: float | None = None

    def reset(self) -> None:
        """Drop every track. Ids are not reused: the next track gets the next id of the run."""
        self.tracks = []
        self._last_t = None

    def _time(self, t: float) -> float:
        # non-increasing times (images, broken timestamps) advance by a nominal 1/30 s
        if self._last_t is not None and not t > self._last_t:
            t = self._last_t + 1.0 / 30.0
        self._last_t = t
        return t

    def _cost(self, tr: Track, pred: np.ndarray, r: Region) -> float:
        if {tr.label, r.label} == {"face", "hand"}:
            return IMPOSSIBLE
        if r.track_id is not None:  # an anchor carried from this very track
            return 0.0 if r.track_id == tr.id else IMPOSSIBLE
        o = iou(pred, r.box)
        d = float(np.linalg.norm(_centre(pred) - _centre(r.box))) / max(_size(pred), _size(r.box))
        if o <= 0 and d > self.gate:
            return IMPOSSIBLE
        # a labelled region prefers the track that already has its label (face behind a hand, ...)
        switch = LABEL_SWITCH_COST if tr.label != r.label else 0.0
        return (1.0 - o) + 0.5 * d + switch

    def update(self, regions: list[Region], t: float) -> list[Track]:
        """Advance to time ``t`` (seconds) with this frame's regions.

        Returns:
            The tracks to report this frame, by id: measured ones and those bridging a short
            occlusion (``predicted``).
        """
        t = self._time(t)
        preds = {tr.id: (tr.box_filter.predict(t) if tr.box_filter.x is not None else tr.box) for tr in self.tracks}
        for tr in self.tracks:
            tr.merged = False

        # merges: one skin region covering >= 2 tracks that were measured (or merged) last frame
        used_regions: set[int] = set()
        # (face and hand tracks are kept apart by their detections instead)
        live = [tr for tr in self.tracks if tr.missed == 0 and tr.label == "skin"]
        for j, r in enumerate(regions):
            if r.label != "skin":
                continue
            inside = [tr for tr in live if covered(preds[tr.id], r.box) >= 0.5]
            if len(inside) < 2 or r.area < 1.2 * max(tr.region.area for tr in inside):
                continue
            used_regions.add(j)
            for tr in inside:
                tr.box_filter.coast(t)
                tr.box = _shift_inside(preds[tr.id], r.box)
                tr.box_filter.x = tr.box.copy()
                tr.box_filter.raw = tr.box.copy()
                tr.merged = True
                tr.missed = 0  # last_seen stays: a merge outlasting max_merged_s ends the track
                tr.landmarks = None

        # assignment of the remaining regions to the remaining tracks
        free_tracks = [tr for tr in self.tracks if not tr.merged]
        free_regions = [j for j in range(len(regions)) if j not in used_regions]
        matches: list[tuple[Track, Region]] = []
        if free_tracks and free_regions:
            cost = np.array([[self._cost(tr, preds[tr.id], regions[j]) for j in free_regions] for tr in free_tracks])
            for a, b in assign_pairs(cost):
                matches.append((free_tracks[a], regions[free_regions[b]]))
        matched_ids = {id(r) for _, r in matches}
        matched_tracks = {tr.id for tr, _ in matches}

        for tr, r in matches:
            self._measure(tr, r, t)
        for tr in free_tracks:
            if tr.id not in matched_tracks:
                tr.missed += 1
                tr.box_filter.coast(t, self.missed_damping)
                tr.box = tr.box_filter.x.copy() if tr.box_filter.x is not None else tr.box
                tr.landmarks = None
        self.tracks = [
            tr
            for tr in self.tracks
            if (tr.missed == 0 and not tr.merged)
            or t - tr.last_seen <= (self.max_merged_s if tr.merged else self.max_missed_s)
        ]
        for j in free_regions:
            r = regions[j]
            if id(r) not in matched_ids and r.track_id is None:
                self.tracks.append(self._new(r, t))
        return sorted(self.tracks, key=lambda tr: tr.id)

    def _new(self, r: Region, t: float) -> Track:
        tr = Track(self._next_id, "skin", r.box.copy(), r, t, t, self.box_params.make(), self.lm_params.make())
        self._next_id += 1
        tr.box_filter(r.box, t, _size(r.box))
        self._apply_region(tr, r, t)
        return tr

    def held_anchor(self, tr: Track, t: float) -> np.ndarray | None:
        """Where ``tr``'s last face/hand detection box would be at time ``t``: the detector's box moved
        with the track (its size stays the detector's, so held labels cannot grow a region)."""
        if tr.anchor_box is None or tr.anchor_centre is None:
            return None
        pred = tr.box_filter.predict(t)
        pred = tr.box if pred is None else pred
        dx, dy = _centre(pred) - tr.anchor_centre
        return tr.anchor_box + np.array([dx, dy, dx, dy])

    def _measure(self, tr: Track, r: Region, t: float) -> None:
        tr.box = tr.box_filter(r.box, t, _size(r.box))
        tr.hits += 1
        tr.missed = 0
        tr.last_seen = t
        self._apply_region(tr, r, t)

    def _apply_region(self, tr: Track, r: Region, t: float) -> None:
        tr.region = r
        tr.centroid = r.centroid
        det = r.detection
        if r.label in ("face", "hand"):
            tr.label = r.label
            tr.score = r.score
            if det is not None and r.fresh:
                tr.label_seen = t
                tr.anchor_box = det.box.copy()
                tr.anchor_centre = _centre(tr.box)
                tr.handedness = det.handedness
                if det.gesture is not None:
                    tr.gestures = (tr.gestures + [det.gesture])[-self.gesture_votes :]
                    tr.gesture = _vote(tr.gestures)
        else:
            if tr.label in ("face", "hand") and t - tr.label_seen <= self.label_hold_s:
                pass  # keep the label through a missed detection
            else:
                tr.label, tr.handedness, tr.gesture, tr.gestures = "skin", None, None, []
            tr.score = r.score
        if det is not None and r.fresh and det.landmarks is not None:
            tr.landmarks = tr.lm_filter(det.landmarks, t, _size(r.box))
        else:
            tr.landmarks = None
            if tr.lm_filter.t is not None and t - tr.lm_filter.t > self.label_hold_s:
                tr.lm_filter.reset()
