"""One patient-list projection (store.listing.PatientListRow): the API list, the API record, the
registrar's coded view and the web list show the same columns with the same values."""

from __future__ import annotations

import dataclasses

from allcare.store.audit import Actor
from allcare.store.listing import PatientFilters, PatientListRow, list_patients, list_row


def test_the_api_summary_is_the_list_row(client, world):
    listed = client.get("/api/v1/patients", headers=world.auth("clinician")).json()["items"]
    one = client.get(f"/api/v1/patients/{world.patient_a}", headers=world.auth("clinician")).json()
    with world.store.transaction() as session:
        rows = {row.id: row for row in list_patients(session, Actor.cli("test"), PatientFilters()).rows}
    row = rows[world.patient_a]
    assert row.assessed and row.fresh and row.status == "on_treatment" and row.disease == "ALL"
    summary = next(item["summary"] for item in listed if item["id"] == world.patient_a)
    assert summary == one["summary"]
    fields = {f.name for f in dataclasses.fields(PatientListRow)}
    for name, value in summary.items():
        assert name in fields, f"the API's summary.{name} is not a list-row column"
        expected = getattr(row, name)
        if name == "alerts":
            expected = [dataclasses.asdict(alert) for alert in expected]
        elif hasattr(expected, "isoformat"):
            expected = expected.isoformat()
        assert value == expected, name


def test_the_coded_view_reads_the_same_row(client, world):
    coded = client.get(f"/api/v1/patients/{world.patient_a}/coded", headers=world.auth("registrar")).json()
    with world.store.transaction() as session:
        row = {r.id: r for r in list_patients(session, Actor.cli("test"), PatientFilters()).rows}[world.patient_a]
    assert coded["status"]["current"] == row.status and coded["status"]["phase"] == row.phase
    assert coded["who_haem5"]["key"] == row.who_haem5 and coded["risk"]["nci"] == row.nci_risk
    assert coded["codes"]["icd_10_cm"] == row.icd_10_cm and coded["alerts"] == [a.code for a in row.alerts]


def test_a_record_never_assessed_is_a_row_without_engine_values(world):
    with world.store.transaction() as session:
        from allcare.store.models import Patient

        patient = session.get(Patient, world.patient_b)
        row = list_row(patient, None, None)
    assert not row.assessed and not row.fresh and row.status is None and row.urgency is None
    assert row.identifier == "P-B" and row.sex == "male"


def test_urgency_is_the_most_severe_alert():
    from allcare.store.listing import AlertBadge

    row = PatientListRow(id=1, identifier="x", name=None, sex=None, birth_date=None, diagnosis_date=None, fresh=True,
                         alerts=(AlertBadge("stale_data", "warning"), AlertBadge("cns_disease", "info")))
    assert row.urgency == "warning"
