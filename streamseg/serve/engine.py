"""The method of one server process, loaded once, and what one request's image becomes: the
PNG that ``streamseg image`` writes for it (mask, alpha, prob), or its statistics.

Requests run in threads; the method itself runs one image at a time (an ONNX Runtime session
already uses every core it is given for one image, and some methods keep per-image state), while
decoding, rendering and PNG encoding of other requests go on beside it. A request may ask for
another ``quality`` than the server's: that variant of the method is loaded on first use and
kept (three at most, one per quality mode).

Example:
    >>> import cv2, numpy as np
    >>> engine = Engine(ServeSettings(method="ellipse"))
    >>> png = cv2.imencode(".png", np.full((8, 8, 3), (130, 150, 200), np.uint8))[1].tobytes()
    >>> answer = engine.answer(png, "stats")
    >>> answer.media_type, answer.stats["width"], answer.stats["skin_fraction"]
    ('application/json', 8, 1.0)
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from streamseg.errors import ConfigError, InputError
from streamseg.serve.settings import ServeSettings

#: the formats a request may carry (PIL's name of the header -> the name users know); any other
#: body is refused before a decoder sees it
FORMATS = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "WEBP": "WebP", "BMP": "BMP", "TIFF": "TIFF"}
#: what ``POST /segment`` answers with (``?output=``)
OUTPUTS = ("mask", "alpha", "prob", "stats")


class RequestError(Exception):
    """A request the client has to change: an HTTP status (4xx) and a one-line message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Answer:
    """What one request gets: ``body`` (PNG bytes, or ``None`` for ``stats``), its media type,
    and the statistics of the image (``width``, ``height``, ``skin_fraction``, ``regions``,
    ``method``, ``threshold``, ``ms``)."""

    body: bytes | None
    media_type: str
    stats: dict[str, Any]


class _OneAtATime:
    """A segmenter that runs one image at a time, its state reset before each (every request is
    a new picture); the :class:`~streamseg.pipeline.Processor` of each request calls it."""

    def __init__(self, segmenter: Any) -> None:
        self._segmenter = segmenter
        self._lock = threading.Lock()

    def segment(self, image: np.ndarray) -> np.ndarray:
        with self._lock:
            self._segmenter.reset()
            return self._segmenter.segment(image)

    def reset(self) -> None:
        """Nothing: :meth:`segment` resets under its lock."""

    def __getattr__(self, name: str) -> Any:
        return getattr(self._segmenter, name)


class Engine:
    """The method loaded once (warmed up) for every request of this process.

    Raises:
        StreamsegError: the method cannot load (its one-line error), or a bad option.
    """

    def __init__(self, settings: ServeSettings) -> None:
        from streamseg.pipeline.build import method_of
        from streamseg.pipeline.spec import RunSpec

        self.settings = settings
        self.spec = RunSpec.make(method=settings.method, threshold=settings.threshold, **dict(settings.options))
        self.threshold = float(self.spec.output.threshold)
        self.quality: str = self.spec.method.quality
        seg = method_of(self.spec)
        seg.warmup()
        self.name: str = seg.name
        self.provider: str = getattr(seg, "provider", "cpu")
        self.fallback_from: str | None = getattr(seg, "fallback_from", None)
        self._variants: dict[str, _OneAtATime] = {self.quality: _OneAtATime(seg)}
        self._loading = threading.Lock()
        self._methods: list[dict[str, Any]] | None = None

    def segmenter(self, quality: str | None = None) -> _OneAtATime:
        """The method at ``quality`` (``None``: the server's), loaded on first use.

        Raises:
            RequestError: an unknown quality (400), or one that cannot run here (400, its reason).
        """
        q = quality or self.quality
        found = self._variants.get(q)
        if found is not None:
            return found
        from streamseg.errors import StreamsegError
        from streamseg.pipeline.build import method_of
        from streamseg.segment.quality import QUALITIES

        if q not in QUALITIES:
            raise RequestError(400, f"quality {q!r}: choose from {', '.join(QUALITIES)}")
        with self._loading:
            if q not in self._variants:
                try:
                    seg = method_of(self.spec.with_(quality=q))
                    seg.warmup()
                except StreamsegError as exc:
                    raise RequestError(400, f"quality {q} cannot run here: {exc}") from None
                self._variants[q] = _OneAtATime(seg)
        return self._variants[q]

    def info(self) -> dict[str, Any]:
        """What runs here: ``method``, ``provider``, ``fallback_from``, the limits."""
        s = self.settings
        return {
            "method": self.name, "provider": self.provider, "fallback_from": self.fallback_from,
            "quality": self.quality, "loaded": sorted(self._variants), "threshold": self.threshold,
            "max_concurrent": s.max_concurrent, "max_bytes": s.max_bytes, "max_megapixels": s.max_megapixels,
        }

    def methods(self) -> list[dict[str, Any]]:
        """Every method, whether it can run here and why not, and which one this server runs."""
        if self._methods is None:
            import streamseg

            self._methods = [
                {"name": m.name, "kind": m.kind, "description": m.description, "available": m.reason is None,
                 "reason": m.reason, "served": m.name == self.name}
                for m in streamseg.list_methods(provider=str(self.spec.method.provider))
            ]
        return self._methods

    def check_method(self, method: str | None) -> None:
        """A request may name the method it expects; another than this server's is a 400.

        Raises:
            RequestError: another method.
        """
        if method and method not in (self.name, self.spec.method.method):
            raise RequestError(400, f"this server runs {self.name}, not {method} (start one with streamseg serve -m {method})")

    def decode(self, data: bytes) -> np.ndarray:
        """A request body -> BGR uint8 (H, W, 3); the header (format, size) is checked first.

        Raises:
            RequestError: 400 empty or undecodable, 413 too many pixels, 415 not an image format served.
        """
        from streamseg.capture.image import decode_image, image_header

        if not data:
            raise RequestError(400, "the body is empty: send an image (JPEG, PNG, WebP, BMP or TIFF)")
        head = image_header(data)
        if head is None or head[0] not in FORMATS:
            kind = f"a {head[0]} image" if head else "not an image this server reads"
            raise RequestError(415, f"the body is {kind}; send JPEG, PNG, WebP, BMP or TIFF")
        fmt, w, h = head
        limit = self.settings.max_pixels
        if w * h > limit:
            raise RequestError(413, f"the image is {w}x{h} ({w * h / 1e6:.1f} megapixels); this server takes at most {limit / 1e6:g}")
        try:
            return decode_image(data, "the image", limit)
        except InputError:
            raise RequestError(400, f"cannot decode the {FORMATS[fmt]} image (truncated or corrupt)") from None

    def answer(
        self, data: bytes, output: str = "mask", threshold: float | None = None, feather: float | None = None,
        quality: str | None = None,
    ) -> Answer:
        """Segment one request's image.

        Args:
            data: the image file's bytes. output: one of :data:`OUTPUTS`.
            threshold: skin probability threshold (``None``: the server's). feather: edge
                feathering of ``alpha`` in pixels (``None``: the server's). quality: ``fast``,
                ``balanced`` or ``best`` (``None``: the server's).

        Raises:
            RequestError: a bad body or option (4xx).
        """
        from streamseg.effects import make_effect
        from streamseg.frames import Frame
        from streamseg.pipeline import outputs as out
        from streamseg.pipeline.image_stats import mask_stats
        from streamseg.pipeline.processor import Processor
        from streamseg.sinks.images import encode_picture

        t0 = time.perf_counter()
        if output not in OUTPUTS:
            raise RequestError(400, f"output {output!r}: choose from {', '.join(OUTPUTS)}")
        thr = self.threshold if threshold is None else float(threshold)
        if not 0.0 <= thr <= 1.0:
            raise RequestError(400, f"threshold {thr}: must be in [0, 1]")
        try:
            params = out.effect_params(feather=self.settings.feather if feather is None else feather)
        except ConfigError as exc:
            raise RequestError(400, str(exc)) from None
        segmenter = self.segmenter(quality)
        image = self.decode(data)
        effects = {output: make_effect(output, params)} if output in ("mask", "alpha") else {}
        processor = Processor(segmenter, None, thr, output_types=tuple(effects), effects=effects, scene_cut=False)
        result = processor.process(Frame(image, index=0, time=0.0, reset=True, source="request"))
        body = None if output == "stats" else encode_picture(result, output)
        stats = {
            "width": int(image.shape[1]), "height": int(image.shape[0]), **mask_stats(result.mask),
            "method": self.name, "quality": quality or self.quality, "threshold": thr,
            "ms": round(1000 * (time.perf_counter() - t0), 2),
        }
        return Answer(body, "application/json" if body is None else "image/png", stats)
