"""``mlpilot experiment create|list|analyze|plan`` through the real entry point."""

from __future__ import annotations

import csv
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scipy.stats import chisquare
from statsmodels.stats.power import NormalIndPower

from tests.cli.helpers import Cli, assert_one_line_error, create_args, make_cli

T0 = datetime(2026, 3, 2, tzinfo=UTC)
ROW_KEYS = {
    "metric",
    "variant",
    "n",
    "mean",
    "control_n",
    "control_mean",
    "effect_abs",
    "effect_abs_ci",
    "effect_rel",
    "effect_rel_ci",
    "p_value",
    "chance_to_win",
    "risk",
    "verdict",
}


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    return make_cli(capsys, tmp_path, monkeypatch)


def write_stats(path: Path, rows: list[dict[str, object]]) -> Path:
    columns = list(dict.fromkeys(k for row in rows for k in row))
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


GB_ROWS = [
    {"variant": "a", "metric": "m", "n": 3407, "sum": 1396.87, "sum_squares": 52377.9767},
    {"variant": "b", "metric": "m", "n": 3461, "sum": 2422.7, "sum_squares": 134698.29},
]


def test_analyze_a_stats_file(cli: Cli, tmp_path: Path):
    stats = write_stats(tmp_path / "stats.csv", GB_ROWS)
    out = cli.json("experiment", "analyze", "--stats", str(stats))
    assert out["srm_p_value"] == pytest.approx(chisquare([3407, 3461]).pvalue, rel=1e-9)
    (row,) = out["results"]
    assert set(row) >= ROW_KEYS
    assert row["effect_rel"] == pytest.approx(0.70732, abs=1e-4)
    assert row["effect_abs_ci"] == pytest.approx([0.04538, 0.53462], abs=1e-4)
    assert row["p_value"] == pytest.approx(0.02016, abs=1e-4)
    assert row["verdict"] is None
    bayes = cli.json("experiment", "analyze", "--stats", str(stats), "--method", "bayesian")
    assert bayes["results"][0]["p_value"] is None
    assert bayes["results"][0]["chance_to_win"] is None  # no direction in the file: no "win"
    assert bayes["interval"] == {"kind": "credible interval", "level": 0.95}
    assert bayes["prior"]["source"] == "default"
    directed = write_stats(tmp_path / "d.csv", [dict(r, direction="higher") for r in GB_ROWS])
    bayes = cli.json("experiment", "analyze", "--stats", str(directed), "--method", "bayesian")
    assert bayes["results"][0]["direction"] == "higher"
    assert 0.5 < bayes["results"][0]["chance_to_win"] < 1
    assert (
        "chance to win"
        in cli.ok("experiment", "analyze", "--stats", str(directed), "--method", "bayesian").out
    )
    text = cli.ok("experiment", "analyze", "--stats", str(stats), "--method", "sequential")
    assert "sample ratio" in text.out


def test_cuped_from_a_stats_file_reports_the_variance_reduction(cli: Cli, tmp_path: Path):
    rows = [
        {
            **GB_ROWS[0],
            "covariate_sum": 1300.0,
            "covariate_sum_squares": 45000.0,
            "covariate_cross_sum": 40000.0,
        },
        {
            **GB_ROWS[1],
            "covariate_sum": 1350.0,
            "covariate_sum_squares": 47000.0,
            "covariate_cross_sum": 60000.0,
        },
    ]
    stats = write_stats(tmp_path / "cuped.csv", rows)
    plain = cli.json("experiment", "analyze", "--stats", str(stats))["results"][0]
    cuped = cli.json("experiment", "analyze", "--stats", str(stats), "--cuped")["results"][0]
    assert cuped["variance_reduction"] > 0
    width = cuped["effect_abs_ci"][1] - cuped["effect_abs_ci"][0]
    assert width < plain["effect_abs_ci"][1] - plain["effect_abs_ci"][0]


@pytest.mark.parametrize(
    ("rows", "needle"),
    [
        ([{"variant": "a", "metric": "m", "n": 10, "sum": 5}], "sum_squares"),
        ([{**GB_ROWS[0], "sum": "nan"}, GB_ROWS[1]], "finite"),
        ([{**GB_ROWS[0], "sum": "lots"}, GB_ROWS[1]], "not a number"),
        ([{**GB_ROWS[0], "sum_squares": 1.0}, GB_ROWS[1]], "no set of values"),
        ([GB_ROWS[0]], "control and a treatment"),
        ([GB_ROWS[0], GB_ROWS[0], GB_ROWS[1]], "repeated"),
    ],
)
def test_bad_stats_files_fail_on_one_line(cli: Cli, tmp_path: Path, rows, needle):
    stats = write_stats(tmp_path / "bad.csv", rows)
    assert_one_line_error(cli("experiment", "analyze", "--stats", str(stats)), needle)


def test_flagged_rows_are_named_not_hidden(cli: Cli, tmp_path: Path):
    rows = [
        {
            "variant": "a",
            "metric": "conv",
            "n": 500,
            "sum": 0,
            "sum_squares": 0,
            "kind": "proportion",
        },
        {
            "variant": "b",
            "metric": "conv",
            "n": 500,
            "sum": 9,
            "sum_squares": 9,
            "kind": "proportion",
        },
        {"variant": "a", "metric": "empty", "n": 0, "sum": 0, "sum_squares": 0},
        {"variant": "b", "metric": "empty", "n": 0, "sum": 0, "sum_squares": 0},
    ]
    out = cli.json("experiment", "analyze", "--stats", str(write_stats(tmp_path / "f.csv", rows)))
    flags = {r["metric"]: r["flag"] for r in out["results"]}
    assert flags == {"conv": "control_mean_zero", "empty": "empty_arm"}


def test_create_log_analyze_end_to_end(cli: Cli, tmp_path: Path):
    cli.ok("init")
    cli.ok(*create_args("churn"))
    cli.ok(
        "criteria",
        "add",
        "churn",
        "--kind",
        "impact",
        "--metric",
        "retained",
        "--op",
        ">=",
        "--target",
        "0.02",
        "--guardrail",
        "cost:lower:margin=0.05",
    )
    cli.ok(
        "experiment",
        "create",
        "churn",
        "offers",
        "--variants",
        "control,treatment",
        "--split",
        "50,50",
        "--metric",
        "retained:conversion",
        "--metric",
        "cost:lower",
    )
    listed = cli.json("experiment", "list", "churn")
    assert listed[0]["criteria"][0]["metric"] == "retained"
    n = 2000
    units = [f"u{i}" for i in range(n)]
    variants = ["treatment" if i % 2 else "control" for i in range(n)]
    pq.write_table(
        pa.table(
            {"unit_id": units, "experiment": ["offers"] * n, "variant": variants, "time": [T0] * n}
        ),
        tmp_path / "exp.parquet",
    )
    retained = [u for i, u in enumerate(units) if (i % 10) < (8 if i % 2 else 5)]
    pq.write_table(
        pa.table(
            {
                "unit_id": retained,
                "metric": ["retained"] * len(retained),
                "value": [1.0] * len(retained),
                "time": [T0 + timedelta(days=3)] * len(retained),
            }
        ),
        tmp_path / "events.parquet",
    )
    cli.ok("log", "exposures", "churn", str(tmp_path / "exp.parquet"))
    cli.ok("log", "metric-events", "churn", str(tmp_path / "events.parquet"))
    out = cli.json("experiment", "analyze", "churn", "offers")
    assert out["verdict"] == "pass"
    row = next(r for r in out["results"] if r["metric"] == "retained")
    assert row["mean"] == pytest.approx(0.8)
    assert row["control_mean"] == pytest.approx(0.6)
    early = (T0 + timedelta(days=1)).isoformat()
    before = cli.json("experiment", "analyze", "churn", "offers", "--until", early, "--no-save")
    row = next(r for r in before["results"] if r["metric"] == "retained")
    assert row["mean"] == 0
    assert row["flag"] == "zero_variance"
    assert before["verdict"] == "inconclusive"
    text = cli.ok("experiment", "analyze", "churn", "offers", "--method", "bayesian")
    assert "verdict: pass" in text.out
    assert_one_line_error(cli("experiment", "analyze", "churn"), "SLUG NAME")
    assert_one_line_error(
        cli("experiment", "create", "churn", "x", "--variants", "a,b", "--split", "1,2,3"),
        "--split",
    )
    assert_one_line_error(
        cli("experiment", "create", "churn", "offers", "--variants", "a,b"), "already"
    )
    for days in ("-1", "inf", "nan", "40000"):
        assert_one_line_error(
            cli("experiment", "create", "churn", "y", "--variants", "a,b", "--pre-days", days),
            "--pre-days",
        )


def test_plan_matches_statsmodels(cli: Cli):
    out = cli.json(
        "experiment",
        "plan",
        "--baseline-mean",
        "10",
        "--baseline-sd",
        "3",
        "--mde",
        "0.5",
        "--absolute",
        "--daily-units",
        "100",
    )
    n1 = NormalIndPower().solve_power(effect_size=0.5 / 3, alpha=0.05, power=0.8)
    assert out["total_units"] == math.ceil(2 * n1 - 1e-6)
    assert out["days"] == -(-out["total_units"] // 100)
    back = cli.json("experiment", "plan", "--baseline-rate", "0.1", "--units", "30000")
    again = cli.json("experiment", "plan", "--baseline-rate", "0.1", "--mde", str(back["mde"]))
    assert again["total_units"] == pytest.approx(30000, abs=1)
    assert (
        "units in total"
        in cli.ok("experiment", "plan", "--baseline-rate", "0.1", "--mde", "0.1").out
    )
    assert_one_line_error(cli("experiment", "plan", "--mde", "0.1"), "--baseline-rate")
    assert_one_line_error(
        cli("experiment", "plan", "--baseline-rate", "0.1", "--mde", "0.1", "--units", "9"),
        "--units",
    )


def test_until_limits_the_analysis_and_stats_refuses_it(cli: Cli, tmp_path: Path):
    stats = write_stats(tmp_path / "stats.csv", GB_ROWS)
    assert_one_line_error(
        cli("experiment", "analyze", "--stats", str(stats), "--until", "2026-03-01"), "--stats"
    )
