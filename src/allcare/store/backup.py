"""Backup and restore of the whole store as one JSON-lines file (``allcare.backup/1``).

A first header line names the format, the schema revision and the row counts;
then one line per row, ``{"table": ..., "row": {...}}``, parents before children,
primary keys kept. Every column of every stored table is written, so a restore
gives back the same store, across SQLite and PostgreSQL alike. Left out on
purpose: browser sessions (a restored store starts logged out) and the derived
patient summaries (recomputed from the findings on first read).

Restore refuses to touch a store that holds anything unless forced, and reads
the whole file once before changing anything, so a damaged backup never leaves
a half-restored store behind.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Date, Table, func, insert, select, text
from sqlalchemy.orm import Session

from .. import __version__
from . import audit, migrate
from .audit import Actor
from .core import Store
from .errors import StoreError, StoreNotEmpty
from .models import ApiToken, AuditEvent, FindingRow, Patient, PatientIdentifier, User
from .types import UTCDateTime, utcnow

FORMAT = "allcare.backup/1"
TABLES: list[Table] = [Patient.__table__, User.__table__, FindingRow.__table__, ApiToken.__table__,
                       AuditEvent.__table__, PatientIdentifier.__table__]  # type: ignore[list-item]
_BY_NAME = {table.name: table for table in TABLES}
BATCH = 1000


class BackupError(StoreError):
    """A backup file that cannot be restored (wrong format, damaged line, other schema)."""


def _encode(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return value


def _decoders(table: Table) -> dict[str, Any]:
    decoders = {}
    for column in table.columns:
        if isinstance(column.type, UTCDateTime):
            decoders[column.name] = dt.datetime.fromisoformat
        elif isinstance(column.type, Date):
            decoders[column.name] = dt.date.fromisoformat
    return decoders


def write_backup(store: Store, out: IO[str]) -> dict[str, int]:
    """Write the whole store to ``out``; returns rows per table."""
    with store.sessions() as session:
        counts = {table.name: session.scalar(select(func.count()).select_from(table)) or 0 for table in TABLES}
        header = {"format": FORMAT, "schema_revision": migrate.current_revision(store.engine),
                  "allcare_version": __version__, "created_at": utcnow().isoformat(), "tables": counts}
        out.write(json.dumps(header, ensure_ascii=False) + "\n")
        for table in TABLES:
            key = list(table.primary_key.columns)
            for row in session.execute(select(table).order_by(*key)).mappings().yield_per(BATCH):
                line = {"table": table.name, "row": {name: _encode(value) for name, value in row.items()}}
                out.write(json.dumps(line, ensure_ascii=False, allow_nan=False) + "\n")
    return counts


def backup_to_file(store: Store, path: Path) -> dict[str, int]:
    with path.open("w", encoding="utf-8") as out:
        return write_backup(store, out)


def _read(path: Path) -> Iterator[tuple[int, dict]]:
    with path.open("r", encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as error:
                raise BackupError(f"line {number}: not JSON ({error.msg})") from None


def check_backup(path: Path) -> dict:
    """Read the whole file and check it before anything is changed; returns the header."""
    lines = _read(path)
    try:
        _, header = next(lines)
    except StopIteration:
        raise BackupError("the file is empty") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise BackupError(f"not an {FORMAT} file")
    if header.get("schema_revision") != migrate.head_revision():
        raise BackupError(
            f"made with store schema {header.get('schema_revision')!r}; this allcare has {migrate.head_revision()!r} "
            "(restore with the allcare version that made it, then upgrade)"
        )
    seen: dict[str, int] = {}
    for number, line in lines:
        table = line.get("table") if isinstance(line, dict) else None
        if table not in _BY_NAME or not isinstance(line.get("row"), dict):
            raise BackupError(f"line {number}: expected {{'table': one of {sorted(_BY_NAME)}, 'row': {{...}}}}")
        unknown = set(line["row"]) - set(_BY_NAME[table].columns.keys())
        if unknown:
            raise BackupError(f"line {number}: unknown column(s) {sorted(unknown)} in {table}")
        seen[table] = seen.get(table, 0) + 1
    expected = {name: count for name, count in (header.get("tables") or {}).items() if count}
    if seen != expected:
        raise BackupError(f"row counts {seen} do not match the header {expected}; the file is incomplete")
    return header


def restore_from_file(store: Store, path: Path, *, force: bool = False, actor: Actor | None = None) -> dict[str, int]:
    """Replace the store's contents with the backup. Without ``force`` the store must be empty."""
    check_backup(path)
    store.migrate()
    if not store.is_empty():
        if not force:
            raise StoreNotEmpty("the store already holds data; restore into an empty store or use --force")
        migrate.downgrade_to_base(store.engine)
        store.migrate()
    store.cache.clear()
    counts: dict[str, int] = {}
    with store.transaction() as session:
        batch: list[dict] = []
        current: Table | None = None
        lines = _read(path)
        next(lines)
        for _, line in lines:
            table = _BY_NAME[line["table"]]
            if table is not current:
                _flush(session, current, batch)
                current, decoders = table, _decoders(table)
            row = {name: decoders[name](value) if name in decoders and value is not None else value
                   for name, value in line["row"].items()}
            batch.append(row)
            counts[table.name] = counts.get(table.name, 0) + 1
            if len(batch) >= BATCH:
                _flush(session, current, batch)
        _flush(session, current, batch)
        _reset_sequences(session)
        audit.record(session, actor or Actor.cli(), "store.restore", detail={"rows": counts})
    return counts


def _flush(session: Session, table: Table | None, batch: list[dict]) -> None:
    if table is not None and batch:
        session.execute(insert(table), batch)
    batch.clear()


def _reset_sequences(session: Session) -> None:
    """PostgreSQL: continue ids after the restored ones (SQLite does this by itself)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        session.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
            f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"
        ))
