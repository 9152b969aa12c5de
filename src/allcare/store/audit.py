"""The audit trail: who read or changed which record, when and from where.

Every data-access function that touches patient data takes an :class:`Actor`
and writes its event in the same transaction as the change, so a change and its
audit row are committed together or not at all. Events hold internal ids and
action names only, never clinical values or names, so the trail itself is not
a second copy of the record.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
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
    """Append one event (in the caller's transaction)."""
    session.add(
        AuditEvent(
            at=utcnow(),
            user_id=actor.user_id if actor else None,
            username=actor.username if actor else None,
            role=actor.role if actor else None,
            action=action,
            outcome=outcome,
            object_type=object_type,
            object_id=None if object_id is None else str(object_id)[:64],
            patient_id=patient_id,
            ip=actor.ip if actor else None,
            via=actor.via if actor else None,
            detail=detail,
        )
    )


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
) -> AuditPage:
    """Newest first, paged by id (``before``): stable while new events keep arriving."""
    query = select(AuditEvent)
    if user_id is not None:
        query = query.where(AuditEvent.user_id == user_id)
    if patient_id is not None:
        query = query.where(AuditEvent.patient_id == patient_id)
    if action:
        query = query.where(AuditEvent.action.startswith(action, autoescape=True))
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    if before is not None:
        query = query.where(AuditEvent.id < before)
    items = list(session.scalars(query.order_by(AuditEvent.id.desc()).limit(limit)))
    next_before = items[-1].id if len(items) == limit else None
    return AuditPage(items=items, total=total, next_before=next_before)
