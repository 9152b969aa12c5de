"""FHIR R4 mapping of the treatment-monitoring findings, both ways.

| finding | written as | read from |
|---|---|---|
| `chemistry` | one lab Observation per analyte (LOINC; the mass or the moles code by the unit reported) | the same codes, grouped by their effective time like a blood count |
| `vitals` | vital-signs Observations: body temperature 8310-5, heart rate 8867-4, blood pressure panel 85354-9 (8480-6, 8462-4) | the same |
| `anthropometry` | body height 8302-2, body weight 29463-7, body surface area 8277-6 | the same |
| `methotrexate_level` | Observation 14836-1 with the hours from infusion start (allcare components) | the same |
| `asparaginase_activity` | Observation with allcare's code (no LOINC code was found) | the same |
| `pharmacogenetics` | Observation 53040-2 "Genetic variation's effect on drug metabolism" with gene studied 48018-6 (HGNC) and genotype 84413-4, as the Genomics Reporting IG writes a metaboliser status | the same |
| `dose` | MedicationAdministration (one administration) or MedicationRequest (a daily/weekly regimen: timing, bounds), dose with UCUM unit | allcare's own; a foreign MedicationAdministration of a monitored agent with a dose also gives a dose |
| `adverse_event` | AdverseEvent (actual) with the CTCAE term and grade as allcare extensions | AdverseEvents carrying a CTCAE grade |

Values keep the unit the lab reported (the case model converts); codes are from the LOINC and HGNC
tables, where none was found allcare's own URN codes are used rather than a guessed code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...engine.case import Quantity as CaseQuantity
from ...engine.case import units as U
from ...engine.case.adverse_terms import term_label
from ...engine.case.agents import agent_group, normalise_agent
from ...engine.case.quantity import dose_kind
from ...engine.case.units import UnitKind
from . import codes as C
from .model import Element, allcare_concept, coding, concept, extension, loinc, meta, period, quantity, resource

# Codes --------------------------------------------------------------------------------


@dataclass(frozen=True)
class LabCode:
    """An analyte's LOINC codes: written by the unit family reported (mass or moles), all read."""

    field: str
    kind: UnitKind
    mass: tuple[str, str] | None
    moles: tuple[str, str] | None
    also: tuple[str, ...] = ()

    def export(self, q: CaseQuantity) -> tuple[str, str]:
        unit = (q.reported or {}).get("unit")
        conventional = (self.kind.conventional is not None and isinstance(unit, str)
                        and self.kind.factor(unit) == self.kind.factor(self.kind.conventional))
        chosen = self.mass if (conventional and self.mass) or self.moles is None else self.moles
        return chosen  # type: ignore[return-value]

    def codes(self) -> tuple[str, ...]:
        return tuple(pair[0] for pair in (self.mass, self.moles) if pair) + self.also


SERUM = "in Serum or Plasma"
CHEMISTRY_CODES = (
    LabCode("potassium", U.POTASSIUM, None, ("2823-3", f"Potassium [Moles/volume] {SERUM}"), ("6298-4",)),
    LabCode("phosphate", U.PHOSPHATE, ("2777-1", f"Phosphate [Mass/volume] {SERUM}"), ("14879-1", f"Phosphate [Moles/volume] {SERUM}")),
    LabCode("calcium", U.CALCIUM, ("17861-6", f"Calcium [Mass/volume] {SERUM}"), ("2000-8", f"Calcium [Moles/volume] {SERUM}")),
    LabCode("calcium_corrected", U.CALCIUM, None, ("29265-6", f"Calcium [Moles/volume] corrected for albumin {SERUM}")),
    LabCode("ionized_calcium", U.CALCIUM, None, ("1994-3", "Calcium.ionized [Moles/volume] in Blood")),
    LabCode("uric_acid", U.URIC_ACID, ("3084-1", f"Urate [Mass/volume] {SERUM}"), ("14933-6", f"Urate [Moles/volume] {SERUM}")),
    LabCode("creatinine", U.CREATININE, ("2160-0", f"Creatinine [Mass/volume] {SERUM}"), ("14682-9", f"Creatinine [Moles/volume] {SERUM}")),
    LabCode("ldh", U.ENZYME, None, ("2532-0", f"Lactate dehydrogenase [Enzymatic activity/volume] {SERUM}"), ("14804-9",)),
    LabCode("alt", U.ENZYME, None, ("1742-6", f"Alanine aminotransferase [Enzymatic activity/volume] {SERUM}")),
    LabCode("ast", U.ENZYME, None, ("1920-8", f"Aspartate aminotransferase [Enzymatic activity/volume] {SERUM}")),
    LabCode("bilirubin", U.BILIRUBIN, ("1975-2", f"Bilirubin.total [Mass/volume] {SERUM}"), ("14631-6", f"Bilirubin.total [Moles/volume] {SERUM}")),
    LabCode("albumin", U.ALBUMIN, ("1751-7", f"Albumin [Mass/volume] {SERUM}"), None),
    LabCode("lipase", U.ENZYME, None, ("3040-3", f"Lipase [Enzymatic activity/volume] {SERUM}")),
    LabCode("amylase", U.ENZYME, None, ("1798-8", f"Amylase [Enzymatic activity/volume] {SERUM}")),
    LabCode("glucose", U.GLUCOSE, ("2345-7", f"Glucose [Mass/volume] {SERUM}"), ("14749-6", f"Glucose [Moles/volume] {SERUM}")),
    LabCode("fibrinogen", U.FIBRINOGEN, ("3255-7", "Fibrinogen [Mass/volume] in Platelet poor plasma by Coagulation assay"), None),
    LabCode("triglycerides", U.TRIGLYCERIDES, ("2571-8", f"Triglyceride [Mass/volume] {SERUM}"), ("14927-8", f"Triglyceride [Moles/volume] {SERUM}")),
)
CHEMISTRY_BY_CODE = {code: lab for lab in CHEMISTRY_CODES for code in lab.codes()}

VITAL_SIGNS_PROFILE = "http://hl7.org/fhir/StructureDefinition/"
VITALS = {  # field: (LOINC, display, kind, vital-signs profile)
    "temperature": ("8310-5", "Body temperature", U.TEMPERATURE, "bodytemp"),
    "heart_rate": ("8867-4", "Heart rate", U.HEART_RATE, "heartrate"),
}
BP_PANEL, SYSTOLIC, DIASTOLIC = "85354-9", "8480-6", "8462-4"
BODY = {  # field: (LOINC, display, kind, profile)
    "height": ("8302-2", "Body height", U.HEIGHT, "bodyheight"),
    "weight": ("29463-7", "Body weight", U.WEIGHT, "bodyweight"),
    "bsa": ("8277-6", "Body surface area", U.BODY_SURFACE, None),
}
VITALS_BY_CODE = {code: name for name, (code, *_rest) in VITALS.items()} | {SYSTOLIC: "systolic_bp", DIASTOLIC: "diastolic_bp"}
BODY_BY_CODE = {code: name for name, (code, *_rest) in BODY.items()}
MTX_LEVEL = ("14836-1", "Methotrexate [Moles/volume] in Serum or Plasma")
PGX_EFFECT = ("53040-2", "Genetic variation's effect on drug metabolism")
GENOTYPE = ("84413-4", "Genotype display name")
HGNC_PGX = {"TPMT": "HGNC:12014", "NUDT15": "HGNC:23063"}

A_ASPARAGINASE = "asparaginase-activity"
A_HOURS_AFTER_START = "hours-after-infusion-start"
A_INFUSION_HOURS = "infusion-hours"
A_PREPARATION = "asparaginase-preparation"
A_DAYS_AFTER_DOSE = "days-after-dose"
A_MTX_DOSE = "methotrexate-dose"
A_PHENOTYPE_METHOD = "pharmacogenetics-method"
ALLCARE_ADVERSE_TERMS = "urn:allcare:adverse-event-terms"
ALLCARE_ROUTES = "urn:allcare:routes"
EXT_DOSE_FREQUENCY = C.ext("dose-frequency")  # marks a dose finding's medication resource
EXT_DAYS_PER_WEEK = C.ext("days-per-week")
EXT_INFUSION_HOURS = C.ext("infusion-hours")
EXT_TIME_OF_DAY = C.ext("time-of-day")
EXT_SUSTAINED_MINUTES = C.ext("sustained-minutes")
EXT_CTCAE_GRADE = C.ext("ctcae-grade")
EXT_CTCAE_VERSION = C.ext("ctcae-version")
EXT_EVENT_END = C.ext("adverse-event-end")
EXT_SUSPECTED_AGENT = C.ext("suspected-agent")
SERIOUSNESS = "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness"
VITAL_CATEGORY = "vital-signs"

FREQUENCY_TIMING = {  # frequency: (times, period, unit)
    "daily": (1, 1, "d"), "weekly": (1, 1, "wk"), "twice_weekly": (2, 1, "wk"), "every_2_weeks": (1, 2, "wk"),
    "every_3_weeks": (1, 3, "wk"), "every_4_weeks": (1, 4, "wk"),
}
TIMING_FREQUENCY = {value: key for key, value in FREQUENCY_TIMING.items()}
MONITORED_GROUPS = ("thiopurine", "antifolate", "anthracycline", "asparaginase")


def _quantity(q: CaseQuantity, kind: UnitKind) -> Element:
    """The value as reported (unit, comparator) with its UCUM code: the counts' writer."""
    from .export_findings import value_quantity

    return value_quantity(q, kind)[0]


def _range(q: CaseQuantity, kind: UnitKind) -> list:
    from .export_findings import reference_range

    return reference_range(q, kind)


# Export ---------------------------------------------------------------------------------


def _observation(ctx, suffix: str | None, code, category: str = "laboratory", profile: str | None = None, **fields):
    return resource(
        "Observation", id=ctx.child(suffix) if suffix else ctx.primary_id, meta=meta(profile) if profile else None,
        status="final", category=[concept(coding(C.OBSERVATION_CATEGORY, category, category.replace("-", " ").capitalize()))],
        code=code, subject=ctx.patient, effectiveDateTime=ctx.date, **fields, **ctx.common,
    )


def _write_chemistry(ctx, f) -> list:
    members = []
    for lab in CHEMISTRY_CODES:
        q = getattr(f, lab.field)
        if q is None:
            continue
        code, display = lab.export(q)
        members.append(_observation(ctx, lab.field.replace("_", "-"), loinc(code, display), profile=C.US_CORE_LAB,
                                    valueQuantity=_quantity(q, lab.kind), referenceRange=_range(q, lab.kind)))
    return members


def _write_vitals(ctx, f) -> list:
    out = []
    extra = []
    if f.time:
        extra.append(extension(EXT_TIME_OF_DAY, valueTime=f"{f.time}:00"))
    for name, (code, display, kind, profile) in VITALS.items():
        q = getattr(f, name)
        if q is None:
            continue
        fields: dict[str, Any] = {"valueQuantity": _quantity(q, kind)}
        exts = list(extra)
        if name == "temperature":
            if f.temperature_site:
                fields["bodySite"] = allcare_concept(f.temperature_site)
            if f.sustained_minutes is not None:
                exts.append(extension(EXT_SUSTAINED_MINUTES, valueInteger=f.sustained_minutes))
        obs = _observation(ctx, name.replace("_", "-"), loinc(code, display), VITAL_CATEGORY, VITAL_SIGNS_PROFILE + profile,
                           **fields)
        out.append({**obs, "extension": obs.get("extension", []) + exts} if exts else obs)
    if f.systolic_bp is not None or f.diastolic_bp is not None:
        comps = [{"code": loinc(code, display), "valueQuantity": _quantity(q, U.BLOOD_PRESSURE)}
                 for code, display, q in ((SYSTOLIC, "Systolic blood pressure", f.systolic_bp),
                                          (DIASTOLIC, "Diastolic blood pressure", f.diastolic_bp)) if q is not None]
        obs = _observation(ctx, "bp", loinc(BP_PANEL, "Blood pressure panel with all children optional"), VITAL_CATEGORY,
                           component=comps)
        out.append({**obs, "extension": obs.get("extension", []) + extra} if extra else obs)
    return out


def _write_anthropometry(ctx, f) -> list:
    out = []
    for name, (code, display, kind, profile) in BODY.items():
        q = getattr(f, name)
        if q is not None:
            out.append(_observation(ctx, name, loinc(code, display), VITAL_CATEGORY,
                                    VITAL_SIGNS_PROFILE + profile if profile else None, valueQuantity=_quantity(q, kind)))
    return out


def _hours(code: str, value: float) -> Element:
    return {"code": allcare_concept(code), "valueQuantity": quantity(value, "h", "h")}


def _write_mtx(ctx, f) -> list:
    comps = [_hours(A_HOURS_AFTER_START, f.hours_after_start)]
    if f.infusion_hours is not None:
        comps.append(_hours(A_INFUSION_HOURS, f.infusion_hours))
    if f.dose is not None:
        comps.append({"code": allcare_concept(A_MTX_DOSE), "valueQuantity": _dose_quantity(f.dose)})
    return [_observation(ctx, None, loinc(*MTX_LEVEL), profile=C.US_CORE_LAB, valueQuantity=_quantity(f.value, U.METHOTREXATE_CONC),
                         component=comps)]


def _write_asparaginase(ctx, f) -> list:
    comps = []
    if f.preparation:
        comps.append({"code": allcare_concept(A_PREPARATION), "valueCodeableConcept": allcare_concept(f.preparation)})
    if f.days_after_dose is not None:
        comps.append({"code": allcare_concept(A_DAYS_AFTER_DOSE), "valueQuantity": quantity(f.days_after_dose, "d", "d")})
    return [_observation(ctx, None, allcare_concept(A_ASPARAGINASE, "Asparaginase activity [Enzymatic activity/volume] in Serum"),
                         valueQuantity=_quantity(f.value, U.ASPARAGINASE_ACTIVITY), component=comps)]


def _write_pharmacogenetics(ctx, f) -> list:
    gene = concept(coding(C.HGNC, HGNC_PGX[f.gene], f.gene), text=f.gene)
    comps = [{"code": loinc(C.GENE_STUDIED, "Gene studied [ID]"), "valueCodeableConcept": gene}]
    if f.diplotype:
        comps.append({"code": loinc(*GENOTYPE), "valueCodeableConcept": concept(text=f"{f.gene}{f.diplotype}")})
    if f.method:
        comps.append({"code": allcare_concept(A_PHENOTYPE_METHOD), "valueCodeableConcept": allcare_concept(f.method)})
    value: dict[str, Any] = (
        {"valueCodeableConcept": allcare_concept(f.phenotype, f.phenotype.replace("_", " ").capitalize())} if f.phenotype
        else {"dataAbsentReason": concept(coding(C.DATA_ABSENT_REASON, "not-asked"))})
    return [_observation(ctx, None, loinc(*PGX_EFFECT), component=comps, **value)]


def _dose_quantity(q: CaseQuantity) -> Element:
    unit = (q.reported or {}).get("unit", q.unit)
    return _quantity(q, dose_kind(unit) or U.DOSE_AMOUNT)


def _drug(agent: str):
    from .export_findings import agent_concept

    return agent_concept(agent)


def _write_dose(ctx, f) -> list:
    exts = [*ctx.common["extension"], extension(EXT_DOSE_FREQUENCY, valueCode=f.frequency)]
    if f.days_per_week is not None:
        exts.append(extension(EXT_DAYS_PER_WEEK, valueInteger=f.days_per_week))
    if f.infusion_hours is not None:
        exts.append(extension(EXT_INFUSION_HOURS, valueDecimal=f.infusion_hours))
    route = concept(coding(ALLCARE_ROUTES, f.route), text=f.route) if f.route else None
    common = dict(identifier=ctx.common["identifier"], extension=exts, subject=ctx.patient, medicationCodeableConcept=_drug(f.agent))
    if f.frequency == "once":
        return [resource(
            "MedicationAdministration", id=ctx.primary_id, status="completed", effectiveDateTime=f.start,
            dosage={"dose": _dose_quantity(f.dose), **({"route": route} if route else {})}, **common,
        )]
    times, length, unit = FREQUENCY_TIMING[f.frequency]
    timing = {"repeat": {"frequency": times, "period": length, "periodUnit": unit, "boundsPeriod": period(f.start, f.end)}}
    return [resource(
        "MedicationRequest", id=ctx.primary_id, status="completed" if f.end else "active", intent="order",
        authoredOn=f.start, dosageInstruction=[{"timing": timing, **({"route": route} if route else {}),
                                                "doseAndRate": [{"doseQuantity": _dose_quantity(f.dose)}]}],
        **common,
    )]


def _write_adverse_event(ctx, f) -> list:
    exts = [*ctx.common["extension"], extension(EXT_CTCAE_GRADE, valueInteger=f.grade),
            extension(EXT_CTCAE_VERSION, valueString=f.ctcae_version)]
    if f.end is not None:
        exts.append(extension(EXT_EVENT_END, valueDate=f.end))
    if f.agent:
        exts.append(extension(EXT_SUSPECTED_AGENT, valueString=f.agent))
    serious = None
    if f.serious is not None:
        code = "serious" if f.serious else "non-serious"
        serious = concept(coding(SERIOUSNESS, code, code.capitalize()))
    return [resource(
        "AdverseEvent", id=ctx.primary_id, actuality="actual", subject=ctx.patient, date=f.start,
        event=concept(coding(ALLCARE_ADVERSE_TERMS, f.term, term_label(f.term)), text=term_label(f.term)),
        seriousness=serious, identifier=ctx.common["identifier"][0], extension=exts,
    )]


WRITERS = {
    "chemistry": _write_chemistry, "vitals": _write_vitals, "anthropometry": _write_anthropometry,
    "methotrexate_level": _write_mtx, "asparaginase_activity": _write_asparaginase,
    "pharmacogenetics": _write_pharmacogenetics, "dose": _write_dose, "adverse_event": _write_adverse_event,
}
PRIMARY_TYPES = {
    "chemistry": "Observation", "vitals": "Observation", "anthropometry": "Observation", "methotrexate_level": "Observation",
    "asparaginase_activity": "Observation", "pharmacogenetics": "Observation", "dose": "MedicationAdministration",
    "adverse_event": "AdverseEvent",
}
NATURAL_DATES = {"dose": "start", "adverse_event": "start"}


# Import: classification -------------------------------------------------------------------


def observation_kind(obs, code_in) -> str | None:
    """The monitoring kind of an Observation (None: not one of these)."""
    own = code_in(obs.code, C.ALLCARE_CODES)
    if own == A_ASPARAGINASE:
        return "asparaginase_activity"
    loinc_code = code_in(obs.code, C.LOINC)
    if loinc_code is None:
        return None
    if loinc_code in CHEMISTRY_BY_CODE:
        return "chemistry"
    if loinc_code in VITALS_BY_CODE or loinc_code == BP_PANEL:
        return "vitals"
    if loinc_code in BODY_BY_CODE:
        return "anthropometry"
    if loinc_code == MTX_LEVEL[0]:
        return "methotrexate_level"
    if loinc_code == PGX_EFFECT[0]:
        return "pharmacogenetics"
    return None


def medication_kind(resource, ext_value) -> str | None:
    """``dose`` for allcare's own dose resources (foreign administrations stay treatment; see :func:`foreign_dose`)."""
    return "dose" if ext_value(resource, EXT_DOSE_FREQUENCY) is not None else None


FINDING_TYPES = {kind: kind for kind in WRITERS}
GROUPED_BY_TIME = ("chemistry", "vitals", "anthropometry")


# Import: findings ---------------------------------------------------------------------------


def _builders():
    """The builders, with the import helpers (imported late: import_findings imports this module)."""
    from .import_findings import read_quantity
    from .read_helpers import as_date, code_in, component_with, components, concept_text, effective, ext_value, value_quantity

    def quantity_of(m, q, kind, b, path="valueQuantity", ranges=None):
        return read_quantity(q, kind, m, path, b, ranges[0] if ranges else None)

    def chemistry(members, b):
        out: dict[str, Any] = {}
        for m in members:
            lab = CHEMISTRY_BY_CODE.get(code_in(m.resource.code, C.LOINC) or "")
            if lab is None:
                b.unused(m, "not a chemistry analyte allcare reads")
                continue
            if lab.field in out or value_quantity(m.resource) is None:
                b.unused(m, f"no numeric value, or a second {lab.field} in the same draw (first kept)")
                continue
            value = quantity_of(m, value_quantity(m.resource), lab.kind, b, ranges=m.resource.referenceRange)
            if value is not None:
                out[lab.field] = value
                b.used(m)
        return out or None

    def vitals(members, b):
        out: dict[str, Any] = {}
        for m in members:
            obs = m.resource
            code = code_in(obs.code, C.LOINC)
            time = _ext_time(obs) or _clock(getattr(obs, "effectiveDateTime", None))
            if code == BP_PANEL or code in (SYSTOLIC, DIASTOLIC):
                parts = [(code, obs.valueQuantity)] if code != BP_PANEL else [
                    (code_in(c.code, C.LOINC), c.valueQuantity) for c in components(obs)]
                for part, q in parts:
                    name = {SYSTOLIC: "systolic_bp", DIASTOLIC: "diastolic_bp"}.get(part or "")
                    if name and q is not None and name not in out:
                        value = quantity_of(m, q, U.BLOOD_PRESSURE, b)
                        if value is not None:
                            out[name] = value
            else:
                name = VITALS_BY_CODE[code]
                if name in out or value_quantity(obs) is None:
                    b.unused(m, f"no numeric value, or a second {name} at the same time (first kept)")
                    continue
                value = quantity_of(m, value_quantity(obs), VITALS[name][2], b)
                if value is None:
                    continue
                out[name] = value
                if name == "temperature":
                    site = code_in(obs.bodySite, C.ALLCARE_CODES) or _site(concept_text(obs.bodySite))
                    if site:
                        out["temperature_site"] = site
                    minutes = ext_value(obs, EXT_SUSTAINED_MINUTES)
                    if minutes is not None:
                        out["sustained_minutes"] = int(minutes)
            if time and "time" not in out:
                out["time"] = str(time)[:5]
            b.used(m)
        return out or None

    def anthropometry(members, b):
        out: dict[str, Any] = {}
        for m in members:
            name = BODY_BY_CODE[code_in(m.resource.code, C.LOINC)]
            if name in out or m.resource.valueQuantity is None:
                b.unused(m, f"no numeric value, or a second {name} at the same time (first kept)")
                continue
            value = quantity_of(m, m.resource.valueQuantity, BODY[name][2], b)
            if value is not None:
                out[name] = value
                b.used(m)
        return out or None

    def hours(obs, code):
        comp = component_with(obs, C.ALLCARE_CODES, code)
        return comp.valueQuantity.value if comp is not None and comp.valueQuantity is not None else None

    def methotrexate_level(members, b):
        m = members[0]
        obs = m.resource
        after = hours(obs, A_HOURS_AFTER_START)
        if after is None or obs.valueQuantity is None:
            b.unused(m, "methotrexate level without a value or the hours from infusion start (allcare reads the "
                        "consensus lines against hours from the start of the infusion)")
            return None
        value = quantity_of(m, obs.valueQuantity, U.METHOTREXATE_CONC, b)
        if value is None:
            return None
        out: dict[str, Any] = {"value": value, "hours_after_start": after}
        infusion = hours(obs, A_INFUSION_HOURS)
        if infusion is not None:
            out["infusion_hours"] = infusion
        dose = component_with(obs, C.ALLCARE_CODES, A_MTX_DOSE)
        if dose is not None and dose.valueQuantity is not None:
            out["dose"] = {"value": dose.valueQuantity.value, "unit": dose.valueQuantity.unit or dose.valueQuantity.code}
        b.used(m)
        return out

    def asparaginase_activity(members, b):
        m = members[0]
        obs = m.resource
        if obs.valueQuantity is None:
            b.unused(m, "asparaginase activity without a numeric value")
            return None
        value = quantity_of(m, obs.valueQuantity, U.ASPARAGINASE_ACTIVITY, b)
        if value is None:
            return None
        out: dict[str, Any] = {"value": value}
        prep = component_with(obs, C.ALLCARE_CODES, A_PREPARATION)
        if prep is not None:
            out["preparation"] = code_in(prep.valueCodeableConcept, C.ALLCARE_CODES)
        days = component_with(obs, C.ALLCARE_CODES, A_DAYS_AFTER_DOSE)
        if days is not None and days.valueQuantity is not None:
            out["days_after_dose"] = days.valueQuantity.value
        b.used(m)
        return out

    def pharmacogenetics(members, b):
        m = members[0]
        obs = m.resource
        gene_comp = next((c for c in components(obs) if code_in(c.code, C.LOINC) == C.GENE_STUDIED), None)
        gene = None
        if gene_comp is not None:
            hgnc = code_in(gene_comp.valueCodeableConcept, C.HGNC)
            gene = {v: k for k, v in HGNC_PGX.items()}.get(hgnc or "") or (concept_text(gene_comp.valueCodeableConcept) or "").upper()
        if gene not in HGNC_PGX:
            b.unused(m, "metaboliser status of a gene other than TPMT or NUDT15 (allcare reads thiopurine genes only)")
            return None
        out: dict[str, Any] = {"gene": gene}
        if obs.valueCodeableConcept is not None:
            out["phenotype"] = code_in(obs.valueCodeableConcept, C.ALLCARE_CODES) or concept_text(obs.valueCodeableConcept)
        genotype = next((c for c in components(obs) if code_in(c.code, C.LOINC) == GENOTYPE[0]), None)
        if genotype is not None:
            text = concept_text(genotype.valueCodeableConcept) or ""
            out["diplotype"] = text.upper().removeprefix(gene)
        method = component_with(obs, C.ALLCARE_CODES, A_PHENOTYPE_METHOD)
        if method is not None:
            out["method"] = code_in(method.valueCodeableConcept, C.ALLCARE_CODES)
        b.used(m)
        return out

    def dose(members, b):
        from .import_findings import drug_name

        m = members[0]
        r = m.resource
        agent = drug_name(m, b.medications)
        if not agent:
            b.unused(m, "medication has no name or code allcare can read")
            return None
        frequency = ext_value(r, EXT_DOSE_FREQUENCY)
        if r.resource_type == "MedicationAdministration":
            dosage = r.dosage
            q, route, start, end = (dosage.dose if dosage else None), (dosage.route if dosage else None), effective(r)[0], None
        else:
            instruction = (r.dosageInstruction or [None])[0]
            q = instruction.doseAndRate[0].doseQuantity if instruction and instruction.doseAndRate else None
            route = instruction.route if instruction else None
            bounds = instruction.timing.repeat.boundsPeriod if instruction and instruction.timing and instruction.timing.repeat else None
            start, end = (as_date(bounds.start), as_date(bounds.end)) if bounds else (as_date(r.authoredOn), None)
        if q is None or start is None:
            b.unused(m, "dose without an amount or a start date")
            return None
        out: dict[str, Any] = {"agent": agent, "dose": {"value": q.value, "unit": q.unit or q.code},
                               "frequency": frequency or "once", "start": start.isoformat()}
        if end is not None:
            out["end"] = end.isoformat()
        if route is not None:
            out["route"] = code_in(route, ALLCARE_ROUTES) or "other"
        for key, url in (("days_per_week", EXT_DAYS_PER_WEEK), ("infusion_hours", EXT_INFUSION_HOURS)):
            value = ext_value(r, url)
            if value is not None:
                out[key] = value
        b.used(m)
        return out

    def adverse_event(members, b):
        m = members[0]
        r = m.resource
        grade = ext_value(r, EXT_CTCAE_GRADE)
        term = code_in(r.event, ALLCARE_ADVERSE_TERMS) or concept_text(r.event)
        if grade is None or not term:
            b.unused(m, "adverse event without a CTCAE term and grade (allcare extension ctcae-grade)")
            return None
        start = as_date(r.date)
        if start is None:
            b.unused(m, "adverse event without the date it happened (AdverseEvent.date)")
            return None
        out: dict[str, Any] = {"term": term, "grade": grade, "start": start.isoformat()}
        end = as_date(ext_value(r, EXT_EVENT_END))
        if end is not None:
            out["end"] = end.isoformat()
        for key, url in (("agent", EXT_SUSPECTED_AGENT), ("ctcae_version", EXT_CTCAE_VERSION)):
            value = ext_value(r, url)
            if value is not None:
                out[key] = value
        serious = code_in(r.seriousness, SERIOUSNESS) if r.seriousness is not None else None
        if serious:
            out["serious"] = serious == "serious"
        b.used(m)
        return out

    return {"chemistry": chemistry, "vitals": vitals, "anthropometry": anthropometry,
            "methotrexate_level": methotrexate_level, "asparaginase_activity": asparaginase_activity,
            "pharmacogenetics": pharmacogenetics, "dose": dose, "adverse_event": adverse_event}


SITES = {"oral": "oral", "mouth": "oral", "axilla": "axillary", "axillary": "axillary", "tympanic": "tympanic", "ear": "tympanic",
         "rectal": "rectal", "rectum": "rectal", "temporal": "temporal", "forehead": "temporal"}


def _site(text: str | None) -> str | None:
    lowered = (text or "").lower()
    return next((site for word, site in SITES.items() if word in lowered), None)


def _ext_time(resource) -> str | None:
    """allcare's time-of-day extension (valueTime, which the generic extension reader does not read)."""
    for e in getattr(resource, "extension", None) or []:
        if e.url == EXT_TIME_OF_DAY and e.valueTime is not None:
            return str(e.valueTime)
    return None


def _clock(value: str | None) -> str | None:
    """HH:MM of a dateTime that carries a time, as written (a bare date has none)."""
    return value[11:16] if value and len(value) >= 16 and value[10] == "T" else None


def foreign_dose(m, medications: dict[str, str]) -> dict | None:
    """A dose finding from a foreign MedicationAdministration (member ``m``) of an agent monitoring reads, or None.

    The administration still feeds its treatment block as before; the dose (amount and unit as
    given) is added beside it, so cumulative anthracyclines and maintenance doses see it.
    """
    from .import_findings import drug_name
    from .read_helpers import code_in, effective

    resource = m.resource
    if resource.resource_type != "MedicationAdministration" or resource.dosage is None or resource.dosage.dose is None:
        return None
    name = drug_name(m, medications)
    if not name or agent_group(normalise_agent(name)) not in MONITORED_GROUPS:
        return None
    q = resource.dosage.dose
    unit = next((u for u in (q.unit, q.code) if u and dose_kind(u) is not None), None)
    start = effective(resource)[0]
    if unit is None or q.value is None or start is None:
        return None
    out = {"type": "dose", "agent": name, "dose": {"value": q.value, "unit": unit}, "start": start.isoformat()}
    route = code_in(resource.dosage.route, ALLCARE_ROUTES) if resource.dosage.route is not None else None
    if route:
        out["route"] = route
    return out
