"""The registrar's table: the coded view of every record (ICD-O-3 morphology and site, ICD-10-CM, diagnosis date, entity,
risk, status), filtered by year of diagnosis, entity and code, and exported as CSV.

No findings, counts or evidence: the same coded data as ``/patients/{id}/coded`` (``store.coded``).
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from fastapi import APIRouter, Request, Response

from ...store.coded import REGISTRY_COLUMNS, RegistryFilters, registry_choices, registry_rows
from ..deps import CodedDataReader, get_store
from .common import PageRoute, csv_response, error_page, render
from .forms import whole_number

router = APIRouter(route_class=PageRoute, include_in_schema=False)
SHOWN = 500  # rows on the page; the CSV has them all
CSV_LIMIT = 100_000


def _filters(query: Any) -> tuple[RegistryFilters, dict[str, str], dict[str, list[str]]]:
    values = {name: (query.get(name) or "").strip()[:64] for name in ("year", "entity", "code")}
    errors: dict[str, list[str]] = {}
    year = None
    if values["year"]:
        typed = whole_number(values["year"])
        if typed is not None and 1900 <= typed <= 2200:
            year = typed
        else:
            errors["year"] = ["a year from 1900 to 2200"]
    return RegistryFilters(year=year, entity=values["entity"] or None, code=values["code"] or None), values, errors


@router.get("/registry")
def registry(request: Request, who: CodedDataReader) -> Response:
    filters, values, errors = _filters(request.query_params)
    with get_store(request).transaction() as session:
        rows = [] if errors else registry_rows(session, who.actor, filters, SHOWN + 1)
        choices = registry_choices(session)
    query = urllib.parse.urlencode({k: v for k, v in values.items() if v})
    return render(request, "registry.html", {
        "rows": rows[:SHOWN], "more": len(rows) > SHOWN,
        "not_current": sum(1 for row in rows[:SHOWN] if not row["assessment_current"]), "values": values, "errors": errors, "choices": choices,
        "csv_link": "/registry.csv" + (f"?{query}" if query else ""), "filtered": bool(query),
    }, status_code=422 if errors else 200)


@router.get("/registry.csv")
def registry_csv(request: Request, who: CodedDataReader) -> Response:
    filters, _, errors = _filters(request.query_params)
    if errors:
        return registry(request, who)
    with get_store(request).transaction() as session:
        rows = registry_rows(session, who.actor, filters, CSV_LIMIT + 1)
    if len(rows) > CSV_LIMIT:
        # Never a CSV cut short: a registrar would count the rows and report a wrong number.
        return error_page(request, 422, f"more than {CSV_LIMIT:,} records match: filter by year of diagnosis, entity or "
                                        "code to export them in parts")
    return csv_response(REGISTRY_COLUMNS, rows, "allcare-registry.csv")
