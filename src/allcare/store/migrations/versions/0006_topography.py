"""Patient summaries keep the ICD-O-3 topography (the primary site: C42.1 bone marrow for a leukaemia, the lymph
node region for a lymphoblastic lymphoma), so the registry table, its CSV, the coded view, the code filter and the
cohort counts give it beside the morphology.

Summaries are derived data: a row stored before has no site, so every one is marked stale here (its engine version
no longer matches) rather than served as current with an empty site; the server's background pass recomputes them,
and until then lists and the registry show their other codes marked not current.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("patient_summaries") as batch:
        batch.add_column(sa.Column("icd_o_3_topography", sa.String(16), nullable=True))
    op.execute("UPDATE patient_summaries SET engine_version = 'before-0006'")


def downgrade() -> None:
    with op.batch_alter_table("patient_summaries") as batch:
        batch.drop_column("icd_o_3_topography")
