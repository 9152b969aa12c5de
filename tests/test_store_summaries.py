"""Stored summaries: each writer stores its record's summary before it commits; lists never run the engine.

A list that recomputed stale summaries inside the request wrote to the store while
it answered, so it queued behind an import holding the write lock. These tests pin
the mechanism (no engine run in any list read, a committed record always carries
the summary of its revision, older rule sets served marked and refreshed by the
background pass), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading

import pytest

from allcare.engine.case import case_from_dict
from allcare.engine.rules import DEFAULT_RULES
from allcare.store import Actor, assessments
from allcare.store.assessments import compress, read_record, run_engine, stale_patient_ids
from allcare.store.cases import case_of, import_case, merge_case
from allcare.store.coded import RegistryFilters, coded_view, registry_rows
from allcare.store.findings import FINDING, add_finding
from allcare.store.listing import PatientFilters, cohort_counts, list_patients, record_row
from allcare.store.models import Patient, PatientSummary
from allcare.store.patients import PatientRecordUpdate, update_patient
from conftest import case_dict

ACTOR = Actor.cli("test")
HIGH_WBC = {"type": "cbc", "date": "2024-02-01", "wbc": 300}


def stored(store, identifier: str, **patient) -> int:
    with store.transaction() as session:
        return import_case(session, ACTOR, case_from_dict(case_dict(identifier, **patient))).id


@pytest.fixture
def engine_only_for(monkeypatch):
    """Let the engine run only in the threads named; anywhere else (a reader) it fails the test."""
    allowed: set[int] = set()
    calls_elsewhere: list[str] = []
    real = assessments.run_engine

    def guarded(*args, **kwargs):
        if threading.get_ident() not in allowed:
            calls_elsewhere.append(threading.current_thread().name)
            raise AssertionError("the engine ran in a read")
        return real(*args, **kwargs)

    monkeypatch.setattr(assessments, "run_engine", guarded)
    allowed.add(threading.get_ident())
    return allowed, calls_elsewhere


def test_a_committed_write_carries_the_summary_of_its_new_revision(store):
    patient_id = stored(store, "S-1")
    with store.transaction() as session:
        add_finding(session, ACTOR, patient_id, FINDING.validate_python(HIGH_WBC))
    with store.sessions() as session:
        record = read_record(session, None, patient_id)
        summary = session.get(PatientSummary, patient_id)
        assert (summary.revision, summary.epoch) == (record.patient.revision, record.epoch) == (2, record.epoch)
        assert summary.assessment_gz == compress(run_engine(case_of(session, record.patient)))
        assert "hyperleukocytosis" in summary.alert_codes
        assert stale_patient_ids(session) == []


def test_every_kind_of_write_stores_its_summary(store):
    created = stored(store, "S-1")
    with store.transaction() as session:
        merged = merge_case(session, ACTOR, case_from_dict({**case_dict("S-1"), "findings": [
            {**HIGH_WBC, "id": "Observation/cbc-1"}]})).patient.id
        update_patient(session, ACTOR, created, PatientRecordUpdate.model_validate(
            {"patient": {"id": "S-1", "birth_date": "2013-05-14", "sex": "female"}, "version": 1,
             "diagnosis_date": "2024-01-08"}))
    assert merged == created
    with store.sessions() as session:
        summary, patient = session.get(PatientSummary, created), session.get(Patient, created)
        assert summary.revision == patient.revision and summary.nci_risk == "high"  # the age edit is in it
        assert stale_patient_ids(session) == []


def test_no_list_read_runs_the_engine(store, engine_only_for):
    allowed, _ = engine_only_for
    ids = [stored(store, f"S-{n}") for n in range(3)]
    with store.transaction() as session:
        add_finding(session, ACTOR, ids[0], FINDING.validate_python(HIGH_WBC))
    allowed.clear()  # from here on the engine may not run
    with store.transaction() as session:
        rows = list_patients(session, ACTOR, PatientFilters()).rows
        assert [row.id for row in rows] == ids and all(row.fresh and row.assessed for row in rows)
        assert [row.id for row in list_patients(session, ACTOR, PatientFilters(alert="hyperleukocytosis")).rows] == [ids[0]]
        assert record_row(session, read_record(session, ACTOR, ids[0])).fresh
        assert cohort_counts(session, ACTOR)["patients"] == 3
        assert len(registry_rows(session, ACTOR, RegistryFilters())) == 3
        assert coded_view(session, ACTOR, ids[1])["disease"] == "ALL"


def test_an_older_rule_set_is_served_marked_and_refreshed_by_the_background_pass(store, engine_only_for):
    allowed, _ = engine_only_for
    patient_id = stored(store, "S-1")
    woken: list[bool] = []
    store.on_stale_summary(lambda: woken.append(True))
    store.use_rules(DEFAULT_RULES.model_copy(update={"version": "centre/2027.1"}))
    allowed.clear()
    with store.transaction() as session:
        (row,) = list_patients(session, ACTOR, PatientFilters()).rows
    assert not row.fresh and row.assessed and row.disease == "ALL"  # the old row, marked as such
    assert woken
    from allcare.store.summaries import refresh_stale

    allowed.add(threading.get_ident())  # the background pass (here run in the test's thread) assesses
    assert refresh_stale(store) == 1
    with store.transaction() as session:
        (row,) = list_patients(session, ACTOR, PatientFilters()).rows
        assert row.fresh and session.get(PatientSummary, patient_id).rules_version == "centre/2027.1"


def test_the_background_pass_never_overwrites_a_newer_summary(store, monkeypatch):
    """A record written while the pass assessed it keeps its writer's summary."""
    from allcare.store.summaries import refresh_stale

    patient_id = stored(store, "S-1")
    store.use_rules(DEFAULT_RULES.model_copy(update={"version": "centre/2027.1"}))
    real = assessments.run_engine

    def engine_during_a_write(*args, **kwargs):
        if threading.current_thread().name == "background pass":
            writer = threading.Thread(target=_add, args=(store, patient_id))
            writer.start()
            writer.join()
        return real(*args, **kwargs)

    monkeypatch.setattr(assessments, "run_engine", engine_during_a_write)
    pass_ = threading.Thread(target=refresh_stale, args=(store,), name="background pass")
    pass_.start()
    pass_.join()
    with store.sessions() as session:
        summary, patient = session.get(PatientSummary, patient_id), session.get(Patient, patient_id)
        assert summary.revision == patient.revision == 2 and "hyperleukocytosis" in summary.alert_codes


def _add(store, patient_id: int) -> None:
    with store.transaction() as session:
        add_finding(session, ACTOR, patient_id, FINDING.validate_python(HIGH_WBC))


def test_readers_list_committed_summaries_while_an_import_writes(store, engine_only_for):
    """Concurrency: a reader lists again and again while a writer imports and edits; every row it
    sees is the summary of the revision it sees, and the reader never runs the engine."""
    allowed, calls_elsewhere = engine_only_for
    existing = [stored(store, f"S-{n}") for n in range(3)]
    done = threading.Event()
    seen: list[tuple[int, bool, bool]] = []
    failures: list[BaseException] = []

    def write():
        allowed.add(threading.get_ident())
        try:
            for n in range(6):
                with store.transaction() as session:  # one patient per transaction, as the FHIR import does
                    merge_case(session, ACTOR, case_from_dict(case_dict(f"I-{n}")))
                with store.transaction() as session:
                    add_finding(session, ACTOR, existing[n % 3],
                                FINDING.validate_python({**HIGH_WBC, "date": f"2024-02-{n + 1:02d}"}))
        except BaseException as error:  # noqa: BLE001 - reported by the test thread
            failures.append(error)
        finally:
            done.set()

    def read():
        try:
            while not done.is_set() or not seen:
                with store.transaction() as session:
                    seen.extend((row.id, row.fresh, row.assessed)
                                for row in list_patients(session, ACTOR, PatientFilters(limit=100)).rows)
        except BaseException as error:  # noqa: BLE001
            failures.append(error)

    threads = [threading.Thread(target=write, name="writer"), threading.Thread(target=read, name="reader")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures and not calls_elsewhere
    assert seen and all(fresh and assessed for _, fresh, assessed in seen)
    with store.sessions() as session:
        assert stale_patient_ids(session) == [] and session.query(Patient).count() == 9


def test_the_list_page_and_api_say_when_a_row_is_from_an_earlier_assessment(app, world):
    from test_web_pages import logged_in

    page = logged_in(app, "clinician")  # no lifespan here: no background pass runs
    assert "earlier assessment, updating" not in page.get("/patients").text
    world.store.use_rules(DEFAULT_RULES.model_copy(update={"version": "centre/2027.1"}))
    assert page.get("/patients").text.count("earlier assessment, updating") == 2
    items = page.get("/api/v1/patients", headers=world.auth("clinician")).json()["items"]
    assert [item["summary"]["fresh"] for item in items] == [False, False]
    assert all(item["summary"]["status"] for item in items)  # the earlier values are still shown


def test_a_writers_engine_run_does_not_hold_up_audited_reads(store, monkeypatch):
    """PostgreSQL: while a writer assesses its record before commit, another request's audited read
    commits (the writer has not yet taken the store-wide audit-chain lock). On SQLite every write,
    the audit row of a read included, waits for the one write transaction by design."""
    if store.engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises all writes")
    patient_id = stored(store, "S-1")
    real = assessments.run_engine
    read_finished_during_the_engine_run: list[bool] = []

    def read_elsewhere() -> None:
        with store.transaction() as session:
            list_patients(session, ACTOR, PatientFilters())

    readers: list[threading.Thread] = []

    def engine_with_a_read_meanwhile(*args, **kwargs):
        readers.append(threading.Thread(target=read_elsewhere))
        readers[-1].start()
        readers[-1].join(timeout=30)  # a reader stuck behind this writer is still waiting then
        read_finished_during_the_engine_run.append(not readers[-1].is_alive())
        return real(*args, **kwargs)

    monkeypatch.setattr(assessments, "run_engine", engine_with_a_read_meanwhile)
    _add(store, patient_id)
    for reader in readers:
        reader.join()
    assert read_finished_during_the_engine_run == [True]


def test_a_stored_assessment_of_another_output_layout_is_never_served(store):
    """The same allcare version has written more than one assessment layout (list-shaped, then columnar counts,
    chemistry and maintenance tables): a summary stored in another layout is not current, and is recomputed
    rather than handed to readers that decode the current layout."""
    import allcare
    from allcare.store.assessments import keyed_assessment_gzip

    patient_id = stored(store, "S-1")
    old_layout = compress(b'{"schema": "allcare.assessment/2", "maintenance": {"counts": [{"date": "2024-01-01"}]}}')
    with store.transaction() as session:
        summary = session.get(PatientSummary, patient_id)
        summary.engine_version, summary.assessment_gz = allcare.__version__, old_layout
    with store.transaction() as session:
        record = read_record(session, ACTOR, patient_id)
        assert keyed_assessment_gzip(session, record, None) != old_layout
        (row,) = list_patients(session, ACTOR, PatientFilters()).rows
        assert not row.fresh
