"""Say what a number is: every probability and interval the status, the feasibility, the
forecast and the stakeholder update give is labelled with its kind and level, and the report
(Markdown and HTML) prints those labels, never a bare "P(met)" or a rounded certainty."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from mlpilot.report import labels
from mlpilot.report.html import to_html
from mlpilot.report.markdown import to_markdown
from mlpilot.report.update import build_update
from mlpilot.workspace import Workspace
from tests.report.labelled_data import labelled
from tests.report.walk import unlabelled

SLUGS = ("churn", "quiet", "xss")


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    workspace = Workspace.open(labelled(tmp_path_factory)[0], create=False)
    try:
        yield workspace
    finally:
        workspace.close()


@pytest.fixture(scope="module")
def updates(ws: Workspace) -> dict[str, dict[str, Any]]:
    now = datetime.now(UTC)
    return {s: build_update(ws.initiative(s), now=now, trials=2000) for s in SLUGS}


def test_the_walker_finds_an_unlabelled_number() -> None:
    """The check below can fail: the status JSON before (a bare probability, an interval
    without its level) is caught, and so is an interval pair without an enclosing label."""
    before = {
        "uncertainty": {"model": {"probability": 0.36, "source": "5 of 14 windows"}},
        "verdicts": [{"probability_met": 0.9, "probability_kind": "posterior probability",
                      "low": 0.7, "high": 0.8, "interval_kind": "credible interval"}],
        "results": [{"effect_rel_ci": [0.1, 0.2]}],
    }  # fmt: skip
    assert unlabelled(before) == [
        "$.uncertainty.model.probability",
        "$.verdicts[0].low",
        "$.verdicts[0].high",
        "$.results[0].effect_rel_ci",
    ]
    after = before | {"interval": {"kind": "confidence interval", "level": 0.95}}
    assert "$.results[0].effect_rel_ci" not in unlabelled(after)


@pytest.mark.parametrize("slug", SLUGS)
def test_every_probability_and_interval_in_the_status_json_says_what_it_is(
    ws: Workspace, slug: str
) -> None:
    status = ws.initiative(slug).status().to_dict()
    assert unlabelled(status) == []
    if slug == "churn":
        model = status["uncertainty"]["model"]
        assert model["probability_kind"] == "posterior probability"
        assert model["event"] == "every model criterion is met"  # before deployment: feasibility
        assert {h["probability_kind"] for h in model["history"]} == {"posterior probability"}
        impact = status["uncertainty"]["impact"]
        assert impact["probability_kind"] == "posterior probability"
        assert impact["event"] == "the arm that would be chosen meets every impact criterion"
        verdicts = status["monitors"]["model"]["verdicts"]
        assert {v["probability_kind"] for v in verdicts} == {"posterior probability"}
        assert {(v["interval_kind"], v["level"]) for v in verdicts} == {
            ("credible interval", 0.95)}  # fmt: skip
    if slug == "xss":  # recorded by hand without a kind: none is invented
        assert status["uncertainty"]["model"]["probability_kind"] is None


def test_feasibility_forecast_and_update_are_labelled(
    ws: Workspace, updates: dict[str, dict[str, Any]]
) -> None:
    churn = ws.initiative("churn")
    feasibility = churn.feasibility()
    assert unlabelled(feasibility) == []
    auc, recall = feasibility["criteria"]
    assert auc["learning_curve"]["regular"]
    assert (auc["learning_curve"]["interval_kind"], auc["learning_curve"]["level"]) == (
        "confidence interval", 0.95)  # fmt: skip
    assert (recall["baseline"]["interval_kind"], recall["baseline"]["level"]) == (
        "credible interval", 0.95)  # fmt: skip
    by = datetime.now(UTC) + timedelta(days=200)
    forecast = ws.initiative("xss").forecast(by=by, trials=2000).to_dict()
    assert forecast["probability_kind"] == "posterior predictive probability"
    assert unlabelled(forecast) == []
    for update in updates.values():
        assert unlabelled(update) == []


def _no_bare_numbers(text: str) -> None:
    assert "P(met)" not in text
    assert "95 % CI]" not in text  # the feasibility interval is a credible interval
    # no probability rounded to a certainty (CSS widths such as "width:100%" aside)
    assert not re.search(r"(?<![\d.:])(100|0)%", text)


def test_the_markdown_update_names_each_number(updates: dict[str, dict[str, Any]]) -> None:
    text = to_markdown(updates["churn"])
    _no_bare_numbers(text)
    assert "| question | probability | what it is |" in text
    assert "posterior probability that every model criterion is met" in text
    assert "posterior probability that the arm that would be chosen meets every impact" in text
    assert "estimate \\[95 % credible interval\\]" in text or (
        "estimate [95 % credible interval]" in text)  # fmt: skip
    assert "posterior probability that it is met" in text
    assert "learning curve [95 % confidence interval]" in text
    assert "Posterior probability that every model criterion is met: " in text
    assert ">99%" in text or "<1%" in text  # the history holds 0.0 and 0.99+
    xss = to_markdown(updates["xss"])
    assert "probability (kind not stated)" in xss
    assert re.search(r"with posterior predictive probability: by \*\*[\d-]+\*\* at 50 %", xss)


def test_the_html_update_names_each_number(updates: dict[str, dict[str, Any]]) -> None:
    page = to_html(updates["churn"])
    _no_bare_numbers(page)
    assert "<th>what it is</th>" in page
    assert "<th>estimate [95 % credible interval]</th>" in page
    assert "<th>posterior probability that it is met</th>" in page
    assert "<th>learning curve [95 % confidence interval]</th>" in page
    assert "estimate and 95 % credible interval against the target" in page  # the chart
    assert "posterior probability met" in page  # each criterion's line in the chart
    assert "&gt;99%" in page or "&lt;1%" in page
    xss = to_html(updates["xss"])
    assert re.search(
        r"with posterior predictive probability: by <strong>[\d-]+</strong> at 50 %", xss
    )


def test_probabilities_are_never_shown_as_certainties() -> None:
    assert [labels.probability(p) for p in (0.0, 0.004, 0.5, 0.994, 0.9999, 1.0, None)] == [
        "<1%", "<1%", "50%", "99%", ">99%", ">99%", "unknown"]  # fmt: skip
    assert labels.interval_label("credible interval", 0.95) == "95 % credible interval"
    assert labels.interval_short("confidence interval", 0.9) == "90% CI"
    assert labels.interval_label(None, None) == "interval (kind not stated)"


def test_the_uncertainty_line_says_what_each_number_is() -> None:
    entry = {"probability": 0.83, "probability_kind": "posterior probability",
             "event": "every model criterion holds now", "source": "model monitor: 5 windows",
             "at": "2026-01-02T00:00:00+00:00", "trend": "down"}  # fmt: skip
    line = labels.uncertainty_line({"model": entry, "impact": None})
    assert line == (
        "model: posterior probability 83% ↓ that every model criterion holds now "
        "(model monitor: 5 windows, 2026-01-02) · impact: unknown (never recorded)"
    )
    bare = entry | {"probability_kind": None, "event": None, "probability": None}
    assert labels.uncertainty_line({"model": bare}).startswith("model: no probability (")


def test_the_report_module_files_stay_small() -> None:
    source = Path(labels.__file__).parent
    for path in source.glob("*.py"):
        assert len(path.read_text(encoding="utf-8").splitlines()) < 300, path.name


def test_a_share_recorded_before_probabilities_were_posterior_is_not_shown_as_one() -> None:
    """An old history: the monitor's share of windows (5 of 14) and feasibility's share of
    bootstrap replicates were stored as "probabilities"; they are named as the frequencies they
    are, and a change of kind is no trend."""
    from mlpilot.forecast.uncertainty import make_record, summarise

    at = datetime(2026, 1, 1, tzinfo=UTC)
    records = [
        make_record("model", 0.9, "feasibility: gbm", at,
                    {"method": "joint replicates", "evaluation_id": 3}),
        make_record("model", 5 / 14, "model monitor: 5 of 14 recent windows met every model "
                    "criterion", at + timedelta(1), {"windows": 14, "met": 5, "window": "1d"}),
        make_record("model", 0.97, "model monitor: 14 recent window(s)", at + timedelta(2),
                    {"probability_kind": "posterior probability",
                     "event": "every model criterion holds now"}),
    ]  # fmt: skip
    summary = summarise(records[:2])
    history = summary["model"]["history"]
    assert history[0]["probability_kind"].startswith("share of bootstrap replicates")
    assert history[1]["probability_kind"].startswith("share of recent windows")
    assert all(h["probability_kind"].endswith("not a probability") for h in history)
    assert summary["model"]["trend"] is None  # 0.9 → 0.36 compares two different things
    line = labels.uncertainty_line(summary)
    assert "model: share of recent windows that met every criterion, not a probability 36%" in line
    latest = summarise(records)["model"]
    assert latest["probability_kind"] == "posterior probability"
    assert latest["trend"] is None
