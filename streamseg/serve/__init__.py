"""``streamseg serve``: skin segmentation over HTTP (``pip install 'streamseg[serve]'``: FastAPI
on uvicorn).

- :mod:`~streamseg.serve.settings`: :class:`ServeSettings` (method, limits, bounds);
- :mod:`~streamseg.serve.engine`: :class:`Engine`, the method loaded once per worker process,
  and what one request's image becomes (mask, alpha, prob PNG or statistics);
- :mod:`~streamseg.serve.app`: the ASGI app (``POST /segment``, ``GET /health``, ``GET /methods``,
  OpenAPI docs at ``/docs``), the request bound (503 with ``Retry-After`` past it) and the body limits;
- :mod:`~streamseg.serve.server`: listening (127.0.0.1 by default), uvicorn's workers, quiet
  logs, a clean stop on SIGTERM / Ctrl-C.

Nothing here is imported by ``import streamseg``; FastAPI and uvicorn load only for ``serve``.
"""

from streamseg.serve.settings import ServeSettings

__all__ = ["ServeSettings"]
