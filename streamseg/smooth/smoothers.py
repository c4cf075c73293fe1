"""Temporal smoothers for skin probabilities: ``none``, ``ema``, ``uncertainty``, ``motion``, ``still``, ``hysteresis``.

A smoother receives each frame's probability (float32 (H, W) in [0, 1]) and the frame it came
from (BGR uint8 (H, W, 3)) and returns the smoothed probability. The blend filters (``ema``,
``uncertainty``, ``motion``) each give a per-pixel weight ``w`` of the new frame and the state
moves ``state += w * (new - state)``; when several are joined (``uncertainty+motion``) a pixel
takes the largest weight, i.e. it passes at once if any filter says so. ``hysteresis`` works on
the binary mask after the blend: a pixel switches on at ``t_high`` and off below ``t_low``.
``still`` is ``motion`` (with its own settings) plus a hysteresis band that exists only where the
picture is still: where the picture changes the band shrinks to the threshold, so a hand entering
is followed in the same frame, and where nothing moves the mask holds until the probability
leaves the band. A smoother keeps its state until :meth:`Smoother.reset`: the pipeline's
processor resets it, with every other stage, on a new source, a scene cut or a frame of another
size (:class:`~streamseg.pipeline.processor.Processor`); a probability of another size than the
state's starts it afresh too.

The probability may be smaller than the frame (a model's native map: the caller upsamples the
result once); the frame only feeds the motion test. A probability
wider than ``grid.max_width`` is smoothed on a grid of that width (``cv2.resize`` INTER_AREA
down, INTER_LINEAR back up to the size it came in).

Example:
    >>> import numpy as np
    >>> from streamseg.smooth import make_smoother
    >>> sm = make_smoother("ema", {"alpha": 0.5})
    >>> frame = np.zeros((2, 2, 3), np.uint8)
    >>> float(sm.update(np.ones((2, 2), np.float32), frame)[0, 0])
    1.0
    >>> float(sm.update(np.zeros((2, 2), np.float32), frame)[0, 0])
    0.5
"""

from __future__ import annotations

import abc

import cv2
import numpy as np

from streamseg.errors import ConfigError
from streamseg.smooth.config import load_settings

#: blend filters, in the order their names are written in a normalised spec
BLENDS = ("ema", "uncertainty", "motion", "still")
#: every name a spec may contain
NAMES = ("none", *BLENDS, "hysteresis")


class Smoother(abc.ABC):
    """What the pipeline calls once per frame.

    ``update`` returns a float32 (H, W) array in [0, 1] that the smoother keeps no reference
    to, so the caller may keep or modify it: a new array on every call (``none`` returns the
    input probability itself).
    """

    #: normalised spec, e.g. ``"motion+hysteresis"``
    spec: str = ""

    @abc.abstractmethod
    def update(self, prob: np.ndarray, frame: np.ndarray | None) -> np.ndarray:
        """prob: float32 (H, W) in [0, 1]; frame: the BGR uint8 (H, W, 3) it was computed from
        (``None`` is refused by ``motion``). Returns float32 (H, W) in [0, 1]."""

    @abc.abstractmethod
    def reset(self) -> None:
        """Forget every frame seen so far (reconnect, new file, ``Frame.reset``)."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.spec!r}>"


def _check(prob: np.ndarray, frame: np.ndarray | None) -> np.ndarray:
    if not isinstance(prob, np.ndarray) or prob.ndim != 2:
        desc = f"{prob.dtype} {prob.shape}" if isinstance(prob, np.ndarray) else type(prob).__name__
        raise ValueError(f"expected a float32 probability of shape (H, W), got {desc}")
    if frame is not None:
        if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
            desc = f"{frame.dtype} {frame.shape}" if isinstance(frame, np.ndarray) else type(frame).__name__
            raise ValueError(f"expected a BGR uint8 frame of shape (H, W, 3), got {desc}")
        if prob.shape[0] > frame.shape[0] or prob.shape[1] > frame.shape[1]:
            raise ValueError(f"frame {frame.shape[:2]} and probability {prob.shape} sizes differ: the probability may be smaller, not larger")
    return prob.astype(np.float32, copy=False)


class _Motion:
    """Motion analysis of consecutive frames on grey thumbnails ``scale`` times smaller.

    With ``flow`` the previous thumbnail is first warped onto the current one by DIS optical
    flow (OpenCV, ultrafast preset), so a pan or a moving arm is followed rather than let
    through: the difference left is what the flow cannot explain (a hand entering, occlusions,
    new objects), and the smoother's state is moved along the same flow. The difference is
    box-blurred so a changing image edge also frees the mask pixels next to it, then mapped
    linearly from ``diff_low`` (weight ``static_weight``) to ``diff_high`` (weight 1).
    """

    def __init__(
        self, static_weight: float, diff_low: float, diff_high: float, scale: int, blur: int, flow: bool = False,
        memory: bool = False, colour: bool = False,
    ) -> None:
        self.static_weight = static_weight
        #: difference of BGR thumbnails (largest channel) instead of grey: a skin edge against a
        #: background of the same brightness still counts as moving
        self.colour = colour
        #: compare with a per-pixel reference (the thumbnail as it was when the pixel last moved)
        #: instead of the previous frame, so slow changes add up until they count as motion
        self.memory = memory
        self.diff_low = diff_low
        self.diff_high = diff_high
        self.scale = scale
        self.blur = blur
        self._dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST) if flow else None
        self._prev: np.ndarray | None = None
        self._grids: dict[tuple[int, int], np.ndarray] = {}

    def reset(self) -> None:
        self._prev = None

    def grid(self, h: int, w: int) -> np.ndarray:
        """float32 (h, w, 2) of (x, y) pixel coordinates (cached per size)."""
        g = self._grids.get((h, w))
        if g is None:
            xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
            g = self._grids[(h, w)] = np.dstack([xs, ys])
        return g

    def thumbnail(self, frame: np.ndarray) -> np.ndarray:
        """BGR uint8 (H, W, 3) -> grey uint8 (H / scale, W / scale), at least 8 x 8; with
        ``colour`` the BGR uint8 thumbnail of that size instead.

        At scale 4 the colour thumbnail is the mean of 2 x 2 pixels in each 4 x 4 block (rows 0 and
        2, columns 1 and 2): one ``cv2.resize`` INTER_LINEAR of the row-strided view. 0.27 ms for a
        720p frame, against 1.5 ms for the numba mean of 2 x 4 pixels it replaced and 1.85 ms for
        INTER_AREA (one core, loaded); the still-pixel flicker it leads to is the same within
        0.01 of per-frame (docs/smoothing.md, third round). Other scales: INTER_AREA.
        """
        h, w = frame.shape[:2]
        sw, sh = max(8, w // self.scale), max(8, h // self.scale)
        if not self.colour:
            return cv2.resize(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), (sw, sh), interpolation=cv2.INTER_AREA)
        if self.scale != 4 or w // 4 < 8 or h // 4 < 8:
            return cv2.resize(frame, (sw, sh), interpolation=cv2.INTER_AREA)
        # INTER_LINEAR at exactly 2:1 down the rows and 4:1 across averages rows 4i, 4i + 2 and
        # columns 4j + 1, 4j + 2 of each block: four pixels, one pass, no copy of the frame
        return cv2.resize(frame[: sh * 4 : 2, : sw * 4], (sw, sh), interpolation=cv2.INTER_LINEAR)

    def _absdiff(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """float32 (h, w) absolute difference (the largest over B, G, R for colour thumbnails)."""
        if a.ndim == 3 and _numba_ok():
            from streamseg.smooth.kernels import max_channel_diff

            out = np.empty(a.shape[:2], np.float32)
            max_channel_diff(a, b, out)
            return out
        d = cv2.absdiff(a, b)
        if d.ndim == 3:
            d = np.max(d, axis=2)
        return d.astype(np.float32)

    def analyse(self, grey: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Grey thumbnail of the frame (:meth:`thumbnail`) -> (weight float32 (h, w) in
        [static_weight, 1], flow float32 (h, w, 2) in thumbnail pixels pointing to where each
        pixel was in the previous frame, or ``None`` without ``flow``); (None, None) for a first frame."""
        sh, sw = grey.shape[:2]
        prev, self._prev = self._prev, grey
        if prev is None or prev.shape != grey.shape:
            return None, None
        if self.memory or self.colour:
            # per-pixel reference: the grey as it was when the pixel last moved (or the first frame)
            diff = self._absdiff(grey, prev)
            if self.blur > 1:
                diff = cv2.blur(diff, (self.blur, self.blur))
            # the reference moves on only where the change counted in full, so slow changes
            # (a drift of a level a frame) add up to motion instead of staying "still" for ever
            if self.memory:
                sel = diff >= self.diff_high
                self._prev = np.where(sel[..., None] if grey.ndim == 3 else sel, grey, prev)
            gain = (1.0 - self.static_weight) / (self.diff_high - self.diff_low)
            return np.clip(self.static_weight + (diff - self.diff_low) * gain, self.static_weight, 1.0), None
        flow = None
        if self._dis is not None:
            flow = self._dis.calc(grey, prev, None)
            prev = cv2.remap(prev, self.grid(sh, sw) + flow, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        diff = cv2.absdiff(grey, prev).astype(np.float32)
        if self.blur > 1:
            diff = cv2.blur(diff, (self.blur, self.blur))
        gain = (1.0 - self.static_weight) / (self.diff_high - self.diff_low)
        weight = np.clip(self.static_weight + (diff - self.diff_low) * gain, self.static_weight, 1.0)
        return weight, flow

    def full_map(self, flow: np.ndarray, h: int, w: int) -> np.ndarray:
        """Thumbnail flow -> full-size CV_32FC2 map for ``cv2.remap`` (NumPy path)."""
        full = cv2.resize(flow, (w, h), interpolation=cv2.INTER_LINEAR)
        full *= np.array([w / flow.shape[1], h / flow.shape[0]], np.float32)
        full += self.grid(h, w)
        return full


_NUMBA_OK: bool | None = None


def _numba_ok() -> bool:
    global _NUMBA_OK
    if _NUMBA_OK is None:
        from streamseg.smooth.kernels import numba_error

        reason = numba_error()
        if reason:
            from streamseg import log

            log.warn(f"numba cannot run the smoothing kernel ({reason}); using the slower NumPy path")
        _NUMBA_OK = reason is None
    return _NUMBA_OK


class TemporalSmoother(Smoother):
    """Blend filters (any of ``ema``, ``uncertainty``, ``motion``), then optional hysteresis.

    Built by :func:`~streamseg.smooth.make_smoother`; ``settings`` is the validated dict of
    :func:`~streamseg.smooth.config.load_settings`. ``backend`` is ``auto`` (numba kernel when
    it runs here), ``numba`` or ``numpy``.
    """

    def __init__(self, blends: tuple[str, ...], hysteresis: bool, settings: dict, backend: str = "auto") -> None:
        if backend not in ("auto", "numba", "numpy"):
            raise ValueError(f"backend must be auto, numba or numpy, got {backend!r}")
        if "still" in blends and "motion" in blends:
            raise ConfigError("'still' already contains 'motion': join it with ema or uncertainty only")
        self.blends = blends
        #: ``still``: motion-gated hysteresis (implies hysteresis; the band is [hysteresis])
        self.gate = "still" in blends
        self.hysteresis = hysteresis or self.gate
        self.settings = settings
        self.spec = "+".join([*blends, *(["hysteresis"] if hysteresis and not self.gate else [])]) or "none"
        self.max_width = int(settings["grid"]["max_width"])
        self.alpha = float(settings["ema"]["alpha"]) if "ema" in blends else None
        un = settings["uncertainty"]
        self.use_unc = "uncertainty" in blends
        self.min_weight, self.gamma = float(un["min_weight"]), float(un["gamma"])
        if self.gate:
            st = settings["still"]
            self.motion: _Motion | None = _Motion(
                st["static_weight"], st["diff_low"], st["diff_high"], st["scale"], st["blur"], False, st["memory"], st["colour"]
            )
            self.gate_gain = 1.0 / (1.0 - st["static_weight"]) if st["static_weight"] < 1.0 else 0.0
            self.jump = float(st["jump"])
            self.hold = int(st["hold"])
        else:
            self.motion = _Motion(**settings["motion"]) if "motion" in blends else None
            self.gate_gain = 0.0
            self.jump = 0.0
            self.hold = 0
        self._held: np.ndarray | None = None
        hy = settings["hysteresis"]
        self.t_high, self.t_low = np.float32(hy["t_high"]), np.float32(hy["t_low"])
        self.threshold = np.float32(hy["threshold"])
        # the largest float32 below the threshold: "off" pixels are clamped to it
        self._below = np.nextafter(self.threshold, np.float32(-1))
        self.backend = backend
        self._state: np.ndarray | None = None
        self._on: np.ndarray | None = None
        self._spare: tuple[np.ndarray, np.ndarray] | None = None
        self._no_motion: np.ndarray | None = None
        if backend == "auto" and (blends or hysteresis):
            _numba_ok()  # compile (or load from the disk cache) now, not on the first frame

    def reset(self) -> None:
        self._state = None
        self._on = None
        self._held = None
        if self.motion is not None:
            self.motion.reset()

    def _held_buf(self, h: int, w: int) -> np.ndarray:
        """uint8 (h, w) debounce counters of ``still.hold`` (the kernel keeps them even without
        hold, where they never reach its 255)."""
        if self._held is None or self._held.shape != (h, w):
            self._held = np.zeros((h, w), np.uint8)
        return self._held

    def _use_numba(self) -> bool:
        return self.backend == "numba" or (self.backend == "auto" and _numba_ok())

    def grid_shape(self, h: int, w: int) -> tuple[int, int]:
        """(height, width) of the grid a probability of (h, w) is smoothed on: (h, w) itself up to
        ``grid.max_width`` (0 = no limit), else scaled to that width (aspect kept)."""
        if self.max_width and w > self.max_width:
            return max(1, round(h * self.max_width / w)), self.max_width
        return h, w

    def update(self, prob: np.ndarray, frame: np.ndarray | None) -> np.ndarray:
        prob = _check(prob, frame)
        if not self.blends and not self.hysteresis:
            return prob  # `none` keeps no state
        h, w = prob.shape
        gh, gw = self.grid_shape(h, w)
        if (gh, gw) != (h, w) and (self.blends or self.hysteresis):
            small = cv2.resize(prob, (gw, gh), interpolation=cv2.INTER_AREA)
            return cv2.resize(self._update(small, frame, True), (w, h), interpolation=cv2.INTER_LINEAR)
        return self._update(prob, frame, frame is not None and prob.shape != frame.shape[:2])

    def _update(self, prob: np.ndarray, frame: np.ndarray | None, snap: bool = False) -> np.ndarray:
        """One frame at grid size: prob float32 (h, w) in [0, 1] -> float32 (h, w) in [0, 1].

        ``snap``: the result will be upsampled (the grid, or a model's native map), so the
        hysteresis pushes a held value to the band's edge of its decision rather than to the
        threshold: interpolated, the mask's boundary then stays put while the decision holds
        (still-pixel flicker on the native path of the 256-px selfie-skin 0.31 / 0.42 / 0.41 ->
        0.25 / 0.39 / 0.37 of per-frame, docs/smoothing.md)."""
        if self.motion is not None and frame is None:
            raise ValueError("the motion smoother needs the frame")
        thumb = self.motion.thumbnail(frame) if self.motion is not None else None
        if self._state is not None and self._state.shape != prob.shape:
            self.reset()
        if not self.blends and not self.hysteresis:
            return prob
        wsmall, flow = self.motion.analyse(thumb) if self.motion is not None else (None, None)
        if self._state is None:
            # first frame of a scene: nothing to blend with
            self._state = prob.copy()
            if not self.hysteresis:
                return prob.copy()
            self._on = prob >= self.threshold
            return np.where(self._on, np.maximum(prob, self.threshold), np.minimum(prob, self._below))
        if self._use_numba():
            return self._step_numba(prob, wsmall, flow, snap)
        return self._step_numpy(prob, wsmall, flow, snap)

    def _prepare(
        self, prob: np.ndarray, wsmall: np.ndarray | None, flow: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """What both backends blend with, at grid size (h, w): the state and the hysteresis mask,
        warped along the flow when there is one, and the motion weight resized to (h, w)
        (``cv2.resize`` INTER_LINEAR; ``None`` without motion)."""
        h, w = prob.shape
        state, on_prev = self._state, self._on
        if flow is not None:
            full = self.motion.full_map(flow, h, w)
            state = cv2.remap(state, full, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            if on_prev is not None:
                on_prev = cv2.remap(on_prev.view(np.uint8), full, None, cv2.INTER_NEAREST, borderMode=cv2.BORDER_REPLICATE).view(bool)
        wm = cv2.resize(wsmall, (w, h), interpolation=cv2.INTER_LINEAR) if wsmall is not None else None
        return state, on_prev, wm

    def _confidence(self, prob: np.ndarray) -> np.ndarray:
        """float32 |2p - 1| ** gamma of ``uncertainty`` (before its floor ``min_weight``)."""
        conf = np.abs(prob * np.float32(2.0) - np.float32(1.0))
        if self.gamma != 1.0:
            conf **= np.float32(self.gamma)
        return conf

    def _step_numba(self, prob: np.ndarray, wsmall: np.ndarray | None, flow: np.ndarray | None, snap: bool) -> np.ndarray:
        from streamseg.smooth.kernels import smooth_step

        h, w = prob.shape
        state, on_prev, wm = self._prepare(prob, wsmall, flow)
        if self._spare is None or self._spare[0].shape != prob.shape:
            self._spare = (np.empty((h, w), np.float32), np.zeros((h, w), bool))
            self._no_motion = np.full((h, w), -1.0, np.float32)  # wm without motion: never the largest weight
        state_out, on_out = self._spare
        if wm is None:
            wm = self._no_motion
        if on_prev is None:
            on_prev = on_out  # not read without hysteresis
        # no blend filter at all (plain hysteresis): the new value passes in full
        fixed = self.alpha if self.alpha is not None else (-1.0 if self.use_unc or self.motion is not None else 1.0)
        prob = np.ascontiguousarray(prob)
        conf = self._confidence(prob) if self.use_unc else prob  # not read without uncertainty
        result = np.empty((h, w), np.float32)
        f = np.float32
        smooth_step(
            prob, state, state_out, result, conf, wm,
            f(fixed), self.use_unc, f(self.min_weight), f(self.jump),
            on_prev, on_out, self.hysteresis, self.t_high, self.t_low, self.threshold, self._below,
            f(self.gate_gain if self.gate else 0.0), f(0.0 if self.gate else 1.0), self.hold or 255, self._held_buf(h, w), snap,
        )  # fmt: skip
        # swap the double buffers: the next frame writes into the arrays this one read
        self._spare = (self._state, self._on if self._on is not None else on_prev)
        self._state = state_out
        if self.hysteresis:
            self._on = on_out
        return result

    def _step_numpy(self, prob: np.ndarray, wsmall: np.ndarray | None, flow: np.ndarray | None, snap: bool) -> np.ndarray:
        h, w = prob.shape
        state, on_prev, wm = self._prepare(prob, wsmall, flow)
        weights: list[np.ndarray | float] = []
        if self.alpha is not None:
            weights.append(np.float32(self.alpha))
        if self.use_unc:
            weights.append(np.maximum(self._confidence(prob), np.float32(self.min_weight)))
        if wm is not None:
            if self.jump > 0.0:
                # a large change of the probability itself counts as motion (the kernel's jump)
                dj = np.clip((np.abs(prob - state) * np.float32(2.0) - np.float32(self.jump)) / np.float32(self.jump), 0.0, 1.0)
                wm = np.maximum(wm, dj.astype(np.float32))
            weights.append(wm)
        wt: np.ndarray | float = np.float32(1.0)
        if weights:
            wt = weights[0]
            for other in weights[1:]:
                wt = np.maximum(wt, other)
        out = prob - state
        out *= wt
        out += state
        self._state = out
        if not self.hysteresis:
            return out.copy()
        if self.gate:
            still = np.float32(1.0) - (wm if wm is not None else np.float32(1.0))
            still = np.clip(still * np.float32(self.gate_gain), np.float32(0.0), np.float32(1.0))
            th = self.threshold + (self.t_high - self.threshold) * still
            tl = self.threshold + (self.t_low - self.threshold) * still
            on = (out >= th) | (on_prev & (out >= tl))
            if self.hold:
                held = self._held_buf(h, w)
                plain = out >= self.threshold
                differ = on != plain
                k = np.where(differ, held.astype(np.int32) + 1, 0)
                release = k >= self.hold
                on = np.where(release, plain, on)
                held[:] = np.where(release, 0, k).astype(np.uint8)
        else:
            th, tl = self.t_high, self.t_low
            on = (out >= th) | (on_prev & (out >= tl))
        self._on = on
        # keep the soft values but make `result >= threshold` equal the hysteresis mask; with
        # `snap`, values inside the band go to its edge on their side (see `_update`)
        e_on, e_off = (th, np.minimum(tl, self._below)) if snap else (self.threshold, self._below)
        return np.where(on, np.maximum(out, e_on), np.minimum(out, e_off)).astype(np.float32)


def split_spec(spec: str) -> tuple[str, dict[str, str]]:
    """Settings written into a spec: ``"still:static_weight=0.05:hold=0+uncertainty"`` ->
    ``("still+uncertainty", {"still.static_weight": "0.05", "still.hold": "0"})``. Each name may
    carry ``:key=value`` settings of its own section; ``grid`` and ``scene_cut`` parts carry
    settings only (``"motion+grid:max_width=0"``). A spec without ``:`` is returned as it is.

    Raises:
        ConfigError: a setting without ``=``.
    """
    if not isinstance(spec, str) or ":" not in spec:
        return spec, {}
    names, params = [], {}
    for part in spec.split("+"):
        name, *settings = (x.strip() for x in part.split(":"))
        if name.lower() not in SETTINGS_ONLY:
            names.append(name)
        for kv in settings:
            k, eq, v = kv.partition("=")
            if not eq or not k.strip():
                raise ConfigError(f"--smooth {spec!r}: expected name:key=value, got {kv!r}")
            params[f"{name.lower()}.{k.strip()}"] = v.strip()
    return "+".join(names), params


#: spec parts that only carry settings (``+grid:max_width=0``)
SETTINGS_ONLY = ("grid", "scene_cut")


def parse_spec(spec: str) -> tuple[tuple[str, ...], bool]:
    """``"uncertainty+hysteresis"`` -> (("uncertainty",), True); ``"still"`` -> (("still",), True)
    (``still`` implies its gated hysteresis). Raises ConfigError on bad names."""
    if not isinstance(spec, str) or not spec.strip():
        raise ConfigError(f"--smooth needs a smoother name, got {spec!r}; known: {', '.join(NAMES)}")
    spec = split_spec(spec)[0]
    if not spec.strip():
        raise ConfigError(f"--smooth needs a smoother name, got {spec!r}; known: {', '.join(NAMES)}")
    parts = [p.strip().lower() for p in spec.split("+")]
    for p in parts:
        if p not in NAMES:
            raise ConfigError(f"unknown smoother {p!r} in --smooth {spec!r}; known: {', '.join(NAMES)} (joined with '+')")
    if len(set(parts)) != len(parts):
        raise ConfigError(f"--smooth {spec!r} names a smoother twice")
    if "none" in parts and len(parts) > 1 and any(p in BLENDS for p in parts):
        raise ConfigError(f"--smooth {spec!r} joins 'none' with a blend filter")
    if "still" in parts and "motion" in parts:
        raise ConfigError(f"--smooth {spec!r}: 'still' already contains 'motion'; join it with ema or uncertainty only")
    blends = tuple(b for b in BLENDS if b in parts)
    # `still` is motion-gated hysteresis: it always thresholds with the [hysteresis] band
    return blends, "hysteresis" in parts or "still" in parts


def smoothing_settings(spec: str, params: dict | None = None) -> tuple[tuple[str, ...], bool, dict]:
    """``(blends, hysteresis, settings)`` of a spec (see :func:`make_smoother`) and setting
    overrides, checked without building anything (no kernel is compiled).

    Raises:
        ConfigError: unknown smoother name, unknown setting, wrong type or out-of-range value.
    """
    names, inline = split_spec(spec)
    blends, hysteresis = parse_spec(names)
    sections = ("scene_cut", "grid", *blends, *(("hysteresis",) if hysteresis else ()))
    settings = load_settings({**inline, **(params or {})} if inline else params, sections)
    return blends, hysteresis, settings


def make_smoother(spec: str, params: dict | None = None, backend: str = "auto") -> Smoother:
    """Build the smoother named by ``spec`` (``none``, ``ema``, ``uncertainty``, ``motion``,
    ``still``, ``hysteresis`` or a ``+``-joined combination, each name optionally with
    ``:key=value`` settings, see :func:`split_spec`) with the defaults of
    :data:`streamseg.smooth.config.SCHEMA` overridden by the settings of the spec, then by
    ``params``. ``backend``: ``auto`` (the numba kernel when it runs here, else NumPy/OpenCV),
    ``numba`` or ``numpy``.

    Raises:
        ConfigError: unknown smoother name, unknown setting, wrong type or out-of-range value.
    """
    blends, hysteresis, settings = smoothing_settings(spec, params)
    return TemporalSmoother(blends, hysteresis, settings, backend)
