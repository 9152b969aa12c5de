"""Administration: users and the audit log (admin role only)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.exceptions import RequestValidationError

from ...store import audit
from ...store.users import create_user, get_user, list_tokens, list_users, revoke_token, update_user
from ..deps import MAX_ID, Admin, DbSession, QueryMoment, RowId, settings_of
from .schemas import AuditOut, AuditPageOut, TokenOut, UserIn, UserOut, UserPatch, token_out, user_out

router = APIRouter(tags=["admin"])


@router.get("/users", response_model=list[UserOut])
def users(who: Admin, db: DbSession) -> list[UserOut]:
    return [user_out(row) for row in list_users(db)]


@router.post("/users", response_model=UserOut, status_code=201, responses={409: {}})
def new_user(body: UserIn, request: Request, who: Admin, db: DbSession) -> UserOut:
    """A patient user must name the record (``patient_id``) they may read; other roles must not."""
    return user_out(create_user(
        db, who.actor, request.app.state.hasher, username=body.username, password=body.password, role=body.role,
        patient_id=body.patient_id, display_name=body.display_name,
        min_password_length=settings_of(request).password_min_length,
    ))


@router.get("/users/{user_id}", response_model=UserOut, responses={404: {}})
def user(user_id: RowId, who: Admin, db: DbSession) -> UserOut:
    return user_out(get_user(db, user_id))


@router.patch("/users/{user_id}", response_model=UserOut, responses={404: {}})
def change_user(user_id: RowId, body: UserPatch, request: Request, who: Admin, db: DbSession) -> UserOut:
    """Change role, name, linked record, password or deactivate; but for a new display name, the user's
    sessions and API tokens end at once."""
    given = body.model_fields_set
    return user_out(update_user(
        db, who.actor, request.app.state.hasher, user_id, role=body.role, active=body.active, password=body.password,
        patient_id=body.patient_id if "patient_id" in given else ...,
        display_name=body.display_name if "display_name" in given else ...,
        min_password_length=settings_of(request).password_min_length,
    ))


@router.get("/users/{user_id}/tokens", response_model=list[TokenOut], responses={404: {}})
def user_tokens(user_id: RowId, who: Admin, db: DbSession) -> list[TokenOut]:
    """A user's API tokens (never the tokens themselves: name, prefix, dates)."""
    get_user(db, user_id)
    audit.record(db, who.actor, "token.list", object_type="user", object_id=user_id)
    return [token_out(row) for row in list_tokens(db, user_id)]


@router.delete("/users/{user_id}/tokens/{token_id}", status_code=204, responses={404: {}})
def revoke_user_token(user_id: RowId, token_id: RowId, who: Admin, db: DbSession) -> Response:
    """Revoke one of a user's API tokens at once."""
    revoke_token(db, who.actor, user_id, token_id)
    return Response(status_code=204)


def _utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError:  # a query parameter: named as one, not as a field of a body
        raise RequestValidationError([{"loc": ("query", "since"), "type": "value_error",
                                       "msg": "out of range: a moment between years 1 and 9999 in UTC"}]) from None


@router.get("/audit", response_model=AuditPageOut)
def audit_events(
    who: Admin,
    db: DbSession,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    before: Annotated[int | None, Query(ge=1, le=2**62, description="next_before of the previous page")] = None,
    user_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    patient_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    action: Annotated[str | None, Query(max_length=64, description="prefix, e.g. 'patient.' or 'auth.login'")] = None,
    since: Annotated[QueryMoment | None, Query(description="events at or after this moment (ISO 8601)")] = None,
) -> AuditPageOut:
    """The audit log, newest first."""
    if since is not None:
        since = _utc(since)
    page = audit.page(db, limit=limit, before=before, user_id=user_id, patient_id=patient_id, action=action,
                      since=since)
    audit.record(db, who.actor, "audit.read")
    return AuditPageOut(items=[AuditOut.model_validate(item, from_attributes=True) for item in page.items],
                        total=page.total, next_before=page.next_before)
