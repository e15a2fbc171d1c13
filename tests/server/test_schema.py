"""Schemathesis over /openapi.json with an admin token: no input makes the server answer 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from tests.server.kit import TestClient, bearer, make_token, workspace_copy

from mlpilot.server.app import create_app

TOKEN: dict[str, str] = {}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    home: Path = workspace_copy(tmp_path_factory, tmp_path_factory.mktemp("schema") / "ws")
    TOKEN["admin"] = make_token(home, "admin")
    server = create_app(home)
    with TestClient(server):  # runs the lifespan: the workspace stays open for every case
        yield server


def _fuzz(operation: Any, headers: dict[str, str]) -> list[int]:
    """Call ``operation`` with generated input; the status codes seen (a 5xx fails)."""
    seen: list[int] = []

    @given(case=operation.as_strategy())
    @settings(max_examples=8, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    def check(case: Any) -> None:
        if case.path_parameters and "slug" in case.path_parameters and len(seen) % 2:
            case.path_parameters["slug"] = "churn"  # reach the handlers, not only the 404
        response = case.call(headers=headers)
        seen.append(response.status_code)
        case.validate_response(response, checks=[not_a_server_error])

    check()
    return seen


def test_no_input_makes_a_server_error(app: FastAPI) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 18
    for operation in operations:
        seen = _fuzz(operation, bearer(TOKEN["admin"]))
        assert seen, operation.path
        assert max(seen) < 500
