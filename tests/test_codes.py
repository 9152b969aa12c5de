"""ICD-O-3, ICD-10-CM and SNOMED CT codes: every branch of decisions.md's coding table."""

from __future__ import annotations

import pytest

from allcare.engine.assessment import Diagnosis, Entity, Status
from allcare.engine.case import case_from_dict
from allcare.engine.codes import assign_codes
from allcare.engine.course.build import build_course
from allcare.engine.diagnosis import diagnose
from allcare.engine.diagnosis.names import WHO_NAMES
from allcare.engine.explain import Conclusion
from allcare.engine.rules import DEFAULT_RULES
from allcare.engine.view import CaseView

DX = "2024-03-01"
NEW = Status(current="newly_diagnosed")


def dx(disease="ALL", lineage="B", key=None, lbl_site=None, conclusions=()):
    entity = Entity(key=key, name=WHO_NAMES.get(key), determined=key is not None)
    return Diagnosis(disease=disease, lineage=lineage, who_haem5=entity, lbl_site=lbl_site, conclusions=list(conclusions))


def topic(codes, name):
    return next(c for c in codes.conclusions if c.topic == name)


@pytest.mark.parametrize("key, code", [
    ("b_all_nos", "9811/3"), ("b_all_bcr_abl1", "9812/3"), ("b_all_kmt2a", "9813/3"), ("b_all_etv6_runx1", "9814/3"),
    ("b_all_high_hyperdiploidy", "9815/3"), ("b_all_hypodiploidy", "9816/3"), ("b_all_igh_il3", "9817/3"),
    ("b_all_tcf3_pbx1", "9818/3"), ("b_all_bcr_abl1_like", "9819/3"), ("b_all_iamp21", "9811/3"),
    ("b_all_etv6_runx1_like", "9811/3"), ("b_all_other_defined", "9811/3"), ("b_all_tcf3_hlf", "9811/3"),
    ("t_all_nos", "9837/3"), ("etp_all", "9837/3"),
])
def test_icd_o_3_by_entity(key, code):
    lineage = "T" if key in ("t_all_nos", "etp_all") else "B"
    codes = assign_codes(dx(lineage=lineage, key=key), NEW)
    assert codes.icd_o_3 == code and codes.icd_o_3_term
    assert topic(codes, "codes.icd_o_3").determined


@pytest.mark.parametrize("key, lineage, code", [
    ("mpal_bcr_abl1", "B/myeloid", "9806/3"), ("mpal_kmt2a", "B/myeloid", "9807/3"),
    ("mpal_b_myeloid", "B/myeloid", "9808/3"), ("mpal_t_myeloid", "T/myeloid", "9809/3"),
])
def test_icd_o_3_mpal(key, lineage, code):
    assert assign_codes(dx("MPAL", lineage, key), NEW).icd_o_3 == code


def test_mpal_rare_types_have_no_verified_code():
    codes = assign_codes(dx("MPAL", "B/T", "mpal_other"), NEW)
    assert codes.icd_o_3 is None
    assert topic(codes, "codes.icd_o_3").missing == ["coder review: ICD-O-3 morphology for MPAL, rare types"]


@pytest.mark.parametrize("disease, lineage, code", [
    ("ALL", "B", "9811/3"), ("ALL", "T", "9837/3"), ("MPAL", "B/myeloid", "9808/3"), ("MPAL", "T/myeloid", "9809/3"),
    ("MPAL", "B/T", None),
])
def test_icd_o_3_nos_code_while_entity_is_open(disease, lineage, code):
    assert assign_codes(dx(disease, lineage), NEW).icd_o_3 == code


def test_lymphoma_uses_the_leukaemia_morphology_code():
    codes = assign_codes(dx("LBL", "T", "t_all_nos", lbl_site="mediastinum"), NEW)
    assert codes.icd_o_3 == "9837/3"


@pytest.mark.parametrize("current, code", [
    ("newly_diagnosed", "C91.00"), ("on_treatment", "C91.00"), ("refractory", "C91.00"),
    (None, "C91.00"), ("suspected_relapse", "C91.00"),
    ("complete_remission", "C91.01"), ("cr_incomplete_recovery", "C91.01"), ("relapse", "C91.02"),
])
def test_icd_10_cm_all_by_status(current, code):
    codes = assign_codes(dx(key="b_all_nos"), Status(current=current))
    assert codes.icd_10_cm == code and codes.icd_10_cm_term
    if current == "suspected_relapse":
        assert topic(codes, "codes.icd_10_cm").missing


@pytest.mark.parametrize("current, code", [
    ("newly_diagnosed", "C95.00"), ("refractory", "C95.00"), ("complete_remission", "C95.01"),
    ("cr_incomplete_recovery", "C95.01"), ("relapse", "C95.02"), (None, "C95.00"),
])
def test_icd_10_cm_mpal_by_status(current, code):
    assert assign_codes(dx("MPAL", "B/myeloid", "mpal_b_myeloid"), Status(current=current)).icd_10_cm == code


@pytest.mark.parametrize("site, code", [
    ("mediastinum", "C83.52"), ("lymph_node", "C83.50"), ("lymph_node:cervical", "C83.51"),
    ("lymph_node:mesenteric", "C83.53"), ("lymph_node:axillary", "C83.54"), ("lymph_node:inguinal", "C83.55"),
    ("lymph_node:iliac", "C83.56"), ("lymph_node:cervical;mediastinum", "C83.58"), ("skin", "C83.59"),
    ("mediastinum;other", "C83.59"), (None, "C83.50"),
    # One finding's detail naming nodes of two regions is lymph nodes of multiple sites, not the first region named.
    ("lymph_node:cervical_and_axillary", "C83.58"), ("lymph_node:inguinal, iliac", "C83.58"),
    ("lymph_node:bilateral_inguinal", "C83.55"), ("lymph_node:paratracheal", "C83.52"),
    # A region's word inside another word is not that region: submaxillary nodes are of the neck, not the axilla.
    ("lymph_node:submaxillary", "C83.51"), ("lymph_node:para-aortic", "C83.53"),
])
def test_icd_10_cm_lymphoma_by_site(site, code):
    assert assign_codes(dx("LBL", "T", "t_all_nos", lbl_site=site), NEW).icd_10_cm == code


@pytest.mark.parametrize("current, code", [("complete_remission", "C83.5A"), ("cr_incomplete_recovery", "C83.5A"),
                                           ("relapse", "C83.52")])
def test_icd_10_cm_lymphoma_in_remission(current, code):
    codes = assign_codes(dx("LBL", "T", "t_all_nos", lbl_site="mediastinum"), Status(current=current))
    assert codes.icd_10_cm == code


@pytest.mark.parametrize("disease, lineage, code", [
    ("ALL", "B", "277571004"), ("ALL", "T", "91857003"), ("LBL", "B", None), ("MPAL", "B/myeloid", None),
])
def test_snomed_ct(disease, lineage, code):
    codes = assign_codes(dx(disease, lineage, lbl_site="lymph_node" if disease == "LBL" else None), NEW)
    assert codes.snomed_ct == code
    if lineage == "T":
        assert "no verified SNOMED CT concept for T-cell ALL" in topic(codes, "codes.snomed_ct").explanation


def test_not_all_gets_no_code_and_no_missing():
    codes = assign_codes(dx("not_ALL", None), NEW)
    assert (codes.icd_o_3, codes.icd_10_cm, codes.snomed_ct) == (None, None, None)
    assert all(c.determined and not c.missing for c in codes.conclusions)


def test_indeterminate_disease_gets_no_code_and_says_what_is_missing():
    disease = Conclusion(topic="diagnosis.disease", value="indeterminate", determined=False, rule="DX.DISEASE.LOW_BLASTS",
                         source="test", missing=["repeat bone marrow aspirate / tissue biopsy"])
    codes = assign_codes(dx("indeterminate", "B", conclusions=[disease]), NEW)
    assert codes.icd_10_cm is None
    assert all(c.missing == ["repeat bone marrow aspirate / tissue biopsy"] for c in codes.conclusions)


def test_codes_from_a_diagnosed_case():
    case = case_from_dict({"schema": "allcare.case/1", "patient": {"id": "t", "age_years": 6}, "findings": [
        {"type": "marrow", "date": DX, "blasts_pct": 90},
        {"type": "immunophenotype", "date": DX, "markers": {"CD19": "positive", "CD10": "positive", "cCD79a": "positive"}},
        {"type": "genetics", "date": DX, "fusions": ["ETV6::RUNX1"], "negative": ["BCR::ABL1", "KMT2A_rearrangement"]},
    ]})
    view = CaseView(case, None, DEFAULT_RULES)
    codes = assign_codes(diagnose(view, build_course(view).initial), Status(current="complete_remission"))
    assert (codes.icd_o_3, codes.icd_10_cm, codes.snomed_ct) == ("9814/3", "C91.01", "277571004")


def test_relapse_refractory_to_reinduction_is_coded_in_relapse():
    """Registrars code a relapse that does not respond to re-induction as ALL in relapse (C91.02)."""
    from allcare.engine import assess

    marrow = lambda day, blasts, **extra: {"type": "marrow", "date": day, "blasts_pct": blasts, **extra}  # noqa: E731
    case = case_from_dict({"schema": "allcare.case/1", "patient": {"id": "t", "age_years": 30}, "findings": [
        marrow(DX, 90),
        {"type": "immunophenotype", "date": DX, "markers": {"CD19": "positive", "CD10": "positive", "cCD79a": "positive"}},
        {"type": "treatment", "phase": "induction", "start": "2024-03-02", "end": "2024-03-29"},
        marrow("2024-03-30", 1, timepoint="end_of_induction"),
        {"type": "cbc", "date": "2024-03-30", "anc": 2.0, "platelets": 150, "blasts_pct": 0},
        {"type": "treatment", "phase": "maintenance", "start": "2024-05-01", "end": "2025-05-01"},
        marrow("2025-09-01", 60, timepoint="relapse"),
        {"type": "treatment", "phase": "salvage", "start": "2025-09-03"},
        marrow("2025-10-10", 30, timepoint="end_of_induction"),
    ]})
    result = assess(case)
    assert result.status.current == "refractory"
    assert result.codes.icd_10_cm == "C91.02"
    card = next(c for c in result.codes.conclusions if c.rule == "CODE.ICD_10_CM.STATUS")
    assert "refractory relapse" in card.explanation


@pytest.mark.parametrize("typed, meant", [
    ("c9100", "C91.00"), ("C91.0", "C91.0"), ("c835a", "C83.5A"), ("98113", "9811/3"), ("M-9837/3", "9837/3"),
    ("9811-3", "9811/3"), ("9811", "9811"), ("91857", "91857"), ("277571004", "277571004"),
])
def test_code_spellings_include_the_stored_spelling(typed, meant):
    from allcare.engine.codes import code_spellings

    assert meant in code_spellings(typed)


@pytest.mark.parametrize("disease, lineage, site", [("ALL", "B", None), ("MPAL", "B/myeloid", None),
                                                    ("LBL", "T", "mediastinum")])
def test_an_indeterminate_status_gets_no_icd_10_cm_code(disease, lineage, site):
    """The status is indeterminate when findings contradict each other (e.g. an M1 marrow with blasts in the blood
    during remission). ICD-10-CM Official Guidelines I.C.2.m: when it is unclear whether the leukaemia has achieved
    remission, the provider is queried; so no remission digit (and no 'not having achieved remission') is guessed."""
    codes = assign_codes(dx(disease, lineage, lbl_site=site), Status(current="indeterminate"))
    conclusion = topic(codes, "codes.icd_10_cm")
    assert codes.icd_10_cm is None and not conclusion.determined
    assert any("remission" in item for item in conclusion.missing)
    assert codes.icd_o_3  # the morphology does not depend on the status


# ICD-O-3 topography (primary site), SEER Hematopoietic manual --------------------------------------------

def _topography(*findings):
    from allcare.engine import assess
    from allcare.engine.case import case_from_dict

    case = case_from_dict({"schema": "allcare.case/1", "patient": {"id": "topo", "age_years": 9}, "findings": list(findings)})
    return assess(case).codes


_B = {"type": "immunophenotype", "date": "2024-03-01",
      "markers": {"CD19": "positive", "CD10": "positive", "cCD79a": "positive", "TdT": "positive", "CD34": 70,
                  "sIg": "negative", "MPO": "negative", "cCD3": "negative"}}


def _marrow(pct):
    return {"type": "marrow", "date": "2024-03-01", "blasts_pct": pct}


def _mass(site, detail=None):
    return {"type": "extramedullary", "date": "2024-03-01", "site": site, "present": True,
            **({"detail": detail} if detail else {})}


@pytest.mark.parametrize(("masses", "expected"), [
    ([], "C42.1"),                                                   # ALL: a leukaemia is coded to bone marrow
    ([_mass("mediastinum")], "C77.1"),                              # a mass described only as mediastinal
    ([_mass("lymph_node", "cervical")], "C77.0"),
    ([_mass("lymph_node", "inguinal")], "C77.4"),
    ([_mass("lymph_node", "cervical"), _mass("mediastinum")], "C77.8"),  # nodes of several regions
    ([_mass("lymph_node")], "C77.9"),                               # a node of no stated region
    ([_mass("skin")], "C44.9"),
    ([_mass("skin"), _mass("lymph_node", "axillary")], None),       # nodal and extranodal: a coder decides
    ([_mass("other")], None),
])
def test_icd_o_3_topography_follows_the_seer_primary_site_rules(masses, expected):
    pct = 90 if not masses else 5
    codes = _topography(_marrow(pct), _B, *masses)
    assert codes.icd_o_3_topography == expected
    site = next(c for c in codes.conclusions if c.topic == "codes.icd_o_3_topography")
    assert site.determined is (expected is not None)
    if expected is None:
        assert site.missing
    else:
        assert codes.icd_o_3_topography_term
