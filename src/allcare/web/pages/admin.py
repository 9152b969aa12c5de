"""Administration pages: user accounts (add, disable, reset the password, change the role) and the
audit log (filtered by user, patient, action and date; exported as CSV).

The store functions are the API's (``store.users``, ``store.audit``), so a page can do exactly
what ``/api/v1/users`` and ``/api/v1/audit`` can, with the same checks and audit events.
"""

from __future__ import annotations

import datetime as dt
import urllib.parse
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from ...store import audit
from ...store.errors import Conflict, InvalidRecord, NotFound
from ...store.models import ROLES
from ...store.users import create_user, list_users, update_user
from ..deps import MAX_ID, Admin, RowId, get_store, settings_of
from .common import PageRoute, csv_response, render
from .forms import DIGITS_ONLY, field_text, whole_number

router = APIRouter(route_class=PageRoute, include_in_schema=False)
AUDIT_PAGE = 100
CSV_LIMIT = 100_000  # one export; narrow the filters for more
AUDIT_COLUMNS = ("id", "at", "username", "role", "action", "outcome", "object_type", "object_id", "patient_id", "ip",
                 "via", "detail")
USER_ACTIONS = {"disable": "Disable", "enable": "Enable", "role": "Change role", "password": "Reset password"}


def _text(form: Any, name: str, limit: int = 1024) -> str:
    return field_text(form, name)[:limit]


def _users_page(request: Request, errors: dict | None = None, values: dict | None = None, done: str = "",
                status: int = 200) -> Response:
    with get_store(request).transaction() as session:
        users = list_users(session)
    return render(request, "admin.html", {
        "users": users, "roles": ROLES, "errors": errors or {}, "values": values or {}, "done": done,
        "min_password": settings_of(request).password_min_length,
    }, status_code=status)


@router.get("/admin")
def admin_home(request: Request, who: Admin) -> Response:
    done = request.query_params.get("done", "")[:200]
    return _users_page(request, done=done)


def _problems(error: InvalidRecord | Conflict) -> dict[str, list[str]]:
    if isinstance(error, Conflict):
        return {"username": [str(error)]}
    found: dict[str, list[str]] = {}
    for location, message in error.problems:
        found.setdefault(location.split(".")[-1], []).append(message)
    return found


@router.post("/admin/users")
async def add_user(request: Request, who: Admin) -> Response:
    form = await request.form()
    values = {name: _text(form, name) for name in ("username", "display_name", "role", "patient_id")}
    password = _text(form, "password")
    patient_id = None
    if values["patient_id"]:
        patient_id = whole_number(values["patient_id"])
        if patient_id is None:
            return _users_page(request, {"patient_id": [f"a record number ({DIGITS_ONLY})"]}, values, status=422)

    def save() -> str:
        with get_store(request).transaction() as session:
            return create_user(session, who.actor, request.app.state.hasher, username=values["username"],
                               password=password, role=values["role"], patient_id=patient_id,
                               display_name=values["display_name"] or None,
                               min_password_length=settings_of(request).password_min_length).username

    try:
        username = await run_in_threadpool(save)
    except (InvalidRecord, Conflict) as error:
        return _users_page(request, _problems(error), values, status=409 if isinstance(error, Conflict) else 422)
    return RedirectResponse("/admin?" + urllib.parse.urlencode({"done": f"User {username} added."}), status_code=303)


@router.post("/admin/users/{user_id}")
async def change_user(request: Request, user_id: RowId, who: Admin) -> Response:
    """One change per button: disable, enable, change the role, or set a new password."""
    form = await request.form()
    action = _text(form, "action")
    options: dict[str, dict[str, Any]] = {"disable": {"active": False}, "enable": {"active": True},
                                          "role": {"role": _text(form, "role")},
                                          "password": {"password": _text(form, "password")}}
    changes = options.get(action, {})
    if not changes:
        return _users_page(request, {"": ["choose an action"]}, status=422)
    if user_id == who.user_id and action in ("disable", "role"):
        return _users_page(request, {"": ["you cannot disable your own account or change your own role"]}, status=422)

    def save() -> str:
        with get_store(request).transaction() as session:
            return update_user(session, who.actor, request.app.state.hasher, user_id, **changes,
                               min_password_length=settings_of(request).password_min_length).username

    try:
        username = await run_in_threadpool(save)
    except NotFound:
        return _users_page(request, {"": [f"no user {user_id}"]}, status=404)
    except InvalidRecord as error:
        messages = [f"{location}: {message}" if location else message for location, message in error.problems]
        return _users_page(request, {f"user-{user_id}": messages}, status=422)
    done = f"{USER_ACTIONS[action]}: {username} — done. Their sessions and API tokens ended." if action != "enable" \
        else f"{USER_ACTIONS[action]}: {username} — done."
    return RedirectResponse("/admin?" + urllib.parse.urlencode({"done": done}), status_code=303)


# --- the audit log ---------------------------------------------------------------------------------


@dataclass
class AuditFilters:
    """The audit page's filters as typed, and as the store reads them (bad values become form errors)."""

    values: dict[str, str]
    errors: dict[str, list[str]]
    user_id: int | None = None
    patient_id: int | None = None
    action: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None

    @classmethod
    def read(cls, query: Any) -> AuditFilters:
        values = {name: _text(query, name, 64) for name in ("user", "patient", "action", "from", "to")}
        found = cls(values, {})
        for name, attribute in (("user", "user_id"), ("patient", "patient_id")):
            if values[name]:
                number = whole_number(values[name]) or 0
                if not 1 <= number <= MAX_ID:
                    found.errors.setdefault(name, []).append("a number from the list or the record's number")
                setattr(found, attribute, number if 1 <= number <= MAX_ID else None)
        found.action = values["action"] or None
        for name, attribute, shift in (("from", "since", 0), ("to", "until", 1)):
            if values[name]:
                try:
                    day = dt.date.fromisoformat(values[name])
                except ValueError:
                    found.errors.setdefault(name, []).append("a date as YYYY-MM-DD")
                    continue
                if shift and day == dt.date.max:
                    continue  # up to the end of the calendar: no upper bound
                moment = dt.datetime.combine(day + dt.timedelta(days=shift), dt.time(), tzinfo=dt.UTC)
                setattr(found, attribute, moment)
        return found

    def page(self, session, limit: int, before: int | None = None) -> audit.AuditPage:
        return audit.page(session, limit=limit, before=before, user_id=self.user_id, patient_id=self.patient_id,
                          action=self.action, since=self.since, until=self.until)

    def query(self, **extra: Any) -> str:
        return urllib.parse.urlencode({k: v for k, v in {**self.values, **extra}.items() if v})


def _before(query: Any) -> int | None:
    before = whole_number(query.get("before") or "") or 0
    return before if 1 <= before <= 2**62 else None


@router.get("/admin/audit")
def audit_log(request: Request, who: Admin) -> Response:
    filters = AuditFilters.read(request.query_params)
    with get_store(request).transaction() as session:
        users = list_users(session)
        found = filters.page(session, AUDIT_PAGE, _before(request.query_params)) if not filters.errors else None
        audit.record(session, who.actor, "audit.read")
    return render(request, "admin_audit.html", {
        "filters": filters, "users": users, "events": found.items if found else [], "total": found.total if found else 0,
        "next_link": f"/admin/audit?{filters.query(before=found.next_before)}" if found and found.next_before else None,
        "csv_link": f"/admin/audit.csv?{filters.query()}",
    }, status_code=422 if filters.errors else 200)


@router.get("/admin/audit.csv")
def audit_export(request: Request, who: Admin) -> Response:
    filters = AuditFilters.read(request.query_params)
    if filters.errors:
        return audit_log(request, who)
    with get_store(request).transaction() as session:
        found = filters.page(session, CSV_LIMIT)
        rows = [{column: getattr(event, column) for column in AUDIT_COLUMNS} for event in found.items]
        audit.record(session, who.actor, "audit.export", detail={"rows": len(rows)})
    return csv_response(AUDIT_COLUMNS, rows, "allcare-audit.csv")
