"""One case finding -> the FHIR resources that carry it.

Every resource written for a finding carries the finding's group identifier
(system ``urn:allcare:finding``) and, when given, its note and source. A reader
that only sees some of the resources (a CDS Hooks prefetch of Observations, say)
can still put the finding back together, and a second import recognises it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ...engine.case import Quantity as CaseQuantity
from ...engine.case.units import CELL_COUNT, CSF_CELLS, HEMOGLOBIN, PERCENT, RED_CELL_COUNT, UnitKind
from . import codes as C
from . import monitoring
from .agents import agent_named
from .model import (
    Element,
    allcare_concept,
    child_id,
    coding,
    concept,
    extension,
    identifier,
    lab_category,
    loinc,
    meta,
    period,
    quantity,
    reference,
    resource,
)

CBC_KINDS: dict[str, UnitKind] = {
    "wbc": CELL_COUNT, "platelets": CELL_COUNT, "anc": CELL_COUNT, "hemoglobin": HEMOGLOBIN,
    "rbc": RED_CELL_COUNT, "blasts_pct": PERCENT,
}
CSF_KINDS: dict[str, UnitKind] = {"wbc": CSF_CELLS, "rbc": CSF_CELLS}
PRIMARY_TYPE = {
    "cbc": "Observation", "marrow": "Observation", "immunophenotype": "Observation", "cytogenetics": "Observation",
    "genetics": "DiagnosticReport", "csf": "Observation", "extramedullary": "Observation", "mrd": "Observation",
    "treatment": "CarePlan", **monitoring.PRIMARY_TYPES,
}


@dataclass
class FindingContext:
    """What every resource of one finding shares: patient, ids, group identifier, note and source."""

    patient: Element
    primary_id: str
    group: str
    date: dt.date
    condition: Element | None
    common: dict[str, Any] = field(default_factory=dict)

    def child(self, suffix: str) -> str:
        return child_id(self.primary_id, suffix)


def finding_resources(ctx: FindingContext, finding) -> list:
    """The resources for one finding, primary (grouping) resource first."""
    return _WRITERS[finding.type](ctx, finding)


def common_fields(finding, group: str, natural_date: dt.date) -> dict[str, Any]:
    """Identifier and allcare extensions shared by every resource of a finding."""
    extensions = []
    if finding.note:
        extensions.append(extension(C.EXT_NOTE, valueString=finding.note))
    source = getattr(finding, "source", None)
    if source:
        extensions.append(extension(C.EXT_SOURCE, valueString=source))
    if finding.date != natural_date:
        extensions.append(extension(C.EXT_FINDING_DATE, valueDate=finding.date))
    return {"identifier": [identifier(C.ALLCARE_FINDING_ID, group)], "extension": extensions}


# Measured values ------------------------------------------------------------------
def ucum_of(unit: str, kind: UnitKind) -> str | None:
    """The UCUM code for a unit the case model accepted (None when it has none, e.g. a lab's own word)."""
    return kind.ucum_for(unit)


def value_quantity(q: CaseQuantity, kind: UnitKind):
    """The value as the lab reported it (reported unit and comparator kept), with its UCUM code."""
    if q.reported is not None:
        unit = q.reported.get("unit", kind.canonical)
        return quantity(q.reported["value"], unit, ucum_of(unit, kind), q.comparator), unit
    # A bare number in the canonical unit: UCUM code only. The human ``unit`` text is written
    # only for a lab's own spelling, so that import can tell the two apart.
    return quantity(q.value, None, kind.ucum), kind.canonical


def reference_range(q: CaseQuantity, kind: UnitKind) -> list[Element]:
    if q.reported is None or (q.reported.get("lower_limit") is None and q.reported.get("upper_limit") is None):
        return []
    unit = q.reported.get("unit", kind.canonical)
    code = ucum_of(unit, kind)
    bounds = {}
    if q.reported.get("lower_limit") is not None:
        bounds["low"] = quantity(q.reported["lower_limit"], unit, code)
    if q.reported.get("upper_limit") is not None:
        bounds["high"] = quantity(q.reported["upper_limit"], unit, code)
    return [bounds]


def _measured(ctx: FindingContext, suffix: str, analyte: C.Analyte, q: CaseQuantity, kind: UnitKind):
    value, _ = value_quantity(q, kind)
    return resource(
        "Observation", id=ctx.child(suffix), meta=meta(C.US_CORE_LAB), status="final", category=lab_category(),
        code=loinc(analyte.export_code, analyte.display), subject=ctx.patient, effectiveDateTime=ctx.date,
        valueQuantity=value, referenceRange=reference_range(q, kind), **ctx.common,
    )


def _panel(ctx: FindingContext, code, members: list, absent_when_empty: bool = True):
    refs = [reference("Observation", m["id"]) for m in members]
    extra = {} if refs or not absent_when_empty else {"dataAbsentReason": concept(coding(C.DATA_ABSENT_REASON, "not-performed"))}
    return resource(
        "Observation", id=ctx.primary_id, status="final", category=lab_category(), code=code, subject=ctx.patient,
        effectiveDateTime=ctx.date, hasMember=refs, **extra, **ctx.common,
    )


def _cbc(ctx: FindingContext, f) -> list:
    members = [
        _measured(ctx, a.field.replace("_", "-"), a, getattr(f, a.field), CBC_KINDS[a.field])
        for a in C.CBC_ANALYTES if getattr(f, a.field) is not None
    ]
    return [_panel(ctx, loinc(C.CBC_PANEL, C.CBC_PANEL_DISPLAY), members), *members]


def _csf(ctx: FindingContext, f) -> list:
    members = [
        _measured(ctx, a.field, a, getattr(f, a.field), CSF_KINDS[a.field]) for a in C.CSF_ANALYTES if getattr(f, a.field) is not None
    ]
    for name, code in (("blasts", C.A_CSF_BLASTS), ("traumatic", C.A_CSF_TRAUMATIC)):
        value = getattr(f, name)
        if value is not None:
            members.append(resource(
                "Observation", id=ctx.child(name), status="final", category=lab_category(), code=allcare_concept(code),
                subject=ctx.patient, effectiveDateTime=ctx.date, valueBoolean=value, **ctx.common,
            ))
    return [_panel(ctx, allcare_concept(C.A_CSF_PANEL, "Spinal fluid cell count"), members), *members]


def _component(code: Element, **value: Any) -> Element:
    return {"code": code, **value}


def _absent_unless(has_value: bool, components: list) -> dict:
    if has_value or components:
        return {}
    return {"dataAbsentReason": concept(coding(C.DATA_ABSENT_REASON, "unknown"))}


def _marrow(ctx: FindingContext, f) -> list:
    components = []
    if f.timepoint:
        components.append(_component(allcare_concept(C.A_MARROW_TIMEPOINT), valueString=f.timepoint))
    if f.cellularity:
        components.append(_component(allcare_concept(C.A_MARROW_CELLULARITY), valueCodeableConcept=allcare_concept(f.cellularity)))
    if f.blasts_pct is not None:
        value, _ = value_quantity(f.blasts_pct, PERCENT)
        code, extra = loinc(C.MARROW_BLASTS.export_code, C.MARROW_BLASTS.display), {"valueQuantity": value}
    else:
        code, extra = loinc(C.MARROW_REPORT, "Bone marrow aspiration report"), _absent_unless(False, components)
    return [resource(
        "Observation", id=ctx.primary_id, meta=meta(C.US_CORE_LAB), status="final", category=lab_category(), code=code,
        subject=ctx.patient, effectiveDateTime=ctx.date, method=allcare_concept(f.method) if f.method else None,
        component=components, **extra, **ctx.common,
    )]


def _immunophenotype(ctx: FindingContext, f) -> list:
    components = []
    for name, value in f.markers.items():
        code = concept(coding(C.ALLCARE_MARKERS, name), text=name)
        if isinstance(value, str):
            components.append(_component(code, valueCodeableConcept=allcare_concept(value)))
        else:
            components.append(_component(code, valueQuantity=quantity(value, "%", "%")))
    for name, value in f.intensity.items():
        components.append(_component(concept(coding(C.ALLCARE_MARKER_INTENSITY, name), text=f"{name} intensity"),
                                     valueCodeableConcept=allcare_concept(value)))
    if f.sample:
        components.append(_component(allcare_concept(C.A_SAMPLE), valueCodeableConcept=allcare_concept(f.sample)))
    return [resource(
        "Observation", id=ctx.primary_id, status="final", category=lab_category(),
        code=concept(coding(C.LOINC, C.IMMUNOPHENOTYPE), text="Immunophenotype"), subject=ctx.patient,
        effectiveDateTime=ctx.date, component=components, **_absent_unless(False, components), **ctx.common,
    )]


def _cytogenetics(ctx: FindingContext, f) -> list:
    components = []
    if f.modal_number is not None:
        components.append(_component(allcare_concept(C.A_MODAL_NUMBER), valueInteger=f.modal_number))
    if f.dna_index is not None:
        components.append(_component(allcare_concept(C.A_DNA_INDEX), valueQuantity=quantity(f.dna_index, "ratio", "1")))
    return [resource(
        "Observation", id=ctx.primary_id, meta=meta(C.US_CORE_LAB), status="final", category=lab_category(),
        code=loinc(C.KARYOTYPE_EXPORT, "Karyotype [Identifier] in Blood or Tissue Nominal"), subject=ctx.patient,
        effectiveDateTime=ctx.date, valueString=f.karyotype, component=components,
        **_absent_unless(f.karyotype is not None, components), **ctx.common,
    )]


def lesion_genes(lesion: str) -> list[str]:
    """Genes named by a canonical lesion: both partners of a fusion, the gene of ``GENE_kind``."""
    if "::" in lesion:
        return lesion.split("::")
    gene, sep, _ = lesion.partition("_")
    return [gene] if sep and gene.isupper() and gene.isalnum() else []


def _gene(symbol: str):
    code = C.HGNC_BY_SYMBOL.get(symbol)
    value = concept(coding(C.HGNC, code, symbol), text=symbol) if code else concept(text=symbol)
    return _component(loinc(C.GENE_STUDIED, "Gene studied [ID]"), valueCodeableConcept=value)


def _variant(ctx: FindingContext, suffix: str, lesion: str, present: bool):
    components = [_gene(g) for g in lesion_genes(lesion)]
    if "::" in lesion:
        components.append(_component(loinc(C.DNA_CHANGE_TYPE, "DNA change type"),
                                     valueCodeableConcept=concept(coding(C.SEQUENCE_ONTOLOGY, C.SO_TRANSLOCATION, "chromosomal_translocation"))))
    components.append(_component(loinc(C.VARIATION_CODE, "Discrete genetic variant"),
                                 valueCodeableConcept=concept(coding(C.ALLCARE_LESIONS, lesion), text=lesion)))
    answer = coding(C.LOINC, C.PRESENT, "Present") if present else coding(C.LOINC, C.ABSENT, "Absent")
    return resource(
        "Observation", id=ctx.child(suffix), meta=meta(C.PROFILE_GENOMIC_VARIANT), status="final",
        category=lab_category(), code=loinc(C.GENETIC_VARIANT, "Genetic variant assessment"), subject=ctx.patient,
        effectiveDateTime=ctx.date, valueCodeableConcept=concept(answer), component=components, **ctx.common,
    )


def _genetics(ctx: FindingContext, f) -> list:
    members = []
    for kind, lesions, present in (("f", f.fusions, True), ("a", f.alterations, True), ("n", f.negative, False)):
        members += [_variant(ctx, f"{kind}{n:02d}", lesion, present) for n, lesion in enumerate(lesions, 1)]
    if f.expression_subtype is not None or f.expression_confidence is not None:
        components = []
        if f.expression_confidence is not None:
            components.append(_component(allcare_concept(C.A_EXPRESSION_CONFIDENCE),
                                         valueQuantity=quantity(f.expression_confidence, "probability", "1")))
        value = {"valueCodeableConcept": concept(text=f.expression_subtype)} if f.expression_subtype else {
            "dataAbsentReason": concept(coding(C.DATA_ABSENT_REASON, "unknown"))}
        members.append(resource(
            "Observation", id=ctx.child("expr"), status="final", category=lab_category(),
            code=allcare_concept(C.A_EXPRESSION_SUBTYPE, "Expression subtype (RNA-seq classifier)"), subject=ctx.patient,
            effectiveDateTime=ctx.date, component=components, **value, **ctx.common,
        ))
    report = resource(
        "DiagnosticReport", id=ctx.primary_id, meta=meta(C.PROFILE_GENOMICS_REPORT), status="final",
        category=[concept(coding(C.DIAGNOSTIC_SERVICE, "LAB")), concept(coding(C.DIAGNOSTIC_SERVICE, "GE", "Genetics"))],
        code=loinc(C.GENOMICS_REPORT_EXPORT, "Genetic analysis report"), subject=ctx.patient, effectiveDateTime=ctx.date,
        result=[reference("Observation", m["id"]) for m in members], **ctx.common,
    )
    return [report, *members]


def _extramedullary(ctx: FindingContext, f) -> list:
    codings = [coding(C.SNOMED, *C.SITE_SNOMED[f.site])] if f.site in C.SITE_SNOMED else []
    site = concept(*codings, coding(C.ALLCARE_CODES, f.site), text=f.site)
    components = [_component(allcare_concept(C.A_EXTRAMEDULLARY_DETAIL), valueString=f.detail)] if f.detail else []
    return [resource(
        "Observation", id=ctx.primary_id, status="final", category=[concept(coding(C.OBSERVATION_CATEGORY, "exam", "Exam"))],
        code=allcare_concept(C.A_EXTRAMEDULLARY, "Extramedullary leukaemia"), subject=ctx.patient, effectiveDateTime=ctx.date,
        bodySite=site, valueBoolean=f.present, component=components, **ctx.common,
    )]


def _mrd(ctx: FindingContext, f) -> list:
    extensions = list(ctx.common["extension"])
    if f.value is not None:
        value = {"valueQuantity": quantity(f.value, "fraction of cells", "1", f.comparator)}
        if f.percent is not None:
            extensions.append(extension(C.EXT_MRD_PERCENT, valueDecimal=f.percent))
    elif f.percent is not None:
        value = {"valueQuantity": quantity(f.percent, "%", "%", f.comparator)}
    else:
        value = {"dataAbsentReason": concept(coding(C.DATA_ABSENT_REASON, "unknown"))}
    if f.sensitivity is not None:
        extensions.append(extension(C.EXT_MRD_SENSITIVITY, valueDecimal=f.sensitivity))
    if f.sample:
        extensions.append(extension(C.EXT_MRD_SAMPLE, valueCode=f.sample))
    if f.timepoint:
        extensions.append(extension(C.EXT_MRD_TIMEPOINT, valueString=f.timepoint))
    return [resource(
        "Observation", id=ctx.primary_id, meta=meta(C.PROFILE_TUMOR_MARKER_TEST, C.US_CORE_LAB), status="final",
        category=lab_category(), code=allcare_concept(C.A_MRD, "Measurable residual disease"), subject=ctx.patient,
        effectiveDateTime=ctx.date, method=allcare_concept(f.method) if f.method else None,
        identifier=ctx.common["identifier"], extension=extensions, **value,
    )]


def agent_concept(agent: str):
    """The agent as written, coded with its RxNorm ingredient (where verified) and ATC code (data/agents.csv)."""
    known = agent_named(agent)
    codings = []
    if known is not None and known.rxnorm:
        codings.append(coding(C.RXNORM, known.rxnorm, known.name))
    if known is not None and known.atc:
        codings.append(coding(C.ATC, known.atc, known.name))
    return concept(*codings, text=agent)


def _treatment(ctx: FindingContext, f) -> list:
    phase_ext = [extension(C.EXT_TREATMENT_PHASE, valueCode=f.phase)]
    if f.protocol:
        phase_ext.append(extension(C.EXT_PROTOCOL, valueString=f.protocol))
    when = period(f.start, f.end)
    given = []
    for n, agent in enumerate(f.agents, 1):
        shared = dict(subject=ctx.patient, identifier=ctx.common["identifier"], extension=ctx.common["extension"] + phase_ext)
        if C.RADIOTHERAPY_WORDS.search(agent):  # a radiotherapy course is a Procedure in mCODE, not a medication
            given.append(resource(
                "Procedure", id=ctx.child(f"r{n:02d}"), meta=meta(C.PROFILE_RADIOTHERAPY_COURSE),
                status="completed" if f.end else "in-progress",
                code=concept(coding(C.SNOMED, *C.RADIOTHERAPY_COURSE), text=agent), performedPeriod=when,
                reasonReference=[ctx.condition] if ctx.condition else None, **shared,
            ))
            continue
        given.append(resource(
            "MedicationAdministration", id=ctx.child(f"a{n:02d}"),
            meta=meta(C.PROFILE_MEDICATION_ADMINISTRATION) if ctx.condition else None,
            status="completed" if f.end else "in-progress", medicationCodeableConcept=agent_concept(agent),
            effectivePeriod=when, reasonReference=[ctx.condition] if ctx.condition else None, **shared,
        ))
    outcomes = [reference(r["resourceType"], r["id"]) for r in given]
    activity = [{"outcomeReference": outcomes}] if outcomes else None
    plan = resource(
        "CarePlan", id=ctx.primary_id, status="completed" if f.end else "active", intent="plan",
        category=[concept(coding(C.ALLCARE_PHASES, f.phase), text=f.phase.replace("_", " "))],
        title=f"{f.phase.replace('_', ' ')}" + (f" ({f.protocol})" if f.protocol else ""),
        subject=ctx.patient, period=when, activity=activity,
        identifier=ctx.common["identifier"], extension=ctx.common["extension"] + phase_ext,
    )
    return [plan, *given]


_WRITERS: dict[str, Callable[[FindingContext, Any], list]] = {
    "cbc": _cbc, "csf": _csf, "marrow": _marrow, "immunophenotype": _immunophenotype, "cytogenetics": _cytogenetics,
    "genetics": _genetics, "extramedullary": _extramedullary, "mrd": _mrd, "treatment": _treatment,
    **monitoring.WRITERS,
}
