"""The FHIR R4 elements allcare reads, as msgspec Structs: decoding is the check.

Validating every resource with its R4B model costs about 0.2 ms and was most of
the time of an import, while allcare reads a few dozen elements of a resource.
These Structs declare exactly those elements with their FHIR JSON types (text,
number, boolean, date, object, list), and msgspec decodes a resource into them in
a couple of microseconds: an element allcare reads with the wrong shape is an
error naming its path (``valueQuantity.value``), as the R4B model would report;
elements allcare does not read are skipped unlooked-at (``--strict`` validates
those too, with the R4B models). Read code uses attribute access, and an absent
element is None.

The elements written in a set form (ids, dates, dateTimes, times) are decoded as
plain text and checked right after decoding (:func:`format_problem` for one
resource, :func:`format_problems` for a CDS Hooks prefetch): msgspec checks a
pattern with a call into Python's ``re`` per value, ~1.3 of the ~5.7 ms of
decoding a 3-year prefetch (~2,000 such values); checked afterwards across the
whole prefetch, a date its results share is matched once, with no call per value.
"""

from __future__ import annotations

import re
import string
import types
from collections.abc import Sequence
from operator import attrgetter
from typing import Annotated, Any, ClassVar, NamedTuple, Union, get_args, get_origin, get_type_hints

import msgspec


class Format:
    """The form of a FHIR primitive that allcare reads as text (the metadata of :data:`Id`, :data:`Date` ...).

    msgspec ignores it when decoding; :func:`format_problem` checks it. The whole value must match
    (a line break at its end too: a pattern's ``$`` would let one through). The message is the one
    msgspec gave when it checked the pattern itself.
    """

    __slots__ = ("match", "message")

    def __init__(self, pattern: str) -> None:
        self.match = re.compile(pattern).fullmatch
        self.message = f"Expected 'str' matching regex '^{pattern}$'"

    def valid(self, value: str) -> bool:
        return self.match(value) is not None

    def all_valid(self, values: list[str]) -> bool:
        """Whether every one of ``values`` is :meth:`valid`: each distinct value matched once, with no Python
        call per value (a patient's results share a few hundred dates and times)."""
        return all(map(self.match, set(values)))


class CharacterRun(Format):
    """A :class:`Format` of 1 to ``longest`` of ``characters`` (its ``pattern`` says the same, for one value and the
    message): many values are checked without matching each (a prefetch's ids are all different)."""

    __slots__ = ("_characters", "_longest")

    def __init__(self, pattern: str, characters: str, longest: int) -> None:
        super().__init__(pattern)
        self._characters, self._longest = characters.encode("ascii"), longest

    def all_valid(self, values: list[str]) -> bool:
        text = "".join(values)
        return (text.isascii() and not text.encode("ascii").translate(None, self._characters)
                and min(map(len, values), default=1) >= 1 and max(map(len, values), default=0) <= self._longest)


Text = Annotated[str, msgspec.Meta(min_length=1)]
# FHIR R4 ``id``: 1-64 of A-Z a-z 0-9 - . (so never a control character that a store or a
# backup could not carry, such as NUL).
Id = Annotated[str, CharacterRun(r"[A-Za-z0-9\-.]{1,64}", string.ascii_letters + string.digits + "-.", 64)]
Number = int | float
Date = Annotated[str, Format(r"\d{4}(-\d{2}(-\d{2})?)?")]
DateTime = Annotated[str, Format(
    r"\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?")]
Time = Annotated[str, Format(r"\d{2}:\d{2}(:\d{2}(\.\d+)?)?")]


class _Element(msgspec.Struct, kw_only=True, gc=False):
    """Decoded FHIR is a tree (nothing points back up), so its Structs are not tracked by the
    garbage collector: a prefetch of a thousand resources adds nothing to its passes."""


class Coding(_Element):
    system: Text | None = None
    code: Text | None = None
    display: Text | None = None


class CodeableConcept(_Element):
    coding: list[Coding] | None = None
    text: Text | None = None


class Quantity(_Element):
    value: Number | None = None
    unit: Text | None = None
    code: Text | None = None
    system: Text | None = None
    comparator: Text | None = None


class Identifier(_Element):
    system: Text | None = None
    value: Text | None = None


class Reference(_Element):
    reference: Text | None = None
    display: str | None = None
    identifier: Identifier | None = None


class Period(_Element):
    start: DateTime | None = None
    end: DateTime | None = None


class Extension(_Element):
    url: Text | None = None
    valueString: str | None = None
    valueCode: Text | None = None
    valueDecimal: Number | None = None
    valueBoolean: bool | None = None
    valueDate: Date | None = None
    valueDateTime: DateTime | None = None
    valueInteger: int | None = None
    valueCodeableConcept: CodeableConcept | None = None
    valueTime: Time | None = None


class Meta(_Element):
    profile: list[Text] | None = None
    # Read only to tell versions of one resource apart (:mod:`.versions`), so plain text: one a server wrote in
    # another form must not fail an input that has no second copy of the resource.
    versionId: str | None = None
    lastUpdated: str | None = None


class ReferenceRange(_Element):
    low: Quantity | None = None
    high: Quantity | None = None
    text: str | None = None


class Component(_Element):
    code: CodeableConcept | None = None
    valueQuantity: Quantity | None = None
    valueCodeableConcept: CodeableConcept | None = None
    valueString: str | None = None
    valueInteger: int | None = None
    valueBoolean: bool | None = None
    referenceRange: list[ReferenceRange] | None = None


class Repeat(_Element):
    boundsPeriod: Period | None = None


class Timing(_Element):
    repeat: Repeat | None = None


class DoseAndRate(_Element):
    doseQuantity: Quantity | None = None


class Dosage(_Element):
    timing: Timing | None = None
    route: CodeableConcept | None = None
    doseAndRate: list[DoseAndRate] | None = None


class AdministrationDosage(_Element):
    """MedicationAdministration.dosage: one administration's dose (treatment monitoring reads it)."""

    dose: Quantity | None = None
    route: CodeableConcept | None = None


class Activity(_Element):
    outcomeReference: list[Reference] | None = None


class Resource(_Element):
    """What every resource may carry that allcare reads; ``contained`` resources are decoded on their own."""

    resource_type: ClassVar[str] = ""
    id: Id | None = None
    meta: Meta | None = None
    extension: list[Extension] | None = None
    identifier: list[Identifier] | None = None
    status: Text | None = None
    subject: Reference | None = None
    patient: Reference | None = None
    contained: list[dict[str, Any]] | None = None


class Patient(Resource):
    resource_type: ClassVar[str] = "Patient"
    gender: Text | None = None
    birthDate: Date | None = None


class _Timed(Resource):
    effectiveDateTime: DateTime | None = None
    effectiveInstant: DateTime | None = None
    effectivePeriod: Period | None = None
    issued: DateTime | None = None


class Observation(_Timed):
    resource_type: ClassVar[str] = "Observation"
    code: CodeableConcept | None = None
    category: list[CodeableConcept] | None = None
    valueQuantity: Quantity | None = None
    valueCodeableConcept: CodeableConcept | None = None
    valueString: str | None = None
    valueBoolean: bool | None = None
    valueInteger: int | None = None
    dataAbsentReason: CodeableConcept | None = None
    method: CodeableConcept | None = None
    bodySite: CodeableConcept | None = None
    component: list[Component] | None = None
    referenceRange: list[ReferenceRange] | None = None
    hasMember: list[Reference] | None = None
    specimen: Reference | None = None


class DiagnosticReport(_Timed):
    resource_type: ClassVar[str] = "DiagnosticReport"
    code: CodeableConcept | None = None
    category: list[CodeableConcept] | None = None
    result: list[Reference] | None = None
    specimen: list[Reference] | None = None


class Condition(Resource):
    resource_type: ClassVar[str] = "Condition"
    code: CodeableConcept | None = None
    clinicalStatus: CodeableConcept | None = None
    verificationStatus: CodeableConcept | None = None
    onsetDateTime: DateTime | None = None
    onsetPeriod: Period | None = None


class _Medication(_Timed):
    medicationCodeableConcept: CodeableConcept | None = None
    medicationReference: Reference | None = None
    request: Reference | None = None
    authoredOn: DateTime | None = None
    dateAsserted: DateTime | None = None
    dosageInstruction: list[Dosage] | None = None


class MedicationAdministration(_Medication):
    resource_type: ClassVar[str] = "MedicationAdministration"
    dosage: AdministrationDosage | None = None


class MedicationRequest(_Medication):
    resource_type: ClassVar[str] = "MedicationRequest"


class MedicationStatement(_Medication):
    resource_type: ClassVar[str] = "MedicationStatement"


class Medication(Resource):
    resource_type: ClassVar[str] = "Medication"
    code: CodeableConcept | None = None


class CarePlan(Resource):
    resource_type: ClassVar[str] = "CarePlan"
    category: list[CodeableConcept] | None = None
    period: Period | None = None
    activity: list[Activity] | None = None


class Procedure(Resource):
    resource_type: ClassVar[str] = "Procedure"
    code: CodeableConcept | None = None
    category: CodeableConcept | None = None
    bodySite: list[CodeableConcept] | None = None
    performedDateTime: DateTime | None = None
    performedPeriod: Period | None = None


class AdverseEvent(Resource):
    """An adverse event (treatment monitoring); R4 gives it a single identifier."""

    resource_type: ClassVar[str] = "AdverseEvent"
    identifier: Identifier | None = None  # type: ignore[assignment]
    actuality: Text | None = None
    event: CodeableConcept | None = None
    date: DateTime | None = None
    seriousness: CodeableConcept | None = None


class SpecimenCollection(_Element):
    collectedDateTime: DateTime | None = None
    collectedPeriod: Period | None = None


class Specimen(Resource):
    """The sample a result was measured on (marrow, blood, spinal fluid), named by ``Observation.specimen``
    (and ``DiagnosticReport.specimen``): its type, and when it was collected."""

    resource_type: ClassVar[str] = "Specimen"
    type: CodeableConcept | None = None
    collection: SpecimenCollection | None = None


STRUCTS: dict[str, type[Resource]] = {cls.resource_type: cls for cls in (
    Patient, Observation, DiagnosticReport, Condition, MedicationAdministration, MedicationRequest, MedicationStatement,
    Medication, CarePlan, Procedure, AdverseEvent, Specimen)}
# Types a prefetch or an export carries as context of the patient's data (a search's ``_include``d
# Encounter or Practitioner): read for their common elements only, and reported as not used.
CONTEXT_TYPES = ("Practitioner", "PractitionerRole", "Organization", "Location", "Device", "Encounter")
_OTHERS: dict[str, type[Resource]] = {}


class _Other(Resource):
    """The common elements of a type allcare does not read, in every shape FHIR R4 gives them: a few types have
    one ``identifier`` (Composition, QuestionnaireResponse, ConceptMap, TestScript: 0..1), several ``subject``
    (Account, Contract: 0..*) or a coded ``status`` (MedicinalProductAuthorization). Read as a list of identifiers,
    the one subject (None for several) and a status code (None for a coded one)."""

    identifier: list[Identifier] | Identifier | None = None  # type: ignore[assignment]
    subject: Reference | list[Reference] | None = None  # type: ignore[assignment]
    status: Text | CodeableConcept | None = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if isinstance(self.identifier, Identifier):
            self.identifier = [self.identifier]
        if isinstance(self.subject, list):
            self.subject = self.subject[0] if len(self.subject) == 1 else None
        if isinstance(self.status, CodeableConcept):
            self.status = None


def struct_for(resource_type: str) -> type[Resource]:
    """The Struct of a resource type; other types get a Struct of the common elements that names its type."""
    cls = STRUCTS.get(resource_type) or _OTHERS.get(resource_type)
    if cls is None:
        base = Resource if resource_type in CONTEXT_TYPES else _Other  # (the context types' elements have one shape)
        cls = _OTHERS[resource_type] = type(resource_type, (base,), {"resource_type": resource_type})
    return cls


def decode(raw: dict | bytes, resource_type: str) -> Resource:
    """A parsed (dict) or raw JSON (bytes) resource as its Struct; :class:`msgspec.ValidationError` names the path."""
    cls = struct_for(resource_type)
    if isinstance(raw, bytes):
        return msgspec.json.decode(raw, type=cls)
    return msgspec.convert(raw, cls)


class _Plan(NamedTuple):
    """What :func:`format_problem` reads of a Struct: its elements of a :class:`Format`, and its elements (or lists)
    of Structs that hold one, however deep."""

    formats: tuple[tuple[str, Format], ...]
    structs: tuple[tuple[str, _Plan, bool], ...]  # (element, its Struct's plan, whether a list of them)


_PLANS: dict[type, _Plan] = {}


def _plan(cls: type) -> _Plan:
    plan = _PLANS.get(cls)
    if plan is None:
        hints = get_type_hints(cls, include_extras=True)
        formats, structs = [], []
        for name in cls.__struct_fields__:  # type: ignore[attr-defined]
            hint, many = _element_type(hints[name])
            form = next((meta for meta in getattr(hint, "__metadata__", ()) if isinstance(meta, Format)), None)
            if form is not None:
                if many:
                    raise TypeError(f"{cls.__name__}.{name}: a list of {form.message} is not checked")
                formats.append((name, form))
            elif isinstance(hint, type) and issubclass(hint, msgspec.Struct) and any(inner := _plan(hint)):
                structs.append((name, inner, many))
        plan = _PLANS[cls] = _Plan(tuple(formats), tuple(structs))
    return plan


def _element_type(hint: Any) -> tuple[Any, bool]:
    """(the type of an element's values, whether the element is a list of them): ``list[X] | None`` -> (X, True)."""
    if get_origin(hint) in (Union, types.UnionType):
        kinds = [arg for arg in get_args(hint) if arg is not type(None)]
        if len(kinds) != 1:
            return None, False
        hint = kinds[0]
    if get_origin(hint) is list:
        return get_args(hint)[0], True
    return hint, False


def format_problem(resource: Resource) -> tuple[str, str] | None:
    """(element path, message) of the first id, date, dateTime or time of ``resource`` not in its FHIR form, or None."""
    return _problem(resource, _plan(type(resource)))


def _problem(struct: Any, plan: _Plan) -> tuple[str, str] | None:
    for name, form in plan.formats:
        value = getattr(struct, name)
        if value is not None and form.match(value) is None:
            return name, form.message
    for name, inner, many in plan.structs:
        value = getattr(struct, name)
        if value is None:
            continue
        if not many:
            if (found := _problem(value, inner)) is not None:
                return f"{name}.{found[0]}", found[1]
            continue
        for n, each in enumerate(value):
            if (found := _problem(each, inner)) is not None:
                return f"{name}[{n}].{found[0]}", found[1]
    return None


def format_problems(resources: Sequence[Resource]) -> list[tuple[int, str, str]]:
    """(position, element path, message) of each of ``resources`` that :func:`format_problem` finds a problem in.

    Many resources at a time (a CDS Hooks prefetch) are read element by element across all of them, and
    the values of each form checked together (:meth:`Format.all_valid`); only when one fails is each resource
    looked at alone, to name it.
    """
    groups: dict[type, list[Resource]] = {}
    for resource in resources:
        groups.setdefault(type(resource), []).append(resource)
    values: dict[Format, list[str]] = {}
    for cls, group in groups.items():
        _gather(group, _plan(cls), values)
    if all(form.all_valid(found) for form, found in values.items()):
        return []
    return [(n, *problem) for n, resource in enumerate(resources) if (problem := format_problem(resource)) is not None]


def _gather(structs: list[Any], plan: _Plan, values: dict[Format, list[str]]) -> None:
    for name, form in plan.formats:
        values.setdefault(form, []).extend(value for value in map(attrgetter(name), structs) if value is not None)
    for name, inner, many in plan.structs:
        found = [value for value in map(attrgetter(name), structs) if value is not None]
        if many:
            found = [each for value in found for each in value]
        if found:
            _gather(found, inner, values)


def error_path(error: msgspec.ValidationError) -> tuple[str, str]:
    """(element path, message) of a decoding error: ``Expected `int`, got `str` - at `$.valueInteger```."""
    text = str(error)
    message, _, at = text.rpartition(" - at `")
    if not message:
        return "", text
    path = at.rstrip("`").removeprefix("$").lstrip(".")
    return path, message.replace("`", "'")


def encode(resource: Resource) -> bytes:
    """The elements allcare read, as JSON (deterministic: used as a content digest).

    Only the elements its type declares here, whatever Struct it was decoded into (the one-pass
    decoder's adds the tag and version markers): the same resource always gives the same bytes.
    """
    declared = STRUCTS.get(resource.resource_type, type(resource)).__struct_fields__
    return msgspec.json.encode({name: getattr(resource, name) for name in declared})
