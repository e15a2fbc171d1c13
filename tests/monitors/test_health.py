"""``Initiative.health`` and ``Initiative.monitor``: every group's light, and alerts that open
and resolve through the same path for the model, data and service groups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import mlpilot
from mlpilot.demo_service import log_demo_requests
from mlpilot.domain.alerts import Alert

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
PLAN = "roll back to the stable version"


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, Alert]] = []

    def notify(self, event: str, alert: Alert) -> None:
        self.events.append((event, alert))

    def close(self, timeout: float = 5.0) -> None:
        return None


@pytest.fixture
def churn(ws: mlpilot.Workspace) -> Any:
    churn = ws.create_initiative(
        "churn", name="Churn", problem="p", prediction_use="u", task="binary",
        shape="online-api", baseline="b",
    )  # fmt: skip
    churn.add_criterion("service", "latency_p99", "<=", 300, plan=PLAN)
    return churn


def test_a_latency_incident_pages_and_resolves_through_the_alert_store(churn) -> None:
    _, data = log_demo_requests(churn, NOW)
    recorder = Recorder()
    during = churn.monitor(now=data.incident_start + timedelta(minutes=35), notifiers=[recorder])
    assert during["groups"]["service"]["status"] == "failing"
    assert {g: during["groups"][g]["status"] for g in ("model", "data")} == {
        "model": "no-data", "data": "no-data",
    }  # fmt: skip
    (page,) = [a for a in during["alerts"]["open"] if a["severity"] == "page"]
    assert (page["group"], page["plan"]) == ("service", PLAN)
    assert page["details"]["rule"] == "burn-1h/5m"
    # observed is the hour's p99 latency in ms; the burn rate is its own labelled record
    assert page["observed"] > 300
    assert page["details"]["burn_rate"]["kind"] == "burn rate"
    assert page["details"]["burn_rate"]["value"] > 14.4
    assert [e for e, _ in recorder.events] == ["opened"] * during["alerts"]["opened"]
    again = churn.monitor(now=data.incident_start + timedelta(minutes=40), notifiers=[recorder])
    assert again["alerts"]["opened"] == 0  # still the same incident: no new alert
    after = churn.monitor(now=NOW, notifiers=[recorder])
    assert after["groups"]["service"]["status"] in ("ok", "warning")
    assert page["id"] not in [a["id"] for a in after["alerts"]["open"]]
    assert ("resolved", page["id"]) in [(e, a.id) for e, a in recorder.events]
    (stored,) = [a for a in churn.alerts() if a.id == page["id"]]
    assert stored.resolved_at == NOW


def test_health_shows_every_group_even_without_data(churn) -> None:
    lights = churn.health(now=NOW)
    assert set(lights) >= {"model", "data", "service"}
    assert {light["status"] for light in lights.values()} == {"no-data"}


def test_live_data_criteria_judge_the_latest_window_and_raise_an_alert(churn) -> None:
    import pyarrow as pa

    churn.add_criterion("data", "missing_share", "<=", 0.2, plan="page the data engineer")
    churn.add_criterion("data", "rows", ">=", 50_000)  # a training-set criterion: not judged
    times = [NOW - timedelta(days=1, hours=h) for h in range(10)] + [
        NOW - timedelta(hours=h) for h in range(1, 11)
    ]
    usage = [1.0] * 10 + [None] * 6 + [2.0] * 4  # today: 60% missing
    churn.log_predictions(
        pa.table(
            {
                "id": [f"p{i}" for i in range(20)],
                "time": pa.array(times, pa.timestamp("us", "UTC")),
                "score": [0.5] * 20,
                "usage": pa.array(usage, pa.float64()),
            }
        )
    )
    data = churn.health(now=NOW)["data"]
    assert data["status"] == "failing"
    (verdict,) = data["verdicts"]
    assert (verdict["metric"], verdict["observed"], verdict["met"]) == ("missing_share", 0.6, False)
    assert data["rows"] == 10
    opened = churn.monitor(now=NOW, notifiers=[])["alerts"]["open"]
    (alert,) = [a for a in opened if a["group"] == "data"]
    assert (alert["criterion"], alert["plan"]) == ("missing_share <= 0.2", "page the data engineer")


def test_the_latest_experiment_verdict_lights_the_impact_group_and_its_uncertainty(churn) -> None:
    from mlpilot.demo_experiment import add_demo_experiment

    churn.add_criterion(
        "impact", "retention_30d", ">=", 0.02,
        guardrails=["offer_cost_per_customer:lower:margin=0.1", "support_call_minutes:lower"],
        plan="stop the offers",
    )  # fmt: skip
    assert churn.health(now=NOW)["impact"] == {
        "status": "no-data", "reason": "no experiment analysed yet",
    }  # fmt: skip
    report = add_demo_experiment(churn, NOW - timedelta(days=40), units=4_000)
    impact = churn.health(now=NOW)["impact"]
    expected = {"pass": "ok", "fail": "failing", "inconclusive": "warning"}[report["verdict"]]
    assert (impact["status"], impact["verdict"]) == (expected, report["verdict"])
    (kpi,) = [v for v in impact["verdicts"] if v["metric"] == "retention_30d"]
    row = next(r for r in report["results"] if r["metric"] == "retention_30d")
    assert kpi["observed"] == row["effect_rel"]
    assert (kpi["target"], kpi["plan"]) == (0.02, "stop the offers")
    uncertainty = churn.status().to_dict()["uncertainty"]["impact"]
    assert uncertainty["probability"] == churn.impact()["probability"]
    assert uncertainty["source"] == f"experiment retention-offers: {report['verdict']}"
    assert 0.0 <= uncertainty["probability"] <= 1.0
