"""What the core server tests share: TestClient, a workspace template built once, tokens.

The workspace is the dashboard tests' small real one (tests/server/pages_data.py: ``churn``
with predictions, outcomes, requests, an experiment; ``quiet`` with nothing measured; ``xss``),
built once per session and copied for each test that needs its own.
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path
from typing import Any

import pytest
from tests.server.pages_data import build_workspace

from mlpilot.store.tokens import TokenStore
from mlpilot.workspace import Workspace

with warnings.catch_warnings():  # Starlette deprecates httpx for a successor not installed here
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

__all__ = ["TestClient", "bearer", "make_token", "workspace_copy"]

_TEMPLATE: dict[str, Path] = {}


def workspace_copy(factory: pytest.TempPathFactory, target: Path) -> Path:
    """A fresh copy of the test workspace at ``target`` (the template is built once)."""
    if "home" not in _TEMPLATE:
        home = factory.mktemp("server-template") / "ws"
        build_workspace(home)
        _TEMPLATE["home"] = home
    shutil.copytree(_TEMPLATE["home"], target)
    return target


def make_token(home: Path, role: str, initiative: str | None = None) -> str:
    """A new token of ``role`` in the workspace at ``home``."""
    with Workspace.open(home, create=False) as ws:
        return TokenStore(ws.store).create(role, initiative=initiative, name=f"test {role}")[1]


def bearer(token: str) -> dict[str, Any]:
    """The request headers carrying ``token``."""
    return {"Authorization": f"Bearer {token}"}
