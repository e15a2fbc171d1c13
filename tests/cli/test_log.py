"""``mlpilot log …`` and ``mlpilot reference …`` through the real entry point ``main``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mlpilot.cli.app import main
from tests.cli.helpers import Cli, assert_one_line_error, create_args, make_cli

PREDICTIONS_CSV = (
    "prediction_id,ts,entity_id,score,age\n"
    "p1,2026-03-01T10:00:00Z,c1,0.2,31\n"
    "p2,2026-03-01T11:00:00Z,c2,0.8,45\n"
    "p3,2026-03-01T12:00:00Z,c3,0.5,27\n"
)


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A workspace holding the initiative ``churn``, built once; each test works on a copy."""
    home = tmp_path_factory.mktemp("template") / "ws"
    for step in (["init"], create_args("churn")):
        assert main(["--home", str(home), *step]) == 0, step
    return home


@pytest.fixture
def cli(capsys, tmp_path, monkeypatch, template) -> Cli:
    cli = make_cli(capsys, tmp_path, monkeypatch)
    shutil.copytree(template, cli.home)
    return cli


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    """Predictions (CSV, with other column names), outcomes and a reference (Parquet)."""
    (tmp_path / "predictions.csv").write_text(PREDICTIONS_CSV)
    pq.write_table(
        pa.table(
            {"entity_id": ["c1", "c2"], "time": ["2026-03-08", "2026-03-08"], "label": [0, 1]}
        ),
        tmp_path / "outcomes.parquet",
    )
    pq.write_table(
        pa.table({"age": [30, 40, 50], "score": [0.1, 0.5, 0.9], "label": [0, 1, 1]}),
        tmp_path / "training.parquet",
    )
    return {
        "predictions": str(tmp_path / "predictions.csv"),
        "outcomes": str(tmp_path / "outcomes.parquet"),
        "training": str(tmp_path / "training.parquet"),
    }


MAP = ("--map", "id=prediction_id", "--map", "time=ts")


def test_log_predictions_prints_what_it_stored_and_is_idempotent(cli, files):
    first = cli.ok("log", "predictions", "churn", files["predictions"], *MAP)
    again = cli.ok("log", "predictions", "churn", files["predictions"], *MAP)

    assert first.out.strip().splitlines() == [
        "✓ predictions of churn: 3 received, 3 inserted, 0 duplicates"
    ]
    assert "3 received, 0 inserted, 3 duplicates" in again.out
    assert (cli.home / "events.duckdb").is_file()


def test_log_predictions_json(cli, files):
    result = cli.json("log", "predictions", "churn", files["predictions"], *MAP)

    assert result == {"received": 3, "inserted": 3, "duplicates": 0}


def test_log_outcomes(cli, files):
    assert cli.json("log", "outcomes", "churn", files["outcomes"])["inserted"] == 2
    assert (
        "2 received, 0 inserted, 2 duplicates"
        in cli.ok("log", "outcomes", "churn", files["outcomes"]).out
    )


def test_a_missing_column_is_a_one_line_error_naming_it(cli, files):
    result = cli("log", "predictions", "churn", files["predictions"], "--map", "id=prediction_id")

    assert_one_line_error(result, "no 'time' column", "--map time=COLUMN")


def test_a_map_naming_a_missing_column_is_a_one_line_error(cli, files):
    result = cli("log", "predictions", "churn", files["predictions"], "--map", "id=nope")

    assert_one_line_error(result, "'nope'", "the input's columns: prediction_id, ts")


@pytest.mark.parametrize("entry", ["time", "=ts", "time=", "time = "])
def test_a_malformed_map_is_a_one_line_error(cli, files, entry):
    result = cli("log", "predictions", "churn", files["predictions"], "--map", entry)

    assert_one_line_error(result, f"invalid --map {entry!r}", "name=column")


def test_a_map_giving_a_name_twice_is_refused(cli, files):
    result = cli("log", "outcomes", "churn", files["outcomes"], "--map", "a=b", "--map", "a=c")

    assert_one_line_error(result, "--map gives 'a' twice")


def test_bad_values_are_a_one_line_error_and_nothing_is_stored(cli, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("id,time,score\na,2026-03-01,1.5\nb,tomorrow,0.5\n")

    result = cli("log", "predictions", "churn", str(path))

    assert_one_line_error(result, "'tomorrow'", "outside [0, 1]")
    assert not (cli.home / "events.duckdb").exists()


def test_an_unknown_initiative_or_file_is_a_one_line_error(cli, files, tmp_path):
    assert_one_line_error(
        cli("log", "predictions", "ghost", files["predictions"]), "no initiative 'ghost'"
    )
    assert_one_line_error(
        cli("log", "outcomes", "churn", str(tmp_path / "missing.csv")), "no file", "missing.csv"
    )
    assert not (cli.home / "events.duckdb").exists()


def test_reference_add_list_and_replace(cli, files):
    added = cli.ok("reference", "add", "churn", "training", files["training"])
    assert "reference training of churn: 3 received, 3 inserted, 0 duplicates" in added.out

    refused = cli("reference", "add", "churn", "training", files["training"])
    assert_one_line_error(refused, "reference 'training' already", "--replace")

    cli.ok("reference", "add", "churn", "training", files["outcomes"], "--replace")
    listed = cli.json("reference", "list", "churn")
    assert [(r["name"], r["rows"], r["columns"]) for r in listed] == [
        ("training", 2, ["label", "entity_id", "time"])
    ]
    assert listed[0]["created_at"].endswith("+00:00")
    table = cli.ok("reference", "list", "churn").out
    assert "training" in table
    assert "created (UTC)" in table


def test_reference_list_of_a_workspace_without_monitoring_data(cli):
    assert cli.json("reference", "list", "churn") == []
    assert not (cli.home / "events.duckdb").exists()


def test_a_bad_reference_name_is_a_one_line_error(cli, files):
    result = cli("reference", "add", "churn", "Training Set", files["training"])

    assert_one_line_error(result, "invalid reference name 'Training Set'")


def test_log_requests_exposures_and_metric_events(cli, tmp_path):
    inputs = {
        "requests": "id,time,latency_ms,status,error_class\n"
        "r1,2026-03-01T10:00:00Z,12.5,ok,\nr2,2026-03-01T10:00:01Z,900,error,Timeout\n",
        "exposures": "unit_id,experiment,variant,time\nu1,x,control,2026-03-01\n"
        "u2,x,treatment,2026-03-01\n",
        "metric-events": "unit_id,time,metric,value\nu1,2026-03-02,revenue,9.5\n",
    }
    for kind, text in inputs.items():
        path = tmp_path / f"{kind}.csv"
        path.write_text(text)
        rows = text.count("\n") - 1
        assert cli.json("log", kind, "churn", str(path)) == {
            "received": rows, "inserted": rows, "duplicates": 0,
        }  # fmt: skip
        again = cli.ok("log", kind, "churn", str(path)).out
        assert f"{rows} received, 0 inserted, {rows} duplicates" in again


def test_a_bad_request_status_is_a_one_line_error(cli, tmp_path):
    path = tmp_path / "requests.csv"
    path.write_text("id,time,latency_ms,status\nr1,2026-03-01,5,OK\n")

    result = cli("log", "requests", "churn", str(path))

    assert_one_line_error(result, "'status' has 1 value other than 'ok' or 'error'")
    assert not (cli.home / "events.duckdb").exists()
