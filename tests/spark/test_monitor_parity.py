"""Data readiness, model performance, service statistics and experiment sufficient statistics
on Spark equal DuckDB's on the same Parquet files: counts exact, floats to 1e-9 relative,
latency quantiles bit for bit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from mlpilot.domain.charter import make_charter
from mlpilot.domain.criteria import Criterion, make_criterion, make_operating_point
from mlpilot.engine.experiments import MetricDef, experiment_stats
from mlpilot.monitors import performance, readiness, service
from tests.spark import data
from tests.spark.parity import assert_same

pytestmark = pytest.mark.spark

QUANTILES = ("latency_p50", "latency_p90", "latency_p95", "latency_p99")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("parity")


def test_data_readiness(spark: Any, duck: Any, folder: Path) -> None:
    table, reference = data.readiness(folder)
    reports = [
        readiness.check_data(
            con.read_parquet(table),
            time_column="time",
            target="y",
            reference=con.read_parquet(reference),
        )
        for con in (spark, duck)
    ]
    assert reports[1]["duplicates"] == 5
    assert reports[1]["rows"] == 305
    for report in reports:  # type names are each engine's own (timestamp('UTC', 6) in DuckDB)
        for column in report["profile"]:
            column.pop("type")
    assert_same(reports[0], reports[1])


def _charter(task: str) -> Any:
    return make_charter(
        slug="churn", name="Churn", problem="Subscribers leave", prediction_use="Calls",
        task=task, shape="batch", baseline="A rule", created_at=data.T0,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("task", "metric", "window"),
    [("binary", "roc_auc", "1d"), ("multiclass", "accuracy", "1d"), ("regression", "mae", "12h")],
)
def test_model_performance(
    spark: Any, duck: Any, folder: Path, task: str, metric: str, window: str
) -> None:
    predictions, outcomes = data.predictions(folder, task)
    criteria = [make_criterion(kind="model", metric=metric, op=">=", target=0.6, task=task)]
    if task == "binary":
        # Judged at a capacity (a rank per period in the engine) and at a threshold.
        criteria += [
            make_criterion(kind="model", metric="recall", op=">=", target=0.5, task=task,
                           constraint=("precision", ">=", 0.6),
                           operating_point=make_operating_point(top=20, per="day")),
            make_criterion(kind="model", metric="lift", op=">=", target=1.2, task=task,
                           operating_point=make_operating_point(top=15, per="12h")),
            make_criterion(kind="model", metric="precision", op=">=", target=0.5, task=task,
                           operating_point=make_operating_point(threshold=0.3)),
        ]  # fmt: skip
    reports = [
        performance.evaluate(
            con.read_parquet(predictions),
            con.read_parquet(outcomes),
            charter=_charter(task),
            criteria=criteria,
            window=window,
        )
        for con in (spark, duck)
    ]
    windows = reports[1]["windows"]
    assert windows[-1]["labeled"] == 0  # the last day has no label yet
    assert_same(reports[0], reports[1])


def _service_criteria() -> list[Criterion]:
    made = [
        make_criterion(kind="service", metric="latency_p95", op="<=", target=200.0),
        make_criterion(kind="service", metric="error_rate", op="<=", target=0.2),
    ]
    return [Criterion(**{**c.__dict__, "id": i + 1}) for i, c in enumerate(made)]


def test_service_statistics_and_slos(spark: Any, duck: Any, folder: Path) -> None:
    path = data.requests(folder)
    now = data.T0 + timedelta(days=3, hours=1)
    reports = []
    for con in (spark, duck):
        table = con.read_parquet(path)
        reports.append(
            {
                "by_version": service.statistics(table, "6h", by_version=True, now=now),
                "slo": service.evaluate(table, _service_criteria(), slug="s", window="1d", now=now),
            }
        )
    assert any(w["latency_p99"] for w in reports[1]["by_version"])
    assert_same(reports[0], reports[1], exact=QUANTILES)


def test_experiment_sufficient_statistics(spark: Any, duck: Any, folder: Path) -> None:
    exposures, events = data.experiment(folder)
    metrics = [
        MetricDef("revenue"),
        MetricDef("converted", kind="conversion", numerator="orders"),
        MetricDef("aov", kind="ratio", numerator="revenue", denominator="orders"),
        MetricDef("capped", numerator="revenue", cap=0.9),
    ]
    until = datetime(2026, 3, 8, tzinfo=UTC)
    results = [
        experiment_stats(
            con.read_parquet(exposures),
            con.read_parquet(events),
            "exp",
            ["control", "treatment"],
            metrics,
            pre_days=14,
            until=until,
        )
        for con in (spark, duck)
    ]
    rows, units = results[1]
    assert units.get("__mixed__") == 4
    assert len(rows) == 8
    assert_same(results[0], results[1])
