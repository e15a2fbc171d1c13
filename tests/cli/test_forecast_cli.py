"""``mlpilot forecast`` and ``mlpilot evaluate`` from the command line."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from tests.cli.helpers import assert_one_line_error, create_args, make_cli


@pytest.fixture
def cli(capsys, tmp_path, monkeypatch):
    cli = make_cli(capsys, tmp_path, monkeypatch)
    cli.ok("init")
    start = (datetime.now(UTC) - timedelta(days=90)).date().isoformat()
    cli.ok(*create_args("churn", "--started", start, "--baseline-value", "0.41",
                        "--baseline-metric", "recall"))  # fmt: skip
    return cli


def test_forecast_json_has_the_documented_keys(cli):
    cli.ok("phase", "churn", "data-understanding")
    by = (datetime.now(UTC) + timedelta(days=365)).date().isoformat()
    data = cli.json("forecast", "churn", "--by", by, "--trials", "2000")
    assert {"p50", "p85", "p95", "probability_by", "expected_loops", "trials",
            "history_initiatives", "history_transitions"} <= set(data)  # fmt: skip
    assert data["trials"] == 2000
    assert data["p50"] <= data["p85"] <= data["p95"]
    assert 0 <= data["probability_by"] <= 1
    assert data["history_transitions"] == 1  # the finished business-understanding visit
    again = cli.json("forecast", "churn", "--by", by, "--trials", "2000")
    assert again["p85"] == data["p85"]  # seeded: the same forecast twice
    text = cli.ok("forecast", "churn").out
    assert "85%" in text


def test_forecast_errors_are_one_line(cli):
    assert_one_line_error(cli("forecast", "churn", "--trials", "5"), "trials")
    assert_one_line_error(cli("forecast", "churn", "--by", "soon"), "--by")
    assert_one_line_error(cli("forecast", "nope"), "nope")
    cli.ok("decide", "churn", "stop", "--why", "no budget")
    assert_one_line_error(cli("forecast", "churn"), "stopped")


def test_evaluate_a_predictions_file_and_metric_values(cli, tmp_path):
    cli.ok("criteria", "add", "churn", "--kind", "model", "--metric", "roc_auc", "--op", ">=",
           "--target", "0.7")  # fmt: skip
    rng = np.random.default_rng(0)
    y = (rng.random(500) < 0.3).astype(int)
    p = 1 / (1 + np.exp(-(rng.normal(1.5 * y, 1) - 1)))
    path = tmp_path / "pred.csv"
    path.write_text("label,score\n" + "".join(f"{a},{b}\n" for a, b in zip(y, p, strict=True)))
    out = cli.json("evaluate", "churn", "--predictions", str(path), "--label-column", "label",
                   "--score-column", "score", "--train-size", "1000", "--name", "gbm")  # fmt: skip
    assert out["recorded"] == "gbm"
    (auc,) = out["criteria"]
    assert auc["evaluation"] == "gbm"
    assert auc["low"] < auc["estimate"] < auc["high"]
    text = cli.ok("evaluate", "churn", "--metric", "roc_auc=0.8", "--n", "400").out
    assert "recorded" in text
    assert "probability that every model criterion is met" in text
    shown = cli.json("evaluate", "churn")  # no input: the feasibility so far
    assert shown["recorded"] is None
    assert shown["evaluations"] == 2


def test_evaluate_errors_are_one_line(cli):
    assert_one_line_error(cli("evaluate", "churn", "--metric", "recall"), "NAME=VALUE")
    assert_one_line_error(cli("evaluate", "churn", "--metric", "recall=0.5"), "sample size")
    assert_one_line_error(cli("evaluate", "churn", "--mlflow-run", "abc", "--n", "10"), "mlflow")
    assert_one_line_error(cli("evaluate", "churn", "--predictions", "none.csv"), "none.csv")
    data = json.loads(cli.ok("evaluate", "churn", "--json").out)
    assert data["evaluations"] == 0
