"""The ``allcare.assessment/1`` output model.

Other tools (web app, FHIR export, cohorts, CDS Hooks) read these names and
values, so they are a contract: values are the exact strings listed in the case
format documentation, sections are only ever added to.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from .explain import Conclusion, EvidenceRef
from .karyotype import Karyotype
from .monitoring_output import BodySize, ChemistryResult, Maintenance, ThiopurineGuidance, Toxicity

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


class _Out(msgspec.Struct, frozen=True, kw_only=True):
    """Base of every output section: immutable, built without validation (the engine made it)."""


class Entity(_Out, kw_only=True):
    """A classification entity: stable snake_case key and the name as the classification spells it."""

    key: str | None = None
    name: str | None = None
    subtype: Annotated[str | None, Meta(description="ICC sub-type key, e.g. 'lymphoid_only'")] = None
    subtype_name: str | None = None
    determined: bool = False
    missing: list[str] = []


class EgilScore(_Out, kw_only=True):
    b: float
    t: float
    myeloid: float
    biphenotypic: bool
    lineages: Annotated[list[str], Meta(description="lineages scoring > 2")] = []


class GeneticSummary(_Out, kw_only=True):
    detected: Annotated[list[str], Meta(description="lesions found, canonical spelling")] = []
    negative: Annotated[list[str], Meta(description="tested and not found")] = []
    not_tested: Annotated[list[str], Meta(description="defining lesions with no result")] = []
    conflicting: Annotated[list[str], Meta(description="reported both found and not found")] = []
    modal_number: int | None = None
    dna_index: float | None = None
    ploidy: Annotated[str | None, Meta(
        description="near_haploid | low_hypodiploid | high_hypodiploid | near_diploid | diploid | "
        "low_hyperdiploid | high_hyperdiploid | near_triploid | near_tetraploid",
    )] = None
    masked_hypodiploidy_possible: bool = False
    complex_karyotype: bool | None = None
    expression_subtype: str | None = None


class Diagnosis(_Out, kw_only=True):
    disease: Disease = "indeterminate"
    lineage: Lineage | None = None
    etp: Etp | None = None
    b_stage: Literal["pro_b", "common_b", "pre_b", "mature_b"] | None = None
    t_stage: Literal["pro_t", "pre_t", "cortical_t", "mature_t"] | None = None
    who_haem5: Entity = msgspec.field(default_factory=Entity)
    icc_2022: Entity = msgspec.field(default_factory=Entity)
    egil: EgilScore | None = None
    genetics: GeneticSummary = msgspec.field(default_factory=GeneticSummary)
    karyotype: Karyotype | None = None
    lbl_site: Annotated[str | None, Meta(description="site of the lymphoma mass, for LBL coding")] = None
    conclusions: list[Conclusion] = []


class Codes(_Out, kw_only=True):
    icd_o_3: str | None = None
    icd_o_3_term: str | None = None
    icd_10_cm: str | None = None
    icd_10_cm_term: str | None = None
    snomed_ct: str | None = None
    snomed_ct_term: str | None = None
    conclusions: list[Conclusion] = []


class AnalyteResult(_Out, kw_only=True):
    analyte: Literal["wbc", "hemoglobin", "platelets", "anc", "rbc", "blasts_pct"]
    value: float
    unit: str
    lower_limit: float | None = None
    upper_limit: float | None = None
    range_source: Literal["lab", "reference"] | None = None
    flag: Literal["low", "normal", "high"] | None = None
    ctcae_term: str | None = None
    grade: Annotated[int | None, Meta(description="CTCAE v5 grade; null when not gradable")] = None


class CountResult(_Out, kw_only=True):
    index: int
    date: dt.date
    analytes: list[AnalyteResult]
    named: Annotated[list[str], Meta(description="anaemia, neutropenia, thrombocytopenia, pancytopenia ...")] = []
    conclusions: list[Conclusion] = []


CnsStatus = Literal["CNS1", "CNS2a", "CNS2b", "CNS2c", "CNS3a", "CNS3b", "CNS3c"]


class CnsResult(_Out, kw_only=True):
    status: Annotated[CnsStatus | None, Meta(description="at diagnosis; null when no CSF or undecided")] = None
    possible: Annotated[list[CnsStatus], Meta(description="candidates when the status is undecided")] = []
    date: dt.date | None = None
    traumatic_tap: bool | None = None
    testicular: Annotated[bool | None, Meta(description="testicular involvement; null when not recorded")] = None
    conclusions: list[Conclusion] = []


class CogGroup(_Out, kw_only=True):
    group: Literal["low", "average", "high", "very_high"] | None = None
    column: int | None = None
    label: str = "COG-style group (PDQ Table 1; column-to-group split inferred, not a protocol assignment)"


class AdultRisk(_Out, kw_only=True):
    applicable: bool = False
    adverse_factors: list[str] = []
    high_risk: bool | None = None


class Risk(_Out, kw_only=True):
    nci: Literal["standard", "high", "infant", "not_applicable"] | None = None
    genetic: Literal["standard", "poor"] | None = None
    adult: AdultRisk = msgspec.field(default_factory=AdultRisk)
    cog: CogGroup = msgspec.field(default_factory=CogGroup)
    down_syndrome: bool = False
    infant: bool = False
    interfant_high_risk: bool | None = None
    mrd_persistence: Annotated[
        Literal["persistent", "cleared", "negative"] | None,
        Meta(description="MRD at end of induction and consolidation: persistent = positive at end of consolidation"),
    ] = None
    factors: Annotated[list[str], Meta(description="everything that drove the risk outputs")] = []
    conclusions: list[Conclusion] = []


class MrdResult(_Out, kw_only=True):
    index: int
    date: dt.date
    value: Annotated[float | None, Meta(description="fraction of cells")] = None
    comparator: Annotated[
        Literal["<", "<=", ">=", ">"] | None,
        Meta(description="the value is a bound ('<' 0.0001: below 0.01%, e.g. below the assay's limit)"),
    ] = None
    method: str | None = None
    sensitivity: float | None = None
    sample: str | None = None
    timepoint: str | None = None
    status: MrdStatus


class MrdSummary(_Out, kw_only=True):
    latest: MrdResult | None = None
    series: list[MrdResult] = []


class TimelinePoint(_Out, kw_only=True):
    date: dt.date
    status: DiseaseStatus
    marrow_grade: Literal["M1", "M2", "M3"] | None = None
    marrow_blasts_pct: float | None = None
    mrd: MrdResult | None = None
    phase: Annotated[str | None, Meta(description="treatment phase running on that date")] = None
    conclusion: Conclusion


class PhaseSpan(_Out, kw_only=True):
    phase: str
    start: dt.date
    end: dt.date | None = None
    running: bool = False
    expected_days: tuple[int, int] | None = None
    agents: list[str] = []
    protocol: str | None = None
    index: int
    notes: Annotated[list[str], Meta(description="late or missing response assessment, overrun ...")] = []


class Status(_Out, kw_only=True):
    current: DiseaseStatus | None = None
    since: dt.date | None = None
    current_phase: str | None = None
    timeline: list[TimelinePoint] = []
    phases: list[PhaseSpan] = []
    conclusions: list[Conclusion] = []


class Alert(_Out, kw_only=True):
    code: str
    severity: Severity
    message: str
    rule: str
    source: str
    evidence: list[EvidenceRef] = []


class PatientSummary(_Out, kw_only=True):
    id: str
    sex: str
    age_at_diagnosis: float | None = None
    age_group: Literal["infant", "paediatric", "adult"] | None = None
    conditions: list[str] = []


# Course of the disease: episodes (diagnosis, relapses), their work-ups and response monitoring ------------
EpisodeKind = Literal["initial", "relapse", "refractory"]
RelapseSite = Literal[
    "isolated_marrow", "isolated_cns", "isolated_testicular", "other_extramedullary", "isolated_extramedullary",
    "combined",
]
MonitoringReading = Literal[
    "molecular_response", "persisting", "new_lesion", "normal_karyotype", "abnormal_karyotype", "reported",
]


class RelapseTiming(_Out, kw_only=True):
    """Time to relapse by the I-BFM (IntReALL) and COG definitions, with the dates they were measured from."""

    ibfm: Literal["very_early", "early", "late"] | None = None
    cog: Literal["early", "late"] | None = None
    diagnosis_date: dt.date | None = None
    end_of_therapy: Annotated[dt.date | None, Meta(description="end of front-line therapy (last block's end)")] = None
    months_from_diagnosis: float | None = None
    months_from_end_of_therapy: Annotated[float | None, Meta(description="negative: relapse while on therapy")] = None


class RelapseRisk(_Out, kw_only=True):
    """First-relapse risk groups (paediatric schemes), each None when not applicable or not decidable."""

    bfm: Literal["S1", "S2", "S3", "S4"] | None = None
    intreall: Literal["standard", "high"] | None = None
    cog: Literal["low", "intermediate", "high"] | None = None
    factors: list[str] = []


class Episode(_Out, kw_only=True):
    """The initial diagnosis, a relapse, or an induction failure with a work-up of its own."""

    kind: EpisodeKind
    number: Annotated[int, Meta(description="ordinal within its kind: relapse 2 is the second relapse")]
    onset: dt.date
    confirmed: Annotated[dt.date | None, Meta(description="the assessment that confirmed it (relapse)")] = None
    site: RelapseSite | None = None
    sites: Annotated[list[str], Meta(description="involved sites: marrow, cns, testis, ...")] = []
    timing: RelapseTiming | None = None
    risk: RelapseRisk | None = None
    workup: Annotated[list[EvidenceRef], Meta(description="the findings of this episode's work-up")] = []
    treatment_start: dt.date | None = None
    prior_therapy: Annotated[list[str], Meta(description="blinatumomab, inotuzumab, car_t, hsct, tki")] = []
    after_hsct: bool = False
    lineage: Annotated[str | None, Meta(description="lineage of this episode's blasts (myeloid: lineage switch)")] = None
    lineage_switch: bool | None = None
    antigen_loss: Annotated[list[str], Meta(description="targets positive at diagnosis, negative now")] = []
    antigen_modulation: Annotated[list[str], Meta(description="targets dim or partial now")] = []
    new_lesions: Annotated[list[str], Meta(description="genetic lesions not found at diagnosis")] = []
    outcome: Literal["complete_remission", "cr_incomplete_recovery", "refractory"] | None = None
    outcome_date: dt.date | None = None
    conclusions: list[Conclusion] = []


class MonitoringResult(_Out, kw_only=True):
    """A genetic or cytogenetic result outside every work-up: response monitoring, not a diagnosis."""

    index: int
    date: dt.date
    type: str
    reading: MonitoringReading
    lesions: list[str] = []
    summary: str


class Course(_Out, kw_only=True):
    episodes: list[Episode] = []
    monitoring: list[MonitoringResult] = []
    conclusions: list[Conclusion] = []


class Assessment(_Out, kw_only=True):
    schema_: Literal["allcare.assessment/1"] = msgspec.field(default=ASSESSMENT_SCHEMA, name="schema")
    engine_version: str
    rules_version: str
    as_of: dt.date
    patient: PatientSummary
    diagnosis_date: dt.date | None = None
    diagnosis: Diagnosis
    codes: Codes
    blood_counts: list[CountResult] = []
    cns_status: CnsStatus | None = None
    cns: CnsResult = msgspec.field(default_factory=CnsResult)
    risk: Risk
    status: Status
    mrd: MrdSummary
    alerts: list[Alert] = []
    missing: list[str] = []
    disclaimer: str
    course: Annotated[Course, Meta(description="episodes of the disease (diagnosis, relapses)")] = msgspec.field(
        default_factory=Course)
    # Treatment monitoring (engine/monitoring.py)
    body_size: BodySize | None = None
    chemistry: list[ChemistryResult] = []
    maintenance: Maintenance | None = None
    pharmacogenetics: ThiopurineGuidance | None = None
    toxicity: Toxicity = msgspec.field(default_factory=Toxicity)

    def to_json_dict(self) -> dict:
        """The JSON document as Python dicts and lists (what :func:`assessment_to_json` writes)."""
        return msgspec.json.decode(assessment_to_json(self))

    def conclusions(self) -> list[Conclusion]:
        """Every conclusion of every section, in reading order: the derivation trail."""
        trail = [*self.diagnosis.conclusions, *self.codes.conclusions, *self.cns.conclusions]
        trail += [c for count in self.blood_counts for c in count.conclusions]
        trail += [*self.risk.conclusions, *self.status.conclusions]
        trail += [point.conclusion for point in self.status.timeline]
        trail += [c for episode in self.course.episodes for c in episode.conclusions]
        trail += self.course.conclusions
        trail += [c for result in self.chemistry for c in result.conclusions]
        trail += self.maintenance.conclusions if self.maintenance else []
        trail += self.pharmacogenetics.conclusions if self.pharmacogenetics else []
        return trail + self.toxicity.conclusions


_ENCODER = msgspec.json.Encoder()
_DECODER = msgspec.json.Decoder(Assessment)


def assessment_to_json(assessment: Assessment) -> bytes:
    """The ``allcare.assessment`` JSON document (UTF-8, compact): what the store, API and CLI write."""
    return _ENCODER.encode(assessment)


def assessment_from_json(data: bytes | str) -> Assessment:
    """An assessment back from its JSON document; ``msgspec.ValidationError`` when it does not fit the model."""
    return _DECODER.decode(data)
