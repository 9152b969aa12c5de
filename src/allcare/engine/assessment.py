"""The ``allcare.assessment/1`` output model.

Other tools (web app, FHIR export, cohorts, CDS Hooks) read these names and
values, so they are a contract: values are the exact strings listed in the case
format documentation, sections are only ever added to.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .explain import Conclusion, EvidenceRef
from .karyotype import Karyotype

ASSESSMENT_SCHEMA = "allcare.assessment/1"

Disease = Literal["ALL", "LBL", "MPAL", "not_ALL", "indeterminate"]
Lineage = Literal["B", "T", "B/myeloid", "T/myeloid", "B/T", "B/T/myeloid"]
Etp = Literal["etp", "near_etp", "not_etp"]
Severity = Literal["critical", "warning", "info"]
DiseaseStatus = Literal[
    "newly_diagnosed",
    "on_treatment",
    "complete_remission",
    "cr_incomplete_recovery",
    "refractory",
    "suspected_relapse",
    "relapse",
    "indeterminate",
]
MrdStatus = Literal["negative", "positive", "not_evaluable"]


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class Entity(_Out):
    """A classification entity: stable snake_case key and the name as the classification spells it."""

    key: str | None = None
    name: str | None = None
    subtype: str | None = Field(default=None, description="ICC sub-type key, e.g. 'lymphoid_only'")
    subtype_name: str | None = None
    determined: bool = False
    missing: list[str] = Field(default_factory=list)


class EgilScore(_Out):
    b: float
    t: float
    myeloid: float
    biphenotypic: bool
    lineages: list[str] = Field(default_factory=list, description="lineages scoring > 2")


class GeneticSummary(_Out):
    detected: list[str] = Field(default_factory=list, description="lesions found, canonical spelling")
    negative: list[str] = Field(default_factory=list, description="tested and not found")
    not_tested: list[str] = Field(default_factory=list, description="defining lesions with no result")
    conflicting: list[str] = Field(default_factory=list, description="reported both found and not found")
    modal_number: int | None = None
    dna_index: float | None = None
    ploidy: str | None = Field(
        default=None,
        description="near_haploid | low_hypodiploid | high_hypodiploid | near_diploid | diploid | "
        "low_hyperdiploid | high_hyperdiploid | near_triploid | near_tetraploid",
    )
    masked_hypodiploidy_possible: bool = False
    complex_karyotype: bool | None = None
    expression_subtype: str | None = None


class Diagnosis(_Out):
    disease: Disease = "indeterminate"
    lineage: Lineage | None = None
    etp: Etp | None = None
    b_stage: Literal["pro_b", "common_b", "pre_b", "mature_b"] | None = None
    t_stage: Literal["pro_t", "pre_t", "cortical_t", "mature_t"] | None = None
    who_haem5: Entity = Field(default_factory=Entity)
    icc_2022: Entity = Field(default_factory=Entity)
    egil: EgilScore | None = None
    genetics: GeneticSummary = Field(default_factory=GeneticSummary)
    karyotype: Karyotype | None = None
    lbl_site: str | None = Field(default=None, description="site of the lymphoma mass, for LBL coding")
    conclusions: list[Conclusion] = Field(default_factory=list)


class Codes(_Out):
    icd_o_3: str | None = None
    icd_o_3_term: str | None = None
    icd_10_cm: str | None = None
    icd_10_cm_term: str | None = None
    snomed_ct: str | None = None
    snomed_ct_term: str | None = None
    conclusions: list[Conclusion] = Field(default_factory=list)


class AnalyteResult(_Out):
    analyte: Literal["wbc", "hemoglobin", "platelets", "anc", "rbc", "blasts_pct"]
    value: float
    unit: str
    lower_limit: float | None = None
    upper_limit: float | None = None
    range_source: Literal["lab", "reference"] | None = None
    flag: Literal["low", "normal", "high"] | None = None
    ctcae_term: str | None = None
    grade: int | None = Field(default=None, description="CTCAE v5 grade; null when not gradable")


class CountResult(_Out):
    index: int
    date: dt.date
    analytes: list[AnalyteResult]
    named: list[str] = Field(default_factory=list, description="anaemia, neutropenia, thrombocytopenia, pancytopenia ...")
    conclusions: list[Conclusion] = Field(default_factory=list)


CnsStatus = Literal["CNS1", "CNS2a", "CNS2b", "CNS2c", "CNS3a", "CNS3b", "CNS3c"]


class CnsResult(_Out):
    status: CnsStatus | None = Field(default=None, description="at diagnosis; null when no CSF or undecided")
    possible: list[CnsStatus] = Field(default_factory=list, description="candidates when the status is undecided")
    date: dt.date | None = None
    traumatic_tap: bool | None = None
    testicular: bool | None = Field(default=None, description="testicular involvement; null when not recorded")
    conclusions: list[Conclusion] = Field(default_factory=list)


class CogGroup(_Out):
    group: Literal["low", "average", "high", "very_high"] | None = None
    column: int | None = None
    label: str = "COG-style group (PDQ Table 1; column-to-group split inferred, not a protocol assignment)"


class AdultRisk(_Out):
    applicable: bool = False
    adverse_factors: list[str] = Field(default_factory=list)
    high_risk: bool | None = None


class Risk(_Out):
    nci: Literal["standard", "high", "infant", "not_applicable"] | None = None
    genetic: Literal["standard", "poor"] | None = None
    adult: AdultRisk = Field(default_factory=AdultRisk)
    cog: CogGroup = Field(default_factory=CogGroup)
    down_syndrome: bool = False
    infant: bool = False
    interfant_high_risk: bool | None = None
    mrd_persistence: Literal["persistent", "cleared", "negative"] | None = Field(
        default=None, description="MRD at end of induction and consolidation: persistent = positive at end of consolidation")
    factors: list[str] = Field(default_factory=list, description="everything that drove the risk outputs")
    conclusions: list[Conclusion] = Field(default_factory=list)


class MrdResult(_Out):
    index: int
    date: dt.date
    value: float | None = Field(default=None, description="fraction of cells")
    comparator: Literal["<", "<=", ">=", ">"] | None = Field(
        default=None, description="the value is a bound ('<' 0.0001: below 0.01%, e.g. below the assay's limit)"
    )
    method: str | None = None
    sensitivity: float | None = None
    sample: str | None = None
    timepoint: str | None = None
    status: MrdStatus


class MrdSummary(_Out):
    latest: MrdResult | None = None
    series: list[MrdResult] = Field(default_factory=list)


class TimelinePoint(_Out):
    date: dt.date
    status: DiseaseStatus
    marrow_grade: Literal["M1", "M2", "M3"] | None = None
    marrow_blasts_pct: float | None = None
    mrd: MrdResult | None = None
    phase: str | None = Field(default=None, description="treatment phase running on that date")
    conclusion: Conclusion


class PhaseSpan(_Out):
    phase: str
    start: dt.date
    end: dt.date | None = None
    running: bool = False
    expected_days: tuple[int, int] | None = None
    agents: list[str] = Field(default_factory=list)
    protocol: str | None = None
    index: int
    notes: list[str] = Field(default_factory=list, description="late or missing response assessment, overrun ...")


class Status(_Out):
    current: DiseaseStatus | None = None
    since: dt.date | None = None
    current_phase: str | None = None
    timeline: list[TimelinePoint] = Field(default_factory=list)
    phases: list[PhaseSpan] = Field(default_factory=list)
    conclusions: list[Conclusion] = Field(default_factory=list)


class Alert(_Out):
    code: str
    severity: Severity
    message: str
    rule: str
    source: str
    evidence: list[EvidenceRef] = Field(default_factory=list)


class PatientSummary(_Out):
    id: str
    sex: str
    age_at_diagnosis: float | None = None
    age_group: Literal["infant", "paediatric", "adult"] | None = None
    conditions: list[str] = Field(default_factory=list)


# Course of the disease: episodes (diagnosis, relapses), their work-ups and response monitoring ------------
EpisodeKind = Literal["initial", "relapse", "refractory"]
RelapseSite = Literal[
    "isolated_marrow", "isolated_cns", "isolated_testicular", "other_extramedullary", "isolated_extramedullary",
    "combined",
]
MonitoringReading = Literal[
    "molecular_response", "persisting", "new_lesion", "normal_karyotype", "abnormal_karyotype", "reported",
]


class RelapseTiming(_Out):
    """Time to relapse by the I-BFM (IntReALL) and COG definitions, with the dates they were measured from."""

    ibfm: Literal["very_early", "early", "late"] | None = None
    cog: Literal["early", "late"] | None = None
    diagnosis_date: dt.date | None = None
    end_of_therapy: dt.date | None = Field(default=None, description="end of front-line therapy (last block's end)")
    months_from_diagnosis: float | None = None
    months_from_end_of_therapy: float | None = Field(default=None, description="negative: relapse while on therapy")


class RelapseRisk(_Out):
    """First-relapse risk groups (paediatric schemes), each None when not applicable or not decidable."""

    bfm: Literal["S1", "S2", "S3", "S4"] | None = None
    intreall: Literal["standard", "high"] | None = None
    cog: Literal["low", "intermediate", "high"] | None = None
    factors: list[str] = Field(default_factory=list)


class Episode(_Out):
    """The initial diagnosis, a relapse, or an induction failure with a work-up of its own."""

    kind: EpisodeKind
    number: int = Field(description="ordinal within its kind: relapse 2 is the second relapse")
    onset: dt.date
    confirmed: dt.date | None = Field(default=None, description="the assessment that confirmed it (relapse)")
    site: RelapseSite | None = None
    sites: list[str] = Field(default_factory=list, description="involved sites: marrow, cns, testis, ...")
    timing: RelapseTiming | None = None
    risk: RelapseRisk | None = None
    workup: list[EvidenceRef] = Field(default_factory=list, description="the findings of this episode's work-up")
    treatment_start: dt.date | None = None
    prior_therapy: list[str] = Field(default_factory=list, description="blinatumomab, inotuzumab, car_t, hsct, tki")
    after_hsct: bool = False
    lineage: str | None = Field(default=None, description="lineage of this episode's blasts (myeloid: lineage switch)")
    lineage_switch: bool | None = None
    antigen_loss: list[str] = Field(default_factory=list, description="targets positive at diagnosis, negative now")
    antigen_modulation: list[str] = Field(default_factory=list, description="targets dim or partial now")
    new_lesions: list[str] = Field(default_factory=list, description="genetic lesions not found at diagnosis")
    outcome: Literal["complete_remission", "cr_incomplete_recovery", "refractory"] | None = None
    outcome_date: dt.date | None = None
    conclusions: list[Conclusion] = Field(default_factory=list)


class MonitoringResult(_Out):
    """A genetic or cytogenetic result outside every work-up: response monitoring, not a diagnosis."""

    index: int
    date: dt.date
    type: str
    reading: MonitoringReading
    lesions: list[str] = Field(default_factory=list)
    summary: str


class Course(_Out):
    episodes: list[Episode] = Field(default_factory=list)
    monitoring: list[MonitoringResult] = Field(default_factory=list)
    conclusions: list[Conclusion] = Field(default_factory=list)


class Assessment(_Out):
    schema_: Literal["allcare.assessment/1"] = Field(default=ASSESSMENT_SCHEMA, alias="schema")
    engine_version: str
    rules_version: str
    as_of: dt.date
    patient: PatientSummary
    diagnosis_date: dt.date | None = None
    diagnosis: Diagnosis
    codes: Codes
    blood_counts: list[CountResult] = Field(default_factory=list)
    cns_status: CnsStatus | None = None
    cns: CnsResult = Field(default_factory=CnsResult)
    risk: Risk
    status: Status
    mrd: MrdSummary
    alerts: list[Alert] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list)
    disclaimer: str
    course: Course = Field(default_factory=Course, description="episodes of the disease (diagnosis, relapses)")

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    def to_json_dict(self) -> dict:
        return self.model_dump(mode="json", by_alias=True)

    def conclusions(self) -> list[Conclusion]:
        """Every conclusion of every section, in reading order: the derivation trail."""
        trail = [*self.diagnosis.conclusions, *self.codes.conclusions, *self.cns.conclusions]
        trail += [c for count in self.blood_counts for c in count.conclusions]
        trail += [*self.risk.conclusions, *self.status.conclusions]
        trail += [point.conclusion for point in self.status.timeline]
        trail += [c for episode in self.course.episodes for c in episode.conclusions]
        trail += self.course.conclusions
        return trail
