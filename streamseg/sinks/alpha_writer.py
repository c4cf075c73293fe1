"""Write pictures with an alpha channel: BGRA video (``.mov`` ProRes 4444, ``.webm`` VP9) and
RGBA images (``.png``, ``.webp``, ``.tif``).

:class:`AlphaVideoWriter` is a :class:`~streamseg.sinks.writer.ThreadedVideoWriter`, like
:class:`~streamseg.sinks.writer.VideoEncoder` (``write(image, pts=..., time_s=...)``,
``finish()``, ``abort(keep_partial)``): a writer thread behind a bounded queue, the file written under ``<stem>.partial<ext>`` and renamed when
complete, the input's audio copied (re-encoded to Opus for WebM).

Example:
    >>> import numpy as np, tempfile, pathlib
    >>> from fractions import Fraction
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "x.webm"
    >>> w = AlphaVideoWriter(out, 32, 24, Fraction(25))
    >>> for i in range(3):
    ...     w.write(np.zeros((24, 32, 4), np.uint8), pts=i)
    >>> w.finish().name, w.frames_written
    ('x.webm', 3)
    >>> alpha_codec(pathlib.Path("x.mp4"))
    Traceback (most recent call last):
    ...
    streamseg.errors.OutputError: x.mp4: .mp4 cannot carry alpha; use .mov (ProRes 4444) or .webm (VP9 with alpha)
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from streamseg.errors import OutputError
from streamseg.sinks.writer import ThreadedVideoWriter
from streamseg.sinks.output_path import commit, discard, partial_path


@dataclass(frozen=True)
class AlphaCodec:
    """Container format, encoder, pixel format and encoder options for one extension."""

    container: str
    codec: str
    pix_fmt: str
    options: tuple[tuple[str, str], ...] = ()


#: extension -> how alpha video is written there
ALPHA_VIDEO: dict[str, AlphaCodec] = {
    # prores_ks picks 4444 for yuva444p10le; profile is named so a change of default cannot drop alpha
    ".mov": AlphaCodec("mov", "prores_ks", "yuva444p10le", (("profile", "4444"), ("alpha_bits", "16"))),
    # realtime + cpu-used 8: libvpx's fastest settings, so the encoder keeps up with live frames; crf 24 keeps the alpha plane within a few levels
    ".webm": AlphaCodec(
        "webm",
        "libvpx-vp9",
        "yuva420p",
        (("deadline", "realtime"), ("cpu-used", "8"), ("row-mt", "1"), ("crf", "24"), ("b", "0")),
    ),
}
#: image extensions that carry alpha, written with OpenCV (BGRA -> RGBA file)
ALPHA_IMAGE = (".png", ".webp", ".tif", ".tiff")


def alpha_codec(path: Path) -> AlphaCodec:
    """How to write alpha video to ``path``, chosen by its extension.

    Raises:
        OutputError: the extension's container cannot carry alpha (one line, says what can).
    """
    ext = Path(path).suffix.lower()
    try:
        return ALPHA_VIDEO[ext]
    except KeyError:
        raise OutputError(
            f"{Path(path).name}: {ext or 'no extension'} cannot carry alpha; use .mov (ProRes 4444) or .webm (VP9 with alpha)"
        ) from None


def write_alpha_image(path: Path, bgra: np.ndarray) -> Path:
    """Write BGRA uint8 (H, W, 4) as an RGBA image (``.png``, ``.webp`` lossless, ``.tif``);
    written under the partial name and renamed. Returns ``path``.

    Raises:
        OutputError: the extension cannot carry alpha, or the file cannot be written.
    """
    path = Path(path)
    ext = path.suffix.lower()
    if ext not in ALPHA_IMAGE:
        raise OutputError(f"{path.name}: {ext or 'no extension'} cannot carry alpha; use .png (or .webp, .tif)")
    if bgra.dtype != np.uint8 or bgra.ndim != 3 or bgra.shape[2] != 4:
        raise ValueError(f"expected BGRA uint8 (H, W, 4), got {bgra.dtype} {bgra.shape}")
    params = [cv2.IMWRITE_WEBP_QUALITY, 101] if ext == ".webp" else []  # >100 = lossless
    ok, buf = cv2.imencode(ext, bgra, params)
    if not ok:
        raise OutputError(f"cannot encode {path.name}")
    tmp = partial_path(path)
    try:
        tmp.write_bytes(buf.tobytes())
    except OSError as exc:
        discard(tmp)
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    return commit(tmp, path)


class AlphaVideoWriter(ThreadedVideoWriter):
    """Writes BGRA uint8 (H, W, 4) frames to ``.mov`` (ProRes 4444) or ``.webm`` (VP9 + alpha).

    Args:
        path: final output path; its extension picks the codec (:func:`alpha_codec`).
        width, height: output size (frames of another size are resized, with one warning).
        fps: nominal rate (also the time base when frames come without ``pts``).
        time_base: time base of the ``pts`` given to :meth:`write` (the input stream's).
        audio_from: a file whose first audio track is copied into the output.
        queue_size: frames buffered for the writer thread.
        codec: another encoder for the extension's pixel format (``--codec``), e.g.
            ``prores_aw`` for ``.mov``: about 4x faster than ``prores_ks``, also 4444 with alpha.

    Raises:
        OutputError: the container cannot carry alpha, the codec cannot encode its alpha pixel
            format, or the file cannot be opened.
    """

    def __init__(
        self,
        path: str | Path,
        width: int,
        height: int,
        fps: Fraction,
        time_base: Fraction | None = None,
        audio_from: Path | None = None,
        queue_size: int = 8,
        codec: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.spec = alpha_codec(self.path)
        if codec and codec != self.spec.codec:
            self.spec = AlphaCodec(self.spec.container, codec, self.spec.pix_fmt)  # its own defaults
            try:
                formats = [f.name for f in (av.codec.Codec(codec, "w").video_formats or ())]
            except (av.error.FFmpegError, ValueError) as exc:
                raise OutputError(f"unknown or unavailable --codec {codec!r}: {exc}") from None
            if self.spec.pix_fmt not in formats:
                raise OutputError(f"--codec {codec} cannot encode {self.spec.pix_fmt} (alpha) for {self.path.suffix}")
        self._setup(width, height, fps, time_base, queue_size)
        self._start(audio_from)

    _writer_name = "alpha video writer"
    _thread_name = "streamseg-alpha-encode"

    @staticmethod
    def _error_text(exc: BaseException) -> str:
        return getattr(exc, "strerror", None) or str(exc)

    def _open(self, audio_from: Path | None) -> None:
        stream = self._open_stream(
            self.spec.container,
            self.spec.codec,
            self.width,
            self.height,
            self.spec.pix_fmt,
            f"encoder {self.spec.codec} for {self.path.suffix} is not available",
        )
        stream.options = dict(self.spec.options)
        stream.thread_type = "AUTO"
        self.stream = stream
        self._open_audio(audio_from)  # the video encoder's audio copier; same container rules apply

    def _prepare(self, image: np.ndarray) -> np.ndarray:
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 4:
            raise ValueError(f"alpha writer expects BGRA uint8 (H, W, 4), got {image.dtype} {image.shape}")
        return np.ascontiguousarray(self._fit_size(image))

    def _accept(self, image: np.ndarray) -> np.ndarray:
        """Checked in the caller's thread: a frame that is not BGRA uint8 raises ``ValueError``."""
        return self._prepare(image)

    def _frame(self, image: np.ndarray) -> av.VideoFrame:
        return av.VideoFrame.from_ndarray(image, format="bgra")


def read_alpha_video(path: Path) -> tuple[list[np.ndarray], str]:
    """Decode an alpha video to BGRA uint8 (H, W, 4) frames and the decoded pixel format.

    VP9 keeps alpha in a side channel that FFmpeg's native ``vp9`` decoder drops, so WebM is
    decoded with ``libvpx-vp9``. For checking outputs (tests, docs); loads every frame.
    """
    frames: list[np.ndarray] = []
    fmt = ""
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        ctx = av.CodecContext.create("libvpx-vp9", "r") if s.codec_context.name == "vp9" else None
        if ctx is None:
            decoded = c.decode(s)
        else:  # demux ends with an empty packet; the context is flushed once, by decode(None)
            decoded = (f for p in (*(p for p in c.demux(s) if p.size), None) for f in ctx.decode(p))
        for f in decoded:
            fmt = f.format.name
            frames.append(f.to_ndarray(format="bgra"))
    return frames, fmt
