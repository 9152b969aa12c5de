"""The :class:`Store`: one database, its sessions and its assessment cache.

The web app and the CLI each make one Store from the settings; tests make one
per database they run against. Keeping the cache on the Store (not a module
global) means two stores in one process never see each other's assessments.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import migrate
from .assessments import AssessmentCache
from .db import make_engine, make_sessionmaker
from .models import AuditEvent, FindingRow, Patient, User


class Store:
    def __init__(self, url: str, *, cache_size: int = 2048, pool_size: int = 20):
        self.url = url
        self.engine = make_engine(url, pool_size=pool_size)
        self.sessions = make_sessionmaker(self.engine)
        self.cache = AssessmentCache(cache_size)

    @classmethod
    def from_settings(cls, settings) -> Store:
        return cls(settings.database_url, cache_size=settings.assessment_cache_size)

    def migrate(self) -> None:
        """Bring the schema to head (the app and the CLI call this on start)."""
        migrate.upgrade(self.engine)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session committed when the block succeeds, rolled back when it raises."""
        with self.sessions() as session:
            with session.begin():
                yield session

    def is_empty(self) -> bool:
        """True when there are no patients, users, findings or audit events."""
        with self.sessions() as session:
            for model in (Patient, User, FindingRow, AuditEvent):
                if session.scalar(select(func.count()).select_from(model)):
                    return False
        return True

    def dispose(self) -> None:
        self.engine.dispose()
