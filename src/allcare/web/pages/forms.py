"""Finding forms: which fields each finding type has, and form data -> case-file finding.

The forms collect what a case file holds and nothing else, then let the
engine's case model decide what is valid (``case_from_dict``, with the
patient's own birth date so "dated before birth" is caught too). Its messages
are mapped back to the field they name, so the person typing sees the reason
next to the box. Only what the browser cannot express (a number typed as text,
a marker list) is checked here, and in the case model's own words.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from typing import Any, get_args

from ...engine.case import CaseValidationError, case_from_dict
from ...engine.case import units as U
from ...engine.case.adverse_terms import TERMS as ADVERSE_TERMS
from ...engine.case.agents import AGENTS
from ...engine.case.models import Frequency, Phase, Route
from ...engine.case.units import CELL_COUNT, CSF_CELLS, HEMOGLOBIN, PERCENT, RED_CELL_COUNT, UnitKind

TITLES = {
    "cbc": "Blood count",
    "marrow": "Bone marrow",
    "immunophenotype": "Immunophenotype",
    "cytogenetics": "Cytogenetics (karyotype)",
    "genetics": "Genetics (FISH, PCR, sequencing)",
    "csf": "Lumbar puncture (CSF)",
    "extramedullary": "Extramedullary disease",
    "mrd": "MRD",
    "treatment": "Treatment phase",
    "dose": "Dose",
    "anthropometry": "Height and weight",
    "chemistry": "Chemistry",
    "vitals": "Vital signs",
    "pharmacogenetics": "Pharmacogenetics (TPMT, NUDT15)",
    "methotrexate_level": "Methotrexate level",
    "asparaginase_activity": "Asparaginase activity",
    "adverse_event": "Adverse event",
}


@dataclass(frozen=True)
class Field:
    """One form field. ``kind``: date, quantity, number, text, textarea, select, tristate, list, markers, karyotype."""

    name: str
    label: str
    kind: str
    required: bool = False
    help: str = ""
    options: tuple[tuple[str, str], ...] = ()
    units: UnitKind | None = None
    limits: bool = False
    suggestions: tuple[str, ...] = ()
    step: str = "any"
    min: float | None = None
    max: float | None = None
    with_unit: bool = False  # always write {value, unit}: the case model refuses a bare number for it


@dataclass
class FormResult:
    """The finding as a case-file dict (when valid) and the problems, by field name ('' = the whole form)."""

    data: dict[str, Any]
    errors: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, message: str) -> None:
        self.errors.setdefault(name, [])
        if message not in self.errors[name]:
            self.errors[name].append(message)

    @property
    def ok(self) -> bool:
        return not self.errors


def choices(*values: str) -> tuple[tuple[str, str], ...]:
    return tuple((v, v.replace("_", " ")) for v in values)


TIMEPOINTS = ("diagnosis", "day8", "day15", "day29", "day33", "end_of_induction", "end_of_consolidation", "relapse")
COMMON_DATE = Field("date", "Date", "date", required=True)
NOTE = Field("note", "Note", "text", help="free text, e.g. the lab or the context")

FORMS: dict[str, list[Field]] = {
    "cbc": [
        COMMON_DATE,
        Field("wbc", "WBC", "quantity", units=CELL_COUNT, limits=True, help="white blood cells"),
        Field("anc", "ANC", "quantity", units=CELL_COUNT, limits=True, help="absolute neutrophil count"),
        Field("hemoglobin", "Haemoglobin", "quantity", units=HEMOGLOBIN, limits=True),
        Field("platelets", "Platelets", "quantity", units=CELL_COUNT, limits=True),
        Field("rbc", "RBC", "quantity", units=RED_CELL_COUNT, limits=True, help="red blood cells"),
        Field("blasts_pct", "Blood blasts", "quantity", units=PERCENT, help="% of leukocytes"),
        NOTE,
    ],
    "marrow": [
        COMMON_DATE,
        Field("blasts_pct", "Marrow blasts", "quantity", units=PERCENT, help="% of nucleated cells"),
        Field("method", "Method", "select", options=choices("morphology", "flow")),
        Field("timepoint", "Time point", "text", suggestions=TIMEPOINTS),
        Field("cellularity", "Cellularity", "select", options=choices("hypocellular", "normocellular", "hypercellular", "aplastic")),
        NOTE,
    ],
    "immunophenotype": [
        COMMON_DATE,
        Field("sample", "Sample", "select", options=choices("marrow", "blood", "tissue", "csf", "other")),
        Field("markers", "Markers", "markers", required=True,
              help="one per line: name and result, e.g. 'CD19 98' (% of blasts) or 'MPO negative' "
                   "(positive, negative, dim, bright, partial)"),
        Field("intensity", "Intensity notes", "markers", help="optional, for MPAL lineage rules: e.g. 'MPO weak', 'cCD3 strong'"),
        NOTE,
    ],
    "cytogenetics": [
        COMMON_DATE,
        Field("karyotype", "Karyotype (ISCN)", "karyotype", help="e.g. 46,XY,t(9;22)(q34;q11.2)[20]"),
        Field("modal_number", "Modal number", "number", step="1", min=1, max=200),
        Field("dna_index", "DNA index", "number", step="0.01", help="e.g. 1.18"),
        NOTE,
    ],
    "genetics": [
        COMMON_DATE,
        Field("fusions", "Fusions detected", "list", help="comma-separated, e.g. BCR::ABL1, ETV6::RUNX1"),
        Field("alterations", "Alterations detected", "list", help="e.g. IKZF1 deletion, iAMP21, TP53 mutated"),
        Field("negative", "Tested and not found", "list", help="only what was tested for; not tested = leave out"),
        Field("expression_subtype", "Expression subtype", "text", suggestions=("BCR::ABL1-like", "DUX4", "ETV6::RUNX1-like", "PAX5alt", "ZNF384")),
        Field("expression_confidence", "Expression confidence", "number", step="0.01", min=0, max=1, help="0 to 1"),
        Field("source", "Method / source", "text", help="e.g. FISH panel, RT-PCR, RNA-seq"),
        NOTE,
    ],
    "csf": [
        COMMON_DATE,
        Field("wbc", "CSF WBC", "quantity", units=CSF_CELLS, help="cells/uL"),
        Field("rbc", "CSF RBC", "quantity", units=CSF_CELLS, help="cells/uL"),
        Field("blasts", "Blasts on cytospin", "tristate"),
        Field("traumatic", "Traumatic tap", "tristate", help="leave unknown to use the RBC line"),
        NOTE,
    ],
    "extramedullary": [
        COMMON_DATE,
        Field("site", "Site", "select", required=True,
              options=choices("cns", "testis", "mediastinum", "lymph_node", "liver", "spleen", "skin", "other")),
        Field("present", "Involved", "tristate", required=True),
        Field("detail", "Detail", "text", suggestions=("cranial_nerve_palsy", "svc_syndrome", "mass")),
        NOTE,
    ],
    "mrd": [
        COMMON_DATE,
        Field("percent", "MRD (% of cells)", "number", help="e.g. 0.03 for 0.03%; 0 when undetectable", min=0, max=100),
        Field("method", "Method", "select", options=choices("flow", "pcr", "ngs")),
        Field("sensitivity", "Assay sensitivity (fraction)", "number", help="e.g. 0.0001 for 1e-4"),
        Field("sample", "Sample", "select", options=choices("marrow", "blood")),
        Field("timepoint", "Time point", "text", suggestions=TIMEPOINTS),
        NOTE,
    ],
    "treatment": [
        Field("phase", "Phase", "select", required=True, options=choices(*get_args(Phase))),
        Field("start", "Start", "date", required=True),
        Field("end", "End", "date", help="leave empty while it runs"),
        Field("agents", "Agents", "list", help="comma-separated"),
        Field("protocol", "Protocol", "text"),
        NOTE,
    ],
}


# A dose's unit decides its kind (mg, mg/m2, mg/kg, IU ...): the form offers every dose spelling.
DOSE_UNITS = UnitKind("dose", "mg", "mg", tuple(u for kind in U.DOSE_KINDS for u in kind.accepted()))


def _chemistry(name: str, label: str, kind: UnitKind, help: str = "") -> Field:
    return Field(name, label, "quantity", units=kind, limits=True, help=help, with_unit=kind.significant is not None)


FORMS.update({
    "dose": [
        Field("agent", "Agent", "text", required=True, suggestions=tuple(a.name for a in AGENTS),
              help="e.g. mercaptopurine, methotrexate, daunorubicin, pegaspargase"),
        Field("dose", "Dose", "quantity", required=True, units=DOSE_UNITS, with_unit=True,
              help="per administration; 0 records a dose held"),
        Field("frequency", "Frequency", "select", options=choices(*get_args(Frequency))),
        Field("days_per_week", "Days a week", "number", step="1", min=1, max=7, help="a daily drug given on fewer days"),
        Field("route", "Route", "select", options=choices(*get_args(Route))),
        Field("start", "Start", "date", required=True),
        Field("end", "End", "date", help="leave empty while it runs; the next dose of the agent replaces it"),
        Field("infusion_hours", "Infusion (hours)", "number", min=0, max=168),
        NOTE,
    ],
    "anthropometry": [
        COMMON_DATE,
        Field("height", "Height", "quantity", units=U.HEIGHT),
        Field("weight", "Weight", "quantity", units=U.WEIGHT),
        Field("bsa", "Body surface area", "quantity", units=U.BODY_SURFACE, help="as recorded; else computed from height and weight"),
        NOTE,
    ],
    "chemistry": [
        COMMON_DATE,
        _chemistry("potassium", "Potassium", U.POTASSIUM),
        _chemistry("phosphate", "Phosphate", U.PHOSPHATE),
        _chemistry("calcium", "Calcium (total)", U.CALCIUM),
        _chemistry("calcium_corrected", "Calcium corrected for albumin", U.CALCIUM),
        _chemistry("ionized_calcium", "Ionised calcium", U.CALCIUM),
        _chemistry("uric_acid", "Uric acid", U.URIC_ACID),
        _chemistry("creatinine", "Creatinine", U.CREATININE),
        _chemistry("ldh", "LDH", U.ENZYME),
        _chemistry("alt", "ALT", U.ENZYME, "give the lab's range: CTCAE grades on its upper limit"),
        _chemistry("ast", "AST", U.ENZYME, "give the lab's range: CTCAE grades on its upper limit"),
        _chemistry("bilirubin", "Bilirubin (total)", U.BILIRUBIN, "give the lab's range: CTCAE grades on its upper limit"),
        _chemistry("albumin", "Albumin", U.ALBUMIN),
        _chemistry("lipase", "Lipase", U.ENZYME),
        _chemistry("amylase", "Amylase", U.ENZYME),
        _chemistry("glucose", "Glucose", U.GLUCOSE),
        _chemistry("fibrinogen", "Fibrinogen", U.FIBRINOGEN),
        _chemistry("triglycerides", "Triglycerides", U.TRIGLYCERIDES),
        NOTE,
    ],
    "vitals": [
        COMMON_DATE,
        Field("time", "Time", "text", help="HH:MM, 24-hour"),
        Field("temperature", "Temperature", "quantity", units=U.TEMPERATURE),
        Field("temperature_site", "Where measured", "select",
              options=choices("oral", "axillary", "tympanic", "rectal", "temporal", "core", "other")),
        Field("sustained_minutes", "Held for (minutes)", "number", step="1", min=1,
              help="how long the temperature stayed at or above this value"),
        Field("heart_rate", "Heart rate", "quantity", units=U.HEART_RATE),
        Field("systolic_bp", "Systolic blood pressure", "quantity", units=U.BLOOD_PRESSURE),
        Field("diastolic_bp", "Diastolic blood pressure", "quantity", units=U.BLOOD_PRESSURE),
        NOTE,
    ],
    "pharmacogenetics": [
        COMMON_DATE,
        Field("gene", "Gene", "select", required=True, options=(("TPMT", "TPMT"), ("NUDT15", "NUDT15"))),
        Field("phenotype", "Phenotype (CPIC)", "select", options=choices(
            "normal_metabolizer", "intermediate_metabolizer", "possible_intermediate_metabolizer", "poor_metabolizer",
            "indeterminate")),
        Field("diplotype", "Diplotype", "text", help="e.g. *1/*3A"),
        Field("method", "Method", "select", options=choices("genotype", "enzyme_activity")),
        NOTE,
    ],
    "methotrexate_level": [
        COMMON_DATE,
        Field("value", "Methotrexate", "quantity", required=True, units=U.METHOTREXATE_CONC),
        Field("hours_after_start", "Hours from the start of the infusion", "number", required=True, min=0, max=720),
        Field("infusion_hours", "Infusion duration (hours)", "number", min=0, max=168),
        NOTE,
    ],
    "asparaginase_activity": [
        COMMON_DATE,
        Field("value", "Asparaginase activity", "quantity", required=True, units=U.ASPARAGINASE_ACTIVITY),
        Field("preparation", "Preparation", "select", options=choices("pegaspargase", "native_e_coli", "erwinia"),
              help="leave empty to take it from the latest asparaginase dose"),
        Field("days_after_dose", "Days after the dose", "number", min=0, max=60),
        NOTE,
    ],
    "adverse_event": [
        Field("term", "CTCAE term", "text", required=True, suggestions=tuple(t.ctcae for t in ADVERSE_TERMS.values())),
        Field("grade", "CTCAE grade", "number", required=True, step="1", min=1, max=5),
        Field("start", "Start", "date", required=True),
        Field("end", "End", "date"),
        Field("agent", "Suspected agent", "text", suggestions=tuple(a.name for a in AGENTS)),
        Field("serious", "Serious", "tristate"),
        NOTE,
    ],
})
STARTS_ON = ("treatment", "dose", "adverse_event")  # finding types dated by their start


def field_text(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


# What a person types as a number on a page, in the digits 0-9 only (re.ASCII): Python's float() and int()
# also read Arabic-Indic, Devanagari, full-width and other digits, and '1_200', which a browser's number
# field and the JSON API refuse; a value must not be stored as a number its writer may have read otherwise.
_THOUSANDS = re.compile(r"[-+]?\d{1,3}(,\d{3})+(\.\d*)?", re.ASCII)
_TYPED_NUMBER = re.compile(r"[-+]?(\d+([.,]\d*)?|[.,]\d+)([eE][-+]?\d+)?", re.ASCII)
_WHOLE_NUMBER = re.compile(r"\d{1,20}", re.ASCII)
DIGITS_ONLY = "write it with the digits 0-9"


def whole_number(raw: str) -> int | None:
    """A whole number typed on a page or in a query (a record number, a year, a version), or None when it is
    not written with the digits 0-9 alone; the caller checks the range and names the field."""
    text = raw.strip()
    return int(text) if _WHOLE_NUMBER.fullmatch(text) else None


def typed_number(result: FormResult, name: str, raw: str) -> float | None:
    """A typed number; '0,5' is a decimal comma, but '12,400' could be 12400 or 12.4 and is refused."""
    if _THOUSANDS.fullmatch(raw):
        result.add(name, f"'{raw}' is ambiguous: write it without a thousands separator (e.g. 12400) "
                         "or with a decimal point (e.g. 12.4)")
        return None
    if not _TYPED_NUMBER.fullmatch(raw):
        result.add(name, f"must be a number ({DIGITS_ONLY}, e.g. 12.4)")
        return None
    value = float(raw.replace(",", "."))
    if not math.isfinite(value):
        result.add(name, "must be a finite number")
        return None
    return value


def _markers(result: FormResult, name: str, raw: str) -> dict[str, Any]:
    """'CD19 98' / 'CD19: 98%' / 'MPO negative' lines (or ';'-separated) -> {'CD19': 98.0, 'MPO': 'negative'}."""
    markers: dict[str, Any] = {}
    for line in raw.replace(";", "\n").splitlines():
        line = line.strip().strip(",")
        if not line:
            continue
        if ":" in line:
            marker, _, value = line.partition(":")
        elif "=" in line:
            marker, _, value = line.partition("=")
        else:
            marker, _, value = line.rpartition(" ")
        marker, value = marker.strip(), value.strip().rstrip("%").strip()
        if not marker or not value:
            result.add(name, f"'{line}': write a marker name and a result, e.g. 'CD19 98' or 'MPO negative'")
            continue
        markers[marker] = float(value.replace(",", ".")) if _TYPED_NUMBER.fullmatch(value) else value.lower()
    return markers


def finding_from_form(kind: str, form: Any) -> FormResult:
    """Turn submitted form fields into a case-file finding dict; typing errors are reported per field."""
    result = FormResult({"type": kind})
    for spec in FORMS[kind]:
        raw = field_text(form, spec.name)
        if spec.kind == "quantity":
            _quantity(result, spec, form, raw)
            continue
        if spec.kind == "tristate":
            if raw in ("yes", "no"):
                result.data[spec.name] = raw == "yes"
            elif spec.required:
                result.add(spec.name, "choose yes or no")
            continue
        if not raw:
            if spec.required:
                result.add(spec.name, "required")
            continue
        if spec.kind == "number":
            value = typed_number(result, spec.name, raw)
            if value is not None:
                result.data[spec.name] = int(value) if spec.step == "1" and value.is_integer() else value
        elif spec.kind == "list":
            result.data[spec.name] = [item.strip() for item in raw.replace(";", ",").split(",") if item.strip()]
        elif spec.kind == "markers":
            result.data[spec.name] = _markers(result, spec.name, raw)
        elif spec.kind == "select" and spec.options and raw not in {value for value, _ in spec.options}:
            result.add(spec.name, "choose one of the listed values")
        else:
            result.data[spec.name] = raw
    return result


def _quantity(result: FormResult, spec: Field, form: Any, raw: str) -> None:
    limits = {}
    for bound, suffix in (("lower_limit", "_lower"), ("upper_limit", "_upper")):
        text = field_text(form, spec.name + suffix)
        if text:
            value = typed_number(result, spec.name, text)
            if value is not None:
                limits[bound] = value
    if not raw:
        if limits:
            result.add(spec.name, "a reference range needs the value too")
        return
    written = _COMPARATOR.match(raw)  # "< 0.5": the lab reported a bound, kept as one
    comparator = {"≤": "<=", "≥": ">="}.get(written.group(1), written.group(1)) if written else None
    value = typed_number(result, spec.name, written.group(2) if written else raw)
    if value is None:
        return
    unit = field_text(form, spec.name + "_unit") or (spec.units.canonical if spec.units else "")
    extra = {**limits, **({"comparator": comparator} if comparator else {})}
    if spec.units is not None and (unit != spec.units.canonical or extra or spec.with_unit):
        result.data[spec.name] = {"value": value, "unit": unit, **extra}
    else:
        result.data[spec.name] = value


_COMPARATOR = re.compile(r"^(<=|>=|<|>|≤|≥)\s*(.+)$")


def validate_finding(result: FormResult, patient: dict[str, Any], diagnosis_date: dt.date | None = None) -> FormResult:
    """Let the case model judge the finding (with the patient, so dates before birth are caught)."""
    if not result.ok:
        return result
    case = {"schema": "allcare.case/1", "patient": patient, "findings": [result.data]}
    if diagnosis_date is not None:
        case["diagnosis_date"] = diagnosis_date.isoformat()
    try:
        case_from_dict(case)
    except CaseValidationError as error:
        for problem in error.problems:
            attach(result, problem.location, problem.message)
    return result


def attach(result: FormResult, location: str, message: str) -> None:
    """Put a case-model problem next to the field its location names."""
    kind = result.data.get("type", "")
    if "; if the lab reported another unit" in message:
        message = message.split("; if the lab", maxsplit=1)[0] + "; if the lab reported another unit (e.g. /uL), choose it in the unit list"
    field_name = ""
    if "): " in location:
        field_name = location.split("): ", 1)[1].split(".", 1)[0].split("[", 1)[0]
    elif location.startswith("findings[") or location in ("case", ""):
        if "before birth" in message or "dated" in message:
            field_name = "start" if kind in STARTS_ON else "date"
        elif kind in STARTS_ON and "end (" in message:
            field_name = "end"
        elif kind == "mrd" and "value and percent" in message:
            field_name = "percent"
    names = {spec.name for spec in FORMS.get(kind, [])}
    if field_name == "value" and kind == "mrd":
        field_name = "percent"
    result.add(field_name if field_name in names else "", message)


def blank_values(kind: str, today: dt.date) -> dict[str, str]:
    """What a fresh form shows: today's date, canonical units."""
    values: dict[str, str] = {}
    for spec in FORMS[kind]:
        if spec.kind == "date" and spec.name in ("date", "start"):
            values[spec.name] = today.isoformat()
        if spec.kind == "quantity" and spec.units is not None:
            values[spec.name + "_unit"] = spec.units.canonical
    return values


def form_values(form: Any) -> dict[str, str]:
    """Submitted values to show again after a rejected submission."""
    return {key: value for key, value in form.items() if isinstance(value, str) and key != "csrf_token"}


def _number_text(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def values_from_finding(reported: dict[str, Any]) -> dict[str, str]:
    """A stored finding (case-file JSON) as the values of its form: the inverse of :func:`finding_from_form`."""
    values: dict[str, str] = {}
    for spec in FORMS.get(reported.get("type", ""), []):
        value = reported.get(spec.name)
        if value is None:
            continue
        if spec.kind == "quantity":
            if isinstance(value, dict):
                values[spec.name] = (value["comparator"] + " " if value.get("comparator") else "") \
                    + _number_text(value.get("value", ""))
                values[spec.name + "_unit"] = str(value.get("unit", ""))
                for bound, suffix in (("lower_limit", "_lower"), ("upper_limit", "_upper")):
                    if bound in value:
                        values[spec.name + suffix] = _number_text(value[bound])
            else:
                values[spec.name] = _number_text(value)
        elif spec.kind == "tristate":
            values[spec.name] = "yes" if value else "no"
        elif spec.kind == "list":
            values[spec.name] = ", ".join(str(item) for item in value)
        elif spec.kind == "markers":
            values[spec.name] = "\n".join(f"{name} {_number_text(result)}" for name, result in value.items())
        else:
            values[spec.name] = _number_text(value)
    return values


def merged_finding(stored: dict[str, Any], edited: dict[str, Any]) -> dict[str, Any]:
    """The stored finding with its form's fields replaced by the edited ones.

    What the form has no field for (a source id from FHIR, fields written by other tools) is kept,
    so correcting a value never drops data the person editing could not see.
    """
    own = {spec.name for spec in FORMS.get(stored.get("type", ""), [])}
    kept = {key: value for key, value in stored.items() if key not in own}
    return {**kept, **edited}


def changed_fields(kind: str, before: dict[str, str], now: dict[str, str]) -> list[tuple[str, str, str]]:
    """(label, value the form was opened with, value saved since) for every field someone else changed."""
    changes = []
    for spec in FORMS.get(kind, []):
        names = [spec.name] + ([spec.name + "_unit", spec.name + "_lower", spec.name + "_upper"]
                               if spec.kind == "quantity" else [])
        old = " ".join(before.get(name, "") for name in names).strip()
        new = " ".join(now.get(name, "") for name in names).strip()
        if old != new:
            changes.append((spec.label, old or "(empty)", new or "(empty)"))
    return changes


def finding_summary(reported: dict[str, Any]) -> str:
    """One line for the findings list: each filled field with its form label."""
    values = values_from_finding(reported)
    parts = []
    for spec in FORMS.get(reported.get("type", ""), []):
        if (spec.kind == "date" and spec.name in ("date", "start")) or spec.name == "note" or spec.name not in values:
            continue
        text = values[spec.name].replace("\n", "; ")
        if spec.kind == "quantity" and values.get(spec.name + "_unit"):
            text += " " + values[spec.name + "_unit"]
        elif spec.kind == "quantity" and spec.units is not None:
            text += " " + spec.units.canonical
        parts.append(f"{spec.label}: {text}")
    return " · ".join(parts)
