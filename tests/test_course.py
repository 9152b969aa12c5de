"""The course of the disease: episodes, their work-ups, relapse site, timing and risk, re-characterisation.

Every case goes through ``assess`` (the public interface). Sources: I-BFM / Ponte di Legno relapse
timing as used by IntReALL (very early < 18 months from diagnosis; early >= 18 months and < 6 months
after the end of front-line therapy; late >= 6 months after it); ALL-REZ BFM strategy groups S1-S4
and IntReALL SR (S1/S2) / HR (S3/S4); COG AALL1331 relapse risk (early marrow < 36 months, early
isolated extramedullary < 18 months: high; late: low/intermediate by end-of-block-1 MRD 0.1%);
Fuster 2014 / Ponte di Legno 2022 relapse sites (combined = extramedullary + marrow >= 5%).
"""

from __future__ import annotations

import datetime as dt

import pytest

from allcare.engine import assess, case_from_dict
from allcare.engine.dates import add_months

DX = dt.date(2020, 3, 2)
BIRTH = "2014-03-02"  # 6 years old at diagnosis
B_MARKERS = {"CD19": 95, "CD10": 90, "cCD79a": 92, "CD22": 80, "TdT": 85, "CD34": 70, "cCD3": 0, "MPO": 0,
             "sIg": "negative"}
T_MARKERS = {"cCD3": 95, "CD7": 98, "CD5": 90, "CD1a": 60, "CD8": 50, "CD19": 0, "CD22": 0, "MPO": 0, "CD34": 5,
             "sCD3": 10}
MYELOID_MARKERS = {"MPO": 80, "CD13": 90, "CD33": 95, "CD117": 60, "CD19": 0, "cCD79a": 0, "CD22": 0, "CD10": 0,
                   "cCD3": 0, "CD34": 70}
NEGATIVE_PANEL = ["BCR::ABL1", "KMT2A_rearrangement", "ETV6::RUNX1", "TCF3::PBX1", "iAMP21"]


def day(n: int) -> str:
    return (DX + dt.timedelta(days=n)).isoformat()


def month(n: int, plus_days: int = 0) -> str:
    return (add_months(DX, n) + dt.timedelta(days=plus_days)).isoformat()


def first_line(markers: dict | None = None, end_of_therapy: str | None = None, genetics: dict | None = None,
               karyotype: str = "55,XY,+X,+4,+6,+10,+14,+17,+18,+21,+21[18]/46,XY[2]") -> list[dict]:
    """Diagnosis (B-ALL, CNS1), induction, CR with negative MRD at day 29, consolidation, maintenance."""
    maintenance = {"type": "treatment", "phase": "maintenance", "start": day(120)}
    if end_of_therapy is not None:
        maintenance["end"] = end_of_therapy
    return [
        {"type": "cbc", "date": day(0), "wbc": 12, "anc": 1.0, "platelets": 60, "blasts_pct": 30},
        {"type": "marrow", "date": day(0), "blasts_pct": 85, "timepoint": "diagnosis"},
        {"type": "immunophenotype", "date": day(0), "markers": markers or B_MARKERS},
        {"type": "csf", "date": day(1), "wbc": 1, "rbc": 0, "blasts": False},
        {"type": "treatment", "phase": "induction", "start": day(1), "end": day(28)},
        {"type": "genetics", "date": day(3), **(genetics or {"negative": NEGATIVE_PANEL})},
        {"type": "cytogenetics", "date": day(5), "karyotype": karyotype},
        {"type": "cbc", "date": day(29), "anc": 2.0, "platelets": 180, "blasts_pct": 0},
        {"type": "marrow", "date": day(29), "blasts_pct": 1, "timepoint": "end_of_induction"},
        {"type": "mrd", "date": day(29), "value": 0, "sensitivity": 1e-4, "method": "flow", "sample": "marrow",
         "timepoint": "end_of_induction"},
        {"type": "treatment", "phase": "consolidation", "start": day(30), "end": day(119)},
        maintenance,
    ]


def relapse_marrow(on: str, blasts: float = 60, markers: dict | None = None, csf: dict | None = None,
                   lp: bool = True, treat: bool = True) -> list[dict]:
    found = [
        {"type": "cbc", "date": on, "wbc": 9, "anc": 1.1, "platelets": 70, "blasts_pct": 20},
        {"type": "marrow", "date": on, "blasts_pct": blasts, "timepoint": "relapse"},
    ]
    if markers is not None:
        found.append({"type": "immunophenotype", "date": on, "markers": markers})
    if lp:
        found.append(csf or {"type": "csf", "date": on, "wbc": 1, "rbc": 0, "blasts": False})
    if treat:
        found.append({"type": "treatment", "phase": "salvage", "start": (dt.date.fromisoformat(on)
                                                                         + dt.timedelta(days=3)).isoformat()})
    return found


def case(*findings: dict, birth: str = BIRTH, sex: str = "male", conditions: list[str] | None = None,
         age_years: float | None = None) -> dict:
    patient = {"id": "course", "sex": sex, "conditions": conditions or []}
    patient |= {"age_years": age_years} if age_years is not None else {"birth_date": birth}
    return {"schema": "allcare.case/1", "patient": patient, "diagnosis_date": DX.isoformat(), "findings": list(findings)}


def run(data: dict, as_of: str | None = None):
    return assess(case_from_dict(data), as_of=dt.date.fromisoformat(as_of) if as_of else None)


def relapse_of(result, number: int = 1):
    return next(e for e in result.course.episodes if e.kind == "relapse" and e.number == number)


def rule(episode, name: str):
    return next(c for c in episode.conclusions if c.rule == name)


# Episodes and their work-ups ----------------------------------------------------------------------


def test_a_first_line_course_is_one_initial_episode_with_its_work_up():
    result = run(case(*first_line(end_of_therapy=month(24))))
    [episode] = result.course.episodes
    assert (episode.kind, episode.number, episode.onset) == ("initial", 1, DX)
    assert episode.outcome == "complete_remission" and episode.outcome_date == DX + dt.timedelta(days=29)
    types = {ref.type for ref in episode.workup}
    assert {"marrow", "immunophenotype", "genetics", "cytogenetics", "csf"} <= types
    assert all(ref.date < DX + dt.timedelta(days=29) for ref in episode.workup)  # the response marrow is not work-up


def test_relapses_are_numbered_and_a_relapse_after_hsct_says_so():
    findings = [*first_line(end_of_therapy=month(24)), *relapse_marrow(month(30)),
                {"type": "cbc", "date": month(31, 5), "anc": 2.0, "platelets": 150, "blasts_pct": 0},
                {"type": "marrow", "date": month(31, 5), "blasts_pct": 1},
                {"type": "treatment", "phase": "hsct", "start": month(33), "end": month(33)},
                *relapse_marrow(month(40))]
    result = run(case(*findings))
    relapses = [e for e in result.course.episodes if e.kind == "relapse"]
    assert [(e.number, e.onset) for e in relapses] == [(1, add_months(DX, 30)), (2, add_months(DX, 40))]
    assert relapses[0].outcome == "complete_remission"
    assert relapses[1].after_hsct is True and "hsct" in relapses[1].prior_therapy
    assert relapses[1].risk.bfm is None  # the first-relapse strata do not cover a second relapse
    assert "second or later relapse" in rule(relapses[1], "COURSE.RELAPSE.RISK.BFM").explanation


def test_a_remission_karyotype_never_makes_b_all_nos():
    """A 46,XY[20] from the end-of-induction (remission) marrow says nothing about the leukaemia's ploidy."""
    findings = [f for f in first_line() if f["type"] != "cytogenetics"]
    findings.append({"type": "cytogenetics", "date": day(29), "karyotype": "46,XY[20]"})
    result = run(case(*findings))
    assert result.diagnosis.who_haem5.key is None  # not b_all_nos
    assert result.diagnosis.genetics.ploidy is None
    assert any("ploidy" in m for m in result.diagnosis.who_haem5.missing)
    [monitor] = result.course.monitoring
    assert monitor.reading == "normal_karyotype"


def test_a_negative_bcr_abl1_on_a_tki_is_a_molecular_response_not_a_new_diagnosis():
    findings = first_line(genetics={"fusions": ["BCR::ABL1"], "negative": ["KMT2A_rearrangement"]})
    findings.append({"type": "genetics", "date": day(90), "negative": ["BCR::ABL1"], "source": "RT-qPCR on imatinib"})
    result = run(case(*findings))
    assert result.diagnosis.who_haem5.key == "b_all_bcr_abl1"
    assert result.codes.icd_o_3 == "9812/3"
    assert "ph_positive" in {a.code for a in result.alerts}
    assert "BCR::ABL1" not in result.diagnosis.genetics.conflicting
    [monitor] = result.course.monitoring
    assert monitor.reading == "molecular_response" and monitor.lesions == ["BCR::ABL1"]


def test_a_late_result_of_the_diagnostic_sample_belongs_to_the_work_up():
    """An NGS panel reported three weeks into induction (before the response marrow) is diagnostic."""
    findings = first_line()
    findings.append({"type": "genetics", "date": day(22), "alterations": ["TP53_mutation"]})
    result = run(case(*findings))
    assert "TP53_mutation" in result.diagnosis.genetics.detected
    assert result.course.monitoring == []


def test_a_result_after_the_response_marrow_is_monitoring():
    findings = first_line()
    findings.append({"type": "genetics", "date": day(35), "alterations": ["TP53_mutation"]})
    result = run(case(*findings))
    assert "TP53_mutation" not in result.diagnosis.genetics.detected
    assert result.course.monitoring[0].reading == "new_lesion"


# Re-characterisation at relapse ----------------------------------------------------------------------


def test_cd19_negative_relapse_after_car_t_is_antigen_loss():
    findings = [*first_line(end_of_therapy=month(24)), *relapse_marrow(month(26)),
                {"type": "cbc", "date": month(27, 10), "anc": 2.0, "platelets": 150, "blasts_pct": 0},
                {"type": "marrow", "date": month(27, 10), "blasts_pct": 1},
                {"type": "treatment", "phase": "car_t", "start": month(29), "end": month(29),
                 "agents": ["tisagenlecleucel"]},
                *relapse_marrow(month(34), markers={**B_MARKERS, "CD19": "negative"})]
    result = run(case(*findings))
    second = relapse_of(result, 2)
    assert second.antigen_loss == ["CD19"] and "car_t" in second.prior_therapy
    codes = {a.code: a for a in result.alerts}
    assert "antigen_loss" in codes and "CAR-T" in codes["antigen_loss"].message
    immunotherapy = codes.get("immunotherapy_indication")
    assert immunotherapy is not None and "blinatumomab" not in immunotherapy.message  # CD19 gone
    assert "inotuzumab" in immunotherapy.message  # CD22 still there


def test_a_myeloid_relapse_of_b_all_is_a_lineage_switch_not_a_b_all_relapse():
    findings = [*first_line(end_of_therapy=month(24)),
                {"type": "treatment", "phase": "targeted", "start": month(20), "end": month(21),
                 "agents": ["blinatumomab"]},
                *relapse_marrow(month(22), markers=MYELOID_MARKERS)]
    result = run(case(*findings))
    relapse = relapse_of(result)
    assert (relapse.lineage, relapse.lineage_switch) == ("myeloid", True)
    codes = {a.code: a for a in result.alerts}
    assert codes["lineage_switch"].severity == "critical"
    assert "immunotherapy_indication" not in codes
    assert result.codes.icd_10_cm is None  # not "ALL in relapse"
    assert relapse.risk.bfm is None and relapse.risk.cog is None


def test_a_relapse_without_its_own_immunophenotype_does_not_reuse_the_diagnostic_one():
    result = run(case(*first_line(end_of_therapy=month(24)), *relapse_marrow(month(30))))
    relapse = relapse_of(result)
    assert relapse.lineage is None and relapse.lineage_switch is None
    assert any("immunophenotype at relapse" in m for m in result.missing)
    alert = {a.code: a for a in result.alerts}["immunotherapy_indication"]
    assert "not recorded" in alert.message


def test_new_lesion_at_relapse_is_listed():
    findings = [*first_line(end_of_therapy=month(24)), *relapse_marrow(month(30), markers=B_MARKERS),
                {"type": "genetics", "date": month(30, 2), "alterations": ["TP53_mutation", "CREBBP_mutation"]}]
    relapse = relapse_of(run(case(*findings)))
    assert relapse.new_lesions == ["TP53_mutation", "CREBBP_mutation"]


# Relapse site ---------------------------------------------------------------------------------------


CNS3 = {"type": "csf", "wbc": 40, "rbc": 0, "blasts": True}


@pytest.mark.parametrize(("blasts", "csf", "extra", "site"), [
    (60, {"wbc": 1, "rbc": 0, "blasts": False}, [], "isolated_marrow"),
    (60, CNS3, [], "combined"),
    (1, CNS3, [], "isolated_cns"),
    (1, {"wbc": 0, "rbc": 0, "blasts": False}, [{"site": "testis", "present": True}], "isolated_testicular"),
    (1, {"wbc": 0, "rbc": 0, "blasts": False}, [{"site": "skin", "present": True}], "other_extramedullary"),
    (1, CNS3, [{"site": "testis", "present": True}], "isolated_extramedullary"),
    (8, {"wbc": 0, "rbc": 0, "blasts": False}, [{"site": "testis", "present": True}], "combined"),
])
def test_relapse_site(blasts, csf, extra, site):
    on = month(40)
    relapse = relapse_marrow(on, blasts, markers=B_MARKERS, csf={"type": "csf", "date": on, **csf})
    relapse += [{"type": "extramedullary", "date": on, **e} for e in extra]
    result = run(case(*first_line(end_of_therapy=month(24)), *relapse))
    assert relapse_of(result).site == site


def test_a_marrow_relapse_without_a_lumbar_puncture_cannot_be_called_isolated():
    result = run(case(*first_line(end_of_therapy=month(24)), *relapse_marrow(month(40), markers=B_MARKERS, lp=False)))
    relapse = relapse_of(result)
    assert relapse.site is None
    site = rule(relapse, "COURSE.RELAPSE.SITE")
    assert set(site.value) == {"isolated_marrow", "combined"}
    assert "lumbar puncture at relapse (CSF cell count and cytospin)" in site.missing


def test_marrow_mrd_below_5_percent_keeps_an_extramedullary_relapse_isolated():
    """Sub-microscopic marrow involvement (MRD >= 1e-4) does not make an isolated CNS relapse combined."""
    on = month(40)
    relapse = relapse_marrow(on, 1, markers=B_MARKERS, csf={"type": "csf", "date": on, **CNS3})
    relapse.append({"type": "mrd", "date": on, "percent": 0.5, "method": "pcr", "sensitivity": 1e-5, "sample": "marrow"})
    relapse_episode = relapse_of(run(case(*first_line(end_of_therapy=month(24)), *relapse)))
    assert relapse_episode.site == "isolated_cns"
    assert "sub-microscopic" in rule(relapse_episode, "COURSE.RELAPSE.SITE").explanation


# Relapse timing (I-BFM and COG), every boundary ----------------------------------------------------


@pytest.mark.parametrize(("onset", "end", "ibfm"), [
    (month(18, -1), month(24), "very_early"),  # the day before 18 months from diagnosis
    (month(18), month(24), "early"),  # exactly 18 months: no longer very early; on therapy
    (month(30, -1), month(24), "early"),  # end of therapy + 6 months - 1 day
    (month(30), month(24), "late"),  # end of therapy + 6 months exactly
])
def test_ibfm_timing_boundaries(onset, end, ibfm):
    result = run(case(*first_line(end_of_therapy=end), *relapse_marrow(onset, markers=B_MARKERS)))
    timing = relapse_of(result).timing
    assert timing.ibfm == ibfm
    assert timing.diagnosis_date == DX and timing.end_of_therapy == dt.date.fromisoformat(end)
    explanation = rule(relapse_of(result), "COURSE.RELAPSE.TIMING").explanation
    assert "18 months" in explanation or "6 months" in explanation


def test_timing_without_the_end_of_therapy_is_undetermined():
    result = run(case(*first_line(end_of_therapy=None), *relapse_marrow(month(40), markers=B_MARKERS)))
    relapse = relapse_of(result)
    assert relapse.timing.ibfm is None
    assert "end date of front-line therapy (the last maintenance dose)" in rule(relapse, "COURSE.RELAPSE.TIMING").missing


def test_relapse_within_6_months_of_the_last_block_start_is_early_even_without_its_end():
    """The end of therapy is at or after the last block's start, so a relapse < 6 months after it is early."""
    findings = [f for f in first_line(end_of_therapy=None) if f.get("phase") != "maintenance"]
    findings += [{"type": "treatment", "phase": "delayed_intensification", "start": day(120), "end": month(16, -1)},
                 {"type": "treatment", "phase": "maintenance", "start": month(16)}]
    result = run(case(*findings, *relapse_marrow(month(21), markers=B_MARKERS)))
    assert relapse_of(result).timing.ibfm == "early"


@pytest.mark.parametrize(("onset", "blasts", "csf", "cog"), [
    (month(36, -1), 60, {"wbc": 0, "rbc": 0, "blasts": False}, "early"),
    (month(36), 60, {"wbc": 0, "rbc": 0, "blasts": False}, "late"),
    (month(18, -1), 1, CNS3, "early"),  # isolated extramedullary: 18 months
    (month(18), 1, CNS3, "late"),
])
def test_cog_timing_boundaries(onset, blasts, csf, cog):
    relapse = relapse_marrow(onset, blasts, markers=B_MARKERS, csf={"type": "csf", "date": onset, **csf})
    result = run(case(*first_line(end_of_therapy=month(48)), *relapse))
    assert relapse_of(result).timing.cog == cog


# Relapse risk groups ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("onset", "end", "blasts", "csf", "bfm", "intreall"), [
    (month(40), month(30), 1, CNS3, "S1", "standard"),  # late isolated extramedullary
    (month(20), month(30), 1, CNS3, "S2", "standard"),  # early isolated extramedullary
    (month(12), month(30), 1, CNS3, "S2", "standard"),  # very early isolated extramedullary
    (month(40), month(30), 60, CNS3, "S2", "standard"),  # late combined
    (month(20), month(30), 60, CNS3, "S2", "standard"),  # early combined
    (month(12), month(30), 60, CNS3, "S4", "high"),  # very early combined
    (month(40), month(30), 60, {"wbc": 0, "rbc": 0, "blasts": False}, "S2", "standard"),  # late isolated marrow
    (month(20), month(30), 60, {"wbc": 0, "rbc": 0, "blasts": False}, "S3", "high"),  # early isolated marrow
    (month(12), month(30), 60, {"wbc": 0, "rbc": 0, "blasts": False}, "S4", "high"),  # very early isolated marrow
])
def test_bfm_strategy_group_and_intreall(onset, end, blasts, csf, bfm, intreall):
    relapse = relapse_marrow(onset, blasts, markers=B_MARKERS, csf={"type": "csf", "date": onset, **csf})
    risk = relapse_of(run(case(*first_line(end_of_therapy=end), *relapse))).risk
    assert (risk.bfm, risk.intreall) == (bfm, intreall)


def test_t_lineage_marrow_relapse_is_s4_whatever_the_timing():
    findings = first_line(markers=T_MARKERS, end_of_therapy=month(24),
                          genetics={"negative": ["NOTCH1_mutation"]}, karyotype="46,XY[20]")
    relapse = relapse_of(run(case(*findings, *relapse_marrow(month(60), markers=T_MARKERS))))
    assert (relapse.risk.bfm, relapse.risk.intreall, relapse.risk.cog) == ("S4", "high", "high")


def _late_relapse_with_block1_mrd(mrd: dict | None) -> dict:
    onset = month(40)
    findings = [*first_line(end_of_therapy=month(30)), *relapse_marrow(onset, markers=B_MARKERS)]
    if mrd is not None:
        findings.append({"type": "mrd", "date": month(41, 5), "sample": "marrow", "method": "flow", **mrd})
    return case(*findings)


@pytest.mark.parametrize(("mrd", "group"), [
    ({"percent": 0.05, "sensitivity": 1e-4}, "low"),
    ({"percent": 0.1, "sensitivity": 1e-4}, "intermediate"),  # >= 0.1% exactly
    ({"value": 0.001, "comparator": "<"}, "low"),  # below the 0.1% line whatever the exact value
    ({"value": 0.01, "comparator": "<"}, None),  # "< 1%" straddles the 0.1% line
])
def test_cog_late_relapse_by_end_of_block_1_mrd(mrd, group):
    relapse = relapse_of(run(_late_relapse_with_block1_mrd(mrd)))
    assert relapse.risk.cog == group


def test_an_mrd_months_after_block_1_is_not_the_end_of_block_1_result():
    findings = [*first_line(end_of_therapy=month(30)), *relapse_marrow(month(40), markers=B_MARKERS),
                {"type": "mrd", "date": month(46), "sample": "marrow", "method": "flow", "percent": 0.01,
                 "sensitivity": 1e-4}]
    relapse = relapse_of(run(case(*findings)))
    assert relapse.risk.cog is None
    assert "end-of-block-1 marrow MRD after relapse re-induction" in rule(relapse, "COURSE.RELAPSE.RISK.COG").missing


def test_cog_early_relapse_is_high_and_ph_positive_is_outside_the_cog_groups():
    early = relapse_of(run(case(*first_line(end_of_therapy=month(30)), *relapse_marrow(month(20), markers=B_MARKERS))))
    assert early.risk.cog == "high"
    ph = first_line(end_of_therapy=month(30), genetics={"fusions": ["BCR::ABL1"], "negative": ["KMT2A_rearrangement"]})
    relapse = relapse_of(run(case(*ph, *relapse_marrow(month(20), markers=B_MARKERS))))
    assert relapse.risk.cog is None
    assert "Ph+" in rule(relapse, "COURSE.RELAPSE.RISK.COG").explanation


def test_adult_relapse_is_outside_the_paediatric_strata():
    relapse = relapse_of(run(case(*first_line(end_of_therapy=month(24)), *relapse_marrow(month(40), markers=B_MARKERS),
                                  birth="1990-01-01")))
    assert relapse.risk.bfm is None and relapse.risk.intreall is None and relapse.risk.cog is None


def test_treatment_start_includes_a_prephase_whose_first_days_still_belong_to_the_work_up():
    """One treatment start (prephase included): the presenting WBC is the count before it, and a diagnostic
    marrow taken in the first days of a steroid prephase is still the diagnostic marrow."""
    findings = [
        {"type": "cbc", "date": day(0), "wbc": 60},
        {"type": "treatment", "phase": "prephase", "start": day(1), "end": day(7)},
        {"type": "cbc", "date": day(3), "wbc": 20},
        {"type": "marrow", "date": day(3), "blasts_pct": 80},
        {"type": "immunophenotype", "date": day(3), "markers": B_MARKERS},
        {"type": "treatment", "phase": "induction", "start": day(8)},
    ]
    result = run(case(*findings))
    assert result.diagnosis.disease == "ALL"
    assert result.risk.nci == "high"  # the presenting WBC (60) is the count before the prephase
    assert result.course.episodes[0].treatment_start == DX + dt.timedelta(days=1)
