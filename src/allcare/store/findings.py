"""Findings: the engine's case-model findings, stored one per row.

The engine's ``Finding`` union is the only definition of a valid finding; this
module converts between it and rows. ``reported`` is the case-file JSON as
written (the original value, unit and lab range of every quantity), which
validates back into an equal finding, so export is lossless. ``canonical`` is
the same finding with every quantity in its canonical unit, for queries and
charts that must not re-run unit conversion.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import func, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from ..engine.case import Finding, Quantity
from ..engine.case.errors import dotted_path, user_errors
from . import audit
from .audit import Actor
from .errors import Conflict, InvalidRecord, NotFound
from .models import FindingRow, Patient
from .patients import lock_for_write, validate_record
from .types import utcnow

FINDING = TypeAdapter(Finding)


def reported_json(finding: Any) -> dict[str, Any]:
    """Case-file JSON of one finding, without empty optional fields."""
    data = finding.model_dump(mode="json", exclude_none=True)
    return {key: value for key, value in data.items() if value not in ([], {})}


def canonical_json(finding: Any) -> dict[str, Any]:
    """The finding with each quantity as ``{value, unit, lower_limit?, upper_limit?, comparator?}`` in canonical units."""
    data = reported_json(finding)
    for name in data:
        value = getattr(finding, name, None)
        if isinstance(value, Quantity):
            data[name] = {"value": value.value, "unit": value.unit}
            if value.lower_limit is not None:
                data[name]["lower_limit"] = value.lower_limit
            if value.upper_limit is not None:
                data[name]["upper_limit"] = value.upper_limit
            if value.comparator is not None:
                data[name]["comparator"] = value.comparator
    return data


def finding_from_json(data: dict[str, Any]) -> Any:
    return FINDING.validate_python(data)


def finding_of(row: FindingRow) -> Any:
    return finding_from_json(row.reported)


@dataclass(frozen=True)
class StoredFinding:
    """A finding row with its position in the case (``index``, as the engine's evidence cites it)."""

    row: FindingRow
    index: int | None = None


def stable_json(finding: Any) -> dict[str, Any]:
    """The finding's case-file JSON, checked to read back as the same finding.

    The case model normalises some values (marker and lesion spellings); a value
    whose normal form is itself invalid (a lesion of only spaces becomes "") would
    be stored but could never be read again, breaking the record for everyone.
    Such input is refused now, with its field, instead.
    """
    data = reported_json(finding)
    try:
        again = finding_from_json(data)
    except ValidationError as error:
        problems = [(dotted_path(item["loc"][1:]), f"{item['msg']} (after normalisation)") for item in user_errors(error.errors(include_url=False))]
        raise InvalidRecord(problems) from None
    if again != finding:
        raise InvalidRecord([("", "the finding would change when read back; check unusual spellings")])
    return data


def fill_row(row: FindingRow, finding: Any) -> None:
    row.type = finding.type
    row.date = finding.date
    row.source_id = finding.id
    row.reported = stable_json(finding)
    row.canonical = canonical_json(finding)


def rows_of(session: Session, patient_id: int, kind: str | None = None) -> list[FindingRow]:
    query = select(FindingRow).where(FindingRow.patient_id == patient_id)
    if kind:
        query = query.where(FindingRow.type == kind)
    return list(session.scalars(query.order_by(FindingRow.position)))


def list_findings(
    session: Session, actor: Actor, patient_id: int, *, kind: str | None = None
) -> list[StoredFinding]:
    """A patient's findings in case order, each with its index in the case file."""
    if session.get(Patient, patient_id) is None:
        raise NotFound("patient", patient_id)
    positions = list(
        session.scalars(
            select(FindingRow.position).where(FindingRow.patient_id == patient_id).order_by(FindingRow.position)
        )
    )
    index_of = {position: index for index, position in enumerate(positions)}
    rows = rows_of(session, patient_id, kind)
    audit.record(session, actor, "finding.list", object_type="patient", object_id=patient_id, patient_id=patient_id,
                 detail={"type": kind} if kind else None)
    return [StoredFinding(row, index_of.get(row.position)) for row in rows]


def get_finding(session: Session, actor: Actor, patient_id: int, finding_id: int) -> StoredFinding:
    row = _row(session, patient_id, finding_id)
    audit.record(session, actor, "finding.read", object_type="finding", object_id=finding_id, patient_id=patient_id)
    return with_index(session, row)


def with_index(session: Session, row: FindingRow) -> StoredFinding:
    index = session.scalar(
        select(func.count()).where(FindingRow.patient_id == row.patient_id, FindingRow.position < row.position)
    )
    return StoredFinding(row, index)


def _row(session: Session, patient_id: int, finding_id: int) -> FindingRow:
    row = session.get(FindingRow, finding_id)
    if row is None or row.patient_id != patient_id:
        raise NotFound("finding", finding_id)
    return row


def add_finding(
    session: Session, actor: Actor, patient_id: int, finding: Any, *, allow_duplicate: bool = False
) -> StoredFinding:
    """Append a finding; the whole record is re-validated so it stays a valid case.

    A finding identical in every field to one already stored is refused (:class:`Conflict` naming it)
    unless ``allow_duplicate``: a request sent again after a timeout, or a form sent twice, would
    otherwise store it twice (two daunorubicin doses where one was given doubles the cumulative
    anthracycline). Checked under the record's write lock, so copies sent at once are stored once."""
    patient = lock_for_write(session, patient_id)
    rows = rows_of(session, patient_id)
    if not allow_duplicate:
        data = stable_json(finding)
        same = next((row for row in rows if row.type == finding.type and row.reported == data), None)
        if same is not None:
            raise Conflict(f"an identical {finding.type} finding is already stored (finding {same.id}): was this "
                           "sent twice? To store a second, separate one, send it with allow_duplicate=true",
                           finding_id=same.id)
    existing = [finding_of(row) for row in rows]
    validate_record(patient, existing + [finding])
    patient.finding_seq += 1
    row = FindingRow(patient_id=patient_id, position=patient.finding_seq, created_by=actor.user_id,
                     updated_by=actor.user_id)
    fill_row(row, finding)
    session.add(row)
    session.flush()
    audit.record(session, actor, "finding.create", object_type="finding", object_id=row.id, patient_id=patient_id,
                 detail={"type": finding.type})
    return with_index(session, row)


def update_finding(
    session: Session, actor: Actor, patient_id: int, finding_id: int, finding: Any, version: int
) -> StoredFinding:
    """Replace a finding if ``version`` is still current (else :class:`Conflict` with the current one)."""
    patient = lock_for_write(session, patient_id)
    row = _row(session, patient_id, finding_id)
    session.refresh(row)
    if row.version != version:
        raise Conflict("the finding was changed by someone else; reload it", current_version=row.version)
    if finding.type != row.type:
        raise InvalidRecord([("finding.type", f"a {row.type} finding cannot become a {finding.type}; add a new finding")])
    others = [finding if r.id == row.id else finding_of(r) for r in rows_of(session, patient_id)]
    validate_record(patient, others)
    result = session.execute(
        update(FindingRow)
        .where(FindingRow.id == finding_id, FindingRow.version == version)
        .values(date=finding.date, source_id=finding.id, reported=stable_json(finding),
                canonical=canonical_json(finding), version=version + 1, updated_at=utcnow(), updated_by=actor.user_id)
    )
    if cast(CursorResult[Any], result).rowcount != 1:  # pragma: no cover - the patient lock makes this unreachable
        raise Conflict("the finding was changed by someone else; reload it", current_version=row.version)
    session.refresh(row)
    audit.record(session, actor, "finding.update", object_type="finding", object_id=finding_id, patient_id=patient_id,
                 detail={"type": row.type})
    return with_index(session, row)


def delete_finding(
    session: Session, actor: Actor, patient_id: int, finding_id: int, version: int, *, reason: str | None = None
) -> None:
    """Delete a finding if ``version`` is still current; the ``reason`` given is kept in the audit event."""
    lock_for_write(session, patient_id)
    row = _row(session, patient_id, finding_id)
    session.refresh(row)
    if row.version != version:
        raise Conflict("the finding was changed by someone else; reload it", current_version=row.version)
    kind = row.type
    session.delete(row)
    session.flush()
    audit.record(session, actor, "finding.delete", object_type="finding", object_id=finding_id, patient_id=patient_id,
                 detail={"type": kind, **({"reason": reason} if reason else {})})

