"""Risk stratification: NCI/Rome, NCCN genetic risk, ELN adult factors, COG-style group, infant flags.

Cases are built from the guideline text (cited in docs/rules.md; choices in docs/decisions.md). The
diagnosis, CNS, status and MRD inputs are built directly from the output models,
so these tests do not depend on the modules that produce them.
"""

from __future__ import annotations

import datetime as dt

import pytest

from allcare.engine.assessment import (
    CnsResult,
    Diagnosis,
    Entity,
    GeneticSummary,
    MrdResult,
    MrdSummary,
    Status,
    TimelinePoint,
)
from allcare.engine.case import case_from_dict
from allcare.engine.course.build import build_course
from allcare.engine.explain import conclude
from allcare.engine.karyotype import parse_karyotype
from allcare.engine.risk import assess_risk
from allcare.engine.rules import DEFAULT_RULES
from allcare.engine.view import CaseView

DX = dt.date(2024, 1, 10)


def day(n: int) -> str:
    """Treatment day n (day 1 = diagnosis and induction start), ISO date."""
    return (DX + dt.timedelta(days=n - 1)).isoformat()


def view(findings=(), age=5.0, conditions=(), sex="male", as_of=None) -> CaseView:
    patient = {"id": "p1", "sex": sex, "conditions": list(conditions)}
    if age is not None:
        patient["age_years"] = age
    case = case_from_dict({"schema": "allcare.case/1", "patient": patient, "diagnosis_date": DX.isoformat(),
                           "findings": list(findings)})
    return CaseView(case, as_of, DEFAULT_RULES)


def cbc(wbc=None, n=1, blasts=None):
    finding = {"type": "cbc", "date": day(n)}
    if wbc is not None:
        finding["wbc"] = wbc
    if blasts is not None:
        finding["blasts_pct"] = blasts
    return finding


def treatment(phase, start, end=None):
    finding = {"type": "treatment", "phase": phase, "start": day(start)}
    if end is not None:
        finding["end"] = day(end)
    return finding


def dx(detected=(), negative=(), lineage="B", disease="ALL", karyotype=None, **genetics) -> Diagnosis:
    return Diagnosis(
        disease=disease, lineage=lineage, karyotype=parse_karyotype(karyotype) if karyotype else None,
        genetics=GeneticSummary(detected=list(detected), negative=list(negative), **genetics),
    )


def mrd(*results) -> MrdSummary:
    return MrdSummary(series=list(results), latest=results[-1] if results else None)


def mrd_result(value, n, sample, timepoint=None, index=50) -> MrdResult:
    status = "negative" if value < DEFAULT_RULES.mrd_negative_below else "positive"
    return MrdResult(index=index, date=dt.date.fromisoformat(day(n)), value=value, sample=sample,
                     timepoint=timepoint, status=status, sensitivity=1e-5)


def point(n: int, status: str) -> TimelinePoint:
    return TimelinePoint(date=dt.date.fromisoformat(day(n)), status=status,
                         conclusion=conclude("status", status, "TEST", "test"))


CNS1 = CnsResult(status="CNS1", testicular=False)
NO_STATUS = Status()
NO_MRD = MrdSummary()


def risk(v, d, cns=CNS1, status=NO_STATUS, mrd_=NO_MRD):
    return assess_risk(v, d, cns, status, mrd_, build_course(v))


def conclusion(r, topic):
    return next(c for c in r.conclusions if c.topic == topic)


# NCI/Rome -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "age, wbc, expected",
    [
        (5.0, 49.9, "standard"),
        (5.0, 50.0, "high"),
        (9.99, 10.0, "standard"),
        (10.0, 10.0, "high"),
        (0.99, 10.0, "infant"),
        (1.0, 10.0, "standard"),
        (29.9, 10.0, "high"),
        (30.0, 10.0, "not_applicable"),
    ],
)
def test_nci_rome_boundaries(age, wbc, expected):
    r = risk(view([cbc(wbc)], age=age), dx())
    assert r.nci == expected
    c = conclusion(r, "risk.nci")
    assert c.rule == "RISK.NCI" and c.source.startswith("NCI/Rome") and c.determined


def test_nci_factors_name_age_and_wbc():
    r = risk(view([cbc(12.4)], age=4.2), dx())
    assert "age 4.2 y (1 to < 10 y)" in r.factors
    assert "presenting WBC 12.4 x10^9/L (< 50)" in r.factors
    assert conclusion(r, "risk.nci").evidence[0].summary == "presenting WBC 12.4 x10^9/L"


@pytest.mark.parametrize(
    "d", [dx(lineage="T"), dx(lineage="B/myeloid", disease="MPAL"), dx(disease="LBL")], ids=["T-ALL", "MPAL", "B-LBL"]
)
def test_nci_not_applicable_outside_b_all(d):
    assert risk(view([cbc(10)]), d).nci == "not_applicable"


@pytest.mark.parametrize("age, expected", [(12.0, "high"), (5.0, None)])
def test_nci_missing_wbc_decided_only_by_age_10_or_more(age, expected):
    r = risk(view([], age=age), dx())
    assert r.nci == expected
    if expected is None:
        assert any("presenting WBC" in m for m in conclusion(r, "risk.nci").missing)


@pytest.mark.parametrize("wbc", [20.0, 50.0, 60.0, {"value": 100, "comparator": ">"}])
def test_nci_missing_age_is_never_decided_by_the_wbc_alone(wbc):
    """Without an age an infant (< 1 y, outside NCI/Rome) or a patient of 30 or more (outside the
    criteria) cannot be ruled out, so even WBC >= 50 leaves the group open, asking for the age."""
    r = risk(view([cbc(wbc)], age=None), dx())
    c = conclusion(r, "risk.nci")
    assert r.nci is None and not c.determined
    assert any("age" in m for m in c.missing)
    if wbc != 20.0:
        assert "infant" in c.explanation and ">= 50" in c.explanation
    assert risk(view([cbc(wbc)], age=5.0), dx()).nci == ("standard" if wbc == 20.0 else "high")


def test_presenting_wbc_is_the_first_diagnostic_count_before_treatment():
    findings = [cbc(20, n=1), treatment("induction", 2), cbc(80, n=3)]
    assert risk(view(findings), dx()).nci == "standard"
    # a count drawn the days before the diagnosis date is used when none is on/after it before treatment
    before = [{"type": "cbc", "date": (DX - dt.timedelta(days=2)).isoformat(), "wbc": 70}, treatment("induction", 1)]
    assert risk(view(before), dx()).nci == "high"


@pytest.mark.parametrize(("first", "second", "expected"), [
    (45.0, 55.0, None), (55.0, 45.0, None),        # two diagnostic counts of one day on both sides of 50
    (45.0, 48.0, "standard"), (52.0, 80.0, "high"),  # same-day counts that agree decide
])
def test_nci_same_day_presenting_counts_that_straddle_the_line_decide_nothing(first, second, expected):
    """Counts of one day have no order: the presenting WBC cannot be the one written first (never guess)."""
    r = risk(view([cbc(first), cbc(second)], age=5.0), dx())
    assert r.nci == expected
    c = conclusion(r, "risk.nci")
    assert c.determined is (expected is not None)
    if expected is None:
        assert any("45" in x for x in c.conflicts) and any("55" in x for x in c.conflicts)


def test_nci_same_day_counts_do_not_matter_when_age_decides():
    assert risk(view([cbc(45.0), cbc(55.0)], age=12.0), dx()).nci == "high"


def test_adult_and_interfant_wbc_lines_with_same_day_counts_that_straddle_them():
    adult = risk(view([cbc(25.0), cbc(35.0), treatment("induction", 1)], age=20.0), dx(negative=ADULT_B_NEG, modal_number=46),
                 status=CR_TIMELINE, mrd_=eoi_mrd())
    assert adult.adult.high_risk is None
    conflicts = conclusion(adult, "risk.adult").conflicts
    assert any("25" in x for x in conflicts) and any("35" in x for x in conflicts)
    infant = risk(view([cbc(250.0), cbc(350.0), treatment("prephase", 1, 7), GOOD_DAY8], age=0.3),
                  dx(detected=["KMT2A_rearrangement"]))
    assert infant.interfant_high_risk is None
    assert conclusion(infant, "risk.interfant_high_risk").conflicts


def test_nci_undetermined_without_lineage():
    r = risk(view([cbc(10)]), Diagnosis(disease="ALL"))
    assert r.nci is None
    assert conclusion(r, "risk.nci").missing == ["lineage (immunophenotype)"]


# NCCN genetic risk --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "d",
    [
        dx(modal_number=55),
        dx(ploidy="high_hyperdiploid", modal_number=58),
        dx(dna_index=1.2),
        dx(["ETV6::RUNX1"]),
        dx(["TCF3::PBX1"]),
        dx(["DUX4_rearrangement"]),
        dx(["DUX4::IGH"]),
        dx(["PAX5_P80R"]),
        dx(expression_subtype="DUX4"),
        dx(["BCR::ABL1"], ["IKZF1_deletion"]),
    ],
    ids=["modal-55", "ploidy-call", "DI-1.2", "ETV6::RUNX1", "TCF3::PBX1", "DUX4-r", "IGH::DUX4-is-DUX4-r",
         "PAX5-P80R", "DUX4-expression", "BCR::ABL1-no-IKZF1-del"],
)
def test_nccn_standard_risk_items(d):
    r = risk(view(), d)
    assert r.genetic == "standard"
    c = conclusion(r, "risk.genetic")
    assert c.rule == "RISK.GENETIC" and c.source.startswith("NCCN")
    assert any("standard-risk genetics" in f for f in r.factors)


@pytest.mark.parametrize(
    "d",
    [
        dx(modal_number=43),
        dx(ploidy="near_haploid", modal_number=27),
        dx(dna_index=0.8),
        dx(["TP53_mutation"]),
        dx(["KMT2A_rearrangement"]),
        dx(["KMT2A::AFF1"]),
        dx(["IGH_rearrangement"]),
        dx(["IGH::IL3"]),
        dx(["TCF3::HLF"]),
        dx(["ZNF384_rearrangement"]),
        dx(["MEF2D_rearrangement"]),
        dx(["MYC_rearrangement"]),
        dx(expression_subtype="BCR::ABL1-like"),
        dx(expression_subtype="Philadelphia-like"),
        Diagnosis(disease="ALL", lineage="B", who_haem5=Entity(key="b_all_bcr_abl1_like", determined=True)),
        dx(["EBF1::PDGFRB"]),
        dx(expression_subtype="PAX5alt"),
        dx(["PAX5alt"]),
        dx(ploidy="hypodiploid", dna_index=0.78),
        dx(["PAX5::ETV6"]),
        dx(["iAMP21"]),
        dx(["IKZF1_deletion"], ["BCR::ABL1"]),
        dx(complex_karyotype=True),
        dx(karyotype="46,XX,t(4;11)(q21;q23)[20]"),
        dx(karyotype="45,XX,del(1)(p22),add(3)(q21),del(6)(q21),del(9)(p21),-13,t(8;14)(q24;q32)[20]"),
    ],
    ids=["modal-43", "near-haploid", "DI-0.8", "TP53", "KMT2A-r", "KMT2A::AFF1", "IGH-r", "IGH::IL3", "HLF-r",
         "ZNF384-r", "MEF2D-r", "MYC-r", "Ph-like-expression", "Philadelphia-like", "Ph-like-entity", "Ph-like-fusion", "PAX5alt",
         "PAX5alt-lesion", "hypodiploid-by-DI", "PAX5-fusion", "iAMP21",
         "IKZF1-deletion-Ph-neg", "complex-flag", "t(4;11)-karyotype",
         "complex-karyotype"],
)
def test_nccn_poor_risk_items(d):
    r = risk(view(), d)
    assert r.genetic == "poor"
    assert any("poor-risk genetics" in f for f in r.factors)


@pytest.mark.parametrize(
    "negative, extra, expected",
    [
        (["ERG_deletion"], [], "poor"),      # IKZF1-plus: IKZF1 + CDKN2A deleted, ERG not deleted
        ([], ["ERG_deletion"], "standard"),  # ERG deletion: not IKZF1-plus
        ([], [], None),                      # ERG not tested: IKZF1-plus undeterminable
    ],
    ids=["ERG-negative", "ERG-deleted", "ERG-untested"],
)
def test_ikzf1_plus_in_bcr_abl1(negative, extra, expected):
    d = dx(["BCR::ABL1", "IKZF1_deletion", "CDKN2A_deletion", *extra], negative)
    r = risk(view(), d)
    assert r.genetic == expected
    c = conclusion(r, "risk.genetic")
    if expected is None:
        assert not c.determined and any("ERG" in m for m in c.missing)
    elif expected == "poor":
        assert "IKZF1-plus" in c.explanation


def test_ikzf1_deletion_without_partner_deletions_is_not_ikzf1_plus():
    negative = ["CDKN2A_deletion", "CDKN2B_deletion", "PAX5_deletion", "PAR1_deletion"]
    assert risk(view(), dx(["BCR::ABL1", "IKZF1_deletion"], negative)).genetic == "standard"


def test_poor_beats_standard():
    r = risk(view(), dx(["ETV6::RUNX1", "TP53_mutation"]))
    assert r.genetic == "poor"
    assert "outweighs standard-risk ETV6::RUNX1" in conclusion(r, "risk.genetic").explanation


@pytest.mark.parametrize(
    "d", [dx(["BCR::ABL1"], ["IKZF1_deletion"]), dx(negative=["IKZF1_deletion"], karyotype="46,XY,t(9;22)(q34;q11.2)[20]")],
    ids=["BCR::ABL1-test", "t(9;22)-karyotype"],
)
def test_bcr_abl1_with_antecedent_cml_is_poor(d):
    r = risk(view(conditions=["antecedent_cml"]), d)
    assert r.genetic == "poor" and "antecedent CML" in conclusion(r, "risk.genetic").explanation
    assert risk(view(), d).genetic == "standard"


def test_ikzf1_deletion_with_bcr_abl1_untested_is_undecided():
    r = risk(view(), dx(["IKZF1_deletion"], ["CDKN2A_deletion", "CDKN2B_deletion", "PAX5_deletion", "PAR1_deletion"]))
    assert r.genetic is None
    assert any("BCR::ABL1" in m for m in conclusion(r, "risk.genetic").missing)


def test_nothing_decisive_lists_the_missing_tests():
    r = risk(view(), dx())
    c = conclusion(r, "risk.genetic")
    assert r.genetic is None and not c.determined
    for test in ("BCR::ABL1 (FISH or RT-PCR)", "ETV6::RUNX1 (FISH or RT-PCR)", "KMT2A rearrangement (FISH break-apart)",
                 "iAMP21 (RUNX1 FISH)", "TP53 mutation", "karyotype or DNA index (ploidy)"):
        assert test in c.missing


def test_masked_hypodiploidy_assigns_neither_ploidy_group():
    r = risk(view(), dx(modal_number=62, masked_hypodiploidy_possible=True))
    assert r.genetic is None
    assert any("doubled hypodiploid clone" in m for m in conclusion(r, "risk.genetic").missing)


def test_modal_number_and_dna_index_disagreeing_on_hypodiploidy_call_nothing():
    r = risk(view(), dx(modal_number=45, dna_index=0.78))
    assert r.genetic is None
    assert "karyotype or DNA index (ploidy)" in conclusion(r, "risk.genetic").missing


def test_high_hyperdiploid_karyotype_gains_are_not_a_complex_karyotype():
    d = dx(karyotype="55,XY,+X,+4,+6,+10,+14,+17,+18,+21,+21[20]")
    assert d.karyotype.abnormality_count >= 5
    assert risk(view(), d).genetic == "standard"


@pytest.mark.parametrize(
    "detected, negative, expected",
    [
        (["NOTCH1_mutation"], ["NRAS_mutation", "KRAS_mutation", "PTEN_mutation"], "standard"),
        (["FBXW7_mutation"], ["RAS_mutation", "PTEN_mutation"], "standard"),
        (["NOTCH1_mutation", "NRAS_mutation"], [], "poor"),
        (["PTEN_mutation"], [], "poor"),
        ([], ["NOTCH1_mutation", "FBXW7_mutation"], "poor"),
        (["NOTCH1_mutation"], [], None),
        ([], [], None),
    ],
    ids=["NOTCH1-no-RAS-PTEN", "FBXW7", "NOTCH1+NRAS", "PTEN", "NOTCH1-FBXW7-wild-type", "RAS-untested", "nothing"],
)
def test_nccn_t_all(detected, negative, expected):
    r = risk(view(), dx(lineage="T", detected=detected, negative=negative))
    assert r.genetic == expected
    if expected is None:
        assert conclusion(r, "risk.genetic").missing


def test_nccn_not_applicable_to_mpal():
    r = risk(view(), dx(lineage="B/myeloid", disease="MPAL", detected=["TP53_mutation"]))
    assert r.genetic is None
    assert conclusion(r, "risk.genetic").value == "not_applicable"


# Adult ELN 2024 -----------------------------------------------------------------------------
ADULT_B_NEG = ["BCR::ABL1", "KMT2A_rearrangement"]
CR_TIMELINE = Status(timeline=[point(29, "complete_remission")])


def adult_case(wbc, age=20.0, extra=()):
    return view([cbc(wbc), treatment("induction", 1), *extra], age=age)


def eoi_mrd(value=0.00001):
    return mrd(mrd_result(value, 29, "marrow", "end_of_induction"))


@pytest.mark.parametrize(
    "lineage, wbc, adverse",
    [("B", 30.0, False), ("B", 30.1, True), ("T", 100.0, False), ("T", 100.1, True)],
)
def test_adult_wbc_by_lineage(lineage, wbc, adverse):
    genetics = dict(negative=ADULT_B_NEG, modal_number=46) if lineage == "B" else dict(
        detected=["NOTCH1_mutation"], negative=["NRAS_mutation", "KRAS_mutation", "PTEN_mutation"])
    r = risk(adult_case(wbc), dx(lineage=lineage, **genetics), status=CR_TIMELINE, mrd_=eoi_mrd())
    assert r.adult.applicable
    assert r.adult.high_risk is adverse
    assert any("presenting WBC" in f for f in r.adult.adverse_factors) is adverse
    assert conclusion(r, "risk.adult").source.startswith("ELN 2024")


@pytest.mark.parametrize("age, adverse", [(34.9, False), (35.0, True)])
def test_adult_age_35(age, adverse):
    r = risk(adult_case(10, age=age), dx(negative=ADULT_B_NEG, modal_number=46), status=CR_TIMELINE, mrd_=eoi_mrd())
    assert r.adult.high_risk is adverse


@pytest.mark.parametrize("wbc, adverse", [(9.9, False), (10.0, True)])  # 10% blasts: 0.99 vs 1.0 x10^9/L
def test_adult_poor_prednisone_response(wbc, adverse):
    findings = [cbc(10, n=1), treatment("prephase", 1, 7), cbc(wbc, n=8, blasts=10), treatment("induction", 8)]
    r = risk(view(findings, age=20), dx(negative=ADULT_B_NEG, modal_number=46),
             status=Status(timeline=[point(36, "complete_remission")]), mrd_=mrd(mrd_result(0.00001, 36, "marrow", "eoi")))
    assert r.adult.high_risk is adverse
    assert any("poor prednisone response" in f for f in r.adult.adverse_factors) is adverse


def test_adult_late_cr_and_mrd_after_induction():
    findings = [cbc(10), treatment("induction", 1, 28), treatment("consolidation", 30)]
    late = Status(timeline=[point(29, "cr_incomplete_recovery"), point(60, "complete_remission")])
    r = risk(view(findings, age=25), dx(negative=ADULT_B_NEG, modal_number=46), status=late, mrd_=eoi_mrd(0.0001))
    assert r.adult.high_risk is True
    assert any(f.startswith("late CR") for f in r.adult.adverse_factors)
    assert any("after induction" in f for f in r.adult.adverse_factors)


def test_adult_undecided_without_mrd_and_adverse_genetics():
    d = dx(negative=ADULT_B_NEG, modal_number=46)
    r = risk(adult_case(10), d)
    assert r.adult.high_risk is None
    assert "MRD after induction" in conclusion(r, "risk.adult").missing
    r = risk(adult_case(10), dx(["BCR::ABL1"]))
    assert r.adult.high_risk is True and "BCR::ABL1" in r.adult.adverse_factors


def test_adult_immunophenotype_factors():
    findings = [{"type": "immunophenotype", "date": day(1), "markers": {"CD19": 95, "CD20": 40}}]
    d = dx(negative=ADULT_B_NEG, modal_number=46)
    r = risk(adult_case(10, extra=findings), d, status=CR_TIMELINE, mrd_=eoi_mrd())
    assert r.adult.high_risk is True and any("CD20" in f for f in r.adult.adverse_factors)
    etp = Diagnosis(disease="ALL", lineage="T", etp="etp", genetics=GeneticSummary(detected=["NOTCH1_mutation"]))
    assert "ETP" in risk(adult_case(10), etp).adult.adverse_factors


def test_adult_factors_not_applied_to_children():
    r = risk(view([cbc(80)], age=17.9), dx(["BCR::ABL1"]))
    assert not r.adult.applicable and r.adult.high_risk is None


# COG-style group (PDQ Table 1) --------------------------------------------------------------
NEG_UNFAV = ["KMT2A_rearrangement", "iAMP21", "BCR::ABL1"]
FAV = dict(detected=["ETV6::RUNX1"], negative=NEG_UNFAV, modal_number=46)
NOT_FAV = dict(negative=[*NEG_UNFAV, "ETV6::RUNX1"], karyotype="46,XY[20]", modal_number=46)
SR, HR_YOUNG, HR_OLD = (5.0, 10.0), (12.99, 10.0), (13.0, 10.0)


def cog_case(age_wbc, genetics, d8=None, d29=None, cns=CNS1, timeline=("complete_remission",)):
    age, wbc = age_wbc
    results = []
    if d8 is not None:
        results.append(mrd_result(d8, 8, "blood", "day8", index=3))
    if d29 is not None:
        results.append(mrd_result(d29, 29, "marrow", "day29", index=4))
    status = Status(timeline=[point(29, s) for s in timeline])
    return risk(view([cbc(wbc), treatment("induction", 1)], age=age), dx(**genetics), cns, status, mrd(*results))


@pytest.mark.parametrize(
    "age_wbc, genetics, d8, d29, column, group",
    [
        (SR, FAV, 0.00009, 0.00009, 1, "low"),
        (SR, FAV, 0.0001, 0.00009, 2, "average"),
        (SR, NOT_FAV, 0.0099, 0.00009, 3, "average"),
        (SR, FAV, None, 0.0001, 4, "high"),
        (SR, NOT_FAV, 0.01, 0.00009, 5, "high"),
        (HR_YOUNG, NOT_FAV, None, 0.00009, 6, "high"),
        (SR, NOT_FAV, None, 0.0001, 7, "very_high"),
        (HR_YOUNG, FAV, None, 0.0001, 8, "very_high"),
        (HR_OLD, NOT_FAV, None, 0.00009, 9, "very_high"),
    ],
)
def test_cog_columns_1_to_9(age_wbc, genetics, d8, d29, column, group):
    r = cog_case(age_wbc, genetics, d8, d29)
    assert (r.cog.column, r.cog.group) == (column, group)
    assert r.cog.label.startswith("COG-style group (PDQ Table 1")
    c = conclusion(r, "risk.cog")
    assert c.rule == "RISK.COG" and c.source.startswith("COG") and c.determined
    assert f"COG-style column {column}: {group.replace('_', ' ')} (inferred from PDQ Table 1)" in r.factors


def test_cog_hr_by_wbc_and_age_split():
    assert cog_case((5.0, 50.0), NOT_FAV, None, 0.00009).cog.column == 6


@pytest.mark.parametrize(
    "change",
    ["KMT2A", "iAMP21", "hypodiploid", "low-DNA-index", "CNS3", "testicular", "induction-failure"],
)
def test_cog_column_10_unfavourable_features_decide_without_mrd(change):
    genetics = dict(FAV)
    cns, timeline = CNS1, ("complete_remission",)
    if change == "KMT2A":
        genetics = dict(FAV, detected=["ETV6::RUNX1", "KMT2A_rearrangement"], negative=["iAMP21", "BCR::ABL1"])
    elif change == "iAMP21":
        genetics = dict(FAV, detected=["iAMP21"], negative=["KMT2A_rearrangement", "BCR::ABL1"])
    elif change == "hypodiploid":
        genetics = dict(FAV, modal_number=43)
    elif change == "low-DNA-index":
        genetics = dict(FAV, modal_number=None, dna_index=0.8)
    elif change == "CNS3":
        cns = CnsResult(status="CNS3a", testicular=False)
    elif change == "testicular":
        cns = CnsResult(status="CNS1", testicular=True)
    else:
        timeline = ("refractory",)
    r = cog_case(SR, genetics, None, None, cns=cns, timeline=timeline)
    assert (r.cog.column, r.cog.group) == (10, "very_high")


def test_cog_missing_mrd_is_named():
    r = cog_case(SR, FAV, None, None)
    c = conclusion(r, "risk.cog")
    assert r.cog.group is None and not c.determined
    assert any("day-29 marrow MRD" in m for m in c.missing)
    r = cog_case(SR, FAV, None, 0.00009)
    assert r.cog.group is None and "day-8 blood MRD" in conclusion(r, "risk.cog").missing


def test_cog_mrd_found_by_days_after_induction_start_when_unlabelled():
    results = mrd(mrd_result(0.00001, 8, "blood"), mrd_result(0.00001, 30, "marrow"))
    status = Status(timeline=[point(30, "complete_remission")])
    r = risk(view([cbc(10), treatment("induction", 1)]), dx(**FAV), CNS1, status, results)
    assert r.cog.column == 1


def test_cog_trisomies_4_and_10_in_one_clone_are_favourable():
    genetics = dict(negative=[*NEG_UNFAV, "ETV6::RUNX1"], karyotype="54,XY,+4,+6,+10,+14,+17,+18,+21,+21[20]")
    assert cog_case(SR, genetics, 0.00009, 0.00009).cog.column == 1


def test_cog_favourable_genetics_unknown_is_missing():
    genetics = dict(negative=NEG_UNFAV, modal_number=46)
    r = cog_case(SR, genetics, 0.00009, 0.0001)
    assert r.cog.group is None
    assert any("ETV6::RUNX1" in m for m in conclusion(r, "risk.cog").missing)


@pytest.mark.parametrize(
    "age, d, why",
    [
        (5.0, dx(detected=["BCR::ABL1"], negative=["KMT2A_rearrangement", "iAMP21"], modal_number=46), "BCR::ABL1"),
        (5.0, dx(lineage="T", negative=NEG_UNFAV, modal_number=46), "B-ALL only"),
        (0.5, dx(**FAV), "infant"),
    ],
    ids=["BCR::ABL1", "T-ALL", "infant"],
)
def test_cog_not_assigned(age, d, why):
    r = risk(view([cbc(10), treatment("induction", 1)], age=age), d)
    assert r.cog.group is None and r.cog.column is None
    assert why in conclusion(r, "risk.cog").explanation


# Infant flags and Interfant-99 --------------------------------------------------------------
GOOD_DAY8 = cbc(5, n=8, blasts=0)


@pytest.mark.parametrize(
    "age, wbc, detected, day8, expected",
    [
        (0.49, 300.0, ["KMT2A_rearrangement"], GOOD_DAY8, True),
        (0.49, 299.9, ["KMT2A_rearrangement"], GOOD_DAY8, False),
        (0.49, 299.9, ["KMT2A::AFF1"], cbc(20, n=8, blasts=5), True),   # 1.0 x10^9/L blasts on day 8
        (0.49, 299.9, ["KMT2A_rearrangement"], cbc(19.8, n=8, blasts=5), False),  # 0.99
        (0.5, 400.0, ["KMT2A_rearrangement"], GOOD_DAY8, False),
        (0.3, 400.0, [], GOOD_DAY8, None),
        (0.49, 299.9, ["KMT2A_rearrangement"], None, None),
        (4.0, 400.0, ["KMT2A_rearrangement"], GOOD_DAY8, False),
    ],
    ids=["WBC-300", "WBC-299.9", "poor-pred-1.0", "pred-0.99", "age-0.5", "KMT2A-untested", "no-day8", "not-infant"],
)
def test_interfant_high_risk(age, wbc, detected, day8, expected):
    findings = [cbc(wbc), treatment("prephase", 1, 7), *( [day8] if day8 else [])]
    r = risk(view(findings, age=age), dx(detected=detected))
    assert r.interfant_high_risk is expected
    c = conclusion(r, "risk.interfant_high_risk")
    assert c.rule == "RISK.INTERFANT" and c.source.startswith("Interfant-99")
    assert c.determined is (expected is not None)
    assert r.infant is (age < 1)


@pytest.mark.parametrize("order", ["good first", "poor first"])
def test_same_day_day8_counts_on_both_sides_of_the_prednisone_line_decide_no_response(order):
    """Day-8 counts of one day carry no order: 0.5 and 1.5 x10^9/L blood blasts leave the response open."""
    day8 = [cbc(10, n=8, blasts=5), cbc(30, n=8, blasts=5)]
    findings = [cbc(250), treatment("prephase", 1, 7), *(day8 if order == "good first" else day8[::-1])]
    r = risk(view(findings, age=0.3), dx(detected=["KMT2A_rearrangement"]))
    assert r.interfant_high_risk is None
    assert any("disagree" in m for m in conclusion(r, "risk.interfant_high_risk").missing)


def test_down_syndrome_flag():
    r = risk(view([cbc(10)], conditions=["down_syndrome"]), dx(["ETV6::RUNX1"]))
    assert r.down_syndrome is True
    assert "Down syndrome (constitutional trisomy 21)" in r.factors
    assert risk(view([cbc(10)]), dx()).down_syndrome is False


def test_every_output_has_a_conclusion_with_rule_and_source():
    r = risk(view([cbc(10)]), dx(["ETV6::RUNX1"]))
    rules = {c.rule for c in r.conclusions}
    assert {"RISK.NCI", "RISK.GENETIC", "RISK.ADULT", "RISK.COG", "RISK.INTERFANT"} <= rules
    assert all(c.source for c in r.conclusions)


def test_conflicting_lesion_report_decides_nothing():
    r = risk(view(), dx(conflicting=["TP53_mutation"]))
    c = conclusion(r, "risk.genetic")
    assert r.genetic is None and "reported both found and not found" in c.explanation


def test_cog_not_evaluable_day29_mrd_is_named():
    not_evaluable = MrdResult(index=4, date=dt.date.fromisoformat(day(29)), value=0.0, sample="marrow",
                              timepoint="day29", status="not_evaluable", sensitivity=1e-3)
    status = Status(timeline=[point(29, "complete_remission")])
    r = risk(view([cbc(10), treatment("induction", 1)]), dx(**FAV), CNS1, status, mrd(not_evaluable))
    assert r.cog.group is None
    assert any(m.startswith("evaluable day-29 marrow MRD") for m in conclusion(r, "risk.cog").missing)


def test_genetic_conclusion_cites_the_genetics_finding():
    v = view([{"type": "genetics", "date": day(1), "fusions": ["ETV6::RUNX1"], "negative": ["BCR::ABL1"]}])
    c = conclusion(risk(v, dx(["ETV6::RUNX1"], ["BCR::ABL1"])), "risk.genetic")
    assert [(e.index, e.type, e.summary) for e in c.evidence] == [(0, "genetics", "ETV6::RUNX1 detected")]


@pytest.mark.parametrize("stage, adverse", [("pro_b", True), ("common_b", False)])
def test_adult_pro_b_is_adverse(stage, adverse):
    d = Diagnosis(disease="ALL", lineage="B", b_stage=stage,
                  genetics=GeneticSummary(negative=ADULT_B_NEG, modal_number=46))
    r = risk(adult_case(10), d, status=CR_TIMELINE, mrd_=eoi_mrd())
    assert r.adult.high_risk is adverse
    assert ("pro-B immunophenotype" in r.adult.adverse_factors) is adverse


def test_cog_names_every_missing_input_at_once():
    r = cog_case(SR, dict(modal_number=46), None, None)
    missing = conclusion(r, "risk.cog").missing
    for item in ("KMT2A rearrangement (FISH break-apart)", "iAMP21 (RUNX1 FISH)", "BCR::ABL1 (FISH or RT-PCR)",
                 "day-29 marrow MRD (end of induction)", "ETV6::RUNX1 (FISH or RT-PCR)"):
        assert item in missing


# Contradictory genetics -----------------------------------------------------------------------
def _assessed_genetics(genetics, karyotype="46,XY[20]"):
    from allcare.engine import assess
    findings = [cbc(12), {"type": "marrow", "date": day(1), "blasts_pct": 90, "method": "morphology"},
                {"type": "immunophenotype", "date": day(1), "sample": "marrow",
                 "markers": {"CD19": 98, "CD10": 92, "cCD79a": 95, "CD22": 88, "TdT": 81, "cCD3": 0, "MPO": 0}},
                {"type": "cytogenetics", "date": day(1), "karyotype": karyotype},
                *({"type": "genetics", "date": day(1), **g} for g in genetics)]
    result = assess(view(findings).case)
    return result.risk.genetic, conclusion(result.risk, "risk.genetic")


@pytest.mark.parametrize("genetics, karyotype", [
    # ETV6::RUNX1 found, KMT2A reported found by one test and not found by another (one finding or two)
    ([{"fusions": ["ETV6::RUNX1", "KMT2A::AFF1"], "negative": ["BCR::ABL1", "KMT2A_rearrangement", "iAMP21"]}], "46,XY[20]"),
    ([{"fusions": ["ETV6::RUNX1", "KMT2A::AFF1"], "negative": ["BCR::ABL1", "iAMP21"]},
      {"negative": ["KMT2A_rearrangement"]}], "46,XY[20]"),
    # high hyperdiploid with a BCR::ABL1 result both ways
    ([{"fusions": ["BCR::ABL1"], "negative": ["BCR::ABL1", "KMT2A_rearrangement", "iAMP21"]}],
     "55,XY,+4,+6,+10,+14,+17,+18,+21,+21,+X[20]"),
], ids=["kmt2a-one-finding", "kmt2a-two-findings", "bcr-abl1-hyperdiploid"])
def test_genetic_risk_contradictory_lesion_blocks_a_standard_call(genetics, karyotype):
    """A lesion that would make the group poor, reported both found and not found, leaves the NCCN group
    open: it names the contradiction instead of calling the case standard risk on its other results."""
    value, c = _assessed_genetics(genetics, karyotype)
    assert value is None and not c.determined
    assert c.conflicts and any("both found and not found" in x for x in c.conflicts)
    assert c.missing


def test_genetic_risk_poor_lesion_outweighs_a_contradiction_elsewhere():
    value, c = _assessed_genetics([{"fusions": ["KMT2A::AFF1", "BCR::ABL1"], "negative": ["BCR::ABL1", "iAMP21"]}])
    assert value == "poor" and c.determined


# Steroid pre-treatment before the diagnosis date ------------------------------------------------
def _before_dx(days: int) -> str:
    return (DX - dt.timedelta(days=days)).isoformat()


def test_presenting_wbc_is_never_a_count_drawn_after_steroids_started_before_the_diagnosis():
    """Steroids started before the diagnostic marrow lower the WBC: the presenting WBC is the last count
    before they started (COG reads the NCI group on the pre-steroid count); a count drawn on steroids is
    never read as presenting, so without a pre-steroid count the group stays open."""
    steroid = {"type": "treatment", "phase": "prephase", "start": _before_dx(5), "end": _before_dx(1),
               "agents": ["prednisone"]}
    pre = {"type": "cbc", "date": _before_dx(6), "wbc": 60}
    on_steroid = {"type": "cbc", "date": _before_dx(2), "wbc": 20}
    assert risk(view([steroid, pre, on_steroid]), dx()).nci == "high"
    r = risk(view([steroid, on_steroid]), dx())
    assert r.nci is None
    assert any("presenting WBC" in m for m in conclusion(r, "risk.nci").missing)
    # a count on the day the steroids start is taken as drawn before the first dose
    same_day = {"type": "cbc", "date": _before_dx(5), "wbc": 55}
    assert risk(view([steroid, same_day, on_steroid]), dx()).nci == "high"


def test_presenting_wbc_without_treatment_records_is_a_count_of_the_diagnostic_work_up():
    """Without a recorded treatment start, a count after the first response marrow or beyond the
    diagnostic window (diagnostic_window_days) is not the presenting WBC: a remission count or a
    relapse count two years on never stratifies the diagnosis."""
    remission = [{"type": "marrow", "date": day(29), "blasts_pct": 1, "method": "morphology"}, cbc(5, n=29)]
    r = risk(view(remission), dx())
    assert r.nci is None and any("presenting WBC" in m for m in conclusion(r, "risk.nci").missing)
    assert risk(view([cbc(80, n=2 * 365)]), dx()).nci is None
    # a diagnostic count of the first days still counts, before a later response marrow
    assert risk(view([cbc(60, n=3), *remission]), dx()).nci == "high"
