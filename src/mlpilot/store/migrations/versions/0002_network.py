"""The network of allies and the consultations logged with them.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "allies",
        sa.Column("id", sa.Integer),
        sa.Column("person", sa.String(200), nullable=False),
        sa.Column("relation", sa.String(32), nullable=False),
        sa.Column("expertise", sa.Text, nullable=False),
        sa.Column("team", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_allies"),
        sa.UniqueConstraint("person", name="uq_allies_person"),
    )
    op.create_table(
        "consultations",
        sa.Column("id", sa.Integer),
        sa.Column(
            "ally_id",
            sa.Integer,
            sa.ForeignKey("allies.id", ondelete="CASCADE", name="fk_consultations_ally_id_allies"),
            nullable=False,
        ),
        sa.Column(
            "initiative_id",
            sa.Integer,
            sa.ForeignKey(
                "initiatives.id",
                ondelete="CASCADE",
                name="fk_consultations_initiative_id_initiatives",
            ),
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("need", sa.Text, nullable=False),
        sa.Column("outcome", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_consultations"),
    )
    op.create_index("ix_consultations_initiative_id", "consultations", ["initiative_id"])


def downgrade() -> None:
    op.drop_table("consultations")
    op.drop_table("allies")
