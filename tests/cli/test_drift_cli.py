"""``mlpilot drift REFERENCE CURRENT`` through the real entry point: output, options, bad input."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from mlpilot.engine.connection import duckdb, table
from mlpilot.monitors.drift import compare
from tests.cli.helpers import Cli, assert_one_line_error, make_cli

COLUMN_KEYS = {"name", "type", "method", "statistic", "p_value", "threshold", "drifted"}


@pytest.fixture
def cli(capsys, tmp_path, monkeypatch) -> Cli:
    return make_cli(capsys, tmp_path, monkeypatch)


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    """ref.parquet (300 rows) and cur.parquet (200 rows, x shifted, a new category); each has a
    column the other lacks."""
    rng = np.random.default_rng(1)
    ref = pa.table(
        {
            "x": rng.normal(size=300),
            "s": rng.choice(np.array(["a", "b", "c"], dtype=object), 300),
            "only_ref": np.arange(300),
        }
    )
    cur = pa.table(
        {
            "x": rng.normal(0.5, 1, 200),
            "s": rng.choice(np.array(["a", "b", "c", "new"], dtype=object), 200),
            "only_cur": np.arange(200.0),
        }
    )
    pq.write_table(ref, tmp_path / "ref.parquet")
    pq.write_table(cur, tmp_path / "cur.parquet")
    return tmp_path / "ref.parquet", tmp_path / "cur.parquet"


def library_report(reference: Path, current: Path, **options) -> dict:
    connection = duckdb()
    report = compare(table(reference, connection), table(current, connection), **options)
    return json.loads(json.dumps(report.to_dict()))


def test_json_output(cli, files):
    ref, cur = files
    result = cli.raw("drift", str(ref), str(cur), "--json")
    assert (result.code, result.err) == (0, "")
    data = json.loads(result.out, parse_constant=lambda name: pytest.fail(f"{name} in the JSON"))
    assert {"columns", "share_drifted", "dataset_drift"} <= set(data)
    assert [c["name"] for c in data["columns"]] == ["x", "s"]  # only_ref / only_cur ignored
    for column in data["columns"]:
        assert set(column) >= COLUMN_KEYS
    x, s = data["columns"]
    assert (x["type"], x["method"], x["test"], x["threshold"]) == ("numeric", "chi2", "chi2", 0.05)
    assert (s["type"], s["method"]) == ("categorical", "chi2")
    for column in (x, s):
        assert column["drifted"] is True
        assert column["adjusted_p_value"] < 0.05
        assert set(column["effect_size"]) == {"psi", "js", "hellinger"}
    assert data["share_drifted"] == 1.0
    assert data["dataset_drift"] is True
    assert data["alarm_rule"]["false_alarm_rate"] == 0.05
    assert data == library_report(ref, cur)


def test_table_output(cli, files):
    ref, cur = files
    result = cli.raw("drift", str(ref), str(cur))
    assert (result.code, result.err) == (0, "")
    for word in ("column", "statistic", "p-value", "adjusted p", "JS", "x", "s", "chi2"):
        assert word in result.out
    assert "100% of the tested columns drifted: dataset drift" in result.out
    assert "false-alarm rate at most 5 %" in result.out


@pytest.mark.parametrize("columns", [" s ", "s,x,"])
def test_columns_option(columns, cli, files):
    ref, cur = files
    data = json.loads(cli.raw("drift", str(ref), str(cur), "--columns", columns, "--json").out)
    wanted = [c.strip() for c in columns.split(",") if c.strip()]
    assert [c["name"] for c in data["columns"]] == wanted
    assert data == library_report(ref, cur, columns=wanted)


@pytest.mark.parametrize("method", ["chi2", "psi"])
def test_method_option(method, cli, files):
    ref, cur = files
    data = json.loads(cli.raw("drift", str(ref), str(cur), "--method", method, "--json").out)
    assert {c["method"] for c in data["columns"]} == {method}
    assert {c["test"] for c in data["columns"]} == {"chi2"}  # the test decides either way
    if method != "chi2":
        assert all(c["statistic"] == c["effect_size"][method] for c in data["columns"])
    assert data == library_report(ref, cur, method=method)


@pytest.mark.parametrize("method", ["ks", "wasserstein"])
def test_ecdf_methods_on_numeric_columns(method, cli, files):
    ref, cur = files
    data = json.loads(
        cli.raw("drift", str(ref), str(cur), "--method", method, "--columns", "x", "--json").out
    )
    assert [(c["name"], c["method"]) for c in data["columns"]] == [("x", method)]


def test_csv_files(cli, files, tmp_path):
    ref, cur = files
    for path in (ref, cur):
        pacsv.write_csv(pq.read_table(path), path.with_suffix(".csv"))
    via_csv = json.loads(
        cli.raw("drift", str(ref.with_suffix(".csv")), str(cur.with_suffix(".csv")), "--json").out
    )
    via_parquet = json.loads(cli.raw("drift", str(ref), str(cur), "--json").out)
    assert [c["name"] for c in via_csv["columns"]] == ["x", "s"]
    for a, b in zip(via_csv["columns"], via_parquet["columns"], strict=True):
        assert (a["method"], a["drifted"]) == (b["method"], b["drifted"])
        assert math.isclose(a["statistic"], b["statistic"], rel_tol=1e-9)


def test_an_empty_current_file(cli, files, tmp_path):
    ref, cur = files
    empty = tmp_path / "empty.parquet"
    pq.write_table(pq.read_table(cur).slice(0, 0), empty)
    data = json.loads(cli.raw("drift", str(ref), str(empty), "--json").out)
    assert [(c["p_value"], c["note"]) for c in data["columns"]] == [
        (None, "no rows on one side")
    ] * 2
    assert (data["share_drifted"], data["dataset_drift"]) == (0.0, False)


# --- bad input: one line on stderr, exit 1 ---------------------------------------------------


def test_a_missing_file(cli, files):
    ref, _ = files
    result = cli.raw("drift", str(ref), "nowhere.parquet")
    assert_one_line_error(result, "nowhere.parquet")


def test_a_file_of_another_kind(cli, files, tmp_path):
    ref, _ = files
    (tmp_path / "cur.txt").write_text("x\n1\n")
    assert_one_line_error(cli.raw("drift", str(ref), "cur.txt"), "cur.txt", ".parquet or .csv")


@pytest.mark.parametrize("method", ["kss", "KS", "t-test"])
def test_an_unknown_method(method, cli, files):
    ref, cur = files
    result = cli.raw("drift", str(ref), str(cur), "--method", method)
    assert_one_line_error(result, repr(method), "chi2, ks, psi, js, hellinger, wasserstein")


@pytest.mark.parametrize(
    ("columns", "needle"),
    [("x,zz", "'zz'"), ("only_ref", "'only_ref'"), ("only_cur", "'only_cur'")],
)
def test_an_unknown_column(columns, needle, cli, files):
    ref, cur = files
    result = cli.raw("drift", str(ref), str(cur), "--columns", columns)
    assert_one_line_error(result, needle, "the columns are")


def test_ks_on_a_text_column(cli, files):
    ref, cur = files
    result = cli.raw("drift", str(ref), str(cur), "--method", "ks")
    assert_one_line_error(result, "ks needs numeric columns", "s are categorical")


def test_a_missing_current_file(cli, files):
    ref, _ = files
    assert_one_line_error(cli.raw("drift", str(ref)), "CURRENT", "--initiative")


def test_two_files_and_an_initiative(cli, files):
    ref, cur = files
    result = cli.raw("drift", str(ref), str(cur), "--initiative", "churn")
    assert_one_line_error(result, "--initiative", "two files")


def test_nan_in_the_current_parquet_file(cli, tmp_path):
    rng = np.random.default_rng(2)
    reference = rng.normal(size=500)
    pq.write_table(pa.table({"x": reference}), tmp_path / "ref.parquet")
    pq.write_table(pa.table({"x": [0.0, math.nan, 0.5, math.nan]}), tmp_path / "cur.parquet")
    result = cli.raw("drift", "ref.parquet", "cur.parquet", "--method", "psi", "--json")
    assert result.code == 0
