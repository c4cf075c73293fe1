"""End-to-end fps of the pipeline on a clip, next to the bare inference fps of the same method.

Bare inference fps = frames / time spent inside ``segment`` alone (frames already decoded).
Pipeline fps = frames / wall time of :func:`streamseg.video_file.process_video_file` writing a
mask video (decode thread, segment, threshold, render, encode thread; no smoothing). The ratio
``pipeline_fps / inference_fps`` says how much of the method's speed survives the pipeline.
When :mod:`streamseg.video_file` is not available, the pipeline is stood in for by a plain PyAV
decode -> segment -> mask -> libx264 encode loop, and the row says so.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import av
import numpy as np

from streamseg.errors import InputError
from streamseg.segment import Segmenter


@dataclass
class VideoRow:
    """One method on one clip."""

    method: str
    clip: str
    frames: int
    inference_fps: float
    pipeline_fps: float
    pipeline: str  # "streamseg pipeline" or "pyav loop"

    @property
    def ratio(self) -> float:
        return self.pipeline_fps / self.inference_fps if self.inference_fps > 0 else float("nan")

    def as_dict(self) -> dict:
        d = asdict(self)
        d["ratio"] = round(self.ratio, 3)
        return d


def _open(clip: Path) -> av.container.InputContainer:
    if not clip.is_file():
        raise InputError(f"video not found: {clip}")
    try:
        c = av.open(str(clip))
    except av.FFmpegError as exc:
        raise InputError(f"cannot open video {clip}: {exc}") from exc
    if not c.streams.video:
        c.close()
        raise InputError(f"{clip} has no video stream")
    return c


def decode_frames(clip: Path, max_frames: int | None = None):
    """Yield BGR uint8 (H, W, 3) frames of ``clip`` (at most ``max_frames``)."""
    with _open(clip) as c:
        stream = c.streams.video[0]
        stream.thread_type = "AUTO"
        try:
            for i, frame in enumerate(c.decode(stream)):
                if max_frames is not None and i >= max_frames:
                    break
                yield frame.to_ndarray(format="bgr24")
        except av.FFmpegError as exc:
            raise InputError(f"cannot decode {clip}: {exc}") from exc


def inference_fps(seg: Segmenter, clip: Path) -> tuple[float, int]:
    """(frames per second of ``segment`` alone, frames) on the decoded frames of ``clip``."""
    seg.reset()
    spent, n = 0.0, 0
    for frame in decode_frames(clip):
        t0 = time.perf_counter()
        seg.segment(frame)
        spent += time.perf_counter() - t0
        n += 1
    if n == 0:
        raise InputError(f"no frame could be decoded from {clip}")
    return n / spent if spent > 0 else float("inf"), n


def _process_video_file():
    try:
        from streamseg.pipeline import process_video_file
    except ImportError:
        return None
    return process_video_file


def pipeline_fps(seg: Segmenter, clip: Path) -> tuple[float, int, str]:
    """(end-to-end fps, frames, what ran) writing a mask video of ``clip`` to a temporary file.

    The time is the wall time of the whole job, opening and finalising the output included.
    """
    run = _process_video_file()
    with tempfile.TemporaryDirectory(prefix="streamseg-bench-") as tmp:
        out = Path(tmp) / "mask.mp4"
        seg.reset()
        if run is None:
            return _pyav_loop(seg, clip, out)
        from streamseg import log

        quiet, log.console.quiet = log.console.quiet, True  # its "input:/wrote:" lines name temp files
        try:
            t0 = time.perf_counter()
            report = run(clip, {"mask": out}, seg, progress=False)
            wall = time.perf_counter() - t0
        finally:
            log.console.quiet = quiet
        frames = int(report.frames_out)
        return (frames / wall if wall > 0 else float("inf")), frames, "streamseg pipeline"


def trim_clip(clip: Path, frames: int, out: Path) -> Path:
    """Re-encode the first ``frames`` frames of ``clip`` to ``out`` (libx264, near-lossless)."""
    with _open(clip) as c, av.open(str(out), "w") as o:
        src = c.streams.video[0]
        dst = o.add_stream("libx264", rate=src.average_rate or 25, options={"crf": "12", "preset": "veryfast"})
        dst.width, dst.height, dst.pix_fmt = src.codec_context.width, src.codec_context.height, "yuv420p"
        for i, frame in enumerate(c.decode(src)):
            if i >= frames:
                break
            for pkt in dst.encode(av.VideoFrame.from_ndarray(frame.to_ndarray(format="bgr24"), format="bgr24")):
                o.mux(pkt)
        for pkt in dst.encode():
            o.mux(pkt)
    return out


def _pyav_loop(seg: Segmenter, clip: Path, out: Path) -> tuple[float, int, str]:
    t0 = time.perf_counter()
    n = 0
    with _open(clip) as c, av.open(str(out), "w") as o:
        src = c.streams.video[0]
        src.thread_type = "AUTO"
        dst = o.add_stream("libx264", rate=src.average_rate or 25, options={"crf": "20", "preset": "veryfast"})
        dst.width, dst.height, dst.pix_fmt = src.codec_context.width, src.codec_context.height, "yuv420p"
        for frame in c.decode(src):
            prob = seg.segment(frame.to_ndarray(format="bgr24"))
            mask = (prob >= 0.5).astype(np.uint8) * 255
            vf = av.VideoFrame.from_ndarray(np.repeat(mask[..., None], 3, 2), format="bgr24")
            for pkt in dst.encode(vf):
                o.mux(pkt)
            n += 1
        for pkt in dst.encode():
            o.mux(pkt)
    seconds = time.perf_counter() - t0
    return (n / seconds if seconds > 0 else float("inf")), n, "pyav loop"


def bench_video(name: str, seg: Segmenter, clip: Path, max_frames: int | None = None) -> VideoRow:
    """Pipeline fps and bare inference fps of ``seg`` on ``clip`` (its first ``max_frames`` frames,
    re-encoded to a temporary clip, when given)."""
    seg.warmup()
    with tempfile.TemporaryDirectory(prefix="streamseg-bench-") as tmp:
        src = trim_clip(clip, max_frames, Path(tmp) / "clip.mp4") if max_frames else clip
        inf, n = inference_fps(seg, src)
        pipe, n_pipe, what = pipeline_fps(seg, src)
    return VideoRow(name, clip.name, min(n, n_pipe), inf, pipe, what)
