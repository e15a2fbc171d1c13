"""Monitoring records: alerts, experiments and their analyses, evaluations, uncertainty history.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _initiative(table: str) -> sa.Column[int]:
    return sa.Column(
        "initiative_id",
        sa.Integer,
        sa.ForeignKey(
            "initiatives.id", ondelete="CASCADE", name=f"fk_{table}_initiative_id_initiatives"
        ),
        nullable=False,
    )


def _utc(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer),
        _initiative("alerts"),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("monitor_group", sa.String(16), nullable=False),
        sa.Column("criterion", sa.Text, nullable=False),
        sa.Column("metric", sa.String(64), nullable=False),
        _utc("window_start", nullable=True),
        _utc("window_end", nullable=True),
        sa.Column("observed", sa.Float),
        sa.Column("threshold", sa.Float),
        sa.Column("severity", sa.String(16), nullable=False),
        _utc("first_seen"),
        _utc("last_seen"),
        _utc("resolved_at", nullable=True),
        sa.Column("plan", sa.Text),
        sa.Column("details", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alerts"),
    )
    op.create_table(
        "experiments",
        sa.Column("id", sa.Integer),
        _initiative("experiments"),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("variants", sa.Text, nullable=False),
        sa.Column("split", sa.Text, nullable=False),
        sa.Column("metrics", sa.Text, nullable=False),
        sa.Column("criteria", sa.Text, nullable=False),
        _utc("created_at"),
        sa.Column("details", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_experiments"),
        sa.UniqueConstraint("initiative_id", "name", name="uq_experiments_initiative_name"),
    )
    op.create_table(
        "experiment_analyses",
        sa.Column("id", sa.Integer),
        sa.Column(
            "experiment_id",
            sa.Integer,
            sa.ForeignKey(
                "experiments.id",
                ondelete="CASCADE",
                name="fk_experiment_analyses_experiment_id_experiments",
            ),
            nullable=False,
        ),
        _utc("at"),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("results", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_experiment_analyses"),
    )
    op.create_table(
        "evaluations",
        sa.Column("id", sa.Integer),
        _initiative("evaluations"),
        sa.Column("name", sa.String(200), nullable=False),
        _utc("at"),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("train_size", sa.Integer),
        sa.Column("n", sa.Integer),
        sa.Column("metrics", sa.Text, nullable=False),
        sa.Column("details", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_evaluations"),
    )
    op.create_table(
        "uncertainty",
        sa.Column("id", sa.Integer),
        _initiative("uncertainty"),
        _utc("at"),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("probability", sa.Float),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("details", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_uncertainty"),
    )
    for table in ("alerts", "experiments", "evaluations", "uncertainty"):
        op.create_index(f"ix_{table}_initiative_id", table, ["initiative_id"])
    op.create_index(
        "ix_experiment_analyses_experiment_id", "experiment_analyses", ["experiment_id"]
    )


def downgrade() -> None:
    for table in ("uncertainty", "evaluations", "experiment_analyses", "experiments", "alerts"):
        op.drop_table(table)
