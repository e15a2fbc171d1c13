"""``--engine spark`` on the commands that read files, and a Spark source for an initiative:
the same JSON as on DuckDB (the session started for the run is the one the CLI finds)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.helpers import Cli, create_args, make_cli
from tests.cli.test_source_cli import add_sources, write_files
from tests.spark import data
from tests.spark.parity import assert_same

pytestmark = pytest.mark.spark


@pytest.fixture
def cli(
    spark: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Cli:
    cli = make_cli(capsys, tmp_path, monkeypatch)
    cli.ok("init")
    return cli


def both(cli: Cli, *args: str) -> tuple[Any, Any]:
    """The --json output of a command on Spark and on DuckDB."""
    outputs = []
    for engine in ("spark", "duckdb"):
        result = cli(*args, "--engine", engine, "--json")
        assert result.code == 0, result.err
        outputs.append(json.loads(result.out))
    return outputs[0], outputs[1]


def test_drift_and_data_check(cli: Cli, tmp_path: Path) -> None:
    table, reference = data.readiness(tmp_path)
    on_spark, on_duck = both(cli, "drift", reference, table, "--columns", "x,ties,city")
    assert_same(on_spark, on_duck)
    on_spark, on_duck = both(cli, "data", "check", table, "--time-column", "time", "--target", "y")
    for report in (on_spark, on_duck):  # type names are each engine's own
        for column in report["profile"]:
            column.pop("type")
    assert_same(on_spark, on_duck)


def test_performance_and_service_from_files(cli: Cli, tmp_path: Path) -> None:
    predictions, outcomes = data.predictions(tmp_path, "binary")
    cli.ok(*create_args("churn"))
    on_spark, on_duck = both(
        cli, "performance", "churn", "--predictions", predictions, "--outcomes", outcomes
    )
    assert_same(on_spark, on_duck)
    requests = data.requests(tmp_path)
    on_spark, on_duck = both(
        cli, "service", "--requests", requests, "--window", "1d", "--at", "2026-03-05T00:00:00Z"
    )
    assert on_duck["windows"]
    assert_same(
        on_spark, on_duck, exact=("latency_p50", "latency_p90", "latency_p95", "latency_p99")
    )


def test_a_spark_source_equals_a_duckdb_source(cli: Cli, tmp_path: Path) -> None:
    predictions, outcomes = write_files(tmp_path)
    cli.ok(*create_args("on-spark"))
    cli.ok(*create_args("on-duck"))
    add_sources(cli, "on-spark", predictions, outcomes, "spark")
    add_sources(cli, "on-duck", predictions, outcomes, "duckdb")
    on_spark = cli.json("performance", "on-spark")
    on_duck = cli.json("performance", "on-duck")
    assert on_duck["windows"]
    assert_same(on_spark["windows"], on_duck["windows"])
