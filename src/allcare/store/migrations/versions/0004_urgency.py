"""Patient summaries count current warnings too, so the list can sort by urgency (critical, then warnings),
and keep the diagnosis date the engine used, so the registry table filters by year of diagnosis.

Summaries are derived data: they are emptied here and recomputed on the next read, so every row gets
the new count (and the alerts' ``historical`` flag) from the engine rather than a guessed default.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM patient_summaries")
    with op.batch_alter_table("patient_summaries") as batch:
        batch.add_column(sa.Column("warning_alerts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("diagnosis_date", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("patient_summaries") as batch:
        batch.drop_column("diagnosis_date")
        batch.drop_column("warning_alerts")
