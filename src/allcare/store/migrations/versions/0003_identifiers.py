"""Patient identifiers from other systems (MRN system + value), to recognise a patient across imports.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "patient_identifiers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("patient_id", sa.Integer(), sa.ForeignKey("patients.id", ondelete="CASCADE"), nullable=False),
        sa.Column("system", sa.String(500), nullable=False),
        sa.Column("value", sa.String(500), nullable=False),
        sa.UniqueConstraint("system", "value", name="uq_patient_identifiers_system_value"),
    )
    op.create_index("ix_patient_identifiers_patient", "patient_identifiers", ["patient_id"])


def downgrade() -> None:
    op.drop_table("patient_identifiers")
