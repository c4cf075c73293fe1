"""PNG figures: the example grid (image | ground truth | one column per method) and the
"which method should I use" plot (mIoU against ms per frame, one labelled point per method).

Matplotlib is used through :class:`matplotlib.figure.Figure` and the Agg canvas directly, so no
GUI backend and no global ``pyplot`` state are involved.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Mapping

import cv2
import numpy as np

from streamseg.dataset import Sample, SkinDataset
from streamseg.errors import OutputError
from streamseg.evaluate.pairs import match_mask
from streamseg.metrics import iou
from streamseg.segment import Segmenter

_KIND_COLOURS = {"classical": "tab:blue", "model": "tab:orange"}


def _figure(width_in: float, height_in: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path: Path) -> Path:
    try:
        fig.savefig(str(path), dpi=100)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return path


def method_choice_plot(points: Mapping[str, tuple[float, float, str]], path: Path, subtitle: str = "", xlabel: str = "") -> Path:
    """Scatter mIoU (y) against milliseconds per frame (x, log scale), one labelled point per method.

    Args:
        points: method -> (ms per frame, mIoU, kind); kind picks the colour.
        path: the PNG to write.
        subtitle: a line under the title (machine, data).
        xlabel: the x axis label (what the milliseconds are).
    """
    from matplotlib.ticker import FuncFormatter, LogLocator

    fig = _figure(7.5, 5.0)
    ax = fig.add_subplot(1, 1, 1)
    pts = [
        (name, max(ms, 1e-3), miou, kind)
        for name, (ms, miou, kind) in points.items()
        if math.isfinite(ms) and math.isfinite(miou)
    ]
    ax.set_xscale("log")
    if pts:
        xs, ys = [p[1] for p in pts], [p[2] for p in pts]
        # at least a decade wide, with room for the labels on the right
        lo, hi = min(xs), max(xs)
        span = max(hi / lo, 10.0)
        mid = math.sqrt(lo * hi)
        ax.set_xlim(mid / math.sqrt(span) / 1.5, mid * math.sqrt(span) * 2.0)
        pad = max(0.03, 0.1 * (max(ys) - min(ys)))
        ax.set_ylim(max(0.0, min(ys) - pad), min(1.0, max(ys) + pad))
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
    ax.set_xlabel(xlabel or "ms per frame (log scale) — left is faster")
    ax.set_ylabel("mIoU — higher is better")
    ax.grid(True, which="both", alpha=0.3)
    fig.suptitle("Which method should I use? (up and to the left is better)", fontsize=11)
    if subtitle:
        ax.set_title(subtitle, fontsize=8)
    fig.tight_layout()  # before placing labels: they are placed in the final pixel positions
    for name, x, miou, kind in pts:
        ax.scatter([x], [miou], s=50, color=_KIND_COLOURS.get(kind, "tab:green"), zorder=3)
    _place_labels(ax, [(p[0], p[1], p[2]) for p in pts])
    for kind, colour in _KIND_COLOURS.items():
        ax.scatter([], [], color=colour, label=kind)
    ax.legend(loc="best", fontsize=8)
    return _save(fig, path)


def _place_labels(ax, pts: list[tuple[str, float, float]], fontsize: int = 9) -> None:
    """Label each point, trying a few offsets so labels overlap neither other labels nor points."""
    to_px = ax.transData.transform
    char_w, line_h = 0.6 * fontsize, 1.2 * fontsize  # rough text box in points (~pixels at 100 dpi / 72)
    scale = ax.figure.dpi / 72.0
    dots = [tuple(to_px((x, y))) for _, x, y in pts]
    boxes: list[tuple[float, float, float, float]] = []

    frame = ax.get_window_extent()

    def overlaps(b: tuple[float, float, float, float]) -> bool:
        x0, y0, x1, y1 = b
        if x0 < frame.x0 or x1 > frame.x1 or y0 < frame.y0 or y1 > frame.y1:
            return True  # outside the axes: over the tick labels
        if any(x0 < bx1 and bx0 < x1 and y0 < by1 and by0 < y1 for bx0, by0, bx1, by1 in boxes):
            return True
        return any(x0 - 4 < dx < x1 + 4 and y0 - 4 < dy < y1 + 4 for dx, dy in dots)

    candidates = [(6, 3, "left"), (6, -13, "left"), (-6, 3, "right"), (-6, -13, "right"), (6, 14, "left"), (-6, 14, "right")]
    for (name, x, y), (px, py) in zip(pts, dots):
        w, h = len(name) * char_w * scale, line_h * scale
        chosen = candidates[0]
        for dx, dy, ha in candidates:
            x0 = px + dx * scale if ha == "left" else px + dx * scale - w
            box = (x0, py + dy * scale, x0 + w, py + dy * scale + h)
            if not overlaps(box):
                chosen = (dx, dy, ha)
                break
        dx, dy, ha = chosen
        x0 = px + dx * scale if ha == "left" else px + dx * scale - w
        boxes.append((x0, py + dy * scale, x0 + w, py + dy * scale + h))
        ax.annotate(name, (x, y), xytext=(dx, dy), textcoords="offset points", fontsize=fontsize, ha=ha, va="bottom")


def _thumb(img: np.ndarray, height: int) -> np.ndarray:
    h, w = img.shape[:2]
    return cv2.resize(img, (max(1, round(w * height / h)), height), interpolation=cv2.INTER_AREA)


def example_grid(
    ds: SkinDataset, samples: list[Sample], segmenters: Mapping[str, Segmenter], path: Path,
    threshold: float = 0.5, thumb_height: int = 160,
) -> Path:
    """A PNG grid, one row per sample: image | ground truth | one predicted mask per method
    (IoU in each title). Samples whose mask cannot be matched are left out.

    Args:
        ds: the dataset the samples come from.
        samples: the rows, e.g. the hardest images of an eval run.
        segmenters: method name -> segmenter (re-run on each sample).
        path: the PNG to write.
    """
    rows = []
    for s in samples:
        image = ds.load_image(s)
        truth = match_mask(ds.load_mask(s), *image.shape[:2]) if s.mask is not None else None
        if truth is None:
            continue
        preds = {}
        for name, seg in segmenters.items():
            seg.reset()
            preds[name] = seg(image) >= threshold
        rows.append((s, image, truth, preds))
    ncols = 2 + len(segmenters)
    fig = _figure(1.9 * ncols, 1.75 * max(1, len(rows)) + 0.3)
    for r, (s, image, truth, preds) in enumerate(rows):
        short_id = s.id if len(s.id) <= 26 else s.id[:12] + "…" + s.id[-12:]
        cells = [("image", cv2.cvtColor(_thumb(image, thumb_height), cv2.COLOR_BGR2RGB), short_id),
                 ("ground truth", _thumb(truth.astype(np.uint8) * 255, thumb_height), s.source)]
        cells += [(name, _thumb(p.astype(np.uint8) * 255, thumb_height), f"IoU {iou(p, truth):.2f}") for name, p in preds.items()]
        for c, (title, pic, label) in enumerate(cells):
            ax = fig.add_subplot(len(rows), ncols, r * ncols + c + 1)
            ax.imshow(pic, cmap="gray" if pic.ndim == 2 else None, vmin=0, vmax=255)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_xlabel(label, fontsize=7)
            if r == 0:
                ax.set_title(title, fontsize=8)
    fig.tight_layout()
    return _save(fig, path)
