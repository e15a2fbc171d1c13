"""The metadata schema (SQLAlchemy Core). Alembic migrations in ``migrations/`` create it.

A test compares this metadata with the database the migrations build, so the two cannot drift.
Times are stored in UTC. Lists (tags, evidence, guardrails) are JSON text.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

# Named constraints, so migrations on SQLite and PostgreSQL create and alter the same names.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)


def _initiative_ref(nullable: bool = False) -> Column[int]:
    return Column(
        "initiative_id",
        Integer,
        ForeignKey("initiatives.id", ondelete="CASCADE"),
        nullable=nullable,
        index=True,
    )


initiatives = Table(
    "initiatives",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("slug", String(64), nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("problem", Text, nullable=False),
    Column("problem_owner", Text),
    Column("prediction_use", Text, nullable=False),
    Column("used_by", Text),
    Column("used_when", Text),
    Column("task", String(32), nullable=False),
    Column("shape", String(32), nullable=False),
    Column("baseline", Text, nullable=False),
    Column("baseline_value", Float),
    Column("baseline_metric", String(64)),
    Column("status", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

criteria = Table(
    "criteria",
    metadata,
    Column("id", Integer, primary_key=True),
    _initiative_ref(),
    Column("kind", String(16), nullable=False),
    Column("metric", String(64), nullable=False),
    Column("op", String(2), nullable=False),
    Column("target", Float, nullable=False),
    Column("constraint_metric", String(64)),
    Column("constraint_op", String(2)),
    Column("constraint_target", Float),
    # The operating point (revision 0005): a threshold, a capacity (top k per period), or each
    # prediction's decision; all null for criteria that do not depend on one.
    Column("point_threshold", Float),
    Column("point_top", Integer),
    Column("point_per", String(16)),
    Column("point_decision", Boolean),
    Column("effect", String(16)),
    Column("guardrails", Text, nullable=False),
    Column("plan", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

transitions = Table(
    "transitions",
    metadata,
    Column("id", Integer, primary_key=True),
    _initiative_ref(),
    Column("seq", Integer, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("from_phase", String(32)),
    Column("to_phase", String(32), nullable=False),
    Column("reason", Text),
    Column("cause", String(16)),
    Column("who", Text),
    # Two writers appending at once cannot both take the same place in the log.
    UniqueConstraint("initiative_id", "seq", name="uq_transitions_initiative_seq"),
)

decisions = Table(
    "decisions",
    metadata,
    Column("id", Integer, primary_key=True),
    _initiative_ref(),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("verdict", String(16), nullable=False),
    Column("rationale", Text, nullable=False),
    Column("evidence", Text, nullable=False),
    Column("who", Text),
)

learnings = Table(
    "learnings",
    metadata,
    Column("id", Integer, primary_key=True),
    _initiative_ref(),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("text", Text, nullable=False),
    Column("phase", String(32)),
    Column("tags", Text, nullable=False),
    Column("source", Text),
)

members = Table(
    "members",
    metadata,
    Column("id", Integer, primary_key=True),
    _initiative_ref(),
    Column("person", String(200), nullable=False),
    Column("role", String(32), nullable=False),
    Column("allocation", Float, nullable=False),
    UniqueConstraint("initiative_id", "person", "role", name="uq_members_person_role"),
)

allies = Table(
    "allies",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("person", String(200), nullable=False, unique=True),
    Column("relation", String(32), nullable=False),
    Column("expertise", Text, nullable=False),
    Column("team", Text),
)

consultations = Table(
    "consultations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ally_id", Integer, ForeignKey("allies.id", ondelete="CASCADE"), nullable=False),
    _initiative_ref(nullable=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("need", Text, nullable=False),
    Column("outcome", Text),
)

# Monitoring records (revision 0003). Payloads whose shape belongs to a monitor are JSON text.

alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True),
    _initiative_ref(),
    Column("key", String(200), nullable=False),  # one open alert per key: no duplicates
    Column("monitor_group", String(16), nullable=False),  # model, data, service, impact
    Column("criterion", Text, nullable=False),  # as written, e.g. "roc_auc >= 0.8"
    Column("metric", String(64), nullable=False),
    Column("window_start", DateTime(timezone=True)),
    Column("window_end", DateTime(timezone=True)),
    Column("observed", Float),
    Column("threshold", Float),
    Column("severity", String(16), nullable=False),
    Column("first_seen", DateTime(timezone=True), nullable=False),
    Column("last_seen", DateTime(timezone=True), nullable=False),
    Column("resolved_at", DateTime(timezone=True)),
    Column("plan", Text),
    Column("details", Text, nullable=False),
)

experiments = Table(
    "experiments",
    metadata,
    Column("id", Integer, primary_key=True),
    _initiative_ref(),
    Column("name", String(64), nullable=False),
    Column("variants", Text, nullable=False),
    Column("split", Text, nullable=False),
    Column("metrics", Text, nullable=False),
    Column("criteria", Text, nullable=False),  # the impact criteria in force at creation
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("details", Text, nullable=False),
    UniqueConstraint("initiative_id", "name", name="uq_experiments_initiative_name"),
)

experiment_analyses = Table(
    "experiment_analyses",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "experiment_id",
        Integer,
        ForeignKey("experiments.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("method", String(16), nullable=False),
    Column("verdict", String(16), nullable=False),
    Column("results", Text, nullable=False),
)

evaluations = Table(
    "evaluations",
    metadata,
    Column("id", Integer, primary_key=True),
    _initiative_ref(),
    Column("name", String(200), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("source", String(32), nullable=False),  # predictions, values, sklearn, mlflow
    Column("train_size", Integer),
    Column("n", Integer),
    Column("metrics", Text, nullable=False),
    Column("details", Text, nullable=False),
)

uncertainty = Table(
    "uncertainty",
    metadata,
    Column("id", Integer, primary_key=True),
    _initiative_ref(),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("kind", String(8), nullable=False),  # model or impact
    Column("probability", Float),
    Column("source", Text, nullable=False),
    Column("details", Text, nullable=False),
)

# Access tokens of the team server (revision 0004): only the SHA-256 of a token is kept.

access_tokens = Table(
    "access_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("role", String(16), nullable=False),  # viewer, editor, admin, ingest
    _initiative_ref(nullable=True),  # None: the whole workspace
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
)
