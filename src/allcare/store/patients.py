"""Patients: the demographic row of a record, with optimistic locking.

The request model nests the engine's own ``Patient`` (the case file's
``patient`` object) rather than re-declaring its fields, so the API accepts
exactly what a case file accepts. Every write first takes the record's write
lock (:func:`lock_for_write`), so concurrent writers of one record are
serialised and each re-validates the whole record as a case.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any, cast

from pydantic import AfterValidator, ConfigDict, Field
from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from ..engine.case import Case, CaseValidationError, Sex, case_from_dict
from ..engine.case import Patient as CasePatient
from ..engine.case.models import STORED, CaseDate, StorableText, canonical_identifier, unstorable_text
from . import audit
from .audit import Actor
from .errors import Conflict, InvalidRecord, NotFound
from .models import MAX_ROW_ID, Patient
from .types import utcnow

# A name is how people tell records apart on a list, so it must display as what it is: no control characters
# (ESC sequences, line breaks), no line or paragraph separators, and none of the bidirectional embeddings,
# overrides and isolates (U+202A-U+202E, U+2066-U+2069), which reorder the text after them ('\u202eneerG ycuL'
# shows as another child's 'Lucy Green'). Joiners (ZWJ, ZWNJ) and the single directional marks stay: names
# in Persian, Indic and other scripts need them, and they reorder nothing around them (Unicode UAX #9).
_REORDERING = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def display_name_problem(value: str | None) -> str | None:
    """Why a person's display name (a patient's or a user's) cannot be kept, or None."""
    if value is None:
        return None
    problem = unstorable_text(value)
    if problem or (value.isascii() and value.isprintable()):
        return problem
    for position, char in enumerate(value):
        category = unicodedata.category(char)
        if category in ("Cc", "Zl", "Zp") or char in _REORDERING:
            return (f"contains {char!a} at position {position}, a control or text-direction character that would make "
                    "the name display as something else; remove it")
    return None


def _refuse_name_problem(value: str | None) -> str | None:
    problem = display_name_problem(value)
    if problem:
        raise ValueError(problem)
    return value


DisplayName = Annotated[str | None, AfterValidator(_refuse_name_problem)]


class PatientRecordIn(StorableText):
    """A patient as the case file describes them, plus a display name for the care team."""

    model_config = ConfigDict(extra="forbid")

    patient: CasePatient
    diagnosis_date: CaseDate | None = None
    display_name: DisplayName = Field(default=None, max_length=200, description="shown in lists; not exported")


class PatientRecordUpdate(PatientRecordIn):
    version: int = Field(ge=1, le=2**31 - 1, description="the version you read; a stale one gets HTTP 409")


def case_patient(row: Patient) -> CasePatient:
    return CasePatient.model_validate({
        "id": row.identifier, "birth_date": row.birth_date, "age_years": row.age_years, "sex": Sex(row.sex),
        "conditions": row.conditions or [],
    }, context={STORED: True})


def validate_record(patient: Patient | PatientRecordIn, findings: list[Any]) -> Case:
    """The record as a validated :class:`Case`; :class:`InvalidRecord` lists what is wrong."""
    if isinstance(patient, Patient):
        case_patient_, diagnosis_date = case_patient(patient), patient.diagnosis_date
    else:
        case_patient_, diagnosis_date = patient.patient, patient.diagnosis_date
    data = {"schema": "allcare.case/1", "patient": case_patient_, "diagnosis_date": diagnosis_date, "findings": findings}
    try:
        case = case_from_dict(data)
    except CaseValidationError as error:
        raise InvalidRecord([(problem.location, problem.message) for problem in error.problems]) from None
    return case


WRITTEN_KEY = "allcare_written_records"
"""Where a session lists the records its transaction changed (``Session.info``): their summaries
are recomputed before it commits (:func:`allcare.store.summaries.summarise_written`)."""


def note_written(session: Session, patient_id: int) -> None:
    """Record that this transaction changed ``patient_id``: its summary is recomputed before commit."""
    session.info.setdefault(WRITTEN_KEY, set()).add(patient_id)


def lock_record(session: Session, patient_id: int) -> Patient:
    """Take the record's write lock without changing it, then read it fresh.

    For a writer that must read before it knows whether it changes anything (an
    import): what it reads cannot change until it commits.
    """
    result = session.execute(update(Patient).where(Patient.id == patient_id).values(version=Patient.version))
    if cast(CursorResult[Any], result).rowcount != 1:  # an UPDATE's result is a CursorResult
        raise NotFound("patient", patient_id)
    patient = session.get(Patient, patient_id, populate_existing=True)
    if patient is None:
        raise NotFound("patient", patient_id)
    return patient


def lock_for_write(session: Session, patient_id: int) -> Patient:
    """Take the record's write lock and bump its revision (which also invalidates cached assessments);
    the record's summary is recomputed before the transaction commits.

    The UPDATE is the transaction's first write, so PostgreSQL holds the row lock
    and SQLite the database write lock until commit: writers of one record queue
    instead of interleaving.
    """
    result = session.execute(
        update(Patient).where(Patient.id == patient_id).values(revision=Patient.revision + 1, updated_at=utcnow())
    )
    if cast(CursorResult[Any], result).rowcount != 1:  # an UPDATE's result is a CursorResult
        raise NotFound("patient", patient_id)
    patient = session.get(Patient, patient_id, populate_existing=True)
    if patient is None:
        raise NotFound("patient", patient_id)
    note_written(session, patient_id)
    return patient


def apply_record(row: Patient, data: PatientRecordIn) -> None:
    row.identifier = data.patient.id
    row.birth_date = data.patient.birth_date
    row.age_years = data.patient.age_years
    row.sex = data.patient.sex.value
    row.conditions = [condition.value for condition in data.patient.conditions]
    row.diagnosis_date = data.diagnosis_date
    row.display_name = data.display_name


def _identifier_free(session: Session, identifier: str, other_than: int | None = None) -> None:
    existing = session.scalar(select(Patient.id).where(Patient.identifier == identifier))
    if existing is not None and existing != other_than:
        raise Conflict(f"a patient with identifier {identifier!r} already exists", patient_id=existing)


def create_patient(session: Session, actor: Actor, data: PatientRecordIn) -> Patient:
    validate_record(data, [])
    _identifier_free(session, data.patient.id)
    row = Patient(version=1, revision=1, finding_seq=0)
    apply_record(row, data)
    session.add(row)
    session.flush()
    note_written(session, row.id)
    audit.record(session, actor, "patient.create", object_type="patient", object_id=row.id, patient_id=row.id)
    return row


def get_patient(session: Session, actor: Actor | None, patient_id: int, *, action: str = "patient.read") -> Patient:
    """Read a patient row; with an actor, the read is audited."""
    row = session.get(Patient, patient_id)
    if row is None:
        raise NotFound("patient", patient_id)
    if actor is not None:
        audit.record(session, actor, action, object_type="patient", object_id=patient_id, patient_id=patient_id)
    return row


def update_patient(session: Session, actor: Actor, patient_id: int, data: PatientRecordUpdate) -> Patient:
    """Change demographics if ``data.version`` is current; otherwise :class:`Conflict` with the current version."""
    from .findings import finding_of, rows_of

    row = lock_for_write(session, patient_id)
    if row.version != data.version:
        raise Conflict("the patient was changed by someone else; reload and apply your change again",
                       current_version=row.version)
    _identifier_free(session, data.patient.id, other_than=patient_id)
    validate_record(data, [finding_of(r) for r in rows_of(session, patient_id)])
    apply_record(row, data)
    row.version = data.version + 1
    session.flush()
    audit.record(session, actor, "patient.update", object_type="patient", object_id=patient_id, patient_id=patient_id)
    return row


def delete_patient(session: Session, actor: Actor, patient_id: int, version: int) -> None:
    row = lock_for_write(session, patient_id)
    if row.version != version:
        raise Conflict("the patient was changed by someone else; reload before deleting", current_version=row.version)
    session.delete(row)
    session.flush()
    audit.record(session, actor, "patient.delete", object_type="patient", object_id=patient_id, patient_id=patient_id)


def find_by_identifier(session: Session, identifier: str) -> Patient | None:
    """The record of an identifier, in any spelling of it (the one a case file's ``patient.id`` takes)."""
    try:
        identifier = canonical_identifier(identifier)
    except ValueError:
        return None
    return session.scalar(select(Patient).where(Patient.identifier == identifier))


_RECORD_NUMBER = re.compile(r"(id:)?([0-9]{1,10})", re.ASCII)  # digits 0-9 only: superscripts and other scripts' digits are no record number


def patient_by_reference(session: Session, reference: str) -> int:
    """The record a person names by its store number (``12``, or ``id:12`` for the number alone) or by its
    case-file identifier. Hospital numbers are often digits too: when ``12`` is record #12 and also the
    identifier of another record, it names neither (:class:`InvalidRecord` lists both) rather than linking a
    login to, or exporting, the wrong patient's record."""
    found: dict[int, str] = {}
    number = _RECORD_NUMBER.fullmatch(reference.strip())
    if number and 1 <= int(number.group(2)) <= MAX_ROW_ID and session.get(Patient, int(number.group(2))) is not None:
        found[int(number.group(2))] = f"record #{number.group(2)} (its store number)"
    if not (number and number.group(1)):
        by_identifier = find_by_identifier(session, reference)
        if by_identifier is not None:
            found.setdefault(by_identifier.id, f"record #{by_identifier.id} (identifier {by_identifier.identifier!r})")
    if len(found) == 1:
        return next(iter(found))
    if not found:
        raise InvalidRecord([("patient", f"no patient with store number or identifier {reference!r}")])
    raise InvalidRecord([("patient", f"{reference!r} names two records: {' and '.join(found.values())}; "
                                     f"write id:{number.group(2) if number else reference} for the store number "
                                     "or the identifier in full")])
