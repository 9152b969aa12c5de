"""Maintenance monitoring through ``assess``: the protocol family's lines at every boundary, the
allMT metrics on a hand-worked course, and the wording of the dose suggestions."""

from __future__ import annotations

import datetime as dt
import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from allcare.engine import assess, assessment_from_json, assessment_to_json, case_from_dict, rules_from_dict
from allcare.engine.maintenance.body_size import dubois, haycock, mosteller
from allcare.engine.maintenance.doses import DoseSpan, applying
from allcare.engine.maintenance.metrics import maximum_tolerated
from allcare.engine.monitoring_output import Maintenance, MaintenanceRows
from allcare.engine.rules import RuleSetError

START = dt.date(2024, 1, 1)


def day(n: int) -> str:
    return (START + dt.timedelta(days=n)).isoformat()


def case(*findings: dict, bsa: float | None = 1.0, age: float = 6.0) -> dict:
    body = [{"type": "anthropometry", "date": day(0), "bsa": bsa}] if bsa else []
    return {
        "schema": "allcare.case/1",
        "patient": {"id": "maint", "age_years": age, "sex": "female"},
        "diagnosis_date": (START - dt.timedelta(days=240)).isoformat(),
        "findings": [{"type": "treatment", "phase": "maintenance", "start": day(0)}, *body, *findings],
    }


def cbc(n: int, anc: float | None = None, platelets: float | None = 200.0, wbc: float | None = None) -> dict:
    data = {"type": "cbc", "date": day(n)}
    for name, value in (("anc", anc), ("platelets", platelets), ("wbc", wbc)):
        if value is not None:
            data[name] = value
    return data


def dose(agent: str, value: float, unit: str, n: int, frequency: str) -> dict:
    return {"type": "dose", "agent": agent, "dose": {"value": value, "unit": unit}, "frequency": frequency, "start": day(n)}


def with_counts(data: dict, rules=None, as_of: dt.date | None = None) -> tuple[Maintenance, MaintenanceRows]:
    """The maintenance section and its counts read through the blood-count table it refers to."""
    kwargs = {"rules": rules} if rules is not None else {}
    a = assess(case_from_dict(data), as_of=as_of, **kwargs)
    return a.maintenance, a.maintenance.counts.read(a.blood_counts)


def maintenance(data: dict, rules=None, as_of: dt.date | None = None) -> Maintenance | None:
    kwargs = {"rules": rules} if rules is not None else {}
    return assess(case_from_dict(data), as_of=as_of, **kwargs).maintenance


# ICiCLe-ALL-14 lines: hold at ANC <= 0.5 or platelets <= 50; reduce at ANC <= 0.75 or platelets <= 75;
# target 0.75 < ANC <= 1.5; above > 1.5.
@pytest.mark.parametrize(("anc", "zone", "in_target"), [
    (0.5, "hold", False), (0.51, "reduce", False), (0.75, "reduce", False), (0.76, "target", True),
    (1.5, "target", True), (1.51, "above", False),
])
def test_anc_lines_of_the_default_family(anc, zone, in_target):
    m, counts = with_counts(case(cbc(14, anc=anc)))
    assert m.family == "icicle_all_14" and m.family_label == "ICiCLe-ALL-14"
    assert (counts.row(0).zone, counts.row(0).in_target) == (zone, in_target)


@pytest.mark.parametrize(("platelets", "zone"), [(50, "hold"), (51, "reduce"), (75, "reduce"), (76, "target")])
def test_platelet_lines_of_the_default_family(platelets, zone):
    assert with_counts(case(cbc(14, anc=1.0, platelets=platelets)))[1].row(0).zone == zone


@pytest.mark.parametrize(("anc", "action", "rule"), [
    (0.5, "hold", "MAINT.SUGGEST.HOLD"),
    (0.6, "reduce", "MAINT.SUGGEST.REDUCE"),
    (1.2, "continue", "MAINT.SUGGEST.CONTINUE"),
])
def test_suggestion_names_the_family_and_is_decision_support(anc, action, rule):
    s = maintenance(case(cbc(14, anc=anc))).suggestion
    assert (s.action, s.rule, s.family) == (action, rule, "icicle_all_14")
    assert s.wording.startswith("Decision support (ICiCLe-ALL-14 targets")
    assert s.wording.endswith("The treating team decides.")
    assert "not an order" in s.decision_support


def test_hold_wording_says_what_the_protocol_does_and_when_it_resumes():
    s = maintenance(case(cbc(14, anc=0.4))).suggestion
    assert "stops mercaptopurine and methotrexate until ANC >= 0.75 and platelets >= 75" in s.wording
    assert s.drugs == ["mercaptopurine", "methotrexate"]


def test_reduce_gives_half_of_the_maximum_tolerated_dose_when_it_is_established():
    data = case(dose("mercaptopurine", 50, "mg", 0, "daily"), dose("methotrexate", 20, "mg", 0, "weekly"),
                cbc(14, anc=1.2), cbc(28, anc=1.1), cbc(42, anc=1.0), cbc(56, anc=0.7))
    m = maintenance(data)
    assert m.mercaptopurine_mtd_mg_week == 350
    assert m.suggestion.action == "reduce"
    assert "MTD mercaptopurine 350 mg/week, methotrexate 20 mg/week; 50% is 175 mg/week mercaptopurine and 10 mg/week methotrexate" in m.suggestion.wording


def test_reduce_says_the_maximum_tolerated_dose_is_not_yet_established():
    data = case(dose("mercaptopurine", 50, "mg", 0, "daily"), cbc(14, anc=0.7))
    assert "maximum tolerated dose is not established" in maintenance(data).suggestion.wording


def test_recovery_after_a_hold_returns_to_the_maximum_tolerated_dose():
    s = maintenance(case(cbc(14, anc=0.4), cbc(21, anc=0.8, platelets=90))).suggestion
    assert (s.action, s.rule) == ("increase", "MAINT.SUGGEST.RECOVER")
    assert "returns both drugs to the maximum tolerated dose" in s.wording


@pytest.mark.parametrize("order", ["hold-level first", "hold-level last"])
def test_same_day_counts_in_different_zones_decide_no_dose_step(order):
    """Counts of one day carry no order: neither "the latest" nor a "recovery" from the other can be read."""
    day_counts = [cbc(28, anc=0.4), cbc(28, anc=1.0)]
    data = case(cbc(14, anc=1.0), *(day_counts if order == "hold-level first" else day_counts[::-1]))
    s = maintenance(data).suggestion
    assert (s.action, s.rule) == ("cannot_determine", "MAINT.SUGGEST.SAME_DAY_CONFLICT")
    assert "ANC 0.4" in s.wording and "ANC 1" in s.wording


def test_same_day_counts_in_one_zone_still_decide():
    assert maintenance(case(cbc(14, anc=1.0), cbc(28, anc=0.4), cbc(28, anc=0.3))).suggestion.action == "hold"


@pytest.mark.parametrize(("ancs", "rule"), [
    ((1.2, 1.6, 1.6), "MAINT.SUGGEST.ESCALATE_MERCAPTOPURINE"),  # 2 of 3 counts >= 1.5 over 6 weeks
    ((1.2, 1.2, 1.6), "MAINT.SUGGEST.CONTINUE"),  # 1 of 3
    ((1.2, 1.5, 1.5), "MAINT.SUGGEST.ESCALATE_MERCAPTOPURINE"),  # exactly 1.5 counts (">= 1.5")
])
def test_two_of_three_escalation_rule(ancs, rule):
    counts = [cbc(14 * (i + 1), anc=a) for i, a in enumerate(ancs)]
    s = maintenance(case(*counts)).suggestion
    assert s.rule == rule
    if rule.endswith("MERCAPTOPURINE"):
        assert s.drugs == ["mercaptopurine"] and "increases mercaptopurine" in s.wording


def test_methotrexate_is_escalated_when_the_count_stays_high_two_weeks_after_a_mercaptopurine_increase():
    data = case(dose("mercaptopurine", 50, "mg", 0, "daily"), dose("mercaptopurine", 60, "mg", 28, "daily"),
                dose("methotrexate", 20, "mg", 0, "weekly"),
                cbc(14, anc=1.7), cbc(28, anc=1.8), cbc(42, anc=1.9))
    s = maintenance(data).suggestion
    assert (s.action, s.rule, s.drugs) == ("increase", "MAINT.SUGGEST.ESCALATE_METHOTREXATE", ["methotrexate"])


def test_an_escalation_is_given_two_weeks_before_the_next_step():
    data = case(dose("mercaptopurine", 50, "mg", 0, "daily"), dose("mercaptopurine", 60, "mg", 35, "daily"),
                cbc(14, anc=1.7), cbc(28, anc=1.8), cbc(42, anc=1.9))
    assert maintenance(data).suggestion.rule == "MAINT.SUGGEST.WAIT_AFTER_ESCALATION"


def test_no_recent_count_means_no_suggestion_but_says_what_is_needed():
    data = case(cbc(14, anc=1.0), {"type": "vitals", "date": day(60), "temperature": 36.8})
    m = maintenance(data)
    assert m.suggestion.action == "cannot_determine" and m.suggestion.rule == "MAINT.SUGGEST.NO_RECENT_COUNT"
    undecided = [c for c in m.conclusions if c.topic == "maintenance.suggestion"][0]
    assert not undecided.determined and "from the last 21 days" in undecided.missing[0]


def test_missing_platelets_leave_the_suggestion_undecided_unless_the_anc_decides():
    assert maintenance(case(cbc(14, anc=1.0, platelets=None))).suggestion.action == "cannot_determine"
    assert maintenance(case(cbc(14, anc=0.3, platelets=None))).suggestion.action == "hold"


def test_an_anc_reported_as_a_bound_is_read_three_valued():
    below = with_counts(case(cbc(14, anc={"value": 0.1, "comparator": "<"})))[1].row(0)
    assert below.zone == "hold"
    straddling = with_counts(case(cbc(14, anc={"value": 0.6, "comparator": "<"})))[1].row(0)
    assert straddling.zone == "unknown" and straddling.in_target is False


def test_wbc_steered_family_gives_direction_only_and_names_its_targets():
    rules = rules_from_dict({"maintenance": {"family": "nopho_all2008"}})
    cases = {1.4: ("below", "reduce"), 1.5: ("target", "continue"), 3.0: ("target", "continue"), 3.1: ("above", "increase")}
    for wbc, (zone, action) in cases.items():
        m, counts = with_counts(case(cbc(14, anc=1.0, wbc=wbc)), rules)
        assert (counts.row(0).zone, m.suggestion.action) == (zone, action), wbc
        assert m.family_label == "NOPHO ALL2008" and m.steering == "wbc"
    low_anc, counts = with_counts(case(cbc(14, anc=0.4, wbc=2.0)), rules)
    assert counts.row(0).zone == "below" and "ANC below 0.5" in low_anc.suggestion.wording
    assert "not encoded" in low_anc.suggestion.wording


def test_a_centre_overrides_one_line_of_its_family():
    rules = rules_from_dict({"maintenance": {"target_high": 2.0}})
    m, counts = with_counts(case(cbc(14, anc=1.8)), rules)
    assert m.family == "icicle_all_14" and m.target_high == 2.0 and counts.row(0).zone == "target"
    assert rules.version.endswith("+custom")


def test_metrics_follow_allmt_definitions_on_a_hand_worked_course():
    # Counts every 14 days then 7: weights (weeks to the next count, last = 1) are 2, 2, 1, 1.
    # BSA 1.0 m2; ICiCLe protocol doses 60 mg/m2/day (420 mg/week) and 20 mg/m2/week.
    data = case(
        dose("mercaptopurine", 420, "mg", 0, "weekly"), dose("methotrexate", 20, "mg", 0, "weekly"),
        dose("mercaptopurine", 210, "mg", 28, "weekly"), dose("methotrexate", 10, "mg", 28, "weekly"),
        cbc(0, anc=1.6), cbc(14, anc=1.2), cbc(28, anc=0.7), cbc(35, anc=1.0),
    )
    m, counts = with_counts(data)
    assert counts.column("weight_weeks") == [2, 2, 1, 1]
    assert counts.column("mercaptopurine_di_pct") == [100, 100, 50, 50]
    assert [c.weight_weeks for c in counts.rows()] == [2, 2, 1, 1]  # the rows read the same table
    # wmANC = (2*1.6 + 2*1.2 + 1*0.7 + 1*1.0) / 6  # noqa: ERA001 - the arithmetic, not code
    assert m.weighted_mean_count == pytest.approx((3.2 + 2.4 + 0.7 + 1.0) / 6, abs=1e-3)
    # in target (0.75, 1.5]: 1.2 (w 2) and 1.0 (w 1) -> 3 of 6 weeks
    assert m.time_in_target_pct == 50.0
    # antimetabolite DI: per-count product (1*1, 1*1, .5*.5, .5*.5) weighted -> (2+2+.25+.25)/6
    assert m.antimetabolite_di_pct == pytest.approx(100 * 4.5 / 6, abs=0.1)
    assert m.weeks_observed == 6


def test_dose_intensity_uses_the_body_size_of_the_day_and_says_when_it_is_missing():
    data = case(dose("mercaptopurine", 50, "mg", 0, "daily"), cbc(14, anc=1.0), bsa=None)
    m, counts = with_counts(data)
    assert counts.row(0).mercaptopurine_mg_week == 350 and counts.row(0).mercaptopurine_di_pct is None
    di = [c for c in m.conclusions if c.topic == "maintenance.dose_intensity"][0]
    assert not di.determined and "height and weight" in di.missing[0]
    no_doses = maintenance(case(cbc(14, anc=1.0)))  # doses are optional: no dose recorded, nothing asked for
    assert not [c for c in no_doses.conclusions if c.topic == "maintenance.dose_intensity"]
    per_m2 = case(dose("mercaptopurine", 60, "mg/m2", 0, "daily"), cbc(14, anc=1.0), bsa=None)
    assert with_counts(per_m2)[1].row(0).mercaptopurine_di_pct == 100


def test_a_held_dose_is_zero_intensity_and_interrupts_the_maximum_tolerated_dose():
    periods = [(START, START + dt.timedelta(days=27), 350.0), (START + dt.timedelta(days=28), START + dt.timedelta(days=34), 0.0),
               (START + dt.timedelta(days=35), START + dt.timedelta(days=62), 350.0)]
    assert maximum_tolerated(periods, 42) is None
    assert maximum_tolerated(periods[:1] + [(START + dt.timedelta(days=28), START + dt.timedelta(days=50), 300.0)], 42) == 300


def test_no_maintenance_block_no_section():
    data = case(cbc(14, anc=1.0))
    data["findings"] = data["findings"][1:]
    assert maintenance(data) is None


@pytest.mark.parametrize(("height", "weight", "expected"), [(100, 16, math.sqrt(1600 / 3600)), (180, 80, 2.0)])
def test_mosteller(height, weight, expected):
    assert mosteller(height, weight) == pytest.approx(expected)


def test_bsa_formula_is_a_named_parameter():
    data = case(dose("mercaptopurine", 50, "mg", 0, "daily"), cbc(14, anc=1.0), bsa=None)
    data["findings"].append({"type": "anthropometry", "date": day(0), "height": 120, "weight": 22})
    for formula, function in (("mosteller", mosteller), ("haycock", haycock), ("dubois", dubois)):
        result = assess(case_from_dict(data), rules=rules_from_dict({"bsa_formula": formula}))
        assert result.body_size.bsa_source == formula
        assert result.body_size.bsa_m2 == round(function(120, 22), 3)


def test_a_finished_maintenance_gets_no_suggestion():
    data = case(cbc(14, anc=0.3))
    data["findings"][0]["end"] = day(20)
    m = maintenance(data, as_of=START + dt.timedelta(days=30))
    assert m.running is False and m.suggestion is None


def test_an_open_maintenance_ends_when_the_next_block_starts():
    # The course's definition (response/phases.effective_end): an open-ended block is superseded on the day
    # the next backbone block starts, e.g. relapse treatment; its counts are no longer maintenance counts.
    data = case(cbc(14, anc=1.0), cbc(70, anc=0.6, platelets=60),
                {"type": "treatment", "phase": "salvage", "start": day(60), "end": day(88)})
    m, counts = with_counts(data, as_of=START + dt.timedelta(days=70))
    assert m.running is False and m.end == START + dt.timedelta(days=59)
    assert counts.dates == [START + dt.timedelta(days=14)] and m.suggestion is None


def test_the_maintenance_table_refers_to_the_blood_count_rows_instead_of_repeating_them():
    # Counts before maintenance (day -30), in it (14, 28; one without platelets) and after it ended (70):
    # the maintenance counts are the blood-count rows of days 14 and 28, read through the reference.
    data = case(cbc(-30, anc=0.2, platelets=20), cbc(14, anc=1.0, wbc=3.1), cbc(28, anc=0.6, platelets=None),
                cbc(70, anc=2.0))
    data["findings"][0]["end"] = day(40)
    a = assess(case_from_dict(data), as_of=START + dt.timedelta(days=80))
    written = json.loads(assessment_to_json(a))["maintenance"]["counts"]
    assert (written["first_row"], written["row_count"]) == (1, 2)
    assert not {"indexes", "dates", "anc", "platelets", "wbc"} & written.keys()  # held once, in blood_counts
    counts = assessment_from_json(assessment_to_json(a)).maintenance.counts.read(a.blood_counts)
    assert counts.dates == [START + dt.timedelta(days=14), START + dt.timedelta(days=28)]
    assert counts.indexes == [3, 4]  # the findings' positions in the case file (treatment, anthropometry, cbc -30, ...)
    assert (counts.anc, counts.platelets, counts.wbc) == ([1.0, 0.6], [200.0, None], [3.1, None])
    assert [(c.zone, c.in_target) for c in counts.rows()] == [("target", True), ("reduce", False)]
    with pytest.raises(ValueError, match="same assessment's blood_counts"):  # a table of another record is refused
        a.maintenance.counts.read(assess(case_from_dict(case(cbc(14, anc=1.0)))).blood_counts)


def test_a_finished_maintenance_without_counts_asks_for_nothing():
    data = case()
    data["findings"][0]["end"] = day(20)
    result = assess(case_from_dict(data), as_of=START + dt.timedelta(days=30))
    assert "a blood count during maintenance" not in result.missing
    running = assess(case_from_dict(case()), as_of=START + dt.timedelta(days=30))
    assert "a blood count during maintenance" in running.missing


def test_the_body_size_of_a_day_is_the_nearest_finding_of_each_field_within_the_window():
    """Every day around scattered height / weight / BSA findings (several on one day, some fields missing) gets
    the finding nearest in time within the window for each field, the earlier one on a tie, as read one by one."""
    import random

    from allcare.engine.maintenance.body_size import size_on
    from allcare.engine.view import CaseView

    rng = random.Random(11)
    findings = []
    for _ in range(30):
        when = day(rng.choice([rng.randint(0, 400), rng.randint(0, 30)]))
        f = {"type": "anthropometry", "date": when}
        for field, base in (("height", 120.0), ("weight", 24.0), ("bsa", 0.9)):
            if rng.random() < 0.6:
                f[field] = round(base + rng.random(), 2)
        f.setdefault("weight", 20.0)
        findings.append(f)
    view = CaseView(case_from_dict(case(*findings, bsa=None)))
    window = view.rules.body_size_max_age_days
    items = view.of_type("anthropometry")

    def nearest(field: str, when: dt.date):
        best = None
        for item in items:  # date order: the first of equal gaps is the earlier
            gap = abs((item.date - when).days)
            if getattr(item.finding, field) is not None and gap <= window and (best is None or gap < best[0]):
                best = (gap, item)
        return best[1] if best else None

    start = dt.date.fromisoformat(day(0))
    for offset in range(-window - 5, 400 + window + 5, 3):
        when = start + dt.timedelta(days=offset)
        size = size_on(view, when)
        assert (size.height, size.weight) == (nearest("height", when), nearest("weight", when)), when
        assert (size.recorded if size.source == "recorded" else None) in (None, nearest("bsa", when)), when


@pytest.mark.parametrize("name", ["escalate_counts_needed", "escalate_counts_of", "escalate_window_days",
                                  "methotrexate_escalate_after_days"])
def test_a_family_with_dose_steps_must_give_every_escalation_number(name):
    # Unset, the escalation step could not be read (on a count at or above the escalation line the
    # suggestion failed): the rule set is refused when it is loaded, naming the setting.
    with pytest.raises(RuleSetError, match=f"not set: {name}"):
        rules_from_dict({"maintenance": {name: None}})


_day = st.integers(min_value=0, max_value=90).map(lambda n: dt.date(2024, 1, 1) + dt.timedelta(days=n))


@given(
    starts=st.lists(_day, max_size=6),
    ends=st.lists(st.one_of(st.none(), _day), min_size=6, max_size=6),
    dates=st.lists(_day, max_size=40),
)
def test_the_dose_applying_on_a_date_is_the_latest_started_while_it_lasts(starts, ends, dates):
    """``applying`` bisects each dose's stretch of dates; by definition the dose of a date is the last one (in
    history order) started on or before it, when it has not ended (ties, lapsed and back-to-back doses included)."""
    history = [DoseSpan(None, start, end) for start, end in zip(sorted(starts), ends, strict=False)]
    dates = sorted(dates)
    expected = []
    for when in dates:
        started = [span for span in history if span.start <= when]
        expected.append(started[-1] if started and started[-1].covers(when) else None)
    assert [id(x) for x in applying(history, dates)] == [id(x) for x in expected]


def _stopped(agent: str, value: float, unit: str, n: int, frequency: str, end: int) -> dict:
    data = dose(agent, value, unit, n, frequency)
    data["end"] = day(end)
    return data


@pytest.mark.parametrize("held", ["zero_dose", "ended"])
def test_counts_taken_while_the_drugs_were_held_do_not_escalate(held):
    """A count off mercaptopurine shows no effect of its dose: high counts during a hold (for an
    infection, a liver test) are no reason to raise the dose the child is not taking."""
    if held == "zero_dose":
        doses = [dose("mercaptopurine", 50, "mg", 0, "daily"), dose("methotrexate", 20, "mg", 0, "weekly"),
                 dose("mercaptopurine", 0, "mg", 20, "daily"), dose("methotrexate", 0, "mg", 20, "weekly")]
    else:
        doses = [_stopped("mercaptopurine", 50, "mg", 0, "daily", 20), _stopped("methotrexate", 20, "mg", 0, "weekly", 20)]
    a = assess(case_from_dict(case(*doses, cbc(14, anc=1.2), cbc(28, anc=1.8), cbc(35, anc=2.4))))
    s = a.maintenance.suggestion
    assert (s.action, s.rule) == ("cannot_determine", "MAINT.SUGGEST.COUNT_OFF_DRUG")
    assert "held" in s.wording and "docs/decisions.md#maintenance-counts-off-the-drugs" in s.wording
    c = next(c for c in a.maintenance.conclusions if c.topic == "maintenance.suggestion")
    assert not c.determined and "taken on" in c.missing[0]


def test_a_count_in_the_band_while_mercaptopurine_is_held_does_not_keep_the_current_doses():
    data = case(dose("mercaptopurine", 50, "mg", 0, "daily"), dose("mercaptopurine", 0, "mg", 20, "daily"),
                cbc(14, anc=1.2), cbc(28, anc=1.0))
    assert maintenance(data).suggestion.rule == "MAINT.SUGGEST.COUNT_OFF_DRUG"


def test_a_hold_and_its_recovery_while_held_still_follow_the_count_rules():
    # the protocol's own hold: counts low, drugs stopped, then recovered off the drugs -> back to the MTD
    data = case(dose("mercaptopurine", 50, "mg", 0, "daily"), dose("mercaptopurine", 0, "mg", 29, "daily"),
                cbc(14, anc=1.2), cbc(28, anc=0.4), cbc(35, anc=0.45))
    assert maintenance(data).suggestion.rule == "MAINT.SUGGEST.HOLD"
    data = case(dose("mercaptopurine", 50, "mg", 0, "daily"), dose("mercaptopurine", 0, "mg", 29, "daily"),
                cbc(14, anc=1.2), cbc(28, anc=0.4), cbc(35, anc=1.2))
    assert maintenance(data).suggestion.rule == "MAINT.SUGGEST.RECOVER"


def test_high_counts_of_a_past_hold_do_not_count_towards_an_escalation():
    # held days 15-27 (counts high off the drug), restarted day 28: one high count on the drug is 1 of 1
    data = case(dose("mercaptopurine", 50, "mg", 0, "daily"), dose("mercaptopurine", 0, "mg", 15, "daily"),
                dose("mercaptopurine", 50, "mg", 28, "daily"),
                cbc(14, anc=1.2), cbc(21, anc=1.9), cbc(42, anc=1.7))
    s = maintenance(data).suggestion
    assert s.rule == "MAINT.SUGGEST.CONTINUE", s.wording
