"""Image runs: every image is a source of its own (state reset before each), written by an
:class:`~streamseg.sinks.images.ImageFileSink`; an image that fails is reported and skipped.

Example:
    >>> import numpy as np, tempfile, pathlib, cv2
    >>> from streamseg.segment import create
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = cv2.imwrite(str(d / "a.png"), np.zeros((4, 4, 3), np.uint8))
    >>> rep = run_images([d / "a.png"], create("ellipse"), sinks=[ImageFileSink(d / "out", ("mask",))])
    >>> rep.done, rep.failed, sorted(p.name for p in (d / "out").iterdir())
    (1, 0, ['a_mask.png'])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from streamseg import log
from streamseg.errors import OutputError, StreamsegError
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
    renderers: Mapping[str, Callable[[Any], Any]] | None = None,
) -> ImagesReport:
    """Segment each image (BGR uint8 after :func:`~streamseg.capture.image.read_image`) into ``sinks``.

    ``renderers`` (output type -> ``FrameResult -> picture``, see
    :func:`streamseg.pipeline.outputs.renderers`) render the effect types once per image, before
    the sinks, so ``result.picture(t)`` finds them (``alpha`` is BGRA, written as an RGBA PNG).

    Temporal state is reset before every image (each is a new source). Errors of one image
    (unreadable, unwritable output) are counted, and logged as warnings when there are several images; the run goes on.
    """
    from streamseg.capture.image import read_image

    render = dict(renderers or {})
    processor = Processor(segmenter, None, threshold, output_types=tuple(render), renderers=render)
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
    report.written = sum(getattr(s, "written", 0) for s in sinks)
    for sink in sinks:
        sink.close()
    return report
