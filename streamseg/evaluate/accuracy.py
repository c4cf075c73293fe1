"""Scoring methods on an image/mask dataset: mIoU, pixel precision/recall/F1, time per image.

mIoU follows the original skin_segmentation project: IoU of each image's binary mask, then the
mean over images (IoU of two empty masks is 1). Precision, recall and F1 are pixel counts summed
over the images, then divided. Each method is reset before every image (images are independent).

Example:
    >>> import tempfile, pathlib, numpy as np, cv2
    >>> from streamseg.segment.base import Segmenter
    >>> class Everything(Segmenter):
    ...     name = "everything"
    ...     def segment(self, frame):
    ...         return np.ones(frame.shape[:2], np.float32)
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / "images").mkdir(); (root / "masks").mkdir()
    >>> _ = cv2.imwrite(str(root / "images/a.png"), np.zeros((2, 2, 3), np.uint8))
    >>> m = np.array([[255, 255], [0, 0]], np.uint8)
    >>> _ = cv2.imwrite(str(root / "masks/a.png"), m)
    >>> evaluate(root, {"everything": Everything()}).methods["everything"].miou
    0.5
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Mapping

import numpy as np

from streamseg.dataset import Sample, SkinDataset
from streamseg.errors import ConfigError, InputError, MethodError
from streamseg.evaluate.pairs import match_mask
from streamseg.metrics import Counts, counts
from streamseg.segment.base import Segmenter

MethodLike = Segmenter | Callable[[], Segmenter]


@dataclass
class ImageScore:
    """One method on one image: its pixel counts, IoU and the time ``segment`` took."""

    id: str
    source: str
    counts: Counts
    ms: float

    @property
    def iou(self) -> float:
        return self.counts.iou


@dataclass
class SourceSummary:
    """Aggregates over a group of images (one source, or all of them)."""

    n: int
    miou: float
    precision: float
    recall: float
    f1: float
    ms_per_image: float


def summarize(scores: Iterable[ImageScore]) -> SourceSummary:
    """mIoU (mean of per-image IoU) and pixel precision/recall/F1 of summed counts."""
    scores = list(scores)
    total = Counts()
    for s in scores:
        total += s.counts
    n = len(scores)
    return SourceSummary(
        n=n,
        miou=float(np.mean([s.iou for s in scores])) if n else float("nan"),
        precision=total.precision,
        recall=total.recall,
        f1=total.f1,
        ms_per_image=float(np.mean([s.ms for s in scores])) if n else float("nan"),
    )


@dataclass
class MethodResult:
    """Every image score of one method plus what ran (``provider``, ``kind``)."""

    name: str
    provider: str = ""
    kind: str = ""
    scores: list[ImageScore] = field(default_factory=list)

    @property
    def overall(self) -> SourceSummary:
        return summarize(self.scores)

    @property
    def miou(self) -> float:
        return self.overall.miou

    @property
    def precision(self) -> float:
        return self.overall.precision

    @property
    def recall(self) -> float:
        return self.overall.recall

    @property
    def f1(self) -> float:
        return self.overall.f1

    @property
    def ms_per_image(self) -> float:
        """Mean milliseconds of one ``segment`` call over the images (after a warm-up)."""
        return self.overall.ms_per_image

    @property
    def ms_median(self) -> float:
        return float(np.median([s.ms for s in self.scores])) if self.scores else float("nan")

    def per_source(self) -> dict[str, SourceSummary]:
        """Source name -> summary, sources sorted by name."""
        groups: dict[str, list[ImageScore]] = {}
        for s in self.scores:
            groups.setdefault(s.source, []).append(s)
        return {src: summarize(groups[src]) for src in sorted(groups)}

    def worst(self, k: int = 5) -> list[ImageScore]:
        """The ``k`` images with the lowest IoU (ties by id)."""
        return sorted(self.scores, key=lambda s: (s.iou, s.id))[:k]


@dataclass
class Unscored:
    """An image left out of the scores and why (no mask, size mismatch, undecodable)."""

    id: str
    source: str
    reason: str


@dataclass
class EvalResult:
    """The outcome of :func:`evaluate`."""

    dataset: str
    split: str
    threshold: float
    methods: dict[str, MethodResult]
    unscored: list[Unscored] = field(default_factory=list)
    n_resized: int = 0  # masks resized to their image (same aspect ratio, other resolution)
    failed: dict[str, str] = field(default_factory=dict)  # method -> error (with skip_failing)
    seconds: float = 0.0
    samples: dict[str, Sample] = field(default_factory=dict)  # id -> sample of every scored image

    @property
    def n_scored(self) -> int:
        return len(self.samples)

    def hardest(self, n: int) -> list[str]:
        """Ids of the ``n`` images with the lowest IoU averaged over the methods.

        Images whose ground truth has skin come first: on an empty mask a single false
        positive pixel already gives IoU 0, which says little about a method in a picture.
        """
        per_id: dict[str, list[float]] = {}
        empty: dict[str, bool] = {}
        for res in self.methods.values():
            for s in res.scores:
                per_id.setdefault(s.id, []).append(s.iou)
                empty[s.id] = s.counts.tp + s.counts.fn == 0
        return sorted(per_id, key=lambda i: (empty[i], float(np.mean(per_id[i])), i))[:n]


def choose_samples(
    ds: SkinDataset, split: str | None = "val", sources: list[str] | None = None, limit: int | None = None
) -> tuple[list[Sample], str]:
    """The samples to score and the split actually used.

    Without a manifest (or one without a ``split`` column) every pair counts and the split is
    ``all``. ``limit`` keeps that many samples spread evenly over the list, so every source
    stays represented.

    Raises:
        InputError: the split or a source does not exist, or nothing is left.
    """
    every = ds.samples()
    if not every:
        raise InputError(f"no images found in {ds.images_dir}")
    have_sources = sorted({s.source for s in every})
    if sources:
        missing = [s for s in sources if s not in have_sources]
        if missing:
            raise InputError(f"unknown source(s) {', '.join(missing)}; sources in {ds.root}: {', '.join(have_sources)}")
        every = [s for s in every if s.source in sources]
    splits = sorted({s.split for s in every})
    if split in (None, "all", "") or splits == ["all"]:
        chosen, used = every, "all"
    elif split not in splits:
        raise InputError(f"no images in split {split!r}; splits in {ds.root}: {', '.join(splits)} (or 'all')")
    else:
        chosen, used = [s for s in every if s.split == split], split
    if limit is not None:
        if limit < 1:
            raise ConfigError(f"--limit must be at least 1, got {limit}")
        if limit < len(chosen):
            idx = np.linspace(0, len(chosen) - 1, limit).round().astype(int)
            chosen = [chosen[i] for i in sorted(set(idx.tolist()))]
    return chosen, used


def check_prob(name: str, prob: np.ndarray, height: int, width: int, sample_id: str) -> None:
    """Raise MethodError unless ``prob`` is a (height, width) array."""
    if not isinstance(prob, np.ndarray) or prob.shape != (height, width):
        got = prob.shape if isinstance(prob, np.ndarray) else type(prob).__name__
        raise MethodError(f"method {name!r} returned {got} for {sample_id} ({width}x{height}); expected ({height}, {width})")


def evaluate(
    data: str | Path | SkinDataset,
    methods: Mapping[str, MethodLike],
    split: str | None = "val",
    threshold: float = 0.5,
    sources: list[str] | None = None,
    limit: int | None = None,
    progress: bool = False,
    skip_failing: bool = False,
) -> EvalResult:
    """Score each method on the image/mask pairs of ``data``.

    Args:
        data: a dataset folder (``images/``, ``masks/``, optional ``manifest.csv``) or a
            :class:`~streamseg.dataset.SkinDataset`.
        methods: name -> segmenter instance, or a zero-argument factory returning one
            (factories are created here and closed at the end; instances stay open).
        split: manifest split to score (``None``/``all`` = every pair).
        threshold: a pixel is skin when its probability is ``>= threshold``.
        sources, limit: see :func:`choose_samples`.
        progress: show a rich progress bar on stderr.
        skip_failing: a method that raises is dropped from the results (its error kept in
            ``result.failed``) instead of ending the run.

    Returns:
        :class:`EvalResult` with per-image counts and timings per method.

    Raises:
        ConfigError: bad threshold or no method. InputError: bad folder, split or source, or
        no pair can be scored. MethodError: a method returned the wrong shape.
    """
    if not 0.0 <= threshold <= 1.0:
        raise ConfigError(f"--threshold must be in [0, 1], got {threshold}")
    if not methods:
        raise ConfigError("no method to evaluate")
    ds = data if isinstance(data, SkinDataset) else SkinDataset(data)
    chosen, used_split = choose_samples(ds, split, sources, limit)

    segs: dict[str, Segmenter] = {}
    owned: list[Segmenter] = []
    try:
        for name, m in methods.items():
            if isinstance(m, Segmenter):
                segs[name] = m
            else:
                segs[name] = m()
                owned.append(segs[name])
        result = EvalResult(
            dataset=str(ds.root),
            split=used_split,
            threshold=threshold,
            methods={n: MethodResult(n, provider=str(s.provider), kind=s.kind) for n, s in segs.items()},
        )
        for name, seg in list(segs.items()):
            try:
                seg.warmup()  # numba compilation / session set-up must not land on the first image
            except Exception as exc:  # noqa: BLE001 - reported as one line
                err = exc if isinstance(exc, MethodError) else MethodError(f"method {name!r} failed to start: {type(exc).__name__}: {exc}")
                if not skip_failing:
                    raise err from exc
                result.failed[name] = str(err)
                del segs[name], result.methods[name]
                continue
            result.methods[name].provider = str(seg.provider)  # what really runs, known after the first call
        t_start = time.perf_counter()
        with _progress(progress, len(chosen)) as advance:
            for sample in chosen:
                _score_sample(ds, sample, segs, threshold, result, skip_failing)
                advance()
                if not segs:
                    break
        result.seconds = time.perf_counter() - t_start
    finally:
        for seg in owned:
            seg.close()
    if not result.methods:
        raise MethodError("every method failed: " + "; ".join(result.failed.values()))
    if not result.samples:
        reasons = sorted({u.reason.split(":")[0] for u in result.unscored})
        raise InputError(f"no image/mask pair could be scored in {ds.root} ({'; '.join(reasons) or 'empty'})")
    return result


def _score_sample(
    ds: SkinDataset, sample: Sample, segs: dict[str, Segmenter], threshold: float, result: EvalResult, skip_failing: bool
) -> None:
    if sample.mask is None:
        result.unscored.append(Unscored(sample.id, sample.source, "no mask file"))
        return
    try:
        image = ds.load_image(sample)
        mask = ds.load_mask(sample)
    except InputError as exc:
        result.unscored.append(Unscored(sample.id, sample.source, str(exc)))
        return
    h, w = image.shape[:2]
    truth = match_mask(mask, h, w)
    if truth is None:
        mh, mw = mask.shape
        result.unscored.append(
            Unscored(sample.id, sample.source, f"size mismatch: mask {mw}x{mh} vs image {w}x{h} (other aspect ratio)")
        )
        return
    if truth is not mask:
        result.n_resized += 1
    for name, seg in list(segs.items()):
        try:
            seg.reset()
            t0 = time.perf_counter()
            try:
                prob = seg(image)
            except MethodError:
                raise
            except Exception as exc:  # noqa: BLE001 - one line naming the method and the image
                raise MethodError(f"method {name!r} failed on {sample.id}: {type(exc).__name__}: {exc}") from exc
            ms = (time.perf_counter() - t0) * 1000.0
            check_prob(name, prob, h, w, sample.id)
        except MethodError as exc:
            if not skip_failing:
                raise
            result.failed[name] = str(exc)
            del segs[name], result.methods[name]
            continue
        result.methods[name].scores.append(ImageScore(sample.id, sample.source, counts(prob >= threshold, truth), ms))
    if segs:
        result.samples[sample.id] = sample


class _progress:
    """A rich progress bar on stderr (or nothing); ``with`` yields an ``advance()`` callable."""

    def __init__(self, enabled: bool, total: int) -> None:
        self.enabled, self.total, self.bar = enabled, total, None

    def __enter__(self) -> Callable[[], None]:
        if not self.enabled:
            return lambda: None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        from streamseg import log

        self.bar = Progress(
            TextColumn("scoring"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=log.console, transient=True
        )
        self.bar.start()
        task = self.bar.add_task("scoring", total=self.total)
        return lambda: self.bar.advance(task)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()
