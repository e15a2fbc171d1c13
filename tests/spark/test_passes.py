"""Each monitor makes a small fixed number of passes: the Spark jobs it runs do not grow with
the number of columns or of windows (counted by the SparkContext's status tracker)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mlpilot.engine import drift as engine
from mlpilot.engine.spark import count_jobs
from mlpilot.monitors import drift, service
from tests.spark import data

pytestmark = pytest.mark.spark


def _wide(folder: Path, columns: int, days: int) -> str:
    rng = np.random.default_rng(columns * 100 + days)
    n = 300
    table = {
        "time": data.utc(
            [data.T0 + timedelta(hours=int(h)) for h in rng.integers(0, 24 * days, n)]
        ),
        **{f"f{i}": rng.normal(size=n) for i in range(columns)},
        "c": rng.choice(["a", "b"], n).tolist(),
    }
    path = folder / f"wide-{columns}-{days}.parquet"
    pq.write_table(pa.table(table), path)
    return str(path)


def _jobs(spark_session: Any, run: Any) -> tuple[int, Any]:
    with count_jobs(spark_session) as counted:
        result = run()
    assert counted.jobs > 0  # the counter sees the work at all
    return counted.jobs, result


def test_drift_jobs_do_not_grow_with_columns_or_windows(
    spark: Any, spark_session: Any, tmp_path: Path
) -> None:
    jobs: dict[str, set[int]] = {"profile": set(), "windows": set()}
    for columns, days in ((2, 2), (8, 2), (2, 6)):
        table = spark.read_parquet(_wide(tmp_path, columns, days))
        kinds: dict[str, Any] = {f"f{i}": "numeric" for i in range(columns)} | {"c": "categorical"}
        count, profiles = _jobs(spark_session, lambda t=table, k=kinds: engine.profile(t, k))
        jobs["profile"].add(count)
        count, _ = _jobs(
            spark_session, lambda t=table, p=profiles: drift.windows(t, "time", "1d", p)
        )
        jobs["windows"].add(count)
    assert all(len(counts) == 1 for counts in jobs.values()), jobs


def test_ks_jobs_do_not_grow_with_columns(spark: Any, spark_session: Any, tmp_path: Path) -> None:
    counts = set()
    for columns in (2, 8):
        table = spark.read_parquet(_wide(tmp_path, columns, 2))
        names = [f"f{i}" for i in range(columns)]
        count, report = _jobs(
            spark_session,
            lambda t=table, n=names: drift.compare(t, t, columns=n, method="ks"),
        )
        assert [c.method for c in report.columns] == ["ks"] * columns
        counts.add(count)
    assert len(counts) == 1, counts


def test_service_jobs_do_not_grow_with_windows(
    spark: Any, spark_session: Any, tmp_path: Path
) -> None:
    table = spark.read_parquet(data.requests(tmp_path))
    hourly, _ = _jobs(spark_session, lambda: service.statistics(table, "1h"))
    daily, _ = _jobs(spark_session, lambda: service.statistics(table, "1d"))
    assert hourly == daily
