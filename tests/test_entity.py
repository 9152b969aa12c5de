"""WHO-HAEM5 and ICC 2022 entities: every WHO key, precedence, NOS only when tested, conflicts, sub-types."""

from __future__ import annotations

import pytest

from allcare.engine.case import case_from_dict
from allcare.engine.course.build import build_course
from allcare.engine.diagnosis import diagnose
from allcare.engine.diagnosis.names import ICC_NAMES, WHO_NAMES
from allcare.engine.rules import DEFAULT_RULES
from allcare.engine.view import CaseView

DX = "2024-03-01"
B = {"CD19": "positive", "CD10": "positive", "cCD79a": "positive", "TdT": "positive", "cIgM": "negative",
     "MPO": "negative", "cCD3": "negative"}
T_ETP = {"cCD3": "bright", "CD7": 95, "CD1a": "negative", "CD8": "negative", "sCD3": "negative", "CD5": 40,
         "CD34": 60, "MPO": "negative", "CD19": "negative"}
T_NOS = {**T_ETP, "CD1a": 60}
REQUIRED = ["BCR::ABL1", "KMT2A_rearrangement", "ETV6::RUNX1", "TCF3::PBX1", "iAMP21"]
NORMAL_KARYOTYPE = "46,XX[20]"
MASKED = "SNP array / DNA index / flow ploidy to exclude a doubled hypodiploid clone"


def diagnosis_of(*findings):
    case = case_from_dict({"schema": "allcare.case/1", "patient": {"id": "t", "age_years": 8}, "findings": list(findings)})
    view = CaseView(case, None, DEFAULT_RULES)
    return diagnose(view, build_course(view).initial)


def b_all(*findings, markers=B):
    return diagnosis_of({"type": "marrow", "date": DX, "blasts_pct": 80},
                        {"type": "immunophenotype", "date": DX, "markers": markers}, *findings)


def genetics(**fields):
    return {"type": "genetics", "date": DX, **fields}


def cyto(**fields):
    return {"type": "cytogenetics", "date": DX, **fields}


def background(*except_, karyotype=NORMAL_KARYOTYPE):
    """The minimal work-up for NOS, tested negative, minus the lesions a case carries."""
    findings = [genetics(negative=[x for x in REQUIRED if x not in except_])]
    if karyotype:
        findings.append(cyto(karyotype=karyotype))
    return findings


def conclusion(d, topic):
    return next(c for c in d.conclusions if c.topic == topic)


B_CASES = {
    "b_all_nos": background(),
    "b_all_bcr_abl1": [genetics(fusions=["BCR::ABL1"]), *background("BCR::ABL1")],
    "b_all_kmt2a": [genetics(fusions=["KMT2A::AFF1"]), *background("KMT2A_rearrangement")],
    "b_all_etv6_runx1": [genetics(fusions=["ETV6::RUNX1"]), *background("ETV6::RUNX1")],
    "b_all_tcf3_pbx1": [genetics(fusions=["TCF3::PBX1"]), *background("TCF3::PBX1")],
    "b_all_tcf3_hlf": [genetics(fusions=["TCF3::HLF"]), *background()],
    "b_all_igh_il3": [genetics(fusions=["IGH::IL3"]), *background()],
    "b_all_hypodiploidy": [*background(karyotype=None), cyto(modal_number=30)],
    "b_all_iamp21": [genetics(alterations=["iAMP21"]), *background("iAMP21")],
    "b_all_high_hyperdiploidy": background(karyotype="56,XX,+X,+4,+6,+10,+14,+17,+18,+21,+21,+21"),
    "b_all_bcr_abl1_like": [genetics(expression_subtype="Ph-like", expression_confidence=0.9), *background()],
    "b_all_etv6_runx1_like": [genetics(expression_subtype="ETV6::RUNX1-like", expression_confidence=0.8), *background()],
    "b_all_other_defined": [genetics(fusions=["IGH::DUX4"]), *background()],
}


@pytest.mark.parametrize("key", sorted(B_CASES))
def test_every_b_all_who_key_is_reachable(key):
    d = b_all(*B_CASES[key])
    assert (d.disease, d.lineage) == ("ALL", "B")
    assert d.who_haem5.key == key and d.who_haem5.name == WHO_NAMES[key] and d.who_haem5.determined
    assert d.icc_2022.key in ICC_NAMES and d.icc_2022.name == ICC_NAMES[d.icc_2022.key]
    assert d.who_haem5.missing == []


@pytest.mark.parametrize("markers, key, icc", [
    (T_NOS, "t_all_nos", "icc_t_all_nos"),
    (T_ETP, "etp_all", "icc_etp_all_nos"),
    ({**T_ETP, "CD5": 80}, "t_all_nos", "icc_t_all_nos"),
])
def test_t_lineage_keys(markers, key, icc):
    d = b_all(markers=markers)
    assert (d.who_haem5.key, d.icc_2022.key) == (key, icc)


def test_icc_etp_with_bcl11b_rearrangement():
    d = b_all(genetics(fusions=["BCL11B::ARID1B"]), markers=T_ETP)
    assert (d.who_haem5.key, d.icc_2022.key) == ("etp_all", "icc_etp_all_bcl11b")


MPAL_NEGATIVE = genetics(negative=["BCR::ABL1", "KMT2A_rearrangement"])
B_MYELOID = {"CD19": "bright", "cCD79a": "bright", "CD10": "positive", "MPO": "bright", "cCD3": "negative"}


@pytest.mark.parametrize("markers, findings, key, icc", [
    (B_MYELOID, [genetics(fusions=["BCR::ABL1"])], "mpal_bcr_abl1", "icc_mpal_bcr_abl1"),
    (B_MYELOID, [genetics(fusions=["KMT2A::MLLT1"], negative=["BCR::ABL1"])], "mpal_kmt2a", "icc_mpal_kmt2a"),
    (B_MYELOID, [MPAL_NEGATIVE], "mpal_b_myeloid", "icc_mpal_b_myeloid"),
    ({"cCD3": "bright", "CD7": "positive", "MPO": "bright", "CD19": "negative"}, [MPAL_NEGATIVE], "mpal_t_myeloid",
     "icc_mpal_t_myeloid"),
    ({"CD19": "bright", "cCD79a": "bright", "cCD3": "bright", "MPO": "negative"}, [MPAL_NEGATIVE], "mpal_other",
     "icc_mpal_rare"),
])
def test_every_mpal_key(markers, findings, key, icc):
    d = b_all(*findings, markers=markers)
    assert d.disease == "MPAL"
    assert (d.who_haem5.key, d.icc_2022.key) == (key, icc)


def test_mpal_needs_bcr_abl1_and_kmt2a_tested():
    d = b_all(genetics(negative=["BCR::ABL1"]), markers=B_MYELOID)
    assert d.who_haem5.key is None
    assert d.who_haem5.missing == ["KMT2A rearrangement (FISH break-apart)"]


# Precedence ---------------------------------------------------------------------


@pytest.mark.parametrize("findings, key", [
    ([genetics(fusions=["BCR::ABL1"]), cyto(karyotype="56,XX,+X,+4,+6,+10,+14,+17,+18,+21,+21,+21")], "b_all_bcr_abl1"),
    ([genetics(fusions=["KMT2A::AFF1", "ETV6::RUNX1"], negative=["BCR::ABL1"])], "b_all_kmt2a"),
    ([genetics(fusions=["ETV6::RUNX1", "TCF3::PBX1"], negative=["BCR::ABL1", "KMT2A_rearrangement"])], "b_all_etv6_runx1"),
    ([genetics(alterations=["iAMP21"]), cyto(modal_number=35), *background("iAMP21", karyotype=None)], "b_all_hypodiploidy"),
    ([genetics(alterations=["iAMP21"]), *background("iAMP21", karyotype="56,XX,+X,+4,+6,+10,+14,+17,+18,+21,+21,+21")],
     "b_all_iamp21"),
    ([genetics(expression_subtype="Ph-like", expression_confidence=0.9),
      *background(karyotype="56,XX,+X,+4,+6,+10,+14,+17,+18,+21,+21,+21")], "b_all_high_hyperdiploidy"),
    ([genetics(fusions=["IGH::DUX4"], expression_subtype="Ph-like", expression_confidence=0.9), *background()],
     "b_all_bcr_abl1_like"),
])
def test_precedence(findings, key):
    d = b_all(*findings)
    assert d.who_haem5.key == key


def test_lower_precedence_lesion_stays_listed():
    d = b_all(genetics(fusions=["BCR::ABL1", "ETV6::RUNX1"]), *background("BCR::ABL1", "ETV6::RUNX1"))
    assert d.who_haem5.key == "b_all_bcr_abl1"
    assert {"BCR::ABL1", "ETV6::RUNX1"} <= set(d.genetics.detected)
    assert "ETV6::RUNX1" in conclusion(d, "diagnosis.who_haem5").explanation


# NOS only when every defining lesion was tested ---------------------------------------


@pytest.mark.parametrize("untested, missing", [
    ("BCR::ABL1", "BCR::ABL1 (FISH or RT-PCR)"),
    ("KMT2A_rearrangement", "KMT2A rearrangement (FISH break-apart)"),
    ("ETV6::RUNX1", "ETV6::RUNX1 (FISH or RT-PCR)"),
    ("TCF3::PBX1", "TCF3::PBX1 (FISH or RT-PCR)"),
    ("iAMP21", "iAMP21 (RUNX1 FISH)"),
    ("ploidy", "karyotype or DNA index (ploidy)"),
])
def test_nos_only_when_all_defining_lesions_tested_negative(untested, missing):
    findings = [genetics(negative=[x for x in REQUIRED if x != untested])]
    if untested != "ploidy":
        findings.append(cyto(karyotype=NORMAL_KARYOTYPE))
    d = b_all(*findings)
    assert d.who_haem5.key is None and d.icc_2022.key is None
    assert d.who_haem5.missing == [missing]
    assert missing in conclusion(d, "diagnosis.who_haem5").missing


def test_nos_with_dna_index_instead_of_karyotype_and_break_apart_negatives():
    d = b_all(genetics(negative=["BCR_rearrangement", "KMT2A_rearrangement", "ETV6_rearrangement", "TCF3_rearrangement",
                                 "iAMP21"]), cyto(dna_index=1.0))
    assert (d.who_haem5.key, d.icc_2022.key) == ("b_all_nos", "icc_b_all_nos")


def test_detected_lesion_names_entity_but_lists_untested_higher_precedence():
    d = b_all(genetics(fusions=["ETV6::RUNX1"]))
    assert d.who_haem5.key == "b_all_etv6_runx1" and d.who_haem5.determined
    assert d.who_haem5.missing == ["BCR::ABL1 (FISH or RT-PCR)", "KMT2A rearrangement (FISH break-apart)"]


# Conflicts, masked ploidy, classifier calls -------------------------------------------


def test_conflicting_bcr_abl1_makes_entity_indeterminate_with_both_sides():
    d = b_all(cyto(karyotype="46,XY,t(9;22)(q34;q11.2)[20]"), genetics(negative=["BCR::ABL1"], source="FISH"),
              *background("BCR::ABL1", karyotype=None))
    assert d.who_haem5.key is None and not d.who_haem5.determined
    who = conclusion(d, "diagnosis.who_haem5")
    assert not who.determined and len(who.conflicts) == 2
    assert any("detected" in side for side in who.conflicts) and any("not found" in side for side in who.conflicts)


def test_conflict_below_the_detected_entity_does_not_block_it():
    d = b_all(genetics(fusions=["BCR::ABL1", "IGH::DUX4"]), genetics(negative=["DUX4_rearrangement"]))
    assert d.who_haem5.key == "b_all_bcr_abl1"
    assert "DUX4_rearrangement" in d.genetics.conflicting


def test_masked_hypodiploidy_blocks_ploidy_entities_but_not_a_fusion():
    masked = cyto(karyotype="62,XX,+1,+1,+2,+2,+5,+5,+6,+6,+10,+10,+14,+14,+18,+18,+21,+21")
    blocked = b_all(masked, genetics(negative=REQUIRED))
    assert blocked.who_haem5.key is None and blocked.who_haem5.missing == [MASKED]
    fusion = b_all(masked, genetics(fusions=["BCR::ABL1"]))
    assert fusion.who_haem5.key == "b_all_bcr_abl1"


@pytest.mark.parametrize("confidence, key", [(0.49, "b_all_nos"), (0.5, "b_all_bcr_abl1_like"), (None, "b_all_bcr_abl1_like")])
def test_low_confidence_classifier_call_is_not_promoted(confidence, key):
    call = {"expression_subtype": "Ph-like"}
    if confidence is not None:
        call["expression_confidence"] = confidence
    d = b_all(genetics(**call), *background())
    assert d.who_haem5.key == key
    assert d.genetics.expression_subtype == "Ph-like"


def test_classifier_call_of_a_fusion_needs_genomic_confirmation():
    d = b_all(genetics(expression_subtype="KMT2A", expression_confidence=0.95))
    assert d.who_haem5.key is None
    assert "KMT2A rearrangement (FISH break-apart)" in d.who_haem5.missing


def test_disagreeing_classifier_calls_are_contradictory():
    d = b_all(genetics(expression_subtype="DUX4", expression_confidence=0.9),
              genetics(expression_subtype="Ph-like", expression_confidence=0.8), *background())
    assert d.who_haem5.key == "b_all_nos"
    assert not conclusion(d, "diagnosis.genetics.expression").determined


def test_entity_waits_for_an_established_neoplasm():
    d = diagnosis_of({"type": "marrow", "date": DX, "blasts_pct": 10},
                     {"type": "immunophenotype", "date": DX, "markers": B}, *B_CASES["b_all_bcr_abl1"])
    assert d.disease == "indeterminate" and d.who_haem5.key is None
    assert "repeat bone marrow aspirate / tissue biopsy" in d.who_haem5.missing


def test_not_all_has_no_entity():
    d = b_all(markers={"CD19": "positive", "CD20": "positive", "sIg": "positive", "TdT": "negative"})
    assert d.disease == "not_ALL" and d.who_haem5.key is None and d.who_haem5.missing == []


# ICC sub-types and ICC-specific entities ---------------------------------------------


@pytest.mark.parametrize("findings, icc, subtype", [
    ([genetics(fusions=["BCR::ABL1"])], "icc_b_all_bcr_abl1", None),
    ([genetics(fusions=["BCR::ABL1"]), genetics(fusions=["BCR::ABL1"], note="FISH on sorted neutrophils")],
     "icc_b_all_bcr_abl1", "multilineage"),
    ([genetics(fusions=["BCR::ABL1"]), genetics(negative=["BCR::ABL1"], note="FISH on sorted neutrophils")],
     "icc_b_all_bcr_abl1", "lymphoid_only"),
    ([genetics(fusions=["EBF1::PDGFRB"]), *background()], "icc_b_all_bcr_abl1_like", "abl_class"),
    ([genetics(fusions=["NUP214::ABL1"]), *background()], "icc_b_all_bcr_abl1_like", "abl_class"),
    ([genetics(fusions=["PAX5::JAK2"]), *background()], "icc_b_all_bcr_abl1_like", "jak_stat"),
    ([genetics(fusions=["P2RY8::CRLF2"], expression_subtype="Ph-like", expression_confidence=0.9), *background()],
     "icc_b_all_bcr_abl1_like", "jak_stat"),
    ([genetics(expression_subtype="Ph-like", expression_confidence=0.9), *background()], "icc_b_all_bcr_abl1_like", "nos"),
])
def test_icc_subtypes(findings, icc, subtype):
    d = b_all(*findings)
    assert (d.icc_2022.key, d.icc_2022.subtype) == (icc, subtype)
    if icc == "icc_b_all_bcr_abl1" and subtype is None:
        assert d.icc_2022.missing[-1] == "BCR::ABL1 in sorted non-lymphoid cells (FISH/PCR)"


def test_crlf2_rearrangement_alone_is_not_bcr_abl1_like():
    d = b_all(genetics(fusions=["P2RY8::CRLF2"]), *background())
    assert d.who_haem5.key == "b_all_nos"


@pytest.mark.parametrize("modal, who, icc", [
    (28, "b_all_hypodiploidy", "icc_b_all_near_haploid"),
    (35, "b_all_hypodiploidy", "icc_b_all_low_hypodiploid"),
    (42, "b_all_hypodiploidy", "icc_b_all_nos"),
    (45, "b_all_nos", "icc_b_all_nos"),
])
def test_hypodiploid_subgroups(modal, who, icc):
    d = b_all(cyto(modal_number=modal), *background(karyotype=None))
    assert (d.who_haem5.key, d.icc_2022.key) == (who, icc)


def test_hypodiploid_by_dna_index_only_leaves_icc_subgroup_open():
    d = b_all(cyto(dna_index=0.7), *background(karyotype=None))
    assert d.who_haem5.key == "b_all_hypodiploidy"
    assert d.icc_2022.key is None and d.icc_2022.missing == ["karyotype modal number (near-haploid vs low hypodiploid)"]


@pytest.mark.parametrize("findings, icc", [
    ([genetics(fusions=["IGH::DUX4"])], "icc_b_all_dux4"),
    ([genetics(expression_subtype="DUX4", expression_confidence=0.9)], "icc_b_all_dux4"),
    ([genetics(fusions=["MEF2D::BCL9"])], "icc_b_all_mef2d"),
    ([genetics(fusions=["TCF3::ZNF384"])], "icc_b_all_znf384"),
    ([genetics(alterations=["PAX5 P80R"])], "icc_b_all_pax5_p80r"),
    ([genetics(alterations=["IKZF1 N159Y"])], "icc_b_all_ikzf1_n159y"),
    ([genetics(expression_subtype="PAX5alt", expression_confidence=0.9)], "icc_b_all_pax5alt"),
    ([genetics(expression_subtype="ZNF384-like", expression_confidence=0.9)], "icc_b_all_znf384_like"),
    ([genetics(fusions=["TCF3::HLF"])], "icc_b_all_hlf"),
])
def test_icc_other_defined(findings, icc):
    d = b_all(*findings, *background())
    assert d.icc_2022.key == icc
