"""One patient's resources -> a validated case, with the mapping report.

Resources are grouped into findings in this order of evidence:

1. allcare's own finding identifier (``urn:allcare:finding``): everything that
   carries the same value is one finding, however it arrived (a Bundle, a
   CDS Hooks prefetch of only the Observations, two NDJSON files);
2. a container from the source: a DiagnosticReport's ``result``, a panel
   Observation's ``hasMember``, a CarePlan's activity outcomes;
3. results of one draw: blood-count or CSF Observations with the same
   effective time; administrations started on the same day;
4. otherwise each resource on its own.

A finding's ``id`` is the identifier value, else the container's ``Type/id``,
else the member references joined with ``+``: the same input always gives the
same ids, which is what makes a second import change nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from ...engine.case import CASE_SCHEMA, Case, CaseValidationError, case_from_dict
from . import codes as C
from .classify import FINDING_TYPE, unused_reason
from .import_findings import Builder, build_finding, skipped_status
from .import_patient import derived_summary, patient_block, patient_identifiers, read_condition, stable_patient_id
from .item import Item, server_base
from .monitoring import GROUPED_BY_TIME, foreign_dose
from .problems import FhirInputError, FhirProblem, MappingReport
from .read_helpers import as_date, codings, effective, effective_key, identifier_value, ref_target, short_ref
from .versions import current_versions

CONTAINER_KINDS = ("report", "genetics-report", "cbc-panel", "csf-panel", "treatment-plan")


class Index:
    """Resolve references (relative, absolute, ``urn:uuid``, ``#contained``, or a Patient identifier) to items."""

    def __init__(self, items: list[Item]):
        self.by_ref: dict[str, Item] = {}
        self.by_url: dict[str, Item] = {}
        self.patients_by_identifier: dict[tuple[str, str], str] = {}
        self._resolved: dict[str, Item | None] = {}  # each reference text looked up once (a thousand results name one patient)
        # Whether one Type/id is on several servers (importer.distinguish_servers named them by fullUrl): then
        # a relative reference is first read against the server of the resource that makes it.
        self.by_server = False
        for item in items:
            self._add(item)
            self.by_server = self.by_server or "://" in item.ref

    def _add(self, item: Item) -> None:
        if item.resource.id:
            self.by_ref.setdefault(item.ref, item)
        if item.full_url:
            self.by_url.setdefault(item.full_url, item)
        if item.rtype == "Patient":
            for ident in item.resource.identifier or []:
                if ident.system and ident.value:
                    key, name = (ident.system, ident.value), item.full_url or item.ref
                    if self.patients_by_identifier.setdefault(key, name) != name:
                        self.patients_by_identifier[key] = ""  # two patients share it: it names neither

    def resolve(self, reference: str | None, within: Item | None = None) -> Item | None:
        """The item a reference names; ``#id`` is looked up in the resource that contains ``within``."""
        if not reference:
            return None
        if reference.startswith("#"):
            root = within
            while root is not None and root.container is not None:
                root = root.container
            return self.by_ref.get(f"{root.ref}{reference}") if root is not None and reference != "#" else root
        if self.by_server and within is not None and "://" not in reference and not reference.startswith("urn:"):
            base = server_of(within)  # a relative reference is read against the server of the resource making it
            found = self.by_url.get(f"{base}/{reference}") if base else None
            if found is not None:
                return found
        if reference in self._resolved:
            return self._resolved[reference]
        if "?" in reference:
            found = self._conditional(reference)
        else:
            found = self.by_url.get(reference) or self.by_ref.get(reference) or self.by_ref.get(short_ref(reference) or "")
        self._resolved[reference] = found
        return found

    def _conditional(self, reference: str) -> Item | None:
        """A conditional reference of a transaction, ``Patient?identifier=system|value`` (FHIR R4
        https://hl7.org/fhir/R4/http.html#trules): the Patient of the input with that identifier; other searches
        name nothing allcare can resolve."""
        rtype, _, query = reference.partition("?")
        params = parse_qsl(query, keep_blank_values=True)
        if rtype != "Patient" or len(params) != 1 or params[0][0] != "identifier" or "|" not in params[0][1]:
            return None
        system, value = params[0][1].split("|", 1)
        key = self.patients_by_identifier.get((system, value))
        return (self.by_url.get(key) or self.by_ref.get(key)) if key else None

    def patient_by_identifier(self, identifier) -> str | None:
        """A logical reference (``subject.identifier``) to a Patient of the input."""
        if identifier is None or not identifier.system or not identifier.value:
            return None
        return self.patients_by_identifier.get((identifier.system, identifier.value))


def server_of(item: Item) -> str | None:
    """The server base of the resource ``item`` is, or is contained in (see :func:`.item.server_base`)."""
    while item.container is not None:
        item = item.container
    return server_base(item)


@dataclass
class PatientImport:
    """One patient's import: the validated case and what became of every resource."""

    patient_id: str
    case: Case
    report: MappingReport
    sources: list[list[str]] = field(default_factory=list)  # resources behind each finding, in order
    identifiers: list[tuple[str, str]] = field(default_factory=list)  # the Patient's (system, value) identifiers


@dataclass
class _Group:
    finding_id: str | None
    explicit: bool
    members: list[Item] = field(default_factory=list)


def assemble_patient(patient: Item, items: list[Item], index: Index, medications: dict[str, str] | None = None) -> PatientImport:
    """Build and validate one patient's case; :class:`FhirInputError` names every bad resource and field."""
    report = MappingReport()
    items = current_versions(items, report)
    problems: list[FhirProblem] = []
    pid = stable_patient_id(patient.resource, patient.full_url)
    if "://" in patient.ref and not identifier_value(patient.resource, C.ALLCARE_PATIENT_ID):
        # one Patient id on two servers (importer.distinguish_servers): the id of each names its server too
        pid = f"{pid}@{hashlib.sha256(patient.ref.encode()).hexdigest()[:8]}"[:200]
    patient_data = patient_block(patient.resource, pid, patient.ref, report)
    conditions: list[str] = []
    diagnosis_dates: list[dt.date] = []
    consumed, covered = _containers(items, index, report)
    withdrawn = _withdrawn(items, index)
    samples, collected = specimen_samples(items, index)
    groups: dict[str, _Group] = {}
    for item in items:
        r, kind = item.resource, item.kind
        if kind == "derived":
            report.add(item.ref, "derived", "a conclusion allcare recomputes from the findings")
            report.source_conclusions.append(derived_summary(r))
            continue
        if kind == "condition":
            read_condition(r, item.ref, report, conditions, diagnosis_dates)
            continue
        if item.rtype == "Medication" and item.ref in (medications or {}):  # a contained drug, read by name
            report.add(item.ref, "mapped", finding="medication names")
            continue
        if kind is None or kind == "patient":
            report.add(item.ref, "unmapped", unused_reason(r))
            continue
        status = skipped_status(item)
        if status:
            report.add(item.ref, "skipped", f"status {status}")
            continue
        if item.ref in withdrawn:
            report.add(item.ref, "skipped", f"a result of {withdrawn[item.ref]}: withdrawn with it")
            continue
        key, finding_id, explicit = _group_key(item, kind, consumed, covered, collected)
        if key is None:
            report.add(item.ref, "skipped", f"covered by {covered[item.ref]} (the administration of this order)")
            continue
        group = groups.get(key)
        if group is None:
            group = groups[key] = _Group(finding_id, explicit)
        group.members.append(item)

    findings: list[dict] = []
    sources: list[list[str]] = []
    for group in _split_by_draw(groups, collected).values():
        for finding_type, members, finding_id in _partitions(group):
            builder = Builder(report, finding_id, group.explicit, medications=medications or {}, samples=samples,
                              collected=collected)
            finding = build_finding(finding_type, members, builder) if finding_type else None
            problems += builder.problems
            if finding is None and finding_type is None:
                for m in members:
                    report.add(m.ref, "unmapped", unused_reason(m.resource))
            if finding is not None:
                findings.append(finding)
                sources.append([m.ref for m in members])
            for m in members if not group.explicit and finding_type == "treatment" else []:
                dose = foreign_dose(m, medications or {})  # the administration's dose, beside its block
                if dose is not None:
                    findings.append({**dose, "id": f"{m.ref}#dose"[:200]})
                    sources.append([m.ref])
    if problems:
        raise FhirInputError(problems)
    declared = patient_data.pop("diagnosis_date", None)
    data: dict[str, Any] = {"schema": CASE_SCHEMA, "patient": {**patient_data, "conditions": conditions} if conditions else patient_data,
                            "findings": findings}
    if declared or diagnosis_dates:
        data["diagnosis_date"] = declared or min(diagnosis_dates).isoformat()
    case = _valid_case(data, sources, patient.ref, report)
    return PatientImport(patient_id=case.patient.id, case=case, report=report, sources=sources,
                         identifiers=patient_identifiers(patient.resource))


def specimen_samples(items: list[Item], index: Index) -> tuple[dict[str, str], dict[str, str]]:
    """(each Observation's sample, each result's specimen collection time), read from the Specimens they name.

    The sample (``marrow``, ``blood``, ``csf``) is read from the type of the Specimen an Observation's
    ``specimen`` names (FHIR R4 Observation.specimen, "the specimen that was used when this observation was
    made"; the type's codes in :data:`.codes.SPECIMEN_SAMPLE`); an Observation whose specimen is absent, not in
    the input or of another type has none.

    The collection time (``Specimen.collection.collected[x]``, as written) is kept for an Observation or
    DiagnosticReport without effective[x]: its sample was taken then (when its specimens name several times,
    none is kept).
    """
    samples: dict[str, str] = {}
    collected: dict[str, str] = {}
    for item in items:
        rtype = item.rtype
        if rtype == "Observation":
            if item.resource.specimen is None:
                continue
            references = [item.resource.specimen]
        elif rtype == "DiagnosticReport" and item.resource.specimen:
            references = item.resource.specimen
        else:
            continue
        specimens = [found for reference in references
                     if (found := index.resolve(ref_target(reference), item)) is not None and found.rtype == "Specimen"]
        if not specimens:  # not in the input (a prefetch, a search): the reference's words, if any, name the sample
            display = references[0].display if references and item.rtype == "Observation" else None
            sample = next((name for words, name in C.SPECIMEN_WORDS if display and words.search(display)), None)
            if sample is not None:
                samples[item.ref] = sample
            continue
        sample = next((C.SPECIMEN_SAMPLE[(c.system, c.code)] for c in codings(specimens[0].resource.type)
                       if (c.system, c.code) in C.SPECIMEN_SAMPLE), None)
        if sample is not None and item.rtype == "Observation":
            samples[item.ref] = sample
        times = {time for specimen in specimens if (time := _collected(specimen.resource)) is not None}
        if len(times) == 1 and effective_key(item.resource) is None:
            collected[item.ref] = times.pop()
    return samples, collected


def _collected(specimen) -> str | None:
    collection = specimen.collection
    if collection is None:
        return None
    period = collection.collectedPeriod
    return collection.collectedDateTime or (period.start if period is not None else None)


# Resources that may list others (a report's results, a panel's members, a plan's outcomes, an order's administration).
_CONTAINER_TYPES = frozenset({"DiagnosticReport", "Observation", "CarePlan", "MedicationAdministration"})


def _containers(items: list[Item], index: Index, report: MappingReport) -> tuple[dict[str, str], dict[str, str]]:
    """Members claimed by a container of the source, and orders covered by their administration."""
    consumed: dict[str, str] = {}
    covered: dict[str, str] = {}
    for item in items:
        r, rtype = item.resource, item.rtype
        if item.own_id or rtype not in _CONTAINER_TYPES:
            continue
        targets: list[tuple[str, Any]] = []
        if rtype == "DiagnosticReport":
            targets = [(f"result[{n}]", ref) for n, ref in enumerate(r.result or [])]
        elif rtype == "Observation":
            if r.hasMember:
                targets = [(f"hasMember[{n}]", ref) for n, ref in enumerate(r.hasMember)]
        elif rtype == "CarePlan" and item.kind == "treatment-plan":
            targets = [(f"activity[{a}].outcomeReference[{n}]", ref) for a, act in enumerate(r.activity or [])
                       for n, ref in enumerate(act.outcomeReference or [])]
        elif rtype == "MedicationAdministration" and r.request is not None:
            target = index.resolve(ref_target(r.request), item)
            if target is not None:
                covered[target.ref] = item.ref
        for path, ref in targets:
            target = index.resolve(ref_target(ref), item)
            if target is None:
                report.partly(item.ref, f"{path} {ref_target(ref)!r} is not in the input: read without it")
            else:
                consumed.setdefault(target.ref, item.ref)
    return consumed, covered


def _split_by_draw(groups: dict[str, _Group], collected: dict[str, str]) -> dict[str, _Group]:
    """A report's or panel's results of several days (a cumulative report) as one group per day of sampling.

    A container groups its results; but results sampled on different days are different draws (their
    effective[x], else their Specimen's collection), each its own finding, dated by its own day (id
    ``<container>@<day>``). Results without a day of their own, and the container itself, go with the
    container's day (else the first). A treatment plan's administrations are never split: a block spans days.
    """
    out: dict[str, _Group] = {}
    for key, group in groups.items():
        if group.explicit or not key.startswith(("c:DiagnosticReport/", "c:Observation/")) or len(group.members) < 2:
            out[key] = group
            continue
        days: dict[dt.date | None, list[Item]] = {}
        for m in group.members:
            day = effective(m.resource, issued=False)[0] or as_date(collected.get(m.ref))
            days.setdefault(day, []).append(m)
        dated = sorted(d for d in days if d is not None)
        if len(dated) < 2:
            out[key] = group
            continue
        undated = days.pop(None, [])
        container = next((m for m in group.members if key == f"c:{m.ref}"), None)
        home = next((d for d, ms in days.items() if container in ms), dated[0])
        days[home] = days[home] + undated
        for day in dated:
            out[f"{key}@{day.isoformat()}"] = _Group(f"{group.finding_id or group_id(m.ref for m in group.members)}"
                                                     f"@{day.isoformat()}"[:_MAX_GROUP_ID], False, days[day])
    return out


# A report or panel of one of these statuses withdraws what it lists (FHIR R4 DiagnosticReport.status:
# entered-in-error, "withdrawn following a previous final release"; cancelled, not done).
WITHDRAWING = ("entered-in-error", "cancelled")


def listings(items: list[Item], index: Index) -> Iterator[tuple[Item, Item]]:
    """``(lister, member)`` for every result a report lists (``result``) and every member a panel lists
    (``hasMember``) that is in the input; a resource listing itself is no listing."""
    for item in items:
        if item.rtype == "DiagnosticReport":
            refs = item.resource.result
        elif item.rtype == "Observation":
            refs = item.resource.hasMember
        else:
            continue
        for ref in refs or ():
            member = index.resolve(ref_target(ref), item)
            if member is not None and member is not item:
                yield item, member


def _withdrawn(items: list[Item], index: Index) -> dict[str, str]:
    """The results listed (``result``, ``hasMember``, however deep) only by withdrawn reports or panels, each with
    the one that withdrew it ("DiagnosticReport/r, entered-in-error"). A result also listed by a report that
    stands is not withdrawn."""
    if not any(item.resource.status in WITHDRAWING for item in items if item.rtype in ("DiagnosticReport", "Observation")):
        return {}
    listers: dict[str, list[Item]] = {}
    for lister, member in listings(items, index):
        listers.setdefault(member.ref, []).append(lister)
    if not listers:
        return {}
    out: dict[str, str] = {}
    changed = True
    while changed:  # a panel withdrawn by its report withdraws its members in turn
        changed = False
        for ref, by in listers.items():
            if ref in out:
                continue
            gone = [f"{c.ref}, {c.resource.status}" if c.resource.status in WITHDRAWING else out.get(c.ref) for c in by]
            if all(gone):
                out[ref] = next(g for g in gone if g)
                changed = True
    return out


def _group_key(item: Item, kind: str, consumed: dict[str, str], covered: dict[str, str],
               collected: dict[str, str]) -> tuple[str | None, str | None, bool]:
    r = item.resource
    own = item.own_id
    if own:
        return f"id:{own}", own, True
    if item.ref in consumed:
        return f"c:{consumed[item.ref]}", consumed[item.ref], False
    if item.ref in covered:
        return None, None, False
    if kind in CONTAINER_KINDS:
        return f"c:{item.ref}", item.ref, False
    if kind in ("cbc", "csf", *GROUPED_BY_TIME):  # one draw: the same time of sampling, else of issue, as written
        return f"{kind}@{effective_key(r) or collected.get(item.ref) or getattr(r, 'issued', None)}", None, False
    if kind in ("treatment", "treatment-request", "treatment-statement", "radiotherapy"):
        start = effective(r)[0]
        return f"treatment@{start}", None, False
    return f"r:{item.ref}", item.ref, False


# A finding's id is at most 200 characters (the case model's limit); leave room for "#<type>".
_MAX_GROUP_ID = 180


def group_id(refs) -> str:
    """The id of a finding built from several resources: their references joined, or, when that
    is too long (a treatment block of many MedicationAdministrations), the first reference, the
    count of the others and a digest of all, so that the same resources always give the same id."""
    ordered = sorted(refs)
    joined = "+".join(ordered)
    if len(joined) <= _MAX_GROUP_ID:
        return joined
    digest = hashlib.sha256(joined.encode()).hexdigest()[:16]
    return f"{ordered[0][:_MAX_GROUP_ID - 40]}+{len(ordered) - 1}-more~{digest}"


def _partitions(group: _Group) -> list[tuple[str | None, list[Item], str]]:
    """Split a group by the finding type its members feed (a source report may hold several)."""
    ordered: dict[str, list[Item]] = {}
    generic: list[Item] = []
    for m in group.members:
        if m.kind == "report":
            generic.append(m)
        else:
            ordered.setdefault(FINDING_TYPE[m.kind or ""], []).append(m)  # only resources of a kind are grouped
    base_id = group.finding_id or group_id(m.ref for m in group.members)
    if not ordered:
        return [(None, generic, base_id)]
    out: list[tuple[str | None, list[Item], str]] = []
    for n, (finding_type, members) in enumerate(ordered.items()):
        finding_id = base_id if len(ordered) == 1 else f"{base_id}#{finding_type}"
        out.append((finding_type, (generic if n == 0 else []) + members, finding_id))
    return out


def _valid_case(data: dict, sources: list[list[str]], patient_ref: str, report: MappingReport) -> Case:
    """The validated case. A value the case model refuses (an impossible count, a finding dated before
    birth) drops that value or finding, with the reason reported against its resources, so that one
    flaw does not cost the patient; a problem of the patient itself (age against birth date) fails it."""
    for _ in range(4):
        try:
            return case_from_dict(data)
        except CaseValidationError as error:
            if not _drop_refused(data, sources, error.problems, report):
                raise FhirInputError([_to_resource_problem(p, sources, patient_ref) for p in error.problems]) from None
    return case_from_dict(data)


_FINDING_PROBLEM = re.compile(r"findings\[(\d+)\] \(([^)]*)\)(?::\s*([A-Za-z_]+))?.*")


def _drop_refused(data: dict, sources: list[list[str]], problems, report: MappingReport) -> bool:
    """Remove every refused finding field (or finding); False when a problem is not about one finding."""
    drop_fields: dict[int, set[str]] = {}
    for problem in problems:
        match = _FINDING_PROBLEM.fullmatch(problem.location)
        if not match or int(match.group(1)) >= len(data["findings"]):
            return False
        index, field_name = int(match.group(1)), match.group(3)
        finding = data["findings"][index]
        fields = drop_fields.setdefault(index, set())
        if field_name and field_name in finding and field_name not in ("type", "date", "id"):
            fields.add(field_name)
            why = f"{field_name}: {problem.message}; this value is not used"
        else:
            fields.add("*")
            why = f"{problem.message}; this {finding.get('type')} finding is not used"
        for ref in sources[index]:
            report.partly(ref, why)
    for index in sorted(drop_fields, reverse=True):
        fields = drop_fields[index]
        finding = data["findings"][index]
        if "*" not in fields:
            for name in fields:
                finding.pop(name, None)
        if "*" in fields or not (set(finding) - {"type", "date", "id", "note", "source"}):
            del data["findings"][index]
            del sources[index]
    return True


def _to_resource_problem(problem, sources: list[list[str]], patient_ref: str) -> FhirProblem:
    """A case-model problem ("findings[3] (cbc, 2024-01-02): wbc") named by the resources behind it."""
    match = re.fullmatch(r"findings\[(\d+)\] \(([^)]*)\)(?::\s*(.*))?", problem.location)
    if match and int(match.group(1)) < len(sources):
        index = int(match.group(1))
        return FhirProblem(", ".join(sources[index]), match.group(3) or "", f"{problem.message} (finding {match.group(2)})")
    return FhirProblem(patient_ref, problem.location if problem.location != "case" else "", problem.message)
