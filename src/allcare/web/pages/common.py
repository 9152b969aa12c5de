"""What every page shares: templates, the logged-in user, and HTML error pages.

Pages reuse the API's authorisation (:mod:`allcare.web.deps`) so a role can do
on a page exactly what it can do through the API. Two things differ for a
browser, and live here:

- an anonymous visitor is sent to the login page (``303``) instead of getting
  a JSON ``401``;
- a refusal or an unknown record is an HTML page, not JSON.

Both are done by :class:`PageRoute`, a route class that turns the
``HTTPException`` raised anywhere in a page route (its dependencies included)
into that response, so the routes themselves stay thin.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import html
import io
import json
import math
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from fastapi import HTTPException, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape
from starlette.exceptions import HTTPException as StarletteHTTPException

from ... import DISCLAIMER, __version__
from ...course_labels import episode_details, episode_name
from ...engine.assessment import Assessment, assessment_from_json
from ...engine.codes import ICD_O_3_TOPOGRAPHY_TERMS
from ...labels import PHASE as PHASE_LABELS
from ...labels import STATUS as STATUS_LABELS
from ...labels import phase_label, status_label
from ...labels.plain import age_months
from ...store.assessments import is_historical
from ...store.errors import NotFound
from ..charts import percent_text
from ..deps import Principal
from .assets import plotly_css_url, plotly_style_guards, plotly_url

WEB_DIR = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"

HOME_BY_ROLE = {"clinician": "/patients", "registrar": "/registry", "admin": "/admin"}


def home_for(who: Principal) -> str:
    """Where a user lands after login: a patient on their own report, staff on the patient list."""
    if who.role == "patient":
        return f"/patients/{who.patient_id}/report" if who.patient_id else "/no-record"
    return HOME_BY_ROLE.get(who.role, "/patients")


def safe_next(target: str | None) -> str | None:
    """Only same-site paths are followed after login (no open redirect to another site)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parsed = urllib.parse.urlsplit(target)
    if parsed.scheme or parsed.netloc:
        return None
    return target


def long_date(day: dt.date | None) -> str:
    return "" if day is None else f"{day.day} {day:%b %Y}"


def age_text(years: float | None) -> str:
    """An age counted down, never rounded up across a birthday or a cut-off (9.96 years is "9.9 years", not
    "10.0" beside the NCI 10-year line; docs/decisions.md#ages): whole months under 2 years."""
    if years is None:
        return "age unknown"
    if years < 2:
        return f"{age_months(years)} months"
    return f"{math.floor(years + 1e-9)} years" if years >= 10 else f"{math.floor(years * 10 + 1e-9) / 10:.1f} years"


def words(value: Any) -> str:
    """``complete_remission`` -> ``complete remission`` for the odd value without a label."""
    return "" if value is None else str(value).replace("_", " ")


def value_text(value: Any) -> str:
    """A conclusion's value in a summary line: lists joined, mappings summarised, None as a dash."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value) or "none"
    if isinstance(value, dict):
        return "; ".join(f"{k} {v}" for k, v in value.items())
    return words(value)


class WhyBoxes:
    """Conclusions as "why" boxes (topic, value, rule; open to rule, source, reasoning, evidence, what is
    missing and what conflicts), all in one pass: a three-year record has some sixty on its page, and
    a template macro per conclusion and per evidence list was a large share of the page's rendering time.

    One instance renders one page section (its template calls it as ``conclusions``). A conclusion shown
    twice there (in the diagnosis panel or a maintenance panel, then in the derivation trail) gets its box
    once, where it is first shown, with an element id; later it is a line with its topic, value and rule
    that links to that box (the trail repeated some 26 KB of a three-year record's boxes). Boxes are
    remembered by the conclusion object's identity, which holds only while the assessment they belong to
    is alive: so never share an instance between renders."""

    def __init__(self) -> None:
        self._written: dict[int, tuple[Any, str]] = {}  # id -> (the conclusion, kept alive; its link line)

    def __call__(self, items: list[Any]) -> Markup:
        written = self._written
        parts = []
        for c in items:
            known = written.get(id(c))
            if known is None:
                anchor = f"why-{len(written) + 1}"
                summary, box = _why_box(c, anchor)
                written[id(c)] = (c, f'<p class="why-ref"><a href="#{anchor}">{summary}</a></p>\n')
                parts.append(box)
            else:
                parts.append(known[1])
        return Markup("".join(parts))  # noqa: S704 - every value is escaped in _why_box


def _why_box(c: Any, anchor: str) -> tuple[str, str]:
    """The box's summary line (topic, value, rule) and the whole box, with ``anchor`` as its id."""
    value = _esc(value_text(c.value)) if c.determined else "not determined"
    rule = _esc(c.rule)
    summary = (f'<span class="why__topic">{_esc(c.topic)}</span>\n'
               f'    <span class="why__value">{value}</span>\n'
               f'    <span class="why__rule">{rule}</span>')
    return summary, (
        f'<details class="why{"" if c.determined else " why--undetermined"}" id="{anchor}">\n'
        f'  <summary>{summary}</summary>\n'
        f'  <dl class="why__body">\n'
        f'    <dt>Rule</dt><dd><code>{rule}</code></dd>\n'
        f'    <dt>Source</dt><dd>{_esc(c.source)}</dd>\n'
        + (f'    <dt>Reasoning</dt><dd>{_esc(c.explanation)}</dd>\n' if c.explanation else "")
        + f'    <dt>Evidence</dt><dd>{evidence(c.evidence)}</dd>\n'
        + (f'    <dt>Missing</dt><dd>{_items(c.missing)}</dd>\n' if c.missing else "")
        + (f'    <dt>Conflicts</dt><dd>{_items(c.conflicts)}</dd>\n' if c.conflicts else "")
        + "  </dl>\n</details>")


def evidence(items: list[Any]) -> Markup:
    """The findings a conclusion or alert cites: date, type, position in the record and a summary."""
    if not items:
        return Markup('<p class="muted">No finding cited.</p>')
    return Markup('<ul class="evidence">' + "".join(  # noqa: S704 - every value is escaped
        f'<li><span class="evidence__when">{_esc(e.date)}</span> <span class="evidence__type">{_esc(e.type)}</span> '
        f'<span class="evidence__ref">finding #{_esc(e.index)}</span> — {_esc(e.summary)}</li>' for e in items) + "</ul>")


def _items(texts: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{_esc(text)}</li>" for text in texts) + "</ul>"


def _esc(value: Any) -> str:
    return str(escape(value))


def table_rows(rows: list[list[Any]]) -> Markup:
    """A chart's numbers table body: the first cell of each row is its header.

    Written here rather than as a template loop because a three-year record's tables hold
    thousands of cells and a per-cell template call was most of the page's rendering time.
    The whole body is escaped as one string, its rows and cells held apart by separators no
    cell contains, which then become the tags (checked: a table whose cells hold one, or with
    a row of a single cell, is written row by row)."""
    texts = [str(row[0]) + _HEAD_GAP + _CELL_GAP.join([str(cell) for cell in row[1:]]) for row in rows if len(row) > 1]
    if len(texts) == len(rows):
        joined = _ROW_GAP.join(texts)
        if (joined.count(_HEAD_GAP), joined.count(_ROW_GAP), joined.count(_CELL_GAP)) == (
                len(rows), len(rows) - 1, sum(len(row) - 2 for row in rows)):
            body = (html.escape(joined, quote=False).replace(_HEAD_GAP, "</th><td>").replace(_CELL_GAP, "</td><td>")
                    .replace(_ROW_GAP, '</td></tr><tr><th scope="row">'))
            return Markup('<tr><th scope="row">' + body + "</td></tr>")  # noqa: S704 - escaped above
    return Markup("".join(_table_row(row) for row in rows))  # noqa: S704 - every cell is escaped in _table_row


def _table_row(row: list[Any]) -> str:
    escaped = [html.escape(str(cell), quote=False) for cell in row]
    if len(escaped) == 1:
        return '<tr><th scope="row">' + escaped[0] + "</th></tr>"
    return '<tr><th scope="row">' + escaped[0] + "</th><td>" + "</td><td>".join(escaped[1:]) + "</td></tr>"


# ASCII separators (group, record, unit): never in a table cell's text (and checked)
_HEAD_GAP, _ROW_GAP, _CELL_GAP = "\x1d", "\x1e", "\x1f"


def script_json(value: Any) -> Markup:
    """``value`` as JSON safe inside a ``<script type="application/json">`` element: Jinja's ``tojson``
    (the same four characters written as ``\\u`` escapes, so no ``</script>`` and no HTML entity) with orjson,
    about ten times faster on a three-year record's chart figures (~80 KB of JSON, the largest single
    cost of rendering the page's assessment section)."""
    text = orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")  # noqa: S704 - escaped
                  .replace("'", "\\u0027"))


def _static_version() -> str:
    """Bust browser caches when a static file changes (the newest modification time)."""
    try:
        return str(max(int(p.stat().st_mtime) for p in STATIC_DIR.iterdir() if p.is_file()))
    except ValueError:
        return __version__


templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
templates.env.auto_reload = False  # shipped with the package: compiled once per process, never stat()ed again
templates.env.globals.update(
    DISCLAIMER=DISCLAIMER,
    VERSION=__version__,
    STATIC_VERSION=_static_version(),
    STATUS_LABELS=STATUS_LABELS,
    TOPOGRAPHY_TERMS=ICD_O_3_TOPOGRAPHY_TERMS,
    PHASE_LABELS=PHASE_LABELS,
    plotly_url=plotly_url,
    plotly_css_url=plotly_css_url,
    plotly_style_guards=plotly_style_guards,
    episode_name=episode_name,
    episode_details=episode_details,
    historical_alert=is_historical,
    evidence=evidence,
)
templates.env.filters.update(
    status_label=status_label,
    phase_label=phase_label,
    percent=percent_text,
    long_date=long_date,
    age_text=age_text,
    words=words,
    value_text=value_text,
    table_rows=table_rows,
    script_json=script_json,
)


def render(request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200) -> HTMLResponse:
    """Render a page with what every template needs (the user, the CSRF token, the disclaimer)."""
    data = {
        "user": getattr(request.state, "principal", None),
        "csrf_token": request.scope.get("state", {}).get("csrf_token", ""),
        "path": request.url.path,
    }
    data.update(context or {})
    response = templates.TemplateResponse(request, name, data, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"  # pages hold patient data: never cached by the browser
    return response


def login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse("/login?" + urllib.parse.urlencode({"next": target}), status_code=303)


ERROR_TITLES = {
    403: "Not allowed",
    404: "Not found",
    409: "Changed by someone else",
    413: "Too large",
    422: "Cannot use this input",
    429: "Too many attempts",
    503: "Not available",
}


def error_page(request: Request, status: int, detail: str | None = None) -> Response:
    title = ERROR_TITLES.get(status, "Something went wrong")
    return render(request, "error.html", {"status": status, "title": title, "detail": detail}, status_code=status)


class PageRoute(APIRoute):
    """A route whose errors are pages: 401 becomes a login redirect, 403/404/... an HTML page."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except (HTTPException, StarletteHTTPException) as error:
                if error.status_code == 401:
                    return login_redirect(request)
                if 300 <= error.status_code < 400:
                    raise
                return error_page(request, error.status_code, str(error.detail) if error.detail else None)
            except NotFound as error:
                return error_page(request, 404, f"{error.what} not found")

        return page_handler


def parse_assessment(data: bytes) -> Assessment:
    """The store's gzip JSON as an :class:`Assessment` (for a three-year record about 11 KB that
    decompress and decode in well under a millisecond: not worth keeping parsed)."""
    return assessment_from_json(gzip.decompress(data))
def csv_response(columns: tuple[str, ...], rows: list[dict[str, Any]], filename: str) -> Response:
    """A CSV download: a header of ``columns``, then one line per row (dates ISO, mappings as JSON)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_cell(row.get(column)) for column in columns])
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"})


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    text = str(value)
    # A cell a spreadsheet would run as a formula is written as text: one starting with = + - @, also
    # after leading tabs, line breaks or spaces, which spreadsheets skip on import (OWASP, CSV injection).
    start = text.lstrip()[:1]
    return "'" + text if start in _FORMULA_STARTS and not _is_number(text) else text


_FORMULA_STARTS = frozenset("=+-@")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
