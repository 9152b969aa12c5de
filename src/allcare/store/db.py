"""Database engines and sessions for SQLite and PostgreSQL.

One place decides how a URL becomes an engine, so SQLite gets the pragmas that
make it safe for a small team (foreign keys enforced, write-ahead log so readers
do not block the writer, a busy timeout instead of instant "database is locked")
and PostgreSQL gets a connection pool sized for the web server's thread pool.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from ..settings import normalise_database_url


def make_engine(url: str, *, pool_size: int = 20) -> Engine:
    """An engine for ``url``; SQLite files get their directory created."""
    url = normalise_database_url(url)
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    # No pre-ping: it costs a round trip per request; stale connections are recycled instead.
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800)


def _sqlite_engine(url: str) -> Engine:
    path = url.split(":///", 1)[-1].split("?", 1)[0]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
    from .sqlite_writes import install_write_guard

    install_write_guard(engine, Path(path).resolve() if path and path != ":memory:" else None)

    @event.listens_for(engine, "connect")
    def _pragmas(connection, _record):  # pragma: no cover - exercised by every SQLite test
        cursor = connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    return engine


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    # expire_on_commit=False: routes read attributes after commit to build responses.
    # autoflush=False: audit rows are written at commit, so a read holds no write lock
    # (SQLite has one) while the engine works; write paths flush explicitly.
    return sessionmaker(engine, expire_on_commit=False, autoflush=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits when the block succeeds and rolls back when it raises."""
    with factory() as session:
        with session.begin():
            yield session
