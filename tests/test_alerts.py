"""Alerts: one case per alert and per boundary, through ``assess``."""

from __future__ import annotations

import datetime as dt

import pytest

from allcare.engine import assess, case_from_dict

DX = dt.date(2024, 3, 1)
B_MARKERS = {"CD19": 95, "CD10": 90, "cCD79a": 92, "CD22": 80, "TdT": 85, "CD34": 70, "cCD3": 0, "MPO": 0, "sIg": "negative"}
T_MARKERS = {"cCD3": 95, "CD7": 98, "CD5": 90, "CD1a": 60, "CD8": 50, "CD19": 0, "MPO": 0, "CD34": 5}


def day(n: int) -> str:
    return (DX + dt.timedelta(days=n)).isoformat()


def b_all(*extra: dict, markers: dict | None = None, conditions: list[str] | None = None, age: float = 6) -> dict:
    return {
        "schema": "allcare.case/1",
        "patient": {"id": "alert", "age_years": age, "sex": "male", "conditions": conditions or []},
        "diagnosis_date": DX.isoformat(),
        "findings": [
            {"type": "marrow", "date": day(0), "blasts_pct": 85, "timepoint": "diagnosis"},
            {"type": "immunophenotype", "date": day(0), "markers": markers or B_MARKERS},
            *extra,
        ],
    }


def alerts_of(data: dict, as_of: dt.date | None = None) -> dict[str, object]:
    return {a.code: a for a in assess(case_from_dict(data), as_of=as_of).alerts}


@pytest.mark.parametrize(("wbc", "raised"), [(100.0, False), (100.1, True)])
def test_hyperleukocytosis_is_above_100(wbc, raised):
    found = alerts_of(b_all({"type": "cbc", "date": day(0), "wbc": wbc}))
    assert ("hyperleukocytosis" in found) is raised
    if raised:
        assert found["hyperleukocytosis"].severity == "critical"
        assert found["hyperleukocytosis"].evidence[0].index == 2


def test_hyperleukocytosis_at_presentation_only_is_information():
    found = alerts_of(b_all({"type": "cbc", "date": day(0), "wbc": 250}, {"type": "cbc", "date": day(10), "wbc": 4}))
    assert found["hyperleukocytosis"].severity == "info"


@pytest.mark.parametrize(
    ("finding", "severity", "words"),
    [
        ({"type": "extramedullary", "date": day(0), "site": "mediastinum", "present": True, "detail": "svc_syndrome"}, "critical", "emergency"),
        ({"type": "extramedullary", "date": day(0), "site": "mediastinum", "present": True, "detail": "mass"}, "critical", "compression"),
    ],
)
def test_mediastinal_mass(finding, severity, words):
    alert = alerts_of(b_all(finding, markers=T_MARKERS))["mediastinal_mass"]
    assert alert.severity == severity and words in alert.message


def test_a_resolved_mediastinal_mass_is_history():
    found = alerts_of(b_all(
        {"type": "extramedullary", "date": day(0), "site": "mediastinum", "present": True},
        {"type": "extramedullary", "date": day(30), "site": "mediastinum", "present": False},
        markers=T_MARKERS,
    ))
    assert found["mediastinal_mass"].severity == "info"
    assert found["mediastinal_mass"].message.startswith("History: mediastinal mass")


@pytest.mark.parametrize(("anc", "raised"), [(0.49, True), (0.5, False)])
def test_severe_neutropenia_below_0_5_on_the_latest_count(anc, raised):
    assert ("severe_neutropenia" in alerts_of(b_all({"type": "cbc", "date": day(5), "anc": anc}))) is raised


@pytest.mark.parametrize("order", ["low first", "low last"])
def test_a_low_count_of_the_latest_day_raises_the_alert_whatever_its_order(order):
    """Counts of one day carry no order: a recovered count written after a low one does not silence it."""
    counts = [{"type": "cbc", "date": day(5), "anc": 0.3, "platelets": 15},
              {"type": "cbc", "date": day(5), "anc": 1.2, "platelets": 120}]
    found = alerts_of(b_all(*(counts if order == "low first" else counts[::-1])))
    assert {"severe_neutropenia", "severe_thrombocytopenia"} <= set(found)
    assert "ANC 1.2" in found["severe_neutropenia"].message  # the other count of the day is named


def test_severe_neutropenia_that_has_recovered_raises_nothing():
    found = alerts_of(b_all({"type": "cbc", "date": day(5), "anc": 0.1}, {"type": "cbc", "date": day(40), "anc": 2.0}))
    assert "severe_neutropenia" not in found


@pytest.mark.parametrize(("platelets", "raised"), [(24.9, True), (25, False)])
def test_severe_thrombocytopenia_below_25(platelets, raised):
    assert ("severe_thrombocytopenia" in alerts_of(b_all({"type": "cbc", "date": day(5), "platelets": platelets}))) is raised


@pytest.mark.parametrize(
    ("csf", "severity"),
    [
        ({"wbc": 12, "rbc": 0, "blasts": True}, "warning"),  # CNS3a
        ({"wbc": 3, "rbc": 0, "blasts": True}, "info"),  # CNS2a
        ({"wbc": 3, "rbc": 0, "blasts": False}, None),  # CNS1
    ],
)
def test_cns_disease_at_diagnosis(csf, severity):
    found = alerts_of(b_all({"type": "csf", "date": day(1), **csf}))
    assert (found["cns_disease"].severity if "cns_disease" in found else None) == severity


def test_testicular_disease():
    found = alerts_of(b_all({"type": "extramedullary", "date": day(0), "site": "testis", "present": True}))
    assert found["testicular_disease"].severity == "warning"


def test_ph_positive_when_bcr_abl1_is_detected():
    found = alerts_of(b_all({"type": "genetics", "date": day(3), "fusions": ["BCR::ABL1"]}))
    assert "tyrosine kinase inhibitor" in found["ph_positive"].message


def test_no_ph_alert_when_bcr_abl1_results_contradict():
    found = alerts_of(b_all(
        {"type": "genetics", "date": day(3), "fusions": ["BCR::ABL1"]},
        {"type": "genetics", "date": day(4), "negative": ["BCR::ABL1"]},
    ))
    assert "ph_positive" not in found


def _in_remission(*extra: dict) -> dict:
    return b_all(
        {"type": "treatment", "phase": "induction", "start": day(1), "end": day(28)},
        {"type": "marrow", "date": day(29), "blasts_pct": 1, "timepoint": "end_of_induction"},
        {"type": "cbc", "date": day(29), "anc": 1.5, "platelets": 150, "blasts_pct": 0},
        *extra,
    )


@pytest.mark.parametrize(("mrd", "raised"), [(0.001, True), (0.00099, False)])
def test_blinatumomab_mrd_indication_at_0_1_percent_in_remission(mrd, raised):
    data = _in_remission({"type": "mrd", "date": day(29), "value": mrd, "method": "flow", "sensitivity": 1e-4, "sample": "marrow"})
    found = alerts_of(data)
    assert ("immunotherapy_indication" in found) is raised
    if raised:
        assert "blinatumomab" in found["immunotherapy_indication"].message


def test_relapsed_cd19_positive_b_all_has_labelled_immunotherapy():
    data = _in_remission({"type": "marrow", "date": day(400), "blasts_pct": 40, "timepoint": "relapse"})
    alert = alerts_of(data)["immunotherapy_indication"]
    assert "blinatumomab" in alert.message and "inotuzumab" in alert.message
    assert "tisagenlecleucel" not in alert.message  # first relapse: the CAR-T label needs refractory or a second relapse


def test_no_immunotherapy_alert_for_t_all():
    data = b_all(
        {"type": "treatment", "phase": "induction", "start": day(1), "end": day(28)},
        {"type": "marrow", "date": day(29), "blasts_pct": 30, "timepoint": "end_of_induction"},
        markers=T_MARKERS,
    )
    assert "immunotherapy_indication" not in alerts_of(data)


def test_down_syndrome():
    assert alerts_of(b_all(conditions=["down_syndrome"]))["down_syndrome"].severity == "warning"


@pytest.mark.parametrize(("days_after_start", "raised"), [(49, False), (50, True)])
def test_missing_end_of_induction_after_the_window_and_grace(days_after_start, raised):
    data = b_all({"type": "treatment", "phase": "induction", "start": day(1)})
    found = alerts_of(data, as_of=DX + dt.timedelta(days=1 + days_after_start))
    assert ("missing_end_of_induction" in found) is raised


def test_alerts_are_ordered_most_severe_first():
    data = b_all({"type": "cbc", "date": day(0), "wbc": 180, "anc": 0.2}, conditions=["down_syndrome"])
    severities = [a.severity for a in assess(case_from_dict(data)).alerts]
    order = {"critical": 0, "warning": 1, "info": 2}
    assert severities == sorted(severities, key=order.get) and severities[0] == "critical"


def test_cns_disease_at_diagnosis_becomes_history_after_remission():
    """An alert has a lifetime: CNS3 at diagnosis is history once remission is documented."""
    findings = [
        {"type": "csf", "date": day(1), "wbc": 30, "rbc": 0, "blasts": True},
        {"type": "treatment", "phase": "induction", "start": day(2)},
        {"type": "marrow", "date": day(30), "blasts_pct": 1, "timepoint": "end_of_induction"},
        {"type": "cbc", "date": day(30), "anc": 2.0, "platelets": 150, "blasts_pct": 0},
        {"type": "csf", "date": day(30), "wbc": 0, "rbc": 0, "blasts": False},
    ]
    at_diagnosis = alerts_of(b_all(*findings[:2]), as_of=DX + dt.timedelta(days=5))["cns_disease"]
    assert at_diagnosis.severity == "warning"
    later = alerts_of(b_all(*findings))["cns_disease"]
    assert later.severity == "info" and later.message.startswith("History: CNS3a at diagnosis")


def test_mediastinal_mass_becomes_history_after_remission():
    findings = [
        {"type": "extramedullary", "date": day(0), "site": "mediastinum", "present": True, "detail": "mass"},
        {"type": "treatment", "phase": "induction", "start": day(2)},
        {"type": "marrow", "date": day(30), "blasts_pct": 1, "timepoint": "end_of_induction"},
        {"type": "cbc", "date": day(30), "anc": 2.0, "platelets": 150, "blasts_pct": 0},
    ]
    alert = alerts_of(b_all(*findings, markers=T_MARKERS))["mediastinal_mass"]
    assert alert.severity == "info" and "remission since" in alert.message


@pytest.mark.parametrize("order", [0, 1])
def test_blinatumomab_mrd_indication_does_not_depend_on_the_order_of_one_days_results(order):
    """Flow 0.2% and PCR 0.05% of one day (docs/decisions.md#same-day): neither is 'the latest'; the alert
    names both whatever the order the record lists them."""
    day_results = [
        {"type": "mrd", "date": day(120), "value": 0.002, "method": "flow", "sensitivity": 1e-4, "sample": "marrow"},
        {"type": "mrd", "date": day(120), "value": 0.0005, "method": "pcr", "sensitivity": 1e-5, "sample": "marrow"},
    ]
    if order:
        day_results.reverse()
    alert = alerts_of(_in_remission(*day_results))["immunotherapy_indication"]
    assert "0.2%" in alert.message and "0.05%" in alert.message
    assert len(alert.evidence) == 2


def test_an_old_hyperleukocytosis_is_not_a_present_emergency():
    """The latest WBC above 100 months ago (later counts without a WBC) is not 'assess for leukostasis now':
    the alert names its date and asks for a current WBC."""
    data = b_all({"type": "cbc", "date": day(0), "wbc": 150, "anc": 0.3},
                 {"type": "cbc", "date": day(150), "anc": 1.2, "platelets": 150})
    alert = alerts_of(data, as_of=DX + dt.timedelta(days=152))["hyperleukocytosis"]
    assert alert.severity == "warning" and day(0) in alert.message and "current WBC" in alert.message
    only = alerts_of(b_all({"type": "cbc", "date": day(0), "wbc": 150}), as_of=DX + dt.timedelta(days=60))
    assert only["hyperleukocytosis"].severity == "warning"
    recent = alerts_of(b_all({"type": "cbc", "date": day(0), "wbc": 150}), as_of=DX + dt.timedelta(days=7))
    assert recent["hyperleukocytosis"].severity == "critical"


def test_an_old_severe_cytopenia_says_how_old_it_is():
    data = b_all({"type": "cbc", "date": day(5), "anc": 0.3, "platelets": 20})
    found = alerts_of(data, as_of=DX + dt.timedelta(days=95))
    for code in ("severe_neutropenia", "severe_thrombocytopenia"):
        assert "90 days before the assessment" in found[code].message and "current count" in found[code].message
    fresh = alerts_of(data, as_of=DX + dt.timedelta(days=6))
    assert "days before the assessment" not in fresh["severe_neutropenia"].message
