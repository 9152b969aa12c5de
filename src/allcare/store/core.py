"""The :class:`Store`: one database and its sessions.

The web app and the CLI each make one Store from the settings; tests make one
per database they run against. In-memory caches belong to the app that serves
the store (:class:`allcare.caches.Caches`), never to a module global.

On PostgreSQL a store may name a second, *owner* role (``owner_url``): the
schema is created and migrated as that role, and allcare's own role gets only
the privileges it needs (:mod:`allcare.store.roles`), so it cannot rewrite the
audit log.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from . import migrate
from .db import RULES_KEY, STALE_KEY, make_engine, make_sessionmaker
from .models import AuditEvent, FindingRow, Patient, User


class Store:
    """``rules``: the rule set every assessment of this store is computed with (the server's
    ``ALLCARE_RULES``; default: allcare's defaults). Its sessions carry it (:func:`.assessments.rules_of`)."""

    def __init__(self, url: str, *, pool_size: int = 20, owner_url: str | None = None, rules: Any = None):
        self.url = url
        self.owner_url = owner_url
        self.engine = make_engine(url, pool_size=pool_size)
        self.sessions = make_sessionmaker(self.engine)
        # One-statement reads need no transaction: on PostgreSQL, without one they save the BEGIN and the
        # pool's ROLLBACK round trips (~40% of the session check's wall time); SQLite's driver pays more to
        # switch its mode than it saves, so it reads as before.
        self._reads = (self.engine.execution_options(isolation_level="AUTOCOMMIT")
                       if self.engine.dialect.name == "postgresql" else self.engine)
        self.use_rules(rules)

    @classmethod
    def from_settings(cls, settings) -> Store:
        return cls(settings.database_url, owner_url=settings.database_owner_url, rules=settings.rules)

    def rule_set(self) -> Any:
        """The rule set this store assesses with (allcare's defaults unless one was set)."""
        from ..engine.rules import DEFAULT_RULES

        return self.rules or DEFAULT_RULES

    def use_rules(self, rules: Any) -> None:
        """Assess with ``rules`` from now on (None: allcare's defaults); summaries of another rule set go stale."""
        self.rules = rules
        self.sessions.kw.setdefault("info", {})[RULES_KEY] = rules

    def on_stale_summary(self, wake: Any) -> None:
        """Call ``wake()`` (None: nothing) when a list read serves a summary that is not fresh."""
        self.sessions.kw.setdefault("info", {})[STALE_KEY] = wake

    def migrate(self) -> None:
        """Bring the schema to head (the app and the CLI call this on start).

        With an owner role, the migration runs as the owner, which then grants
        allcare's role what it needs; without one, allcare's role migrates.
        """
        if self.owner_url is None:
            migrate.upgrade(self.engine)
            return
        from .roles import grant_app_role

        owner = make_engine(self.owner_url, pool_size=1)
        try:
            migrate.upgrade(owner)
            grant_app_role(owner, self.engine.url.username)
        finally:
            owner.dispose()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session committed when the block succeeds, rolled back when it raises."""
        with self.sessions() as session, session.begin():
            yield session

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A plain connection for one read statement of plain rows (no ORM objects, no audit event, no
        transaction on PostgreSQL): the session check every request makes, at about half the CPU of a
        :meth:`transaction`."""
        with self._reads.connect() as connection:
            yield connection

    def is_empty(self) -> bool:
        """True when there are no patients, users, findings or audit events."""
        with self.sessions() as session:
            for model in (Patient, User, FindingRow, AuditEvent):
                if session.scalar(select(func.count()).select_from(model)):
                    return False
        return True

    def dispose(self) -> None:
        from .sqlite_writes import close_write_guard

        self.engine.dispose()
        close_write_guard(self.engine)
