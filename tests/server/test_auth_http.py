"""Access control over HTTP: roles, scopes, revocation, sessions with CSRF, Host allow-list."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from tests.server.kit import TestClient, bearer, make_token, workspace_copy

from mlpilot.server.app import create_app
from mlpilot.store.tokens import TokenStore
from mlpilot.workspace import Workspace

LEARNING = {"text": "Agents ignore low scores", "tags": ["calls"]}


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return workspace_copy(tmp_path_factory, tmp_path_factory.mktemp("auth") / "ws")


@pytest.fixture(scope="module")
def app(home: Path) -> Iterator[FastAPI]:
    server = create_app(home)
    with TestClient(server):
        yield server


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    return TestClient(app, follow_redirects=False)


def test_no_token_or_a_bad_one_is_401(client: TestClient) -> None:
    for headers in ({}, bearer("mlp_unknown"), {"Authorization": "Basic dXNlcjpwYXNz"},
                    {"Authorization": "Bearer "}):  # fmt: skip
        reply = client.get("/api/v1/initiatives", headers=headers)
        assert reply.status_code == 401
        assert reply.headers["www-authenticate"] == "Bearer"


def test_viewer_reads_but_cannot_write(client: TestClient, home: Path) -> None:
    viewer = bearer(make_token(home, "viewer"))
    assert client.get("/api/v1/initiatives/churn/learnings", headers=viewer).status_code == 200
    before = client.get("/api/v1/initiatives/churn/learnings", headers=viewer).json()

    for path, body in [("learnings", LEARNING), ("phase", {"phase": "deployment"}),
                       ("decisions", {"verdict": "continue", "why": "fine"})]:  # fmt: skip
        reply = client.post(f"/api/v1/initiatives/churn/{path}", json=body, headers=viewer)
        assert reply.status_code == 403
        assert "viewer token may not write" in reply.json()["detail"]
    assert client.get("/api/v1/initiatives/churn/learnings", headers=viewer).json() == before
    events = {"records": [{"type": "request", "id": "r-x", "time": "2026-11-28T10:00:00Z",
                           "latency_ms": 5}]}  # fmt: skip
    assert client.post("/api/v1/initiatives/churn/events", json=events,
                       headers=viewer).status_code == 403  # fmt: skip


def test_editor_writes(client: TestClient, home: Path) -> None:
    editor = bearer(make_token(home, "editor"))
    reply = client.post("/api/v1/initiatives/churn/learnings", json=LEARNING, headers=editor)
    assert reply.status_code == 201
    texts = [x["text"] for x in client.get("/api/v1/initiatives/churn/learnings",
                                           headers=editor).json()]  # fmt: skip
    assert LEARNING["text"] in texts


def test_scoped_token_sees_only_its_initiative(client: TestClient, home: Path) -> None:
    scoped = bearer(make_token(home, "admin", initiative="quiet"))
    listed = client.get("/api/v1/initiatives", headers=scoped).json()
    assert [row["slug"] for row in listed] == ["quiet"]
    assert client.get("/api/v1/initiatives/quiet", headers=scoped).status_code == 200
    for path in ("", "/history", "/learnings", "/alerts", "/performance"):
        assert client.get(f"/api/v1/initiatives/churn{path}", headers=scoped).status_code == 403
    reply = client.post("/api/v1/initiatives/churn/learnings", json=LEARNING, headers=scoped)
    assert reply.status_code == 403
    assert all(a["initiative"] == "quiet"
               for a in client.get("/api/v1/alerts", headers=scoped).json())  # fmt: skip
    metrics = client.get("/metrics", headers=scoped).text
    assert 'initiative="quiet"' in metrics
    assert 'initiative="churn"' not in metrics


def test_ingest_token_cannot_read(client: TestClient, home: Path) -> None:
    ingest = bearer(make_token(home, "ingest"))
    for path in ("/api/v1/initiatives", "/api/v1/initiatives/churn", "/metrics", "/api/v1/alerts"):
        assert client.get(path, headers=ingest).status_code == 403
    events = {"records": [{"type": "request", "id": "r-ingest-1",
                           "time": "2026-11-28T10:00:00Z", "latency_ms": 5.0}]}  # fmt: skip
    reply = client.post("/api/v1/initiatives/churn/events", json=events, headers=ingest)
    assert reply.status_code == 200
    assert reply.json()["accepted"] == 1


def test_revoked_token_is_refused_at_once(client: TestClient, home: Path) -> None:
    with Workspace.open(home, create=False) as ws:
        info, secret = TokenStore(ws.store).create("admin")
    assert client.get("/api/v1/initiatives", headers=bearer(secret)).status_code == 200
    with Workspace.open(home, create=False) as ws:
        TokenStore(ws.store).revoke(info.id)
    assert client.get("/api/v1/initiatives", headers=bearer(secret)).status_code == 401


def _login(client: TestClient, token: str) -> str:
    reply = client.post("/login", data={"token": token, "next": "/"})
    assert reply.status_code == 303
    cookie = reply.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()
    page = client.get("/initiatives/churn", headers={"Accept": "text/html"})
    assert page.status_code == 200
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text)
    assert found is not None
    return found.group(1)


def test_session_posts_need_the_csrf_token(app: FastAPI, home: Path) -> None:
    client = TestClient(app, follow_redirects=False)
    csrf = _login(client, make_token(home, "editor"))
    assert client.get("/api/v1/initiatives/churn/learnings").status_code == 200  # cookie reads

    url = "/api/v1/initiatives/churn/learnings"
    assert client.post(url, json=LEARNING).status_code == 403
    assert client.post(url, json=LEARNING, headers={"X-CSRF-Token": "0" * 64}).status_code == 403
    assert client.post(url, json=LEARNING, headers={"X-CSRF-Token": csrf}).status_code == 201

    other = TestClient(app, follow_redirects=False)
    other_csrf = _login(other, make_token(home, "editor"))
    assert other_csrf != csrf
    assert client.post(url, json=LEARNING, headers={"X-CSRF-Token": other_csrf}).status_code == 403

    form = {"text": "From the form", "csrf_token": csrf}
    assert client.post("/initiatives/churn/learnings", data=form).status_code in (200, 303)
    form["csrf_token"] = other_csrf
    assert client.post("/initiatives/churn/learnings", data=form).status_code == 403


def test_tampered_or_foreign_session_cookie_is_refused(app: FastAPI, home: Path) -> None:
    client = TestClient(app, follow_redirects=False)
    _login(client, make_token(home, "viewer"))
    value = client.cookies["mlpilot_session"]
    token_id, issued, signature = value.split(".")
    forged = TestClient(
        app, cookies={"mlpilot_session": f"{int(token_id) + 1}.{issued}.{signature}"}
    )
    assert forged.get("/api/v1/initiatives").status_code == 401

    foreign = create_app(home, secret=b"another key of the right length!!")
    with TestClient(foreign, cookies={"mlpilot_session": value}) as elsewhere:
        assert elsewhere.get("/api/v1/initiatives").status_code == 401


def test_host_allow_list(home: Path) -> None:
    app = create_app(home, allowed_hosts=("mlpilot.example.org",))
    token = bearer(make_token(home, "viewer"))
    with TestClient(app, base_url="http://mlpilot.example.org") as client:
        assert client.get("/api/v1/initiatives", headers=token).status_code == 200
        refused = client.get("/api/v1/initiatives", headers={**token, "Host": "127.0.0.1"})
        assert refused.status_code == 400


def test_a_session_ends_when_its_token_is_revoked(app: FastAPI, home: Path) -> None:
    with Workspace.open(home, create=False) as ws:
        info, secret = TokenStore(ws.store).create("viewer")
    client = TestClient(app, follow_redirects=False)
    _login(client, secret)
    assert client.get("/api/v1/initiatives").status_code == 200
    with Workspace.open(home, create=False) as ws:
        TokenStore(ws.store).revoke(info.id)
    assert client.get("/api/v1/initiatives").status_code == 401
    page = client.get("/initiatives/churn", headers={"Accept": "text/html"})
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=/initiatives/churn"


@pytest.mark.postgres
def test_server_over_postgresql_metadata(tmp_path: Path, postgres_cluster: Any) -> None:
    url = postgres_cluster.create_database("mlpilot_server_core")
    with Workspace.open(url) as ws:
        ws.create_initiative("churn", name="Churn", problem="p", prediction_use="u",
                             task="binary", shape="batch", baseline="rule")  # fmt: skip
        info, secret = TokenStore(ws.store).create("editor", initiative="churn")
    app = create_app(tmp_path / "files", database=url)
    with TestClient(app) as client:
        assert client.get("/api/v1/initiatives").status_code == 401
        listed = client.get("/api/v1/initiatives", headers=bearer(secret)).json()
        assert [row["slug"] for row in listed] == ["churn"]
        learned = client.post("/api/v1/initiatives/churn/learnings", json=LEARNING,
                              headers=bearer(secret))  # fmt: skip
        assert learned.status_code == 201
        with Workspace.open(url) as ws:
            TokenStore(ws.store).revoke(info.id)
        assert client.get("/api/v1/initiatives", headers=bearer(secret)).status_code == 401
    assert (tmp_path / "files" / "server.secret").exists()
