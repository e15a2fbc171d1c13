"""Where a workspace lives: ``resolve`` and ``Workspace.open`` with MLPILOT_HOME / MLPILOT_DB.

The autouse fixture in conftest.py unsets both variables and runs each test in its own
temporary directory, so ``./.mlpilot`` below is always inside ``tmp_path``.
"""

from __future__ import annotations

import doctest
import tempfile
from pathlib import Path

import pytest

import mlpilot
import mlpilot.workspace
from mlpilot import ValidationError, WorkspaceError
from mlpilot.store.database import DB_FILE, EVENTS_FILE, Location, resolve
from tests.postgres import PostgresCluster

PG_URL = "postgresql+psycopg://mlpilot:s3cret@db.internal:5433/mlpilot"

CHARTER = {
    "name": "Churn",
    "problem": "Customers leave",
    "prediction_use": "Retention offers",
    "task": "binary",
    "shape": "batch",
    "baseline": "Last month's cancellations",
}


def _sqlite(folder: Path) -> Location:
    return Location(f"sqlite:///{folder / DB_FILE}", folder)


# resolve -------------------------------------------------------------------------------------


def test_nothing_given_means_dot_mlpilot_in_the_working_directory(tmp_path: Path) -> None:
    location = resolve()

    assert location == _sqlite(tmp_path.resolve() / ".mlpilot")
    assert location.is_sqlite
    assert location.events_path == tmp_path.resolve() / ".mlpilot" / EVENTS_FILE


def test_mlpilot_home_names_the_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLPILOT_HOME", str(tmp_path / "srv" / "ml"))

    assert resolve() == _sqlite(tmp_path.resolve() / "srv" / "ml")


def test_a_relative_mlpilot_home_is_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLPILOT_HOME", "team/ml")

    assert resolve() == _sqlite(tmp_path.resolve() / "team" / "ml")


def test_mlpilot_db_names_the_database_and_home_the_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLPILOT_DB", PG_URL)

    assert resolve() == Location(PG_URL, tmp_path.resolve() / ".mlpilot")

    monkeypatch.setenv("MLPILOT_HOME", str(tmp_path / "files"))
    location = resolve()

    assert location == Location(PG_URL, tmp_path.resolve() / "files")
    assert not location.is_sqlite
    assert location.events_path == tmp_path.resolve() / "files" / EVENTS_FILE


def test_mlpilot_db_may_name_a_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLPILOT_DB", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("MLPILOT_HOME", str(tmp_path / "ignored"))

    assert resolve() == _sqlite(tmp_path.resolve() / "elsewhere")


def test_an_empty_variable_counts_as_unset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLPILOT_DB", "")
    monkeypatch.setenv("MLPILOT_HOME", "")

    assert resolve() == _sqlite(tmp_path.resolve() / ".mlpilot")


def test_an_explicit_location_beats_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLPILOT_DB", PG_URL)
    monkeypatch.setenv("MLPILOT_HOME", str(tmp_path / "home"))

    assert resolve(tmp_path / "mine") == _sqlite(tmp_path.resolve() / "mine")
    assert resolve(str(tmp_path / "mine")) == _sqlite(tmp_path.resolve() / "mine")
    other = "postgresql+psycopg://other@db2/ml"
    assert resolve(other) == Location(other, tmp_path.resolve() / "home")


def test_a_folder_may_start_with_a_tilde(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "user"))

    assert resolve("~/ml") == _sqlite(tmp_path.resolve() / "user" / "ml")
    monkeypatch.setenv("MLPILOT_HOME", "~/team")
    assert resolve() == _sqlite(tmp_path.resolve() / "user" / "team")


def test_a_tilde_in_mlpilot_home_is_expanded_beside_a_database_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    monkeypatch.setenv("MLPILOT_HOME", "~/team")

    assert resolve(PG_URL).home == tmp_path.resolve() / "user" / "team"


def test_a_sqlite_url_keeps_the_files_beside_its_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLPILOT_HOME", str(tmp_path / "ignored"))
    url = f"sqlite:///{tmp_path / 'shared' / 'meta.db'}"

    assert resolve(url) == Location(url, tmp_path.resolve() / "shared")
    assert resolve("sqlite:///rel/meta.db").home == tmp_path.resolve() / "rel"


def test_the_password_is_hidden_in_messages() -> None:
    assert resolve(PG_URL).display() == "postgresql+psycopg://mlpilot:***@db.internal:5433/mlpilot"


@pytest.mark.parametrize("url", ["://", "://db.internal/ml"])
def test_an_unparsable_url_is_a_validation_error(url: str) -> None:
    with pytest.raises(ValidationError, match="invalid database URL"):
        resolve(url)


def test_a_url_with_a_bad_port_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="invalid database URL"):
        resolve("postgresql+psycopg://mlpilot@db.internal:fivefour/ml")


# Workspace.open ------------------------------------------------------------------------------


def test_open_with_nothing_creates_dot_mlpilot_here(tmp_path: Path) -> None:
    with mlpilot.Workspace.open() as ws:
        ws.create_initiative("churn", **CHARTER)
        assert ws.location == _sqlite(tmp_path.resolve() / ".mlpilot")

    assert (tmp_path / ".mlpilot" / DB_FILE).is_file()
    with mlpilot.Workspace.open(create=False) as again:
        assert [c.slug for c in again.initiatives()] == ["churn"]


def test_open_follows_mlpilot_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLPILOT_HOME", str(tmp_path / "team"))

    with mlpilot.Workspace.open() as ws:
        ws.create_initiative("churn", **CHARTER)

    assert (tmp_path / "team" / DB_FILE).is_file()
    assert not (tmp_path / ".mlpilot").exists()
    with mlpilot.Workspace.open(tmp_path / "team", create=False) as again:
        assert [c.slug for c in again.initiatives()] == ["churn"]


def test_open_without_create_names_the_missing_workspace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLPILOT_HOME", str(tmp_path / "typo"))

    with pytest.raises(WorkspaceError, match="typo"):
        mlpilot.Workspace.open(create=False)

    assert not (tmp_path / "typo").exists()


@pytest.mark.postgres
def test_open_follows_mlpilot_db(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, postgres_cluster: PostgresCluster
) -> None:
    url = postgres_cluster.create_database("mlpilot_env_db")
    monkeypatch.setenv("MLPILOT_DB", url)

    with mlpilot.Workspace.open() as ws:
        ws.create_initiative("churn", **CHARTER)
        assert ws.location == Location(url, tmp_path.resolve() / ".mlpilot")

    assert not (tmp_path / ".mlpilot").exists()
    with mlpilot.Workspace.open(url, create=False) as again:
        assert [c.slug for c in again.initiatives()] == ["churn"]


def test_open_an_existing_sqlite_url_without_create(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared' / 'metadata.db'}"
    (tmp_path / "shared").mkdir()
    with mlpilot.Workspace.open(url) as ws:
        ws.create_initiative("churn", **CHARTER)

    with mlpilot.Workspace.open(url, create=False) as again:
        assert [c.slug for c in again.initiatives()] == ["churn"]
        assert again.location.home == (tmp_path / "shared").resolve()  # files beside the db


def test_open_a_missing_sqlite_url_without_create_is_refused(tmp_path: Path) -> None:
    missing = tmp_path / "shared" / "metadata.db"

    with pytest.raises(WorkspaceError, match=r"metadata\.db"):
        mlpilot.Workspace.open(f"sqlite:///{missing}", create=False)

    assert not (tmp_path / "shared").exists()


def test_open_a_sqlite_url_creates_no_stray_folder(tmp_path: Path) -> None:
    (tmp_path / "shared").mkdir()

    mlpilot.Workspace.open(f"sqlite:///{tmp_path / 'shared' / 'metadata.db'}").close()

    assert (tmp_path / "shared" / "metadata.db").is_file()
    assert not (tmp_path / ".mlpilot").exists()


def test_the_module_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    result = doctest.testmod(mlpilot.workspace)

    assert result.attempted > 0
    assert result.failed == 0
