"""The HTTP app of ``streamseg serve`` (FastAPI): ``POST /segment``, ``GET /health``,
``GET /methods``, OpenAPI docs at ``/docs``.

- A request is counted from its first byte to its answer; past ``max_concurrent`` at once it
  gets 503 with ``Retry-After`` at once instead of waiting in a queue.
- The body is read with a byte limit (``Content-Length`` checked before reading, the bytes
  counted while reading) and a time limit; the image header is checked (format, megapixels)
  before the pixels are decoded.
- Every error is a JSON object ``{"error": "<one line>"}`` with a 4xx status; an unexpected
  failure is a 500 with one line, never a traceback.

Example:
    >>> app = create_app(ServeSettings(method="ellipse"))      # doctest: +SKIP
    >>> import uvicorn; uvicorn.run(app, host="127.0.0.1")     # doctest: +SKIP
"""

from __future__ import annotations

import os
from typing import Any, Literal, Optional

import anyio
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from streamseg.serve.engine import FORMATS, Engine, RequestError
from streamseg.serve.settings import ENV_SETTINGS, ServeSettings

#: an answer given before the body is read still drains it (up to this many bytes), so the
#: client sees the answer rather than a reset connection
DRAIN_LIMIT = 64 * 1024 * 1024
#: seconds a client is told to wait after a 503
RETRY_AFTER_S = 1

_BODY_DOC = {
    "required": True,
    "description": "The image: a multipart form with one file field (any name, e.g. `file`), or the raw "
    f"file as the body. Formats: {', '.join(sorted(set(FORMATS.values())))}.",
    "content": {
        "multipart/form-data": {
            "schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}, "required": ["file"]}
        },
        "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
        "image/png": {"schema": {"type": "string", "format": "binary"}},
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
    },
}
_ERROR = {"content": {"application/json": {"example": {"error": "one line saying what is wrong"}}}}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "A PNG (mask: 0/255 grey; alpha: RGBA cut-out with the feathered mask as alpha; prob: "
        "8-bit probability), the bytes `streamseg image -T <output>` writes; or, for `output=stats`, JSON.",
        "content": {
            "image/png": {"schema": {"type": "string", "format": "binary"}},
            "application/json": {"example": {"width": 640, "height": 480, "skin_fraction": 0.213, "regions": 2,
                                             "method": "dlmv", "quality": "fast", "threshold": 0.5, "ms": 21.4}},
        },
    },
    400: {"description": "Empty, truncated or undecodable image, or a bad option.", **_ERROR},
    408: {"description": "The body took longer than the read timeout to arrive.", **_ERROR},
    413: {"description": "The body is over the byte limit, or the image over the megapixel limit.", **_ERROR},
    415: {"description": "The body is not an image in a format this server reads.", **_ERROR},
    503: {"description": "The server is at its bound of requests at once; retry after `Retry-After` seconds.", **_ERROR},
}


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


async def _read_body(request: Request, settings: ServeSettings) -> bytes:
    """The whole body, at most ``max_bytes`` of it, within the read timeout.

    Raises:
        RequestError: 413 over the limit (the rest is drained first, up to :data:`DRAIN_LIMIT`),
            408 too slow, 400 a bad ``Content-Length``.
    """
    limit = settings.max_bytes
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            n = int(declared)
        except ValueError:
            raise RequestError(400, f"bad Content-Length {declared!r}") from None
        if n > limit:
            await _drain(request, settings, n)
            raise RequestError(413, f"the body is {n} bytes; this server takes at most {limit}")
    body = bytearray()
    seen = 0
    try:
        with anyio.fail_after(settings.read_timeout_s):
            async for chunk in request.stream():
                seen += len(chunk)
                if seen <= limit:
                    body += chunk
                elif seen > DRAIN_LIMIT:
                    break
    except TimeoutError:
        raise RequestError(408, f"the body did not arrive within {settings.read_timeout_s:g} s") from None
    if seen > limit:
        raise RequestError(413, f"the body is over {limit} bytes, the most this server takes")
    return bytes(body)


async def _drain(request: Request, settings: ServeSettings, declared: int | None = None) -> None:
    """Read and drop what is left of the body (bounded in bytes and time), so that an early
    answer reaches a client that is still sending."""
    if declared is not None and declared > DRAIN_LIMIT:
        return
    seen = 0
    try:
        with anyio.move_on_after(settings.read_timeout_s):
            async for chunk in request.stream():
                seen += len(chunk)
                if seen > DRAIN_LIMIT:
                    return
    except Exception:  # noqa: BLE001 - the client went away: nothing to drain
        return


async def _image_bytes(request: Request, body: bytes) -> bytes:
    """The image of a request: the file part of a multipart form, else the body itself.

    Raises:
        RequestError: 400 a broken form, or one without a file part.
    """
    ctype = request.headers.get("content-type", "")
    if not ctype.lower().startswith("multipart/form-data"):
        return body

    async def replay() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    from starlette.datastructures import UploadFile
    from starlette.requests import Request as StarletteRequest

    try:
        form = await StarletteRequest(request.scope, replay).form(max_files=1, max_fields=32)
    except StarletteHTTPException as exc:
        raise RequestError(400, f"bad multipart body: {exc.detail}") from None
    except Exception as exc:  # noqa: BLE001 - python-multipart's parse errors
        raise RequestError(400, f"bad multipart body: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
    try:
        for value in form.values():
            if isinstance(value, UploadFile):
                return await value.read()
    finally:
        await form.close()
    raise RequestError(400, "the multipart body has no file part: send the image as a file field (curl -F file=@photo.jpg)")


def create_app(settings: ServeSettings, engine: Engine | None = None) -> FastAPI:
    """The ASGI app for ``settings``; the method is loaded here unless ``engine`` is given.

    Raises:
        StreamsegError: the method cannot load.
    """
    from streamseg import __version__

    engine = engine or Engine(settings)
    app = FastAPI(
        title="streamseg",
        version=__version__,
        description="Skin segmentation of images: `POST /segment` an image, get its mask, alpha cut-out or "
        "probability as PNG, or its skin statistics as JSON. The same results as `streamseg image`.",
    )
    inflight = {"n": 0}

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        await _drain(request, settings)
        errs = exc.errors()
        first = errs[0] if errs else {}
        where = ".".join(str(x) for x in first.get("loc", ())[1:]) or "request"
        return _error(400, f"{where}: {first.get('msg', 'invalid')}")

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.get("/", include_in_schema=False)
    async def root() -> dict[str, str]:
        return {"service": "streamseg", "docs": "/docs", "segment": "POST /segment", "health": "/health", "methods": "/methods"}

    @app.get("/health", summary="Liveness and what runs here")
    async def health() -> dict[str, Any]:
        """``status`` ok, the method and provider, the requests in flight now and the limits."""
        return {"status": "ok", "pid": os.getpid(), "inflight": inflight["n"], **engine.info()}

    @app.get("/methods", summary="Every method, whether it runs here, which one is served")
    async def methods() -> dict[str, Any]:
        return {"served": engine.name, "methods": await anyio.to_thread.run_sync(engine.methods)}

    limiter = anyio.CapacityLimiter(settings.max_concurrent)

    @app.post("/segment", summary="Segment skin in one image", responses=_RESPONSES, openapi_extra={"requestBody": _BODY_DOC})
    async def segment(
        request: Request,
        output: Literal["mask", "alpha", "prob", "stats"] = Query("mask", description="What to answer with."),
        threshold: Optional[float] = Query(None, ge=0.0, le=1.0, description="Skin probability threshold [default: the server's]."),
        feather: Optional[float] = Query(None, ge=0.0, le=1000.0, description="Feather the alpha edge over this many pixels [default: the server's]."),
        quality: Optional[Literal["fast", "balanced", "best"]] = Query(
            None, description="As `streamseg image --quality` [default: the server's]; another than the server's loads on first use."
        ),
        method: Optional[str] = Query(None, description="The method you expect; another than the server's is a 400."),
    ) -> Response:
        """One image in (multipart file field or raw body), one answer out: what
        `streamseg image -T mask|alpha|prob` writes for it, or its statistics."""
        if inflight["n"] >= settings.max_concurrent:
            await _drain(request, settings)
            return _error(503, f"busy: {settings.max_concurrent} requests at once is this worker's bound; retry shortly",
                          {"Retry-After": str(RETRY_AFTER_S)})
        inflight["n"] += 1
        try:
            body = await _read_body(request, settings)
            engine.check_method(method)
            data = await _image_bytes(request, body)
            answer = await anyio.to_thread.run_sync(engine.answer, data, output, threshold, feather, quality, limiter=limiter)
        except RequestError as exc:
            return _error(exc.status, exc.message)
        except Exception as exc:  # noqa: BLE001 - a bug must not leak a traceback to the client or the log
            from streamseg import log

            message = f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0]}"
            log.warn(f"request failed: {message}")
            return _error(500, f"internal error: {message}")
        finally:
            inflight["n"] -= 1
        if answer.body is None:
            return JSONResponse(answer.stats)
        return Response(answer.body, media_type=answer.media_type)

    return app


def app_from_env() -> FastAPI:
    """The app of a uvicorn worker process (``--workers N``): settings from :data:`ENV_SETTINGS`."""
    from streamseg import log

    log.quiet_libraries(os.environ.get("STREAMSEG_VERBOSE") == "1")
    log.show_on_console()
    return create_app(ServeSettings.from_json(os.environ[ENV_SETTINGS]))
