"""Reliability of the record store: ids and caches, backups, restores, the audit chain, file permissions.

Each test reproduces a defect found on an earlier version (issue 9) and runs on
SQLite and PostgreSQL; the crash tests kill a real ``allcare`` process with
SIGKILL in the middle of its work.
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from allcare.caches import LRU
from allcare.engine.case import case_from_dict
from allcare.store import Actor, Store
from allcare.store.assessments import assessment_gzip, read_record
from allcare.store.audit import verify
from allcare.store.backup import BackupError, backup_to_file, check_backup, restore_from_file
from allcare.store.cases import import_case
from allcare.store.findings import FINDING, add_finding
from allcare.store.models import AuditEvent, FindingRow, Patient
from allcare.store.patients import delete_patient
from conftest import case_dict

ACTOR = Actor.cli("test")
HYPERLEUKOCYTOSIS = {"type": "cbc", "date": "2024-01-11", "wbc": {"value": 250000, "unit": "/uL"}}


def add_patient(store, identifier, findings=()):
    with store.transaction() as session:
        patient = import_case(session, ACTOR, case_from_dict(case_dict(identifier))).id
    for finding in findings:
        with store.transaction() as session:
            add_finding(session, ACTOR, patient, FINDING.validate_python(finding))
    return patient


def alerts(store, patient, cache):
    with store.transaction() as session:
        data = json.loads(gzip.decompress(assessment_gzip(session, ACTOR, patient, cache)))
    return {alert["code"] for alert in data["alerts"]}


def counts(store) -> dict[str, int]:
    with store.sessions() as session:
        return {model.__tablename__: session.scalar(select(func.count()).select_from(model))
                for model in (Patient, FindingRow, AuditEvent)}


# --- 1. ids and caches ---------------------------------------------------------------------------------


def test_a_deleted_patients_id_is_never_given_to_a_new_patient(store):
    first = add_patient(store, "GONE")
    with store.transaction() as session:
        delete_patient(session, ACTOR, first, 1)
    assert add_patient(store, "NEW") != first


def test_a_new_patient_is_never_shown_a_deleted_patients_assessment(store):
    cache = LRU(100)
    gone = add_patient(store, "GONE", [HYPERLEUKOCYTOSIS])
    assert "hyperleukocytosis" in alerts(store, gone, cache)
    with store.transaction() as session:
        delete_patient(session, ACTOR, gone, 1)
    new = add_patient(store, "NEW", [{"type": "cbc", "date": "2024-01-11", "wbc": 5.0}])  # same revision as GONE had
    assert "hyperleukocytosis" not in alerts(store, new, cache)


def test_a_restore_by_another_process_is_never_answered_from_the_cache(store, tmp_path):
    """Same id, same revision, other content: the store epoch tells the cached answer apart."""
    cache = LRU(100)  # the serving process's cache
    patient = add_patient(store, "P")
    backup_to_file(store, tmp_path / "before.jsonl")
    with store.transaction() as session:
        add_finding(session, ACTOR, patient, FINDING.validate_python(HYPERLEUKOCYTOSIS))
    assert "hyperleukocytosis" in alerts(store, patient, cache)  # revision 2, cached
    other = Store(store.url)  # another process restores the older backup...
    restore_from_file(other, tmp_path / "before.jsonl", force=True)
    with other.transaction() as session:  # ...and the record reaches revision 2 again, differently
        add_finding(session, ACTOR, patient, FINDING.validate_python({"type": "cbc", "date": "2024-01-11", "wbc": 4.0}))
    other.dispose()
    assert "hyperleukocytosis" not in alerts(store, patient, cache)


# --- 4. consistent, verified backups ---------------------------------------------------------------------


def test_backups_taken_while_the_store_is_written_all_restore(store, tmp_path, database_url):
    """Writers add and delete records while backups run; every backup must restore whole."""
    seed = [add_patient(store, f"S-{n}") for n in range(10)]
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer():
        number = 0
        try:
            while not stop.is_set():
                number += 1
                patient = add_patient(store, f"W-{number}", [HYPERLEUKOCYTOSIS])
                # delete checks the demographics' version, which adding a finding leaves at 1
                with store.transaction() as session:
                    delete_patient(session, ACTOR, seed.pop() if seed else patient, 1)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    thread = threading.Thread(target=writer)
    thread.start()
    paths = []
    try:
        for number in range(4):
            paths.append(tmp_path / f"backup-{number}.jsonl")
            backup_to_file(store, paths[-1])
    finally:
        stop.set()
        thread.join()
    assert not errors
    for number, path in enumerate(paths):
        check_backup(path)
        target = Store(f"sqlite:///{tmp_path / f'restored-{number}.sqlite3'}")
        target.migrate()
        restore_from_file(target, path)
        header = json.loads(path.read_text().splitlines()[0])
        restored = counts(target)
        assert restored["patients"] == header["tables"]["patients"]
        assert restored["findings"] == header["tables"]["findings"]
        target.dispose()


def test_a_failed_backup_leaves_the_previous_backup_untouched(store, tmp_path):
    add_patient(store, "P")
    good = tmp_path / "backup.jsonl"
    backup_to_file(store, good)
    before = good.read_bytes()
    with store.transaction() as session:  # as a version without input checks let it in: a JSON escape
        row = session.scalars(select(FindingRow)).first()
        row.reported = {**row.reported, "note": "bad \ud800 note"}
    with pytest.raises(BackupError, match="lone surrogate"):
        backup_to_file(store, good)
    assert good.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no partial file left


def test_a_backup_is_readable_by_its_owner_only(store, tmp_path):
    add_patient(store, "P")
    backup_to_file(store, tmp_path / "backup.jsonl")
    assert (tmp_path / "backup.jsonl").stat().st_mode & 0o777 == 0o600


def cli(database_url, *args, **popen):
    env = {**os.environ, "ALLCARE_DATABASE_URL": database_url, "ALLCARE_SECRET_KEY": "s" * 40}
    return subprocess.Popen([sys.executable, "-m", "allcare", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, **popen)


def big_store(store, patients=40):
    from allcare.store.demo import seed_demo

    seed_demo(store, patients=patients, with_users=False)


def test_kill_9_in_the_middle_of_a_backup_keeps_the_previous_backup(store, tmp_path, database_url):
    big_store(store)
    target = tmp_path / "backup.jsonl"
    backup_to_file(store, target)
    before = target.read_bytes()
    process = cli(database_url, "backup", str(target))
    deadline = time.monotonic() + 60
    while not any(p.name.endswith(".partial") and p.stat().st_size > 0 for p in tmp_path.iterdir()):
        assert process.poll() is None and time.monotonic() < deadline, "the backup ended before it could be killed"
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert target.read_bytes() == before
    check_backup(target)


# --- 6. restores that never destroy ------------------------------------------------------------------------


def lines_of(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def write_lines(path: Path, lines: list[dict]) -> None:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))


def test_a_backup_with_a_broken_reference_is_refused_before_the_store_is_touched(store, tmp_path):
    add_patient(store, "KEEP")
    backup = tmp_path / "backup.jsonl"
    backup_to_file(store, backup)
    lines = lines_of(backup)
    for line in lines[1:]:
        if line["table"] == "findings":
            line["row"]["patient_id"] = 999  # an orphan finding
    write_lines(backup, lines)
    before = counts(store)
    with pytest.raises(BackupError, match="patient_id = 999 names no row of patients"):
        restore_from_file(store, backup, force=True)
    assert counts(store) == before


def test_a_restore_that_fails_while_inserting_leaves_the_store_as_it_was(store, tmp_path):
    add_patient(store, "KEEP")
    backup = tmp_path / "backup.jsonl"
    backup_to_file(store, backup)
    lines = lines_of(backup)
    lines[0]["tables"]["users"] = 1
    user = {"id": "not-a-number", "username": "u", "password_hash": "x", "role": "clinician", "active": True,
            "created_at": "2024-01-01T00:00:00+00:00", "updated_at": "2024-01-01T00:00:00+00:00"}
    lines.insert(2, {"table": "users", "row": user})
    write_lines(backup, lines)
    check_backup(backup)  # the file itself is well formed: the database refuses the row
    before = counts(store)
    with pytest.raises(Exception):  # noqa: B017, PT011 - SQLite and PostgreSQL refuse the row with different errors
        restore_from_file(store, backup, force=True)
    assert counts(store) == before
    with store.sessions() as session:
        assert verify(session).intact


def test_kill_9_in_the_middle_of_a_restore_keeps_the_store(store, tmp_path, database_url):
    big_store(store)
    backup = tmp_path / "backup.jsonl"
    backup_to_file(store, backup)
    add_patient(store, "AFTER-THE-BACKUP")
    before = counts(store)
    process = cli(database_url, "restore", "--force", str(backup))
    deadline = time.monotonic() + 60
    while not restore_is_writing(store, database_url):
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.005)
    time.sleep(0.2)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert counts(store) == before
    with store.sessions() as session:
        assert session.scalar(select(Patient.id).where(Patient.identifier == "AFTER-THE-BACKUP")) is not None
        assert verify(session).intact


def restore_is_writing(store, database_url) -> bool:
    if database_url.startswith("sqlite"):
        wal = Path(database_url.split(":///", 1)[1] + "-wal")
        return wal.exists() and wal.stat().st_size > 1024 * 1024
    with store.engine.connect() as connection:
        return bool(connection.scalar(text(
            "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND query ILIKE 'INSERT INTO findings%'")))


# --- 14. the audit log --------------------------------------------------------------------------------------


def test_restore_keeps_the_audit_history_and_appends_the_restore(store, tmp_path):
    add_patient(store, "P")
    backup = tmp_path / "backup.jsonl"
    backup_to_file(store, backup)
    add_patient(store, "LATER")
    with store.sessions() as session:
        history = [(e.id, e.action, e.hash) for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    restore_from_file(store, backup, force=True)
    with store.sessions() as session:
        after = [(e.id, e.action, e.hash) for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
        restore_event = session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1))
        assert verify(session).intact
    assert after[:len(history)] == history and len(after) == len(history) + 1
    assert restore_event.action == "store.restore" and restore_event.detail["audit_history"] == "kept"


def test_a_store_restored_from_scratch_takes_the_backups_audit_history(store, tmp_path):
    add_patient(store, "P")
    backup = tmp_path / "backup.jsonl"
    backup_to_file(store, backup)
    fresh = Store(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    fresh.migrate()
    restore_from_file(fresh, backup)
    with fresh.sessions() as session:
        actions = list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
        assert verify(session).intact
    assert actions == ["case.import", "store.restore"]
    fresh.dispose()


def test_a_changed_audit_event_is_found_by_the_hash_chain(store, database_url):
    for identifier in ("A", "B", "C"):
        add_patient(store, identifier)
    with store.engine.begin() as connection:  # someone with the owner's rights, around allcare
        if database_url.startswith("sqlite"):
            connection.execute(text("DROP TRIGGER audit_events_no_update"))
        else:
            connection.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
        connection.execute(text("UPDATE audit_events SET username = 'nobody' WHERE id = 2"))
    with store.sessions() as session:
        report = verify(session)
    assert not report.intact and report.broken_at == 2 and report.events == 1
    process = cli(database_url, "audit", "verify")
    _, err = process.communicate(timeout=120)
    assert process.returncode == 3 and b"NOT intact" in err and b"event 2" in err


def _writers(store, prefix: str, writers: int, patients: int) -> list[threading.Thread]:
    """Threads that each add ``patients`` patients."""
    return [threading.Thread(target=lambda n=n: [add_patient(store, f"{prefix}{n}-{i}") for i in range(patients)])
            for n in range(writers)]


def _run_together(threads: list[threading.Thread]) -> None:
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_concurrent_writers_keep_one_unbroken_chain(store):
    _run_together(_writers(store, "T", writers=6, patients=5))
    with store.sessions() as session:
        report = verify(session)
    assert report.intact and report.events == 30


def test_concurrent_audited_reads_and_writes_keep_one_unbroken_chain(store):
    """Every audited read appends an event at its commit, beside writers appending theirs."""
    first = add_patient(store, "R0")
    with store.sessions() as session:
        per_patient = verify(session).events  # the events one add_patient writes

    def read(times: int) -> None:
        for _ in range(times):
            with store.transaction() as session:
                read_record(session, ACTOR, first, action="assessment.read")

    _run_together([threading.Thread(target=read, args=(10,)) for _ in range(3)]
                  + _writers(store, "W", writers=3, patients=4))
    with store.sessions() as session:
        report = verify(session)
        ids = session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)).all()
        reads = session.scalar(select(func.count()).where(AuditEvent.action == "assessment.read"))
    assert report.intact and report.events == 13 * per_patient + 30
    assert ids == list(range(1, len(ids) + 1)) and reads == 30


def test_an_audit_event_of_a_rolled_back_transaction_is_never_written(store):
    """Not by that transaction, and not by the next one of the same session."""
    patient = add_patient(store, "RB")
    with store.sessions() as session:
        session.begin()
        read_record(session, ACTOR, patient, action="assessment.read")
        session.rollback()
        session.begin()
        read_record(session, ACTOR, patient, action="patient.read")
        session.commit()
    with store.sessions() as session:
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.patient_id == patient)).all()
        report = verify(session)
    assert "assessment.read" not in actions and actions.count("patient.read") == 1 and report.intact

# --- 15. files ----------------------------------------------------------------------------------------------


def test_the_sqlite_store_and_its_directory_are_created_owner_only(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'new' / 'store.sqlite3'}")
    store.migrate()
    add_patient(store, "P")
    assert (tmp_path / "new").stat().st_mode & 0o777 == 0o700
    for name in ("store.sqlite3", "store.sqlite3-wal"):
        assert (tmp_path / "new" / name).stat().st_mode & 0o777 == 0o600
    store.dispose()


# --- 18. the CLI never prints patient data in an internal error -------------------------------------------


def test_a_cli_internal_error_shows_neither_sql_parameters_nor_patient_data(store, database_url):
    add_patient(store, "KEEP")
    with store.engine.begin() as connection:  # a store broken around allcare: every query of it fails
        connection.execute(text("ALTER TABLE patients RENAME TO patients_elsewhere"))
    process = cli(database_url, "export", "case", "SECRET-IDENTIFIER-42")
    out, err = process.communicate(timeout=120)
    assert process.returncode == 1
    assert b"internal error (" in err and b"SECRET-IDENTIFIER-42" not in err + out
    assert b"SELECT" not in err and b"parameters" not in err


# --- 14. PostgreSQL: allcare's own role cannot rewrite the audit log --------------------------------------


@pytest.fixture
def owner_and_app_roles():
    """A schema owned by an owner role, and an app role without ownership (needs the test cluster's superuser)."""
    import uuid

    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from allcare.settings import normalise_database_url
    from conftest import PG_URL

    if not PG_URL:
        pytest.skip("PostgreSQL: set ALLCARE_TEST_PG_URL")
    suffix = uuid.uuid4().hex[:10]
    owner, app, schema, password = f"owner_{suffix}", f"app_{suffix}", f"s_{suffix}", uuid.uuid4().hex
    admin = create_engine(normalise_database_url(PG_URL))
    with admin.begin() as connection:
        for role in (owner, app):
            connection.execute(text(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'"))
        connection.execute(text(f"CREATE SCHEMA {schema} AUTHORIZATION {owner}"))
    base = make_url(normalise_database_url(PG_URL)).update_query_dict({"options": f"-csearch_path={schema}"})
    urls = {name: base.set(username=name, password=password).render_as_string(hide_password=False)
            for name in (owner, app)}
    yield urls[owner], urls[app]
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        for role in (app, owner):
            connection.execute(text(f"DROP OWNED BY {role}"))
            connection.execute(text(f"DROP ROLE {role}"))
    admin.dispose()


@pytest.mark.parametrize("statement", [
    "UPDATE audit_events SET action = 'rewritten'",
    "DELETE FROM audit_events",
    "TRUNCATE audit_events",
    "ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only",
    "DROP TRIGGER audit_events_append_only ON audit_events",
    "INSERT INTO audit_events (id, at, action, outcome) VALUES (999, now(), 'x', 'ok') ON CONFLICT (id) DO UPDATE "
    "SET action = 'y'",
])
def test_allcares_own_role_may_only_append_to_the_audit_log(owner_and_app_roles, tmp_path, statement):
    from sqlalchemy.exc import DBAPIError

    owner_url, app_url = owner_and_app_roles
    store = Store(app_url, owner_url=owner_url)
    store.migrate()  # as the owner, which then grants the app role its privileges
    add_patient(store, "P")  # the app role reads, writes and appends audit events
    with pytest.raises(DBAPIError, match=r"permission denied|must be owner"), store.engine.begin() as connection:
        connection.execute(text(statement))
    backup_to_file(store, tmp_path / "backup.jsonl")  # backup and restore work as the app role
    restore_from_file(store, tmp_path / "backup.jsonl", force=True)
    with store.sessions() as session:
        assert verify(session).intact and verify(session).events == 2
    store.dispose()
