"""The record store's tables (SQLAlchemy 2 declarative models).

Findings are stored the way the engine reads them: one row per case-file
finding, with the case-file JSON exactly as reported (units and lab ranges as
written, so export is lossless) beside a canonical-unit copy for queries and
charts. The engine's case model stays the single definition of what a valid
finding is; these tables never re-describe its fields.

Two counters on a patient serve different purposes: ``version`` guards the
demographic row against lost updates (a stale edit gets HTTP 409), while
``revision`` changes with *any* change to the record, including findings, and
keys the assessment cache. Each finding has its own ``version`` so two people
adding different blood counts never conflict, but two edits of the same one do.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from .types import UTCDateTime, utcnow

ROLES = ("clinician", "registrar", "patient", "admin")
MAX_ROW_ID = 2**31 - 1  # row ids are INTEGER columns: 32 bits on PostgreSQL

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    type_annotation_map = {dt.datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}  # noqa: RUF012 - SQLAlchemy's hook


# Ids are never reused (SQLite AUTOINCREMENT; PostgreSQL sequences never go back): caches,
# audit events and links name records by id, so a deleted record's id must never name another.
NEVER_REUSE_IDS = {"sqlite_autoincrement": True}


class Patient(Base):
    __tablename__ = "patients"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    identifier: Mapped[str] = mapped_column(String(200), unique=True, doc="the case file's patient.id")
    display_name: Mapped[str | None] = mapped_column(String(200), default=None)
    birth_date: Mapped[dt.date | None] = mapped_column(Date, default=None)
    age_years: Mapped[float | None] = mapped_column(Float, default=None)
    sex: Mapped[str] = mapped_column(String(16), default="unknown")
    conditions: Mapped[list[Any]] = mapped_column(JSON, default=list)
    diagnosis_date: Mapped[dt.date | None] = mapped_column(Date, default=None)
    version: Mapped[int] = mapped_column(Integer, default=1)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    finding_seq: Mapped[int] = mapped_column(Integer, default=0, doc="last finding position handed out")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    findings: Mapped[list[FindingRow]] = relationship(
        back_populates="patient", order_by="FindingRow.position", passive_deletes=True, lazy="raise"
    )


class FindingRow(Base):
    __tablename__ = "findings"
    __table_args__ = (
        UniqueConstraint("patient_id", "position", name="uq_findings_patient_position"),
        Index("ix_findings_patient_type_date", "patient_id", "type", "date"),
        Index("ix_findings_patient_date_position", "patient_id", "date", "position"),  # the page's newest findings
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, doc="order in the case file (import order, then insertion)")
    type: Mapped[str] = mapped_column(String(32))
    date: Mapped[dt.date] = mapped_column(Date)
    source_id: Mapped[str | None] = mapped_column(String(200), default=None, doc="the finding's own id, e.g. FHIR")
    reported: Mapped[dict[str, Any]] = mapped_column(JSON, doc="case-file JSON as reported; round-trips")
    canonical: Mapped[dict[str, Any]] = mapped_column(JSON, doc="same finding, quantities in canonical units")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)

    patient: Mapped[Patient] = relationship(back_populates="findings", lazy="raise")


class PatientIdentifier(Base):
    """An identifier another system gives the patient (an MRN: system + value), unique across patients.

    Imports match a patient by these before the case file's ``patient.id``, so the same
    person sent by two servers (or in a Bundle without resource ids) is one record.
    """

    __tablename__ = "patient_identifiers"
    __table_args__ = (UniqueConstraint("system", "value", name="uq_patient_identifiers_system_value"),
                      Index("ix_patient_identifiers_patient", "patient_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    system: Mapped[str] = mapped_column(String(500))
    value: Mapped[str] = mapped_column(String(500))


class User(Base):
    __tablename__ = "users"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200), default=None)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    patient_id: Mapped[int | None] = mapped_column(
        ForeignKey("patients.id", ondelete="SET NULL"), default=None, doc="the one record a patient user may read"
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiToken(Base):
    """A bearer token for scripts. Only a SHA-256 of the token is kept.

    Tokens are 256 random bits, so a fast hash is enough (no dictionary to
    attack) and lets every request look its token up by an index.
    """

    __tablename__ = "api_tokens"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16), doc="first characters, to tell tokens apart in a list")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)


class UserSession(Base):
    """A browser login. Kept server-side so logout and deactivation end it at once."""

    __tablename__ = "user_sessions"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ip: Mapped[str | None] = mapped_column(String(64), default=None)


class AuditEvent(Base):
    """Who did what to which record, when, from where. Append-only and hash-chained.

    No foreign keys: the trail must outlive deleted patients and users. No patient
    data either, only internal ids, so the log can be shown to an administrator.
    Triggers refuse UPDATE and DELETE; on PostgreSQL allcare's own role may only
    INSERT and SELECT (see ``store.roles``). ``hash`` chains each event to the one
    before (``store.audit``), so a change made around allcare is found by
    ``allcare audit verify``. Ids are consecutive: they are handed out under the
    chain's lock, in commit order.
    """

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_patient", "patient_id"), Index("ix_audit_events_user", "user_id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(Integer, default=None)
    username: Mapped[str | None] = mapped_column(String(80), default=None)
    role: Mapped[str | None] = mapped_column(String(16), default=None)
    action: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16), default="ok")
    object_type: Mapped[str | None] = mapped_column(String(32), default=None)
    object_id: Mapped[str | None] = mapped_column(String(64), default=None)
    patient_id: Mapped[int | None] = mapped_column(Integer, default=None)
    ip: Mapped[str | None] = mapped_column(String(64), default=None)
    via: Mapped[str | None] = mapped_column(String(16), default=None, doc="session, token, cli")
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    hash: Mapped[str | None] = mapped_column(String(64), default=None, doc="sha256 of the previous hash and this event")


class StoreState(Base):
    """One row: the store's ``epoch``, a random value that ``restore`` replaces.

    Caches key records by (epoch, id, revision): after a restore (by any process)
    the same id and revision may hold other content, and the new epoch tells.
    """

    __tablename__ = "store_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    epoch: Mapped[str] = mapped_column(String(36))


class PatientSummary(Base):
    """Derived from the engine's assessment, never edited: the columns the patient list filters on.

    Stale when its revision, engine version or rule-set version differs from
    the current ones; it is then recomputed on the next read. It also keeps the
    assessment itself, compressed, so a restarted server (or a second worker)
    answers from it instead of running the engine again.
    """

    __tablename__ = "patient_summaries"

    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), primary_key=True)
    revision: Mapped[int] = mapped_column(Integer)
    epoch: Mapped[str] = mapped_column(String(36), doc="the store epoch it was computed in")
    engine_version: Mapped[str] = mapped_column(String(32))
    rules_version: Mapped[str] = mapped_column(String(100))
    computed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    as_of: Mapped[dt.date | None] = mapped_column(Date, default=None)
    diagnosis_date: Mapped[dt.date | None] = mapped_column(Date, default=None, doc="as the engine read it")
    last_visit: Mapped[dt.date | None] = mapped_column(Date, default=None, index=True)
    disease: Mapped[str | None] = mapped_column(String(32), default=None)
    lineage: Mapped[str | None] = mapped_column(String(16), default=None, index=True)
    who_key: Mapped[str | None] = mapped_column(String(64), default=None)
    who_name: Mapped[str | None] = mapped_column(String(300), default=None)
    icc_key: Mapped[str | None] = mapped_column(String(64), default=None)
    icc_name: Mapped[str | None] = mapped_column(String(300), default=None)
    status: Mapped[str | None] = mapped_column(String(32), default=None, index=True)
    status_since: Mapped[dt.date | None] = mapped_column(Date, default=None)
    phase: Mapped[str | None] = mapped_column(String(32), default=None)
    nci_risk: Mapped[str | None] = mapped_column(String(32), default=None, index=True)
    genetic_risk: Mapped[str | None] = mapped_column(String(16), default=None)
    cog_group: Mapped[str | None] = mapped_column(String(16), default=None)
    icd_10_cm: Mapped[str | None] = mapped_column(String(16), default=None)
    icd_o_3: Mapped[str | None] = mapped_column(String(16), default=None)
    icd_o_3_topography: Mapped[str | None] = mapped_column(String(16), default=None, doc="the primary site (C42.1 ...)")
    snomed_ct: Mapped[str | None] = mapped_column(String(32), default=None)
    alerts: Mapped[list[Any]] = mapped_column(JSON, default=list, doc="[{code, severity}]")
    alert_codes: Mapped[str] = mapped_column(String(1000), default="", doc="',a,b,': filterable on any database")
    critical_alerts: Mapped[int] = mapped_column(Integer, default=0)
    warning_alerts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    error: Mapped[str | None] = mapped_column(Text, default=None, doc="why the engine could not assess")
    # Deferred: lists, the registry and cohort counts read every summary's columns but never this
    # blob (~17 KB each); the record's own page loads it when it asks for it.
    assessment_gz: Mapped[bytes | None] = mapped_column(
        LargeBinary, default=None, deferred=True,
        doc="the assessment JSON (as of the latest finding), gzip: ~17 KB, not ~280 KB",
    )
