"""The versioned rule set: every clinical threshold the engine uses, by name.

Guidelines disagree (20% vs 25% marrow blasts, hypodiploid sub-group bounds ...),
and a centre must be able to choose its protocol's value. So no threshold is a
literal in the rule code: each is a named parameter here, with its default taken
from ``shared/reference/decisions.md``, and every assessment names the version of
the rule set it used. A centre's file overrides some parameters and gets a
version of its own.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

RULES_VERSION = "allcare-rules/2026.12"


class RuleSet(BaseModel):
    """Named, versioned thresholds. Units: counts 10^9/L, percentages 0-100, MRD as a fraction."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str = RULES_VERSION

    # Diagnosis (decisions.md: ALL vs LBL; WHO 2016 20%, COG/BFM staging 25%)
    leukaemia_marrow_blast_pct: float = Field(20.0, ge=0, le=100, description="marrow blasts >= this = leukaemia")
    # Ploidy (decisions.md: high hyperdiploidy, hypodiploidy)
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
    near_triploid: tuple[int, int] = Field((66, 79), description="near-triploid modal range (not an entity)")
    near_tetraploid: tuple[int, int] = Field((84, 100), description="near-tetraploid modal range (not an entity)")
    expression_confidence_min: float = Field(0.5, ge=0, le=1, description="expression-classifier calls below this confidence are reported, not used")
    diagnostic_window_days: int = Field(30, ge=0, description="without a recorded treatment start, findings up to this many days after diagnosis (or relapse) are that episode's work-up")
    # Course of the disease: each episode's work-up (decisions.md "Disease episodes"; WHO-HAEM5 diagnostic work-up)
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
    # CNS (decisions.md: COG/PDQ)
    csf_wbc_cns3: float = Field(5.0, description="CSF WBC >= this per uL with blasts = CNS3 line")
    csf_rbc_traumatic: float = Field(10.0, description="CSF RBC >= this per uL = traumatic tap")
    steinherz_bleyer_factor: float = Field(2.0, description="CNS3b if CSF WBC/RBC > factor x blood WBC/RBC")
    cns_blood_count_window_days: int = Field(3, description="nearest blood count used for Steinherz/Bleyer, days")
    cns_diagnostic_window_days: int = Field(
        14, description="first CSF up to this many days after induction start (or diagnosis) = the diagnostic LP"
    )
    # Response (decisions.md: CR, refractory, relapse; Ponte di Legno)
    m1_below_pct: float = Field(5.0, description="M1 marrow: blasts < this %")
    m3_from_pct: float = Field(25.0, description="M3 marrow: blasts >= this %")
    cr_anc_min: float = Field(1.0, description="CR: ANC >= this")
    cr_platelets_min: float = Field(100.0, description="CR: platelets >= this")
    cr_count_window_days: int = Field(7, description="CR: blood count within this many days of the marrow")
    cr_extramedullary_window_days: int = Field(7, ge=0, description="CR/refractory: an extramedullary or CSF finding within this many days of the response marrow is that assessment's extramedullary status")
    end_of_induction_min_days: int = Field(28, description="first response marrow this many days after induction start = end of induction")
    relapse_marrow_pct: float = Field(25.0, description="relapse: marrow blasts >= this % after CR")
    relapse_confirm_mrd: float = Field(0.01, description="relapse tiers (Ponte di Legno): a second test >= this fraction confirms 5-<25% marrow involvement; two confirm 1-<5%")
    eoi_m2_slow_response: Literal["paediatric", "all", "none"] = Field(
        "paediatric", description="who reads an M2 marrow at the end of first-line induction as a slow early response (COG: extend induction, repeat the marrow) rather than induction failure (NCCN/ELN): paediatric patients, everyone, or no one")
    mrd_rise_factor: float = Field(10.0, gt=1, description="molecular relapse: an MRD in remission at least this many times the previous positive one (one log)")
    # MRD (decisions.md: ELN/NCCN)
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
    # Timeline (phase durations, days)
    induction_days: tuple[int, int] = Field((28, 42), description="induction lasts 4-6 weeks")
    end_of_induction_grace_days: int = Field(7, description="days past the induction window before a missing assessment is flagged")
    consolidation_days: tuple[int, int] = Field((28, 240), description="consolidation lasts one to several months")
    interim_maintenance_days: tuple[int, int] = Field((42, 70), description="interim maintenance about 2 months")
    delayed_intensification_days: tuple[int, int] = Field((42, 70), description="delayed intensification about 2 months")
    maintenance_days: tuple[int, int] = Field((365, 1100), description="maintenance 1-3 years, about 2")

    @model_validator(mode="after")
    def _ranges_are_ordered(self):
        for name in (
            "cog_relapse_age", "near_haploid", "low_hypodiploid", "high_hypodiploid", "masked_hypodiploidy",
            "masked_near_haploid_doubled", "near_triploid", "near_tetraploid",
            "induction_days",
            "consolidation_days", "interim_maintenance_days", "delayed_intensification_days", "maintenance_days",
        ):
            low, high = getattr(self, name)
            if low > high:
                raise ValueError(f"{name}: lower bound {low} is above upper bound {high}")
        if self.high_hyperdiploid_min > self.high_hyperdiploid_max:
            raise ValueError("high_hyperdiploid_min is above high_hyperdiploid_max")
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
