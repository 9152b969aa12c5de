"""An index on findings by patient, date and position: the patient page lists a record's newest findings
(``ORDER BY date DESC, position DESC LIMIT 20``) and its latest date by walking it backwards, instead of
reading and sorting all ~150 rows of a three-year record (with their JSON) for each list.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_findings_patient_date_position", "findings", ["patient_id", "date", "position"])


def downgrade() -> None:
    op.drop_index("ix_findings_patient_date_position", table_name="findings")
