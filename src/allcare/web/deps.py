"""FastAPI dependencies: the store, a database session, and who is asking.

Authorisation lives here, in one place, so every route states its rule in its
signature (``Depends(patient_reader)``) instead of re-implementing it:

- clinician: reads and writes every patient;
- registrar: read-only, the coded data (patient list, assessment, cohort counts), no raw findings;
- patient: reads only the record their user is linked to (any other id answers 404,
  so a patient cannot even learn which ids exist);
- admin: users and the audit log, no patient data.

Every refusal is written to the audit log in a transaction of its own (the
request's, if any, is rolled back with the error).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BeforeValidator, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from ..caches import Caches
from ..engine.case.models import DATE_PATTERN, EARLIEST_DATE, LATEST_DATE, unstorable_text
from ..settings import Settings
from ..store import Actor, Store
from ..store import audit as audit_log
from ..store.models import MAX_ROW_ID
from ..store.users import identity_for_session, identity_for_token
from .security import client_ip, route_template, session_token

MAX_ID = MAX_ROW_ID
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?)?")


def _iso_date(value):
    """Only YYYY-MM-DD: a bare number would otherwise be read as seconds since 1970 (as_of=0 = 1970-01-01)."""
    if isinstance(value, str) and not _ISO_DATE.fullmatch(value):
        raise ValueError("a date as YYYY-MM-DD")
    return value


def _iso_moment(value):
    if isinstance(value, str) and not _ISO_MOMENT.fullmatch(value):
        raise ValueError("a date or time as YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS with a UTC offset")
    return value


# A date in a query: ISO text within the dates a record may hold (the case model's bounds).
QueryDate = Annotated[dt.date, BeforeValidator(_iso_date), Field(ge=EARLIEST_DATE, le=LATEST_DATE,
                                                                  json_schema_extra={"pattern": DATE_PATTERN})]
QueryMoment = Annotated[dt.datetime, BeforeValidator(_iso_moment)]
PatientId = Annotated[int, Path(ge=1, le=MAX_ID, description="the record's number in this store")]
FindingId = Annotated[int, Path(ge=1, le=MAX_ID)]
RowId = Annotated[int, Path(ge=1, le=MAX_ID)]


async def refuse_unstorable_query(request: Request) -> None:
    """Every route: a query parameter no database can keep (a NUL; lone surrogates cannot arrive in a URL,
    which is decoded as UTF-8 with replacement) is refused naming the parameter, before it reaches a search
    (SQLite looked for it, PostgreSQL refused the statement)."""
    problems = [{"loc": ("query", name), "msg": problem, "type": "value_error"}
                for name, value in request.query_params.multi_items() if (problem := unstorable_text(value))]
    if problems:
        raise RequestValidationError(problems)


@dataclass(frozen=True)
class Principal:
    """The logged-in user behind a request."""

    user_id: int
    username: str
    role: str
    patient_id: int | None
    display_name: str | None
    via: str  # session | token
    ip: str | None

    @property
    def actor(self) -> Actor:
        return Actor(user_id=self.user_id, username=self.username, role=self.role, ip=self.ip, via=self.via)


def get_store(request: Request) -> Store:
    return request.app.state.store


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_caches(request: Request) -> Caches:
    return request.app.state.caches


store_of, settings_of, caches_of = get_store, get_settings, get_caches  # plain-call spellings used by the API routes


async def _session(request: Request) -> AsyncIterator[Session]:
    """The request's transaction: committed after the route returns, rolled back if it raised.

    An async generator, so opening it costs no trip through the thread pool (a
    Session connects lazily, on its first query); only the commit or rollback,
    which does I/O, runs in a worker thread.
    """
    session = get_store(request).sessions()
    try:
        yield session
    except BaseException:
        await run_in_threadpool(_finish, session, False)
        raise
    await run_in_threadpool(_finish, session, True)


def _finish(session: Session, commit: bool) -> None:
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


# scope="function": commit before the response is built, so a failed commit is an error
# response (not a silent 200) and a client's next request sees its own write.
DbSession = Annotated[Session, Depends(_session, scope="function")]


def _unauthenticated() -> HTTPException:
    return HTTPException(status_code=401, detail="log in first (session cookie or 'Authorization: Bearer <token>')",
                         headers={"WWW-Authenticate": "Bearer"})


def current_principal(request: Request) -> Principal:
    """Who is asking: a bearer token, else the session cookie; 401 when neither is valid.

    Looked up on a connection or in a short transaction of its own, so a route may open its own
    transactions freely without one request ever holding two connections' locks.
    """
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    authorization = request.headers.get("authorization", "")
    store = get_store(request)
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _unauthenticated()
        with store.transaction() as session:
            user, via = identity_for_token(session, token.strip()), "token"
    else:
        cookie = session_token(request)
        user, via = None, "session"
        if cookie:
            with store.reading() as connection:
                user = identity_for_session(connection, cookie)
    if user is None:
        raise _unauthenticated()
    principal = Principal(user_id=user.id, username=user.username, role=user.role, patient_id=user.patient_id,
                          display_name=user.display_name, via=via, ip=client_ip(request))
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


async def deny(who: Principal, request: Request, status: int, detail: str, patient_id: int | None = None):
    """Audit a refused request (in a transaction of its own) and return the HTTP error to raise."""

    def record() -> None:
        with get_store(request).transaction() as session:
            audit_log.record(session, who.actor, "access.denied", outcome="denied", patient_id=patient_id,
                             object_type="route", object_id=f"{request.method} {route_template(request.scope)}")

    await run_in_threadpool(record)
    return HTTPException(status_code=status, detail=detail)


def require_roles(*roles: str):
    """A dependency that admits only users with one of ``roles``."""

    async def check(request: Request, who: CurrentPrincipal) -> Principal:  # no I/O: no thread hop
        if who.role not in roles:
            raise await deny(who, request, 403, f"your role ({who.role}) may not do this")
        return who

    return check


def patient_access(*roles: str, own_record: bool = True):
    """A dependency for routes under ``/patients/{patient_id}``.

    Admits ``roles``; a patient user (when ``own_record``) only for their own record.
    """

    async def check(request: Request, patient_id: PatientId, who: CurrentPrincipal) -> Principal:
        if who.role == "patient" and own_record:
            if who.patient_id != patient_id:
                raise await deny(who, request, 404, f"patient {patient_id} not found", patient_id)
            return who
        if who.role not in roles:
            raise await deny(who, request, 403, f"your role ({who.role}) may not do this", patient_id)
        return who

    return check


Clinician = Annotated[Principal, Depends(require_roles("clinician"))]
Admin = Annotated[Principal, Depends(require_roles("admin"))]
CodedDataReader = Annotated[Principal, Depends(require_roles("clinician", "registrar"))]
ListReader = Annotated[Principal, Depends(require_roles("clinician", "registrar", "patient"))]
AnyUser = CurrentPrincipal

# Under /patients/{patient_id}:
PatientWriter = Annotated[Principal, Depends(patient_access("clinician", own_record=False))]
PatientReader = Annotated[Principal, Depends(patient_access("clinician"))]  # + the patient themself
CodedPatientReader = Annotated[Principal, Depends(patient_access("clinician", "registrar"))]
