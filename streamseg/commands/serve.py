"""``streamseg serve``: an HTTP server that segments the images posted to it."""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer

from streamseg.commands.common import MODEL_OPTIONS, FeatherOpt, MethodOpt, ThresholdOpt, api_options, with_options


@with_options(MODEL_OPTIONS, after="feather")
def command(
    host: Annotated[str, typer.Option("--host", help="Address to listen on (127.0.0.1: this machine only; 0.0.0.0: every interface).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", "-p", min=0, max=65535, help="Port (0: any free port, printed when ready).")] = 8000,
    method: MethodOpt = None,
    threshold: ThresholdOpt = 0.5,
    feather: FeatherOpt = None,
    workers: Annotated[int, typer.Option("--workers", "-w", min=1, help="Worker processes, each loading the method once.")] = 1,
    max_concurrent: Annotated[
        int, typer.Option("--max-concurrent", min=1, help="Requests one worker handles at once; more get 503 with Retry-After.")
    ] = 4,
    max_mb: Annotated[float, typer.Option("--max-mb", min=0.001, help="Largest request body, MiB.")] = 20.0,
    max_megapixels: Annotated[float, typer.Option("--max-megapixels", min=0.001, help="Largest image (from its header, before decoding).")] = 25.0,
    access_log: Annotated[bool, typer.Option("--access-log", help="One line per request on stderr.")] = False,
    **shared: Any,
) -> None:
    """Serve skin segmentation over HTTP: POST /segment an image, get its mask, alpha or probability PNG, or JSON statistics.

    The answers are what streamseg image writes for the same picture and options. The method loads once per worker; each worker handles up to --max-concurrent requests at once and answers 503 (Retry-After) past that. Bodies over --max-mb and images over --max-megapixels get 413; undecodable ones 400/415, as JSON {"error": ...}. OpenAPI docs at /docs. Ctrl-C or SIGTERM stops it after the requests in flight. Needs pip install 'streamseg\\[serve]'.

    Examples:

        streamseg serve -m dlmv                                   # http://127.0.0.1:8000, docs at /docs

        curl -F file=@photo.jpg 'http://127.0.0.1:8000/segment?output=mask' -o mask.png

        curl --data-binary @photo.jpg 'http://127.0.0.1:8000/segment?output=stats'

        streamseg serve --host 0.0.0.0 --port 9000 --workers 2 --max-concurrent 8
    """
    from streamseg.serve.server import check_installed, run_server
    from streamseg.serve.settings import ServeSettings

    check_installed()
    # the method options of `streamseg image` (MODEL_OPTIONS), as the API takes them; unset ones left out
    options = {k: v for k, v in api_options(shared).items() if v is not None}
    # `quality` (like the other MODEL_OPTIONS) is the server's default; a request may ask for another
    settings = ServeSettings(
        method=method, options=options, threshold=threshold, feather=feather, max_concurrent=max_concurrent,
        max_bytes=int(max_mb * 1024 * 1024), max_megapixels=max_megapixels,
    )
    run_server(settings, host=host, port=port, workers=workers, access_log=access_log)
