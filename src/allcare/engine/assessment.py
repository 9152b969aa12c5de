"""The ``allcare.assessment/3`` output model (documented in docs/assessment-format.md).

Other tools (web app, FHIR export, cohorts, CDS Hooks) read these names and
values, so they are a contract: values are the exact strings listed in the case
format documentation, sections are only ever added to, and a change of shape
is a new schema version with a written migration (/1 to /2: the blood counts
became a table of columns).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Final, Literal

import msgspec
from msgspec import Meta

from .case.bounds import Comparator
from .case.models import CbcAnalyte as Analyte
from .columns import Column, unfold
from .explain import Conclusion, EvidenceRef
from .karyotype import Karyotype
from .monitoring_output import BodySize, ChemistryTable, Maintenance, ThiopurineGuidance, Toxicity

ASSESSMENT_SCHEMA: Final = "allcare.assessment/3"

Disease = Literal["ALL", "LBL", "MPAL", "not_ALL", "indeterminate"]
Lineage = Literal["B", "T", "B/myeloid", "T/myeloid", "B/T", "B/T/myeloid"]
Etp = Literal["etp", "near_etp", "not_etp"]
BStage = Literal["pro_b", "common_b", "pre_b", "mature_b"]
TStage = Literal["pro_t", "pre_t", "cortical_t", "mature_t"]
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


class _Out(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """Base of every output section: immutable, built without validation (the engine made it).

    Sections are trees of values that cannot form reference cycles, so they are
    not tracked by the garbage collector (``gc=False``).
    """


class Entity(_Out, frozen=True, kw_only=True):
    """A classification entity: stable snake_case key and the name as the classification spells it."""

    key: str | None = None
    name: str | None = None
    subtype: Annotated[str | None, Meta(description="ICC sub-type key, e.g. 'lymphoid_only'")] = None
    subtype_name: str | None = None
    determined: bool = False
    missing: list[str] = []


class EgilScore(_Out, frozen=True, kw_only=True):
    b: float
    t: float
    myeloid: float
    biphenotypic: bool
    lineages: Annotated[list[str], Meta(description="lineages scoring > 2")] = []


class GeneticSummary(_Out, frozen=True, kw_only=True):
    detected: Annotated[list[str], Meta(description="lesions found, canonical spelling")] = []
    negative: Annotated[list[str], Meta(description="tested and not found")] = []
    not_tested: Annotated[list[str], Meta(description="defining lesions with no result")] = []
    conflicting: Annotated[list[str], Meta(description="reported both found and not found")] = []
    modal_number: int | None = None
    dna_index: float | None = None
    ploidy: Annotated[str | None, Meta(description="near_haploid | low_hypodiploid | high_hypodiploid | near_diploid | diploid | low_hyperdiploid | high_hyperdiploid | near_triploid | near_tetraploid")] = None
    masked_hypodiploidy_possible: bool = False
    complex_karyotype: bool | None = None
    expression_subtype: str | None = None


class Diagnosis(_Out, frozen=True, kw_only=True):
    disease: Disease = "indeterminate"
    lineage: Lineage | None = None
    etp: Etp | None = None
    b_stage: BStage | None = None
    t_stage: TStage | None = None
    who_haem5: Entity = msgspec.field(default_factory=Entity)
    icc_2022: Entity = msgspec.field(default_factory=Entity)
    egil: EgilScore | None = None
    genetics: GeneticSummary = msgspec.field(default_factory=GeneticSummary)
    karyotype: Karyotype | None = None
    lbl_site: Annotated[str | None, Meta(description="site of the lymphoma mass, for LBL coding")] = None
    conclusions: list[Conclusion] = []


class Codes(_Out, frozen=True, kw_only=True):
    icd_o_3: str | None = None
    icd_o_3_term: str | None = None
    icd_o_3_topography: str | None = None
    """ICD-O-3 topography (primary site): C42.1 bone marrow for a leukaemia, the mass's site for a lymphoma."""
    icd_o_3_topography_term: str | None = None
    icd_10_cm: str | None = None
    icd_10_cm_term: str | None = None
    snomed_ct: str | None = None
    snomed_ct_term: str | None = None
    conclusions: list[Conclusion] = []


RangeSource = Literal["lab", "reference"]
Flag = Literal["low", "normal", "high"]

# A column of the blood-count table, in one of the three forms of :mod:`.columns`: one entry per
# count in the order of ``BloodCounts.dates``; the single entry every count holds (often: no
# comparator, one reference range, one CTCAE term); or coded (distinct entries and a code per
# count). ``BloodCounts.rows`` and ``BloodCounts.column`` read every form.
FloatColumn = Column[float | None]
IntColumn = Column[int | None]
TextColumn = Column[str | None]


class AnalyteColumns(_Out, frozen=True, kw_only=True):
    """One analyte across every blood count: its values and what each value means."""

    unit: Annotated[str, Meta(description="canonical unit of every value and limit")]
    values: Annotated[list[float | None], Meta(description="one per count; null when the count did not measure it")]
    comparators: Annotated[
        Column[Comparator | None],
        Meta(description="'<' 5 means the lab reported 'below 5'; null: the value is exact"),
    ] = None
    lower_limits: Annotated[FloatColumn, Meta(description="lower limit of normal used (the lab's, else the reference)")] = None
    upper_limits: Annotated[FloatColumn, Meta(description="upper limit of normal used (the lab's, else the reference)")] = None
    range_sources: Annotated[
        Column[RangeSource | None],
        Meta(description="whose limits: 'lab' or 'reference' (age- and sex-specific interval); null: none known"),
    ] = None
    flags: Annotated[Column[Flag | None], Meta(description="against the limits; null when undecided")] = None
    ctcae_terms: Annotated[TextColumn, Meta(description="CTCAE v5 term the value is graded under; null: not graded")] = None
    grades: Annotated[IntColumn, Meta(description="CTCAE v5 grade; null with a term: undecided (see notable)")] = None


class AnalyteResult(_Out, frozen=True, kw_only=True):
    """One analyte of one count: a cell of the table, as :meth:`BloodCounts.rows` gives it (not in the JSON)."""

    analyte: Analyte
    value: float
    unit: str
    comparator: Comparator | None = None
    lower_limit: float | None = None
    upper_limit: float | None = None
    range_source: RangeSource | None = None
    flag: Flag | None = None
    ctcae_term: str | None = None
    grade: int | None = None


class CountRow(_Out, frozen=True, kw_only=True):
    """One blood count as a row: what :meth:`BloodCounts.rows` yields for charts, tables and reports."""

    index: int
    date: dt.date
    results: list[AnalyteResult]
    named: list[str]


_CELLS = ("comparators", "lower_limits", "upper_limits", "range_sources", "flags", "ctcae_terms", "grades")


class BloodCounts(_Out, frozen=True, kw_only=True):
    """Every blood count up to ``as_of`` as a table of columns, in date order.

    Plain values for every count; conclusions (``notable``) only for what a care
    team must read: a CTCAE grade of 3 or more, a grade that cannot be decided,
    a grade the age-specific range disagrees with, and the named conditions
    pancytopenia and circulating blasts. Words for the other counts are written
    by whoever shows them, from these values.
    """

    indexes: Annotated[list[int], Meta(description="each count's position in the case's findings list")] = []
    dates: list[dt.date] = []
    analytes: Annotated[dict[Analyte, AnalyteColumns], Meta(description="the analytes measured at least once")] = {}
    named: Annotated[
        dict[str, list[int]],
        Meta(description="for each plain-word name (anaemia, neutropenia, pancytopenia ...), the rows it applies to"),
    ] = {}
    notable: list[Conclusion] = []

    def __len__(self) -> int:
        return len(self.dates)

    def column(self, analyte: str, name: str) -> list[Any]:
        """One column of one analyte as a list (``values``, ``flags``, ``grades`` ...); all null when not measured.

        The element type depends on ``name`` (numbers, flags, grades), hence ``Any``."""
        columns = self.analytes.get(analyte)  # type: ignore[call-overload]
        if columns is None:
            return [None] * len(self.dates)
        return unfold(getattr(columns, name), len(self.dates))

    def results(self, analyte: str) -> list[tuple[int, AnalyteResult]]:
        """(row, result) for every count that measured ``analyte``, in date order."""
        columns = self.analytes.get(analyte)  # type: ignore[call-overload]
        if columns is None:
            return []
        n = len(self.dates)
        comparators, lower, upper, sources, flags, terms, grades = (unfold(getattr(columns, c), n) for c in _CELLS)
        return [
            (i, AnalyteResult(
                analyte=analyte, value=value, unit=columns.unit, comparator=comparators[i], lower_limit=lower[i],  # type: ignore[arg-type]
                upper_limit=upper[i], range_source=sources[i], flag=flags[i], ctcae_term=terms[i], grade=grades[i],
            ))
            for i, value in enumerate(columns.values)
            if value is not None
        ]

    def rows(self) -> list[CountRow]:
        """The table as one row per count, each with the results it measured (in the order of ``analytes``)."""
        n = len(self.dates)
        results: list[list[AnalyteResult]] = [[] for _ in range(n)]
        for analyte in self.analytes:
            for i, result in self.results(analyte):
                results[i].append(result)
        names: list[list[str]] = [[] for _ in range(n)]
        for name, where in self.named.items():
            for i in where:
                names[i].append(name)
        return [
            CountRow(index=self.indexes[i], date=self.dates[i], results=results[i], named=names[i]) for i in range(n)
        ]

    def latest(self, analyte: str) -> int | None:
        """The row of the latest count that measured ``analyte``; None when none did."""
        values = self.column(analyte, "values")
        return next((i for i in range(len(values) - 1, -1, -1) if values[i] is not None), None)


NciRisk = Literal["standard", "high", "infant", "not_applicable"]
GeneticRisk = Literal["standard", "poor"]
CogRiskGroup = Literal["low", "average", "high", "very_high"]
MrdPersistence = Literal["persistent", "cleared", "negative"]
AgeGroup = Literal["infant", "paediatric", "adult"]
CnsStatus = Literal["CNS1", "CNS2a", "CNS2b", "CNS2c", "CNS3a", "CNS3b", "CNS3c"]


class CnsResult(_Out, frozen=True, kw_only=True):
    status: Annotated[CnsStatus | None, Meta(description="at diagnosis; null when no CSF or undecided")] = None
    possible: Annotated[list[CnsStatus], Meta(description="candidates when the status is undecided")] = []
    date: dt.date | None = None
    traumatic_tap: bool | None = None
    testicular: Annotated[bool | None, Meta(description="testicular involvement; null when not recorded")] = None
    conclusions: list[Conclusion] = []


class CogGroup(_Out, frozen=True, kw_only=True):
    group: CogRiskGroup | None = None
    column: int | None = None
    label: str = "COG-style group (PDQ Table 1; column-to-group split inferred, not a protocol assignment)"


class AdultRisk(_Out, frozen=True, kw_only=True):
    applicable: bool = False
    adverse_factors: list[str] = []
    high_risk: bool | None = None


class Risk(_Out, frozen=True, kw_only=True):
    nci: NciRisk | None = None
    genetic: GeneticRisk | None = None
    adult: AdultRisk = msgspec.field(default_factory=AdultRisk)
    cog: CogGroup = msgspec.field(default_factory=CogGroup)
    down_syndrome: bool = False
    infant: bool = False
    interfant_high_risk: bool | None = None
    mrd_persistence: Annotated[MrdPersistence | None, Meta(description="MRD at end of induction and consolidation: persistent = positive at end of consolidation")] = None
    factors: Annotated[list[str], Meta(description="everything that drove the risk outputs")] = []
    conclusions: list[Conclusion] = []


class MrdResult(_Out, frozen=True, kw_only=True):
    index: int
    date: dt.date
    value: Annotated[float | None, Meta(description="fraction of cells")] = None
    comparator: Annotated[Literal["<", "<=", ">=", ">"] | None, Meta(description="the value is a bound ('<' 0.0001: below 0.01%, e.g. below the assay's limit)")] = None
    method: str | None = None
    sensitivity: float | None = None
    sample: str | None = None
    timepoint: str | None = None
    status: MrdStatus


class MrdSummary(_Out, frozen=True, kw_only=True):
    latest: MrdResult | None = None
    series: list[MrdResult] = []


class TimelinePoint(_Out, frozen=True, kw_only=True):
    date: dt.date
    status: DiseaseStatus
    marrow_grade: Literal["M1", "M2", "M3"] | None = None
    marrow_blasts_pct: float | None = None
    mrd: MrdResult | None = None
    phase: Annotated[str | None, Meta(description="treatment phase running on that date")] = None
    conclusion: Conclusion


class PhaseSpan(_Out, frozen=True, kw_only=True):
    phase: str
    start: dt.date
    end: dt.date | None = None
    running: bool = False
    expected_days: tuple[int, int] | None = None
    agents: list[str] = []
    protocol: str | None = None
    index: int
    notes: Annotated[list[str], Meta(description="late or missing response assessment, overrun ...")] = []


class Status(_Out, frozen=True, kw_only=True):
    current: DiseaseStatus | None = None
    since: dt.date | None = None
    current_phase: str | None = None
    timeline: list[TimelinePoint] = []
    phases: list[PhaseSpan] = []
    conclusions: list[Conclusion] = []


AlertCode = Literal[
    "hyperleukocytosis", "mediastinal_mass", "severe_neutropenia", "severe_thrombocytopenia", "cns_disease",
    "testicular_disease", "ph_positive", "immunotherapy_indication", "down_syndrome", "missing_end_of_induction",
    "lineage_switch", "antigen_loss", "mrd_recurrence", "mrd_persistent", "germline_tp53_testing", "abl_class_tki",
    "stale_data", "before_diagnosis",
    # treatment monitoring (monitoring.py)
    "febrile_neutropenia", "tumour_lysis", "methotrexate_clearance", "asparaginase_inactivation", "hepatotoxicity",
    "anthracycline_cumulative", "thiopurine_pharmacogenetics", "maintenance_dose",
]
"""Every alert code the engine raises (``Alert.code``); each has its words in ``allcare.labels.ALERT``
(``tests/test_labels.py`` checks both against the codes the engine writes)."""


class Alert(_Out, frozen=True, kw_only=True):
    code: str
    severity: Severity
    message: str
    rule: str
    source: str
    evidence: list[EvidenceRef] = []


class PatientSummary(_Out, frozen=True, kw_only=True):
    id: str
    sex: str
    age_at_diagnosis: float | None = None
    age_group: AgeGroup | None = None
    conditions: list[str] = []


# Course of the disease: episodes (diagnosis, relapses), their work-ups and response monitoring ------------
EpisodeKind = Literal["initial", "relapse", "refractory"]
EpisodeOutcome = Literal["complete_remission", "cr_incomplete_recovery", "refractory"]
RelapseSite = Literal[
    "isolated_marrow", "isolated_cns", "isolated_testicular", "other_extramedullary", "isolated_extramedullary",
    "combined",
]
MonitoringReading = Literal[
    "molecular_response", "persisting", "new_lesion", "normal_karyotype", "abnormal_karyotype", "reported",
]
IbfmTiming = Literal["very_early", "early", "late"]
CogRelapseTiming = Literal["early", "late"]
BfmGroup = Literal["S1", "S2", "S3", "S4"]
IntreallRisk = Literal["standard", "high"]
CogRelapseRisk = Literal["low", "intermediate", "high"]


class RelapseTiming(_Out, frozen=True, kw_only=True):
    """Time to relapse by the I-BFM (IntReALL) and COG definitions, with the dates they were measured from."""

    ibfm: IbfmTiming | None = None
    cog: CogRelapseTiming | None = None
    diagnosis_date: dt.date | None = None
    end_of_therapy: Annotated[dt.date | None, Meta(description="end of front-line therapy (last block's end)")] = None
    months_from_diagnosis: float | None = None
    months_from_end_of_therapy: Annotated[float | None, Meta(description="negative: relapse while on therapy")] = None


class RelapseRisk(_Out, frozen=True, kw_only=True):
    """First-relapse risk groups (paediatric schemes), each None when not applicable or not decidable."""

    bfm: BfmGroup | None = None
    intreall: IntreallRisk | None = None
    cog: CogRelapseRisk | None = None
    factors: list[str] = []


class Episode(_Out, frozen=True, kw_only=True):
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
    outcome: EpisodeOutcome | None = None
    outcome_date: dt.date | None = None
    conclusions: list[Conclusion] = []


class MonitoringResult(_Out, frozen=True, kw_only=True):
    """A genetic or cytogenetic result outside every work-up: response monitoring, not a diagnosis."""

    index: int
    date: dt.date
    type: str
    reading: MonitoringReading
    lesions: list[str] = []
    summary: str


class Course(_Out, frozen=True, kw_only=True):
    episodes: list[Episode] = []
    monitoring: list[MonitoringResult] = []
    conclusions: list[Conclusion] = []


class Assessment(_Out, frozen=True, kw_only=True):
    schema_: Literal["allcare.assessment/3"] = msgspec.field(default=ASSESSMENT_SCHEMA, name="schema")
    engine_version: str
    rules_version: str
    as_of: dt.date
    patient: PatientSummary
    diagnosis_date: dt.date | None = None
    diagnosis: Diagnosis
    codes: Codes
    blood_counts: BloodCounts = msgspec.field(default_factory=BloodCounts)
    cns_status: CnsStatus | None = None
    cns: CnsResult = msgspec.field(default_factory=CnsResult)
    risk: Risk
    status: Status
    mrd: MrdSummary
    alerts: list[Alert] = []
    missing: list[str] = []
    disclaimer: str
    course: Annotated[Course, Meta(description="episodes of the disease (diagnosis, relapses)")] = msgspec.field(default_factory=Course)
    # Treatment monitoring (engine/monitoring.py)
    body_size: BodySize | None = None
    chemistry: ChemistryTable = msgspec.field(default_factory=ChemistryTable)
    maintenance: Maintenance | None = None
    pharmacogenetics: ThiopurineGuidance | None = None
    toxicity: Toxicity = msgspec.field(default_factory=Toxicity)

    def to_json_dict(self) -> dict[str, Any]:
        """The JSON document as Python dicts and lists (what :func:`assessment_to_json` writes)."""
        return msgspec.json.decode(assessment_to_json(self), type=dict[str, Any])

    def conclusions(self) -> list[Conclusion]:
        """Every conclusion of every section, in reading order: the derivation trail."""
        trail = [*self.diagnosis.conclusions, *self.codes.conclusions, *self.cns.conclusions]
        trail += self.blood_counts.notable
        trail += [*self.risk.conclusions, *self.status.conclusions]
        trail += [point.conclusion for point in self.status.timeline]
        trail += [c for episode in self.course.episodes for c in episode.conclusions]
        trail += self.course.conclusions
        trail += self.chemistry.notable
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
