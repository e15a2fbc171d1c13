"""The REST API in-process: every route, its status codes and bodies, against the facade."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from tests.server.kit import TestClient, bearer, make_token, workspace_copy

from mlpilot.report.status import decision_dict, learning_dict, transition_dict
from mlpilot.server.app import create_app
from mlpilot.workspace import Workspace


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return workspace_copy(tmp_path_factory, tmp_path_factory.mktemp("api") / "ws")


@pytest.fixture(scope="module")
def app(home: Path) -> Iterator[FastAPI]:
    server = create_app(home)
    with TestClient(server):
        yield server


@pytest.fixture(scope="module")
def api(app: FastAPI, home: Path) -> TestClient:
    return TestClient(app, base_url="http://testserver/api/v1",
                      headers=bearer(make_token(home, "admin")))  # fmt: skip


@pytest.fixture(scope="module")
def ws(app: FastAPI) -> Workspace:
    """The app's own workspace (its event store is held by the app)."""
    found: Workspace = app.state.workspace
    return found


def _without(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in keys}


def test_health_and_openapi_are_public(app: FastAPI) -> None:
    client = TestClient(app)
    assert client.get("/healthz").json() == {"status": "ok"}
    schema = client.get("/openapi.json").json()
    assert "/api/v1/initiatives/{slug}/learnings" in schema["paths"]
    body = schema["components"]["schemas"]["LearningIn"]
    assert body["required"] == ["text"]
    assert body["additionalProperties"] is False


def test_list_shows_phase_uncertainties_and_lights(api: TestClient, ws: Workspace) -> None:
    rows = {row["slug"]: row for row in api.get("/initiatives").json()}
    assert sorted(rows) == sorted(c.slug for c in ws.initiatives())
    churn = ws.initiative("churn")
    assert rows["churn"]["phase"] == churn.phase.value
    assert rows["churn"]["name"] == churn.charter.name
    assert set(rows["churn"]["health"]) == {"model", "data", "service", "impact"}
    assert rows["churn"]["health"] == {g: h["status"] for g, h in churn.health().items()}
    assert set(rows["churn"]["uncertainty"]) == {"model", "impact"}
    assert rows["quiet"]["health"] == dict.fromkeys(("model", "data", "service", "impact"),
                                                    "no-data")  # fmt: skip


def test_status_is_the_cli_json(api: TestClient, ws: Workspace) -> None:
    served = api.get("/initiatives/churn").json()
    local = ws.initiative("churn").status().to_dict()
    volatile = ("as_of", "time_in_phase", "monitors")  # computed at "now"
    assert _without(served, *volatile) == _without(local, *volatile)
    assert set(served["monitors"]) == set(local["monitors"])


def test_lifecycle_routes(api: TestClient, ws: Workspace) -> None:
    churn = ws.initiative("churn")
    assert api.get("/initiatives/churn/history").json() == [
        transition_dict(t) for t in churn.history()
    ]

    moved = api.post("/initiatives/churn/phase", json={"phase": "deployment", "who": "Ana"})
    assert moved.status_code == 201
    assert moved.json()["to"] == "deployment"
    assert churn.phase.value == "deployment"

    back = api.post("/initiatives/churn/phase", json={"phase": "modeling"})
    assert back.status_code == 422
    assert "reason" in back.json()["detail"]
    assert churn.phase.value == "deployment"
    loop = {"phase": "modeling", "reason": "Recall fell", "cause": "model"}
    assert api.post("/initiatives/churn/phase", json=loop).json()["backward"] is True


def test_learnings_and_decisions(api: TestClient, ws: Workspace) -> None:
    churn = ws.initiative("churn")
    body = {"text": "Calls work on Mondays", "tags": ["Calls", "timing"]}
    learned = api.post("/initiatives/churn/learnings", json=body)
    assert learned.status_code == 201
    assert learned.json()["tags"] == ["calls", "timing"]
    assert api.get("/initiatives/churn/learnings").json() == [
        learning_dict(x) for x in churn.learnings()
    ]

    body = {"verdict": "continue", "why": "Recall holds", "evidence": ["perf"]}
    decided = api.post("/initiatives/churn/decisions", json=body)
    assert decided.status_code == 201
    assert decided.json()["verdict"] == "continue"
    assert api.get("/initiatives/churn/decisions").json() == [
        decision_dict(d) for d in churn.decisions()
    ]


@pytest.mark.parametrize(
    ("path", "body", "status", "message"),
    [
        ("/initiatives/nope/learnings", {"text": "x"}, 404, "no initiative 'nope'"),
        ("/initiatives/churn/learnings", {"text": "   "}, 422, "the learning"),
        ("/initiatives/churn/learnings", {"text": "x", "bogus": 1}, 422, "bogus"),
        ("/initiatives/churn/learnings", {}, 422, "text"),
        ("/initiatives/churn/decisions", {"verdict": "maybe", "why": "x"}, 422, "unknown decision"),
        ("/initiatives/churn/phase", {"phase": "done"}, 422, "unknown phase 'done'"),
        ("/initiatives/churn/phase", {"phase": "modeling", "at": "yesterday-ish"}, 422, "time"),
    ],
)
def test_bad_input_is_a_clear_4xx_and_changes_nothing(
    api: TestClient, ws: Workspace, path: str, body: dict[str, Any], status: int, message: str
) -> None:
    before = ws.initiative("churn").status().to_dict()
    reply = api.post(path, json=body)
    assert reply.status_code == status
    assert message in str(reply.json()["detail"])
    after = ws.initiative("churn").status().to_dict()
    assert _without(after, "as_of", "time_in_phase", "monitors") == _without(
        before, "as_of", "time_in_phase", "monitors"
    )


def test_monitor_routes_answer_the_facade_json(api: TestClient, ws: Workspace) -> None:
    churn = ws.initiative("churn")
    assert api.get("/initiatives/churn/performance").json() == churn.performance()
    assert api.get("/initiatives/churn/performance?window=2d&threshold=0.3").json() == (
        churn.performance(window="2d", threshold=0.3)
    )
    assert api.get("/initiatives/churn/drift?reference=training").json() == churn.drift("training")
    assert api.get("/initiatives/churn/experiments").json() == churn.experiments()
    at = "2026-11-28T12:00:00+00:00"
    served = api.get("/initiatives/churn/service", params={"at": at, "by_version": True})
    assert served.json() == churn.service(at=at, by_version=True)
    assert api.get("/initiatives/churn/slo", params={"at": at}).json() == churn.slo(at=at)
    name = churn.experiments()[0]["name"]
    analysis = api.get(f"/initiatives/churn/experiments/{name}/analysis")
    assert analysis.status_code == 200
    assert analysis.json()["verdict"] == churn.analyze_experiment(name, save=False)["verdict"]
    assert set(api.get("/initiatives/churn/health").json()) == {
        "model",
        "data",
        "service",
        "impact",
    }


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/initiatives/quiet/service", 404),  # no requests stored
        ("/initiatives/churn/drift?reference=nope", 404),
        ("/initiatives/churn/drift?method=magic", 422),
        ("/initiatives/churn/performance?window=soon", 422),
        ("/initiatives/churn/performance?threshold=2", 422),
        ("/initiatives/churn/experiments/nope/analysis", 404),
        ("/initiatives/nope/performance", 404),
    ],
)
def test_monitor_routes_refuse_bad_input(api: TestClient, path: str, status: int) -> None:
    reply = api.get(path)
    assert reply.status_code == status
    assert reply.json()["detail"]


def test_alerts(api: TestClient, ws: Workspace) -> None:
    ws.initiative("churn").monitor(notifiers=[])
    expected = [a.to_dict() for a in ws.alerts.alerts(None)]
    assert api.get("/alerts").json() == expected
    assert api.get("/initiatives/churn/alerts?open=true").json() == [
        a.to_dict() for a in ws.initiative("churn").alerts(open_only=True)
    ]
