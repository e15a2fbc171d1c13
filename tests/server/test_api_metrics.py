"""/metrics: Prometheus text with the server's figures and each initiative's monitor values."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from tests.server.kit import TestClient, bearer, make_token, workspace_copy

from mlpilot.server.app import create_app
from mlpilot.server.metrics import render

SAMPLE = re.compile(r"^([a-z_]+)(?:\{(.*)\})? (\S+)$")
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def parse(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """The samples of an exposition text (fails on a line that is not valid)."""
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for line in text.splitlines():
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            continue
        found = SAMPLE.match(line)
        assert found is not None, line
        labels = frozenset(LABEL.findall(found.group(2) or ""))
        samples[(found.group(1), labels)] = float(found.group(3))
    return samples


def value(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str,
          **labels: str) -> float:  # fmt: skip
    return samples[(name, frozenset(labels.items()))]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    home: Path = workspace_copy(tmp_path_factory, tmp_path_factory.mktemp("metrics") / "ws")
    server = create_app(home)
    server.state.token = make_token(home, "viewer")
    with TestClient(server):
        yield server


def test_metrics_need_a_reader(app: FastAPI) -> None:
    client = TestClient(app)
    assert client.get("/metrics").status_code == 401


def test_server_and_monitor_figures(app: FastAPI) -> None:
    client = TestClient(app, headers=bearer(app.state.token))
    for _ in range(3):
        assert client.get("/api/v1/initiatives/churn/learnings").status_code == 200
    assert client.get("/api/v1/initiatives/nope/learnings").status_code == 404
    reply = client.get("/metrics")
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = parse(reply.text)

    route = "/api/v1/initiatives/{slug}/learnings"
    assert value(samples, "mlpilot_http_requests_total", method="GET", route=route,
                 status="200") == 3  # fmt: skip
    assert value(samples, "mlpilot_http_requests_total", method="GET", route=route,
                 status="404") == 1  # fmt: skip
    assert any(name.startswith("mlpilot_ingest_") for name, _ in samples)

    ws = app.state.workspace
    churn = ws.initiative("churn")
    health = churn.health()
    for group, light in health.items():
        assert value(samples, "mlpilot_monitor_status", initiative="churn", group=group,
                     status=light["status"]) == 1  # fmt: skip
        for metric, observed in (light.get("metrics") or {}).items():
            if isinstance(observed, float):
                assert value(samples, "mlpilot_monitor_value", initiative="churn", group=group,
                             metric=metric) == pytest.approx(observed)  # fmt: skip
    assert value(samples, "mlpilot_open_alerts", initiative="churn") == len(
        churn.alerts(open_only=True)
    )
    assert value(samples, "mlpilot_initiative_info", initiative="quiet",
                 phase=ws.initiative("quiet").phase.value, status="active") == 1  # fmt: skip


def test_render_escapes_labels_and_special_numbers() -> None:
    text = render(
        {("GET", '/x"\\\n', 200): 2},
        {"received": 5, "queue_depth": 1},
        [("a", {"phase": "modeling", "status": "active", "open_alerts": 0, "error": 0,
                "uncertainty": {"model": {"probability": float("nan")}, "impact": None},
                "health": {"model": {"status": "ok", "metrics": {"r2": float("-inf")}}}})],
    )  # fmt: skip
    samples = parse(text)
    assert value(samples, "mlpilot_http_requests_total", method="GET", route='/x\\"\\\\\\n',
                 status="200") == 2  # fmt: skip
    assert value(samples, "mlpilot_ingest_received_total") == 5
    assert value(samples, "mlpilot_ingest_queue_depth") == 1
    assert "# TYPE mlpilot_ingest_queue_depth gauge" in text
    assert 'mlpilot_uncertainty_probability{initiative="a",kind="model"} NaN' in text
    assert 'metric="r2"} -Inf' in text
