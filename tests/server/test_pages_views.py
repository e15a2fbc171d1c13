"""The dashboard's data (server/views*.py) on a real workspace, checked against the facade."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from tests.server import pages_data

from mlpilot.errors import NotFoundError, ValidationError
from mlpilot.server import views, views_forms
from mlpilot.workspace import Workspace


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, datetime]:
    return pages_data.template(tmp_path_factory)


@pytest.fixture(scope="module")
def ws(built: tuple[Path, datetime]) -> Iterator[Workspace]:
    """The shared workspace, read only."""
    workspace = Workspace.open(built[0], create=False)
    try:
        yield workspace
    finally:
        workspace.close()


@pytest.fixture(scope="module")
def churn(ws: Workspace, built: tuple[Path, datetime]) -> dict[str, Any]:
    return views.initiative_page(ws, "churn", built[1])


@pytest.fixture
def own(built: tuple[Path, datetime], tmp_path: Path) -> Iterator[Workspace]:
    """A private copy, for the forms that change it."""
    workspace = Workspace.open(pages_data.copy_of(built[0], tmp_path / "own"), create=False)
    try:
        yield workspace
    finally:
        workspace.close()


def test_portfolio_shows_the_status_reports_phase_lights_and_uncertainties(
    ws: Workspace, built: tuple[Path, datetime]
) -> None:
    rows = views.portfolio(ws, lambda slug: True, built[1])
    assert [r["slug"] for r in rows] == ["churn", "quiet", "xss"]
    for row in rows:
        report = ws.initiative(row["slug"]).status(built[1]).to_dict()
        assert row["phase"] == report["phase"]
        assert row["loops"] == report["loops"]
        assert set(row["lights"]) == {"model", "data", "service", "impact"}
        for group, light in row["lights"].items():
            assert light["status"] == report["monitors"][group]["status"]
        for kind in ("model", "impact"):
            found = report["uncertainty"][kind]
            expected = None if found is None else found["probability"]
            assert row["uncertainty"][kind]["probability"] == expected
    churn, quiet = rows[0], rows[1]
    assert churn["lights"]["impact"]["status"] == "ok"  # the A/B test passed
    assert churn["uncertainty"]["impact"]["probability"] is not None
    assert {light["status"] for light in quiet["lights"].values()} == {"no-data"}
    assert quiet["uncertainty"]["model"]["text"] == "unknown"


def test_portfolio_lists_only_what_the_caller_may_see(ws: Workspace) -> None:
    rows = views.portfolio(ws, lambda slug: slug == "quiet")
    assert [r["slug"] for r in rows] == ["quiet"]


def test_initiative_page_has_charter_criteria_with_plans_and_the_timeline(
    churn: dict[str, Any], ws: Workspace
) -> None:
    assert churn["name"] == "Churn risk"
    assert churn["charter"]["problem"] == "Customers leave without warning"
    plans = {c["text"]: c["plan"] for c in churn["criteria"]}
    assert plans["roc_auc >= 0.7"] == "Keep the usage-drop rule"
    assert [c["kind"] for c in churn["criteria"]] == ["model", "data", "service", "service",
                                                      "impact"]  # fmt: skip
    history = ws.initiative("churn").history()
    moves = churn["timeline"]["moves"]
    assert len(moves) == len(history)
    assert moves[0]["to"] == history[-1].to_phase.value  # newest first
    assert churn["timeline"]["loops"] == 1
    loop = next(m for m in moves if m["backward"])
    assert (loop["from"], loop["to"], loop["cause"]) == ("modeling", "data-preparation", "data")
    bars = churn["charts"]["timeline"]["data"]["values"]
    assert [b["entered"] for b in bars].count("loop back") == 1
    assert churn["phase"] == "evaluation"
    assert {p["value"] for p in churn["choices"]["phases"]} == {
        "business-understanding", "data-understanding", "data-preparation", "modeling",
        "deployment", "monitoring"}  # fmt: skip
    backward = {p["value"] for p in churn["choices"]["phases"] if p["backward"]}
    assert backward == {"business-understanding", "data-understanding", "data-preparation",
                        "modeling"}  # fmt: skip


def test_forecast_is_a_range(churn: dict[str, Any]) -> None:
    forecast = churn["forecast"]
    assert forecast is not None
    assert not forecast["complete"]
    assert forecast["p50"] <= forecast["p85"] <= forecast["p95"]
    marks = churn["charts"]["forecast"]["layer"][1]["data"]["values"]
    assert [m["at"] for m in marks] == [forecast["p50"], forecast["p85"], forecast["p95"]]


def test_model_tab_plots_each_criterion_per_window_against_its_target(
    churn: dict[str, Any], ws: Workspace
) -> None:
    report = ws.initiative("churn").performance()
    criterion = next(c for c in ws.initiative("churn").criteria() if c.kind.value == "model")
    spec = churn["charts"][f"model-{criterion.id}"]
    points = spec["layer"][0]["data"]["values"]
    expected = [
        (w["start"], v["observed"]) for w in report["windows"] for v in w["verdicts"]
        if v["criterion_id"] == criterion.id and v["observed"] is not None
    ]  # fmt: skip
    assert [(p["start"], p["value"]) for p in points] == expected
    assert len(expected) == pages_data.DAYS
    assert spec["layer"][1]["data"]["values"][0]["value"] == 0.7
    assert churn["tabs"]["model"]["message"] is None


def test_data_tab_shows_drift_per_column_in_the_latest_window(
    churn: dict[str, Any], ws: Workspace
) -> None:
    report = ws.initiative("churn").drift("training")
    latest = report["windows"][-1]
    bars = churn["charts"]["drift-latest"]["data"]["values"]
    assert {b["column"] for b in bars} == {c["name"] for c in latest["columns"]} == {
        "usage", "plan"}  # fmt: skip
    by_name = {c["name"]: c for c in latest["columns"]}
    for bar in bars:
        column = by_name[bar["column"]]
        # The decision's own p-value: adjusted across columns (Benjamini-Hochberg).
        assert bar["value"] == column["adjusted_p_value"]
        assert bar["threshold"] == column["threshold"]
    assert any(b["drifted"] == "drifted" for b in bars)  # the last two days are shifted
    assert churn["tabs"]["data"]["reference"] == "training"
    history = churn["charts"]["drift-history"]["layer"][0]["data"]["values"]
    assert len(history) == 2 * len(report["windows"])


def test_service_tab_draws_the_slos_of_the_service_criteria(churn: dict[str, Any]) -> None:
    latency = churn["charts"]["service-latency"]
    rules = [layer["data"]["values"][0] for layer in latency["layer"][1:]]
    assert [(r["value"], r["label"]) for r in rules] == [(300.0, "latency_p99 <= 300 ms")]
    errors = churn["charts"]["service-errors"]
    assert errors["layer"][1]["data"]["values"][0]["value"] == 0.01
    tab = churn["tabs"]["service"]
    assert {o["criterion"] for o in tab["objectives"]} == {"latency_p99 <= 300 ms",
                                                          "error_rate <= 0.01"}  # fmt: skip
    assert len(errors["layer"][0]["data"]["values"]) >= 24  # a day of hourly windows


def test_impact_tab_has_the_effects_with_their_intervals(churn: dict[str, Any]) -> None:
    tab = churn["tabs"]["impact"]
    assert tab["analysis"]["experiment"] == "retention-offers"
    rows = {r["metric"]: r for r in tab["rows"]}
    kpi = rows["retention_30d"]
    assert kpi["role"] == "kpi"
    assert kpi["target"] == 0.02
    assert kpi["low"] <= kpi["effect"] <= kpi["high"]
    assert all(r["target"] is None for r in tab["rows"] if r["role"] != "kpi")
    spec = churn["charts"]["impact-effects"]
    assert spec["layer"][2]["data"]["values"] == tab["rows"]


def test_an_initiative_without_data_says_what_is_missing(
    ws: Workspace, built: tuple[Path, datetime]
) -> None:
    page = views.initiative_page(ws, "quiet", built[1])
    assert set(page["charts"]) <= {"timeline", "forecast", "uncertainty"}
    messages = {name: tab["message"] for name, tab in page["tabs"].items()}
    assert "no predictions" in messages["model"]
    assert "reference" in messages["data"]
    assert "no requests" in messages["service"]
    assert messages["impact"] == "no experiment declared yet"
    assert page["missing"]


def test_unknown_initiative_is_not_found(ws: Workspace) -> None:
    with pytest.raises(NotFoundError):
        views.initiative_page(ws, "nope")


def test_moving_back_needs_a_reason_and_changes_nothing_without_one(own: Workspace) -> None:
    churn = own.initiative("churn")
    before = churn.history()
    with pytest.raises(ValidationError, match="needs a reason"):
        views_forms.move_phase(churn, {"phase": "modeling", "reason": "  "}, "Ed")
    assert churn.history() == before
    message = views_forms.move_phase(
        churn, {"phase": "modeling", "reason": "Recall too low", "cause": "model"}, "Ed"
    )
    assert message == "Looped back from evaluation to modeling."
    last = churn.history()[-1]
    assert (last.to_phase.value, last.reason, last.who) == ("modeling", "Recall too low", "Ed")
    assert last.cause is not None
    assert last.cause.value == "model"
    assert views_forms.move_phase(churn, {"phase": "evaluation", "who": "Zoe"}, "Ed") == (
        "Moved from modeling to evaluation.")  # fmt: skip
    assert churn.history()[-1].who == "Zoe"


def test_learning_and_decision_forms_store_what_was_submitted(own: Workspace) -> None:
    churn = own.initiative("churn")
    views_forms.add_learning(churn, {"text": "Offers work", "tags": "offers, Calls ,",
                                     "source": "A/B test"})  # fmt: skip
    learning = churn.learnings()[-1]
    assert (learning.text, learning.source) == ("Offers work", "A/B test")
    assert learning.tags == ("offers", "calls")
    assert learning.phase is not None
    assert learning.phase.value == "evaluation"
    with pytest.raises(ValidationError):
        views_forms.add_learning(churn, {"text": "   "})
    message = views_forms.record_decision(
        churn,
        {"verdict": "ship", "why": "It works", "evidence": "A/B test\n\n  monitor \n"},
        "Ed",
    )
    assert message == "Decision recorded: ship (status now shipped)."
    decision = churn.decisions()[-1]
    assert decision.evidence == ("A/B test", "monitor")
    assert decision.who == "Ed"
    assert churn.charter.status.value == "shipped"
    count = len(churn.decisions())
    with pytest.raises(ValidationError, match="decision"):
        views_forms.record_decision(churn, {"verdict": "maybe", "why": "x"}, "Ed")
    assert len(churn.decisions()) == count
