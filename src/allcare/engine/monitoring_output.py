"""Output sections of treatment monitoring (additive keys of ``allcare.assessment``).

Body size, chemistry with CTCAE grades, maintenance against the protocol
family's targets, thiopurine pharmacogenetics, and toxicity (febrile
neutropenia, tumour lysis, methotrexate and asparaginase levels, cumulative
anthracyclines, recorded adverse events). Like every section they are frozen
``msgspec`` structs the engine builds without validation; each section carries
the conclusions (rule, source, evidence, missing) that produced it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Protocol

import msgspec
from msgspec import Meta

from .columns import Column, entry, unfold
from .explain import Conclusion, EvidenceRef

DECISION_SUPPORT = "Decision support for the treating team, not an order: the clinician decides and prescribes."


class _Out(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """Base of every output section: immutable, built without validation (the engine made it)."""


# Body size -----------------------------------------------------------------------------------


class BodySize(_Out, frozen=True, kw_only=True):
    date: Annotated[dt.date, Meta(description="date of the newest measurement used")]
    height_cm: float | None = None
    weight_kg: float | None = None
    bsa_m2: float | None = None
    bsa_source: Annotated[
        Literal["recorded", "mosteller", "haycock", "dubois"] | None,
        Meta(description="recorded, or the formula that computed it from height and weight"),
    ] = None
    evidence: list[EvidenceRef] = []


# Chemistry -----------------------------------------------------------------------------------


class ChemistryAnalyte(_Out, frozen=True, kw_only=True):
    """One analyte of one chemistry finding: a cell of the table, as :meth:`ChemistryTable.rows` gives it (not in the JSON)."""

    analyte: str
    value: float
    unit: str
    comparator: str | None = None
    lower_limit: float | None = None
    upper_limit: float | None = None
    flag: Literal["low", "normal", "high"] | None = None
    ctcae_term: str | None = None
    grade: int | None = None
    possible_grades: list[int] = []
    note: str | None = None


class ChemistryResult(_Out, frozen=True, kw_only=True):
    """One chemistry finding as a row, with its conclusions: what :meth:`ChemistryTable.rows` yields (not in the JSON)."""

    index: int
    date: dt.date
    analytes: list[ChemistryAnalyte]
    conclusions: list[Conclusion] = []


ChemistryFlag = Literal["low", "normal", "high"]


class ChemistryColumns(_Out, frozen=True, kw_only=True):
    """One analyte across every chemistry finding: its values and what each value means.

    ``values`` is a list with one entry per finding; any other column is in one of the three forms of
    :mod:`.columns` (``possible_grades`` is always a list of lists, or null).
    """

    unit: Annotated[str, Meta(description="canonical (SI) unit of every value and limit")]
    values: Annotated[list[float | None], Meta(description="one per finding; null when the finding did not measure it")]
    comparators: Annotated[Column[str | None], Meta(description="'<' 5 means the lab reported 'below 5'")] = None
    lower_limits: Annotated[Column[float | None], Meta(description="the lab's lower limit of normal")] = None
    upper_limits: Annotated[Column[float | None], Meta(description="the lab's upper limit of normal")] = None
    flags: Annotated[Column[ChemistryFlag | None], Meta(description="against the lab's limits")] = None
    ctcae_terms: Annotated[Column[str | None], Meta(description="CTCAE v5.0 term of a grade above 0")] = None
    grades: Annotated[
        Column[int | None],
        Meta(description="CTCAE v5.0 grade when the value decides it; null with a term: see possible_grades"),
    ] = None
    possible_grades: Annotated[
        list[list[int]] | None,
        Meta(description="per finding, the grades still possible when symptoms decide (e.g. lipase); null: none anywhere"),
    ] = None
    notes: Annotated[Column[str | None], Meta(description="how the value was read (corrected calcium, baseline)")] = None


_CHEMISTRY_CELLS = ("comparators", "lower_limits", "upper_limits", "flags", "ctcae_terms", "grades", "notes")


class ChemistryTable(_Out, frozen=True, kw_only=True):
    """Every chemistry finding up to ``as_of`` as a table of columns, in date order, with the conclusions
    of the findings that have a CTCAE grade above 0, possible grades, or something missing to grade them."""

    indexes: Annotated[list[int], Meta(description="each finding's position in the case's findings list")] = []
    dates: list[dt.date] = []
    analytes: Annotated[dict[str, ChemistryColumns], Meta(description="the analytes measured at least once")] = {}
    notable: Annotated[
        list[Conclusion], Meta(description="one conclusion per finding with a grade, possible grades or a missing item"),
    ] = []

    def __len__(self) -> int:
        return len(self.dates)

    def results(self, analyte: str) -> list[tuple[int, ChemistryAnalyte]]:
        """(row, result) for every finding that measured ``analyte``, in date order."""
        columns = self.analytes.get(analyte)
        if columns is None:
            return []
        n = len(self.dates)
        comparators, lower, upper, flags, terms, grades, notes = (unfold(getattr(columns, c), n) for c in _CHEMISTRY_CELLS)
        possible = columns.possible_grades or [[]] * n
        return [
            (i, ChemistryAnalyte(
                analyte=analyte, value=value, unit=columns.unit, comparator=comparators[i], lower_limit=lower[i],
                upper_limit=upper[i], flag=flags[i], ctcae_term=terms[i], grade=grades[i], possible_grades=possible[i],
                note=notes[i],
            ))
            for i, value in enumerate(columns.values)
            if value is not None
        ]

    def conclusions_of(self, row: int) -> list[Conclusion]:
        """The conclusions about the finding of ``row`` (at most one)."""
        index = self.indexes[row]
        return [c for c in self.notable if c.evidence and c.evidence[0].index == index]

    def rows(self) -> list[ChemistryResult]:
        """The table as one result per finding, each with the analytes it measured (in the order of ``analytes``)."""
        analytes: list[list[ChemistryAnalyte]] = [[] for _ in self.dates]
        for name in self.analytes:
            for i, result in self.results(name):
                analytes[i].append(result)
        return [
            ChemistryResult(index=self.indexes[i], date=self.dates[i], analytes=analytes[i], conclusions=self.conclusions_of(i))
            for i in range(len(self.dates))
        ]


# Maintenance ---------------------------------------------------------------------------------


class DosePeriod(_Out, frozen=True, kw_only=True):
    """One dose finding as a bar: per administration, and per week for a daily or weekly regimen."""

    index: int
    agent: str
    start: dt.date
    end: Annotated[dt.date | None, Meta(description="its own end, else the day before the next dose of the agent")] = None
    dose: float
    unit: str
    frequency: str
    weekly_mg: Annotated[float | None, Meta(description="mg per week; null for a single dose or without body size")] = None
    weekly_mg_m2: float | None = None


Zone = Literal["hold", "reduce", "target", "above", "below", "unknown"]


class MaintenanceCount(_Out, frozen=True, kw_only=True):
    """One maintenance count as a row: what :meth:`MaintenanceRows.row` gives (not in the JSON)."""

    index: int
    date: dt.date
    anc: float | None = None
    platelets: float | None = None
    wbc: float | None = None
    zone: Zone
    in_target: bool | None = None
    weight_weeks: float
    mercaptopurine_mg_week: float | None = None
    methotrexate_mg_week: float | None = None
    mercaptopurine_di_pct: float | None = None
    methotrexate_di_pct: float | None = None


# A column of the maintenance table, in one of the three forms of :mod:`.columns` (as the blood-count
# table writes its columns).
OptionalFloatColumn = Column[float | None]
MAINTENANCE_ANALYTES = ("anc", "platelets", "wbc")
"""The blood-count analytes a maintenance count is read on (the values the maintenance table refers to)."""


class CountRows(Protocol):
    """What a maintenance table reads from the blood-count table (:class:`.assessment.BloodCounts`)."""

    @property
    def indexes(self) -> list[int]: ...
    @property
    def dates(self) -> list[dt.date]: ...
    def column(self, analyte: str, name: str) -> list[Any]: ...


class MaintenanceCounts(_Out, frozen=True, kw_only=True):
    """Every blood count of maintenance as a table of columns, in date order (one entry per count).

    The counts of maintenance are a stretch of the blood-count table's rows (``first_row`` and the
    ``row_count`` rows from it): their dates, finding indexes and values are there, and this table
    writes only what they mean for maintenance. Each column is in one of the three forms of
    :mod:`.columns`. :meth:`read` joins the two tables: every reader goes through it.
    """

    first_row: Annotated[int, Meta(description="the row of blood_counts that holds the first maintenance count")] = 0
    row_count: Annotated[
        int, Meta(description="how many counts: blood_counts rows first_row to first_row + row_count - 1, in order"),
    ] = 0
    zones: Annotated[Column[Zone] | None, Meta(description="where each count lies against the family's lines")] = None
    in_target: Annotated[
        Column[bool | None],
        Meta(description="the steering count inside the band; null when missing or a bound straddles a line"),
    ] = None
    weight_weeks: Annotated[
        Column[float] | None,
        Meta(description="weeks to the next count (the last count weighs 1 week), as allMT"),
    ] = None
    mercaptopurine_mg_week: OptionalFloatColumn = None
    methotrexate_mg_week: OptionalFloatColumn = None
    mercaptopurine_di_pct: Annotated[
        OptionalFloatColumn, Meta(description="dose intensity: prescribed / protocol dose, %"),
    ] = None
    methotrexate_di_pct: OptionalFloatColumn = None

    def __len__(self) -> int:
        return self.row_count

    def read(self, blood_counts: CountRows) -> MaintenanceRows:
        """This table with the dates, indexes and values of the blood-count rows it refers to
        (``blood_counts`` is the same assessment's :class:`.assessment.BloodCounts`)."""
        if self.first_row + self.row_count > len(blood_counts.dates):
            raise ValueError(f"the maintenance counts are blood-count rows {self.first_row} to "
                             f"{self.first_row + self.row_count - 1}, but the blood-count table given has "
                             f"{len(blood_counts.dates)} rows: read them with the same assessment's blood_counts")
        rows = slice(self.first_row, self.first_row + self.row_count)
        anc, platelets, wbc = (blood_counts.column(analyte, "values")[rows] for analyte in MAINTENANCE_ANALYTES)
        return MaintenanceRows(self, blood_counts.indexes[rows], blood_counts.dates[rows], anc, platelets, wbc)


@dataclass(frozen=True, slots=True)
class MaintenanceRows:
    """A maintenance table joined with its blood counts: what charts, the forecast, the report and the
    dose suggestion read (not in the JSON). Every list has one entry per maintenance count, in date order."""

    table: MaintenanceCounts
    indexes: list[int]
    dates: list[dt.date]
    anc: list[float | None]
    platelets: list[float | None]
    wbc: list[float | None]

    def __len__(self) -> int:
        return len(self.dates)

    def steered(self, steering: str) -> list[float | None]:
        """The steering count's values (``Maintenance.steering``: ``anc`` or ``wbc``)."""
        return self.anc if steering == "anc" else self.wbc

    def column(self, name: str) -> list[Any]:
        """One column of the maintenance table as a list of one entry per count, whichever form it was
        written in (the element type depends on ``name``, hence ``Any``)."""
        return unfold(getattr(self.table, name), len(self.dates))

    def row(self, row: int) -> MaintenanceCount:
        """Count ``row`` (negative counts from the end) as one row."""
        def cell(name: str) -> Any:
            return entry(getattr(self.table, name), row)

        return MaintenanceCount(
            index=self.indexes[row], date=self.dates[row], anc=self.anc[row], platelets=self.platelets[row],
            wbc=self.wbc[row], zone=cell("zones"), in_target=cell("in_target"), weight_weeks=cell("weight_weeks"),
            mercaptopurine_mg_week=cell("mercaptopurine_mg_week"), methotrexate_mg_week=cell("methotrexate_mg_week"),
            mercaptopurine_di_pct=cell("mercaptopurine_di_pct"), methotrexate_di_pct=cell("methotrexate_di_pct"),
        )

    def rows(self) -> list[MaintenanceCount]:
        """The table as one row per count (for tables and tests; charts read the columns)."""
        return [self.row(n) for n in range(len(self.dates))]


SuggestionAction = Literal["hold", "reduce", "continue", "increase", "cannot_determine"]


class DoseSuggestion(_Out, frozen=True, kw_only=True):
    date: Annotated[dt.date, Meta(description="date of the blood count the suggestion reads")]
    action: SuggestionAction
    drugs: list[str] = []
    wording: Annotated[str, Meta(description="as the protocol family words it, marked as decision support")]
    family: str
    family_label: str
    rule: str
    source: str
    decision_support: str = DECISION_SUPPORT


class ForecastPoint(_Out, frozen=True, kw_only=True):
    date: dt.date
    anc: float
    low: Annotated[float, Meta(description="lower end of the 80% interval")]
    high: Annotated[float, Meta(description="upper end of the 80% interval")]


class AncForecast(_Out, frozen=True, kw_only=True):
    model: str
    source: str
    points: list[ForecastPoint] = []
    fitted_counts: int = 0
    validation: Annotated[str, Meta(description="how the model was checked, in words")] = ""


class Maintenance(_Out, frozen=True, kw_only=True):
    family: Annotated[str, Meta(description="protocol family whose targets applied (rule set 'maintenance')")]
    family_label: str
    source: str
    steering: Literal["anc", "wbc"]
    target_low: float
    target_high: float
    target_low_inclusive: bool
    start: dt.date
    end: Annotated[
        dt.date | None,
        Meta(description="last day: the block's end, or the day before the next backbone block; null while open"),
    ] = None
    running: Annotated[bool, Meta(description="maintenance runs on the assessment date (only then a suggestion)")] = False
    counts: Annotated[MaintenanceCounts, Meta(description="the counts of maintenance: a stretch of blood_counts rows, and what they mean")] = msgspec.field(
        default_factory=MaintenanceCounts)
    doses: list[DosePeriod] = []
    weeks_observed: float | None = None
    time_in_target_pct: Annotated[float | None, Meta(description="share of the weighted weeks in the target band, %")] = None
    weighted_mean_count: Annotated[float | None, Meta(description="time-weighted mean of the steering count")] = None
    mercaptopurine_di_pct: float | None = None
    methotrexate_di_pct: float | None = None
    antimetabolite_di_pct: Annotated[float | None, Meta(description="weighted mean of the per-count product of both dose intensities, %")] = None
    mercaptopurine_mtd_mg_week: Annotated[float | None, Meta(description="highest weekly dose given without interruption for the family's MTD span")] = None
    suggestion: DoseSuggestion | None = None
    conclusions: list[Conclusion] = []


# Pharmacogenetics ----------------------------------------------------------------------------


class ThiopurineGuidance(_Out, frozen=True, kw_only=True):
    tpmt: str | None = None
    nudt15: str | None = None
    drug: str = "mercaptopurine"
    start_pct_low: Annotated[float | None, Meta(description="CPIC starting dose range, % of the normal (protocol) dose")] = None
    start_pct_high: float | None = None
    schedule: Annotated[str | None, Meta(description="e.g. 'three days a week instead of daily'")] = None
    steady_state_weeks: tuple[int, int] | None = None
    wording: str = ""
    protocol_start_mg_m2_day: float | None = None
    current_pct_of_protocol: Annotated[float | None, Meta(description="the latest mercaptopurine dose per m2 as % of the protocol dose")] = None
    rule: str = ""
    source: str = ""
    conclusions: list[Conclusion] = []


# Toxicity ------------------------------------------------------------------------------------


class FebrileEpisode(_Out, frozen=True, kw_only=True):
    date: dt.date
    time: str | None = None
    temperature: float
    fever_by: Literal["single", "sustained", "repeated"]
    anc: float | None = None
    anc_date: dt.date | None = None
    status: Literal["febrile_neutropenia", "fever_anc_unknown", "fever_without_neutropenia"]
    ctcae_grade3_criteria: Annotated[bool | None, Meta(description="CTCAE v5.0 febrile neutropenia criteria (ANC < 1.0, T > 38.3 or >= 38 for over 1 h)")] = None
    evidence: list[EvidenceRef] = []


class TlsCriterion(_Out, frozen=True, kw_only=True):
    analyte: str
    date: dt.date
    value: float
    unit: str
    met_by: Literal["absolute", "change"]
    baseline: float | None = None


class TumourLysis(_Out, frozen=True, kw_only=True):
    therapy_start: dt.date
    window_start: dt.date
    window_end: dt.date
    laboratory: Annotated[bool | None, Meta(description="Cairo-Bishop laboratory TLS; null when it cannot be decided")] = None
    clinical: bool | None = None
    grade: Annotated[int | None, Meta(description="Cairo-Bishop grade of clinical TLS (worst component)")] = None
    criteria: list[TlsCriterion] = []
    clinical_criteria: list[str] = []


class MethotrexateLevelResult(_Out, frozen=True, kw_only=True):
    index: int
    date: dt.date
    hours_after_start: float
    value: float
    comparator: str | None = None
    infusion_hours: float | None = None
    line: Annotated[float | None, Meta(description="the consensus line at this hour (umol/L)")] = None
    above_line: bool | None = None
    creatinine_ratio: Annotated[float | None, Meta(description="creatinine / pre-infusion creatinine")] = None
    status: Literal["before_lines", "below_line", "delayed_clearance", "glucarpidase_criteria", "cannot_determine"]


class AsparaginaseResult(_Out, frozen=True, kw_only=True):
    index: int
    date: dt.date
    value: float
    comparator: str | None = None
    preparation: str | None = None
    days_after_dose: float | None = None
    status: Literal["adequate", "low", "low_confirmed", "not_interpretable"]
    with_hypersensitivity: bool = False


class AgentExposure(_Out, frozen=True, kw_only=True):
    agent: str
    cumulative_mg_m2: float
    factor: float
    doxorubicin_equivalent_mg_m2: float


class AnthracyclineExposure(_Out, frozen=True, kw_only=True):
    profile: str
    source: str
    total_mg_m2: Annotated[float | None, Meta(description="cumulative doxorubicin-equivalent dose; null when a dose cannot be converted")] = None
    agents: list[AgentExposure] = []
    band: Literal["high", "moderate", "low"] | None = None
    missing: list[str] = []


class RecordedAdverseEvent(_Out, frozen=True, kw_only=True):
    index: int
    term: str
    label: str
    grade: int
    start: dt.date
    end: dt.date | None = None
    agent: str | None = None
    ctcae_version: str = "5.0"


class Toxicity(_Out, frozen=True, kw_only=True):
    febrile_neutropenia: list[FebrileEpisode] = []
    tumour_lysis: list[TumourLysis] = []
    methotrexate_levels: list[MethotrexateLevelResult] = []
    asparaginase_activity: list[AsparaginaseResult] = []
    anthracyclines: AnthracyclineExposure | None = None
    adverse_events: list[RecordedAdverseEvent] = []
    conclusions: list[Conclusion] = []
