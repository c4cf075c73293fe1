"""The input's first audio track, copied into an output video beside its frames: a stream copy
where the container takes the codec, else decoded and re-encoded with every timestamp kept.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av

from streamseg import log

#: audio codecs each container takes as a stream copy; others are re-encoded
_COPYABLE = {
    "mp4": {"aac", "mp3", "alac", "ac3", "eac3", "opus", "flac"},
    "mov": {"aac", "mp3", "alac", "ac3", "eac3", "pcm_s16le", "pcm_s24le", "pcm_f32le"},
    "matroska": None,  # anything
    "webm": {"opus", "vorbis"},
}
_AUDIO_ENCODER = {"webm": "libopus"}


class AudioCopy:
    """Copies the first audio track of ``source`` into ``container``, interleaved with the video:
    a stream copy where the container takes the codec (:data:`_COPYABLE`), else decoded and
    re-encoded (AAC; Opus for WebM), as PyAV's remux and transcode recipes do.

    Every packet and frame keeps its timestamp, so audio that starts before or after the video
    stays where it was. Timestamps that run behind the audio already written (an AVI that counts
    packets instead of time) continue it instead; a gap in a re-encoded track is filled with silence
    so what follows keeps its time.
    """

    def __init__(self, source: Path, container: av.container.OutputContainer) -> None:
        self.input = av.open(str(source))
        in_stream = self.input.streams.audio[0]
        fmt = container.format.name.split(",")[0]
        allowed = _COPYABLE.get(fmt, set())
        codec = _codec_name(in_stream.codec_context)
        self.copy = allowed is None or codec in allowed
        if self.copy:
            self.stream = container.add_stream_from_template(in_stream)
        else:
            enc = _AUDIO_ENCODER.get(fmt, "aac")
            rate = _encoder_rate(enc, in_stream.codec_context.sample_rate or 48000)
            self.stream = container.add_stream(enc, rate=rate)
            layout = in_stream.codec_context.layout
            if layout is not None and layout.name:
                try:
                    self.stream.layout = layout.name
                except (ValueError, av.error.FFmpegError):
                    pass  # the encoder's default layout; the resampler mixes to it
            log.info(f"audio: {codec} cannot be copied into .{fmt}; re-encoding to {enc}")
        self.in_stream = in_stream
        self.container = container
        self._packets = self.input.demux(in_stream)
        self._pending: av.Packet | None = None
        self._next_dts: int | None = None  # where the next packet starts, in the stream's time base
        self._next_pts: int | None = None  # where the next decoded frame starts, in its time base
        self._failed = False
        self.done = False

    def _next(self) -> av.Packet | None:
        if self._pending is not None:
            p, self._pending = self._pending, None
            return p
        for p in self._packets:
            if p.dts is None and p.pts is None:
                continue
            self._continue_time(p)
            return p
        self.done = True
        return None

    def _continue_time(self, p: av.Packet) -> None:
        """Move a packet that starts more than half its length before the end of the one before
        to that end (its pts with it): audio packets do not overlap."""
        dts = p.dts if p.dts is not None else p.pts
        if dts is None or not p.duration:
            return
        if self._next_dts is not None and dts < self._next_dts - p.duration // 2:
            shift = self._next_dts - dts
            p.dts = dts + shift
            if p.pts is not None:
                p.pts += shift
            dts += shift
        self._next_dts = dts + p.duration

    def _encode(self, frames) -> None:
        """Encode decoded frames (``None`` flushes the encoder) at their own timestamps, each one
        following the one before without overlap; a gap of up to :data:`_MAX_AUDIO_GAP_S` is
        filled with silence."""
        for fr in frames:
            todo = [fr]
            if fr is not None:
                # counted in samples: a coarse time base (Matroska's 1 ms) would make the
                # encoder's packets 23 ms long instead of 1024 samples, and the track drift
                tb, rate = fr.time_base or self.in_stream.time_base, fr.sample_rate
                pts = round(fr.pts * tb * rate) if fr.pts is not None and tb else None
                expected = self._next_pts
                if expected is not None and (pts is None or pts - expected <= fr.samples // 2):
                    pts = expected
                elif expected is not None and pts - expected <= _MAX_AUDIO_GAP_S * rate:
                    todo = [*_silence(fr, expected, pts - expected), fr]
                if pts is not None:
                    fr.pts, fr.time_base = pts, Fraction(1, rate)
                    self._next_pts = pts + fr.samples
            try:
                for f in todo:
                    self.container.mux(self.stream.encode(f))
            except (av.error.FFmpegError, ValueError) as exc:
                # e.g. the input changes its sample rate or layout midway: the video goes on
                log.warn(f"audio: re-encoding stopped, the rest of the track is left out: {exc}")
                self._failed = True
                return

    def feed_until(self, seconds: float | None) -> None:
        """Mux audio packets up to ``seconds`` (all remaining ones when ``None``)."""
        while not self.done and not self._failed:
            try:
                p = self._next()
            except av.error.FFmpegError:
                continue  # a corrupt audio packet: skip it, keep the rest
            if p is None:
                break
            ts = p.pts if p.pts is not None else p.dts
            if seconds is not None and float(ts * p.time_base) > seconds:
                self._pending = p
                break
            if self.copy:
                p.stream = self.stream
                self.container.mux(p)
            else:
                try:
                    frames = p.decode()
                except av.error.FFmpegError:
                    continue
                self._encode(frames)
        if seconds is None and not self.copy and not self._failed:
            try:
                rest = self.in_stream.codec_context.decode(None)  # frames the decoder still holds
            except av.error.FFmpegError:
                rest = []
            self._encode([*rest, None])

    def close(self) -> None:
        self.input.close()


#: longest gap (seconds) in a re-encoded audio track filled with silence; a longer one is a
#: broken timestamp, not a pause
_MAX_AUDIO_GAP_S = 10.0


def _codec_name(cc) -> str:
    """The codec's own name (``mp3``), not its decoder's (``mp3float``)."""
    codec = getattr(cc, "codec", None)
    return getattr(codec, "canonical_name", None) or cc.name


def _silence(like: av.AudioFrame, start: int, samples: int) -> list[av.AudioFrame]:
    """Silent frames of ``like``'s format, ``samples`` long from sample ``start``."""
    rate = like.sample_rate
    out, done = [], 0
    while done < samples:
        n = min(4096, samples - done)
        f = av.AudioFrame(format=like.format.name, layout=like.layout.name, samples=n)
        for plane in f.planes:
            plane.update(bytes(plane.buffer_size))
        f.sample_rate = rate
        f.pts, f.time_base = start + done, Fraction(1, rate)
        out.append(f)
        done += n
    return out


def _encoder_rate(encoder: str, rate: int) -> int:
    """``rate`` when ``encoder`` takes it, else the nearest rate above it that it takes (Opus:
    48 kHz), else its highest."""
    try:
        rates = sorted(av.codec.Codec(encoder, "w").audio_rates or ())
    except (av.error.FFmpegError, ValueError):
        return rate
    if not rates or rate in rates:
        return rate
    return next((r for r in rates if r >= rate), rates[-1])
