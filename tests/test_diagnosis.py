"""Disease, lineage, MPAL, ETP, EGIL, maturation stage and ploidy: one case per rule branch and boundary."""

from __future__ import annotations

import pytest

from allcare.engine.case import case_from_dict
from allcare.engine.course.build import build_course
from allcare.engine.diagnosis import diagnose
from allcare.engine.rules import DEFAULT_RULES, rules_from_dict
from allcare.engine.view import CaseView

DX = "2024-03-01"
B_MARKERS = {"CD19": "positive", "CD10": "positive", "cCD79a": "positive", "TdT": "positive", "CD34": 70,
             "cIgM": "negative", "sIg": "negative", "MPO": "negative", "cCD3": "negative"}
ETP_MARKERS = {"cCD3": "bright", "CD7": 95, "CD1a": "negative", "CD8": "negative", "sCD3": "negative", "CD5": 40,
               "CD34": 60, "MPO": "negative", "CD19": "negative"}
MPO_STRONG = {"MPO": "strong"}


def diagnosis_of(*findings, rules=DEFAULT_RULES):
    case = case_from_dict({"schema": "allcare.case/1", "patient": {"id": "t", "age_years": 8}, "findings": list(findings)})
    view = CaseView(case, None, rules)
    return diagnose(view, build_course(view).initial)


def marrow(pct, date=DX):
    return {"type": "marrow", "date": date, "blasts_pct": pct}


def phenotype(markers, intensity=None, date=DX):
    finding = {"type": "immunophenotype", "date": date, "markers": markers}
    if intensity:
        finding["intensity"] = intensity
    return finding


def mass(site="mediastinum", detail=None):
    finding = {"type": "extramedullary", "date": DX, "site": site, "present": True}
    if detail:
        finding["detail"] = detail
    return finding


def cyto(**fields):
    return {"type": "cytogenetics", "date": DX, **fields}


def genetics(**fields):
    return {"type": "genetics", "date": DX, **fields}


def conclusion(d, topic):
    return next(c for c in d.conclusions if c.topic == topic)


# Disease: ALL vs LBL vs not ALL ------------------------------------------------


@pytest.mark.parametrize("pct, expected", [(19, "indeterminate"), (20, "ALL")])
def test_marrow_blast_threshold_20(pct, expected):
    d = diagnosis_of(marrow(pct), phenotype(B_MARKERS))
    assert d.disease == expected
    if expected == "indeterminate":
        assert "repeat bone marrow aspirate / tissue biopsy" in conclusion(d, "diagnosis.disease").missing


@pytest.mark.parametrize("pct, expected", [(24.9, "indeterminate"), (25, "ALL")])
def test_marrow_blast_threshold_set_to_25(pct, expected):
    rules = rules_from_dict({"leukaemia_marrow_blast_pct": 25})
    assert diagnosis_of(marrow(pct), phenotype(B_MARKERS), rules=rules).disease == expected


@pytest.mark.parametrize("pct, expected", [(19, "LBL"), (19.9, "LBL"), (20, "ALL"), (22, "ALL")])
def test_mass_with_low_marrow_blasts_is_lymphoma(pct, expected):
    """With a mass, leukaemia vs lymphoma: by default the project's line, 20% marrow blasts (WHO 2016;
    docs/decisions.md#all-vs-lbl): a mediastinal mass with 19% marrow blasts is LBL, with 22% ALL."""
    d = diagnosis_of(marrow(pct), phenotype(ETP_MARKERS), mass("mediastinum"))
    assert d.disease == expected
    assert d.lbl_site == ("mediastinum" if expected == "LBL" else None)
    disease = conclusion(d, "diagnosis.disease")
    assert disease.rule == "DX.DISEASE.LBL_MASS" and "20%" in disease.explanation


@pytest.mark.parametrize("pct, expected", [(22, "LBL"), (24.9, "LBL"), (25, "ALL")])
def test_a_centre_staging_a_mass_by_the_protocols_25_percent_line(pct, expected):
    """COG and BFM lymphoma protocols stage a mass as LBL below 25% marrow blasts (the M3 marrow): a centre sets
    the mass line alone, and a mediastinal mass with 22% marrow blasts is then LBL."""
    rules = rules_from_dict({"lymphoma_marrow_blast_pct": 25})
    d = diagnosis_of(marrow(pct), phenotype(ETP_MARKERS), mass("mediastinum"), rules=rules)
    assert d.disease == expected
    assert "25%" in conclusion(d, "diagnosis.disease").explanation
    assert diagnosis_of(marrow(22), phenotype(ETP_MARKERS), rules=rules).disease == "ALL"  # no mass: the 20% line


def test_the_two_marrow_lines_are_set_apart():
    """A centre may move each line on its own: the mass staging line does not move WHO's floor, nor back."""
    rules = rules_from_dict({"lymphoma_marrow_blast_pct": 30})
    assert diagnosis_of(marrow(27), phenotype(ETP_MARKERS), mass("mediastinum"), rules=rules).disease == "LBL"
    assert diagnosis_of(marrow(22), phenotype(B_MARKERS), rules=rules).disease == "ALL"
    no_mass = conclusion(diagnosis_of(marrow(22), phenotype(B_MARKERS)), "diagnosis.disease")
    assert no_mass.rule == "DX.DISEASE.MARROW_BLASTS" and "20%" in no_mass.explanation


@pytest.mark.parametrize(("first", "second", "expected"), [
    (15, 30, "indeterminate"), (30, 15, "indeterminate"),  # same-day marrows on both sides of the 20% line
    (25, 30, "ALL"), (5, 15, "LBL"),                        # same-day marrows that agree decide
])
def test_same_day_diagnostic_marrows_on_both_sides_of_the_leukaemia_line_decide_nothing(first, second, expected):
    """Two diagnostic marrows of one day (e.g. morphology and flow) carry no order: neither is "the first"."""
    d = diagnosis_of(marrow(first), {**marrow(second), "method": "flow"}, phenotype(ETP_MARKERS), mass("mediastinum"))
    assert d.disease == expected
    disease = conclusion(d, "diagnosis.disease")
    assert disease.determined is (expected != "indeterminate")
    if expected == "indeterminate":
        assert any("15%" in side for side in disease.conflicts) and any("30%" in side for side in disease.conflicts)


def test_lbl_site_keeps_lymph_node_detail():
    d = diagnosis_of(marrow(3), phenotype(B_MARKERS), mass("lymph_node", "cervical"))
    assert (d.disease, d.lbl_site) == ("LBL", "lymph_node:cervical")


def test_a_lymph_node_detail_listing_nodes_with_semicolons_is_coded_as_nodes():
    """';' separates the mass sites of lbl_site: a detail written "cervical; axillary" must not turn into an
    extranodal site " axillary" (ICD-10-CM C83.59); it is lymph nodes of multiple sites (C83.58)."""
    from allcare.engine.codes import lbl_site_code

    d = diagnosis_of(marrow(3), phenotype(B_MARKERS), mass("lymph_node", "cervical; axillary"))
    assert d.disease == "LBL" and lbl_site_code(d.lbl_site)[0] == "C83.58"


@pytest.mark.parametrize("site", ["liver", "spleen", "testis"])
def test_organ_infiltration_is_not_a_lymphoma_mass(site):
    d = diagnosis_of(marrow(10), phenotype(B_MARKERS), mass(site))
    assert d.disease == "indeterminate"


def test_igh_il3_may_be_diagnosed_at_low_blast_count():
    d = diagnosis_of(marrow(8), phenotype(B_MARKERS), genetics(fusions=["IGH::IL3"]))
    assert d.disease == "ALL"
    assert conclusion(d, "diagnosis.disease").rule == "DX.DISEASE.IGH_IL3_LOW_BLASTS"


@pytest.mark.parametrize("blood_pct, expected", [(19, "indeterminate"), (20, "ALL")])
def test_without_marrow_blood_blasts_decide(blood_pct, expected):
    d = diagnosis_of({"type": "cbc", "date": DX, "blasts_pct": blood_pct}, phenotype(B_MARKERS))
    assert d.disease == expected
    if expected == "indeterminate":
        assert "bone marrow aspirate with blast percentage" in conclusion(d, "diagnosis.disease").missing


def test_mass_without_marrow_cannot_be_staged():
    d = diagnosis_of(phenotype(ETP_MARKERS), mass("mediastinum"))
    assert d.disease == "indeterminate"
    assert "bone marrow aspirate with blast percentage" in conclusion(d, "diagnosis.disease").missing
    assert d.who_haem5.key == "etp_all"  # the neoplasm and its entity are known, only ALL vs LBL is open


def test_response_marrow_after_treatment_start_is_not_the_diagnostic_marrow():
    d = diagnosis_of(
        marrow(85, "2024-03-01"), phenotype(B_MARKERS),
        {"type": "treatment", "phase": "induction", "start": "2024-03-02"}, marrow(1, "2024-03-30"),
    )
    assert d.disease == "ALL"
    assert "85%" in conclusion(d, "diagnosis.disease").explanation


def test_marrow_only_after_treatment_counts_as_no_marrow():
    d = diagnosis_of(
        {"type": "treatment", "phase": "induction", "start": "2024-02-27"}, marrow(60, "2024-03-01"), phenotype(B_MARKERS),
    )
    assert d.disease == "indeterminate"


@pytest.mark.parametrize("tdt, disease, missing", [
    ("negative", "not_ALL", None),
    (None, "indeterminate", "TdT (precursor marker) to separate B-ALL from a mature B-cell neoplasm"),
    ("positive", "ALL", None),
])
def test_surface_ig_mature_b(tdt, disease, missing):
    markers = {"CD19": "positive", "CD20": "positive", "sIg": "positive", "CD10": "positive", "cCD79a": "positive"}
    if tdt:
        markers["TdT"] = tdt
    d = diagnosis_of(marrow(80), phenotype(markers))
    assert d.disease == disease
    assert d.b_stage in ("mature_b", None)
    if missing:
        assert missing in conclusion(d, "diagnosis.disease").missing


def test_no_immunophenotype_leaves_lineage_and_disease_open():
    d = diagnosis_of(marrow(90))
    assert (d.disease, d.lineage) == ("indeterminate", None)
    assert "flow cytometry immunophenotype" in conclusion(d, "diagnosis.lineage").missing
    assert "flow cytometry immunophenotype" in conclusion(d, "diagnosis.disease").missing


def test_myeloid_only_phenotype_is_not_all():
    d = diagnosis_of(marrow(70), phenotype({"MPO": 80, "CD13": "positive", "CD33": "positive", "CD19": "negative",
                                            "cCD3": "negative"}))
    assert d.disease == "not_ALL"


# Lineage and MPAL ------------------------------------------------------------------


@pytest.mark.parametrize("markers, intensity, lineage", [
    ({"CD19": "bright", "cCD79a": "bright", "CD10": "positive", "MPO": 50, "cCD3": "negative"}, MPO_STRONG, "B/myeloid"),
    ({"cCD3": "bright", "CD7": "positive", "MPO": 40, "CD19": "negative"}, MPO_STRONG, "T/myeloid"),
    ({"CD19": "bright", "cCD79a": "bright", "cCD3": "bright", "MPO": "negative"}, None, "B/T"),
    ({"CD19": "bright", "cCD79a": "bright", "cCD3": "bright", "MPO": 40}, MPO_STRONG, "B/T/myeloid"),
    ({"CD19": "positive", "cCD79a": "positive", "CD10": "positive", "MPO": 50},
     {"CD19": "strong", "cCD79a": "strong", "MPO": "bright"}, "B/myeloid"),
    ({"CD19": "bright", "cCD79a": "bright", "CD14": "positive", "CD64": "positive", "MPO": "negative"}, None, "B/myeloid"),
    ({"cCD3": "positive", "sCD3": "positive", "MPO": 40}, MPO_STRONG, "T/myeloid"),
])
def test_mpal_combinations(markers, intensity, lineage):
    d = diagnosis_of(marrow(80), phenotype(markers, intensity),
                     genetics(negative=["BCR::ABL1", "KMT2A_rearrangement"]))
    assert (d.disease, d.lineage) == ("MPAL", lineage)


@pytest.mark.parametrize("mpo, lineage", [(10, "B"), (11, "B/myeloid")])
def test_mpo_positive_above_flow_cutoff(mpo, lineage):
    d = diagnosis_of(marrow(80), phenotype({"CD19": "bright", "cCD79a": "bright", "CD10": "positive", "MPO": mpo},
                                           MPO_STRONG))
    assert d.lineage == lineage


@pytest.mark.parametrize("intensity", ["weak", "dim"])
def test_weak_mpo_does_not_make_t_all_mixed_phenotype(intensity):
    """WHO-HAEM5: MPO counts for MPAL only at >= 50% of the mature-neutrophil intensity in part of the blasts."""
    d = diagnosis_of(marrow(80), phenotype({"cCD3": "bright", "CD7": "positive", "CD1a": 40, "MPO": 30, "CD19": "negative"},
                                           {"MPO": intensity}))
    assert (d.disease, d.lineage) == ("ALL", "T")


def test_mpo_without_intensity_leaves_the_mpal_question_open():
    d = diagnosis_of(marrow(80), phenotype({"cCD3": "bright", "CD7": "positive", "CD1a": 40, "MPO": 30, "CD19": "negative"}))
    assert (d.disease, d.lineage) == ("indeterminate", None)
    assert any("MPO intensity" in m for m in conclusion(d, "diagnosis.lineage").missing)


@pytest.mark.parametrize(("cd19", "expected"), [("bright", "B/myeloid"), ("strong", "B/myeloid"), ("dim", "not_ALL"),
                                               ("weak", "not_ALL")])
def test_bright_and_strong_read_alike_as_do_dim_and_weak(cd19, expected):
    """WHO MPAL B criterion: strong CD19 + one strong support; weak CD19 needs two."""
    d = diagnosis_of(marrow(80), phenotype({"CD19": "positive", "cCD79a": "positive", "CD10": "positive", "CD22": "negative",
                                            "MPO": 60}, {"CD19": cd19, "cCD79a": "bright", "CD10": "dim", "MPO": "strong"}))
    assert (d.disease if expected == "not_ALL" else d.lineage) == expected


def test_weak_cd19_needs_two_strong_supports_next_to_myeloid():
    d = diagnosis_of(marrow(80), phenotype({"CD19": "dim", "cCD79a": "bright", "CD10": "dim", "CD22": "negative", "MPO": 60},
                                           MPO_STRONG))
    assert (d.disease, d.lineage) == ("not_ALL", None)


def test_unreported_intensity_leaves_mpal_question_open():
    d = diagnosis_of(marrow(80), phenotype({"CD19": "positive", "cCD79a": "positive", "MPO": 60}))
    assert (d.disease, d.lineage) == ("indeterminate", None)
    assert any("intensity" in m for m in conclusion(d, "diagnosis.lineage").missing)


def test_b_lineage_without_cd19_needs_three_supports():
    three = diagnosis_of(marrow(80), phenotype({"CD19": "negative", "CD10": "positive", "CD22": "positive",
                                                "cCD79a": "positive"}))
    two = diagnosis_of(marrow(80), phenotype({"CD19": "negative", "CD10": "positive", "cCD79a": "positive"}))
    assert three.lineage == "B"
    assert two.lineage is None


def test_conflicting_marker_reports_are_dropped_and_named():
    d = diagnosis_of(marrow(80), phenotype(B_MARKERS), phenotype({"CD10": "negative"}, date="2024-03-02"))
    lineage = conclusion(d, "diagnosis.lineage")
    assert "CD10" in lineage.explanation and d.lineage == "B"


@pytest.mark.parametrize(("first", "second"), [
    ({"cCD3": "positive"}, {"cCD3": "negative"}),    # T lineage (B/T MPAL) rests on the conflicting cCD3
    ({"cCD3": "negative"}, {"cCD3": "positive"}),
    ({"MPO": "positive"}, {"MPO": "negative"}),      # myeloid lineage rests on the conflicting MPO
])
def test_a_conflicting_marker_that_decides_the_lineage_leaves_it_open(first, second):
    """Two reports of one work-up disagree on a marker the lineage turns on: contradictory, never a pick."""
    d = diagnosis_of(marrow(80), phenotype({**B_MARKERS, **first}), phenotype(second, date="2024-03-02"))
    lineage = conclusion(d, "diagnosis.lineage")
    assert d.lineage is None and not lineage.determined
    assert lineage.rule == "DX.LINEAGE.CONFLICT"
    assert any(next(iter(first)) in side for side in lineage.conflicts)


def test_a_conflicting_cd19_decides_b_lineage_when_only_two_supports_are_positive():
    markers = {"CD10": "positive", "cCD79a": "positive", "CD22": "negative", "cCD3": "negative", "MPO": "negative"}
    d = diagnosis_of(marrow(80), phenotype({**markers, "CD19": "positive"}), phenotype({"CD19": "negative"}, date="2024-03-02"))
    assert d.lineage is None and conclusion(d, "diagnosis.lineage").rule == "DX.LINEAGE.CONFLICT"


# ETP -------------------------------------------------------------------------------


def etp_of(**changes):
    return diagnosis_of(marrow(80), phenotype({**ETP_MARKERS, **changes}))


@pytest.mark.parametrize("cd5, expected", [(74, "etp"), (75, "near_etp"), ("negative", "etp")])
def test_cd5_splits_etp_from_near_etp(cd5, expected):
    d = etp_of(CD5=cd5)
    assert d.etp == expected
    assert d.who_haem5.key == ("etp_all" if expected == "etp" else "t_all_nos")


def test_cd5_positive_without_percentage_leaves_etp_open():
    d = etp_of(CD5="positive")
    assert d.etp is None and d.lineage == "T"
    assert "CD5 percentage of blasts" in conclusion(d, "diagnosis.etp").missing
    assert d.who_haem5.key is None


@pytest.mark.parametrize("marker", ["CD1a", "CD8"])
@pytest.mark.parametrize("pct, expected", [(4, "etp"), (5, "not_etp")])
def test_cd1a_and_cd8_below_five_percent(marker, pct, expected):
    assert etp_of(**{marker: pct}).etp == expected


@pytest.mark.parametrize("pct, expected", [(24, "not_etp"), (25, "etp")])
def test_stem_or_myeloid_marker_on_25_percent(pct, expected):
    others = dict.fromkeys(("CD117", "HLA-DR", "CD13", "CD33", "CD11b", "CD65"), "negative")
    assert etp_of(CD34=pct, **others).etp == expected


def test_stem_marker_reported_only_as_positive_leaves_etp_open():
    d = etp_of(CD34="negative", CD117="positive")
    assert d.etp is None
    assert any("CD34/CD117" in m for m in conclusion(d, "diagnosis.etp").missing)


@pytest.mark.parametrize("mpo, etp, lineage, disease", [(2, "etp", "T", "ALL"), (3, "not_etp", "T/myeloid", "MPAL")])
def test_mpo_three_percent_etp_vs_t_myeloid_mpal(mpo, etp, lineage, disease):
    d = diagnosis_of(marrow(80), phenotype({**ETP_MARKERS, "MPO": mpo, "CD14": "positive", "CD64": "positive"}),
                     genetics(negative=["BCR::ABL1", "KMT2A_rearrangement"]))
    assert (d.etp, d.lineage, d.disease) == (etp, lineage, disease)


@pytest.mark.parametrize("scd3", ["positive", None])
def test_surface_cd3_is_not_an_etp_criterion(scd3):
    """Coustan-Smith 2009, WHO-HAEM5 and ICC 2022 define ETP by CD1a, CD8, CD5, the stem/myeloid markers and MPO;
    surface CD3 is usually absent but not a criterion. A lab's "CD3 positive" (read as surface CD3) or no surface
    CD3 result used to turn an ETP phenotype into "not ETP" or leave it open."""
    markers = {**ETP_MARKERS}
    if scd3 is None:
        markers.pop("sCD3")
    else:
        markers["sCD3"] = scd3
    d = diagnosis_of(marrow(80), phenotype(markers))
    assert d.etp == "etp" and d.who_haem5.key == "etp_all"
    if scd3:
        assert "surface CD3" in conclusion(d, "diagnosis.etp").explanation


# EGIL --------------------------------------------------------------------------------


def test_egil_biphenotypic():
    d = diagnosis_of(marrow(80), phenotype({"CD19": 90, "cCD79a": 80, "MPO": 30, "CD13": 50}))
    assert d.egil.biphenotypic and d.egil.lineages == ["b", "myeloid"]
    assert (d.egil.b, d.egil.myeloid) == (3, 3)


@pytest.mark.parametrize("cd19, b_points", [(19, 2), (20, 3)])
def test_egil_surface_positivity_20_percent(cd19, b_points):
    d = diagnosis_of(marrow(80), phenotype({"CD19": cd19, "cCD79a": 80}))
    assert d.egil.b == b_points and not d.egil.biphenotypic


@pytest.mark.parametrize("cd79a, b_points", [(9, 1), (10, 3)])
def test_egil_cytoplasmic_positivity_10_percent(cd79a, b_points):
    d = diagnosis_of(marrow(80), phenotype({"CD19": 50, "cCD79a": cd79a}))
    assert d.egil.b == b_points


# Maturation stage --------------------------------------------------------------------


@pytest.mark.parametrize("changes, stage", [
    ({"CD10": "negative"}, "pro_b"),
    ({}, "common_b"),
    ({"cIgM": "positive"}, "pre_b"),
    ({"sIg": "positive", "CD20": "positive"}, "mature_b"),
])
def test_b_stage(changes, stage):
    assert diagnosis_of(marrow(80), phenotype({**B_MARKERS, **changes})).b_stage == stage


def test_b_stage_needs_cytoplasmic_igm_for_common_vs_pre():
    markers = {k: v for k, v in B_MARKERS.items() if k != "cIgM"}
    d = diagnosis_of(marrow(80), phenotype(markers))
    assert d.b_stage is None
    assert conclusion(d, "diagnosis.b_stage").missing == ["cytoplasmic IgM (common vs pre-B)"]


@pytest.mark.parametrize("changes, stage", [
    ({"CD5": "negative", "CD2": "negative"}, "pro_t"),
    ({"CD5": 90}, "pre_t"),
    ({"CD1a": "positive"}, "cortical_t"),
    ({"sCD3": "positive", "CD5": 90}, "mature_t"),
])
def test_t_stage(changes, stage):
    assert diagnosis_of(marrow(80), phenotype({**ETP_MARKERS, **changes})).t_stage == stage


# Ploidy -------------------------------------------------------------------------------


@pytest.mark.parametrize("modal, category", [
    (24, "near_haploid"), (31, "near_haploid"), (32, "low_hypodiploid"), (39, "low_hypodiploid"),
    (40, "high_hypodiploid"), (43, "high_hypodiploid"), (44, "near_diploid"), (45, "near_diploid"), (46, "diploid"),
    (47, "low_hyperdiploid"), (50, "low_hyperdiploid"), (51, "high_hyperdiploid"), (65, "high_hyperdiploid"),
    (66, "near_triploid"), (79, "near_triploid"), (84, "near_tetraploid"),
])
def test_modal_number_categories(modal, category):
    assert diagnosis_of(cyto(modal_number=modal)).genetics.ploidy == category


@pytest.mark.parametrize("dna_index, category", [
    (1.15, None), (1.16, "high_hyperdiploid"), (1.59, "high_hyperdiploid"), (1.60, None),
    (0.80, "hypodiploid"), (0.81, None),
])
def test_dna_index_without_karyotype(dna_index, category):
    d = diagnosis_of(cyto(dna_index=dna_index))
    assert d.genetics.ploidy == category and d.genetics.dna_index == dna_index


def test_karyotype_count_wins_over_stated_modal_number():
    d = diagnosis_of(cyto(karyotype="56,XX,+X,+4,+6,+10,+14,+17,+18,+21,+21,+21", modal_number=46))
    assert (d.genetics.modal_number, d.genetics.ploidy) == (56, "high_hyperdiploid")
    assert d.karyotype is not None and d.karyotype.modal_number == 56


def test_normal_karyotype_with_hyperdiploid_dna_index_uses_the_index():
    d = diagnosis_of(cyto(karyotype="46,XX[20]", dna_index=1.2))
    assert d.genetics.ploidy == "high_hyperdiploid"


@pytest.mark.parametrize("first_date", ["2024-03-01", "2024-03-03"])
def test_a_normal_karyotype_beside_an_abnormal_one_in_the_work_up_says_nothing_about_ploidy(first_date):
    """46,XX[20] is often normal metaphases, not blasts: the work-up's abnormal karyotype gives the ploidy."""
    d = diagnosis_of(marrow(80), phenotype(B_MARKERS), {**cyto(karyotype="46,XX[20]"), "date": first_date},
                     {**cyto(karyotype="56,XX,+X,+4,+6,+10,+14,+17,+18,+21,+21,+21"), "date": "2024-03-02"})
    assert (d.genetics.modal_number, d.genetics.ploidy) == (56, "high_hyperdiploid")


def test_two_abnormal_karyotypes_of_the_work_up_in_different_ploidy_groups_decide_no_ploidy():
    d = diagnosis_of(marrow(80), phenotype(B_MARKERS), cyto(karyotype="56,XX,+X,+4,+6,+10,+14,+17,+18,+21,+21,+21"),
                     {**cyto(karyotype="35,X,-X,-2,-3,-4,-7,-8,-9,-12,-13,-15,-16,-17"), "date": "2024-03-02"})
    assert d.genetics.ploidy is None
    ploidy = conclusion(d, "diagnosis.ploidy")
    assert not ploidy.determined and len(ploidy.conflicts) == 2


@pytest.mark.parametrize("karyotype", [
    "62,XX,+1,+1,+2,+2,+5,+5,+6,+6,+10,+10,+14,+14,+18,+18,+21,+21",
])
def test_masked_hypodiploidy_is_never_silently_high_hyperdiploid(karyotype):
    d = diagnosis_of(marrow(80), phenotype(B_MARKERS), cyto(karyotype=karyotype))
    assert d.genetics.masked_hypodiploidy_possible is True
    assert d.who_haem5.key is None
    assert "SNP array / DNA index / flow ploidy to exclude a doubled hypodiploid clone" in d.who_haem5.missing


def test_hyperdiploid_with_unpaired_gains_is_not_masked():
    d = diagnosis_of(cyto(karyotype="61,XX,+X,+4,+5,+6,+8,+10,+11,+12,+14,+17,+18,+21,+21,+22,+X"))
    assert d.genetics.masked_hypodiploidy_possible is False and d.genetics.ploidy == "high_hyperdiploid"


def test_hypodiploid_stemline_with_doubled_clone_is_hypodiploid():
    d = diagnosis_of(cyto(karyotype="27,X,+21/54,XX,+21,+21"))
    assert d.genetics.ploidy == "near_haploid" and d.genetics.masked_hypodiploidy_possible is True


def test_hypodiploid_dna_index_beside_hyperdiploid_karyotype_is_masked():
    d = diagnosis_of(cyto(karyotype="56,XX,+X,+4,+6,+10,+14,+17,+18,+21,+21,+21", dna_index=0.7))
    assert d.genetics.masked_hypodiploidy_possible is True


@pytest.mark.parametrize("karyotype, complex_", [
    ("56,XX,+X,+4,+6,+10,+14,+17,+18,+21,+21,+21", False),
    ("46,XY,del(6)(q21),t(2;5)(p13;q31),del(9)(p21),i(17)(q10),add(1)(p36)", True),
    ("46,XY,del(6)(q21),t(2;5)(p13;q31),del(9)(p21),i(17)(q10)", False),
])
def test_complex_karyotype(karyotype, complex_):
    assert diagnosis_of(cyto(karyotype=karyotype)).genetics.complex_karyotype is complex_


# Genetic profile --------------------------------------------------------------------------


def test_partner_fusion_implies_gene_rearrangement():
    d = diagnosis_of(genetics(fusions=["KMT2A::AFF1", "P2RY8::CRLF2", "IGH::DUX4"]))
    for lesion in ("KMT2A_rearrangement", "CRLF2_rearrangement", "IGH_rearrangement", "DUX4_rearrangement"):
        assert lesion in d.genetics.detected


def test_break_apart_negative_covers_every_fusion_of_the_gene():
    d = diagnosis_of(genetics(fusions=["KMT2A::MLLT3"]), genetics(negative=["KMT2A_rearrangement"]))
    assert {"KMT2A::MLLT3", "KMT2A_rearrangement"} <= set(d.genetics.conflicting)
    assert "KMT2A::MLLT3" not in d.genetics.detected


def test_karyotype_translocation_against_negative_fish_is_conflicting():
    d = diagnosis_of(cyto(karyotype="46,XY,t(9;22)(q34;q11.2)[20]"), genetics(negative=["BCR::ABL1"], source="FISH"))
    assert d.genetics.conflicting == ["BCR::ABL1"]
    conflict = conclusion(d, "diagnosis.genetics.conflict")
    assert not conflict.determined and any("t(9;22)" in side for side in conflict.conflicts)
    assert any("not found" in side for side in conflict.conflicts)


def test_karyotype_lesions_use_vocabulary_spelling():
    d = diagnosis_of(cyto(karyotype="46,XX,t(4;11)(q21;q23)[20]"))
    assert "KMT2A_rearrangement" in d.genetics.detected


def test_not_tested_lists_the_b_all_defining_lesions():
    d = diagnosis_of(marrow(80), phenotype(B_MARKERS), genetics(negative=["BCR::ABL1"]))
    assert d.genetics.not_tested == ["KMT2A_rearrangement", "ETV6::RUNX1", "TCF3::PBX1", "iAMP21",
                                     "karyotype or DNA index (ploidy)"]


def test_low_confidence_expression_call_is_reported_not_used():
    d = diagnosis_of(genetics(expression_subtype="Ph-like", expression_confidence=0.4))
    assert d.genetics.expression_subtype == "Ph-like"
    assert "not used" in conclusion(d, "diagnosis.genetics.expression").explanation


# MYC-rearranged B blasts: B-ALL with MYC rearrangement (precursor) or Burkitt -------------------------

MATURE_LOOKING_B = {"CD19": "positive", "CD10": "positive", "cCD79a": "positive", "CD20": "bright", "MPO": "negative",
                    "cCD3": "negative"}


@pytest.mark.parametrize("finding", [
    cyto(karyotype="46,XY,t(8;14)(q24;q32)[20]"),
    cyto(karyotype="46,XY,t(2;8)(p12;q24)[20]"),
    cyto(karyotype="46,XY,t(8;22)(q24;q11.2)[20]"),
    genetics(fusions=["MYC::IGH"], source="FISH IGH/MYC dual fusion"),
    genetics(alterations=["MYC rearranged"], source="FISH MYC break-apart"),
])
def test_myc_rearranged_b_blasts_without_a_precursor_marker_are_not_called_b_all(finding):
    """An IG::MYC rearrangement in CD10+ B blasts with no TdT or CD34 is Burkitt's picture (WHO-HAEM5); ICC 2022's
    B-ALL with MYC rearrangement needs precursor blasts. The disease stays open and asks for the markers."""
    d = diagnosis_of(marrow(80), phenotype(MATURE_LOOKING_B), finding)
    assert "MYC_rearrangement" in d.genetics.detected
    assert d.disease == "indeterminate" and d.who_haem5.key is None
    disease = conclusion(d, "diagnosis.disease")
    assert any("TdT and CD34" in m for m in disease.missing) and "Burkitt" in disease.explanation


@pytest.mark.parametrize("marker", ["TdT", "CD34"])
def test_myc_rearranged_precursor_b_blasts_are_b_all_with_myc_rearrangement(marker):
    d = diagnosis_of(marrow(80), phenotype({**MATURE_LOOKING_B, marker: 60}), cyto(karyotype="46,XY,t(8;14)(q24;q32)[20]"))
    assert d.disease == "ALL"
    assert d.icc_2022.key == "icc_b_all_myc"
    assert conclusion(d, "diagnosis.mature_b").rule == "DX.LINEAGE.MYC_PRECURSOR"


def test_myc_rearranged_b_blasts_negative_for_both_precursor_markers_go_to_review():
    d = diagnosis_of(marrow(80), phenotype({**MATURE_LOOKING_B, "TdT": "negative", "CD34": "negative"}),
                     cyto(karyotype="46,XY,t(8;14)(q24;q32)[20]"))
    assert d.disease == "indeterminate"
    assert any("haematopathology review" in m for m in conclusion(d, "diagnosis.disease").missing)


def test_t_8_14_with_the_t_cell_receptor_alpha_band_is_not_ig_myc():
    d = diagnosis_of(marrow(80), phenotype(B_MARKERS), cyto(karyotype="46,XY,t(8;14)(q24;q11.2)[20]"))
    assert "MYC_rearrangement" not in d.genetics.detected


@pytest.mark.parametrize("karyotype", ["46,XX,t(X;14)(p22;q32)[20]", "46,XY,t(Y;14)(p11.2;q32)[20]"])
def test_crlf2_translocation_in_the_karyotype_is_read_as_igh_crlf2(karyotype):
    d = diagnosis_of(marrow(80), phenotype(B_MARKERS), cyto(karyotype=karyotype))
    assert {"IGH::CRLF2", "CRLF2_rearrangement"} <= set(d.genetics.detected)


# Kinase genes rearranged by break-apart FISH, partner not named --------------------------------------

ALL_DEFINING_NEGATIVE = ["ETV6::RUNX1", "TCF3::PBX1", "KMT2A_rearrangement", "iAMP21"]


def test_jak2_break_apart_without_a_partner_is_a_jak_stat_bcr_abl1_like_lesion():
    """ICC 2022 defines BCR::ABL1-like ALL, JAK-STAT activated, by the rearranged kinase gene; a JAK2 break-apart
    FISH shows JAK2 rearranged even when the partner is unnamed."""
    d = diagnosis_of(marrow(80), phenotype(B_MARKERS), genetics(negative=["BCR::ABL1", *ALL_DEFINING_NEGATIVE]),
                     cyto(karyotype="46,XY[20].nuc ish(JAK2x2)(5'JAK2 sep 3'JAK2x1)[140/200]"))
    assert "JAK2_rearrangement" in d.genetics.detected
    assert d.who_haem5.key == "b_all_bcr_abl1_like"
    assert (d.icc_2022.key, d.icc_2022.subtype) == ("icc_b_all_bcr_abl1_like", "jak_stat")


@pytest.mark.parametrize("gene", ["ABL1", "ABL2", "PDGFRB", "CSF1R"])
def test_abl_class_break_apart_with_bcr_abl1_excluded_is_abl_class(gene):
    d = diagnosis_of(marrow(80), phenotype(B_MARKERS), cyto(karyotype="46,XY[20]"),
                     genetics(alterations=[f"{gene} rearranged"], negative=["BCR::ABL1", *ALL_DEFINING_NEGATIVE],
                              source=f"FISH {gene} break-apart"))
    assert d.who_haem5.key == "b_all_bcr_abl1_like"
    assert (d.icc_2022.key, d.icc_2022.subtype) == ("icc_b_all_bcr_abl1_like", "abl_class")


def test_abl1_break_apart_with_bcr_abl1_untested_is_not_called_bcr_abl1_like():
    """An ABL1 break-apart without a partner is most often BCR::ABL1 itself: until BCR::ABL1 is tested the
    entity is not BCR::ABL1-like and the BCR::ABL1 test is asked for."""
    d = diagnosis_of(marrow(80), phenotype(B_MARKERS), cyto(karyotype="46,XY[20]"),
                     genetics(alterations=["ABL1 rearranged"], negative=ALL_DEFINING_NEGATIVE))
    assert d.who_haem5.key is None
    assert any("BCR::ABL1" in m for m in d.who_haem5.missing)


def test_abl1_break_apart_with_bcr_abl1_excluded_raises_the_abl_class_alert():
    from allcare.engine import assess
    from allcare.engine.case import case_from_dict

    case = case_from_dict({"schema": "allcare.case/1", "patient": {"id": "abl", "age_years": 12}, "findings": [
        marrow(80), phenotype(B_MARKERS), cyto(karyotype="46,XY[20]"),
        genetics(alterations=["ABL1 rearranged"], negative=["BCR::ABL1", *ALL_DEFINING_NEGATIVE])]})
    assert "abl_class_tki" in [a.code for a in assess(case).alerts]


# Stated modal numbers and DNA indices ---------------------------------------------------------------

@pytest.mark.parametrize("field, values", [("modal_number", (56, 46)), ("modal_number", (46, 56)),
                                           ("dna_index", (1.20, 1.0)), ("dna_index", (1.0, 1.20))])
def test_two_stated_ploidy_values_of_one_day_in_different_groups_leave_the_ploidy_open(field, values):
    """Results carry a date, not a time (docs/decisions.md#same-day): neither value of the day is 'the first'."""
    d = diagnosis_of(marrow(80), phenotype(B_MARKERS), cyto(**{field: values[0]}), cyto(**{field: values[1]}))
    ploidy = conclusion(d, "diagnosis.ploidy")
    assert not ploidy.determined and len(ploidy.conflicts) == 2
    assert d.genetics.ploidy is None


def test_two_stated_values_of_one_day_in_one_group_decide():
    d = diagnosis_of(marrow(80), phenotype(B_MARKERS), cyto(modal_number=55), cyto(modal_number=56))
    assert d.genetics.ploidy == "high_hyperdiploid"


def test_a_stated_hyperdiploid_count_without_a_karyotype_says_masked_hypodiploidy_was_not_checked():
    """A doubled near-haploid clone has 48-62 chromosomes: only the karyotype's paired changes (or a SNP array)
    betray it, so a bare count in that range is high hyperdiploid with the check named as not done."""
    d = diagnosis_of(marrow(80), phenotype(B_MARKERS), cyto(modal_number=56))
    ploidy = conclusion(d, "diagnosis.ploidy")
    assert d.genetics.ploidy == "high_hyperdiploid" and ploidy.determined
    assert "masked hypodiploidy" in ploidy.explanation and ploidy.missing
    with_karyotype = conclusion(diagnosis_of(marrow(80), phenotype(B_MARKERS),
                                             cyto(karyotype="56,XY,+X,+4,+6,+10,+14,+17,+18,+21,+21,+21[20]")),
                                "diagnosis.ploidy")
    assert with_karyotype.determined and not with_karyotype.missing


def test_leukaemia_called_from_the_blood_still_asks_for_the_marrow():
    d = diagnosis_of({"type": "cbc", "date": DX, "wbc": 80, "blasts_pct": 70}, phenotype(B_MARKERS))
    disease = conclusion(d, "diagnosis.disease")
    assert d.disease == "ALL" and disease.rule == "DX.DISEASE.BLOOD_BLASTS"
    assert "bone marrow aspirate with blast percentage" in disease.missing


@pytest.mark.parametrize("karyotype", ["48,XY,+X,+21[20]", None])
def test_a_low_hyperdiploid_count_against_a_high_hyperdiploid_dna_index_leaves_the_ploidy_open(karyotype):
    """47-50 chromosomes is a DNA index of about 1.02-1.09; an index of 1.20 (about 55 chromosomes) disagrees with it
    as much as with a diploid count: neither is silently dropped."""
    fields = {"karyotype": karyotype} if karyotype else {"modal_number": 48}
    d = diagnosis_of(marrow(80), phenotype(B_MARKERS), cyto(**fields, dna_index=1.20))
    ploidy = conclusion(d, "diagnosis.ploidy")
    assert not ploidy.determined and ploidy.conflicts


@pytest.mark.parametrize("fields", [{"dna_index": 1.20}, {"karyotype": "46,XX[20]", "dna_index": 1.20}])
def test_a_hyperdiploid_dna_index_without_an_abnormal_karyotype_says_masking_was_not_checked(fields):
    d = diagnosis_of(marrow(80), phenotype(B_MARKERS), cyto(**fields))
    ploidy = conclusion(d, "diagnosis.ploidy")
    assert d.genetics.ploidy == "high_hyperdiploid" and ploidy.determined
    assert "masked hypodiploidy" in ploidy.explanation and ploidy.missing


@pytest.mark.parametrize("order", [(40, 10), (10, 40)])
def test_same_day_blood_counts_on_both_sides_of_the_line_leave_the_disease_open_whatever_their_order(order):
    """Without a marrow, two blood counts of the diagnosis day (40% and 10% blasts) straddle the 20% line:
    findings carry a date, not a time, so neither is 'the' count (docs/decisions.md#same-day); the order the
    file lists them in called ALL or not."""
    counts = [{"type": "cbc", "date": DX, "wbc": 30, "blasts_pct": pct} for pct in order]
    d = diagnosis_of(*counts, phenotype(B_MARKERS))
    disease = conclusion(d, "diagnosis.disease")
    assert d.disease == "indeterminate" and not disease.determined
    assert "40" in disease.explanation and "10" in disease.explanation
    assert "bone marrow aspirate with blast percentage" in disease.missing
    assert disease.conflicts


def test_same_day_blood_counts_on_one_side_of_the_line_still_call_the_leukaemia():
    d = diagnosis_of({"type": "cbc", "date": DX, "blasts_pct": 40}, {"type": "cbc", "date": DX, "blasts_pct": 60},
                     phenotype(B_MARKERS))
    assert d.disease == "ALL" and conclusion(d, "diagnosis.disease").rule == "DX.DISEASE.BLOOD_BLASTS"
