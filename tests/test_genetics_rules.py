"""Genetics and karyotype rules of issue 8, through ``assess``.

Sources: decisions.md "Masked hypodiploidy" (any clone of 24-31 or 32-39 chromosomes defines
hypodiploidy in whatever order the clones are written; paired changes flag a doubled clone; Safavi &
Paulsson, Blood 2017); ISCN 2020 (nuc ish nomenclature: con = fused signals, sep = split break-apart);
iAMP21 by FISH (>= 5 RUNX1 signals, >= 3 extra on one chromosome 21; Harrison et al.); Holmfeldt et al.,
Nat Genet 2013 (TP53 in low-hypodiploid ALL, often germline); ABL-class fusions (Cario et al. 2020).
"""

from __future__ import annotations

import datetime as dt

import pytest

from allcare.engine import assess, case_from_dict
from allcare.engine.rules import DEFAULT_RULES

DX = dt.date(2024, 3, 1)
B_MARKERS = {"CD19": 95, "CD10": 90, "cCD79a": 92, "CD22": 80, "TdT": 85, "CD34": 70, "cCD3": 0, "MPO": 0,
             "sIg": "negative"}
PANEL = ["BCR::ABL1", "KMT2A_rearrangement", "ETV6::RUNX1", "TCF3::PBX1", "iAMP21"]


def day(n: int) -> str:
    return (DX + dt.timedelta(days=n)).isoformat()


def b_all(*extra: dict, conditions: list[str] | None = None) -> dict:
    return {"schema": "allcare.case/1",
            "patient": {"id": "gen", "age_years": 7, "sex": "female", "conditions": conditions or []},
            "diagnosis_date": DX.isoformat(), "findings": [
                {"type": "cbc", "date": day(0), "wbc": 10},
                {"type": "marrow", "date": day(0), "blasts_pct": 85},
                {"type": "immunophenotype", "date": day(0), "markers": B_MARKERS},
                *extra]}


def karyotype(text: str) -> dict:
    return {"type": "cytogenetics", "date": day(2), "karyotype": text}


def lesions_tested(*negative: str, found: tuple[str, ...] = ()) -> dict:
    return {"type": "genetics", "date": day(2), "negative": list(negative), "alterations": list(found)}


def run(data: dict):
    return assess(case_from_dict(data))


# Masked hypodiploidy, every clone order ------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "28,X,+10,+14,+18,+21,+21[4]/56,XX,+10,+10,+14,+14,+18,+18,+21,+21,+21,+21[16]",
    "56,XX,+10,+10,+14,+14,+18,+18,+21,+21,+21,+21[16]/28,X,+10,+14,+18,+21,+21[4]",
])
def test_near_haploid_clone_beside_its_doubled_copy_is_hypodiploidy_in_either_order(text):
    result = run(b_all(karyotype(text), lesions_tested(*PANEL)))
    assert result.diagnosis.genetics.ploidy == "near_haploid"
    assert result.diagnosis.who_haem5.key == "b_all_hypodiploidy"
    assert result.diagnosis.icc_2022.key == "icc_b_all_near_haploid"
    assert result.risk.genetic == "poor"


@pytest.mark.parametrize("text", [
    "36,XX,-2,-3,-4,-7,-12,-13,-15,-16,-17,-20[5]/72,XXXX,-2,-2,-3,-3,-4,-4,-7,-7,-12,-12,-13,-13,-15,-15,-16,-16,"
    "-17,-17,-20,-20[15]",
    "72,XXXX,-2,-2,-3,-3,-4,-4,-7,-7,-12,-12,-13,-13,-15,-15,-16,-16,-17,-17,-20,-20[15]/36,XX,-2,-3,-4,-7,-12,-13,"
    "-15,-16,-17,-20[5]",
])
def test_low_hypodiploid_clone_beside_its_doubled_copy_is_hypodiploidy_in_either_order(text):
    result = run(b_all(karyotype(text), lesions_tested(*PANEL)))
    assert result.diagnosis.genetics.ploidy == "low_hypodiploid"
    assert result.diagnosis.icc_2022.key == "icc_b_all_low_hypodiploid"


def test_a_doubled_near_haploid_clone_alone_is_possible_masked_hypodiploidy():
    """52 chromosomes with only tetrasomies (no trisomies) in the hyperdiploid range: not called hyperdiploid."""
    result = run(b_all(karyotype("52,XX,+10,+10,+14,+14,+21,+21[20]"), lesions_tested(*PANEL)))
    assert result.diagnosis.genetics.masked_hypodiploidy_possible is True
    assert result.diagnosis.who_haem5.key != "b_all_high_hyperdiploidy"
    assert "SNP array / DNA index / flow ploidy to exclude a doubled hypodiploid clone" in result.missing


def test_classic_high_hyperdiploidy_with_trisomies_is_not_flagged():
    result = run(b_all(karyotype("55,XX,+X,+4,+6,+10,+14,+17,+18,+21,+21[20]"), lesions_tested(*PANEL)))
    assert result.diagnosis.genetics.masked_hypodiploidy_possible is False
    assert result.diagnosis.who_haem5.key == "b_all_high_hyperdiploidy"


# 11q23: suggested, not shown ----------------------------------------------------------------------


@pytest.mark.parametrize("change", ["del(11)(q23)", "add(11)(q23)"])
def test_11q23_deletion_or_addition_with_negative_kmt2a_fish_is_not_kmt2a(change):
    result = run(b_all(karyotype(f"46,XX,{change}[12]/46,XX[8]"), lesions_tested(*PANEL)))
    assert result.diagnosis.who_haem5.key == "b_all_nos"
    assert result.diagnosis.genetics.conflicting == []
    card = next(c for c in result.diagnosis.conclusions if c.rule == "DX.GENETICS.SUGGESTED")
    assert card.determined and "does not show it" in card.explanation


def test_11q23_deletion_without_kmt2a_fish_asks_for_it():
    result = run(b_all(karyotype("46,XX,del(11)(q23)[12]/46,XX[8]"),
                       lesions_tested("BCR::ABL1", "ETV6::RUNX1", "TCF3::PBX1", "iAMP21")))
    assert result.diagnosis.who_haem5.key is None
    assert "KMT2A rearrangement (FISH break-apart)" in result.diagnosis.who_haem5.missing
    assert "KMT2A_rearrangement" not in result.diagnosis.genetics.detected


def test_a_balanced_11q23_translocation_still_is_kmt2a():
    result = run(b_all(karyotype("46,XX,t(4;11)(q21;q23)[20]")))
    assert result.diagnosis.who_haem5.key == "b_all_kmt2a"


# FISH in the ISCN string --------------------------------------------------------------------------


def test_nuc_ish_runx1_amplification_is_iamp21():
    text = "47,XX,+X,add(21)(q22)[12]/46,XX[8].nuc ish(RUNX1x5)[160/200]"
    result = run(b_all(karyotype(text), lesions_tested("BCR::ABL1", "KMT2A_rearrangement", "ETV6::RUNX1", "TCF3::PBX1")))
    assert "iAMP21" in result.diagnosis.genetics.detected
    assert result.diagnosis.who_haem5.key == "b_all_iamp21"


def test_extra_runx1_copies_from_whole_chromosomes_21_are_not_iamp21():
    text = "57,XX,+X,+4,+6,+10,+14,+17,+18,+21,+21,+21,+21[20].nuc ish(RUNX1x6)[180/200]"
    result = run(b_all(karyotype(text), lesions_tested("BCR::ABL1", "KMT2A_rearrangement", "ETV6::RUNX1", "TCF3::PBX1")))
    assert "iAMP21" not in result.diagnosis.genetics.detected
    assert "iAMP21" in result.diagnosis.genetics.negative


def test_iamp21_fish_lines_are_read_from_the_rule_set():
    """A centre's rule set moves both iAMP21 lines (RUNX1 signals per cell, copies beyond the chromosomes 21)."""
    tested = lesions_tested("BCR::ABL1", "KMT2A_rearrangement", "ETV6::RUNX1", "TCF3::PBX1")
    five = b_all(karyotype("47,XX,+X,add(21)(q22)[12]/46,XX[8].nuc ish(RUNX1x5)[160/200]"), tested)
    stricter = DEFAULT_RULES.model_copy(update={"iamp21_runx1_min_copies": 6})
    result = assess(case_from_dict(five), rules=stricter)
    assert "iAMP21" not in result.diagnosis.genetics.detected
    assert "iAMP21" in result.diagnosis.genetics.negative
    assert "iAMP21" in run(five).diagnosis.genetics.detected  # the default line (5) still finds it

    # Tetrasomy 21 (4 chromosomes 21) with 6 RUNX1 signals: 2 extra copies, iAMP21 only where 2 are enough.
    six = b_all(karyotype("48,XX,+21,+21[20].nuc ish(RUNX1x6)[180/200]"), tested)
    assert "iAMP21" not in run(six).diagnosis.genetics.detected
    looser = DEFAULT_RULES.model_copy(update={"iamp21_extra_copies_min": 2})
    assert "iAMP21" in assess(case_from_dict(six), rules=looser).diagnosis.genetics.detected


def test_nuc_ish_fusion_and_break_apart_signals():
    text = ("46,XX[20].nuc ish(ABL1,BCR)x3(ABL1 con BCRx2)[180/200],(KMT2Ax2)[200],(ETV6,RUNX1)x2[200],"
            "(TCF3x2)[200]")
    genetics = run(b_all(karyotype(text))).diagnosis.genetics
    assert "BCR::ABL1" in genetics.detected
    assert {"KMT2A_rearrangement", "ETV6::RUNX1", "TCF3_rearrangement"} <= set(genetics.negative)


def test_written_chromosome_count_that_does_not_match_the_changes_is_reported():
    result = run(b_all(karyotype("47,XX,+8,+21[20]")))
    card = next(c for c in result.diagnosis.conclusions if c.rule == "DX.GENETICS.MERGE")
    assert "modal number 47 differs from the 48 chromosomes implied" in card.explanation


# Alerts from the genetics -------------------------------------------------------------------------


def test_tp53_mutation_in_low_hypodiploid_all_asks_for_germline_testing():
    text = "36,XX,-2,-3,-4,-7,-12,-13,-15,-16,-17,-20[12]/46,XX[8]"
    found = {a.code: a for a in run(b_all(karyotype(text), lesions_tested(*PANEL, found=("TP53_mutation",)))).alerts}
    assert found["germline_tp53_testing"].severity == "warning"
    assert "Li-Fraumeni" in found["germline_tp53_testing"].message


def test_no_germline_alert_when_li_fraumeni_is_known_or_ploidy_is_not_hypodiploid():
    text = "36,XX,-2,-3,-4,-7,-12,-13,-15,-16,-17,-20[12]/46,XX[8]"
    known = run(b_all(karyotype(text), lesions_tested(*PANEL, found=("TP53_mutation",)), conditions=["li_fraumeni"]))
    assert "germline_tp53_testing" not in {a.code for a in known.alerts}
    hyper = run(b_all(karyotype("55,XX,+X,+4,+6,+10,+14,+17,+18,+21,+21[20]"),
                      lesions_tested(*PANEL, found=("TP53_mutation",))))
    assert "germline_tp53_testing" not in {a.code for a in hyper.alerts}


@pytest.mark.parametrize(("fusion", "raised"), [("EBF1::PDGFRB", True), ("ETV6::ABL1", True), ("NUP214::ABL1", True),
                                                 ("PAX5::JAK2", False), ("BCR::ABL1", False)])
def test_abl_class_fusion_raises_a_tki_alert(fusion, raised):
    data = b_all({"type": "genetics", "date": day(2), "fusions": [fusion]})
    assert ("abl_class_tki" in {a.code for a in run(data).alerts}) is raised
