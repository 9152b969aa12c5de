"""Ids never reused, a store epoch, a hash-chained audit log, coded summary columns.

- SQLite tables get ``AUTOINCREMENT``: without it SQLite hands a deleted row's id
  to the next insert, and caches, audit events and patient logins that name the
  old record would name the new one. (PostgreSQL sequences never go back.)
- ``store_state`` holds the store's epoch, replaced by every restore.
- ``audit_events.hash`` chains each event to the previous one; existing events
  are chained here, in id order.
- ``patient_summaries`` is derived data: it is recreated with the epoch it was
  computed in and the coded columns of the registrar's view, and refilled on read.

Revision ID: 0002
Revises: 0001
"""

import datetime as dt
import uuid

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime(timezone=False)
AUTOINCREMENT_TABLES = ("patients", "users", "findings", "api_tokens", "user_sessions")


def upgrade() -> None:
    dialect = op.get_context().dialect.name
    op.create_table(
        "store_state",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("epoch", sa.String(36), nullable=False),
    )
    op.execute(sa.text("INSERT INTO store_state (id, epoch) VALUES (1, :epoch)").bindparams(epoch=str(uuid.uuid4())))
    op.add_column("audit_events", sa.Column("hash", sa.String(64)))
    _chain_existing_events(dialect)
    op.drop_table("patient_summaries")
    _create_summaries()
    from allcare.store.db import continue_ids

    continue_ids(op.get_bind(), AUTOINCREMENT_TABLES)
    if dialect == "sqlite":
        for table in AUTOINCREMENT_TABLES:  # rebuilt with AUTOINCREMENT (foreign keys are off while migrating)
            with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_autoincrement": True}):
                pass


def _chain_existing_events(dialect: str) -> None:
    from allcare.store.audit import GENESIS, event_hash

    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT id, at, user_id, username, role, action, outcome, object_type, object_id, patient_id, ip, via, "
        "detail FROM audit_events ORDER BY id"
    )).mappings().all()
    if not rows:
        return
    _audit_updates(dialect, allow=True)
    # SQLite hands JSON back as text; a driver that decodes JSON itself (psycopg) has no processor.
    decode_json = sa.JSON().result_processor(bind.dialect, None)
    previous, expected = GENESIS, 0
    for row in rows:
        event = dict(row)
        expected += 1  # noqa: SIM113
        if event["id"] != expected:  # make ids consecutive, as the chain hands them out from now on
            bind.execute(sa.text("UPDATE audit_events SET id = :new WHERE id = :old"), {"new": expected, "old": event["id"]})
            event["id"] = expected
        event["at"] = _aware(event["at"])
        if decode_json is not None and isinstance(event["detail"], str):
            event["detail"] = decode_json(event["detail"])
        previous = event_hash(previous, event)
        bind.execute(sa.text("UPDATE audit_events SET hash = :hash WHERE id = :id"), {"hash": previous, "id": expected})
    _audit_updates(dialect, allow=False)


def _aware(value):
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=dt.UTC)


def _audit_updates(dialect: str, *, allow: bool) -> None:
    """Lift the append-only trigger for this migration's own update of the log, then restore it."""
    if dialect == "postgresql":
        op.execute(f"ALTER TABLE audit_events {'DISABLE' if allow else 'ENABLE'} TRIGGER audit_events_append_only")
    elif allow:
        op.execute("DROP TRIGGER audit_events_no_update")
    else:
        op.execute("CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
                   "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END")


def _create_summaries() -> None:
    op.create_table(
        "patient_summaries",
        sa.Column("patient_id", sa.Integer(), sa.ForeignKey("patients.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("epoch", sa.String(36), nullable=False),
        sa.Column("engine_version", sa.String(32), nullable=False),
        sa.Column("rules_version", sa.String(100), nullable=False),
        sa.Column("computed_at", Timestamp, nullable=False),
        sa.Column("as_of", sa.Date()),
        sa.Column("last_visit", sa.Date()),
        sa.Column("disease", sa.String(32)),
        sa.Column("lineage", sa.String(16)),
        sa.Column("who_key", sa.String(64)),
        sa.Column("who_name", sa.String(300)),
        sa.Column("icc_key", sa.String(64)),
        sa.Column("icc_name", sa.String(300)),
        sa.Column("status", sa.String(32)),
        sa.Column("status_since", sa.Date()),
        sa.Column("phase", sa.String(32)),
        sa.Column("nci_risk", sa.String(32)),
        sa.Column("genetic_risk", sa.String(16)),
        sa.Column("cog_group", sa.String(16)),
        sa.Column("icd_10_cm", sa.String(16)),
        sa.Column("icd_o_3", sa.String(16)),
        sa.Column("snomed_ct", sa.String(32)),
        sa.Column("alerts", sa.JSON(), nullable=False),
        sa.Column("alert_codes", sa.String(1000), nullable=False),
        sa.Column("critical_alerts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text()),
        sa.Column("assessment_gz", sa.LargeBinary()),
    )
    for column in ("last_visit", "lineage", "nci_risk", "status"):
        op.create_index(f"ix_patient_summaries_{column}", "patient_summaries", [column])


def downgrade() -> None:
    raise NotImplementedError("allcare does not downgrade a store; restore a backup made by the older version")
