"""Whole records as ``allcare.case/1`` case files: import, export, and the case the engine reads.

Export rebuilds the case from the rows as reported, so importing a file and
exporting it again gives the same case (the round-trip test checks this).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from ..engine.case import Case, CaseValidationError
from ..engine.case.merge import merge_cases
from . import audit
from .audit import Actor
from .errors import Conflict, InvalidRecord
from .findings import fill_row, rows_of, stable_json
from .identifiers import add_identifiers, identifiers_of, patient_by_identifiers
from .models import FindingRow, Patient
from .patients import (
    PatientRecordIn,
    apply_record,
    display_name_problem,
    find_by_identifier,
    get_patient,
    lock_for_write,
    lock_record,
    note_written,
    validate_record,
)
from .types import utcnow

if TYPE_CHECKING:
    from .core import Store


def case_of(session: Session, patient: Patient) -> Case:
    """The record as the engine's :class:`Case` (findings in case order).

    Only the findings' case-file JSON is read (not whole rows with their canonical copy), and it
    is validated once, as part of the case (each finding validated alone first, then again inside
    the case, took most of the time of reading a record).
    """
    reported = session.scalars(select(FindingRow.reported).where(FindingRow.patient_id == patient.id)
                               .order_by(FindingRow.position))
    return validate_record(patient, list(reported))


def export_case(session: Session, actor: Actor, patient_id: int) -> Case:
    patient = get_patient(session, actor, patient_id, action="case.export")
    return case_of(session, patient)


def export_every_case(store: Store, actor: Actor) -> Iterator[tuple[Case, list[tuple[str, str]]]]:
    """Every record with its identifiers, for a bulk export: one record read at a time, in a transaction of
    its own; the export is one store event and each record sent is an event in that record's trail
    (``who read record A?`` shows the bulk export too). Records deleted meanwhile are skipped."""
    with store.transaction() as session:
        ids = list(session.scalars(select(Patient.id).order_by(Patient.id)))
        audit.record(session, actor, "fhir.export", object_type="store", detail={"patients": len(ids)})
    for patient_id in ids:
        with store.transaction() as session:
            row = session.get(Patient, patient_id)
            if row is None:  # deleted since the export started
                continue
            case, identifiers = case_of(session, row), identifiers_of(session, patient_id)
            audit.record(session, actor, "fhir.export", object_type="patient", object_id=patient_id,
                         patient_id=patient_id)
        yield case, identifiers


def import_case(session: Session, actor: Actor, case: Case, *, display_name: str | None = None) -> Patient:
    """Store a validated case as a new patient (its ``patient.id`` must be new)."""
    name_problem = display_name_problem(display_name)
    if name_problem:
        raise InvalidRecord([("display_name", name_problem)])
    existing = find_by_identifier(session, case.patient.id)
    if existing is not None:
        raise Conflict(f"a patient with identifier {case.patient.id!r} already exists", patient_id=existing.id)
    now = utcnow()
    rows: list[dict[str, Any]] = []  # checked before anything is written
    for position, finding in enumerate(case.findings, start=1):
        values = FindingRow()
        try:
            fill_row(values, finding)
        except InvalidRecord as error:
            where = f"findings[{position - 1}] ({finding.type}, {finding.date})"
            raise InvalidRecord([(f"{where}: {field}" if field else where, message)
                                 for field, message in error.problems]) from None
        rows.append({"position": position, "type": values.type, "date": values.date,
                     "source_id": values.source_id, "reported": values.reported, "canonical": values.canonical,
                     "version": 1, "created_at": now, "updated_at": now, "created_by": actor.user_id,
                     "updated_by": actor.user_id})
    row = Patient(version=1, revision=1, finding_seq=len(case.findings))
    apply_record(row, PatientRecordIn(patient=case.patient, diagnosis_date=case.diagnosis_date,
                                      display_name=display_name))
    session.add(row)
    session.flush()
    for finding_values in rows:
        finding_values["patient_id"] = row.id
    if rows:  # one multi-row INSERT: a three-year record has ~170 findings
        session.execute(insert(FindingRow), rows)
    session.flush()
    note_written(session, row.id)
    audit.record(session, actor, "case.import", object_type="patient", object_id=row.id, patient_id=row.id,
                 detail={"findings": len(case.findings)})
    return row



@dataclass(frozen=True)
class MergeOutcome:
    """What :func:`merge_case` did to one patient: ``created``, ``updated`` or ``unchanged``."""

    patient: Patient
    action: Literal["created", "updated", "unchanged"]
    added: int = 0
    replaced: int = 0


def merge_case(session: Session, actor: Actor, case: Case, identifiers: Sequence[tuple[str, str]] = ()) -> MergeOutcome:
    """Store an imported case: a new patient, or merged into the stored one that is the same person.

    The same person is the stored patient holding one of ``identifiers`` (an MRN: system and
    value, kept on the record), else the one whose identifier is the case's ``patient.id``.

    Why merge rather than refuse: hospital feeds (FHIR, classifier files) send the
    same patient again and again. Findings are matched by ``id`` (the FHIR resource
    they came from): a known id replaces that finding in place, a new id is added,
    findings typed by hand (no id) are left alone. Importing the same data twice
    therefore changes nothing. ``merge_cases`` validates the merged record as a
    whole before anything is written, so a patient is stored whole or not at all.
    The stored record is read, merged and written under its write lock, so an
    edit committed while the import ran is merged, never overwritten; fields the
    import does not carry keep their stored values (``merge_cases``).
    """
    row = patient_by_identifiers(session, identifiers) or find_by_identifier(session, case.patient.id)
    if row is None:
        created = import_case(session, actor, case)
        add_identifiers(session, created.id, identifiers)
        return MergeOutcome(created, "created", added=len(case.findings))
    row = lock_record(session, row.id)
    read_version = row.version
    if row.identifier != case.patient.id:  # recognised by an identifier: the record keeps its own id
        case = case.model_copy(update={"patient": case.patient.model_copy(update={"id": row.identifier})})
    add_identifiers(session, row.id, identifiers)
    stored = case_of(session, row)
    try:
        merged = merge_cases(stored, case)
    except CaseValidationError as error:  # each is valid alone, together they contradict (e.g. birth date and age)
        raise InvalidRecord([(problem.location, problem.message) for problem in error.problems]) from None
    if merged.to_json_dict() == stored.to_json_dict():
        audit.record(session, actor, "case.import", object_type="patient", object_id=row.id, patient_id=row.id,
                     detail={"unchanged": True})
        return MergeOutcome(row, "unchanged")
    row = lock_for_write(session, row.id)
    if row.version != read_version:  # pragma: no cover - the lock makes this unreachable
        raise Conflict("the patient was changed during the import; import again", current_version=row.version)
    by_source = {r.source_id: r for r in rows_of(session, row.id) if r.source_id}
    added = replaced = 0
    now = utcnow()
    for finding in case.findings:
        target = by_source.get(finding.id) if finding.id else None
        if target is not None:
            if stable_json(finding) != target.reported:
                fill_row(target, finding)
                target.version += 1
                target.updated_at, target.updated_by = now, actor.user_id
                replaced += 1
            continue
        row.finding_seq += 1
        new = FindingRow(patient_id=row.id, position=row.finding_seq, created_by=actor.user_id,
                         updated_by=actor.user_id)
        fill_row(new, finding)
        session.add(new)
        added += 1
    before = (row.birth_date, row.age_years, row.sex, list(row.conditions or []), row.diagnosis_date)
    apply_record(row, PatientRecordIn(patient=merged.patient, diagnosis_date=merged.diagnosis_date,
                                      display_name=row.display_name))
    if before != (row.birth_date, row.age_years, row.sex, list(row.conditions or []), row.diagnosis_date):
        row.version += 1  # the demographics changed: a form opened before the import must reload
    session.flush()
    audit.record(session, actor, "case.merge", object_type="patient", object_id=row.id, patient_id=row.id,
                 detail={"added": added, "replaced": replaced})
    return MergeOutcome(row, "updated", added=added, replaced=replaced)
