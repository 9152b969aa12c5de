"""Lossless round trips: case file -> store -> case file, and store -> backup -> store."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from sqlalchemy import select

from allcare.cohort.synthetic import generate_case
from allcare.engine.case import case_from_dict
from allcare.interop.casefile import load_case
from allcare.store import Conflict, Store, StoreNotEmpty
from allcare.store.backup import BackupError, backup_to_file, restore_from_file
from allcare.store.cases import export_case, import_case
from allcare.store.migrate import head_revision
from allcare.store.models import AuditEvent, Patient
from allcare.store.users import create_token, create_user, make_hasher

EXAMPLES = sorted(Path(__file__).resolve().parents[1].joinpath("examples").glob("*.*"))
CASE_FILES = [path for path in EXAMPLES if path.suffix in (".yaml", ".json") and path.stem != "expectations"]


def round_trip(store, actor, case):
    with store.transaction() as session:
        patient = import_case(session, actor, case).id
    with store.transaction() as session:
        return export_case(session, actor, patient)


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda path: path.name)
def test_every_example_case_file_survives_import_and_export(store, cli_actor, path):
    case = load_case(path)
    exported = round_trip(store, cli_actor, case)
    assert exported == case
    assert exported.to_json_dict() == case.to_json_dict()  # same file, reported units included


def test_a_synthetic_three_year_record_survives_import_and_export(store, cli_actor):
    data = generate_case(random.Random(5), 1, years=3)
    case = case_from_dict(data)
    exported = round_trip(store, cli_actor, case)
    assert exported.to_json_dict() == case.to_json_dict()
    assert len(exported.findings) > 100


def test_importing_the_same_patient_twice_is_a_conflict(store, cli_actor):
    case = case_from_dict(generate_case(random.Random(1), 7))
    round_trip(store, cli_actor, case)
    with pytest.raises(Conflict):
        round_trip(store, cli_actor, case)


@pytest.mark.parametrize("first, again", [("P-7", " P-7 "), ("M\u00fcller-7", "Mu\u0308ller-7"), ("P-8", "P-8\u00a0")])
def test_the_same_identifier_spelled_differently_is_the_same_patient(store, cli_actor, first, again):
    """Registry rows from several systems spell one identifier with stray spaces or in another Unicode form (NFD
    from macOS, NFC elsewhere): one person must not become two records (a registrar would count them twice).
    Identifiers are compared as Unicode NFC without surrounding white space (Unicode UAX #15)."""
    case = generate_case(random.Random(1), 7)
    case["patient"]["id"] = first
    round_trip(store, cli_actor, case_from_dict(case))
    case["patient"]["id"] = again
    with pytest.raises(Conflict):
        round_trip(store, cli_actor, case_from_dict(case))


@pytest.mark.parametrize("identifier", ["P\t7", "P-7\n", "P\u200b7", "P\u20287", "   "])
def test_an_identifier_with_control_characters_is_refused_naming_the_field(identifier):
    case = generate_case(random.Random(1), 7)
    case["patient"]["id"] = identifier
    with pytest.raises(ValueError, match=r"patient\.id"):
        case_from_dict(case)


def fill(store, actor, patients=3):
    rng = random.Random(11)
    with store.transaction() as session:
        for number in range(patients):
            import_case(session, actor, case_from_dict(generate_case(rng, number, years=1)))
        user = create_user(session, actor, make_hasher(1, 64, 1), username="dr.a", password="long enough pw",
                           role="clinician")
        create_token(session, actor, user, "script", 30)
    for case_file in CASE_FILES[:3]:
        round_trip(store, actor, load_case(case_file))


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()[1:]]


def test_backup_and_restore_give_back_the_same_store(store, cli_actor, tmp_path):
    fill(store, cli_actor)
    backup_to_file(store, tmp_path / "one.jsonl")
    target = Store(f"sqlite:///{tmp_path / 'restored.sqlite3'}")
    restore_from_file(target, tmp_path / "one.jsonl")
    backup_to_file(target, tmp_path / "two.jsonl")
    first, second = lines(tmp_path / "one.jsonl"), lines(tmp_path / "two.jsonl")
    # The restore itself is audited: the only difference is that one new event at the end.
    assert second[: len(first)] == first
    assert [row["row"]["action"] for row in second[len(first):]] == ["store.restore"]
    target.dispose()


def test_backup_moves_a_store_from_sqlite_to_postgresql(cli_actor, tmp_path, postgres_url):
    store = Store(f"sqlite:///{tmp_path / 'source.sqlite3'}")
    store.migrate()
    fill(store, cli_actor)
    backup_to_file(store, tmp_path / "one.jsonl")
    store.dispose()
    target = Store(postgres_url)
    restore_from_file(target, tmp_path / "one.jsonl")
    backup_to_file(target, tmp_path / "two.jsonl")
    first, second = lines(tmp_path / "one.jsonl"), lines(tmp_path / "two.jsonl")
    assert second[: len(first)] == first
    with target.transaction() as session:  # ids continue after the restored ones
        patient = import_case(session, cli_actor, case_from_dict(generate_case(random.Random(3), 99))).id
        assert patient == 1 + max(row["row"]["id"] for row in first if row["table"] == "patients")
    target.dispose()


def test_restore_refuses_a_store_with_data_unless_forced(store, cli_actor, tmp_path):
    fill(store, cli_actor, patients=1)
    backup_to_file(store, tmp_path / "backup.jsonl")
    with pytest.raises(StoreNotEmpty):
        restore_from_file(store, tmp_path / "backup.jsonl")
    with store.transaction() as session:  # a change made after the backup ...
        import_case(session, cli_actor, case_from_dict(generate_case(random.Random(8), 50)))
    restore_from_file(store, tmp_path / "backup.jsonl", force=True)
    with store.sessions() as session:  # ... is gone after a forced restore
        identifiers = set(session.scalars(select(Patient.identifier)))
        actions = list(session.scalars(select(AuditEvent.action)))
    assert "SYN-00050" not in identifiers and actions[-1] == "store.restore"


HEAD = head_revision()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty"),
        ('{"format": "something-else"}\n', "not an allcare.backup/1"),
        ('{"format": "allcare.backup/1", "schema_revision": "0000"}\n', "schema"),
        ('{"format": "allcare.backup/1", "schema_revision": "%s", "tables": {"patients": 2}}\n'
         '{"table": "patients", "row": {"id": 1, "identifier": "P", "sex": "female", "conditions": [], "version": 1, '
         '"revision": 1, "finding_seq": 0, "created_at": "2024-01-01T00:00:00+00:00", '
         '"updated_at": "2024-01-01T00:00:00+00:00"}}\n' % HEAD, "incomplete"),
        ('{"format": "allcare.backup/1", "schema_revision": "%s", "tables": {"patients": 1}}\n'
         '{"table": "patients", "row": {"id": 1}}\n' % HEAD, "without"),
        ('{"format": "allcare.backup/1", "schema_revision": "%s", "tables": {}}\n{"table": "secrets", "row": {}}\n' % HEAD,
         "expected"),
        ('{"format": "allcare.backup/1", "schema_revision": "%s", "tables": {}}\nnot json\n' % HEAD, "not JSON"),
    ],
)
def test_a_damaged_backup_is_refused_before_anything_changes(store, cli_actor, tmp_path, content, message):
    fill(store, cli_actor, patients=1)
    path = tmp_path / "bad.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(BackupError, match=message):
        restore_from_file(store, path, force=True)
    with store.sessions() as session:
        assert session.scalars(select(Patient)).all() != []


def test_merging_an_import_that_contradicts_the_stored_record_is_refused_whole(store, cli_actor):
    """Each case is valid alone; together the age at diagnosis contradicts the birth date."""
    from allcare.store.cases import merge_case
    from allcare.store.errors import InvalidRecord

    first = case_from_dict({"schema": "allcare.case/1", "patient": {"id": "M-1", "birth_date": "2015-01-01"},
                            "diagnosis_date": "2024-01-01",
                            "findings": [{"type": "cbc", "date": "2024-01-01", "wbc": 5, "id": "Observation/a"}]})
    later = case_from_dict({"schema": "allcare.case/1", "patient": {"id": "M-1", "age_years": 40},
                            "findings": [{"type": "cbc", "date": "2024-02-01", "wbc": 6, "id": "Observation/b"}]})
    with store.transaction() as session:
        created = merge_case(session, cli_actor, first)
    assert created.action == "created"
    with pytest.raises(InvalidRecord) as refused, store.transaction() as session:
        merge_case(session, cli_actor, later)
    assert any("age_years" in f"{where} {what}" for where, what in refused.value.problems)
    with store.transaction() as session:
        assert export_case(session, cli_actor, created.patient.id) == first


def test_a_record_stored_before_the_identifier_rule_is_still_read_and_exported(store, cli_actor):
    """A store written before identifiers were checked may hold one with a tab: it must stay readable (nothing
    lost), exported and re-assessed as stored, never refused on read."""
    from sqlalchemy import update

    from allcare.store.assessments import refresh_summaries

    with store.transaction() as session:
        patient = import_case(session, cli_actor, case_from_dict(generate_case(random.Random(1), 9))).id
    with store.transaction() as session:
        session.execute(update(Patient).where(Patient.id == patient).values(identifier="P\t9"))
    with store.transaction() as session:
        assert export_case(session, cli_actor, patient).patient.id == "P\t9"
        assert refresh_summaries(session, [patient]) == 1
