"""``mlpilot source add|list|remove`` and the monitors reading a source where it lives.

A DuckDB file source (a Parquet file with the warehouse's own column names) must give the same
performance report as the same rows logged into the event store, and nothing is copied into the
store. Definitions hold no connection settings; bad definitions are one-line errors that change
nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.cli.helpers import Cli, assert_one_line_error, create_args, make_cli
from tests.spark.parity import assert_same

T0 = datetime(2026, 3, 2, tzinfo=UTC)
PREDICTION_MAP = "id=pred_id,time=ts,entity_id=customer,score=p"
OUTCOME_MAP = "entity_id=customer,time=labelled_at,label=y"


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    cli = make_cli(capsys, tmp_path, monkeypatch)
    cli.ok("init")
    return cli


def write_files(folder: Path, n: int = 240) -> tuple[Path, Path]:
    """Predictions and outcomes with a warehouse's column names (and an extra feature)."""
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, n)
    times = [T0 + timedelta(hours=int(h)) for h in rng.integers(0, 72, n)]
    predictions = pa.table(
        {
            "pred_id": [f"p{i}" for i in range(n)],
            "ts": pa.array(times, pa.timestamp("us", "UTC")),
            "customer": [f"c{i}" for i in range(n)],
            "p": np.clip(0.35 * y + rng.uniform(0, 0.65, n), 0, 1).round(3),
            "tenure": rng.integers(1, 60, n),
        }
    )
    outcomes = pa.table(
        {
            "customer": [f"c{i}" for i in range(0, n, 2)],
            "labelled_at": pa.array([times[i] + timedelta(days=1) for i in range(0, n, 2)],
                                    pa.timestamp("us", "UTC")),
            "y": y[::2],
        }
    )  # fmt: skip
    pq.write_table(predictions, folder / "predictions.parquet")
    pq.write_table(outcomes, folder / "outcomes.parquet")
    return folder / "predictions.parquet", folder / "outcomes.parquet"


def add_sources(cli: Cli, slug: str, predictions: Path, outcomes: Path, engine: str) -> None:
    cli.ok("source", "add", slug, "--kind", "predictions", "--engine", engine,
           "--table", str(predictions), "--map", PREDICTION_MAP)  # fmt: skip
    cli.ok("source", "add", slug, "--kind", "outcomes", "--engine", engine,
           "--table", str(outcomes), "--map", OUTCOME_MAP)  # fmt: skip


def test_a_duckdb_source_equals_the_same_rows_logged(cli: Cli, tmp_path: Path) -> None:
    predictions, outcomes = write_files(tmp_path)
    cli.ok(*create_args("churn"))
    cli.ok(*create_args("logged"))
    add_sources(cli, "churn", predictions, outcomes, "duckdb")
    cli.ok("log", "predictions", "logged", str(predictions),
           *[f"--map={m}" for m in PREDICTION_MAP.split(",")])  # fmt: skip
    cli.ok("log", "outcomes", "logged", str(outcomes),
           *[f"--map={m}" for m in OUTCOME_MAP.split(",")])  # fmt: skip
    from_source = cli.json("performance", "churn")
    from_store = cli.json("performance", "logged")
    assert from_source["windows"]  # three days of windows, with labels
    # Equal up to the order of floating-point sums (the rows are stored in another order).
    assert_same(from_source["windows"], from_store["windows"])
    # The health lights read the source too: the same model and data lights.
    lights = [cli.json("monitor", slug)["groups"] for slug in ("churn", "logged")]
    for group in ("model", "data"):
        assert lights[0][group]["status"] != "no-data", lights[0][group]
        assert_same(lights[0][group], lights[1][group])
    # Read where it lives: the event store holds nothing of churn's.
    import duckdb

    con = duckdb.connect(str(cli.home / "events.duckdb"), read_only=True)
    try:
        tables = {row[0] for row in con.execute("SHOW TABLES").fetchall()}
    finally:
        con.close()
    assert "predictions__logged" in tables
    assert not any(t.endswith("__churn") for t in tables)


def test_list_remove_and_the_file_holds_no_settings(cli: Cli, tmp_path: Path) -> None:
    predictions, outcomes = write_files(tmp_path)
    cli.ok(*create_args("churn"))
    add_sources(cli, "churn", predictions, outcomes, "duckdb")
    listed = cli.json("source", "list", "churn")
    assert [(s["kind"], s["engine"]) for s in listed] == [
        ("predictions", "duckdb"), ("outcomes", "duckdb"),
    ]  # fmt: skip
    assert listed[0]["map"] == dict(p.split("=") for p in PREDICTION_MAP.split(","))
    text = (cli.home / "sources.toml").read_text()
    assert "://" not in text
    assert "password" not in text.lower()
    cli.ok("source", "remove", "churn", "--kind", "outcomes")
    assert [s["kind"] for s in cli.json("source", "list")] == ["predictions"]
    # Without an outcomes source or stored outcomes, performance says what is missing.
    assert_one_line_error(cli("performance", "churn"), "no outcomes for churn")


def test_bad_definitions_are_one_line_errors_that_change_nothing(cli: Cli, tmp_path: Path) -> None:
    predictions, outcomes = write_files(tmp_path)
    cli.ok(*create_args("churn"))
    add_sources(cli, "churn", predictions, outcomes, "duckdb")
    before = (cli.home / "sources.toml").read_text()
    base = ("source", "add", "churn", "--table", "t")
    assert_one_line_error(cli(*base, "--kind", "labels", "--engine", "duckdb"), "unknown kind")
    assert_one_line_error(cli(*base, "--kind", "requests", "--engine", "oracle"), "unknown engine")
    assert_one_line_error(
        cli(*base, "--kind", "requests", "--engine", "duckdb", "--map", "score=p"), "no role"
    )
    assert_one_line_error(
        cli(
            "source",
            "add",
            "churn",
            "--kind",
            "requests",
            "--engine",
            "postgres",
            "--table",
            "postgres://me:secret@db/x",
        ),
        "credentials",
    )
    assert_one_line_error(
        cli(
            "source",
            "add",
            "churn",
            "--kind",
            "predictions",
            "--engine",
            "duckdb",
            "--table",
            str(predictions),
        ),
        "already",
    )
    assert_one_line_error(
        cli(
            "source",
            "add",
            "nobody",
            "--kind",
            "predictions",
            "--engine",
            "duckdb",
            "--table",
            str(predictions),
        ),
        "nobody",
    )
    assert (cli.home / "sources.toml").read_text() == before


def test_a_mapped_column_the_table_lacks_is_named(cli: Cli, tmp_path: Path) -> None:
    predictions, _ = write_files(tmp_path)
    cli.ok(*create_args("churn"))
    cli.ok("source", "add", "churn", "--kind", "predictions", "--engine", "duckdb",
           "--table", str(predictions), "--map", "id=prediction_key")  # fmt: skip
    assert_one_line_error(cli("performance", "churn"), "prediction_key")


def test_a_postgres_source_without_settings_says_where_they_go(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MLPILOT_POSTGRES_URL", raising=False)
    monkeypatch.setenv("MLPILOT_ENGINES_FILE", str(tmp_path / "none.toml"))
    cli.ok(*create_args("churn"))
    cli.ok("source", "add", "churn", "--kind", "requests", "--engine", "postgres",
           "--table", "monitoring.requests")  # fmt: skip
    assert_one_line_error(cli("service", "churn"), "MLPILOT_POSTGRES_URL")


@pytest.mark.postgres
def test_a_postgres_source_equals_the_same_requests_from_a_file(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, postgres_cluster: Any
) -> None:
    """Requests in a PostgreSQL table (its own column names) give the service report the same
    requests give from a Parquet file on DuckDB; quantiles to 1e-9 (PostgreSQL interpolates
    with its own rounding)."""
    import psycopg
    from sqlalchemy.engine import make_url

    from tests.spark.data import requests as write_requests

    path = write_requests(tmp_path)
    rows = pq.read_table(path).to_pylist()
    url = make_url(postgres_cluster.create_database("mlpilot_source"))
    with psycopg.connect(
        host=url.host, port=url.port, user=url.username, dbname=url.database
    ) as con:
        con.execute(
            "CREATE TABLE reqs (req_id text, at timestamptz, lat_ms double precision, "
            "status text, error_class text, model_version text)"
        )
        with con.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO reqs VALUES (%s, %s, %s, %s, %s, %s)",
                [(r["id"], r["time"], r["latency_ms"], r["status"], r["error_class"],
                  r["model_version"]) for r in rows],
            )  # fmt: skip
    monkeypatch.setenv(
        "MLPILOT_POSTGRES_URL", f"postgres://{url.username}@{url.host}:{url.port}/{url.database}"
    )
    cli.ok(*create_args("churn"))
    cli.ok("source", "add", "churn", "--kind", "requests", "--engine", "postgres",
           "--table", "public.reqs", "--map", "id=req_id,time=at,latency_ms=lat_ms")  # fmt: skip
    at = "2026-03-05T00:00:00Z"
    from_source = cli.json("service", "churn", "--window", "1d", "--at", at)
    from_file = cli.json("service", "churn", "--requests", path, "--window", "1d", "--at", at)
    assert from_file["windows"]
    assert_same(from_source, from_file)


def test_the_python_api_adds_lists_and_removes_sources(cli: Cli, tmp_path: Path) -> None:
    import mlpilot

    predictions, _ = write_files(tmp_path)
    cli.ok(*create_args("churn"))
    with mlpilot.Workspace.open(cli.home) as workspace:
        churn = workspace.initiative("churn")
        added = churn.add_source("predictions", "duckdb", str(predictions), {"id": "pred_id"})
        assert churn.sources() == [added]
        with pytest.raises(mlpilot.ValidationError, match="no role"):
            churn.add_source("outcomes", "duckdb", "t", {"score": "p"})
        assert churn.remove_source("predictions") == added
        assert churn.sources() == []
