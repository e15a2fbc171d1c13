"""The status report of an initiative, derived from what is stored (SQLite and PostgreSQL)."""

from __future__ import annotations

import json

import mlpilot
from mlpilot import Phase
from tests.store.helpers import FULL_CHARTER, reopen, utc

DAY = 86_400.0


def _churn_with_a_loop(ws: mlpilot.Workspace) -> mlpilot.Initiative:
    churn = ws.create_initiative(
        "churn", **{**FULL_CHARTER, "shape": "batch"}, started="2024-01-01"
    )
    churn.move_to("data-understanding", at="2024-01-03")
    churn.move_to("data-preparation", at="2024-01-04")
    churn.move_to("modeling", at="2024-01-06")
    churn.move_to("data-preparation", reason="leakage", cause="data", at="2024-01-07", who="bo")
    churn.move_to("modeling", at="2024-01-08")
    churn.add_criterion(
        "model", "recall", ">=", 0.8, at="precision>=0.5", top=50, per="week", plan="rules"
    )
    churn.add_member("ana", "data-scientist", 0.5)
    churn.add_member("bo", "product-manager")
    churn.add_member("cy", "product-manager", 0.25)
    return churn


def test_status_reports_what_was_stored(ws: mlpilot.Workspace, workspace_location: str) -> None:
    _churn_with_a_loop(ws)

    with reopen(workspace_location) as again:
        report = again.initiative("churn").status(now=utc(2024, 1, 10)).to_dict()

    json.dumps(report)  # JSON-ready
    assert report["slug"] == "churn"
    assert report["phase"] == "modeling"
    assert report["loops"] == 1
    assert report["loops_by_cause"] == {"data": 1}
    assert report["started_at"] == "2024-01-01T00:00:00+00:00"

    history = report["history"]
    assert [(h["from"], h["to"]) for h in history] == [
        (None, "business-understanding"),
        ("business-understanding", "data-understanding"),
        ("data-understanding", "data-preparation"),
        ("data-preparation", "modeling"),
        ("modeling", "data-preparation"),
        ("data-preparation", "modeling"),
    ]
    assert history[4] == {
        "from": "modeling",
        "to": "data-preparation",
        "at": "2024-01-07T00:00:00+00:00",
        "backward": True,
        "reason": "leakage",
        "cause": "data",
        "who": "bo",
    }
    assert all(h["reason"] is None and h["cause"] is None for i, h in enumerate(history) if i != 4)

    assert report["time_in_phase"] == {
        "business-understanding": 2 * DAY,
        "data-understanding": 1 * DAY,
        "data-preparation": 3 * DAY,  # two visits: 2 days, then 1 day
        "modeling": 3 * DAY,  # two visits: 1 day, then 2 days up to "now"
        "evaluation": 0.0,
        "deployment": 0.0,
        "monitoring": 0.0,
    }
    assert set(report["time_in_phase"]) == {p.value for p in Phase}

    (criterion,) = report["criteria"]
    assert criterion["kind"] == "model"
    assert (criterion["metric"], criterion["op"], criterion["target"]) == ("recall", ">=", 0.8)
    assert criterion["constraint"] == {"metric": "precision", "op": ">=", "target": 0.5}
    assert criterion["operating_point"] == {
        "threshold": None,
        "top": 50,
        "per": "week",
        "decision": False,
    }
    assert criterion["text"] == "recall@50 per week >= 0.8 and precision@50 >= 0.5"
    assert criterion["plan"] == "rules"
    assert isinstance(criterion["id"], int)

    # A batch initiative in modeling needs product, data science, domain and data engineering.
    assert report["coverage"]["missing_roles"] == ["domain-expert", "data-engineer"]
    assert report["coverage"]["single_points"] == ["data-scientist"]
    assert report["coverage"]["allocation_by_role"] == {
        "data-scientist": 0.5,
        "product-manager": 1.25,
    }


def test_the_clock_stops_at_the_stop_decision(ws: mlpilot.Workspace) -> None:
    churn = _churn_with_a_loop(ws)
    churn.decide("stop", "no signal in the data", at="2024-01-09")

    report = churn.status(now=utc(2024, 6, 1)).to_dict()

    assert report["status"] == "stopped"
    assert report["time_in_phase"]["modeling"] == 2 * DAY  # 1 day, then Jan 8 to the stop
    assert sum(report["time_in_phase"].values()) == 8 * DAY
    assert [d["verdict"] for d in report["decisions"]] == ["stop"]


def test_status_shows_the_two_uncertainties_and_their_trend(ws: mlpilot.Workspace) -> None:
    churn = ws.create_initiative("churn", **FULL_CHARTER)
    assert churn.status().to_dict()["uncertainty"] == {"model": None, "impact": None}
    churn.record_uncertainty("model", 0.55, "offline evaluation", at="2026-03-01")
    churn.record_uncertainty("model", 0.8, "model monitor", at="2026-03-08")
    churn.record_uncertainty("impact", 0.3, "experiment pilot", at="2026-03-09")
    data = churn.status().to_dict()["uncertainty"]
    assert (data["model"]["probability"], data["model"]["source"]) == (0.8, "model monitor")
    assert data["model"]["trend"] == "up"
    assert [h["probability"] for h in data["model"]["history"]] == [0.55, 0.8]
    assert data["impact"]["probability"] == 0.3
