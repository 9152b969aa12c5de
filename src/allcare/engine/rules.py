"""The versioned rule set: every clinical threshold the engine uses, by name.

Guidelines disagree (20% vs 25% marrow blasts, hypodiploid sub-group bounds ...),
and a centre must be able to choose its protocol's value. So no threshold is a
literal in the rule code: each is a named parameter here, with its default and,
where sources leave room, the choice explained in ``docs/decisions.md``; and every assessment names the version of
the rule set it used. A centre's file overrides some parameters and gets a
version of its own.
"""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .maintenance_targets import DEFAULT_MAINTENANCE_FAMILY, MAINTENANCE_FAMILIES, MaintenanceTargets, maintenance_targets

RULES_VERSION = "allcare-rules/2026.12.2"


class RuleSet(BaseModel):
    """Named, versioned thresholds. Units: counts 10^9/L, percentages 0-100, MRD as a fraction."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str = RULES_VERSION

    # Diagnosis (docs/decisions.md#all-vs-lbl): WHO 2016's floor for ALL without a mass (20%), and the
    # protocols' line between ALL and lymphoblastic lymphoma when there is a mass (25%, the M3 marrow)
    leukaemia_marrow_blast_pct: float = Field(20.0, ge=0, le=100, description="without a tissue mass: marrow blasts >= this = leukaemia (WHO 2016 advises against ALL below it)")
    lymphoma_marrow_blast_pct: float = Field(20.0, ge=0, le=100, description="with a tissue mass: marrow blasts >= this = leukaemia, fewer = lymphoblastic lymphoma (WHO 2016's 20%; COG/BFM staging protocols use 25)")
    # Ploidy (docs/decisions.md#ploidy, #masked-hypodiploidy)
    high_hyperdiploid_min: int = Field(51, description="lowest modal number of high hyperdiploidy")
    high_hyperdiploid_max: int = Field(65, description="highest modal number of high hyperdiploidy")
    hyperdiploid_dna_index_min: float = Field(1.16, description="DNA index >= this = high hyperdiploid (no karyotype)")
    hyperdiploid_dna_index_max: float = Field(1.60, description="DNA index < this for high hyperdiploidy")
    hypodiploid_max: int = Field(43, description="modal number <= this = hypodiploidy (NCCN/COG < 44)")
    hypodiploid_dna_index_below: float = Field(0.81, description="DNA index < this = hypodiploid")
    near_haploid: tuple[int, int] = Field((24, 31), description="near-haploid modal range (ICC)")
    low_hypodiploid: tuple[int, int] = Field((32, 39), description="low hypodiploid modal range (ICC)")
    high_hypodiploid: tuple[int, int] = Field((40, 43), description="high hypodiploid modal range (SEER)")
    masked_hypodiploidy: tuple[int, int] = Field((60, 78), description="modal range where a doubled low-hypodiploid clone may hide (changes in pairs)")
    masked_near_haploid_doubled: tuple[int, int] = Field((48, 62), description="modal range where a doubled near-haploid clone may hide (tetrasomies only, no trisomies)")
    complex_karyotype_min: int = Field(5, description="abnormalities for a complex karyotype (NCCN)")
    # iAMP21 by interphase FISH (Harrison et al., Leukemia 2014; WHO-HAEM5)
    iamp21_runx1_min_copies: int = Field(5, ge=3, description="iAMP21: at least this many RUNX1 signals per cell")
    iamp21_extra_copies_min: int = Field(3, ge=1, description="iAMP21: at least this many RUNX1 copies beyond the chromosomes 21 the karyotype shows (extra whole chromosomes 21 are not iAMP21)")
    near_triploid: tuple[int, int] = Field((66, 79), description="near-triploid modal range (not an entity)")
    near_tetraploid: tuple[int, int] = Field((84, 100), description="near-tetraploid modal range (not an entity)")
    expression_confidence_min: float = Field(0.5, ge=0, le=1, description="expression-classifier calls below this confidence are reported, not used")
    diagnostic_window_days: int = Field(30, ge=0, description="without a recorded treatment start, findings up to this many days after diagnosis (or relapse) are that episode's work-up")
    # Course of the disease: each episode's work-up (docs/decisions.md#episodes; WHO-HAEM5 diagnostic work-up)
    workup_sample_grace_days: int = Field(7, ge=0, description="when treatment starts with a steroid prephase, a marrow, blood count or mass up to this many days into it is still the diagnostic sample (protocols take the diagnostic marrow during the prephase)")
    workup_result_grace_days: int = Field(28, ge=0, description="genetic, cytogenetic and immunophenotype results up to this many days after treatment starts (and before the first response marrow) belong to the work-up: late results of the diagnostic sample")
    relapse_workup_lookback_days: int = Field(7, ge=0, description="a relapse's work-up starts this many days before its onset (a biopsy or count taken just before the relapse marrow)")
    # Immunophenotype (EGIL positivity; ETP definition)
    surface_marker_positive_pct: float = Field(20.0, description="surface marker positive at >= this % of blasts (EGIL)")
    cytoplasmic_marker_positive_pct: float = Field(10.0, description="cytoplasmic marker positive at >= this % (EGIL)")
    mpo_positive_above_pct: float = Field(10.0, description="MPO by flow positive above this % of blasts")
    etp_cd1a_below_pct: float = Field(5.0, description="ETP: CD1a on < this % of blasts")
    etp_cd8_below_pct: float = Field(5.0, description="ETP: CD8 on < this % of blasts")
    etp_cd5_near_pct: float = Field(75.0, description="CD5 on >= this % of blasts makes near-ETP, not ETP")
    etp_stem_myeloid_min_pct: float = Field(25.0, description="ETP: >= 1 stem/myeloid marker on >= this % of blasts")
    etp_mpo_below_pct: float = Field(3.0, description="ETP: MPO on < this % of blasts")
    # CNS (COG/PDQ; docs/decisions.md#cns-lines)
    csf_wbc_cns3: float = Field(5.0, description="CSF WBC >= this per uL with blasts = CNS3 line")
    csf_rbc_traumatic: float = Field(10.0, description="CSF RBC >= this per uL = traumatic tap")
    steinherz_bleyer_factor: float = Field(2.0, description="CNS3b if CSF WBC/RBC > factor x blood WBC/RBC")
    cns_blood_count_window_days: int = Field(3, description="nearest blood count used for Steinherz/Bleyer, days")
    cns_diagnostic_window_days: int = Field(
        14, description="first CSF up to this many days after induction start (or diagnosis) = the diagnostic LP"
    )
    # Response (NCCN/ELN, Ponte di Legno; docs/decisions.md#remission-count-window, #relapse-tiers)
    m1_below_pct: float = Field(5.0, description="M1 marrow: blasts < this %")
    m3_from_pct: float = Field(25.0, description="M3 marrow: blasts >= this %")
    cr_anc_min: float = Field(1.0, description="CR: ANC >= this")
    cr_platelets_min: float = Field(100.0, description="CR: platelets >= this")
    cr_count_window_days: int = Field(7, description="CR: blood count within this many days of the marrow")
    cr_extramedullary_window_days: int = Field(7, ge=0, description="CR/refractory: an extramedullary or CSF finding within this many days of the response marrow is that assessment's extramedullary status")
    end_of_induction_min_days: int = Field(28, description="first response marrow this many days after induction start = end of induction")
    relapse_marrow_pct: float = Field(25.0, description="relapse: marrow blasts >= this % after CR")
    cr_mrd_below: float = Field(0.05, gt=0, le=1, description="remission where MRD is measured: a marrow MRD at or above this fraction at the assessment that judges remission (end of induction, or later before remission) is no CR whatever the morphology; default the M1 line (0.05: leukaemic cells counted by MRD as by morphology); 0.01 for COG's end-of-induction definition and ELN 2024 (MRD >= 1% is failure)")
    relapse_confirm_mrd: float = Field(0.01, description="relapse tiers (Ponte di Legno): a second test >= this fraction confirms 5-<25% marrow involvement; two confirm 1-<5%")
    eoi_m2_slow_response: Literal["paediatric", "all", "none"] = Field(
        "paediatric", description="who reads an M2 marrow at the end of first-line induction as a slow early response (COG: extend induction, repeat the marrow) rather than induction failure (NCCN/ELN): paediatric patients, everyone, or no one")
    mrd_rise_factor: float = Field(10.0, gt=1, description="molecular relapse: an MRD in remission at least this many times the previous positive one (one log)")
    # MRD (ELN/NCCN; docs/decisions.md#mrd-lines)
    mrd_negative_below: float = Field(1e-4, description="MRD negative below this fraction")
    mrd_required_sensitivity: float = Field(1e-4, description="assay must reach this sensitivity for a negative")
    immunotherapy_mrd_min: float = Field(1e-3, description="MRD >= this in CR = blinatumomab labelled indication")
    end_of_consolidation_window_days: int = Field(14, ge=0, description="an unlabelled marrow MRD within this many days of the end of the first consolidation block is the end-of-consolidation MRD")
    mrd_pairing_window_days: int = Field(3, ge=0, description="an MRD within this many days of a marrow belongs to that marrow's assessment")
    # Risk (NCI/Rome; adult factors ELN 2024)
    infant_age_below: float = Field(1.0, description="age < this (years) = infant")
    nci_age_high_from: float = Field(10.0, description="NCI high risk from this age (years)")
    nci_wbc_high_from: float = Field(50.0, description="NCI high risk from this WBC")
    nci_age_max_below: float = Field(30.0, description="NCI/Rome applied below this age (COG used it up to 30)")
    presenting_wbc_lookback_days: int = Field(7, description="presenting WBC: a count this many days before diagnosis if none on/after it")
    paediatric_age_below: float = Field(18.0, description="age < this at diagnosis = paediatric")
    adult_wbc_b_above: float = Field(30.0, description="adult B-ALL adverse WBC above this")
    adult_wbc_t_above: float = Field(100.0, description="adult T-ALL adverse WBC above this")
    adult_age_adverse_from: float = Field(35.0, description="adult age factor from this age (NCCN convention)")
    adult_mrd_adverse: float = Field(1e-4, description="adult: MRD >= this after induction is adverse")
    cog_hr_age_split: float = Field(13.0, description="COG table: NCI high-risk age split")
    interfant_age_below: float = Field(0.5, description="Interfant-99: KMT2A-r infants younger than this (years)")
    interfant_wbc_from: float = Field(300.0, description="Interfant-99: WBC >= this")
    prephase_poor_blasts_from: float = Field(1.0, description="poor prednisone response: blood blasts >= this (10^9/L)")
    prephase_response_window_days: int = Field(3, description="prednisone response: blood count within this many days after the reference day")
    cog_mrd_low_below: float = Field(1e-4, description="COG table: day-8 PB and day-29 BM MRD < this (0.01%)")
    cog_day8_mrd_high_from: float = Field(1e-2, description="COG table: day-8 PB MRD >= this (1%)")
    cog_day8_window_days: tuple[int, int] = Field((6, 10), description="unlabelled blood MRD this many days after induction start = day 8")
    cog_day29_window_days: tuple[int, int] = Field((25, 35), description="unlabelled marrow MRD this many days after induction start = day 29")
    # Relapse timing and risk (I-BFM / Ponte di Legno timing used by IntReALL; ALL-REZ BFM strategy groups; COG AALL1331)
    relapse_very_early_months: int = Field(18, ge=0, description="relapse < this many months after diagnosis = very early (I-BFM)")
    relapse_late_after_therapy_months: int = Field(6, ge=0, description="relapse >= this many months after the end of front-line therapy = late; earlier (and >= very-early line) = early (I-BFM)")
    cog_relapse_marrow_early_months: int = Field(36, ge=0, description="COG: a marrow (isolated or combined) relapse < this many months after diagnosis is early")
    cog_relapse_extramedullary_early_months: int = Field(18, ge=0, description="COG: an isolated extramedullary relapse < this many months after diagnosis is early")
    cog_relapse_mrd_high_from: float = Field(1e-3, description="COG: end-of-block-1 marrow MRD >= this (0.1%) makes a late relapse intermediate rather than low risk")
    relapse_risk_age_below: float = Field(18.0, description="the paediatric relapse risk schemes (BFM/IntReALL) apply to patients younger than this at relapse")
    cog_relapse_age: tuple[float, float] = Field((1.0, 31.0), description="COG relapse risk (AALL1331): age at relapse from the first up to below the second number (1-30 years)")
    # Data age
    stale_data_days: int = Field(180, ge=0, description="an assessment date more than this many days after the latest finding is flagged: the picture may be out of date")
    # Counts and alerts
    hyperleukocytosis_above: float = Field(100.0, description="WBC > this = hyperleukocytosis")
    severe_neutropenia_below: float = Field(0.5, description="ANC < this = severe neutropenia (CTCAE G4)")
    severe_thrombocytopenia_below: float = Field(25.0, description="platelets < this = severe thrombocytopenia (CTCAE G4)")
    count_alert_max_age_days: int = Field(7, ge=0, description="a count alert (hyperleukocytosis, severe cytopenias) speaks of the present only when its count is at most this many days before the assessment date; an older one is named with its age and asks for a current count")
    # Timeline (phase durations, days)
    induction_days: tuple[int, int] = Field((28, 42), description="induction lasts 4-6 weeks")
    end_of_induction_grace_days: int = Field(7, description="days past the induction window before a missing assessment is flagged")
    consolidation_days: tuple[int, int] = Field((28, 240), description="consolidation lasts one to several months")
    interim_maintenance_days: tuple[int, int] = Field((42, 70), description="interim maintenance about 2 months")
    delayed_intensification_days: tuple[int, int] = Field((42, 70), description="delayed intensification about 2 months")
    maintenance_days: tuple[int, int] = Field((365, 1100), description="maintenance 1-3 years, about 2")

    # Treatment monitoring (docs/rules.md "Maintenance, pharmacogenetics and toxicity").
    # Body size (Mosteller, N Engl J Med 1987;317:1098; Haycock, J Pediatr 1978;93:62; DuBois, Arch Intern Med 1916;17:863)
    bsa_formula: Literal["mosteller", "haycock", "dubois"] = Field("mosteller", description="body surface area from height and weight")
    body_size_max_age_days: int = Field(90, ge=0, description="height/weight older than this (days) is not used for a dose per m2")
    # Maintenance (MaintenanceTargets names each line and its source)
    maintenance: MaintenanceTargets = Field(
        default_factory=lambda: MAINTENANCE_FAMILIES[DEFAULT_MAINTENANCE_FAMILY],
        description="protocol family whose maintenance targets apply: icicle_all_14 (default), nopho_all2008, aieop_bfm",
    )
    maintenance_count_max_age_days: int = Field(
        21, ge=0, description="a dose suggestion needs a maintenance count no older than this (days) on the assessment date")
    # Thiopurine pharmacogenetics (CPIC 2018 update, Relling et al., Clin Pharmacol Ther 2019;105:1095)
    cpic_reduce_if_start_from_mg_m2_day: float = Field(
        75.0, gt=0, description="CPIC: intermediate metabolisers start reduced when the normal mercaptopurine start is >= this")
    # Febrile neutropenia (IDSA 2010, Freifeld et al., Clin Infect Dis 2011;52:e56)
    fever_single_min: float = Field(38.3, description="a single temperature >= this (C) is fever")
    fever_sustained_min: float = Field(38.0, description="a temperature >= this (C) held over fever_sustained_minutes is fever")
    fever_sustained_minutes: int = Field(60, ge=1, description="how long (or how far apart two readings) the lower fever line must hold")
    febrile_neutropenia_anc_below: float = Field(0.5, description="fever with ANC < this = febrile neutropenia")
    febrile_neutropenia_anc_window_days: int = Field(1, ge=0, description="the ANC may be from the fever's day or up to this many days before")
    febrile_neutropenia_alert_days: int = Field(2, ge=0, description="an episode this recent (days before the assessment date) is a critical alert")
    # Tumour lysis (Cairo & Bishop, Br J Haematol 2004;127:3)
    tls_window_days: tuple[int, int] = Field((3, 7), description="days before / after the start of cytoreductive therapy")
    tls_criteria_min: int = Field(2, ge=1, description="laboratory TLS: this many of uric acid, potassium, phosphate, calcium")
    tls_uric_acid_min: float = Field(476.0, description="uric acid >= this (umol/L)")
    tls_potassium_min: float = Field(6.0, description="potassium >= this (mmol/L)")
    tls_phosphate_child_min: float = Field(2.1, description="phosphate >= this (mmol/L), children")
    tls_phosphate_adult_min: float = Field(1.45, description="phosphate >= this (mmol/L), adults")
    tls_calcium_max: float = Field(1.75, description="calcium <= this (mmol/L)")
    tls_change_pct: float = Field(25.0, gt=0, description="or a change from baseline of this % (rise; fall for calcium)")
    tls_baseline_days: int = Field(7, ge=0, description="a baseline value is the latest one up to this many days before therapy")
    tls_creatinine_uln_factor: float = Field(1.5, gt=0, description="clinical TLS: creatinine >= this x the upper limit of normal")
    # High-dose methotrexate (Ramsey et al., Oncologist 2018;23:52)
    mtx_glucarpidase_lines: tuple[tuple[float, float], ...] = Field(
        ((36.0, 30.0), (42.0, 10.0), (48.0, 5.0)),
        description="(hours from infusion start, umol/L): above the line with kidney injury = glucarpidase may be indicated (infusion <= 24 h)")
    mtx_long_infusion_line: tuple[float, float] = Field(
        (48.0, 5.0), description="the same for a 36-42 h infusion (hours, umol/L)")
    mtx_short_infusion_max_hours: float = Field(24.0, gt=0, description="infusions up to this long use mtx_glucarpidase_lines")
    mtx_aki_creatinine_factor: float = Field(
        1.5, gt=1, description="creatinine >= this x the pre-infusion value counts as HD-MTX kidney injury")
    # Asparaginase activity (van der Sluis et al., Haematologica 2016;101:279)
    asparaginase_activity_min: float = Field(0.1, ge=0, description="nadir serum asparaginase activity >= this (IU/mL) is adequate")
    asparaginase_pegaspargase_days: tuple[float, float] = Field((7.0, 14.0), description="pegaspargase: activity read from day 7 to day 14 after a dose")
    asparaginase_native_days: tuple[float, float] = Field((2.0, 3.0), description="native E. coli asparaginase: read 48-72 h after a dose")
    asparaginase_erwinia_days: tuple[float, float] = Field((2.0, 2.0), description="Erwinia asparaginase: read 48 h after a dose")
    # Hepatotoxicity alert (CTCAE v5.0 grades)
    liver_alert_min_grade: int = Field(3, ge=1, le=4, description="ALT, AST or bilirubin of this CTCAE grade or higher is an alert")
    # Cumulative anthracyclines (doxorubicin equivalents; IGHG, Armenian et al., Lancet Oncol 2015;16:e123)
    anthracycline_equivalence: Literal["feijen_2019", "cog_ltfu_v5"] = Field(
        "feijen_2019", description="doxorubicin-equivalence ratios: Feijen 2019 / IGHG, or COG LTFU v5.0 (2018)")
    anthracycline_high_risk_min: float = Field(250.0, gt=0, description="cumulative doxorubicin-equivalent >= this (mg/m2): cardiac surveillance recommended")
    anthracycline_moderate_min: float = Field(100.0, gt=0, description=">= this (mg/m2): surveillance reasonable")

    @field_validator("maintenance", mode="before")
    @classmethod
    def _maintenance_preset(cls, value: object) -> object:
        return maintenance_targets(value) if isinstance(value, dict) else value

    @model_validator(mode="after")
    def _ranges_are_ordered(self) -> Self:
        for name in (
            "cog_relapse_age", "near_haploid", "low_hypodiploid", "high_hypodiploid", "masked_hypodiploidy",
            "masked_near_haploid_doubled", "near_triploid", "near_tetraploid",
            "tls_window_days", "asparaginase_pegaspargase_days", "asparaginase_native_days", "asparaginase_erwinia_days",
            "induction_days",
            "consolidation_days", "interim_maintenance_days", "delayed_intensification_days", "maintenance_days",
        ):
            low, high = getattr(self, name)
            if low > high:
                raise ValueError(f"{name}: lower bound {low} is above upper bound {high}")
        if self.high_hyperdiploid_min > self.high_hyperdiploid_max:
            raise ValueError("high_hyperdiploid_min is above high_hyperdiploid_max")
        hours = [h for h, _ in self.mtx_glucarpidase_lines]
        if hours != sorted(hours) or len(set(hours)) != len(hours):
            raise ValueError("mtx_glucarpidase_lines must be in increasing hours")
        if self.anthracycline_moderate_min > self.anthracycline_high_risk_min:
            raise ValueError("anthracycline_moderate_min is above anthracycline_high_risk_min")
        return self

    def phase_days(self, phase: str) -> tuple[int, int] | None:
        return getattr(self, f"{phase}_days", None)


DEFAULT_RULES = RuleSet()


class RuleSetError(ValueError):
    """A rule-set override that cannot be used, with every problem named."""


def rules_from_dict(data: Any, base: RuleSet = DEFAULT_RULES) -> RuleSet:
    """Apply a centre's overrides to ``base``; a changed set without a version gets a derived one."""
    if not isinstance(data, dict):
        raise RuleSetError("a rule-set file must be an object of parameter names to values")
    merged = base.model_dump() | data
    if isinstance(data.get("maintenance"), dict):  # a family preset with overrides, or overrides of the current family
        try:
            merged["maintenance"] = maintenance_targets(data["maintenance"], base.maintenance).model_dump()
        except (ValueError, ValidationError) as error:
            raise RuleSetError(f"maintenance: {error}") from None
    if "version" not in data and any(merged[k] != v for k, v in base.model_dump().items()):
        merged["version"] = f"{base.version}+custom"
    try:
        return RuleSet.model_validate(merged)
    except ValidationError as error:
        lines = [
            f"{'.'.join(str(p) for p in e['loc']) or 'rules'}: {e['msg'].removeprefix('Value error, ')}"
            for e in error.errors(include_url=False)
        ]
        raise RuleSetError("; ".join(lines)) from None
