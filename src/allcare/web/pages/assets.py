"""plotly.js, served from the installed ``plotly`` Python package.

The wheel ships ``plotly.min.js``, so the charts need no CDN and nothing
third-party is copied into this repository. The file is read once, kept with a
gzip copy in memory, and sent with a long cache lifetime (its URL carries the
version, so an upgrade is picked up at once).

plotly.js normally injects its own stylesheet rules at run time, which the
app's Content-Security-Policy (``style-src 'self'``) forbids. plotly.js skips
that when the page already has an element ``#plotly.js-style-global.no-inline-styles``;
the pages link a stylesheet with that id, and this module builds it from the
rule table inside the same ``plotly.min.js`` (so the CSS always matches the
installed version). If the table cannot be found, the charts still draw, only
plotly's own buttons and tooltips look plainer.
"""

from __future__ import annotations

import gzip
import importlib.metadata
import importlib.util
import re
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request, Response

router = APIRouter(include_in_schema=False)


@lru_cache(maxsize=1)  # asked on every page view; the installed package does not move while serving
def plotly_js_path() -> Path | None:
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "package_data" / "plotly.min.js"
    return path if path.is_file() else None


@lru_cache(maxsize=1)
def plotly_version() -> str | None:
    try:
        return importlib.metadata.version("plotly")
    except importlib.metadata.PackageNotFoundError:
        return None


@lru_cache(maxsize=1)
def _plotly_bytes() -> tuple[bytes, bytes] | None:
    path = plotly_js_path()
    if path is None:
        return None
    raw = path.read_bytes()
    return raw, gzip.compress(raw, compresslevel=6, mtime=0)


_PAIR = re.compile(r"""\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[A-Za-z_$][\w$]*)\s*:\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')\s*([,}])""")
_PLACEHOLDERS = {"X": ".js-plotly-plot .plotly", "Y": ".plotly-notifier"}


def _unquote(token: str) -> str:
    return token[1:-1] if token[:1] in "'\"" else token


def css_from_plotly_js(source: str) -> str | None:
    """The stylesheet plotly.js would inject, read from its rule table (``{"X,X div": "...", ...}``)."""
    start = source.find('{"X,X div"')
    if start < 0:
        return None
    rules, position = [], start + 1
    while True:
        match = _PAIR.match(source, position)
        if match is None:
            return None
        selector = _unquote(match.group(1))
        if selector.startswith(","):
            selector = " " + selector
        for placeholder, replacement in _PLACEHOLDERS.items():
            selector = selector.replace(placeholder, replacement)
        rules.append(f"{selector}{{{_unquote(match.group(2))}}}")
        position = match.end()
        if match.group(3) == "}":
            break
    return "/* plotly.js rules, generated from the installed plotly.min.js */\n" + "\n".join(rules) + "\n"


@lru_cache(maxsize=1)
def _plotly_css() -> bytes | None:
    data = _plotly_bytes()
    if data is None:
        return None
    css = css_from_plotly_js(data[0].decode("utf-8", errors="replace"))
    return css.encode() if css else None


_SELF_INJECTED = re.compile(r'if\(!document\.getElementById\("([0-9a-f]{16,64})"\)\)\{var \w=document\.createElement\("style"\)')


@lru_cache(maxsize=1)
def plotly_style_guards() -> tuple[str, ...]:
    """Ids of bundled third-party stylesheets (map styles) that plotly.js injects unless the id exists.

    The pages draw no maps; an empty placeholder with each id stops the blocked
    injection (and the CSP error it would log), without loosening the policy.
    """
    data = _plotly_bytes()
    if data is None:
        return ()
    return tuple(dict.fromkeys(_SELF_INJECTED.findall(data[0].decode("utf-8", errors="replace"))))


def plotly_css_url() -> str | None:
    version = plotly_version()
    return f"/vendor/plotly-{version}.css" if version and _plotly_css() else None


def plotly_url() -> str | None:
    """Where pages load plotly.js from (None: plotly is not installed, pages show tables only)."""
    version = plotly_version()
    return f"/vendor/plotly-{version}.min.js" if version and plotly_js_path() else None


@router.get("/vendor/plotly-{version}.min.js")
def plotly_js(version: str, request: Request) -> Response:
    data = _plotly_bytes()
    if data is None or version != plotly_version():
        raise HTTPException(404, "plotly.js is not available")
    raw, packed = data
    headers = {"Cache-Control": "public, max-age=31536000, immutable", "Vary": "Accept-Encoding"}
    if "gzip" in request.headers.get("accept-encoding", "").lower():
        headers["Content-Encoding"] = "gzip"
        return Response(packed, media_type="text/javascript", headers=headers)
    return Response(raw, media_type="text/javascript", headers=headers)


@router.get("/vendor/plotly-{version}.css")
def plotly_css(version: str) -> Response:
    css = _plotly_css()
    if css is None or version != plotly_version():
        raise HTTPException(404, "plotly.js styles are not available")
    return Response(css, media_type="text/css", headers={"Cache-Control": "public, max-age=31536000, immutable"})
