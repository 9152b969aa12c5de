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
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

import msgspec

Text = Annotated[str, msgspec.Meta(min_length=1)]
# FHIR R4 ``id``: 1-64 of A-Z a-z 0-9 - . (so never a control character that a store or a
# backup could not carry, such as NUL).
Id = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9\-.]{1,64}$")]
Number = int | float
Date = Annotated[str, msgspec.Meta(pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$")]
DateTime = Annotated[str, msgspec.Meta(
    pattern=r"^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$")]
Time = Annotated[str, msgspec.Meta(pattern=r"^\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")]


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
    method: CodeableConcept | None = None
    bodySite: CodeableConcept | None = None
    component: list[Component] | None = None
    referenceRange: list[ReferenceRange] | None = None
    hasMember: list[Reference] | None = None


class DiagnosticReport(_Timed):
    resource_type: ClassVar[str] = "DiagnosticReport"
    code: CodeableConcept | None = None
    category: list[CodeableConcept] | None = None
    result: list[Reference] | None = None


class Condition(Resource):
    resource_type: ClassVar[str] = "Condition"
    code: CodeableConcept | None = None
    clinicalStatus: CodeableConcept | None = None
    verificationStatus: CodeableConcept | None = None
    onsetDateTime: DateTime | None = None


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


STRUCTS: dict[str, type[Resource]] = {cls.resource_type: cls for cls in (
    Patient, Observation, DiagnosticReport, Condition, MedicationAdministration, MedicationRequest, MedicationStatement,
    Medication, CarePlan, Procedure, AdverseEvent)}
# Types a prefetch or an export carries as context of the patient's data (a search's ``_include``d
# Encounter or Practitioner): read for their common elements only, and reported as not used.
CONTEXT_TYPES = ("Practitioner", "PractitionerRole", "Organization", "Location", "Device", "Encounter")
_OTHERS: dict[str, type[Resource]] = {}


def struct_for(resource_type: str) -> type[Resource]:
    """The Struct of a resource type; other types get a Struct of the common elements that names its type."""
    cls = STRUCTS.get(resource_type) or _OTHERS.get(resource_type)
    if cls is None:
        cls = _OTHERS[resource_type] = type(resource_type, (Resource,), {"resource_type": resource_type})
    return cls


def decode(raw: dict | bytes, resource_type: str) -> Resource:
    """A parsed (dict) or raw JSON (bytes) resource as its Struct; :class:`msgspec.ValidationError` names the path."""
    cls = struct_for(resource_type)
    if isinstance(raw, bytes):
        return msgspec.json.decode(raw, type=cls)
    return msgspec.convert(raw, cls)


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
