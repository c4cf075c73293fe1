"""Image files for still images: ``<stem>_<type>.png`` per output type, written safely.

Example:
    >>> import numpy as np, tempfile, pathlib
    >>> from streamseg.frames import Frame, FrameResult
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> sink = ImageFileSink(d, ("mask", "prob"))
    >>> m = np.eye(3, dtype=bool)
    >>> r = FrameResult(Frame(np.zeros((3, 3, 3), np.uint8), 0, 0.0), m.astype(np.float32), m, pictures={"mask": m * np.uint8(255)})
    >>> sink.write_for(r, d / "a.jpg")
    >>> sorted(p.name for p in d.iterdir())
    ['a_mask.png', 'a_prob.png']
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from streamseg.errors import OutputError
from streamseg.frames import FrameResult
from streamseg.effects.registry import EFFECTS
from streamseg.sinks.base import Sink, SinkReport
from streamseg.sinks.output_path import commit, discard, partial_path, prepare_output

#: what ``streamseg image`` writes: the output types of :mod:`streamseg.effects` plus ``prob``
#: (8-bit probability); ``alpha`` is written as an RGBA PNG
IMAGE_OUTPUT_TYPES = (*EFFECTS, "prob")


def image_picture(result: FrameResult, output_type: str) -> np.ndarray:
    """The picture saved for ``output_type``: ``prob`` as 8-bit probability (uint8 HxW), the
    others as the run's processor rendered them (``mask``: 0/255 grey; BGR; BGRA for ``alpha``)."""
    if output_type == "prob":
        return (result.prob * 255 + 0.5).astype(np.uint8)
    return result.pictures[output_type]


def encode_picture(result: FrameResult, output_type: str) -> bytes:
    """The PNG file of :func:`image_picture` (what ``streamseg image`` writes, byte for byte).

    Raises:
        OutputError: the picture cannot be encoded.
    """
    import cv2

    ok, buf = cv2.imencode(".png", image_picture(result, output_type))
    if not ok:
        raise OutputError(f"cannot encode the {output_type} picture as PNG")
    return buf.tobytes()


def write_image_outputs(result: FrameResult, outputs: Mapping[str, Path], source: Path, overwrite: bool = False) -> int:
    """Write the PNG of each output type of ``result`` to its path (output type -> path), each
    under a temporary name renamed when complete; returns how many files were written.

    Raises:
        OutputError: a file exists (without ``overwrite``), is the input, or cannot be written.
    """
    written = 0
    for t, path in outputs.items():
        out = prepare_output(Path(path), overwrite=overwrite, inputs=(Path(source),))
        tmp = partial_path(out)
        try:
            tmp.write_bytes(encode_picture(result, t))
        except (OSError, OutputError) as exc:
            discard(tmp)
            raise OutputError(f"cannot write {out}: {getattr(exc, 'strerror', None) or exc}") from None
        commit(tmp, out)
        written += 1
    return written


def is_image_file_name(path: Path) -> bool:
    """Whether ``-o path`` names an image file rather than a folder: it is no existing folder
    and ends in an image extension (``single.png``; ``shots.v2`` is a folder)."""
    from streamseg.capture.image import IMAGE_EXTS

    path = Path(path)
    return not path.is_dir() and path.suffix.lower() in IMAGE_EXTS


class ImageFileSink(Sink):
    """A :class:`~streamseg.sinks.base.Sink` writing ``<stem>_<type>.png`` for each result.

    Args:
        folder: output folder, or ``None`` = next to each input image; or a ``.png`` file name
            (:func:`is_image_file_name`) for one image: that file itself for one output type,
            ``<name>_<type>.png`` next to it for several.
        output_types: from :data:`IMAGE_OUTPUT_TYPES`.
        overwrite: replace existing files.

    The source path of a result is ``result.frame.source`` (set by the image run); files are
    written under a temporary name and renamed when complete; :meth:`close` reports how many.
    :meth:`check` checks every output of a run before it starts.

    Raises:
        OutputError: a file name that is not ``.png`` (the outputs are PNG files).
    """

    def __init__(self, folder: Path | None, output_types: Sequence[str] = ("mask",), overwrite: bool = False) -> None:
        target = Path(folder) if folder is not None else None
        #: the one output file named by ``-o NAME.png``, else ``None``
        self.file = target if target is not None and is_image_file_name(target) else None
        self.folder = None if self.file is not None else target
        self.output_types = tuple(output_types)
        self.overwrite = overwrite
        self.written = 0
        if self.file is not None and self.file.suffix.lower() != ".png":
            raise OutputError(f"-o {self.file}: image outputs are PNG files; name it {self.file.with_suffix('.png')} or give a folder")

    def outputs_of(self, source: Path) -> dict[str, Path]:
        """Output type -> the file written for the image ``source``."""
        if self.file is not None:
            if len(self.output_types) == 1:
                return {self.output_types[0]: self.file}
            return {t: self.file.with_name(f"{self.file.stem}_{t}.png") for t in self.output_types}
        folder = self.folder if self.folder is not None else Path(source).parent
        return {t: folder / f"{Path(source).stem}_{t}.png" for t in self.output_types}

    def check(self, sources: Sequence[Path]) -> list[Path]:
        """Check every output of a run on ``sources`` before it starts
        (:func:`~streamseg.sinks.output_path.check_outputs`); returns ``sources`` without repeats
        of one file.

        Raises:
            OutputError: two images would write one file (``a/ok.png`` and ``b/ok.jpg`` into one
                folder), an output is one of the images, exists (without ``overwrite``), or
                ``-o NAME.png`` is given for several images.
        """
        from streamseg.sinks.output_path import check_outputs, same_file

        unique: list[Path] = []
        for src in map(Path, sources):
            if not any(same_file(src, u) for u in unique):
                unique.append(src)
        if self.file is not None and len(unique) > 1:
            raise OutputError(f"-o {self.file} names one file, but {len(unique)} images are given; give a folder (-o DIR)")
        named = [(f"the {t} of {src}", p) for src in unique for t, p in self.outputs_of(src).items()]
        check_outputs(named, inputs=unique, overwrite=self.overwrite)
        return unique

    def write(self, result: FrameResult) -> None:
        """Write the files of one image; its path is ``result.frame.source``."""
        self.write_for(result, Path(result.frame.source or f"frame{result.frame.index:06d}.png"))

    def output_paths(self, source: Path) -> list[Path]:
        """The files written for the image ``source``, one per output type."""
        return list(self.outputs_of(source).values())

    def write_for(self, result: FrameResult, source: Path) -> None:
        """Write the files of ``result`` named after ``source``.

        Raises:
            OutputError: a file exists (without ``overwrite``) or cannot be written.
        """
        for t, path in self.outputs_of(source).items():
            self.written += write_image_outputs(result, {t: path}, source, self.overwrite)

    def close(self) -> SinkReport:
        """Nothing is held open: the report counts the files written."""
        return SinkReport(self.folder or self.file, self.written)
