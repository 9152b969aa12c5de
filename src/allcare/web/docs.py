"""The interactive API documentation at ``/api/docs``, served entirely by this server.

FastAPI's own page loads Swagger UI from a CDN and starts it with an inline
script, which needs the network and ``'unsafe-inline'`` in the page's
Content-Security-Policy. Here the Swagger UI files come from the installed
``swagger-ui-py`` package (like plotly.js from ``plotly``; nothing third-party
is copied into this repository) and the start-up script is a static file, so
the docs page runs under the same policy as every other page.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse, Response

router = APIRouter(include_in_schema=False)

ASSETS = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css"}
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>allcare API</title>
<link rel="stylesheet" href="/api/docs/assets/swagger-ui.css"></head>
<body><div id="swagger-ui" data-openapi="/api/openapi.json"></div>
<script src="/api/docs/assets/swagger-ui-bundle.js"></script>
<script src="/static/api-docs.js"></script></body></html>
"""


@lru_cache(maxsize=1)
def _assets_dir() -> Path | None:
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(list(spec.submodule_search_locations)[0]) / "static"
    return folder if folder.is_dir() else None


@router.get("/api/docs")
def docs_page() -> HTMLResponse:
    if _assets_dir() is None:
        raise HTTPException(404, "the API docs viewer is not installed; the OpenAPI document is at /api/openapi.json")
    return HTMLResponse(PAGE)


@router.get("/api/docs/assets/{name}")
def docs_asset(name: str) -> Response:
    folder = _assets_dir()
    if folder is None or name not in ASSETS:
        raise HTTPException(404, "no such file")
    return Response((folder / name).read_bytes(), media_type=ASSETS[name],
                    headers={"Cache-Control": "public, max-age=86400"})
