"""Initiatives with charter, criteria, lifecycle transitions, decisions, learnings and team.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_TZ = sa.DateTime(timezone=True)


def _initiative_id(table: str) -> sa.Column[int]:
    return sa.Column(
        "initiative_id",
        sa.Integer,
        sa.ForeignKey(
            "initiatives.id", ondelete="CASCADE", name=f"fk_{table}_initiative_id_initiatives"
        ),
        nullable=False,
    )


def _child(name: str, *columns: sa.Column[object] | sa.UniqueConstraint) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.Integer),
        _initiative_id(name),
        *columns,
        sa.PrimaryKeyConstraint("id", name=f"pk_{name}"),
    )
    op.create_index(f"ix_{name}_initiative_id", name, ["initiative_id"])


def upgrade() -> None:
    op.create_table(
        "initiatives",
        sa.Column("id", sa.Integer),
        sa.Column("slug", sa.String(64), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("problem", sa.Text, nullable=False),
        sa.Column("problem_owner", sa.Text),
        sa.Column("prediction_use", sa.Text, nullable=False),
        sa.Column("used_by", sa.Text),
        sa.Column("used_when", sa.Text),
        sa.Column("task", sa.String(32), nullable=False),
        sa.Column("shape", sa.String(32), nullable=False),
        sa.Column("baseline", sa.Text, nullable=False),
        sa.Column("baseline_value", sa.Float),
        sa.Column("baseline_metric", sa.String(64)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_initiatives"),
        sa.UniqueConstraint("slug", name="uq_initiatives_slug"),
    )
    _child(
        "criteria",
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("metric", sa.String(64), nullable=False),
        sa.Column("op", sa.String(2), nullable=False),
        sa.Column("target", sa.Float, nullable=False),
        sa.Column("constraint_metric", sa.String(64)),
        sa.Column("constraint_op", sa.String(2)),
        sa.Column("constraint_target", sa.Float),
        sa.Column("effect", sa.String(16)),
        sa.Column("guardrails", sa.Text, nullable=False),
        sa.Column("plan", sa.Text),
        sa.Column("created_at", _TZ, nullable=False),
    )
    _child(
        "transitions",
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("at", _TZ, nullable=False),
        sa.Column("from_phase", sa.String(32)),
        sa.Column("to_phase", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("cause", sa.String(16)),
        sa.Column("who", sa.Text),
        sa.UniqueConstraint("initiative_id", "seq", name="uq_transitions_initiative_seq"),
    )
    _child(
        "decisions",
        sa.Column("at", _TZ, nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("rationale", sa.Text, nullable=False),
        sa.Column("evidence", sa.Text, nullable=False),
        sa.Column("who", sa.Text),
    )
    _child(
        "learnings",
        sa.Column("at", _TZ, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("phase", sa.String(32)),
        sa.Column("tags", sa.Text, nullable=False),
        sa.Column("source", sa.Text),
    )
    _child(
        "members",
        sa.Column("person", sa.String(200), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("allocation", sa.Float, nullable=False),
        sa.UniqueConstraint("initiative_id", "person", "role", name="uq_members_person_role"),
    )


def downgrade() -> None:
    for name in ("members", "learnings", "decisions", "transitions", "criteria"):
        op.drop_table(name)
    op.drop_table("initiatives")
