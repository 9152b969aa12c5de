"""plotly.js for the charts: a partial bundle vendored in the package, served with a content hash.

The patient page draws only scatter lines, markers, filled bands and bars, so it loads plotly.js's
"basic" partial bundle (``static/vendor/plotly-basic.min.js``, see the README there) instead of the
full 4.8 MB build. The file is read once, kept with a gzip copy in memory, and served under a URL
that carries the first hex digits of its SHA-256, with a year-long ``immutable`` cache lifetime: an
upgraded file has a new URL, so no browser keeps a stale one.

plotly.js normally injects its own stylesheet rules at run time, which the
app's Content-Security-Policy (``style-src 'self'``) forbids. plotly.js skips
that when the page already has an element ``#plotly.js-style-global.no-inline-styles``;
the pages link a stylesheet with that id, and this module builds it from the
rule table inside the same bundle (so the CSS always matches the vendored
version). If the table cannot be found, the charts still draw, only plotly's
own buttons and tooltips look plainer.
"""

from __future__ import annotations

import gzip
import hashlib
import re
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request, Response

router = APIRouter(include_in_schema=False)
PLOTLY_JS = Path(__file__).resolve().parent.parent / "static" / "vendor" / "plotly-basic.min.js"
IMMUTABLE = "public, max-age=31536000, immutable"


def plotly_js_path() -> Path | None:
    return PLOTLY_JS if PLOTLY_JS.is_file() else None


@lru_cache(maxsize=1)
def _plotly_bytes() -> tuple[bytes, bytes, str] | None:
    """The bundle, its gzip copy and its content hash (read once: the package does not change while serving)."""
    path = plotly_js_path()
    if path is None:
        return None
    raw = path.read_bytes()
    return raw, gzip.compress(raw, compresslevel=9, mtime=0), hashlib.sha256(raw).hexdigest()[:16]


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


def _content_hash() -> str | None:
    data = _plotly_bytes()
    return data[2] if data else None


def plotly_css_url() -> str | None:
    digest = _content_hash()
    return f"/vendor/plotly-{digest}.css" if digest and _plotly_css() else None


def plotly_url() -> str | None:
    """Where pages load plotly.js from (None: the bundle is missing, pages show tables only)."""
    digest = _content_hash()
    return f"/vendor/plotly-{digest}.min.js" if digest else None


@router.get("/vendor/plotly-{digest}.min.js")
def plotly_js(digest: str, request: Request) -> Response:
    data = _plotly_bytes()
    if data is None or digest != data[2]:
        raise HTTPException(404, "no such plotly.js build")
    raw, packed, _ = data
    headers = {"Cache-Control": IMMUTABLE, "Vary": "Accept-Encoding"}
    if "gzip" in request.headers.get("accept-encoding", "").lower():
        headers["Content-Encoding"] = "gzip"
        return Response(packed, media_type="text/javascript", headers=headers)
    return Response(raw, media_type="text/javascript", headers=headers)


@router.get("/vendor/plotly-{digest}.css")
def plotly_css(digest: str) -> Response:
    css = _plotly_css()
    if css is None or digest != _content_hash():
        raise HTTPException(404, "no such plotly.js stylesheet")
    return Response(css, media_type="text/css", headers={"Cache-Control": IMMUTABLE})
