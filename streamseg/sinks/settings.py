"""What ``--codec``, ``--crf``, ``--bitrate`` and ``--preset`` set: :class:`EncoderSettings`, the
x264 presets a run picks when none is given, and the bitrate syntax. No video library is
imported here: a run spec holds these settings before anything loads.

Example:
    >>> EncoderSettings().for_output("mask").preset, parse_bitrate("2500k")
    ('ultrafast', 2500000)
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from streamseg.errors import OutputError

#: x264 preset of mask videos when ``--preset`` is not given: a binary luma picture compresses
#: well at any preset, so the fastest one wins (benchmarks/latency/mask_encode.py, docs/speed.md)
MASK_PRESET = "ultrafast"
#: x264 preset of picture videos (overlay, cutout, side-by-side) when ``--preset`` is not given
PICTURE_PRESET = "veryfast"
#: the presets x264 and x265 know (``--preset``)
X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo")


@dataclass(frozen=True)
class EncoderSettings:
    """Video encoder settings (``--codec``, ``--crf``, ``--bitrate``, ``--preset``).

    ``preset`` ``None`` = the default of what is encoded: :data:`MASK_PRESET` for mask videos
    (grey frames), :data:`PICTURE_PRESET` for the others. ``threads`` is the encoder's thread
    count (0 = the encode share of :func:`streamseg.threads.plan`).
    """

    codec: str = "libx264"
    crf: int | None = 20
    bitrate: str | None = None
    preset: str | None = None
    pix_fmt: str = "yuv420p"
    threads: int = 0

    def for_output(self, output_type: str) -> "EncoderSettings":
        """These settings with the preset resolved for ``output_type`` (``mask`` -> :data:`MASK_PRESET`)."""
        if self.preset is not None:
            return self
        return replace(self, preset=MASK_PRESET if output_type == "mask" else PICTURE_PRESET)


def parse_bitrate(text: str) -> int:
    """``4M``, ``2500k`` or a number of bits per second -> bits per second.

    Raises:
        OutputError: not a bitrate, or not above 0.
    """
    t = text.strip().lower()
    mult = 1
    if t.endswith("k"):
        mult, t = 1_000, t[:-1]
    elif t.endswith("m"):
        mult, t = 1_000_000, t[:-1]
    try:
        value = float(t) * mult
    except ValueError:
        raise OutputError(f"invalid --bitrate {text!r} (e.g. 4M or 2500k)") from None
    if value <= 0:
        raise OutputError(f"invalid --bitrate {text!r}: must be positive")
    return int(value)
