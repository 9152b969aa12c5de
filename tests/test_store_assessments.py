"""Assessments derived on read: the engine's own JSON, cached by record revision, summaries for the list."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

import pytest

from allcare.caches import LRU
from allcare.engine import assess
from allcare.engine.case import case_from_dict
from allcare.interop.casefile import load_case
from allcare.store.assessments import assessment_gzip, stale_patient_ids
from allcare.store.cases import import_case
from allcare.store.findings import FINDING, add_finding
from allcare.store.listing import PatientFilters, cohort_counts, list_patients
from allcare.store.models import PatientSummary
from conftest import case_dict

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
COHORT = ["childhood_b_all_standard_risk.yaml", "adult_t_all_notch1.yaml", "infant_kmt2a_rearranged.yaml",
          "cri_end_of_induction.yaml", "late_relapse_with_cns_disease.yaml", "mpal_b_myeloid.yaml"]


def read(store, actor, patient, as_of=None, cache=None):
    with store.transaction() as session:
        return json.loads(gzip.decompress(assessment_gzip(session, actor, patient, cache, as_of=as_of)))


def imported(store, actor, case):
    with store.transaction() as session:
        return import_case(session, actor, case).id


def test_the_assessment_is_the_engines_json_for_the_stored_case(store, cli_actor):
    case = load_case(EXAMPLES / "childhood_b_all_standard_risk.yaml")
    patient = imported(store, cli_actor, case)
    assert read(store, cli_actor, patient) == assess(case).to_json_dict()
    as_of = dt.date(2024, 1, 20)
    assert read(store, cli_actor, patient, as_of) == assess(case, as_of=as_of).to_json_dict()


def test_a_write_invalidates_the_cached_assessment(store, cli_actor):
    patient = imported(store, cli_actor, case_from_dict(case_dict()))
    before = read(store, cli_actor, patient)
    assert "hyperleukocytosis" not in [alert["code"] for alert in before["alerts"]]
    with store.transaction() as session:
        add_finding(session, cli_actor, patient,
                    FINDING.validate_python({"type": "cbc", "date": "2024-01-11", "wbc": {"value": 250000, "unit": "/uL"}}))
    after = read(store, cli_actor, patient)
    assert "hyperleukocytosis" in [alert["code"] for alert in after["alerts"]]
    assert after["as_of"] == "2024-01-11"


def test_the_default_assessment_is_kept_compressed_for_other_processes(store, cli_actor):
    patient = imported(store, cli_actor, case_from_dict(case_dict()))
    cache = LRU(10)
    first = read(store, cli_actor, patient, cache=cache)
    cache.clear()  # as if another worker process, or a restart, answered next
    with store.sessions() as session:
        summary = session.get(PatientSummary, patient)
        assert json.loads(gzip.decompress(summary.assessment_gz)) == first
    assert read(store, cli_actor, patient, cache=cache) == first


def test_reads_of_the_assessment_are_audited(store, cli_actor):
    from sqlalchemy import select

    from allcare.store.models import AuditEvent

    patient = imported(store, cli_actor, case_from_dict(case_dict()))
    read(store, cli_actor, patient)
    read(store, cli_actor, patient)  # from the cache, still audited
    with store.sessions() as session:
        actions = list(session.scalars(select(AuditEvent.action).where(AuditEvent.patient_id == patient)))
    assert actions.count("assessment.read") == 2


@pytest.fixture
def cohort(store, cli_actor):
    ids = {}
    for name in COHORT:
        case = load_case(EXAMPLES / name)
        ids[name] = (imported(store, cli_actor, case), assess(case))
    return ids


def listed(store, actor, **filters):
    with store.transaction() as session:
        page = list_patients(session, actor, PatientFilters(**{"limit": 100, **filters}))
    return page


def test_the_list_carries_each_patients_engine_summary(store, cli_actor, cohort):
    page = listed(store, cli_actor)
    assert page.total == len(COHORT)
    by_id = {patient.id: summary for patient, summary in page.items}
    for patient_id, result in cohort.values():
        summary = by_id[patient_id]
        assert (summary.status, summary.lineage, summary.nci_risk, summary.disease) == (
            result.status.current, result.diagnosis.lineage, result.risk.nci, result.diagnosis.disease)
        assert [a.code for a in summary.alerts] == [a.code for a in result.alerts]
        assert summary.last_visit == max(f.date for f in result_case(store, patient_id).findings)


def result_case(store, patient_id):
    from allcare.store.cases import case_of
    from allcare.store.models import Patient

    with store.sessions() as session:
        return case_of(session, session.get(Patient, patient_id))


@pytest.mark.parametrize("field", ["status", "lineage", "risk", "alert"])
def test_each_filter_returns_exactly_the_matching_patients(store, cli_actor, cohort, field):
    def value(result):
        return {"status": result.status.current, "lineage": result.diagnosis.lineage, "risk": result.risk.nci,
                "alert": result.alerts[0].code if result.alerts else None}[field]

    wanted_values = {value(result) for _, result in cohort.values()} - {None}
    assert wanted_values
    for wanted in wanted_values:
        page = listed(store, cli_actor, **{field: wanted})
        expected = {pid for pid, result in cohort.values()
                    if (wanted in [a.code for a in result.alerts] if field == "alert" else value(result) == wanted)}
        assert {patient.id for patient, _ in page.items} == expected


def test_search_by_identifier_and_last_visit_range(store, cli_actor, cohort):
    patient_id, _ = cohort["adult_t_all_notch1.yaml"]
    with store.sessions() as session:
        from allcare.store.models import Patient

        identifier = session.get(Patient, patient_id).identifier
    page = listed(store, cli_actor, q=identifier[-6:].upper())
    assert patient_id in {patient.id for patient, _ in page.items}
    everyone = listed(store, cli_actor)
    last_visits = sorted(summary.last_visit for _, summary in everyone.items)
    middle = last_visits[len(last_visits) // 2]
    recent = listed(store, cli_actor, last_visit_from=middle)
    assert {s.last_visit >= middle for _, s in recent.items} == {True}
    assert recent.total == sum(1 for visit in last_visits if visit >= middle)


def test_sorting_and_paging(store, cli_actor, cohort):
    first = listed(store, cli_actor, sort="-last_visit", limit=2)
    assert len(first.items) == 2 and first.total == len(COHORT)
    visits = [summary.last_visit for _, summary in listed(store, cli_actor, sort="-last_visit").items]
    assert visits == sorted(visits, reverse=True)


def test_a_changed_record_has_its_fresh_summary_when_the_write_commits(store, cli_actor, cohort):
    patient_id, _ = cohort["childhood_b_all_standard_risk.yaml"]
    listed(store, cli_actor)
    with store.transaction() as session:
        add_finding(session, cli_actor, patient_id,
                    FINDING.validate_python({"type": "cbc", "date": "2025-06-01", "wbc": 300}))
    with store.sessions() as session:
        assert stale_patient_ids(session) == []
    page = listed(store, cli_actor, alert="hyperleukocytosis")
    assert patient_id in {patient.id for patient, _ in page.items}


def test_cohort_counts_add_up(store, cli_actor, cohort):
    with store.transaction() as session:
        counts = cohort_counts(session, cli_actor)
    assert counts["patients"] == counts["assessed"] == len(COHORT)
    for key in ("by_status", "by_lineage", "by_nci_risk", "by_icd_10_cm", "by_icd_o_3_topography", "by_sex"):
        assert sum(counts[key].values()) == len(COHORT)
    assert counts["by_icd_o_3_topography"] == {"C42.1": len(COHORT)}  # leukaemias (ALL, MPAL): the bone marrow
