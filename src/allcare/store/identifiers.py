"""Patient identifiers of other systems (system + value): recognising one person across imports.

A hospital sends the same patient again and again, from different servers and
with different resource ids (or none: a Bundle of ``urn:uuid`` entries). The
business identifiers (an MRN is a system and a value) are what stays the same, so
an import looks the patient up by them first, and by the case file's ``patient.id``
only after. Identifiers are kept on the record and written back in ``$everything``.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from .errors import InvalidRecord
from .models import Patient, PatientIdentifier

MAX_LENGTH = 500


def patient_by_identifiers(session: Session, identifiers: Iterable[tuple[str, str]]) -> Patient | None:
    """The stored patient holding any of ``identifiers``; :class:`InvalidRecord` when they name two different patients."""
    pairs = [(s, v) for s, v in identifiers if s and v]
    if not pairs:
        return None
    found: dict[int, tuple[str, str]] = {}
    for system, value in pairs:
        patient_id = session.scalar(select(PatientIdentifier.patient_id).where(
            PatientIdentifier.system == system, PatientIdentifier.value == value))
        if patient_id is not None:
            found.setdefault(patient_id, (system, value))
    if len(found) > 1:
        described = "; ".join(f"{s}|{v} is patient {pid}" for pid, (s, v) in found.items())
        raise InvalidRecord([("patient.identifier", f"the identifiers name different stored patients ({described})")])
    return session.get(Patient, next(iter(found))) if found else None


def add_identifiers(session: Session, patient_id: int, identifiers: Iterable[tuple[str, str]]) -> int:
    """Keep ``identifiers`` on the record (those it has are left alone); the number added."""
    known = set(identifiers_of(session, patient_id))
    added = 0
    for system, value in identifiers:
        if not system or not value or (system, value) in known:
            continue
        if len(system) > MAX_LENGTH or len(value) > MAX_LENGTH:
            raise InvalidRecord([("patient.identifier", f"an identifier's system and value are at most {MAX_LENGTH} characters")])
        session.add(PatientIdentifier(patient_id=patient_id, system=system, value=value))
        known.add((system, value))
        added += 1
    if added:
        session.flush()
    return added


def identifiers_of(session: Session, patient_id: int) -> list[tuple[str, str]]:
    rows = session.execute(select(PatientIdentifier.system, PatientIdentifier.value)
                           .where(PatientIdentifier.patient_id == patient_id).order_by(PatientIdentifier.id))
    return [(system, value) for system, value in rows]
