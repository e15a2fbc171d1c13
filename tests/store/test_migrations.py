"""Alembic migrations on SQLite and PostgreSQL: build, upgrade with data, match schema.py."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

import mlpilot
from mlpilot import Cause, CriterionKind, Phase, Status
from mlpilot.store import database, schema
from mlpilot.store.database import SCHEMA_REVISION, migrate, resolve, schema_revisions
from tests.store.helpers import FULL_CHARTER, raw_engine, reopen, utc

ALL_TABLES = {*schema.metadata.tables, "alembic_version"}
TABLES_0001 = {
    "alembic_version",
    "initiatives",
    "criteria",
    "transitions",
    "decisions",
    "learnings",
    "members",
}


def _state(engine: Engine) -> tuple[set[str], set[str]]:
    """The table names and the schema revisions of a database."""
    with engine.connect() as connection:
        return set(inspect(connection).get_table_names()), schema_revisions(connection)


def _differences(engine: Engine) -> list[object]:
    """What Alembic's autogenerate would change to make the database match schema.metadata."""
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(context, schema.metadata))


def _alembic(engine: Engine, action: Callable[[Config, str], None], revision: str) -> None:
    """Run an Alembic command the way mlpilot does: on an open connection."""
    config = database._alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        action(config, revision)


def test_schema_revision_is_the_newest_migration() -> None:
    script = ScriptDirectory.from_config(database._alembic_config())

    assert script.get_heads() == [SCHEMA_REVISION]
    assert [rev.revision for rev in script.walk_revisions()] == [
        "0005",
        "0004",
        "0003",
        "0002",
        "0001",
    ]


def test_a_new_workspace_is_migrated_to_the_newest_revision(workspace_location: str) -> None:
    with mlpilot.Workspace.open(workspace_location) as ws:
        tables, revisions = _state(ws.store.engine)

    assert tables == ALL_TABLES
    assert revisions == {SCHEMA_REVISION}


def test_migrations_build_exactly_the_schema_module(workspace_location: str) -> None:
    with mlpilot.Workspace.open(workspace_location) as ws:
        assert _differences(ws.store.engine) == []


def test_upgrade_from_0001_keeps_the_data(workspace_location: str) -> None:
    location = resolve(workspace_location)
    if location.is_sqlite:
        location.home.mkdir(parents=True)
    engine = database._engine(location)
    migrate(engine, "0001")
    assert _state(engine) == (TABLES_0001, {"0001"})
    with engine.begin() as connection:
        initiative_id = connection.execute(
            schema.initiatives.insert()
            .values(
                slug="churn",
                name="Churn",
                problem="Customers leave",
                prediction_use="Retention offers",
                task="binary",
                shape="batch",
                baseline="Last month",
                status="active",
                created_at=utc(2024, 1, 1),
            )
            .returning(schema.initiatives.c.id)
        ).scalar_one()
        connection.execute(
            schema.transitions.insert(),
            [
                {
                    "initiative_id": initiative_id,
                    "seq": 1,
                    "at": utc(2024, 1, 1),
                    "to_phase": "business-understanding",
                },
                {
                    "initiative_id": initiative_id,
                    "seq": 2,
                    "at": utc(2024, 1, 5),
                    "from_phase": "business-understanding",
                    "to_phase": "modeling",
                },
            ],
        )
        connection.execute(
            schema.criteria.insert().values(
                initiative_id=initiative_id,
                kind="model",
                metric="recall",
                op=">=",
                target=0.8,
                guardrails="[]",
                created_at=utc(2024, 1, 2),
            )
        )
    engine.dispose()

    with mlpilot.Workspace.open(workspace_location, create=False) as ws:
        churn = ws.initiative("churn")
        assert churn.charter.status is Status.ACTIVE
        assert churn.charter.created_at == utc(2024, 1, 1)
        assert [t.to_phase for t in churn.history()] == [
            Phase.BUSINESS_UNDERSTANDING,
            Phase.MODELING,
        ]
        (criterion,) = churn.criteria()
        assert (criterion.kind, criterion.metric, criterion.target) == (
            CriterionKind.MODEL,
            "recall",
            0.8,
        )
        # What revision 0002 added works alongside the old data.
        churn.move_to("data-preparation", reason="missing labels", at="2024-01-06")
        assert ws.add_ally("lena", relation="legal", expertise=["gdpr"])
        ws.consult("lena", "consent", initiative="churn", at="2024-01-07")
        assert [c.initiative for c in ws.consultations()] == ["churn"]
        assert churn.history()[-1].cause is Cause.OTHER
        assert _state(ws.store.engine) == (ALL_TABLES, {SCHEMA_REVISION})
        assert _differences(ws.store.engine) == []


def test_downgrade_and_upgrade_again(workspace_location: str) -> None:
    with mlpilot.Workspace.open(workspace_location) as ws:
        ws.create_initiative("churn", **FULL_CHARTER, started="2024-01-01")
        ws.add_ally("lena", relation="legal", expertise=["gdpr"])
    engine = raw_engine(workspace_location)

    _alembic(engine, command.downgrade, "0001")
    assert _state(engine) == (TABLES_0001, {"0001"})

    with reopen(workspace_location) as ws:
        assert [c.slug for c in ws.initiatives()] == ["churn"]
        assert ws.allies() == []  # the network went with revision 0002
        assert ws.add_ally("omar", relation="data-engineer", expertise=["kafka"])

    _alembic(engine, command.downgrade, "base")
    assert _state(engine) == ({"alembic_version"}, set())

    _alembic(engine, command.upgrade, "head")
    assert _state(engine) == (ALL_TABLES, {SCHEMA_REVISION})
    assert _differences(engine) == []
    engine.dispose()

    with reopen(workspace_location) as ws:
        assert ws.initiatives() == []
        ws.create_initiative("churn", **FULL_CHARTER)
        assert [c.slug for c in ws.initiatives()] == ["churn"]


def test_a_workspace_downgraded_to_base_is_rebuilt_on_open(workspace_location: str) -> None:
    mlpilot.Workspace.open(workspace_location).close()
    engine = raw_engine(workspace_location)
    _alembic(engine, command.downgrade, "base")
    engine.dispose()

    with reopen(workspace_location) as ws:
        assert _state(ws.store.engine) == (ALL_TABLES, {SCHEMA_REVISION})


def test_an_up_to_date_workspace_opens_without_importing_alembic(tmp_path: Path) -> None:
    mlpilot.Workspace.open(tmp_path).close()
    script = (
        "import sys, mlpilot\n"
        "with mlpilot.Workspace.open(sys.argv[1], create=False) as ws:\n"
        "    ws.initiatives()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))\n"
    )

    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("revision", ["0001", "head"])
def test_migrate_to_a_revision_is_idempotent(tmp_path: Path, revision: str) -> None:
    engine = database._engine(resolve(tmp_path))

    migrate(engine, revision)
    first = _state(engine)
    migrate(engine, revision)

    assert _state(engine) == first
    assert first[1] == ({"0001"} if revision == "0001" else {SCHEMA_REVISION})
    engine.dispose()


def test_upgrade_from_0004_keeps_a_constrained_criterion_without_an_operating_point(
    workspace_location: str,
) -> None:
    location = resolve(workspace_location)
    if location.is_sqlite:
        location.home.mkdir(parents=True)
    engine = database._engine(location)
    migrate(engine, "0004")
    with engine.begin() as connection:
        initiative_id = connection.execute(
            schema.initiatives.insert()
            .values(
                slug="churn", name="Churn", problem="Customers leave",
                prediction_use="Retention calls", task="binary", shape="batch",
                baseline="Last month", status="active", created_at=utc(2024, 1, 1),
            )
            .returning(schema.initiatives.c.id)
        ).scalar_one()  # fmt: skip
        connection.execute(
            schema.criteria.insert().values(
                initiative_id=initiative_id, kind="model", metric="recall", op=">=", target=0.6,
                constraint_metric="precision", constraint_op=">=", constraint_target=0.5,
                guardrails="[]", created_at=utc(2024, 1, 2),
            )
        )  # fmt: skip
    engine.dispose()

    with mlpilot.Workspace.open(workspace_location, create=False) as ws:
        (old,) = ws.initiative("churn").criteria()
        assert old.operating_point is None
        assert old.needs_operating_point  # judged "insufficient", never met
        assert old.describe() == "recall >= 0.6 at precision >= 0.5"
        churn = ws.initiative("churn")
        new = churn.add_criterion("model", "precision", ">=", 0.3, top=500, per="week")
        assert new.describe() == "precision@500 per week >= 0.3"
        assert _state(ws.store.engine) == (ALL_TABLES, {SCHEMA_REVISION})
        assert _differences(ws.store.engine) == []
