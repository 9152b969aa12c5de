"""Initial schema: patients, findings, users, tokens, sessions, audit log, derived summaries.

Written to run unchanged on SQLite and PostgreSQL. The audit log is made
append-only by triggers in the database itself, so not even a bug in allcare (or
a person with SQL access through allcare's account) can quietly rewrite history.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Timestamp = sa.DateTime(timezone=False)  # naive UTC; see allcare.store.types.UTCDateTime
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "patients",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("identifier", sa.String(200), nullable=False, unique=True),
        sa.Column("display_name", sa.String(200)),
        sa.Column("birth_date", sa.Date()),
        sa.Column("age_years", sa.Float()),
        sa.Column("sex", sa.String(16), nullable=False),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("diagnosis_date", sa.Date()),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("finding_seq", sa.Integer(), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(80), nullable=False, unique=True),
        sa.Column("display_name", sa.String(200)),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("patient_id", sa.Integer(), sa.ForeignKey("patients.id", ondelete="SET NULL")),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
    )
    op.create_table(
        "findings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("patient_id", sa.Integer(), sa.ForeignKey("patients.id", ondelete="CASCADE"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("source_id", sa.String(200)),
        sa.Column("reported", sa.JSON(), nullable=False),
        sa.Column("canonical", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("updated_by", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.UniqueConstraint("patient_id", "position", name="uq_findings_patient_position"),
    )
    op.create_index("ix_findings_patient_type_date", "findings", ["patient_id", "type", "date"])
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("expires_at", Timestamp),
        sa.Column("last_used_at", Timestamp),
        sa.Column("revoked_at", Timestamp),
    )
    op.create_index("ix_api_tokens_user_id", "api_tokens", ["user_id"])
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("expires_at", Timestamp, nullable=False),
        sa.Column("ip", sa.String(64)),
    )
    op.create_index("ix_user_sessions_user_id", "user_sessions", ["user_id"])
    op.create_table(
        "audit_events",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("at", Timestamp, nullable=False),
        sa.Column("user_id", sa.Integer()),
        sa.Column("username", sa.String(80)),
        sa.Column("role", sa.String(16)),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("object_type", sa.String(32)),
        sa.Column("object_id", sa.String(64)),
        sa.Column("patient_id", sa.Integer()),
        sa.Column("ip", sa.String(64)),
        sa.Column("via", sa.String(16)),
        sa.Column("detail", sa.JSON()),
    )
    op.create_index("ix_audit_events_patient", "audit_events", ["patient_id"])
    op.create_index("ix_audit_events_user", "audit_events", ["user_id"])
    op.create_table(
        "patient_summaries",
        sa.Column("patient_id", sa.Integer(), sa.ForeignKey("patients.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("engine_version", sa.String(32), nullable=False),
        sa.Column("rules_version", sa.String(100), nullable=False),
        sa.Column("computed_at", Timestamp, nullable=False),
        sa.Column("as_of", sa.Date()),
        sa.Column("last_visit", sa.Date()),
        sa.Column("disease", sa.String(32)),
        sa.Column("lineage", sa.String(16)),
        sa.Column("who_key", sa.String(64)),
        sa.Column("status", sa.String(32)),
        sa.Column("phase", sa.String(32)),
        sa.Column("nci_risk", sa.String(32)),
        sa.Column("genetic_risk", sa.String(16)),
        sa.Column("cog_group", sa.String(16)),
        sa.Column("icd_10_cm", sa.String(16)),
        sa.Column("icd_o_3", sa.String(16)),
        sa.Column("alerts", sa.JSON(), nullable=False),
        sa.Column("alert_codes", sa.String(1000), nullable=False),
        sa.Column("critical_alerts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text()),
        sa.Column("assessment_gz", sa.LargeBinary()),
    )
    for column in ("last_visit", "lineage", "nci_risk", "status"):
        op.create_index(f"ix_patient_summaries_{column}", "patient_summaries", [column])
    _make_audit_append_only()


def _make_audit_append_only() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION allcare_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
            "FOR EACH ROW EXECUTE FUNCTION allcare_audit_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
            "FOR EACH STATEMENT EXECUTE FUNCTION allcare_audit_append_only()"
        )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_events_no_{event.lower()} BEFORE {event} ON audit_events "
                "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
            )


def downgrade() -> None:
    for table in ("patient_summaries", "audit_events", "user_sessions", "api_tokens", "findings", "users", "patients"):
        op.drop_table(table)
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS allcare_audit_append_only()")
