"""Image runs: every image is a source of its own (state reset before each), written by an
:class:`~streamseg.sinks.images.ImageFileSink`; an image that fails is reported and skipped.

Example:
    >>> import numpy as np, tempfile, pathlib, cv2
    >>> from streamseg.effects import make_effect
    >>> from streamseg.segment import create
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = cv2.imwrite(str(d / "a.png"), np.zeros((4, 4, 3), np.uint8))
    >>> with ImageFileSink(d / "out", ("mask",)) as sink:
    ...     rep = run_images([d / "a.png"], create("ellipse"), sinks=[sink], effects={"mask": make_effect("mask")})
    >>> rep.done, rep.failed, sorted(p.name for p in (d / "out").iterdir())
    (1, 0, ['a_mask.png'])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from streamseg import log
from streamseg.errors import IncompleteError, InputError, OutputError, StreamsegError
from streamseg.frames import Frame
from streamseg.pipeline.processor import Processor
from streamseg.segment.base import Segmenter
from streamseg.sinks.images import ImageFileSink


@dataclass
class ImagesReport:
    """What an image run did: images done and failed, files written, the errors (one line each)."""

    done: int = 0
    failed: int = 0
    #: of ``failed``, the images whose outputs could not be written (the rest could not be read)
    output_failed: int = 0
    written: int = 0
    errors: list[str] = field(default_factory=list)


def run_images(
    paths: Sequence[Path],
    segmenter: Segmenter,
    threshold: float = 0.5,
    sinks: Sequence[Any] = (),
    effects: Mapping[str, Any] | None = None,
) -> ImagesReport:
    """Segment each image (BGR uint8 after :func:`~streamseg.capture.image.read_image`) into ``sinks``.

    ``effects`` (output type -> configured :class:`~streamseg.effects.base.Effect`) render
    their types once per image, before the sinks, into ``result.pictures`` (``alpha`` is BGRA,
    written as an RGBA PNG).

    Temporal state is reset before every image (each is a new source). Errors of one image
    (unreadable, unwritable output) are counted, and logged as warnings when there are several images; the run goes on.
    The sinks are written, not closed (their owner closes them).
    """
    from streamseg.capture.image import read_image

    processor = Processor(segmenter, None, threshold, output_types=tuple(effects or ()), effects=effects, scene_cut=False)
    report = ImagesReport()
    for i, path in enumerate(paths):
        try:
            img = read_image(path)
            result = processor.process(Frame(img, index=i, time=0.0, reset=True, source=str(path)))
            for sink in sinks:
                sink.write(result)
            report.done += 1
        except StreamsegError as exc:
            report.failed += 1
            report.output_failed += isinstance(exc, OutputError)
            report.errors.append(str(exc))
            if len(paths) > 1:  # the run's one error line names the first; each is listed as it happens
                log.warn(f"{exc} (skipped)")
    return report


def run(paths: Any, out_dir: Path | str | None, spec: Any, *, overwrite: bool = False) -> ImagesReport:
    """An image run of ``spec`` (:class:`~streamseg.pipeline.spec.RunSpec`): every output
    checked before anything loads, then :func:`~streamseg.pipeline.build.build` (no smoothing:
    every image is a source of its own), then :func:`run_images`.

    Args:
        paths: image files, folders and globs (one, or a list).
        out_dir: output folder (default: next to each image), or a ``.png`` file name for one image.
        overwrite: replace existing files.

    Raises:
        InputError: no image found. OutputError: outputs of some images could not be written.
        IncompleteError: some images could not be read (after the others are done).
    """
    from streamseg.capture.image import expand_inputs
    from streamseg.pipeline import outputs as out
    from streamseg.pipeline.build import build

    types = out.check_output_types(spec.output.types_or(["mask"]), extra=("prob",))
    items = [str(paths)] if isinstance(paths, (str, Path)) else [str(p) for p in paths]
    files = expand_inputs(items)
    sink = ImageFileSink(Path(out_dir) if out_dir else None, types, overwrite)
    files = sink.check(without_own_outputs(files, items, sink))  # every output, before anything loads
    parts = build(spec, output_types=types, rois=False)
    with sink:
        report = run_images(files, parts.segmenter, spec.output.threshold, sinks=[sink], effects=parts.effects)
        report.written = sink.close().written
    log.info(f"{report.done} of {len(files)} images done, {report.written} files written")
    if report.output_failed:
        raise OutputError(f"{report.output_failed} of {len(files)} images could not be written: {report.errors[0]}")
    if report.failed:
        raise IncompleteError(f"{report.failed} of {len(files)} images could not be read: {report.errors[0]}")
    return report


def without_own_outputs(files: list[Path], items: Sequence[str], sink: ImageFileSink) -> list[Path]:
    """Drop, from what folders and globs found, the files a run like this one writes
    (``<stem>_<type>.png`` in the output folder), so a second run does not segment its own
    masks; files named one by one are kept.

    Raises:
        InputError: nothing is left.
    """
    from streamseg.sinks.images import IMAGE_OUTPUT_TYPES

    named = {Path(i).resolve() for i in items if Path(i).is_file()}
    suffixes = tuple(f"_{t}" for t in IMAGE_OUTPUT_TYPES)
    kept = []
    for f in files:
        folder = sink.folder if sink.folder is not None else f.parent
        own = f.suffix.lower() == ".png" and f.stem.endswith(suffixes) and folder.resolve() == f.parent.resolve()
        if own and f.resolve() not in named:
            continue
        kept.append(f)
    if len(kept) < len(files):
        log.info(f"skipped {len(files) - len(kept)} files named like this command's outputs (<stem>_<type>.png)")
    if not kept:
        raise InputError(f"no images left: every file found is named like an output of streamseg image ({', '.join(items)})")
    return kept
