"""Results reported as a bound (FHIR Quantity.comparator) at every clinical line outside the CTCAE grading.

A bound decides a line only when it falls wholly on one side of it; otherwise the answer is "cannot
determine" (HL7 FHIR R4 Quantity.comparator; ELN/NCCN MRD: below the assay's limit = not detected).
"""

from __future__ import annotations

import datetime as dt

import pytest

from allcare.engine import assess, case_from_dict

DX = dt.date(2024, 3, 1)
B_MARKERS = {"CD19": 95, "CD10": 90, "cCD79a": 92, "CD22": 80, "TdT": 85, "CD34": 70, "cCD3": 0, "MPO": 0,
             "sIg": "negative"}


def day(n: int) -> str:
    return (DX + dt.timedelta(days=n)).isoformat()


def b_all(*extra: dict, age: float = 6, marrow: float | dict = 85) -> dict:
    return {"schema": "allcare.case/1", "patient": {"id": "bound", "age_years": age, "sex": "female"},
            "diagnosis_date": DX.isoformat(), "findings": [
                {"type": "marrow", "date": day(0), "blasts_pct": marrow},
                {"type": "immunophenotype", "date": day(0), "markers": B_MARKERS},
                *extra]}


def run(data: dict):
    return assess(case_from_dict(data))


# MRD -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("mrd", "status"), [
    ({"value": 0.0001, "comparator": "<"}, "negative"),  # below the assay's limit, the bound is the sensitivity
    ({"value": 0.00001, "comparator": "<"}, "negative"),
    ({"value": 0.0001, "comparator": "<="}, "not_evaluable"),  # may be exactly 0.01%
    ({"value": 0.001, "comparator": "<"}, "not_evaluable"),  # straddles the 0.01% line
    ({"value": 0.001, "comparator": "<", "sensitivity": 1e-5}, "not_evaluable"),
    ({"value": 0.0001, "comparator": ">"}, "positive"),
    ({"percent": 0.01, "comparator": ">="}, "positive"),
    ({"value": 0.001, "comparator": "<", "sensitivity": 1e-3}, "not_evaluable"),
])
def test_mrd_status_reads_the_bound(mrd, status):
    result = run(b_all({"type": "mrd", "date": day(30), "sample": "marrow", **mrd}))
    assert result.mrd.latest.status == status
    assert result.mrd.latest.comparator == mrd["comparator"]


def test_straddling_mrd_says_what_would_decide():
    result = run(b_all({"type": "mrd", "date": day(30), "value": 0.001, "comparator": "<"}))
    card = next(c for c in result.status.conclusions if c.rule == "MRD.STATUS")
    assert not card.determined and "straddles" in card.explanation
    assert card.missing == ["an MRD result with a value or a detection limit at or below 1e-04"]


# NCI WBC >= 50 ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("wbc", "nci"), [
    ({"value": 50, "comparator": ">="}, "high"),
    ({"value": 50, "comparator": ">"}, "high"),
    ({"value": 50, "comparator": "<"}, "standard"),
    ({"value": 60, "comparator": "<"}, None),  # may be above or below 50
    ({"value": 40, "comparator": ">"}, None),
])
def test_nci_wbc_line_with_a_bound(wbc, nci):
    result = run(b_all({"type": "cbc", "date": day(0), "wbc": wbc}))
    assert result.risk.nci == nci
    if nci is None:
        card = next(c for c in result.risk.conclusions if c.rule == "RISK.NCI")
        assert any("presenting WBC as a value" in m for m in card.missing)


def test_age_decides_nci_high_whatever_the_wbc_bound():
    result = run(b_all({"type": "cbc", "date": day(0), "wbc": {"value": 60, "comparator": "<"}}, age=12))
    assert result.risk.nci == "high"


# CR recovery lines --------------------------------------------------------------------------------


def _induction(count: dict) -> dict:
    return b_all({"type": "treatment", "phase": "induction", "start": day(1)},
                 {"type": "marrow", "date": day(30), "blasts_pct": 1, "timepoint": "end_of_induction"},
                 {"type": "cbc", "date": day(30), "blasts_pct": 0, **count})


@pytest.mark.parametrize(("count", "status"), [
    ({"anc": {"value": 1.5, "comparator": ">"}, "platelets": {"value": 100, "comparator": ">="}}, "complete_remission"),
    ({"anc": {"value": 0.5, "comparator": "<"}, "platelets": 150}, "cr_incomplete_recovery"),
    ({"anc": 2.0, "platelets": {"value": 20, "comparator": "<"}}, "cr_incomplete_recovery"),
    ({"anc": {"value": 0.5, "comparator": ">"}, "platelets": 150}, "indeterminate"),  # > 0.5 may be under 1.0
])
def test_cr_counts_with_bounds(count, status):
    assert run(_induction(count)).status.current == status


def test_circulating_blasts_reported_below_a_limit_are_not_assumed_absent():
    result = run(_induction({"anc": 2.0, "platelets": 150, "blasts_pct": {"value": 1, "comparator": "<"}}))
    point = result.status.timeline[-1]
    assert any("circulating blasts not excluded" in m for m in point.conclusion.missing)


# Marrow blast lines -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("blasts", "status", "grade"), [
    ({"value": 5, "comparator": "<"}, "complete_remission", "M1"),
    ({"value": 10, "comparator": "<"}, "on_treatment", None),  # straddles the 5% line
    ({"value": 25, "comparator": ">="}, "refractory", "M3"),
])
def test_response_marrow_with_a_bound(blasts, status, grade):
    data = b_all({"type": "treatment", "phase": "induction", "start": day(1)},
                 {"type": "marrow", "date": day(30), "blasts_pct": blasts, "timepoint": "end_of_induction"},
                 {"type": "cbc", "date": day(30), "anc": 2.0, "platelets": 150, "blasts_pct": 0})
    result = run(data)
    point = result.status.timeline[-1]
    assert point.marrow_grade == grade
    assert result.status.current == status
    if grade is None:
        assert not point.conclusion.determined and "bound" in point.conclusion.explanation


@pytest.mark.parametrize(("marrow", "disease"), [
    ({"value": 20, "comparator": ">"}, "ALL"),
    ({"value": 20, "comparator": "<"}, "indeterminate"),  # below the leukaemia line, no mass
    ({"value": 50, "comparator": "<"}, "indeterminate"),  # straddles 20%
])
def test_diagnostic_marrow_line_with_a_bound(marrow, disease):
    result = run(b_all(marrow=marrow))
    assert result.diagnosis.disease == disease
    if marrow["value"] == 50:
        card = next(c for c in result.diagnosis.conclusions if c.topic == "diagnosis.disease")
        assert "does not settle" in card.explanation


# CSF cells ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("csf", "status", "possible"), [
    ({"wbc": {"value": 5, "comparator": "<"}, "rbc": 0, "blasts": True}, "CNS2a", []),
    ({"wbc": {"value": 5, "comparator": ">="}, "rbc": 0, "blasts": True}, "CNS3a", []),
    ({"wbc": {"value": 10, "comparator": "<"}, "rbc": 0, "blasts": True}, None, ["CNS2a", "CNS3a"]),
    ({"wbc": 2, "rbc": {"value": 10, "comparator": "<"}, "blasts": True}, "CNS2a", []),
])
def test_csf_lines_with_a_bound(csf, status, possible):
    result = run(b_all({"type": "csf", "date": day(1), **csf}))
    assert result.cns_status == status
    assert result.cns.possible == possible


# Alert thresholds -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("wbc", "raised"), [
    ({"value": 100, "comparator": ">"}, True), ({"value": 100, "comparator": ">="}, False),
    ({"value": 150, "comparator": "<"}, False),
])
def test_hyperleukocytosis_with_a_bound(wbc, raised):
    codes = {a.code for a in run(b_all({"type": "cbc", "date": day(0), "wbc": wbc})).alerts}
    assert ("hyperleukocytosis" in codes) is raised


@pytest.mark.parametrize(("platelets", "anc", "codes"), [
    ({"value": 20, "comparator": "<"}, {"value": 0.5, "comparator": "<"}, {"severe_thrombocytopenia", "severe_neutropenia"}),
    ({"value": 30, "comparator": "<"}, {"value": 0.6, "comparator": "<"}, set()),  # may be above the lines
])
def test_severe_cytopenia_alerts_with_a_bound(platelets, anc, codes):
    found = {a.code for a in run(b_all({"type": "cbc", "date": day(5), "platelets": platelets, "anc": anc})).alerts}
    assert found & {"severe_thrombocytopenia", "severe_neutropenia"} == codes
