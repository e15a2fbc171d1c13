"""``mlpilot data check`` through the real entry point: the report, the criteria, bad input."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import mlpilot
from tests.cli.helpers import Cli, assert_one_line_error, make_cli

START = datetime(2024, 3, 1)


@pytest.fixture
def cli(capsys, tmp_path, monkeypatch) -> Cli:
    return make_cli(capsys, tmp_path, monkeypatch)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """40 rows over 10 days (days 3 and 4 empty), a float column with NaN and inf written by
    Arrow (whose Parquet statistics leave NaN out), text, a 0/1 target; two duplicate rows."""
    days = [d for d in range(10) if d not in (3, 4)]
    n = 40
    when = [START + timedelta(days=days[i % len(days)], minutes=i) for i in range(n)]
    x = [float(i) for i in range(n)]
    x[5], x[6], x[7] = math.nan, math.nan, math.inf
    frame = pa.table(
        {
            "ts": when,
            "x": x,
            "city": [["paris", "lyon", "nice"][i % 3] for i in range(n)],
            "y": [1 if i % 4 == 0 else 0 for i in range(n)],
        }
    )
    frame = pa.concat_tables([frame, frame.slice(0, 2)])
    path = tmp_path / "data.parquet"
    pq.write_table(frame, path)
    return path


def test_json_report(cli: Cli, data: Path):
    report = cli.json("data", "check", str(data), "--time-column", "ts", "--target", "y")
    for key in ("rows", "columns", "duplicates", "missing", "history", "checks", "ready"):
        assert key in report
    assert (report["rows"], report["columns"], report["duplicates"]) == (42, 4, 2)
    assert report["missing"]["x"] == pytest.approx(2 / 42)  # NaN counts as missing
    history = report["history"]
    assert history["first"] == "2024-03-01T00:00:00"
    assert history["period"] == "day"
    assert (history["gaps"], history["longest_gap_days"]) == (2, 2)
    assert sum(p["rows"] for p in history["rows_per_period"]) == 42
    assert report["target"]["minority_share"] == pytest.approx(11 / 42)  # one duplicated 1
    for check in report["checks"]:
        assert {"name", "passed", "observed", "threshold", "criterion", "plan"} <= set(check)
    duplicates = next(c for c in report["checks"] if c["name"] == "duplicate_share")
    assert (duplicates["passed"], duplicates["criterion"]) == (False, None)
    assert report["ready"] is False
    assert any("infinite" in warning for warning in report["warnings"])


def test_text_report_exits_zero_even_when_checks_fail(cli: Cli, data: Path):
    out = cli.ok("data", "check", str(data), "--time-column", "ts").out
    assert "42 rows × 4 columns" in out
    assert "duplicate_share" in out
    assert "FAIL" in out
    assert "not ready" in out


def test_initiative_criteria_show_their_text_and_plan(cli: Cli, data: Path, tmp_path: Path):
    with mlpilot.Workspace.open(tmp_path / "ws") as ws:
        churn = ws.create_initiative(
            "churn",
            name="Churn",
            problem="Customers leave",
            prediction_use="Retention calls",
            task="binary",
            shape="batch",
            baseline="Last month's cancellations",
        )
        churn.add_criterion("data", "rows", ">=", 1000, plan="Add last year's exports")
        churn.add_criterion("data", "label_share", ">=", 0.05)
    args = ("data", "check", str(data), "--target", "y", "--initiative", "churn")
    report = cli.json(*args)
    rows = next(c for c in report["checks"] if c["name"] == "rows")
    assert rows["passed"] is False
    assert rows["criterion"] == "rows >= 1000"
    assert rows["plan"] == "Add last year's exports"
    label = next(c for c in report["checks"] if c["name"] == "label_share")
    assert (label["passed"], label["criterion"]) == (True, "label_share >= 0.05")
    assert label["plan"] is None
    out = cli.ok(*args).out
    assert "✗ rows >= 1000: plan: Add last year's exports" in out
    assert "criterion #" in out


def test_reference_out_of_range_and_unseen_values(cli: Cli, data: Path, tmp_path: Path):
    reference = tmp_path / "reference.csv"
    reference.write_text("x,city\n0,paris\n20,lyon\n")
    report = cli.json("data", "check", str(data), "--reference", str(reference))
    ref = report["reference"]
    assert ref["out_of_range"]["x"]["above"] == 19 + 1  # 21..39 but NaN no, inf yes
    assert ref["unseen"]["city"]["values"] == 1
    assert ref["unseen"]["city"]["examples"] == ["nice"]
    assert ref["not_in_reference"] == ["ts", "y"]


@pytest.mark.parametrize(
    "content",
    ["", "a,b\n"],
    ids=["zero-byte", "header-only"],
)
def test_an_empty_csv_is_a_report_not_a_crash(cli: Cli, tmp_path: Path, content: str):
    path = tmp_path / "empty.csv"
    path.write_text(content)
    report = cli.json("data", "check", str(path))
    assert report["rows"] == 0
    assert report["ready"] is False
    assert all(not c["passed"] for c in report["checks"])


def test_an_empty_parquet_file_with_a_time_column(cli: Cli, tmp_path: Path):
    path = tmp_path / "empty.parquet"
    pq.write_table(
        pa.table({"ts": pa.array([], pa.timestamp("us")), "v": pa.array([], pa.float64())}), path
    )
    report = cli.json("data", "check", str(path), "--time-column", "ts")
    assert report["history"]["span_days"] is None
    assert report["history"]["first"] is None
    out = cli.ok("data", "check", str(path), "--time-column", "ts").out
    assert "not ready" in out


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize("option", ["--time-column", "--target"])
def test_an_unknown_column_is_one_line_naming_it_and_the_columns(cli: Cli, data: Path, option):
    result = cli("data", "check", str(data), option, "nope")
    assert_one_line_error(result, "'nope'", "ts, x, city, y")


def test_a_time_column_that_does_not_parse(cli: Cli, tmp_path: Path):
    path = tmp_path / "bad.csv"
    path.write_text("when,v\nyesterday,1\nsoon,2\n")
    result = cli("data", "check", str(path), "--time-column", "when")
    assert_one_line_error(result, "time column 'when' does not parse")


def test_a_numeric_time_column(cli: Cli, data: Path):
    result = cli("data", "check", str(data), "--time-column", "x")
    assert_one_line_error(result, "time column 'x' has type float64")


def test_an_unknown_initiative(cli: Cli, data: Path):
    cli.ok("init")
    result = cli("data", "check", str(data), "--initiative", "nope")
    assert_one_line_error(result, "nope")


def test_an_unknown_period(cli: Cli, data: Path):
    result = cli("data", "check", str(data), "--time-column", "ts", "--period", "year")
    assert_one_line_error(result, "unknown period 'year'")


def test_a_missing_file_and_an_unreadable_one(cli: Cli, tmp_path: Path):
    assert_one_line_error(cli("data", "check", "missing.parquet"), "no file missing.parquet")
    late = tmp_path / "late.csv"  # the CSV sniffer samples the start; row 30,001 breaks
    late.write_text("a\n" + "".join(f"{i}\n" for i in range(30_000)) + "oops\n")
    assert_one_line_error(cli("data", "check", str(late)), f"cannot read {late}")


def test_a_source_that_is_neither_a_file_nor_a_table(cli: Cli):
    assert_one_line_error(cli("data", "check", "notes.txt"), "cannot read notes.txt")
