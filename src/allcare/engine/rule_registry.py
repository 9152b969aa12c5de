"""Every rule id the engine emits, declared once: what it decides, the parameters it reads, its source.

A table, not logic: the rules themselves live beside their data (``karyotype/recurrent.py``,
``cns.py``, ``response/timeline.py`` ...) and write their id as a literal. This table is what a
reader (``docs/rules.md``, generated from it by ``allcare schema rule-catalogue``) and the tests
check them against: an emitted id that is not declared here, a declared id no code writes, a
parameter that is not in the rule set (``rules.py``) or a source that is not in ``sources.py``
fails ``tests/test_rule_registry.py``.

``decision`` names the section of ``docs/decisions.md`` where allcare chose between readings the
sources leave open.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import sources as s


@dataclass(frozen=True, slots=True)
class DeclaredRule:
    id: str
    title: str
    source: str
    params: tuple[str, ...] = ()
    decision: str | None = None
    """Anchor in docs/decisions.md, when the rule follows a choice allcare made."""


@dataclass(frozen=True, slots=True)
class RuleArea:
    name: str
    rules: tuple[DeclaredRule, ...]


R = DeclaredRule

_PLOIDY = ("high_hyperdiploid_min", "high_hyperdiploid_max", "hypodiploid_max", "near_haploid", "low_hypodiploid",
           "high_hypodiploid")
_DNA_INDEX = ("hyperdiploid_dna_index_min", "hyperdiploid_dna_index_max", "hypodiploid_dna_index_below")
_CNS = ("csf_wbc_cns3", "csf_rbc_traumatic", "cns_diagnostic_window_days")
_EOI = ("end_of_induction_min_days", "induction_days", "end_of_induction_grace_days")
_CR = ("m1_below_pct", "cr_mrd_below", "cr_anc_min", "cr_platelets_min", "cr_count_window_days", "cr_extramedullary_window_days",
       "mrd_pairing_window_days")
_RELAPSE = ("relapse_marrow_pct", "relapse_confirm_mrd", "m1_below_pct")
_I_BFM = ("relapse_very_early_months", "relapse_late_after_therapy_months")
_COG_RELAPSE = ("cog_relapse_age", "cog_relapse_marrow_early_months", "cog_relapse_extramedullary_early_months",
                "cog_relapse_mrd_high_from")
_CPIC = ("cpic_reduce_if_start_from_mg_m2_day",)
_MAINT = ("maintenance", "maintenance_count_max_age_days")
_FEVER = ("fever_single_min", "fever_sustained_min", "fever_sustained_minutes", "febrile_neutropenia_anc_below",
          "febrile_neutropenia_anc_window_days")
_TLS = ("tls_window_days", "tls_criteria_min", "tls_uric_acid_min", "tls_potassium_min", "tls_phosphate_child_min",
        "tls_phosphate_adult_min", "tls_calcium_max", "tls_change_pct", "tls_baseline_days", "tls_creatinine_uln_factor",
        "paediatric_age_below")
_MTX = ("mtx_short_infusion_max_hours", "mtx_glucarpidase_lines", "mtx_long_infusion_line")
_ASPARAGINASE = ("asparaginase_activity_min", "asparaginase_pegaspargase_days", "asparaginase_native_days",
                 "asparaginase_erwinia_days")
_ANTHRACYCLINE = ("anthracycline_equivalence", "anthracycline_moderate_min", "anthracycline_high_risk_min")

REGISTRY: tuple[RuleArea, ...] = (
    RuleArea("Karyotype", (
        R("KARYO.T_9_22", "t(9;22)(q34;q11): BCR::ABL1", s.ISCN_2020),
        R("KARYO.T_12_21", "t(12;21)(p13;q22): ETV6::RUNX1", s.ISCN_2020),
        R("KARYO.T_1_19", "t(1;19)(q23;p13): TCF3::PBX1", s.ISCN_2020),
        R("KARYO.T_4_11", "t(4;11)(q21;q23): KMT2A rearrangement", s.ISCN_2020),
        R("KARYO.T_17_19", "t(17;19)(q22;p13): TCF3::HLF", s.ISCN_2020),
        R("KARYO.T_5_14", "t(5;14)(q31;q32): IGH::IL3", s.ISCN_2020),
        R("KARYO.IG_MYC", "t(8;14)(q24;q32), t(2;8)(p11;q24) or t(8;22)(q24;q11): MYC joined to an immunoglobulin "
          "locus", s.ISCN_2020),
        R("KARYO.IGH_CRLF2", "t(X;14)(p22;q32) or t(Y;14)(p11;q32): IGH::CRLF2", s.ISCN_2020),
        R("KARYO.KMT2A_11Q23", "any translocation, insertion, inversion or derivative at 11q23: KMT2A rearranged", s.ISCN_2020),
        R("KARYO.KMT2A_11Q23_SUGGESTED", "del or add at 11q23 suggests a KMT2A rearrangement; KMT2A FISH decides",
          s.ISCN_2020),
        R("KARYO.IAMP21", "iAMP21 written in the karyotype", s.ISCN_2020),
    )),
    RuleArea("FISH in the ISCN string", (
        R("FISH.FUSION", "con = fusion; two separate signals without con = tested negative", s.ISCN_2020),
        R("FISH.BREAK_APART", "sep = rearranged; two joined signals = tested negative", s.ISCN_2020),
        R("FISH.COPY_NUMBER", "0 or 1 copy of a tumour-suppressor probe = deletion", s.ISCN_2020),
        R("FISH.IAMP21", "RUNX1 >= 5 copies, >= 3 more than the chromosomes 21 = iAMP21", s.IAMP21_FISH,
          ("iamp21_runx1_min_copies", "iamp21_extra_copies_min")),
    )),
    RuleArea("Genetics", (
        R("DX.GENETICS.MERGE", "the work-up's karyotype, FISH, PCR and panels merged per lesion", s.WHO_HAEM5,
          ("complex_karyotype_min",)),
        R("DX.GENETICS.CONFLICT", "a lesion reported both found and not found is conflicting", s.WHO_HAEM5),
        R("DX.GENETICS.EXPRESSION", "expression-classifier calls: kept, promoted only when confident and confirmed",
          s.WHO_HAEM5, ("expression_confidence_min",), "classifier-calls"),
        R("DX.GENETICS.SUGGESTED", "a lesion the karyotype suggests but cannot show asks for its test", s.WHO_HAEM5),
    )),
    RuleArea("Ploidy", (
        R("DX.PLOIDY.MODAL", "ploidy group from the modal number of every clone", s.WHO_HAEM5, _PLOIDY),
        R("DX.PLOIDY.DNA_INDEX", "ploidy group from the DNA index when no karyotype decides", s.WHO_HAEM5, _DNA_INDEX),
        R("DX.PLOIDY.MASKED", "a doubled hypodiploid clone (changes in pairs) is possible masked hypodiploidy",
          s.WHO_HAEM5, ("masked_hypodiploidy", "masked_near_haploid_doubled"), "masked-hypodiploidy"),
        R("DX.PLOIDY.CONFLICT", "karyotype and DNA index disagree: the ploidy group stays open", s.WHO_HAEM5,
          _PLOIDY + _DNA_INDEX),
    )),
    RuleArea("Disease", (
        R("DX.DISEASE.MARROW_BLASTS", "without a tissue mass: marrow lymphoblasts at or above WHO's floor = ALL",
          s.WHO_2016, ("leukaemia_marrow_blast_pct",), "all-vs-lbl"),
        R("DX.DISEASE.LBL_MASS", "with a tissue mass: marrow blasts at or above the staging line = ALL, fewer = "
          "lymphoblastic lymphoma", s.WHO_2016, ("lymphoma_marrow_blast_pct",), "all-vs-lbl"),
        R("DX.DISEASE.LOW_BLASTS", "marrow blasts below the line without a mass: not ALL by the count", s.WHO_2016,
          ("leukaemia_marrow_blast_pct",), "all-vs-lbl"),
        R("DX.DISEASE.BLOOD_BLASTS", "blood blasts at the leukaemia line without a marrow = leukaemia; the marrow is "
          "still asked for", s.WHO_2016, ("leukaemia_marrow_blast_pct", "lymphoma_marrow_blast_pct"), "all-vs-lbl"),
        R("DX.DISEASE.NO_MARROW", "no marrow and no mass: the disease cannot be decided", s.WHO_2016),
        R("DX.DISEASE.IGH_IL3_LOW_BLASTS", "IGH::IL3 may be diagnosed with fewer blasts", s.WHO_HAEM5,
          ("leukaemia_marrow_blast_pct",)),
        R("DX.DISEASE.MATURE_B", "surface-immunoglobulin-positive mature B blasts are not ALL", s.WHO_2016),
        R("DX.DISEASE.LINEAGE_UNKNOWN", "blasts without an immunophenotype: ALL cannot be told from AML", s.WHO_2016,
          (), "no-immunophenotype"),
        R("DX.DISEASE.NOT_LYMPHOID", "myeloid-only blasts are not ALL", s.WHO_2016_MPAL),
    )),
    RuleArea("Lineage", (
        R("DX.LINEAGE.SINGLE", "one lineage meets its criteria: B, T or myeloid", s.WHO_2016_MPAL,
          ("surface_marker_positive_pct", "cytoplasmic_marker_positive_pct", "mpo_positive_above_pct")),
        R("DX.LINEAGE.WHO_MPAL", "more than one lineage, each meeting the WHO intensity criteria = MPAL", s.WHO_2016_MPAL,
          ("surface_marker_positive_pct", "cytoplasmic_marker_positive_pct", "mpo_positive_above_pct")),
        R("DX.LINEAGE.ETP_PRECEDENCE", "ETP-ALL with myeloid markers stays T (ETP), not MPAL", s.ETP_DEF,
          ("etp_mpo_below_pct",)),
        R("DX.LINEAGE.MYELOID_ONLY", "only myeloid criteria met", s.WHO_2016_MPAL),
        R("DX.LINEAGE.MATURE_B", "sIg+ mature B phenotype", s.MATURATION_STAGES),
        R("DX.LINEAGE.MYC_PRECURSOR", "MYC-rearranged B blasts are B-ALL only when a precursor marker (TdT, CD34) "
          "shows them, else Burkitt lymphoma/leukaemia stays open", s.WHO_HAEM5, (), "myc-rearranged"),
        R("DX.LINEAGE.NONE_MET", "no lineage meets its criteria", s.WHO_2016_MPAL),
        R("DX.LINEAGE.CONFLICT", "reports disagree on a marker the lineage turns on: the lineage stays open", s.WHO_2016_MPAL),
        R("DX.LINEAGE.NO_IMMUNOPHENOTYPE", "no immunophenotype in the work-up", s.WHO_2016_MPAL),
        R("DX.EGIL.SCORE", "EGIL points (legacy second opinion)", s.EGIL_1995),
        R("DX.STAGE.B_EGIL", "B maturation stage (pro-B, common, pre-B, mature)", s.MATURATION_STAGES),
        R("DX.STAGE.T_EGIL", "T maturation stage (pro-, pre-, cortical, mature T)", s.MATURATION_STAGES),
        R("DX.ETP.DEFINITION", "early T-precursor phenotype", s.ETP_DEF,
          ("etp_cd1a_below_pct", "etp_cd8_below_pct", "etp_cd5_near_pct", "etp_stem_myeloid_min_pct",
           "etp_mpo_below_pct"), "etp"),
    )),
    RuleArea("Entity", (
        R("DX.ENTITY.WHO_HAEM5", "WHO-HAEM5 genetic entity by lesion precedence", s.WHO_HAEM5, (), "entity-precedence"),
        R("DX.ENTITY.ICC_2022", "ICC 2022 genetic entity by lesion precedence", s.ICC_2022, (), "entity-precedence"),
    )),
    RuleArea("Codes", (
        R("CODE.ICD_O_3.ENTITY", "ICD-O-3 morphology from the entity and lineage", s.ICD_O_3),
        R("CODE.ICD_O_3.TOPOGRAPHY", "ICD-O-3 topography: bone marrow for a leukaemia, the mass's site for a lymphoma",
          s.SEER_HEME_MANUAL, (), "codes"),
        R("CODE.ICD_10_CM.STATUS", "ICD-10-CM from the disease and the status at the assessment date", s.ICD_10_CM,
          (), "coding-suspected-relapse"),
        R("CODE.SNOMED_CT.LINEAGE", "SNOMED CT concept from the disease and lineage", s.SNOMED_CT),
    )),
    RuleArea("Blood counts", (
        R("COUNTS.CTCAE.GRADES", "CTCAE grades of the counts at or above grade 3", s.CTCAE_V5, (), "ctcae-counts"),
        R("COUNTS.CTCAE.GRADE1_NEEDS_LLN", "grade 1 needs the lower limit of normal", s.CTCAE_V5, (), "ctcae-counts"),
        R("COUNTS.CTCAE.BOUND", "a count reported as a bound is graded three-valued", s.CTCAE_V5, (), "bounds"),
        R("COUNTS.CTCAE.ABSOLUTE_LINES", "grade 2 from CTCAE's absolute lines within the range for age", s.CTCAE_V5,
          (), "ctcae-counts"),
        R("COUNTS.NAMED", "pancytopenia and circulating blasts", s.CTCAE_V5),
    )),
    RuleArea("CNS", (
        R("CNS.STATUS.NO_LP", "no diagnostic lumbar puncture: CNS status open", s.COG_CNS, ("cns_diagnostic_window_days",)),
        R("CNS.STATUS.CLINICAL_SIGNS", "clinical or imaging CNS disease = CNS3", s.COG_CNS),
        R("CNS.STATUS.NO_BLASTS", "no blasts in the CSF = CNS1", s.COG_CNS, _CNS),
        R("CNS.STATUS.CSF_WBC", "CSF WBC and blasts in an atraumatic tap: CNS2a-c or CNS3a", s.COG_CNS, _CNS,
          "cns-lines"),
        R("CNS.STATUS.TRAUMATIC_TAP", "traumatic tap with blasts: CNS2b/c or CNS3b by Steinherz/Bleyer", s.COG_CNS,
          _CNS + ("steinherz_bleyer_factor", "cns_blood_count_window_days"), "cns-lines"),
        R("CNS.STATUS.STEINHERZ_BLEYER", "Steinherz/Bleyer ratio on the nearest blood count", s.COG_CNS,
          ("steinherz_bleyer_factor", "cns_blood_count_window_days"), "cns-lines"),
        R("CNS.STATUS.CYTOSPIN", "cytospin result decides blasts present or absent", s.COG_CNS, _CNS),
        R("CNS.STATUS.LATER_LP", "a later lumbar puncture's status (not the diagnostic status)", s.COG_CNS, _CNS),
        R("CNS.STATUS.CONFLICT", "lumbar punctures of the diagnostic day disagree: the status stays open", s.COG_CNS, _CNS),
        R("CNS.LATER_CNS_INVOLVEMENT", "new CNS disease after the work-up: relapse evidence", s.COG_CNS),
        R("CNS.LATER_TESTIS_INVOLVEMENT", "new testicular disease after the work-up: relapse evidence", s.TESTICULAR),
        R("CNS.TESTICULAR", "testicular involvement at diagnosis", s.TESTICULAR),
        R("CNS.TRAUMATIC_LP_WITH_BLASTS", "traumatic diagnostic tap with blasts: a risk factor of its own",
          s.TRAUMATIC_LP, ("csf_rbc_traumatic",)),
    )),
    RuleArea("Risk", (
        R("RISK.NCI", "NCI/Rome standard or high risk (B-ALL)", s.NCI_ROME,
          ("nci_age_high_from", "nci_wbc_high_from", "nci_age_max_below", "infant_age_below",
           "presenting_wbc_lookback_days", "diagnostic_window_days")),
        R("RISK.GENETIC", "NCCN genetic risk group", s.NCCN_GENETIC,
          _PLOIDY[:3] + _DNA_INDEX + ("complex_karyotype_min",)),
        R("RISK.ADULT", "adult adverse factors", s.ELN_2024,
          ("paediatric_age_below", "adult_age_adverse_from", "adult_wbc_b_above", "adult_wbc_t_above",
           "adult_mrd_adverse", "mrd_required_sensitivity", "prephase_poor_blasts_from",
           "prephase_response_window_days", "surface_marker_positive_pct")),
        R("RISK.COG", "COG-style risk group (inferred from PDQ Table 1)", s.COG_PDQ_TABLE1,
          ("cog_hr_age_split", "cog_mrd_low_below", "cog_day8_mrd_high_from", "cog_day8_window_days",
           "cog_day29_window_days", "nci_age_max_below", "infant_age_below")),
        R("RISK.INFANT", "infant ALL (under one year)", s.NCI_ROME, ("infant_age_below",)),
        R("RISK.INTERFANT", "Interfant-99 risk for KMT2A-rearranged infants", s.INTERFANT_99,
          ("interfant_age_below", "interfant_wbc_from", "prephase_poor_blasts_from")),
        R("RISK.DOWN_SYNDROME", "Down syndrome ALL", s.DOWN_SYNDROME),
        R("RISK.MRD_PERSISTENCE", "MRD at the end of induction and of consolidation", s.MRD_PERSISTENCE,
          _EOI + ("end_of_consolidation_window_days", "mrd_negative_below"), "end-of-induction"),
    )),
    RuleArea("Response and status", (
        R("RESPONSE.NEWLY_DIAGNOSED", "diagnosed, before treatment", s.NCCN_ELN_RESPONSE),
        R("RESPONSE.ON_TREATMENT", "on treatment, no response marrow yet", s.NCCN_ELN_RESPONSE),
        R("RESPONSE.CR", "complete remission: M1 marrow with recovered counts", s.NCCN_ELN_RESPONSE, _CR,
          "remission-count-window"),
        R("RESPONSE.CRI", "remission with incomplete count recovery", s.NCCN_ELN_RESPONSE, _CR,
          "remission-count-window"),
        R("RESPONSE.REFRACTORY", "induction failure", s.NCCN_ELN_RESPONSE,
          _EOI + ("m1_below_pct", "m3_from_pct", "cr_mrd_below", "eoi_m2_slow_response"), "slow-early-response"),
        R("RESPONSE.REFRACTORY.PERSISTING", "refractory disease persisting", s.NCCN_ELN_RESPONSE, ("m1_below_pct",)),
        R("RESPONSE.SLOW_EARLY_RESPONSE", "M2 marrow at the end of first-line induction in a child", s.COG_RESPONSE,
          ("m1_below_pct", "m3_from_pct", "cr_mrd_below", "eoi_m2_slow_response", "paediatric_age_below"),
          "slow-early-response"),
        R("RESPONSE.SUSPECTED_RELAPSE", "5 to < 25% marrow involvement without confirmation", s.PONTE_DI_LEGNO,
          _RELAPSE, "relapse-tiers"),
        R("RESPONSE.RELAPSE.MARROW", "marrow relapse", s.PONTE_DI_LEGNO, _RELAPSE, "relapse-tiers"),
        R("RESPONSE.RELAPSE.EXTRAMEDULLARY", "new extramedullary disease = relapse", s.PONTE_DI_LEGNO,
          ("cr_extramedullary_window_days",)),
        R("RESPONSE.RELAPSE.PERSISTING", "relapsed disease persisting", s.PONTE_DI_LEGNO, ("m1_below_pct",)),
        R("RESPONSE.CONTINUING_REMISSION", "continuing remission", s.NCCN_ELN_RESPONSE, ("mrd_negative_below",)),
        R("RESPONSE.INDETERMINATE", "status cannot be determined from the data", s.NCCN_ELN_RESPONSE, _CR,
          "remission-count-window"),
        R("RESPONSE.MOLECULAR_RELAPSE", "MRD recurrence or a one-log rise in remission", s.ELN_MRD,
          ("mrd_negative_below", "mrd_rise_factor"), "molecular-relapse"),
        R("MRD.STATUS", "MRD negative, positive or not evaluable", s.ELN_MRD,
          ("mrd_negative_below", "mrd_required_sensitivity"), "mrd-lines"),
        R("STATUS.CURRENT", "the status at the assessment date", s.NCCN_ELN_RESPONSE),
        R("STATUS.EOI_ASSESSMENT", "whether the end-of-induction assessment exists", s.TREATMENT_PHASES, _EOI,
          "end-of-induction"),
    )),
    RuleArea("Course and relapse", (
        R("COURSE.EPISODE", "the diagnosis and each relapse as episodes with their work-ups", s.DISEASE_EPISODES,
          ("diagnostic_window_days", "workup_sample_grace_days", "workup_result_grace_days",
           "relapse_workup_lookback_days", "m1_below_pct"), "episodes"),
        R("COURSE.MONITORING", "genetic results outside every work-up are response monitoring", s.DISEASE_EPISODES,
          ("complex_karyotype_min",), "episodes"),
        R("COURSE.RELAPSE.SITE", "relapse site: isolated marrow, extramedullary, combined", s.RELAPSE_SITE,
          ("m1_below_pct",), "relapse-site"),
        R("COURSE.RELAPSE.TIMING", "relapse timing: very early, early, late (I-BFM and COG)", s.RELAPSE_TIMING,
          _I_BFM + ("cog_relapse_marrow_early_months", "cog_relapse_extramedullary_early_months"), "relapse-timing"),
        R("COURSE.RELAPSE.RISK.BFM", "ALL-REZ BFM strategy group and IntReALL risk", s.BFM_RELAPSE,
          _I_BFM + ("relapse_risk_age_below",), "relapse-timing"),
        R("COURSE.RELAPSE.RISK.COG", "COG first-relapse risk group (AALL1331)", s.COG_RELAPSE,
          _COG_RELAPSE + _EOI, "relapse-timing"),
        R("COURSE.RELAPSE.PHENOTYPE", "the relapse's lineage and CD19/CD22 antigens", s.LINEAGE_SWITCH),
        R("COURSE.RELAPSE.GENETICS", "lesions new at relapse", s.WHO_HAEM5),
        R("COURSE.RELAPSE.CONTEXT", "therapy before the relapse (immunotherapy, HSCT, TKI)", s.LINEAGE_SWITCH),
    )),
    RuleArea("Maintenance", (
        R("MAINT.TARGETS", "the protocol family's count band and doses", s.ALLMT_METRICS, ("maintenance",)),
        R("MAINT.TIME_IN_TARGET", "weighted share of counts in the band", s.ALLMT_METRICS, ("maintenance",)),
        R("MAINT.DOSE_INTENSITY", "prescribed over protocol dose", s.ALLMT_METRICS,
          ("maintenance", "bsa_formula", "body_size_max_age_days")),
        R("MAINT.SUGGEST.HOLD", "hold both drugs", s.ALLMT_METRICS, _MAINT),
        R("MAINT.SUGGEST.REDUCE", "reduce to half the maximum tolerated dose", s.ALLMT_METRICS, _MAINT),
        R("MAINT.SUGGEST.RECOVER", "back to the maximum tolerated dose", s.ALLMT_METRICS, _MAINT),
        R("MAINT.SUGGEST.CONTINUE", "continue the current doses", s.ALLMT_METRICS, _MAINT),
        R("MAINT.SUGGEST.ESCALATE_MERCAPTOPURINE", "increase mercaptopurine", s.ALLMT_METRICS, _MAINT),
        R("MAINT.SUGGEST.ESCALATE_METHOTREXATE", "increase methotrexate", s.ALLMT_METRICS, _MAINT),
        R("MAINT.SUGGEST.WAIT_AFTER_ESCALATION", "wait two weeks after a mercaptopurine increase", s.ALLMT_METRICS,
          _MAINT),
        R("MAINT.SUGGEST.TITRATE_UP", "count above the band: doses up (direction only)", s.ALLMT_METRICS, _MAINT),
        R("MAINT.SUGGEST.TITRATE_DOWN", "count below the band: doses down (direction only)", s.ALLMT_METRICS, _MAINT),
        R("MAINT.SUGGEST.NEEDS_COUNT", "a suggestion needs ANC and platelets", s.ALLMT_METRICS, _MAINT),
        R("MAINT.SUGGEST.NO_RECENT_COUNT", "no count recent enough for a suggestion", s.ALLMT_METRICS, _MAINT),
        R("MAINT.SUGGEST.COUNT_OFF_DRUG", "the latest count was taken while a drug was held: no keep or raise step",
          s.ALLMT_METRICS, _MAINT),
        R("MAINT.SUGGEST.SAME_DAY_CONFLICT", "the latest day's counts fall in different zones: no dose step", s.ALLMT_METRICS,
          _MAINT),
    )),
    RuleArea("Pharmacogenetics", (
        R("CPIC.THIOPURINE.TPMT_PM", "TPMT poor metaboliser", s.CPIC_THIOPURINES),
        R("CPIC.THIOPURINE.NUDT15_PM", "NUDT15 poor metaboliser", s.CPIC_THIOPURINES),
        R("CPIC.THIOPURINE.IM_BOTH", "intermediate metaboliser of both genes", s.CPIC_THIOPURINES),
        R("CPIC.THIOPURINE.IM_ONE", "intermediate metaboliser of one gene, high normal start", s.CPIC_THIOPURINES, _CPIC),
        R("CPIC.THIOPURINE.IM_ONE_LOW_START", "intermediate metaboliser of one gene, low normal start",
          s.CPIC_THIOPURINES, _CPIC),
        R("CPIC.THIOPURINE.NORMAL", "normal metaboliser of both genes", s.CPIC_THIOPURINES),
        R("CPIC.THIOPURINE.INDETERMINATE", "indeterminate phenotype", s.CPIC_THIOPURINES),
        R("CPIC.THIOPURINE.INCOMPLETE", "one gene's result missing", s.CPIC_THIOPURINES),
        R("CPIC.THIOPURINE.CONFLICT", "conflicting results for one gene", s.CPIC_THIOPURINES),
    )),
    RuleArea("Toxicity", (
        R("CHEM.CTCAE.GRADES", "CTCAE chemistry grades", s.CTCAE_V5, ("liver_alert_min_grade",), "ctcae-chemistry"),
        R("TOX.FN.IDSA", "fever with ANC below the line = febrile neutropenia", s.IDSA_FN,
          _FEVER + ("febrile_neutropenia_alert_days",), "fever"),
        R("TOX.FN.ANC_UNKNOWN", "fever during treatment without a count", s.IDSA_FN, _FEVER, "fever"),
        R("TOX.FN.RECORDED", "febrile neutropenia recorded as an adverse event", s.CTCAE_V5_FN,
          ("febrile_neutropenia_alert_days",)),
        R("TOX.TLS.CAIRO_BISHOP", "laboratory tumour lysis syndrome", s.CAIRO_BISHOP, _TLS, "tumour-lysis"),
        R("TOX.TLS.CLINICAL", "clinical tumour lysis syndrome and its grade", s.CAIRO_BISHOP, _TLS, "tumour-lysis"),
        R("TOX.MTX.CONSENSUS", "methotrexate level above the consensus line", s.GLUCARPIDASE_CONSENSUS, _MTX,
          "methotrexate"),
        R("TOX.MTX.DELAYED", "delayed methotrexate clearance", s.GLUCARPIDASE_CONSENSUS, _MTX, "methotrexate"),
        R("TOX.MTX.GLUCARPIDASE", "glucarpidase criteria met", s.GLUCARPIDASE_CONSENSUS,
          _MTX + ("mtx_aki_creatinine_factor",), "methotrexate"),
        R("TOX.ASPARAGINASE.ACTIVITY", "asparaginase activity at its time point", s.ASPARAGINASE_CONSENSUS,
          _ASPARAGINASE, "asparaginase"),
        R("TOX.ASPARAGINASE.TIMING", "level taken outside the product's time window", s.ASPARAGINASE_CONSENSUS,
          _ASPARAGINASE),
        R("TOX.ASPARAGINASE.INACTIVATION", "silent inactivation confirmed", s.ASPARAGINASE_CONSENSUS, _ASPARAGINASE,
          "asparaginase"),
        R("TOX.ANTHRACYCLINE.CUMULATIVE", "cumulative doxorubicin-equivalent dose", s.IGHG_CARDIO, _ANTHRACYCLINE,
          "anthracyclines"),
    )),
    RuleArea("Alerts", (
        R("ALERT.HYPERLEUKOCYTOSIS", "WBC above the hyperleukocytosis line", s.CTCAE_V5,
          ("hyperleukocytosis_above", "count_alert_max_age_days"), "count-alert-age"),
        R("ALERT.MEDIASTINAL_MASS", "mediastinal mass: anaesthesia and airway risk", s.TREATMENT_PHASES),
        R("ALERT.SEVERE_NEUTROPENIA", "latest ANC below the line", s.CTCAE_V5, ("severe_neutropenia_below", "count_alert_max_age_days"),
          "bounds"),
        R("ALERT.SEVERE_THROMBOCYTOPENIA", "latest platelets below the line", s.CTCAE_V5,
          ("severe_thrombocytopenia_below", "count_alert_max_age_days"), "bounds"),
        R("ALERT.CNS_DISEASE", "CNS disease at diagnosis", s.COG_CNS),
        R("ALERT.CNS_RELAPSE", "CNS relapse", s.PONTE_DI_LEGNO),
        R("ALERT.TESTICULAR_DISEASE", "testicular disease", s.COG_CNS),
        R("ALERT.PH_POSITIVE", "Ph+ ALL: TKI-based therapy", s.TKI_LABELS),
        R("ALERT.ABL_CLASS_TKI", "ABL-class fusion: a TKI may apply", s.ABL_CLASS, (), "abl-class"),
        R("ALERT.GERMLINE_TP53", "TP53 in low-hypodiploid ALL: germline testing", s.LI_FRAUMENI, (), "germline-tp53"),
        R("ALERT.IMMUNOTHERAPY.RELAPSED_REFRACTORY", "relapsed or refractory disease: labelled immunotherapies",
          s.FDA_LABELS, (), "immunotherapy-labels"),
        R("ALERT.IMMUNOTHERAPY.MRD", "MRD in remission at the blinatumomab line", s.FDA_LABELS,
          ("immunotherapy_mrd_min",), "immunotherapy-labels"),
        R("ALERT.LINEAGE_SWITCH", "lineage switch at relapse", s.LINEAGE_SWITCH),
        R("ALERT.ANTIGEN_LOSS", "CD19 or CD22 lost at relapse", s.LINEAGE_SWITCH),
        R("ALERT.MRD_RECURRENCE", "molecular relapse", s.ELN_MRD, ("mrd_negative_below", "mrd_rise_factor"),
          "molecular-relapse"),
        R("ALERT.MRD_PERSISTENT", "MRD persisting at the end of consolidation", s.MRD_PERSISTENCE),
        R("ALERT.DOWN_SYNDROME", "Down syndrome: treatment-related toxicity", s.DOWN_SYNDROME),
        R("ALERT.MISSING_END_OF_INDUCTION", "end-of-induction assessment overdue", s.TREATMENT_PHASES, _EOI,
          "end-of-induction"),
        R("ALERT.STALE_DATA", "assessment date long after the latest finding", s.DISEASE_EPISODES,
          ("stale_data_days",), "assessment-date"),
        R("ALERT.BEFORE_DIAGNOSIS", "assessment date before the diagnosis", s.DISEASE_EPISODES, (), "assessment-date"),
    )),
)

RULES: dict[str, DeclaredRule] = {rule.id: rule for area in REGISTRY for rule in area.rules}
