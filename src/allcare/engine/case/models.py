"""The ``allcare.case/1`` input model: one person, their dated findings.

These names are a contract: the web app, the FHIR importer and other tools
produce them, so fields are only ever added, never renamed. Unknown keys are
rejected (a misspelt ``wcb`` silently ignored would give wrong conclusions).
"""

from __future__ import annotations

import datetime as dt
import operator
import re
import unicodedata
from enum import Enum
from typing import Annotated, Any, Final, Literal, Self, TypeVar, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonDict

from ..lesion_vocabulary import normalise_lesion
from .adverse_terms import TERMS as ADVERSE_TERMS
from .adverse_terms import term_key, term_label
from .agents import normalise_agent
from .bounds import Comparator
from .markers import MarkerValue, normalise_marker_name
from .quantity import (
    Albumin,
    AsparaginaseActivityLevel,
    Bilirubin,
    BloodPressure,
    BodySurfaceArea,
    Calcium,
    CellCount,
    Creatinine,
    CsfCells,
    DoseQuantity,
    EnzymeActivity,
    Fibrinogen,
    Glucose,
    HeartRate,
    Height,
    Hemoglobin,
    MethotrexateConcentration,
    Percent,
    Phosphate,
    Potassium,
    Quantity,
    RedCellCount,
    Temperature,
    Triglycerides,
    UricAcid,
    Weight,
)

CASE_SCHEMA: Final = "allcare.case/1"

# Dates a clinical record can hold. A year such as 9999 or 0202 is a typo; it is
# rejected at the edge with the field named, rather than carried into date
# arithmetic (windows, phase durations) that cannot represent it.
EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(2199, 12, 31)
# The same bounds for JSON Schema readers (which have no date minimum): years 1900-2199.
DATE_PATTERN = r"^(19|20|21)[0-9]{2}-[0-9]{2}-[0-9]{2}$"
CaseDate = Annotated[dt.date, Field(ge=EARLIEST_DATE, le=LATEST_DATE, json_schema_extra={"pattern": DATE_PATTERN})]


def date_problem(value: object) -> str:
    """What to write instead of a date as registry extracts and spreadsheets write it. pydantic reads a number
    (or a string of digits) as seconds since 1970; allcare never invents a month or a day."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return "a date is written YYYY-MM-DD"
    if not isinstance(value, str):
        return "a date is written YYYY-MM-DD, not as a number; leave it out when it is unknown"
    text = value.strip()
    if re.fullmatch(r"\d{4}", text):
        return f"a year alone is not a date: write YYYY-MM-DD (got {text!r}; allcare does not invent the month and day)"
    if re.fullmatch(r"\d{4}-\d{1,2}", text):
        return f"a year and month alone are not a date: write YYYY-MM-DD (got {text!r}; allcare does not invent the day)"
    if re.fullmatch(r"\d{8}", text):
        return f"write it {text[:4]}-{text[4:6]}-{text[6:]} (YYYY-MM-DD; got {text!r})"
    if text.isdigit():
        return f"a date is written YYYY-MM-DD, not as a number (got {text[:20]!r}); leave it out when it is unknown"
    return f"a date is written YYYY-MM-DD (got {text[:40]!r})"


def _not_a_number(value: object) -> object:
    """pydantic reads a number, or a string of digits, as seconds since 1970: 0 (or "0"), which registry extracts
    write for an unknown date, became 1970-01-01. A date is YYYY-MM-DD text (or a YAML date)."""
    if (isinstance(value, (int, float)) and not isinstance(value, bool)) or (isinstance(value, str) and value.strip().isdigit()):
        raise ValueError(date_problem(value))
    return value


# The dates of the person (birth, diagnosis): two per record, so checked in Python at no cost. Finding dates are
# many, and a number read there as 1970 is before the birth date the record almost always has.
PersonDate = Annotated[CaseDate, BeforeValidator(_not_a_number)]

# Upper bounds of what one record may hold: far above any real record (a three-year
# record has ~170 findings), low enough that one request cannot make the store, an
# export or the engine work for minutes.
MAX_FINDINGS = 5_000
MAX_NOTE = 10_000
MAX_TEXT = 200
MAX_LIST = 100
MAX_MARKERS = 300

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


def unstorable_text(value: object) -> str | None:
    """Why a text cannot be stored (NUL, a lone surrogate), or None. Checks a text, or the texts directly
    in a list or mapping (keys too); nested models check their own fields."""
    if isinstance(value, str):
        if value.isascii():
            return "contains a NUL character (\\x00); remove it" if "\x00" in value else None
        if "\x00" in value:
            return "contains a NUL character (\\x00); remove it"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as error:
            return (f"contains a lone surrogate ({value[error.start]!a} at position {error.start}), "
                    "which is not valid Unicode text")
        return None
    if isinstance(value, dict):
        texts = [item for pair in value.items() for item in pair if isinstance(item, str)]
    elif isinstance(value, (list, tuple)):
        texts = [item for item in value if isinstance(item, str)]
    else:
        return None
    return next((problem for problem in map(unstorable_text, texts) if problem), None)


# Characters no one sees as themselves: control characters (Cc: tab, line breaks, ESC sequences), format
# characters (Cf: zero-width space, the bidirectional controls of UAX #9 such as U+202E right-to-left
# override, which reorder what follows) and the line and paragraph separators (Zl, Zp).
INVISIBLE_CATEGORIES: Final = frozenset({"Cc", "Cf", "Zl", "Zp"})


def identifier_problem(value: str) -> str | None:
    """Why an identifier would not display as what it is (an invisible or control character), or None.

    Identifiers are matched and read character for character (lists, search, the registry, a terminal):
    such a character makes one identifier look like another, cannot be typed back, or rewrites the screen
    it is printed on.
    """
    if value.isascii() and value.isprintable():
        return None
    for position, char in enumerate(value):
        category = unicodedata.category(char)
        if category in INVISIBLE_CATEGORIES:
            return (f"contains {char!a} at position {position}, an invisible or control character (Unicode category "
                    f"{category}) that would make the identifier display as something else; remove it")
    return None


def refuse_unstorable_text(value: T) -> T:
    """The value itself, when :func:`unstorable_text` finds nothing wrong with it (a pydantic validator)."""
    problem = unstorable_text(value)
    if problem:
        raise ValueError(problem)
    return value


class StorableText(BaseModel):
    """A model whose every text field (and the texts in its lists and mappings) can be stored.

    Text that no database can store, or that breaks every later read (NUL, lone
    surrogates), is refused at the input edge, with its field. Used by the API's
    request bodies; the case model checks only its text fields (:data:`TEXT_FIELDS`).
    """

    @field_validator("*")
    @classmethod
    def _storable_text(cls, value: object) -> object:
        return refuse_unstorable_text(value)


TEXT_FIELDS = (
    "id", "note", "timepoint", "markers", "intensity", "karyotype", "fusions", "alterations", "negative",
    "expression_subtype", "source", "detail", "agents", "protocol", "agent", "time", "diplotype", "term",
)
"""The fields of the case model that hold free text (alone, in a list, or as mapping keys), checked as
:class:`StorableText` checks every field. The others hold numbers, dates, quantities or one of a fixed set
of words, none of which can hold NUL or a lone surrogate: a record's thousand numbers and dates cost no
Python call. A test checks that every field able to hold free text is named here."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator(*TEXT_FIELDS, check_fields=False)
    @classmethod
    def _storable_text(cls, value: object) -> object:
        return refuse_unstorable_text(value)


class Sex(str, Enum):
    female = "female"
    male = "male"
    other = "other"
    unknown = "unknown"


class Condition(str, Enum):
    """Conditions that change classification, risk or toxicity.

    Down syndrome changes toxicity and risk; prior chemotherapy or radiation marks
    a possibly therapy-related leukaemia; the inherited cancer-predisposition
    syndromes (germline TP53 = Li-Fraumeni, mismatch-repair deficiency, ...) change
    how a TP53 or hypodiploid finding is read; antecedent CML changes the NCCN
    reading of BCR::ABL1.
    """

    down_syndrome = "down_syndrome"
    prior_chemotherapy = "prior_chemotherapy"
    prior_radiation = "prior_radiation"
    li_fraumeni = "li_fraumeni"
    constitutional_mismatch_repair_deficiency = "constitutional_mismatch_repair_deficiency"
    ataxia_telangiectasia = "ataxia_telangiectasia"
    nijmegen_breakage = "nijmegen_breakage"
    bloom_syndrome = "bloom_syndrome"
    fanconi_anemia = "fanconi_anemia"
    neurofibromatosis_1 = "neurofibromatosis_1"
    noonan_syndrome = "noonan_syndrome"
    germline_pax5 = "germline_pax5"
    germline_etv6 = "germline_etv6"
    germline_ikzf1 = "germline_ikzf1"
    robertsonian_15_21 = "robertsonian_15_21"
    antecedent_cml = "antecedent_cml"


class Patient(_Strict):
    id: str = Field(min_length=1, max_length=200)
    birth_date: PersonDate | None = None
    age_years: float | None = Field(default=None, ge=0, le=120, description="age at diagnosis, years")
    sex: Sex = Sex.unknown
    conditions: list[Condition] = Field(default_factory=list, max_length=len(Condition) * 2)

    @field_validator("id")
    @classmethod
    def _one_spelling(cls, value: str, info: ValidationInfo) -> str:
        if info.context and info.context.get(STORED):
            return value  # a record stored before these rules is read as stored: never refused on read
        return canonical_identifier(value)

    @field_validator("conditions")
    @classmethod
    def _unique(cls, value: list[Condition]) -> list[Condition]:
        return list(dict.fromkeys(value))


STORED: Final = "stored"
"""Validation context key of a patient read back from the store (its identifier was accepted when written)."""


def canonical_identifier(text: str) -> str:
    """The one spelling of a patient identifier: Unicode NFC (UAX #15), no surrounding white space.

    Systems spell one identifier differently (NFD from macOS, a trailing space from a spreadsheet); compared
    as typed, one person would become two records. An identifier holding an invisible or control character
    is refused (:func:`identifier_problem`), also at its ends: it is not trimmed into another identifier.
    """
    problem = identifier_problem(text)
    if problem:
        raise ValueError(problem)
    value = unicodedata.normalize("NFC", text).strip()
    if not value:
        raise ValueError("the identifier is blank")
    return value


def _type_is_required(schema: JsonDict) -> None:
    """Every finding must say its ``type`` (the union reads it first), so the JSON Schema requires it."""
    properties, required = schema.get("properties", {}), schema.setdefault("required", [])
    if isinstance(properties, dict) and "type" in properties and isinstance(required, list) and "type" not in required:
        required.insert(0, "type")


class _Finding(_Strict):
    model_config = ConfigDict(json_schema_extra=_type_is_required)

    date: CaseDate
    id: str | None = Field(default=None, max_length=200, description="source identifier, e.g. a FHIR resource id")
    note: str | None = Field(default=None, max_length=MAX_NOTE)


CbcAnalyte = Literal["wbc", "hemoglobin", "platelets", "anc", "rbc", "blasts_pct"]
CBC_ANALYTES: tuple[str, ...] = get_args(CbcAnalyte)
"""What a blood count measures: the quantity fields of :class:`Cbc`, in the order outputs list them."""


class Cbc(_Finding):
    type: Literal["cbc"] = "cbc"
    wbc: CellCount | None = None
    hemoglobin: Hemoglobin | None = None
    platelets: CellCount | None = None
    anc: CellCount | None = None
    rbc: RedCellCount | None = None
    blasts_pct: Percent | None = Field(default=None, description="peripheral blasts, % of leukocytes")

    @field_validator("anc")
    @classmethod
    def _neutrophils_within_white_cells(cls, anc: Quantity | None, info: ValidationInfo) -> Quantity | None:
        return _anc_within_wbc(anc, info.data.get("wbc"))  # wbc is declared, so validated, before anc

    @model_validator(mode="after")
    def _something_measured(self) -> Self:
        return _measured(self, CBC_ANALYTES, "a cbc")


# Two numbers a lab reports separately are each rounded: an ANC this much above the WBC is still one sample.
ANC_OVER_WBC_ROUNDING = (1.05, 0.1)  # factor, then x10^9/L added


def _anc_within_wbc(anc: Quantity | None, wbc: Quantity | None) -> Quantity | None:
    """Neutrophils are white cells: an exact ANC above the exact WBC of the same count (beyond rounding) is
    one of them in another unit, most often an ANC in cells/uL written as a bare number, which would read a
    neutropenic count as a very high one. Refused with the fix, rather than kept wrong."""
    if anc is None or wbc is None or anc.comparator is not None or wbc.comparator is not None:
        return anc
    factor, added = ANC_OVER_WBC_ROUNDING
    if anc.value > wbc.value * factor + added:
        raise ValueError(
            f"{anc.value:g} 10^9/L is above the WBC of the same count ({wbc.value:g} 10^9/L); neutrophils are "
            f"white cells, so one of the two is in another unit: write the lab's unit, e.g. "
            f"{{'value': {anc.value:g}, 'unit': 'cells/uL'}}")
    return anc


class Marrow(_Finding):
    type: Literal["marrow"] = "marrow"
    blasts_pct: Percent | None = None
    method: Literal["morphology", "flow"] | None = None
    timepoint: str | None = Field(default=None, max_length=MAX_TEXT, description="e.g. diagnosis, day8, end_of_induction")
    cellularity: Literal["hypocellular", "normocellular", "hypercellular", "aplastic"] | None = None


class Immunophenotype(_Finding):
    type: Literal["immunophenotype"] = "immunophenotype"
    sample: Literal["marrow", "blood", "tissue", "csf", "other"] | None = None
    markers: dict[str, MarkerValue] = Field(default_factory=dict, max_length=MAX_MARKERS)
    intensity: dict[str, Literal["strong", "weak", "bright", "dim"]] = Field(
        default_factory=dict, max_length=MAX_MARKERS,
        description="intensity notes for MPAL lineage assignment (WHO: strong = at least half the intensity of the "
        "normal counterpart, e.g. MPO of mature neutrophils); bright is read as strong, dim as weak",
    )

    @field_validator("markers", "intensity", mode="before")
    @classmethod
    def _canonical_names(cls, value: object) -> object:
        if not isinstance(value, dict):
            return value
        out: dict[str, object] = {}
        for name, v in value.items():
            if not isinstance(name, str) or not name.strip():
                raise ValueError("marker names must be non-empty text")
            if len(name) > MAX_TEXT:
                raise ValueError(f"marker name {name[:20]!r}... is longer than {MAX_TEXT} characters")
            canonical = normalise_marker_name(name)
            if canonical in out and out[canonical] != v:
                raise ValueError(f"marker {canonical} is given twice with different values")
            out[canonical] = v
        return out


class Cytogenetics(_Finding):
    type: Literal["cytogenetics"] = "cytogenetics"
    karyotype: str | None = Field(default=None, max_length=2000, description="ISCN 2020 karyotype")
    dna_index: float | None = Field(default=None, gt=0, le=3)
    modal_number: int | None = Field(default=None, ge=1, le=200)


def _named(text: str) -> str:
    if not text.strip():  # an empty name would later be read as a lesion (or as tested negative)
        raise ValueError("is blank; name the lesion (e.g. BCR::ABL1, IKZF1_deletion)")
    return text


Lesion = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_named)]


class Genetics(_Finding):
    type: Literal["genetics"] = "genetics"
    fusions: list[Lesion] = Field(default_factory=list, max_length=MAX_LIST, description="detected fusions, e.g. BCR::ABL1")
    alterations: list[Lesion] = Field(default_factory=list, max_length=MAX_LIST,
                                      description="detected alterations, e.g. iAMP21")
    negative: list[Lesion] = Field(default_factory=list, max_length=MAX_LIST, description="tested for and not found")
    expression_subtype: str | None = Field(default=None, max_length=100)
    expression_confidence: float | None = Field(default=None, ge=0, le=1)
    source: str | None = Field(default=None, max_length=MAX_TEXT)

    @field_validator("fusions", "alterations", "negative")
    @classmethod
    def _canonical(cls, value: list[str], info: ValidationInfo) -> list[str]:
        found = info.field_name != "negative"  # a transcript not found does not exclude the fusion
        return list(dict.fromkeys(normalise_lesion(v, found) for v in value))


class Csf(_Finding):
    type: Literal["csf"] = "csf"
    wbc: CsfCells | None = None
    rbc: CsfCells | None = None
    blasts: bool | None = Field(default=None, description="blasts seen on the cytospin")
    traumatic: bool | None = Field(default=None, description="default: rbc >= the traumatic-tap line")


class Extramedullary(_Finding):
    type: Literal["extramedullary"] = "extramedullary"
    site: Literal["cns", "testis", "mediastinum", "lymph_node", "liver", "spleen", "skin", "other"]
    present: bool
    detail: str | None = Field(default=None, max_length=MAX_TEXT, description="e.g. cranial_nerve_palsy, svc_syndrome, mass")


class Mrd(_Finding):
    type: Literal["mrd"] = "mrd"
    value: float | None = Field(default=None, ge=0, le=1, description="fraction of cells, e.g. 0.0003")
    percent: float | None = Field(default=None, ge=0, le=100)
    comparator: Comparator | None = Field(
        default=None,
        description="the result is a bound: '<' with value 0.0001 means below 0.01% (e.g. below the assay's limit)",
    )
    method: Literal["flow", "pcr", "ngs"] | None = None
    sensitivity: float | None = Field(default=None, gt=0, le=1, description="assay sensitivity, fraction")
    sample: Literal["marrow", "blood"] | None = None
    timepoint: str | None = Field(default=None, max_length=MAX_TEXT)

    @model_validator(mode="after")
    def _one_value(self) -> Self:
        if (self.value is not None and self.percent is not None
                and abs(self.value * 100 - self.percent) > 1e-9 * max(1.0, self.percent)):
            raise ValueError("value and percent disagree; give one of them")
        if self.comparator is not None and self.value is None and self.percent is None:
            raise ValueError("a comparator needs the value it bounds ('value' or 'percent')")
        return self

    @property
    def fraction(self) -> float | None:
        """The result as a fraction; a percentage is converted at 12 significant digits, so that
        0.01% is exactly the 1e-4 line rather than a float a hair above or below it."""
        if self.value is not None:
            return self.value
        return None if self.percent is None else float(f"{self.percent / 100.0:.12g}")


Phase = Literal[
    "prephase",
    "induction",
    "consolidation",
    "interim_maintenance",
    "delayed_intensification",
    "maintenance",
    "hsct",
    "car_t",
    "targeted",
    "salvage",
    "other",
]


class _Spanning(_Finding):
    """A finding that runs from ``start`` to an optional ``end``; ``date`` defaults to ``start`` so every finding sorts by date."""

    start: CaseDate
    end: CaseDate | None = None

    @model_validator(mode="before")
    @classmethod
    def _date_from_start(cls, data: object) -> object:
        if isinstance(data, dict) and "date" not in data and "start" in data:
            data = {**data, "date": data["start"]}
        return data

    @model_validator(mode="after")
    def _end_after_start(self) -> Self:
        if self.end is not None and self.end < self.start:
            raise ValueError(f"end ({self.end}) is before start ({self.start})")
        return self


class Treatment(_Spanning):
    """A treatment block."""

    type: Literal["treatment"] = "treatment"
    phase: Phase
    agents: list[Annotated[str, Field(max_length=MAX_TEXT)]] = Field(default_factory=list, max_length=MAX_LIST)
    protocol: str | None = Field(default=None, max_length=MAX_TEXT)


# --- Treatment monitoring (doses, body size, chemistry, vital signs, pharmacogenetics, drug
# levels, adverse events). Every measured value goes through the unit machinery like a count.


def _measured(finding: M, fields: tuple[str, ...], what: str) -> M:
    """The finding itself, when at least one of ``fields`` holds a value (read from the fields' dict:
    about 130 blood counts per record pass here)."""
    values = finding.__dict__
    for name in fields:
        if values[name] is not None:
            return finding
    raise ValueError(f"{what} needs at least one of {', '.join(fields)}")


class Anthropometry(_Finding):
    """Height and weight (body surface area is computed from them), or a body surface area as recorded."""

    type: Literal["anthropometry"] = "anthropometry"
    height: Height | None = Field(default=None, description="body height, default unit cm")
    weight: Weight | None = Field(default=None, description="body weight, default unit kg")
    bsa: BodySurfaceArea | None = Field(default=None, description="body surface area as recorded (m2)")

    @model_validator(mode="after")
    def _something_measured(self) -> Self:
        return _measured(self, ("height", "weight", "bsa"), "an anthropometry finding")


Route = Literal["oral", "iv", "im", "sc", "it", "other"]
Frequency = Literal["once", "daily", "weekly", "twice_weekly", "every_2_weeks", "every_3_weeks", "every_4_weeks"]


def _agent(text: str) -> str:
    if not text.strip():
        raise ValueError("is blank; name the agent (e.g. mercaptopurine, methotrexate)")
    return normalise_agent(text)


AgentName = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_agent)]


class Dose(_Spanning):
    """A dose of one agent: given once, or prescribed daily/weekly from ``start`` to ``end``.

    ``dose`` is per administration (mg, mg/m2, mg/kg, IU, IU/m2); 0 records a dose held.
    ``days_per_week`` is for a daily drug given on fewer days (CPIC's thrice-weekly
    mercaptopurine). ``date`` defaults to ``start``.
    """

    type: Literal["dose"] = "dose"
    agent: AgentName
    dose: DoseQuantity
    route: Route | None = None
    frequency: Frequency = "once"
    days_per_week: int | None = Field(default=None, ge=1, le=7, description="for a daily drug given on fewer days a week")
    infusion_hours: float | None = Field(default=None, gt=0, le=168, description="duration of an infusion, hours")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.days_per_week is not None and self.frequency != "daily":
            raise ValueError("days_per_week applies to a daily dose only")
        return self


class Chemistry(_Finding):
    """Serum or plasma chemistry. Analytes reported in many-fold different units need their unit."""

    type: Literal["chemistry"] = "chemistry"
    potassium: Potassium | None = None
    phosphate: Phosphate | None = None
    calcium: Calcium | None = Field(default=None, description="total serum calcium")
    calcium_corrected: Calcium | None = Field(default=None, description="calcium corrected for albumin, as the lab reported it")
    ionized_calcium: Calcium | None = None
    uric_acid: UricAcid | None = None
    creatinine: Creatinine | None = None
    ldh: EnzymeActivity | None = None
    alt: EnzymeActivity | None = None
    ast: EnzymeActivity | None = None
    bilirubin: Bilirubin | None = Field(default=None, description="total bilirubin")
    albumin: Albumin | None = None
    lipase: EnzymeActivity | None = None
    amylase: EnzymeActivity | None = None
    glucose: Glucose | None = None
    fibrinogen: Fibrinogen | None = None
    triglycerides: Triglycerides | None = None

    @model_validator(mode="after")
    def _something_measured(self) -> Self:
        return _measured(self, CHEMISTRY_ANALYTES, "a chemistry finding")


CHEMISTRY_ANALYTES = (
    "potassium", "phosphate", "calcium", "calcium_corrected", "ionized_calcium", "uric_acid", "creatinine", "ldh",
    "alt", "ast", "bilirubin", "albumin", "lipase", "amylase", "glucose", "fibrinogen", "triglycerides",
)

_CLOCK = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class Vitals(_Finding):
    """Vital signs. ``time`` (HH:MM) orders readings of one day; ``sustained_minutes`` says how long the
    temperature stayed at or above ``temperature`` (the "sustained over one hour" of fever definitions)."""

    type: Literal["vitals"] = "vitals"
    time: str | None = Field(default=None, pattern=_CLOCK, description="time of day, HH:MM (24 h)")
    temperature: Temperature | None = Field(default=None, description="default unit Cel; Fahrenheit as [degF]")
    temperature_site: Literal["oral", "axillary", "tympanic", "rectal", "temporal", "core", "other"] | None = None
    sustained_minutes: int | None = Field(default=None, ge=1, le=10080)
    heart_rate: HeartRate | None = None
    systolic_bp: BloodPressure | None = None
    diastolic_bp: BloodPressure | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        _measured(self, ("temperature", "heart_rate", "systolic_bp", "diastolic_bp"), "a vitals finding")
        if self.sustained_minutes is not None and self.temperature is None:
            raise ValueError("sustained_minutes describes a temperature; give the temperature")
        if self.systolic_bp is not None and self.diastolic_bp is not None and self.diastolic_bp.value > self.systolic_bp.value:
            raise ValueError("diastolic_bp is above systolic_bp")
        return self


Phenotype = Literal[
    "normal_metabolizer", "intermediate_metabolizer", "possible_intermediate_metabolizer", "poor_metabolizer", "indeterminate",
]
_PHENOTYPE_SPELLINGS = {
    "nm": "normal_metabolizer", "normal": "normal_metabolizer", "normal_metabolizer": "normal_metabolizer",
    "im": "intermediate_metabolizer", "intermediate": "intermediate_metabolizer",
    "intermediate_metabolizer": "intermediate_metabolizer",
    "possible_im": "possible_intermediate_metabolizer", "possible_intermediate": "possible_intermediate_metabolizer",
    "possible_intermediate_metabolizer": "possible_intermediate_metabolizer",
    "pm": "poor_metabolizer", "poor": "poor_metabolizer", "poor_metabolizer": "poor_metabolizer",
    "indeterminate": "indeterminate",
}


class Pharmacogenetics(_Finding):
    """A TPMT or NUDT15 result in CPIC terms: the phenotype, and the diplotype when reported."""

    type: Literal["pharmacogenetics"] = "pharmacogenetics"
    gene: Literal["TPMT", "NUDT15"]
    phenotype: Phenotype | None = Field(default=None, description="CPIC phenotype; NM, IM, PM and 'metaboliser' spellings are accepted")
    diplotype: str | None = Field(default=None, pattern=r"^\*[0-9]+[A-Z]?/\*[0-9]+[A-Z]?$", description="e.g. *1/*3A")
    method: Literal["genotype", "enzyme_activity"] | None = None

    @field_validator("gene", mode="before")
    @classmethod
    def _gene(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("phenotype", mode="before")
    @classmethod
    def _phenotype(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        key = "_".join(value.strip().lower().replace("-", " ").replace("metaboliser", "metabolizer").split())
        return _PHENOTYPE_SPELLINGS.get(key, value)

    @field_validator("diplotype", mode="before")
    @classmethod
    def _diplotype(cls, value: object) -> object:
        return value.replace(" ", "").upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _something_reported(self) -> Self:
        if self.phenotype is None and self.diplotype is None:
            raise ValueError("a pharmacogenetics finding needs the phenotype or the diplotype")
        return self


class MethotrexateLevel(_Finding):
    """Plasma methotrexate, timed from the START of the infusion (how the consensus lines are drawn)."""

    type: Literal["methotrexate_level"] = "methotrexate_level"
    value: MethotrexateConcentration
    hours_after_start: float = Field(gt=0, le=720, description="hours from the start of the methotrexate infusion")
    infusion_hours: float | None = Field(default=None, gt=0, le=168, description="infusion duration, hours")
    dose: DoseQuantity | None = Field(default=None, description="the methotrexate dose of that infusion")


class AsparaginaseActivity(_Finding):
    """Serum asparaginase activity with the time since the last dose."""

    type: Literal["asparaginase_activity"] = "asparaginase_activity"
    value: AsparaginaseActivityLevel
    preparation: Literal["pegaspargase", "native_e_coli", "erwinia"] | None = Field(
        default=None, description="default: from the latest asparaginase dose finding before the sample")
    days_after_dose: float | None = Field(default=None, ge=0, le=60, description="default: from the latest asparaginase dose")


def _adverse_term(text: str) -> str:
    if not text.strip():
        raise ValueError("is blank; name the CTCAE term (e.g. pancreatitis, thromboembolic_event)")
    return term_key(text)


class AdverseEvent(_Spanning):
    """An adverse event as a clinician graded it (CTCAE term and grade), with its dates."""

    type: Literal["adverse_event"] = "adverse_event"
    term: Annotated[str, Field(min_length=1, max_length=150), AfterValidator(_adverse_term)]
    grade: int = Field(ge=1, le=5)
    agent: AgentName | None = Field(default=None, description="the agent suspected of causing it")
    ctcae_version: Literal["5.0", "6.0"] = "5.0"
    serious: bool | None = None

    @model_validator(mode="after")
    def _grade_defined(self) -> Self:
        term = ADVERSE_TERMS.get(self.term)
        if term is not None and self.grade not in term.grades:
            raise ValueError(
                f"CTCAE defines grades {', '.join(map(str, term.grades))} for {term_label(self.term)} (got grade {self.grade})")
        return self


Finding = Annotated[
    Cbc | Marrow | Immunophenotype | Cytogenetics | Genetics | Csf | Extramedullary | Mrd | Treatment
    | Anthropometry | Dose | Chemistry | Vitals | Pharmacogenetics | MethotrexateLevel | AsparaginaseActivity | AdverseEvent,
    Field(discriminator="type"),
]

FINDING_TYPES = (
    "cbc", "marrow", "immunophenotype", "cytogenetics", "genetics", "csf", "extramedullary", "mrd", "treatment",
    "anthropometry", "dose", "chemistry", "vitals", "pharmacogenetics", "methotrexate_level", "asparaginase_activity",
    "adverse_event",
)


_DATE_OF = operator.attrgetter("date")


class Case(_Strict):
    """One person with (suspected) ALL and everything measured about them."""

    schema_: Literal["allcare.case/1"] = Field(default=CASE_SCHEMA, alias="schema")
    patient: Patient
    diagnosis_date: PersonDate | None = None
    findings: list[Finding] = Field(default_factory=list, max_length=MAX_FINDINGS)

    @model_validator(mode="after")
    def _dates_are_possible(self) -> Self:
        birth = self.patient.birth_date
        if birth is None:
            return self
        problems = []
        if self.diagnosis_date is not None and self.diagnosis_date < birth:
            problems.append(f"diagnosis_date {self.diagnosis_date} is before birth_date {birth}")
        # The earliest date read in C (a record has hundreds of findings, rarely one too early), then the culprits.
        if self.findings and min(map(_DATE_OF, self.findings)) < birth:
            problems += [f"findings[{index}] ({finding.type}, {finding.date}): dated before birth_date {birth}"
                         for index, finding in enumerate(self.findings) if finding.date < birth]
        if self.patient.age_years is not None and self.diagnosis_date is not None:
            derived = (self.diagnosis_date - birth).days / 365.25
            if abs(derived - self.patient.age_years) > 1.0:
                problems.append(
                    f"patient.age_years {self.patient.age_years:g} contradicts birth_date {birth} "
                    f"and diagnosis_date {self.diagnosis_date} (age {derived:.1f})"
                )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def to_json_dict(self) -> dict[str, Any]:
        """The case as a case-file dictionary (reported units kept, defaults left out)."""
        data = self.model_dump(mode="json", by_alias=True, exclude_none=True)
        data["findings"] = [{k: v for k, v in f.items() if v not in ([], {})} for f in data["findings"]]
        return data
