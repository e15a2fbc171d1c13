"""Workspaces that cannot be used fail with a WorkspaceError and are left as they were."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, inspect, text

import mlpilot
from mlpilot import (
    CorruptWorkspaceError,
    DatabaseUnreachableError,
    MlpilotError,
    ValidationError,
    WorkspaceError,
)
from mlpilot.store import database
from mlpilot.store.database import DB_FILE, SCHEMA_REVISION
from tests.postgres import PostgresCluster
from tests.store.helpers import MINIMAL_CHARTER, raw_engine


def _tables(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(inspect(connection).get_table_names())


def _versions(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())


def test_a_text_file_is_not_a_workspace_and_stays_unchanged(tmp_path: Path) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    content = b"shopping list\n- milk\n- eggs\n" * 50
    (folder / DB_FILE).write_bytes(content)

    with pytest.raises(CorruptWorkspaceError, match="cannot be read"):
        mlpilot.Workspace.open(folder)

    assert (folder / DB_FILE).read_bytes() == content
    assert [p.name for p in folder.iterdir()] == [DB_FILE]


def test_another_applications_database_is_refused_and_untouched(
    workspace_location: str,
) -> None:
    engine = raw_engine(workspace_location)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total FLOAT)"))
        connection.execute(text("INSERT INTO invoices (id, total) VALUES (1, 9.5)"))

    with pytest.raises(CorruptWorkspaceError, match="not an mlpilot workspace"):
        mlpilot.Workspace.open(workspace_location)

    assert _tables(engine) == {"invoices"}
    with engine.connect() as connection:
        assert connection.execute(text("SELECT total FROM invoices")).scalar_one() == 9.5
    engine.dispose()


def test_a_sqlite_file_of_another_application_is_refused(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / DB_FILE) as connection:
        connection.execute("CREATE TABLE bookmarks (url TEXT)")
    connection.close()
    before = (tmp_path / DB_FILE).read_bytes()

    with pytest.raises(CorruptWorkspaceError, match="no mlpilot schema version"):
        mlpilot.Workspace.open(tmp_path, create=False)

    assert (tmp_path / DB_FILE).read_bytes() == before


def test_a_workspace_of_a_newer_mlpilot_is_refused(workspace_location: str) -> None:
    with mlpilot.Workspace.open(workspace_location) as ws:
        ws.create_initiative("churn", **MINIMAL_CHARTER)
    engine = raw_engine(workspace_location)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'zzzz9999'"))

    with pytest.raises(CorruptWorkspaceError, match="newer") as excinfo:
        mlpilot.Workspace.open(workspace_location)

    assert "zzzz9999" in str(excinfo.value)
    assert _versions(engine) == ["zzzz9999"]
    engine.dispose()


def test_create_false_on_a_missing_folder_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "typo" / "workspace"

    with pytest.raises(WorkspaceError, match="no mlpilot workspace") as excinfo:
        mlpilot.Workspace.open(missing, create=False)

    assert not isinstance(excinfo.value, CorruptWorkspaceError)
    assert not (tmp_path / "typo").exists()


def test_create_false_on_an_empty_folder_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="no mlpilot workspace"):
        mlpilot.Workspace.open(tmp_path, create=False)

    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("url", "secret"),
    [
        ("postgresql+psycopg://postgres@127.0.0.1:1/x", None),
        ("postgresql+psycopg://mlpilot:s3cr3t-pw@127.0.0.1:1/x", "s3cr3t-pw"),
    ],
)
def test_an_unreachable_database_fails_fast_without_the_password(
    url: str, secret: str | None
) -> None:
    started = time.monotonic()

    with pytest.raises(DatabaseUnreachableError, match="cannot reach") as excinfo:
        mlpilot.Workspace.open(url)

    assert time.monotonic() - started < 5
    assert "127.0.0.1:1/x" in str(excinfo.value)
    if secret is not None:
        assert secret not in str(excinfo.value)
        assert "***" in str(excinfo.value)


@pytest.mark.postgres
def test_a_missing_postgresql_database_is_unreachable(postgres_cluster: PostgresCluster) -> None:
    with pytest.raises(DatabaseUnreachableError, match="does_not_exist"):
        mlpilot.Workspace.open(postgres_cluster.url_for("does_not_exist"))


def test_an_unknown_database_scheme_is_a_workspace_error() -> None:
    # docs/errors.md: "no database driver" is a WorkspaceError (not a ValidationError).
    with pytest.raises(MlpilotError) as excinfo:
        mlpilot.Workspace.open("notadb://")

    assert type(excinfo.value) is WorkspaceError
    assert not isinstance(excinfo.value, ValidationError)
    assert "no database driver" in str(excinfo.value)
    assert "postgres" not in str(excinfo.value)  # no misleading PostgreSQL hint


def test_a_regular_file_given_as_the_workspace_folder_is_a_workspace_error(
    tmp_path: Path,
) -> None:
    not_a_folder = tmp_path / "report.txt"
    not_a_folder.write_text("quarterly numbers\n")

    with pytest.raises(WorkspaceError, match="cannot create the workspace folder"):
        mlpilot.Workspace.open(not_a_folder)

    assert not_a_folder.read_text() == "quarterly numbers\n"


def test_a_file_further_up_the_path_is_a_workspace_error(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "report.txt"
    not_a_folder.write_text("quarterly numbers\n")

    with pytest.raises(WorkspaceError):
        mlpilot.Workspace.open(not_a_folder / "workspace")

    assert not_a_folder.read_text() == "quarterly numbers\n"


def test_a_locked_sqlite_workspace_is_not_reported_as_damaged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mlpilot.Workspace.open(tmp_path).close()
    real_create_engine = database.create_engine

    def impatient_create_engine(url: str, **options: Any) -> Engine:
        # The store waits 30 s for a lock; a test cannot.
        options["connect_args"] = {**options.get("connect_args", {}), "timeout": 0.2}
        return real_create_engine(url, **options)

    monkeypatch.setattr(database, "create_engine", impatient_create_engine)
    holder = sqlite3.connect(tmp_path / DB_FILE, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        with pytest.raises(WorkspaceError, match="locked") as excinfo:
            mlpilot.Workspace.open(tmp_path, create=False)
    finally:
        holder.close()

    assert not isinstance(excinfo.value, CorruptWorkspaceError)
    with mlpilot.Workspace.open(tmp_path, create=False) as ws:  # released: it opens fine
        assert ws.initiatives() == []


def test_a_damaged_table_is_reported_as_corrupt(tmp_path: Path) -> None:
    with mlpilot.Workspace.open(tmp_path) as ws:
        ws.create_initiative("churn", **MINIMAL_CHARTER)
    db_file = tmp_path / DB_FILE
    with sqlite3.connect(db_file) as connection:
        (root_page,) = connection.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'initiatives'"
        ).fetchone()
        page_size = connection.execute("PRAGMA page_size").fetchone()[0]
    connection.close()
    data = bytearray(db_file.read_bytes())
    start = (root_page - 1) * page_size
    data[start : start + page_size] = b"\x5a" * page_size
    db_file.write_bytes(bytes(data))

    # Opening may still succeed (the schema version is readable); reading then must not.
    with (
        pytest.raises(CorruptWorkspaceError, match="malformed"),
        mlpilot.Workspace.open(tmp_path, create=False) as ws,
    ):
        ws.initiatives()


def test_the_newest_revision_is_what_a_new_workspace_gets(tmp_path: Path) -> None:
    with mlpilot.Workspace.open(tmp_path) as ws:
        assert _versions(ws.store.engine) == [SCHEMA_REVISION]
