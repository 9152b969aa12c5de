"""Patients and findings in the store: validation by the case model, versions, revisions, audit."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import select

from allcare.engine.case import Patient as CasePatient
from allcare.engine.case import case_from_dict
from allcare.store import Conflict, InvalidRecord, NotFound
from allcare.store.cases import import_case
from allcare.store.findings import (
    FINDING,
    add_finding,
    delete_finding,
    finding_from_json,
    get_finding,
    list_findings,
    update_finding,
)
from allcare.store.models import AuditEvent, FindingRow, Patient
from allcare.store.patients import (
    PatientRecordIn,
    PatientRecordUpdate,
    create_patient,
    delete_patient,
    get_patient,
    update_patient,
)
from conftest import case_dict


def new_patient(store, actor, identifier="P-1", **patient):
    record = PatientRecordIn(patient=CasePatient(id=identifier, birth_date="2019-05-14", **patient))
    with store.transaction() as session:
        return create_patient(session, actor, record).id


def cbc(date="2024-02-01", **values):
    return FINDING.validate_python({"type": "cbc", "date": date, **(values or {"wbc": 4.2})})


def audit_actions(store):
    with store.sessions() as session:
        return [(e.action, e.patient_id, e.username) for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def test_a_finding_keeps_its_reported_units_and_stores_canonical_ones(store, cli_actor):
    patient = new_patient(store, cli_actor)
    finding = cbc(wbc={"value": 12400, "unit": "/uL", "lower_limit": 4500, "upper_limit": 13500},
                  hemoglobin={"value": 81, "unit": "g/L"}, platelets=42)
    with store.transaction() as session:
        row = add_finding(session, cli_actor, patient, finding).row
    with store.sessions() as session:
        row = session.get(FindingRow, row.id)
        assert row.reported["wbc"] == {"value": 12400, "unit": "/uL", "lower_limit": 4500, "upper_limit": 13500}
        assert row.reported["hemoglobin"] == {"value": 81, "unit": "g/L"}
        assert row.reported["platelets"] == 42
        assert row.canonical["wbc"] == {"value": 12.4, "unit": "10^9/L", "lower_limit": 4.5, "upper_limit": 13.5}
        assert row.canonical["hemoglobin"] == {"value": 8.1, "unit": "g/dL"}
        assert row.canonical["platelets"] == {"value": 42.0, "unit": "10^9/L"}
        assert finding_from_json(row.reported) == finding  # the stored JSON round-trips through the case model


@pytest.mark.parametrize(
    "raw",
    [
        {"type": "marrow", "date": "2024-01-09", "blasts_pct": 88, "method": "flow", "timepoint": "diagnosis",
         "cellularity": "hypercellular"},
        {"type": "immunophenotype", "date": "2024-01-09", "markers": {"cyCD3": "positive", "CD7": 95.5},
         "intensity": {"cCD3": "strong"}, "sample": "blood"},
        {"type": "cytogenetics", "date": "2024-01-12", "karyotype": "46,XY,t(9;22)(q34;q11.2)[20]", "dna_index": 1.0,
         "modal_number": 46},
        {"type": "genetics", "date": "2024-01-12", "fusions": ["BCR-ABL1"], "negative": ["KMT2A-r"],
         "expression_subtype": "BCR::ABL1-like", "expression_confidence": 0.8, "source": "RNA-seq"},
        {"type": "csf", "date": "2024-01-10", "wbc": {"value": 7, "unit": "10^6/L"}, "rbc": 3, "blasts": True},
        {"type": "extramedullary", "date": "2024-01-08", "site": "testis", "present": True, "detail": "mass"},
        {"type": "mrd", "date": "2024-02-05", "percent": 0.03, "method": "flow", "sensitivity": 1e-4,
         "sample": "marrow", "timepoint": "end_of_induction", "id": "obs-17", "note": "day 29"},
        {"type": "treatment", "phase": "induction", "start": "2024-01-10", "end": "2024-02-06",
         "agents": ["vincristine", "dexamethasone"], "protocol": "AALL0932"},
    ],
    ids=lambda raw: raw["type"],
)
def test_every_finding_type_is_stored_and_read_back_equal(store, cli_actor, raw):
    patient = new_patient(store, cli_actor)
    finding = FINDING.validate_python(raw)
    with store.transaction() as session:
        stored = add_finding(session, cli_actor, patient, finding)
    with store.transaction() as session:
        again = get_finding(session, cli_actor, patient, stored.row.id)
    assert finding_from_json(again.row.reported) == finding
    assert again.row.type == raw["type"] and again.index == 0


def test_a_finding_dated_before_birth_is_refused_with_its_location(store, cli_actor):
    patient = new_patient(store, cli_actor)
    with pytest.raises(InvalidRecord) as error, store.transaction() as session:
        add_finding(session, cli_actor, patient, cbc(date="2010-01-01"))
    assert any("before birth_date" in message for _, message in error.value.problems)
    with store.sessions() as session:
        assert session.scalars(select(FindingRow)).all() == []


def test_changing_birth_date_after_the_findings_is_refused(store, cli_actor):
    patient = new_patient(store, cli_actor)
    with store.transaction() as session:
        add_finding(session, cli_actor, patient, cbc(date="2020-01-01"))
    update = PatientRecordUpdate(patient=CasePatient(id="P-1", birth_date="2021-01-01"), version=1)
    with pytest.raises(InvalidRecord), store.transaction() as session:
        update_patient(session, cli_actor, patient, update)


def test_a_stale_patient_update_is_refused_with_the_current_version(store, cli_actor):
    patient = new_patient(store, cli_actor)
    first = PatientRecordUpdate(patient=CasePatient(id="P-1", birth_date="2019-05-14", sex="female"), version=1)
    with store.transaction() as session:
        assert update_patient(session, cli_actor, patient, first).version == 2
    stale = PatientRecordUpdate(patient=CasePatient(id="P-1", birth_date="2019-05-14", sex="male"), version=1)
    with pytest.raises(Conflict) as error, store.transaction() as session:
        update_patient(session, cli_actor, patient, stale)
    assert error.value.current_version == 2
    with store.sessions() as session:
        assert session.get(Patient, patient).sex == "female"  # the first writer's change survived


def test_finding_versions_guard_updates_and_deletes(store, cli_actor):
    patient = new_patient(store, cli_actor)
    with store.transaction() as session:
        row_id = add_finding(session, cli_actor, patient, cbc(wbc=4.0)).row.id
    with store.transaction() as session:
        assert update_finding(session, cli_actor, patient, row_id, cbc(wbc=5.0), version=1).row.version == 2
    with pytest.raises(Conflict) as error, store.transaction() as session:
        update_finding(session, cli_actor, patient, row_id, cbc(wbc=6.0), version=1)
    assert error.value.current_version == 2
    with pytest.raises(Conflict), store.transaction() as session:
        delete_finding(session, cli_actor, patient, row_id, version=1)
    with store.transaction() as session:
        delete_finding(session, cli_actor, patient, row_id, version=2)
    with pytest.raises(NotFound), store.transaction() as session:
        get_finding(session, cli_actor, patient, row_id)


def test_a_finding_keeps_its_type(store, cli_actor):
    patient = new_patient(store, cli_actor)
    with store.transaction() as session:
        row_id = add_finding(session, cli_actor, patient, cbc()).row.id
    marrow = FINDING.validate_python({"type": "marrow", "date": "2024-02-01", "blasts_pct": 3})
    with pytest.raises(InvalidRecord), store.transaction() as session:
        update_finding(session, cli_actor, patient, row_id, marrow, version=1)


def test_every_write_bumps_the_revision_but_only_demographic_edits_bump_the_version(store, cli_actor):
    patient = new_patient(store, cli_actor)

    def counters():
        with store.sessions() as session:
            row = session.get(Patient, patient)
            return row.version, row.revision

    assert counters() == (1, 1)
    with store.transaction() as session:
        row_id = add_finding(session, cli_actor, patient, cbc()).row.id
    assert counters() == (1, 2)
    with store.transaction() as session:
        update_finding(session, cli_actor, patient, row_id, cbc(wbc=9.9), version=1)
    assert counters() == (1, 3)
    with store.transaction() as session:
        update_patient(session, cli_actor, patient,
                       PatientRecordUpdate(patient=CasePatient(id="P-1", birth_date="2019-05-14"), version=1))
    assert counters() == (2, 4)


def test_findings_are_listed_in_case_order_with_their_index(store, cli_actor):
    with store.transaction() as session:
        patient = import_case(session, cli_actor, case_from_dict(case_dict())).id
    with store.transaction() as session:
        add_finding(session, cli_actor, patient, cbc(date="2024-01-02"))  # earlier date, appended last
    with store.transaction() as session:
        items = list_findings(session, cli_actor, patient)
        treatments = list_findings(session, cli_actor, patient, kind="treatment")
    assert [item.index for item in items] == [0, 1, 2, 3, 4]
    assert [item.row.type for item in items] == ["cbc", "marrow", "immunophenotype", "treatment", "cbc"]
    assert [(item.index, item.row.type) for item in treatments] == [(3, "treatment")]


def test_duplicate_identifiers_are_refused(store, cli_actor):
    new_patient(store, cli_actor, "SAME")
    with pytest.raises(Conflict):
        new_patient(store, cli_actor, "SAME")


def test_deleting_a_patient_removes_their_findings_but_not_the_audit_trail(store, cli_actor):
    patient = new_patient(store, cli_actor)
    with store.transaction() as session:
        add_finding(session, cli_actor, patient, cbc())
    with store.transaction() as session:
        delete_patient(session, cli_actor, patient, version=1)
    with store.sessions() as session:
        assert session.scalars(select(FindingRow)).all() == []
    assert ("patient.delete", patient, "test") in audit_actions(store)
    with pytest.raises(NotFound), store.transaction() as session:
        get_patient(session, cli_actor, patient)


def test_every_read_and_write_is_audited_without_clinical_values(store, cli_actor):
    patient = new_patient(store, cli_actor)
    with store.transaction() as session:
        row_id = add_finding(session, cli_actor, patient, cbc(wbc=123.4)).row.id
    with store.transaction() as session:
        get_patient(session, cli_actor, patient)
        list_findings(session, cli_actor, patient)
        get_finding(session, cli_actor, patient, row_id)
    actions = [action for action, pid, _ in audit_actions(store) if pid == patient]
    assert actions == ["patient.create", "finding.create", "patient.read", "finding.list", "finding.read"]
    with store.sessions() as session:
        stored = " ".join(str((e.detail, e.object_id)) for e in session.scalars(select(AuditEvent)))
    assert "123.4" not in stored and "P-1" not in stored


@pytest.mark.parametrize("writers", [4])
def test_concurrent_writers_of_one_record_never_lose_an_update(store, cli_actor, writers):
    """Threads racing with the same version: exactly one wins, the others get Conflict."""
    patient = new_patient(store, cli_actor)
    barrier = threading.Barrier(writers)
    outcomes: list[str] = []

    def write(number: int) -> None:
        update = PatientRecordUpdate(
            patient=CasePatient(id="P-1", birth_date="2019-05-14"), display_name=f"writer {number}", version=1
        )
        barrier.wait()
        try:
            with store.transaction() as session:
                update_patient(session, cli_actor, patient, update)
            outcomes.append("ok")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict"] * (writers - 1) + ["ok"]
    with store.sessions() as session:
        assert session.get(Patient, patient).version == 2


def test_concurrent_finding_additions_all_land_with_distinct_positions(store, cli_actor):
    patient = new_patient(store, cli_actor)
    barrier = threading.Barrier(4)

    def add(number: int) -> None:
        barrier.wait()
        with store.transaction() as session:
            add_finding(session, cli_actor, patient, cbc(date=str(dt.date(2024, 3, 1 + number))))

    threads = [threading.Thread(target=add, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with store.sessions() as session:
        positions = sorted(session.scalars(select(FindingRow.position).where(FindingRow.patient_id == patient)))
        revision = session.get(Patient, patient).revision
    assert positions == [1, 2, 3, 4] and revision == 5
