"""Fixtures shared by the whole suite.

- Every test runs in its own temporary working directory with ``MLPILOT_HOME`` and
  ``MLPILOT_DB`` unset, so nothing reads or writes the real home.
- ``postgres_cluster`` is one throwaway PostgreSQL server for the session (tests/postgres.py).
  It is only started when a test asks for it, so ``pytest -m "not postgres"`` starts no server.
- ``workspace_location`` runs a test once against SQLite (a fresh folder) and once against
  PostgreSQL (a fresh database URL); ``ws`` is an open :class:`mlpilot.Workspace` there.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

import mlpilot
from tests.postgres import PostgresCluster, start_cluster

_database_numbers = itertools.count(1)


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test sees the caller's workspace settings or writes into the caller's directory."""
    monkeypatch.delenv("MLPILOT_HOME", raising=False)
    monkeypatch.delenv("MLPILOT_DB", raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def postgres_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresCluster]:
    """A throwaway PostgreSQL server; missing PostgreSQL is an error, never a skip."""
    cluster = start_cluster(tmp_path_factory.mktemp("pg"))
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def workspace_location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a fresh, empty workspace can be opened: a folder (SQLite) or a database URL."""
    if request.param == "sqlite":
        return str(tmp_path / "workspace")
    cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
    return cluster.create_database(f"mlpilot_ws_{next(_database_numbers)}")


@pytest.fixture
def ws(workspace_location: str) -> Iterator[mlpilot.Workspace]:
    """An open workspace at ``workspace_location``, closed after the test."""
    workspace = mlpilot.Workspace.open(workspace_location)
    try:
        yield workspace
    finally:
        workspace.close()
