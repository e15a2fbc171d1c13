"""``mlpilot evaluate``: the JSON contract, what each number is, and --stratified."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from tests.cli.helpers import create_args, make_cli


@pytest.fixture
def cli(capsys, tmp_path, monkeypatch):
    cli = make_cli(capsys, tmp_path, monkeypatch)
    cli.ok("init")
    cli.ok(*create_args("churn"))
    cli.ok("criteria", "add", "churn", "--kind", "model", "--metric", "roc_auc", "--op", ">=",
           "--target", "0.75")  # fmt: skip
    return cli


def predictions(tmp_path, n: int, positives: float, seed: int) -> str:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < positives).astype(int)
    p = stats.norm.cdf(rng.normal(1.4 * y, 1.0) - 0.5)
    path = tmp_path / f"pred-{seed}.csv"
    path.write_text("y,s\n" + "".join(f"{a},{b:.6f}\n" for a, b in zip(y, p, strict=True)))
    return str(path)


def test_the_json_keeps_its_shape_and_says_what_each_number_is(cli, tmp_path):
    path = predictions(tmp_path, 800, 0.3, seed=1)
    out = cli.json("evaluate", "churn", "--predictions", path, "--label-column", "y",
                   "--score-column", "s")  # fmt: skip
    (auc,) = out["criteria"]
    assert {"estimate", "low", "high", "probability_met"} <= set(auc)
    assert auc["probability_kind"] == "posterior probability"
    assert (auc["interval_kind"], auc["level"]) == ("credible interval", 0.95)
    assert auc["prior"].startswith("uniform")
    assert 0 < auc["probability_met"] <= 1
    assert out["probability_kind"] == "posterior probability"
    text = cli.ok("evaluate", "churn").out
    assert "posterior probability that every model criterion is met" in text
    assert "credible interval" in text


def test_insufficient_evidence_is_null_with_a_note(cli, tmp_path):
    path = predictions(tmp_path, 60, 0.05, seed=2)  # about 3 positives
    out = cli.json("evaluate", "churn", "--predictions", path, "--label-column", "y",
                   "--score-column", "s")  # fmt: skip
    (auc,) = out["criteria"]
    assert auc["probability_met"] is None
    assert auc["note"].startswith("insufficient evidence")
    assert out["probability_all_met"] is None
    assert "insufficient evidence" in cli.ok("evaluate", "churn").out


def test_stratified_is_asked_for(cli, tmp_path):
    path = predictions(tmp_path, 600, 0.5, seed=3)
    cli.ok("evaluate", "churn", "--predictions", path, "--label-column", "y", "--score-column",
           "s", "--stratified", "--name", "case-control")  # fmt: skip
    out = cli.json("evaluate", "churn")
    assert out["criteria"][0]["evaluation"] == "case-control"


def capacity_cli(cli, tmp_path) -> str:
    """churn judged at the top 20 per week; a file of 600 rows over three weeks with times."""
    cli.ok("criteria", "add", "churn", "--kind", "model", "--metric", "precision", "--op", ">=",
           "--target", "0.5", "--top", "20", "--per", "week")  # fmt: skip
    rng = np.random.default_rng(9)
    y = (rng.random(600) < 0.2).astype(int)
    p = stats.norm.cdf(rng.normal(1.4 * y, 1.0) - 0.5)
    days = rng.integers(0, 21, 600)
    path = tmp_path / "timed.csv"
    path.write_text("y,s,t\n" + "".join(
        f"{a},{b:.6f},2026-03-{2 + d:02d}T09:00:00Z\n" for a, b, d in zip(y, p, days, strict=True)
    ))  # fmt: skip
    return str(path)


def test_a_capacity_criterion_gets_a_probability_from_the_time_column(cli, tmp_path):
    path = capacity_cli(cli, tmp_path)
    base = ("evaluate", "churn", "--predictions", path, "--score-column", "s")
    (_, before) = cli.json(*base)["criteria"]
    assert before["probability_met"] is None
    assert "--time-column" in before["note"]
    (_, after) = cli.json(*base, "--time-column", "t")["criteria"]
    assert after["operating_point"] == "top 20 per week"
    assert 0 < after["probability_met"] < 1
    assert after["probability_kind"] == "posterior probability"
    (_, sampled) = cli.json(*base, "--per-period", "6000")["criteria"]  # top 20·600/6000 = 2
    assert "random sample of one week's population of 6000" in sampled["note"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--time-column", "when"), "no column 'when'"),
        (("--time-column", "s"), "holds numbers"),
        (("--per-period", "0"), "at least 1"),
        (("--per-period", "100"), "smaller than the evaluation set (600 rows)"),
    ],
)
def test_bad_capacity_options_are_one_line_errors(cli, tmp_path, extra, message):
    path = capacity_cli(cli, tmp_path)
    result = cli("evaluate", "churn", "--predictions", path, "--score-column", "s", *extra)
    assert result.code != 0
    assert result.err.startswith("error: ")
    assert message in result.err
    assert result.err.count("\n") == 1
