"""Backup and restore of the whole store as one JSON-lines file (``allcare.backup/1``).

A first header line names the format, the schema revision, the row counts and
the head of the audit chain; then one line per row, ``{"table": ..., "row": {...}}``,
parents before children, primary keys kept. Every column of every stored table
is written, so a restore gives back the same store, across SQLite and
PostgreSQL alike. Left out on purpose: browser sessions (a restored store starts
logged out), the derived patient summaries (recomputed by the server after a restore) and the
store epoch (a restore makes a new one).

A backup is one consistent snapshot (one read transaction; REPEATABLE READ on
PostgreSQL), written to a temporary file that is read back and checked before it
replaces the target, so a backup taken while the app is busy restores, and a
failed backup never truncates a good one.

A restore checks the whole file first (format, schema, every value, references
between rows, uniqueness, the audit chain), then replaces the store's contents
in one transaction: if anything fails, or the process dies, the store is as it
was. The audit log is never replaced: its history is kept and the restore is
appended to it (a store without history takes the backup's).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import secrets
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, Date, Table, delete, func, insert, select, update
from sqlalchemy.orm import Session

from .. import __version__
from . import audit, migrate
from .audit import Actor
from .core import Store
from .db import continue_ids
from .errors import StoreError, StoreNotEmpty
from .models import (
    ApiToken,
    AuditEvent,
    Base,
    FindingRow,
    Patient,
    PatientIdentifier,
    PatientSummary,
    StoreState,
    User,
    UserSession,
)
from .types import UTCDateTime, utcnow

FORMAT = "allcare.backup/1"
TABLES: list[Table] = [Base.metadata.tables[model.__tablename__] for model in (
    Patient, User, FindingRow, ApiToken, AuditEvent, PatientIdentifier)]
_BY_NAME = {table.name: table for table in TABLES}
# Replaced by a restore, children first; the audit log is not among them.
REPLACED: list[Table] = [Base.metadata.tables[model.__tablename__] for model in (
    UserSession, PatientSummary, ApiToken, PatientIdentifier, FindingRow, User, Patient)]
# (table, column) -> the table its value must name (None allowed where the column is nullable).
REFERENCES = {("findings", "patient_id"): "patients", ("findings", "created_by"): "users",
              ("findings", "updated_by"): "users", ("users", "patient_id"): "patients",
              ("api_tokens", "user_id"): "users"}
UNIQUE: dict[str, list[tuple[str, ...]]] = {"patients": [("identifier",)], "users": [("username",)], "api_tokens": [("token_hash",)],
          "findings": [("patient_id", "position")]}
BATCH = 1000


class BackupError(StoreError):
    """A backup that cannot be written or restored (damaged file, other schema, inconsistent rows)."""


# --- writing ------------------------------------------------------------------------------------------


def _encode(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return value


@contextmanager
def snapshot(store: Store) -> Iterator[Connection]:
    """One read-only transaction that sees the store as of one moment, for every query in it."""
    with store.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
            connection.exec_driver_sql("SET TRANSACTION READ ONLY")
        else:  # pysqlite starts no transaction for reads: without BEGIN every SELECT sees another moment
            connection.exec_driver_sql("BEGIN")
        try:
            yield connection
        finally:
            connection.rollback()


def write_backup(store: Store, out: IO[str]) -> dict[str, int]:
    """Write the whole store, as of one moment, to ``out``; returns rows per table."""
    with snapshot(store) as connection:
        counts = {table.name: connection.scalar(select(func.count()).select_from(table)) or 0 for table in TABLES}
        head_id, head_hash = connection.execute(
            select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).first() or (0, audit.GENESIS)
        header = {"format": FORMAT, "schema_revision": migrate.current_revision_of(connection),
                  "allcare_version": __version__, "created_at": utcnow().isoformat(), "tables": counts,
                  "audit": {"last_id": head_id, "head": head_hash}}
        out.write(json.dumps(header, ensure_ascii=False) + "\n")
        for table in TABLES:
            key = list(table.primary_key.columns)
            result = connection.execution_options(yield_per=BATCH).execute(select(table).order_by(*key))
            for row in result.mappings():
                line = {"table": table.name, "row": {name: _encode(value) for name, value in row.items()}}
                try:
                    out.write(json.dumps(line, ensure_ascii=False, allow_nan=False) + "\n")
                except UnicodeEncodeError:
                    raise BackupError(f"{table.name} row {row[key[0].name]} holds text that is not valid Unicode "
                                      "(a lone surrogate); correct that record, then back up again") from None
    return counts


def backup_to_file(store: Store, path: Path) -> dict[str, int]:
    """Write a backup next to ``path``, check it, then move it into place (owner-only, 0600)."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.partial")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            counts = write_backup(store, out)
            out.flush()
            os.fsync(out.fileno())
        check_backup(temporary)  # what is on disk restores, before it replaces anything
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _sync_directory(path.parent)
    return counts


def _sync_directory(directory: Path) -> None:
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


# --- reading and checking ----------------------------------------------------------------------------


def _decoders(table: Table) -> dict[str, Callable[[str], dt.date]]:
    decoders: dict[str, Callable[[str], dt.date]] = {}
    for column in table.columns:
        if isinstance(column.type, UTCDateTime):
            decoders[column.name] = dt.datetime.fromisoformat
        elif isinstance(column.type, Date):
            decoders[column.name] = dt.date.fromisoformat
    return decoders


_DECODERS = {name: _decoders(table) for name, table in _BY_NAME.items()}
_REQUIRED = {name: {c.name for c in table.columns if not c.nullable and c.default is None and not c.primary_key}
             for name, table in _BY_NAME.items()}


def _read(path: Path) -> Iterator[tuple[int, Any]]:
    with path.open("r", encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as error:
                raise BackupError(f"line {number}: not JSON ({error.msg})") from None
            except RecursionError:
                raise BackupError(f"line {number}: nested too deeply") from None


def _rows(path: Path) -> Iterator[tuple[int, str, dict]]:
    """(line number, table, decoded row) for every row line (the header is skipped)."""
    lines = _read(path)
    next(lines, None)
    for number, line in lines:
        table = line.get("table") if isinstance(line, dict) else None
        if table not in _BY_NAME or not isinstance(line.get("row"), dict):
            raise BackupError(f"line {number}: expected {{'table': one of {sorted(_BY_NAME)}, 'row': {{...}}}}")
        raw = line["row"]
        unknown = set(raw) - set(_BY_NAME[table].columns.keys())
        if unknown:
            raise BackupError(f"line {number}: unknown column(s) {sorted(unknown)} in {table}")
        missing = _REQUIRED[table] - {name for name, value in raw.items() if value is not None}
        if missing or (raw.get("id") is None and "id" in _BY_NAME[table].columns):
            raise BackupError(f"line {number}: {table} row without {sorted(missing or {'id'})}")
        decoders = _DECODERS[table]
        try:
            row = {name: decoders[name](value) if name in decoders and value is not None else value
                   for name, value in raw.items()}
        except (TypeError, ValueError) as error:
            raise BackupError(f"line {number}: a date or time in {table} cannot be read ({error})") from None
        problem = _bad_text(row)
        if problem:
            raise BackupError(f"line {number}: {table}.{problem}")
        yield number, table, row


def _bad_text(value: Any, where: str = "") -> str | None:
    """The first text in ``value`` that no database can store (NUL, lone surrogates), as ``field: why``."""
    if isinstance(value, str):
        if "\x00" in value:
            return f"{where}: contains a NUL character"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return f"{where}: contains a lone surrogate (not valid Unicode)"
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{where}.{key}" if where else str(key)
            found = _bad_text(key, inner) if isinstance(key, str) else None
            if found := found or _bad_text(item, inner):
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if found := _bad_text(item, f"{where}[{index}]"):
                return found
    return None


def check_backup(path: Path) -> dict:
    """Read the whole file and check it before anything is changed; returns the header.

    Checked: the format and schema revision, every line and value, that rows of
    each table are unique where the store requires it, that every reference
    names a row in the file, that the counts match the header, and that the
    audit events form an unbroken hash chain.
    """
    path = Path(path)
    try:
        first = next(_read(path), None)
    except UnicodeDecodeError:
        raise BackupError("the file is not UTF-8 text") from None
    if first is None:
        raise BackupError("the file is empty")
    header = first[1]
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise BackupError(f"not an {FORMAT} file")
    if header.get("schema_revision") != migrate.head_revision():
        raise BackupError(
            f"made with store schema {header.get('schema_revision')!r}; this allcare has {migrate.head_revision()!r} "
            "(restore with the allcare version that made it, then upgrade)"
        )
    seen: dict[str, int] = {}
    keys: dict[str, set] = {name: set() for name in _BY_NAME}
    unique: dict[tuple, set] = {}
    references: list[tuple[int, str, str, Any]] = []
    events: list[dict] = []
    try:
        for number, table, row in _rows(path):
            seen[table] = seen.get(table, 0) + 1
            if row.get("id") in keys[table]:
                raise BackupError(f"line {number}: {table} id {row['id']} appears twice")
            keys[table].add(row.get("id"))
            for columns in UNIQUE.get(table, []):
                value = tuple(row.get(column) for column in columns)
                bucket = unique.setdefault((table, columns), set())
                if value in bucket:
                    raise BackupError(f"line {number}: two {table} rows with the same {', '.join(columns)}")
                bucket.add(value)
            for (owner, column), target in REFERENCES.items():
                if owner == table and row.get(column) is not None:
                    references.append((number, f"{table}.{column}", target, row[column]))
            if table == "audit_events":
                events.append(row)
    except UnicodeDecodeError:
        raise BackupError("the file is not UTF-8 text") from None
    expected = {name: count for name, count in (header.get("tables") or {}).items() if count}
    if seen != expected:
        raise BackupError(f"row counts {seen} do not match the header {expected}; the file is incomplete")
    for number, column, target, value in references:
        if value not in keys[target]:
            raise BackupError(f"line {number}: {column} = {value} names no row of {target} in the backup")
    chain = audit.verify_events(sorted(events, key=lambda event: event["id"]))
    if not chain.intact:
        raise BackupError(f"the audit log in the backup is not intact at event {chain.broken_at}: {chain.reason}")
    return header


# --- restoring ---------------------------------------------------------------------------------------


def restore_from_file(store: Store, path: Path, *, force: bool = False, actor: Actor | None = None) -> dict[str, int]:
    """Replace the store's contents with the backup in one transaction. Without ``force`` the store must be empty."""
    path = Path(path)
    header = check_backup(path)
    digest = _sha256(path)
    store.migrate()
    counts: dict[str, int] = {}
    with store.transaction() as session:
        if not force and not _is_empty(session):
            raise StoreNotEmpty("the store already holds data; restore into an empty store or use --force")
        for table in REPLACED:  # the first write: from here on the store's write lock is held until commit
            session.execute(delete(table))
        history = _audit_history(session, header)
        batch: list[dict] = []
        current: Table | None = None
        for _, name, row in _rows(path):
            if name == "audit_events" and history != "restored":
                continue
            table = _BY_NAME[name]
            if table is not current or len(batch) >= BATCH:
                _flush(session, current, batch)
                current = table
            batch.append(row)
            counts[name] = counts.get(name, 0) + 1
        _flush(session, current, batch)
        continue_ids(session.connection(), [table.name for table in REPLACED if "id" in table.columns])
        session.execute(update(StoreState).where(StoreState.id == 1).values(epoch=str(uuid.uuid4())))
        audit.record(session, actor or Actor.cli(), "store.restore", detail={
            "rows": counts, "audit_history": history, "backup_sha256": digest,
            "backup_created_at": header.get("created_at"), "backup_audit": header.get("audit"),
        })
    return counts


def _is_empty(session: Session) -> bool:
    return not any(session.scalar(select(func.count()).select_from(model))
                   for model in (Patient, User, FindingRow, AuditEvent))


def _audit_history(session: Session, header: dict) -> str:
    """What becomes of the audit log: 'restored' (the store had none), 'kept' (the backup's is part
    of it) or 'kept-other' (two different histories: the store's is kept, the backup's stays in its file)."""
    last_id, _ = audit.chain_head(session)
    if last_id == 0:
        return "restored"
    backup_head = header.get("audit") or {}
    if not backup_head.get("last_id"):
        return "kept"
    same = session.scalar(select(AuditEvent.hash).where(AuditEvent.id == backup_head["last_id"]))
    return "kept" if same == backup_head.get("head") else "kept-other"


def _flush(session: Session, table: Table | None, batch: list[dict]) -> None:
    if table is not None and batch:
        session.execute(insert(table), batch)
    batch.clear()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
