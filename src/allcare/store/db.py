"""Database engines and sessions for SQLite and PostgreSQL.

One place decides how a URL becomes an engine, so SQLite gets the pragmas that
make it safe for a small team (foreign keys enforced, write-ahead log so readers
do not block the writer, a busy timeout instead of instant "database is locked")
and PostgreSQL gets a connection pool sized for the web server's thread pool.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
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
        create_private_file(Path(path))
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


def create_private_file(path: Path) -> None:
    """Create the store's directory (0700) and file (0600) when missing: they hold patient data.

    SQLite gives its -wal and -shm files the permissions of the database file.
    An existing file or directory keeps the permissions its owner gave it.
    """
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


def continue_ids(connection, tables) -> None:
    """PostgreSQL: the next id of each table comes after every id ever handed out and every id in it.

    Needed after rows were inserted with their own ids (a restore). SQLite's
    AUTOINCREMENT counter does this by itself: it never goes back.
    """
    if connection.dialect.name != "postgresql":
        return
    for table in tables:
        sequence = f"pg_get_serial_sequence('{table}', 'id')"
        # The table names come from the store's own metadata, never from input.
        connection.execute(text(f"SELECT setval({sequence}, GREATEST(nextval({sequence}), "  # noqa: S608
                                f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1), false)"))


RULES_KEY = "allcare_rules"
"""Where a session carries its store's rule set (``Session.info``)."""

STALE_KEY = "allcare_on_stale_summary"
"""Where a session carries what to call when a reader is served a stale summary (``Session.info``;
the server's :class:`~allcare.store.summaries.SummaryRefresher` wakes)."""


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    # expire_on_commit=False: routes read attributes after commit to build responses.
    # autoflush=False: audit rows are written at commit, so a read holds no write lock
    # (SQLite has one) while the engine works; write paths flush explicitly.
    from .audit import forget_pending, seal_pending
    from .summaries import forget_written, summarise_written

    factory = sessionmaker(engine, expire_on_commit=False, autoflush=False)
    event.listen(factory, "before_commit", summarise_written)  # a committed record has its revision's summary
    event.listen(factory, "before_commit", seal_pending)  # then its audit events join the hash chain (in this order)
    event.listen(factory, "after_transaction_end", forget_pending)
    event.listen(factory, "after_soft_rollback", forget_written)
    return factory


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits when the block succeeds and rolls back when it raises."""
    with factory() as session, session.begin():
        yield session
