"""The operating point of a model criterion: a threshold, a capacity, or each prediction's decision.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_COLUMNS = (
    ("point_threshold", sa.Float()),
    ("point_top", sa.Integer()),
    ("point_per", sa.String(16)),
    ("point_decision", sa.Boolean()),
)


def upgrade() -> None:
    # Nullable columns: criteria stored before keep no operating point, and are judged
    # "insufficient: no operating point declared" when they need one.
    with op.batch_alter_table("criteria") as batch:
        for name, kind in _COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("criteria") as batch:
        for name, _ in reversed(_COLUMNS):
            batch.drop_column(name)
