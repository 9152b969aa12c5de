"""The audit trail: who read or changed which record, when and from where.

Every data-access function that touches patient data takes an :class:`Actor`
and writes its event in the same transaction as the change, so a change and its
audit row are committed together or not at all. Events hold internal ids and
action names only, never clinical values or names, so the trail itself is not
a second copy of the record.

The log is tamper-evident: each event's ``hash`` is the SHA-256 of the previous
event's hash and this event's fields (:func:`event_hash`), so changing,
deleting or inserting an event anywhere but at the end breaks the chain from
there on, which :func:`verify` (``allcare audit verify``) reports. An event is
kept as plain values until its transaction commits; then (:func:`seal_pending`,
a ``before_commit`` hook installed on every session of a
:class:`~allcare.store.Store`), under one lock for the whole store, each gets the
next id and its hash and all are inserted in one statement, so ids follow commit
order without gaps and two transactions never chain to the same event. The lock
is held only from that insert to the commit. Plain values and one Core insert,
not ORM objects: every audited read writes an event, and the ORM's unit of work
cost more than the rest of a repeat page view's store work.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from .models import AuditEvent
from .types import utcnow


@dataclass(frozen=True)
class Actor:
    """The person (or tool) on whose behalf the store is used."""

    user_id: int | None
    username: str
    role: str
    ip: str | None = None
    via: str = "session"  # session | token | cli

    @classmethod
    def cli(cls, username: str = "cli") -> Actor:
        return cls(user_id=None, username=username, role="admin", ip=None, via="cli")


def record(
    session: Session,
    actor: Actor | None,
    action: str,
    *,
    object_type: str | None = None,
    object_id: object = None,
    patient_id: int | None = None,
    outcome: str = "ok",
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one event to the caller's transaction (inserted and sealed into the chain when it commits;
    dropped if it rolls back)."""
    session.info.setdefault(_PENDING, []).append({
        "at": utcnow(),
        "user_id": actor.user_id if actor else None,
        "username": actor.username if actor else None,
        "role": actor.role if actor else None,
        "action": action,
        "outcome": outcome,
        "object_type": object_type,
        "object_id": None if object_id is None else str(object_id)[:64],
        "patient_id": patient_id,
        "ip": actor.ip if actor else None,
        "via": actor.via if actor else None,
        "detail": detail,
    })


# --- the hash chain ---------------------------------------------------------------------------------

_PENDING = "allcare_audit_pending"
GENESIS = "0" * 64
# pg_advisory_xact_lock key of the chain (any constant; "allcare audit" in ASCII, truncated).
_CHAIN_LOCK = 0x616C6C6361726541
HASHED_FIELDS = ("id", "at", "user_id", "username", "role", "action", "outcome", "object_type", "object_id",
                 "patient_id", "ip", "via", "detail")


def _moment(value: Any) -> Any:
    """``at`` as UTC ISO text, whether it is a datetime (a row) or already text (a backup line)."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).isoformat()
    return value


def event_hash(previous: str, event: Any) -> str:
    """SHA-256 of the previous hash and the event's fields (an ORM row, a row mapping or a dict)."""
    get = event.get if isinstance(event, dict) else (lambda name: getattr(event, name))
    fields = {name: _moment(get(name)) if name == "at" else get(name) for name in HASHED_FIELDS}
    content = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(f"{previous}\n{content}".encode()).hexdigest()


def lock_chain(session: Session) -> None:
    """Take the store-wide lock of the audit chain until the transaction ends."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK})
    else:
        from .sqlite_writes import take_write_turn

        take_write_turn(session)


_EVENTS = AuditEvent.metadata.tables[AuditEvent.__tablename__]
_INSERT = insert(_EVENTS)
_HEAD = select(_EVENTS.c.id, _EVENTS.c.hash).order_by(_EVENTS.c.id.desc()).limit(1)  # Core, built once: every read runs it


def chain_head(session: Session) -> tuple[int, str]:
    """The last event's id and hash (0 and the genesis hash when the log is empty)."""
    row = session.connection().execute(_HEAD).first()
    return (0, GENESIS) if row is None else (row[0], row[1] or "")


def seal_pending(session: Session) -> None:
    """``before_commit``: give each event of this transaction the next id and its chained hash, and insert them."""
    pending: list[dict[str, Any]] | None = session.info.pop(_PENDING, None)
    if not pending:
        return
    lock_chain(session)
    last_id, last_hash = chain_head(session)
    for event in pending:
        last_id += 1
        event["id"] = last_id
        last_hash = event["hash"] = event_hash(last_hash, event)
    session.connection().execute(_INSERT, pending)


def forget_pending(session: Session, transaction: Any) -> None:
    """``after_transaction_end``: a transaction that ended without its commit (rolled back or closed) leaves
    no event behind for the session's next transaction."""
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


@dataclass(frozen=True)
class ChainReport:
    events: int
    head: str
    broken_at: int | None = None
    reason: str | None = None

    @property
    def intact(self) -> bool:
        return self.broken_at is None


def _reader(event: Any) -> Callable[[str], Any]:
    """Read a field of an event given as a row dict or as an object."""
    if isinstance(event, dict):
        return event.get
    return lambda name: getattr(event, name)


def verify_events(events: Iterable[Any], start: tuple[int, str] = (0, GENESIS)) -> ChainReport:
    """Walk events in id order and recompute the chain; the first event that does not fit breaks it."""
    expected_id, previous = start
    count = 0
    for event in events:
        get = _reader(event)
        expected_id += 1
        if get("id") != expected_id:
            reason = f"event {expected_id} is missing" if get("id") > expected_id else "ids are out of order"
            return ChainReport(count, previous, broken_at=get("id"), reason=reason)
        if get("hash") != event_hash(previous, event):
            return ChainReport(count, previous, broken_at=get("id"),
                               reason="its content or the event before it was changed")
        previous = get("hash")
        count += 1
    return ChainReport(count, previous)


def iter_events(session: Session, batch: int = 1000) -> Iterator[AuditEvent]:
    return session.scalars(select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=batch))


def verify(session: Session) -> ChainReport:
    """Check the whole audit log of a store against its hash chain."""
    return verify_events(iter_events(session))


@dataclass(frozen=True)
class AuditPage:
    items: list[AuditEvent]
    total: int
    next_before: int | None


def page(
    session: Session,
    *,
    limit: int = 50,
    before: int | None = None,
    user_id: int | None = None,
    patient_id: int | None = None,
    action: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> AuditPage:
    """Newest first, paged by id (``before``): stable while new events keep arriving.

    ``since`` includes its moment, ``until`` excludes it (a day's events: since midnight, until the next)."""
    query = select(AuditEvent)
    if user_id is not None:
        query = query.where(AuditEvent.user_id == user_id)
    if patient_id is not None:
        query = query.where(AuditEvent.patient_id == patient_id)
    if action:
        query = query.where(AuditEvent.action.startswith(action, autoescape=True))
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if until is not None:
        query = query.where(AuditEvent.at < until)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    if before is not None:
        query = query.where(AuditEvent.id < before)
    items = list(session.scalars(query.order_by(AuditEvent.id.desc()).limit(limit)))
    next_before = items[-1].id if len(items) == limit else None
    return AuditPage(items=items, total=total, next_before=next_before)
