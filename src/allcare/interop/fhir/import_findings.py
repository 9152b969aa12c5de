"""A group of resources -> one case finding (a case-file dict).

Values are handed to the case model as ``{"value", "unit", "lower_limit",
"upper_limit"}`` exactly as the source wrote them: the case model converts
units (``engine/case/units.py``), so conversion lives in one place. Here the
unit is only *chosen* (the human ``unit`` or the UCUM ``code``, whichever the
case model accepts) so that an unconvertible unit is reported against the
resource and field it came from.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from ...engine.case.bounds import COMPARATORS
from ...engine.case.units import CELL_COUNT, CSF_CELLS, HEMOGLOBIN, PERCENT, RED_CELL_COUNT, UnitError, UnitKind
from . import codes as C
from . import monitoring
from .agents import agent_coded, agent_named
from .classify import CBC_CODES, CSF_CODES
from .item import Item
from .problems import FhirProblem, MappingReport
from .read_helpers import (
    as_date,
    code_in,
    codings,
    component_with,
    components,
    concept_text,
    dated_by_issue,
    effective,
    ext_value,
    quantity_from_text,
    short_ref,
    value_quantity,
)
from .shapes import Quantity

CBC_KIND: dict[str, UnitKind] = {
    "wbc": CELL_COUNT, "platelets": CELL_COUNT, "anc": CELL_COUNT, "hemoglobin": HEMOGLOBIN, "rbc": RED_CELL_COUNT,
    "blasts_pct": PERCENT,
}
CSF_KIND: dict[str, UnitKind] = {analyte.field: CSF_CELLS for analyte in C.CSF_ANALYTES}
SKIP_STATUS = {
    "Observation": {"cancelled", "entered-in-error", "registered"},
    "DiagnosticReport": {"cancelled", "entered-in-error", "registered"},
    "MedicationAdministration": {"not-done", "entered-in-error"},
    "MedicationRequest": {"cancelled", "entered-in-error", "draft"},
    "MedicationStatement": {"entered-in-error", "not-taken", "intended"},
    "CarePlan": {"entered-in-error", "revoked", "draft"},
    "Procedure": {"not-done", "entered-in-error", "preparation"},
}


@dataclass
class Builder:
    """Collects what one group's resources turn into: report entries and input problems."""

    report: MappingReport
    finding_id: str
    explicit: bool  # the group carries allcare's finding identifier (it was written by allcare)
    problems: list[FhirProblem] = field(default_factory=list)
    medications: dict[str, str] = field(default_factory=dict)  # Medication reference -> drug name
    samples: dict[str, str] = field(default_factory=dict)  # Observation -> the sample its Specimen names
    collected: dict[str, str] = field(default_factory=dict)  # result without effective[x] -> its Specimen's collection time

    def wrong_sample(self, m: Item, expected: str, part: bool = False) -> bool:
        """Whether ``m``'s Specimen names a sample other than the ``expected`` one of its code (reported; the value is
        not used: a marrow blast count on blood, or the reverse, cannot be told apart from a miscoding)."""
        sample = self.samples.get(m.ref)
        if sample is None or sample == expected:
            return False
        reason = f"its code is a {expected} result but its specimen is {sample}: the two disagree; not used"
        if part:
            self.report.partly(m.ref, reason)
        else:
            self.unused(m, reason)
        return True

    def used(self, m: Item) -> None:
        self.report.add(m.ref, "mapped", finding=self.finding_id)

    def unused(self, m: Item, reason: str) -> None:
        self.report.add(m.ref, "unmapped", reason)

    def problem(self, m: Item, path: str, message: str) -> None:
        self.problems.append(FhirProblem(m.ref, path, message))


def skipped_status(item: Item) -> str | None:
    """The status for which the resource is not used (cancelled, entered in error, not done ...), or None."""
    status = item.resource.status
    return status if status is not None and status in SKIP_STATUS.get(item.rtype, ()) else None


def build_finding(finding_type: str, members: list[Item], b: Builder) -> dict | None:
    """The finding dict for a group (None when nothing in it can be used; reasons go to the report)."""
    base = _base(finding_type, members, b)
    if base is None:
        return None
    body = _BUILDERS[finding_type](members, b)
    if body is None:
        return None
    return {**base, **body}


def _finding_day(members: list[Item], b: Builder) -> tuple[dt.date | None, Item | None, str]:
    """(the day a finding happened, the member that dates it, how): allcare's own finding date, else the first
    member's effective[x], else its specimen's collection time, else when it was issued (or ordered). A report
    issued days after its sample is dated by the sample its results name, whichever member comes first."""
    for m in members:
        if m.resource.extension and (day := as_date(ext_value(m.resource, C.EXT_FINDING_DATE))) is not None:
            return day, m, "explicit"
    for m in members:
        if (day := effective(m.resource, issued=False)[0]) is not None:
            return day, m, "effective"
    for m in members:
        if (day := as_date(b.collected.get(m.ref))) is not None:
            return day, m, "specimen"
    for m in members:
        if (day := effective(m.resource)[0]) is not None:
            return day, m, "issued" if dated_by_issue(m.resource) else "recorded"
    return None, None, ""


def _base(finding_type: str, members: list[Item], b: Builder) -> dict | None:
    day, m, how = _finding_day(members, b)
    if day is None or m is None:
        for m in members:
            b.unused(m, "no complete date (effective[x] missing, or without the day, e.g. month precision): allcare "
                        "needs the day the sample was taken or the treatment given")
        return None
    if how == "specimen":
        b.report.partly(m.ref, "no effective[x]: dated by the collection time of its specimen "
                               "(Specimen.collection.collected[x]), when the sample was taken")
    elif how == "issued":
        b.report.partly(m.ref, "no effective[x] (when the sample was taken): dated by issued, when the result was made "
                               "available; the sample was taken on or before that day")
    for member in members:
        if getattr(member.resource, "valueString", None) and quantity_from_text(member.resource):
            b.report.partly(member.ref, f"value read from its text (valueString {member.resource.valueString!r})")
    out: dict[str, Any] = {"type": finding_type, "id": b.finding_id, "date": day.isoformat()}
    note = next((note for m in members if m.resource.extension and (note := ext_value(m.resource, C.EXT_NOTE))), None)
    if note:
        out["note"] = note
    return out


# Quantities -----------------------------------------------------------------------
def read_quantity(q, kind: UnitKind, m: Item, path: str, b: Builder, reference_range=None, part: bool = False) -> Any:
    """The value as a case-file quantity: a bare number in the canonical unit, or ``{value, unit, comparator, limits}``.

    The unit is the lab's own spelling when allcare can read it, else the UCUM code (both are
    resolved by ``engine/case/units.py``, the one home of units). A unit that cannot be read
    drops this value, with the reason in the report; it never fails the patient. ``part``: the
    value is one of several in the resource (a component), so dropping it is a note on the
    resource, not the resource unused.
    """
    drop = (lambda reason: b.report.partly(m.ref, reason)) if part else (lambda reason: b.unused(m, reason))
    if q is None or q.value is None:
        drop(f"{path}.value: no numeric value")
        return None
    chosen, factor, plain = _unit_choice(kind, q.unit, q.code)
    if factor is None:
        drop(f"{path}.unit: {chosen}; this value is not used")
        return None
    if q.comparator is None and reference_range is None and plain:
        return q.value  # the common case: a bare number in the canonical unit
    if q.comparator is not None and q.comparator not in COMPARATORS:
        drop(f"{path}.comparator {q.comparator!r} is not a FHIR comparator ({', '.join(COMPARATORS)}); value not used")
        return None
    out: dict[str, Any] = {"value": q.value, "unit": chosen}
    if q.comparator:
        out["comparator"] = q.comparator
    for bound, attr in (("lower_limit", "low"), ("upper_limit", "high")) if reference_range is not None else ():
        limit = getattr(reference_range, attr, None)
        if limit is None or limit.value is None:
            continue
        unit = next((s for s in (limit.unit, limit.code) if s), chosen)
        try:
            limit_factor = kind.factor(unit)
        except UnitError:
            b.report.partly(m.ref, f"referenceRange.{attr} is in {unit!r}, which cannot be read as a {kind.name}: range not used")
            continue
        same = limit_factor == factor
        out[bound] = limit.value if same else float(f"{limit.value * limit_factor / factor:.12g}")
    if len(out) == 2 and plain:
        return out["value"]
    return out


# A few spellings per analyte in any input, read for every value (a thousand per 3-year record): bounded,
# as the spellings come from outside.
@lru_cache(maxsize=1024)
def _unit_choice(kind: UnitKind, unit: str | None, code: str | None) -> tuple[str, float | None, bool]:
    """(the spelling read, its factor to the canonical unit, whether a bare number says the same), or
    (why no spelling can be read, None, False). The lab's own ``unit`` is tried first, then the UCUM
    ``code``; a percentage without any unit is a percentage."""
    spellings = [s for s in (unit, code) if s] or (["%"] if kind is PERCENT else [])
    why = None
    for spelling in spellings:
        try:
            factor = kind.factor(spelling)
        except UnitError as error:
            why = str(error)
            continue
        # a bare number: the UCUM code alone in the canonical unit, or the canonical spelling without a code
        plain = (unit is None and factor == 1.0) or (spelling == kind.canonical and code is None)
        return spelling, factor, plain
    return why or f"no unit; a {kind.name} needs one (e.g. {', '.join(kind.examples[:3])})", None, False


_NO_NUMBER = "no numeric value (valueQuantity, or a number as valueString)"


def _absent(resource) -> str:
    """Why the source says the value is absent (dataAbsentReason), as '; the source says: ...', or ''."""
    reason = concept_text(getattr(resource, "dataAbsentReason", None))
    return f"; the source says: {reason} (dataAbsentReason)" if reason else ""


def _measured(m: Item, kind: UnitKind, b: Builder) -> Any:
    obs = m.resource
    ranges = obs.referenceRange or []
    return read_quantity(value_quantity(obs), kind, m, "valueQuantity", b, ranges[0] if ranges else None)


def _component_values(m: Item, codes: dict, kinds: dict[str, UnitKind], sample: str, out: dict[str, Any], b: Builder) -> None:
    """Read into ``out`` each component of ``m`` whose LOINC code is one of ``codes`` (a blood count or a
    spinal-fluid count sent as one panel Observation).

    FHIR R4 Observation, "Components" (https://hl7.org/fhir/R4/observation.html#component): a component
    is a result of its own code that shares the Observation's subject, time and specimen, with its own
    value[x] and referenceRange; it is read exactly as the same result sent as an Observation of its own.
    """
    if b.wrong_sample(m, sample, part=True):
        return
    for n, comp in enumerate(m.resource.component or ()):
        analyte = codes.get(code_in(comp.code, C.LOINC) or "")
        if analyte is None:
            continue
        path = f"component[{n}]"
        if analyte.field in out:
            b.report.partly(m.ref, f"{path}: a second {analyte.field} in the same count (first value kept)")
            continue
        ranges = comp.referenceRange or []
        value = read_quantity(comp.valueQuantity, kinds[analyte.field], m, f"{path}.valueQuantity", b, ranges[0] if ranges else None, part=True)
        if value is not None:
            out[analyte.field] = value


def _containers_used(members: list[Item], b: Builder, kinds: tuple[str, ...], used: bool = True) -> None:
    """The report of the group's containers (panels, reports): used, or unused when none of their results were.

    A group of containers alone (a report whose ``result`` is a panel, whose ``hasMember`` results form a
    group of their own) holds no result to judge: its containers are the structure around that group, used.
    """
    if not any(m.kind not in kinds or getattr(m.resource, "component", None) for m in members):
        used = True
    for m in members:
        if m.kind in kinds:
            if used:
                b.used(m)
            else:
                b.unused(m, "none of its results could be used (the reason is given for each)")


# Finding types ------------------------------------------------------------------------
def _cbc(members: list[Item], b: Builder) -> dict | None:
    out: dict[str, Any] = {}
    for m in members:
        if m.kind == "cbc-panel":
            _component_values(m, CBC_CODES, CBC_KIND, "blood", out, b)  # the panel is reported with the containers, below
            continue
        if m.kind != "cbc" or b.wrong_sample(m, "blood"):
            continue
        analyte = CBC_CODES[code_in(m.resource.code, C.LOINC) or ""]  # its kind says the code is there
        if analyte.field in out:
            b.unused(m, f"a second {analyte.field} in the same blood count (first value kept)")
            continue
        if value_quantity(m.resource) is None:
            b.unused(m, _NO_NUMBER + _absent(m.resource))
            continue
        value = _measured(m, CBC_KIND[analyte.field], b)
        if value is not None:
            out[analyte.field] = value
            b.used(m)
    if not out and not b.explicit:
        _containers_used(members, b, ("cbc-panel", "report"), used=False)
        return None
    _containers_used(members, b, ("cbc-panel", "report"))
    return out


def _csf(members: list[Item], b: Builder) -> dict | None:
    out: dict[str, Any] = {}
    for m in members:
        obs = m.resource
        if m.kind == "csf-panel":
            _component_values(m, CSF_CODES, CSF_KIND, "csf", out, b)  # the panel is reported with the containers, below
            continue
        own = code_in(obs.code, C.ALLCARE_CODES)
        if m.kind == "csf" and own in (C.A_CSF_BLASTS, C.A_CSF_TRAUMATIC):
            name = "blasts" if own == C.A_CSF_BLASTS else "traumatic"
            if obs.valueBoolean is None:
                b.unused(m, "no yes/no value (valueBoolean)")
                continue
            out[name] = obs.valueBoolean
            b.used(m)
        elif m.kind == "csf" and not b.wrong_sample(m, "csf"):
            analyte = CSF_CODES[code_in(obs.code, C.LOINC) or ""]
            if analyte.field in out or value_quantity(obs) is None:
                b.unused(m, "no numeric value, or a second value for the same count")
                continue
            value = _measured(m, CSF_CELLS, b)
            if value is not None:
                out[analyte.field] = value
                b.used(m)
    if not out and not b.explicit:
        _containers_used(members, b, ("csf-panel", "report"), used=False)
        return None
    _containers_used(members, b, ("csf-panel", "report"))
    return out


# Words in an Observation.method's text that name the method, tried in this order.
MARROW_METHOD_WORDS = {"flow": ("flow",), "morphology": ("morpholog", "microscop", "manual", "smear")}
MRD_METHOD_WORDS = {"flow": ("flow",), "pcr": ("pcr",), "ngs": ("sequenc", "ngs")}


def _method(concept, words: dict[str, tuple[str, ...]]) -> str | None:
    """allcare's own method code, else the first method whose word the text contains."""
    own = code_in(concept, C.ALLCARE_CODES)
    if own:
        return own
    text = (concept_text(concept) or "").lower()
    return next((method for method, stems in words.items() if any(stem in text for stem in stems)), None)


def _marrow(members: list[Item], b: Builder) -> dict | None:
    out: dict[str, Any] = {}
    for m in members:
        obs = m.resource
        timepoint = component_with(obs, C.ALLCARE_CODES, C.A_MARROW_TIMEPOINT)
        cellularity = component_with(obs, C.ALLCARE_CODES, C.A_MARROW_CELLULARITY)
        if m.kind == "marrow":
            if b.wrong_sample(m, "marrow"):
                continue
            if value_quantity(obs) is None:
                b.unused(m, "no numeric blast percentage (valueQuantity, or a number as valueString)" + _absent(obs))
                continue
            value = read_quantity(value_quantity(obs), PERCENT, m, "valueQuantity", b)
            if value is None:
                continue
            out["blasts_pct"] = value
        elif not (b.explicit or timepoint or cellularity):
            b.unused(m, "narrative report text (LOINC 48807-2) with no coded value: allcare needs the marrow blast percentage (LOINC 11150-0)")
            continue
        method = _method(obs.method, MARROW_METHOD_WORDS) if obs.method is not None else None
        if method:
            out["method"] = method
        if timepoint is not None and timepoint.valueString:
            out["timepoint"] = timepoint.valueString
        if cellularity is not None:
            out["cellularity"] = code_in(cellularity.valueCodeableConcept, C.ALLCARE_CODES) or concept_text(cellularity.valueCodeableConcept)
        b.used(m)
    if not out and not b.explicit:
        return None
    return out


_LIST_SPLIT = re.compile(r"\s*(?:,|;|\band\b|\bor\b)\s*", re.IGNORECASE)
# "positive for <list>": the list ends at the sentence's end or where the next "positive/negative for" begins.
_POS_NEG = re.compile(r"\b(positive|negative)\s+for\s+(.+?)(?=[.;]|\b(?:positive|negative)\s+for\b|$)", re.IGNORECASE)
_MARKER_NAME = re.compile(r"[A-Za-z][A-Za-z0-9\- ]{0,20}")
# "CD19+ HLA-DR+ cCD3-": a marker name (hyphens inside, as in HLA-DR) and its sign, then a separator or the end;
# "+/-" (partly expressed) is neither and is not read.
_SIGNED = re.compile(r"(?<![A-Za-z0-9\-])([A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*)([+\-\u2212])(?=[\s,;.)]|$)")


def parse_marker_text(text: str) -> dict[str, str] | None:
    """Markers from "positive for CD10, CD79a and TdT; negative for cCD3" or from "CD10+ CD79a+ cCD3-"
    (None: neither form)."""
    markers: dict[str, str] = {}
    for polarity, names in _POS_NEG.findall(text):
        for name in _LIST_SPLIT.split(names):
            name = name.strip()
            if name and _MARKER_NAME.fullmatch(name):
                markers[name] = polarity.lower()
    if not markers:
        for name, sign in _SIGNED.findall(text):
            markers[name] = "positive" if sign == "+" else "negative"
    return markers or None


def _immunophenotype(members: list[Item], b: Builder) -> dict | None:
    markers: dict[str, Any] = {}
    intensity: dict[str, str | None] = {}
    out: dict[str, Any] = {}
    for m in members:
        obs = m.resource
        used = False
        for n, comp in enumerate(components(obs)):
            marker = code_in(comp.code, C.ALLCARE_MARKERS)
            strength = code_in(comp.code, C.ALLCARE_MARKER_INTENSITY)
            if marker:
                q = comp.valueQuantity
                if q is not None and (q.value is None or q.comparator is not None):
                    # A bound ("<20 %") is not the percentage of positive cells the marker's call is made from.
                    b.report.partly(m.ref, f"component[{n}].valueQuantity ({marker}): " + (
                        "no numeric value" if q.value is None else f"comparator {q.comparator!r}, a bound, not a "
                                                                   "percentage of positive cells") + "; not used")
                elif q is not None:
                    markers[marker] = float(q.value)
                else:
                    markers[marker] = code_in(comp.valueCodeableConcept, C.ALLCARE_CODES) or (concept_text(comp.valueCodeableConcept) or "").lower()
                used = True
            elif strength:
                intensity[strength] = code_in(comp.valueCodeableConcept, C.ALLCARE_CODES) or concept_text(comp.valueCodeableConcept)
                used = True
            elif code_in(comp.code, C.ALLCARE_CODES, [C.A_SAMPLE]):
                out["sample"] = code_in(comp.valueCodeableConcept, C.ALLCARE_CODES)
                used = True
        if obs.valueString:
            parsed = parse_marker_text(obs.valueString)
            if parsed:
                markers.update(parsed)
                used = True
        if used or b.explicit:
            b.used(m)
        else:
            b.unused(m, "immunophenotype result is neither coded per marker nor 'positive for ..., negative for ...' text")
    if not (markers or intensity or out) and not b.explicit:
        return None
    sample = next((b.samples[m.ref] for m in members if m.ref in b.samples), None)
    if "sample" not in out and sample is not None:
        out["sample"] = sample
    if markers:
        out["markers"] = markers
    if intensity:
        out["intensity"] = intensity
    return out


def _cytogenetics(members: list[Item], b: Builder) -> dict | None:
    out: dict[str, Any] = {}
    for m in members:
        obs = m.resource
        text = obs.valueString or concept_text(obs.valueCodeableConcept)
        if text:
            out["karyotype"] = text
        modal = component_with(obs, C.ALLCARE_CODES, C.A_MODAL_NUMBER)
        if modal is not None and modal.valueInteger is not None:
            out["modal_number"] = modal.valueInteger
        index = component_with(obs, C.ALLCARE_CODES, C.A_DNA_INDEX)
        if index is not None and index.valueQuantity is not None:
            out["dna_index"] = index.valueQuantity.value
        if out or b.explicit:
            b.used(m)
        else:
            b.unused(m, "karyotype observation without a karyotype")
    return out if out or b.explicit else None


_THREE_LETTER = {
    "Ala": "A", "Arg": "R", "Asn": "N", "Asp": "D", "Cys": "C", "Gln": "Q", "Glu": "E", "Gly": "G", "His": "H", "Ile": "I",
    "Leu": "L", "Lys": "K", "Met": "M", "Phe": "F", "Pro": "P", "Ser": "S", "Thr": "T", "Trp": "W", "Tyr": "Y", "Val": "V", "Ter": "*",
}


def _protein_change(text: str) -> str | None:
    """``p.Pro80Arg`` / ``p.(Pro80Arg)`` / ``NP_002711.3:p.(Pro80Arg)`` / ``P80R`` -> ``P80R`` (simple substitutions only).

    An HGVS expression may start with its reference sequence (``NP_...:``); the change follows the colon.
    """
    text = text.strip().rsplit(":", 1)[-1]
    match = re.fullmatch(r"(?:p\.)?\(?([A-Z][a-z]{2}|[A-Z])(\d+)([A-Z][a-z]{2}|[A-Z*])\)?", text.strip())
    if not match:
        return None
    first, pos, last = match.groups()
    return f"{_THREE_LETTER.get(first, first)}{pos}{_THREE_LETTER.get(last, last)}"


def variant_lesion(obs) -> tuple[str | None, str]:
    """The lesion a GenomicVariant names, and how it was read (for the report)."""
    own = None
    for comp in components(obs):
        own = own or code_in(comp.valueCodeableConcept, C.ALLCARE_LESIONS)
    if own:
        return own, "allcare lesion code"
    genes = []
    change_type = None
    protein = None
    for comp in components(obs):
        code = code_in(comp.code, C.LOINC)
        if code == C.GENE_STUDIED:
            cc = comp.valueCodeableConcept
            hgnc = next((code_in(cc, system) for system in C.HGNC_SYSTEMS if code_in(cc, system)), None)
            symbol = C.SYMBOL_BY_HGNC.get(hgnc) if hgnc else None
            symbol = symbol or next((c.display for c in (cc.coding or []) if c.display), None) or cc.text
            if symbol:
                genes.append(symbol.strip().upper())
        elif code == C.DNA_CHANGE_TYPE:
            so = next((c.code for c in (comp.valueCodeableConcept.coding or []) if c.code), None)
            change_type = (C.SO_KIND.get(so) if so else None) or _kind_from_text(concept_text(comp.valueCodeableConcept) or "")
        elif code == C.AMINO_ACID_CHANGE:
            protein = _protein_change(concept_text(comp.valueCodeableConcept) or "")
    if len(genes) >= 2:
        return f"{genes[0]}::{genes[1]}", "genes studied (fusion partners)"
    if len(genes) == 1:
        gene = genes[0]
        if protein:
            return f"{gene} {protein}", "gene and amino-acid change"
        if change_type == "fusion":
            return f"{gene}_rearrangement", "gene studied and change type"
        if change_type in ("deletion", "amplification"):
            return f"{gene}_{change_type}", "gene studied and change type"
        return f"{gene}_alteration", "gene studied (kind of change not given)"
    return None, "no gene and no allcare lesion code"


def _kind_from_text(text: str) -> str | None:
    text = text.lower()
    for word, kind in (("transloc", "fusion"), ("fusion", "fusion"), ("delet", "deletion"), ("amplif", "amplification")):
        if word in text:
            return kind
    return None


def _genetics(members: list[Item], b: Builder) -> dict | None:
    fusions: list[str] = []
    alterations: list[str] = []
    negative: list[str] = []
    out: dict[str, Any] = {}
    for m in members:
        obs = m.resource
        source = ext_value(obs, C.EXT_SOURCE)
        if source and "source" not in out:
            out["source"] = source
        if m.kind == "genetics-report":
            continue
        if code_in(obs.code, C.ALLCARE_CODES, [C.A_EXPRESSION_SUBTYPE]):
            if obs.valueCodeableConcept is not None:
                out["expression_subtype"] = concept_text(obs.valueCodeableConcept)
            confidence = component_with(obs, C.ALLCARE_CODES, C.A_EXPRESSION_CONFIDENCE)
            if confidence is not None and confidence.valueQuantity is not None:
                out["expression_confidence"] = confidence.valueQuantity.value
            b.used(m)
            continue
        answer = code_in(obs.valueCodeableConcept, C.LOINC, [C.PRESENT, C.ABSENT])
        if answer is None:
            b.unused(m, "variant result is neither Present (LA9633-4) nor Absent (LA9634-2) (no call / indeterminate)")
            continue
        lesion, how = variant_lesion(obs)
        if lesion is None:
            b.unused(m, f"variant not readable: {how}")
            continue
        if "source" not in out and obs.method is not None and concept_text(obs.method):
            out["source"] = concept_text(obs.method)
        if answer == C.ABSENT:
            negative.append(lesion)
        elif "::" in lesion:
            fusions.append(lesion)
        else:
            alterations.append(lesion)
        b.used(m)
    if not (fusions or alterations or negative or "expression_subtype" in out or "expression_confidence" in out) and not b.explicit:
        return None
    _containers_used(members, b, ("genetics-report", "report"))
    for name, values in (("fusions", fusions), ("alterations", alterations), ("negative", negative)):
        if values:
            out[name] = values
    return out


_SITE_BY_SNOMED = {code: site for site, (code, _) in C.SITE_SNOMED.items()}


def _extramedullary(members: list[Item], b: Builder) -> dict | None:
    m = members[0]
    obs = m.resource
    site = code_in(obs.bodySite, C.ALLCARE_CODES) or _SITE_BY_SNOMED.get(code_in(obs.bodySite, C.SNOMED) or "")
    if site is None or obs.valueBoolean is None:
        b.unused(m, "extramedullary observation without a known site or a yes/no value")
        return None
    out: dict[str, Any] = {"site": site, "present": obs.valueBoolean}
    detail = component_with(obs, C.ALLCARE_CODES, C.A_EXTRAMEDULLARY_DETAIL)
    if detail is not None and detail.valueString:
        out["detail"] = detail.valueString
    b.used(m)
    return out


# A lab's words for an MRD it did not find (the whole value, any case, an ending full stop allowed).
_MRD_NOT_FOUND_WORDS = re.compile(r"\s*(not detected|undetect(?:ed|able)|negative|none detected|no mrd detected|mrd negative"
                                  r"|mrd not detected)\s*\.?\s*", re.IGNORECASE)
_MRD_FOUND_WORDS = re.compile(r"\s*(detected|positive|mrd positive|mrd detected)\s*\.?\s*", re.IGNORECASE)
MRD_NOT_DETECTED = ("not detected, with no level or sensitivity stated: read as 0 (not detected), which is negative only "
                    "with the assay's sensitivity (not evaluable without it)")


def _mrd_answer(obs) -> str | None:
    """"not detected" or "detected" when a qualitative MRD result says so (coded answer or words), else None."""
    concept = obs.valueCodeableConcept
    coded = {(c.system, c.code) for c in codings(concept)}
    words = [text for text in (obs.valueString, concept_text(concept) if concept is not None else None) if text]
    if coded & C.NOT_DETECTED_ANSWERS or any(_MRD_NOT_FOUND_WORDS.fullmatch(text) for text in words):
        return "not detected"
    if coded & C.DETECTED_ANSWERS or any(_MRD_FOUND_WORDS.fullmatch(text) for text in words):
        return "detected"
    return None


def _mrd_quantity(obs) -> Quantity | str:
    """The quantity of valueQuantity, or of a lab's text such as ``<0.01%``, or 0 for a "not detected"
    answer; else why there is none."""
    q = value_quantity(obs)
    if q is not None and (obs.valueQuantity is not None or q.unit):  # text needs its unit ("<0.01%")
        return q
    answer = _mrd_answer(obs)
    if answer == "not detected":
        return Quantity(value=0, unit="%")
    if answer == "detected":
        return "MRD detected without its level: allcare needs the level (a percentage or fraction) to compare with the lines"
    return "MRD result without a numeric value (valueQuantity, or text such as '<0.01%')"


def _named_sample(obs) -> str | None:
    """The sample an MRD names by its bodySite (code, else text) or, coded only by name, in its code text
    ("MRD bone marrow"); None when it names none, or both."""
    coded = {C.BODY_SITE_SAMPLE[(c.system, c.code)] for c in codings(obs.bodySite)
             if (c.system, c.code) in C.BODY_SITE_SAMPLE} if obs.bodySite is not None else set()
    if len(coded) == 1:
        return coded.pop()
    for text in (concept_text(obs.bodySite) if obs.bodySite is not None else None, concept_text(obs.code)):
        named = {sample for sample, words in C.SAMPLE_WORDS.items() if text and words.search(text)}
        if len(named) == 1:
            return named.pop()
        if named:
            return None
    return None


def _mrd(members: list[Item], b: Builder) -> dict | None:
    m = members[0]
    obs = m.resource
    out: dict[str, Any] = {}
    q = _mrd_quantity(obs)
    if isinstance(q, Quantity):
        factor = next((f for f in (_percent_factor(s) for s in (q.code, q.unit) if s) if f is not None), None)
        if q.value is None or factor is None:
            b.unused(m, f"MRD unit {q.unit or q.code!r} cannot be read as a fraction or a percentage (use % or UCUM '1')")
            return None
        if q.comparator is not None and q.comparator not in COMPARATORS:
            b.unused(m, f"valueQuantity.comparator {q.comparator!r} is not a FHIR comparator")
            return None
        if factor == 100.0:  # a fraction of cells (UCUM 1)
            out["value"] = q.value
        else:
            out["percent"] = q.value if factor == 1.0 else float(f"{q.value * factor:.12g}")
        if q.comparator:
            out["comparator"] = q.comparator
    elif not b.explicit:
        b.unused(m, q)
        return None
    percent = ext_value(obs, C.EXT_MRD_PERCENT)
    if percent is not None:
        out["percent"] = percent
    method = _method(obs.method, MRD_METHOD_WORDS) if obs.method is not None else None
    if method:
        out["method"] = method
    for key, url in (("sensitivity", C.EXT_MRD_SENSITIVITY), ("sample", C.EXT_MRD_SAMPLE), ("timepoint", C.EXT_MRD_TIMEPOINT)):
        value = ext_value(obs, url)
        if value is not None:
            out[key] = value
    if obs.valueQuantity is None and isinstance(q, Quantity) and q.value == 0 and "sensitivity" not in out:
        b.report.partly(m.ref, MRD_NOT_DETECTED)
    sample = b.samples.get(m.ref) or _named_sample(obs)
    named = obs.specimen.reference if obs.specimen is not None else None
    if "sample" not in out and sample is None and named:
        b.report.partly(m.ref, f"its specimen {named} does not say the sample (not in the input, or of a type allcare "
                               "does not know): a sample not stated is read at a marrow line only upward (a result "
                               "below it proves nothing); state the sample")
    if "sample" not in out and sample is not None:
        # Without a sample an MRD is read at a marrow line only upward (docs/decisions.md#remission-mrd-line).
        if sample not in ("marrow", "blood"):
            b.unused(m, f"MRD measured on {sample} (its specimen): allcare's MRD rules are for marrow and blood")
            return None
        out["sample"] = sample
    b.used(m)
    return out


def _percent_factor(unit: str) -> float | None:
    """Factor to percent of an MRD unit (``%`` 1, UCUM ``1`` or ``{fraction}`` 100), None when it is not a ratio."""
    if unit.strip().lower().startswith("fraction"):
        return 100.0
    try:
        return PERCENT.factor(unit)
    except UnitError:
        return None


def medication_concept(resource):
    """The medication's CodeableConcept (``medicationCodeableConcept``), or None for a reference."""
    return getattr(resource, "medicationCodeableConcept", None)


def drug_name(m: Item, medications: dict[str, str]) -> str | None:
    """The drug as text: the CodeableConcept's text or display, an agent code's name, or a referenced Medication's."""
    resource = m.resource
    if m.kind == "radiotherapy":  # named so that it reads (and is written back) as radiotherapy, never a drug
        text = concept_text(resource.code)
        if text and C.RADIOTHERAPY_WORDS.search(text):
            return text
        site = concept_text(resource.bodySite[0]) if resource.bodySite else None
        return "radiotherapy" + (f" to {site}" if site else "")
    cc = medication_concept(resource)
    if cc is not None:
        if cc.text:
            return cc.text
        display = next((c.display for c in (cc.coding or []) if c.display), None)
        coded = _coded_agent(cc)
        return display or (coded.name if coded else None) or concept_text(cc)
    ref = getattr(getattr(resource, "medicationReference", None), "reference", None)
    if ref:
        container = m.ref.split("#")[0]
        return medications.get(f"{container}{ref}" if ref.startswith("#") else ref) or medications.get(short_ref(ref) or "")
    return None


def _coded_agent(cc):
    for c in cc.coding or [] if cc is not None else []:
        if c.system == C.RXNORM and c.code:
            found = agent_coded("rxnorm", c.code)
        elif c.system == C.ATC and c.code:
            found = agent_coded("atc", c.code)
        else:
            continue
        if found:
            return found
    return None


def is_leukaemia_treatment(m: Item, name: str) -> bool:
    """An antileukaemic or supportive agent of ``data/agents.csv`` (by code or by name), or radiotherapy."""
    if m.kind == "radiotherapy":
        return True
    return _coded_agent(medication_concept(m.resource)) is not None or agent_named(name) is not None


def _treatment(members: list[Item], b: Builder) -> dict | None:
    plan = next((m for m in members if m.kind == "treatment-plan"), None)
    phase = protocol = start = end = None
    if plan is not None:
        r = plan.resource
        concepts = (r.category or []) if r.resource_type == "CarePlan" else [r.code]
        phase = next((code_in(c, C.ALLCARE_PHASES) for c in concepts if code_in(c, C.ALLCARE_PHASES)), None)
        start, end = effective(r)
        protocol = ext_value(r, C.EXT_PROTOCOL)
    agents: list[str] = []
    medication_ends = []
    # In the plan's order when there is one (allcare's export lists the agents as written), else by id.
    outcomes = [ref.reference for act in ((plan.resource.activity or []) if plan else []) for ref in (act.outcomeReference or [])]
    order = {short_ref(ref): n for n, ref in enumerate(outcomes) if ref}
    given = sorted((m for m in members if m.kind in _GIVEN), key=lambda x: (order.get(x.ref, len(order)), x.resource.id or "", x.ref))
    for m in given:
        name = drug_name(m, b.medications)
        if not name:
            b.unused(m, "medication has no name or code allcare can read")
            continue
        if not (b.explicit or is_leukaemia_treatment(m, name)):
            b.unused(m, f"{name!r} is not an antileukaemic agent or supportive care allcare uses (data/agents.csv)")
            continue
        if name not in agents:
            agents.append(name)
        phase = phase or ext_value(m.resource, C.EXT_TREATMENT_PHASE)
        protocol = protocol or ext_value(m.resource, C.EXT_PROTOCOL)
        m_start, m_end = _medication_period(m.resource)
        medication_ends.append(m_end)
        if plan is None and m_start is not None and (start is None or m_start < start):
            start = m_start
        b.used(m)
    if plan is None and medication_ends and all(e is not None for e in medication_ends):
        end = max(medication_ends)  # every administration has an end: the block ended with the last
    if not agents and plan is None:
        return None  # nothing of this group is leukaemia treatment (each resource's reason is reported)
    if start is None:
        for m in members:
            b.unused(m, "treatment without a start date")
        return None
    if plan is not None:
        b.used(plan)
    out: dict[str, Any] = {"phase": phase or "other", "start": start.isoformat()}
    if end is not None:
        out["end"] = end.isoformat()
    if agents:
        out["agents"] = agents
    if protocol:
        out["protocol"] = protocol
    explicit_date = next((as_date(ext_value(m.resource, C.EXT_FINDING_DATE)) for m in members if ext_value(m.resource, C.EXT_FINDING_DATE)), None)
    out["date"] = (explicit_date or start).isoformat()
    return out


_GIVEN = ("treatment", "treatment-request", "treatment-statement", "radiotherapy")


def _medication_period(resource):
    """(start, end) of an administration, or of a request's dosage bounds (else its authoredOn)."""
    if resource.resource_type == "MedicationRequest":
        for dosage in resource.dosageInstruction or []:
            bounds = getattr(getattr(getattr(dosage, "timing", None), "repeat", None), "boundsPeriod", None)
            if bounds is not None and bounds.start:
                return as_date(bounds.start), as_date(bounds.end)
    return effective(resource)


_BUILDERS: dict[str, Callable[..., dict | None]] = {
    "cbc": _cbc, "csf": _csf, "marrow": _marrow, "immunophenotype": _immunophenotype, "cytogenetics": _cytogenetics,
    "genetics": _genetics, "extramedullary": _extramedullary, "mrd": _mrd, "treatment": _treatment,
    **monitoring._builders(),
}
