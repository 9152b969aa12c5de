"""One writer at a time for SQLite, queued in the application instead of in SQLite's busy handler.

SQLite allows one write transaction at a time. When a second connection tries
to write, SQLite's busy handler makes it *sleep* and retry (1, 2, 5, 10 ... 100 ms),
so under a few dozen concurrent requests, each with a small write (its audit
row), waiting writers oversleep and latency grows to hundreds of milliseconds.

This guard makes a connection take a process lock (for threads) and then an
advisory file lock (for other server processes) at its first writing statement,
and give both back when the connection returns to the pool, after its commit
or rollback. A waiting writer is woken the moment the lock is free and holds no
SQLite lock while it waits, so the guard cannot deadlock with SQLite's own
locks. Reads take no lock (WAL mode lets them run beside the writer).
"""

from __future__ import annotations

import fcntl
import os
import threading
import weakref
from pathlib import Path

from sqlalchemy import Engine, event

from .errors import StoreError

_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER")
_HELD = "allcare_write_guard"


class StoreBusy(StoreError):
    """No write turn within the timeout (a very long write, or a bug holding two connections)."""


class WriteGuard:
    def __init__(self, lock_file: Path | None, timeout: float = 30.0):
        self._thread_lock = threading.Lock()
        self._timeout = timeout
        self._lock_file = lock_file
        self._fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o600) if lock_file is not None else None

    def acquire(self) -> None:
        if not self._thread_lock.acquire(timeout=self._timeout):
            raise StoreBusy("the database is busy; try again")
        if self._fd is None and self._lock_file is not None:  # used again after close()
            self._fd = os.open(self._lock_file, os.O_RDWR | os.O_CREAT, 0o600)
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_EX)

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._thread_lock.release()

    def close(self) -> None:
        """Close the lock file (the engine is disposed; reopened if it is used again)."""
        if not self._thread_lock.acquire(timeout=1):  # a writer still holds it: leave the file open
            return
        try:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
        finally:
            self._thread_lock.release()


def close_write_guard(engine: Engine) -> None:
    guard = _GUARDS.get(engine)
    if guard is not None:
        guard.close()


_GUARDS: weakref.WeakKeyDictionary[Engine, WriteGuard] = weakref.WeakKeyDictionary()


def take_write_turn(session) -> None:
    """Take the write turn now, before the transaction's first write (e.g. to read, then append)."""
    connection = session.connection()
    guard = _GUARDS.get(connection.engine)
    if guard is not None and not connection.info.get(_HELD):
        guard.acquire()
        connection.info[_HELD] = True


def install_write_guard(engine: Engine, database_file: Path | None) -> WriteGuard:
    lock_file = database_file.with_name(database_file.name + ".writelock") if database_file else None
    guard = WriteGuard(lock_file)
    _GUARDS[engine] = guard

    @event.listens_for(engine, "before_cursor_execute")
    def _take(connection, cursor, statement, parameters, context, executemany):
        if not connection.info.get(_HELD) and statement.lstrip()[:7].upper().startswith(_WRITES):
            guard.acquire()
            connection.info[_HELD] = True

    def _give(info) -> None:
        if info.pop(_HELD, False):
            guard.release()

    # A connection returns to the pool after its transaction ended (commit, or the
    # rollback the pool does on return), so this is the first safe moment to release.
    @event.listens_for(engine.pool, "reset")
    def _reset(dbapi_connection, record, reset_state):
        _give(record.info)

    @event.listens_for(engine.pool, "checkin")
    def _checkin(dbapi_connection, record):
        if record is not None:
            _give(record.info)

    @event.listens_for(engine.pool, "invalidate")
    def _invalidate(dbapi_connection, record, exception):
        _give(record.info)

    return guard
