"""Users, passwords (argon2), API tokens and browser sessions.

Passwords are hashed with argon2id (argon2-cffi); a hash made with weaker
parameters is upgraded at the next successful login. Tokens and session ids are
256-bit random strings, so only their SHA-256 is stored: a stolen database does
not yield a usable credential, and lookup stays a single indexed query.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, bindparam, delete, func, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from . import audit
from .audit import Actor
from .errors import Conflict, InvalidRecord, NotFound
from .models import MAX_ROW_ID, ROLES, ApiToken, Base, Patient, User, UserSession
from .patients import display_name_problem
from .types import utcnow

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,79}$")
TOKEN_PREFIX = "ac_"  # noqa: S105 - the prefix that marks an API token, not a secret


def make_hasher(time_cost: int = 3, memory_kib: int = 65536, parallelism: int = 4) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def normalise_username(username: str) -> str:
    return username.strip().lower()


def check_new_user(username: str, password: str, role: str, patient_id: int | None, min_length: int) -> list[tuple[str, str]]:
    problems = []
    if not USERNAME.match(username):
        problems.append(("username", "1-80 characters: letters, digits and . _ @ - (starting with a letter or digit)"))
    problems += check_password(password, min_length)
    problems += check_role(role, patient_id)
    return problems


def check_password(password: str, min_length: int) -> list[tuple[str, str]]:
    if len(password) < min_length:
        return [("password", f"at least {min_length} characters")]
    if len(password) > 1024:
        return [("password", "at most 1024 characters")]
    return []


def check_display_name(display_name: str | None) -> list[tuple[str, str]]:
    problem = display_name_problem(display_name)
    return [("display_name", problem)] if problem else []


def check_role(role: str, patient_id: int | None) -> list[tuple[str, str]]:
    if role not in ROLES:
        return [("role", f"one of {', '.join(ROLES)}")]
    if role == "patient" and patient_id is None:
        return [("patient_id", "a patient user must be linked to their record")]
    if role != "patient" and patient_id is not None:
        return [("patient_id", "only a patient user is linked to a record")]
    if patient_id is not None and not 1 <= patient_id <= MAX_ROW_ID:
        return [("patient_id", f"a record number from 1 to {MAX_ROW_ID}")]
    return []


def create_user(
    session: Session,
    actor: Actor,
    hasher: PasswordHasher,
    *,
    username: str,
    password: str,
    role: str,
    patient_id: int | None = None,
    display_name: str | None = None,
    min_password_length: int = 10,
) -> User:
    username = normalise_username(username)
    problems = check_new_user(username, password, role, patient_id, min_password_length) + check_display_name(display_name)
    if problems:
        raise InvalidRecord(problems)
    if patient_id is not None and session.get(Patient, patient_id) is None:
        raise InvalidRecord([("patient_id", f"no patient {patient_id}")])
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"user {username!r} already exists")
    user = User(username=username, password_hash=hasher.hash(password), role=role, patient_id=patient_id,
                display_name=display_name, active=True)
    session.add(user)
    session.flush()
    audit.record(session, actor, "user.create", object_type="user", object_id=user.id, detail={"role": role})
    return user


def update_user(
    session: Session,
    actor: Actor,
    hasher: PasswordHasher,
    user_id: int,
    *,
    role: str | None = None,
    active: bool | None = None,
    password: str | None = None,
    patient_id: int | object | None = ...,
    display_name: str | object | None = ...,
    min_password_length: int = 10,
) -> User:
    """Change a user; deactivating, a new password, a new role or another linked record ends their sessions
    and API tokens at once (a display name alone keeps them)."""
    user = get_user(session, user_id)
    new_role = role if role is not None else user.role
    new_patient = user.patient_id if patient_id is ... else patient_id
    problems = check_role(new_role, new_patient)  # type: ignore[arg-type]
    if password is not None:
        problems += check_password(password, min_password_length)
    if display_name is not ...:
        problems += check_display_name(display_name)  # type: ignore[arg-type]
    if actor.user_id == user.id and ((role is not None and role != user.role) or active is False):
        # otherwise the only admin could leave no one to manage the accounts; another admin may do it
        problems.append(("role" if role is not None else "active",
                         "you cannot change your own role or disable your own account; another admin can"))
    if problems:
        raise InvalidRecord(problems)
    if new_patient is not None and session.get(Patient, new_patient) is None:
        raise InvalidRecord([("patient_id", f"no patient {new_patient}")])
    changed: list[str] = []
    if role is not None and role != user.role:
        user.role, changed = role, changed + ["role"]
    if patient_id is not ... and patient_id != user.patient_id:
        user.patient_id, changed = patient_id, changed + ["patient_id"]  # type: ignore[assignment]
    if display_name is not ...:
        user.display_name, changed = display_name, changed + ["display_name"]  # type: ignore[assignment]
    if active is not None and active != user.active:
        user.active, changed = active, changed + ["active"]
    if password is not None:
        user.password_hash, changed = hasher.hash(password), changed + ["password"]
    if {"password", "active", "role", "patient_id"} & set(changed):
        # A session or token carries the power its user had when it was made: after a new role or another
        # linked record, a demoted clinician's script must not keep clinician access, a promoted user's old
        # token must not gain the new role, and a parent's app must not open another child's record.
        end_all_sessions(session, user.id)
        revoke_all_tokens(session, user.id)
    user.updated_at = utcnow()
    session.flush()
    audit.record(session, actor, "user.update", object_type="user", object_id=user.id, detail={"changed": changed})
    return user


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("user", user_id)
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def count_users(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(User)) or 0


# A valid hash to verify against when the user does not exist, so a wrong username
# costs the same time as a wrong password (no user enumeration by timing).
_DUMMY_HASHES: dict[tuple, str] = {}


def authenticate(session: Session, hasher: PasswordHasher, username: str, password: str) -> User | None:
    user = session.scalar(select(User).where(User.username == normalise_username(username)))
    if user is None or not user.active:
        key = (hasher.time_cost, hasher.memory_cost, hasher.parallelism)
        if key not in _DUMMY_HASHES:
            _DUMMY_HASHES[key] = hasher.hash(secrets.token_urlsafe(16))
        with contextlib.suppress(VerificationError):  # spend the time a real check takes
            hasher.verify(_DUMMY_HASHES[key], password)
        return None
    try:
        hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    return user


# --- API tokens -------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewToken:
    row: ApiToken
    token: str  # shown once, never stored


def create_token(session: Session, actor: Actor, user: User, name: str, days: int) -> NewToken:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=name, token_hash=digest(token), prefix=token[:10],
                   expires_at=utcnow() + dt.timedelta(days=days))
    session.add(row)
    session.flush()
    audit.record(session, actor, "token.create", object_type="token", object_id=row.id)
    return NewToken(row, token)


def list_tokens(session: Session, user_id: int) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id)))


def revoke_token(session: Session, actor: Actor, user_id: int, token_id: int) -> None:
    row = session.get(ApiToken, token_id)
    if row is None or row.user_id != user_id:
        raise NotFound("token", token_id)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    session.flush()
    audit.record(session, actor, "token.revoke", object_type="token", object_id=token_id)


def revoke_all_tokens(session: Session, user_id: int) -> int:
    """End every API token of a user (a new password or a reset must not leave old tokens working)."""
    result = session.execute(update(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
                             .values(revoked_at=utcnow()))
    return cast(CursorResult[Any], result).rowcount  # an UPDATE's result is a CursorResult


def user_for_token(session: Session, token: str) -> User | None:
    """The active user a bearer token belongs to (one indexed query), or None."""
    now = utcnow()
    found = session.execute(
        select(ApiToken.id, ApiToken.last_used_at, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == digest(token), ApiToken.revoked_at.is_(None), User.active.is_(True))
        .where((ApiToken.expires_at.is_(None)) | (ApiToken.expires_at > now))
    ).first()
    if found is None:
        return None
    token_id, last_used_at, user = found
    if last_used_at is None or now - last_used_at > dt.timedelta(minutes=5):
        # at most one write per token per 5 minutes: scripts may call thousands of times
        session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
    return user


# --- browser sessions ---------------------------------------------------------------------------


def create_session(session: Session, user: User, ip: str | None, max_age_seconds: int) -> str:
    token = secrets.token_urlsafe(32)
    session.add(UserSession(token_hash=digest(token), user_id=user.id, ip=ip,
                            expires_at=utcnow() + dt.timedelta(seconds=max_age_seconds)))
    session.flush()
    return token


def user_for_session(session: Session, token: str) -> User | None:
    """The active user of a browser session (one indexed query), or None when expired or ended."""
    return session.scalar(
        select(User)
        .join(UserSession, UserSession.user_id == User.id)
        .where(UserSession.token_hash == digest(token), UserSession.expires_at > utcnow(), User.active.is_(True))
    )


@dataclass(frozen=True)
class Identity:
    """The columns of a user that a request needs, read without building an ORM object."""

    id: int
    username: str
    role: str
    patient_id: int | None
    display_name: str | None


_USERS, _SESSIONS = Base.metadata.tables[User.__tablename__], Base.metadata.tables[UserSession.__tablename__]
# Built once: every request runs it, and a statement built per call costs more than the query.
_SESSION_IDENTITY = (
    select(_USERS.c.id, _USERS.c.username, _USERS.c.role, _USERS.c.patient_id, _USERS.c.display_name)
    .join_from(_USERS, _SESSIONS, _SESSIONS.c.user_id == _USERS.c.id)
    .where(_SESSIONS.c.token_hash == bindparam("token_hash"), _SESSIONS.c.expires_at > bindparam("now"),
           _USERS.c.active.is_(True))
)


def identity_for_session(connection: Connection, token: str) -> Identity | None:
    """Like :func:`user_for_session`, for every request, so kept to one plain row on a plain connection
    (:meth:`.Store.reading`: a Core query, no ORM session)."""
    row = connection.execute(_SESSION_IDENTITY, {"token_hash": digest(token), "now": utcnow()}).first()
    return None if row is None else Identity(*row)


def identity_for_token(session: Session, token: str) -> Identity | None:
    user = user_for_token(session, token)
    return None if user is None else Identity(user.id, user.username, user.role, user.patient_id, user.display_name)


def end_session(session: Session, token: str) -> None:
    session.execute(delete(UserSession).where(UserSession.token_hash == digest(token)))


def end_all_sessions(session: Session, user_id: int) -> None:
    session.execute(delete(UserSession).where(UserSession.user_id == user_id))


def purge_expired_sessions(session: Session) -> None:
    session.execute(delete(UserSession).where(UserSession.expires_at <= utcnow()))
