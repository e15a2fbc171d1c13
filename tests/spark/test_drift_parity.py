"""Drift on Spark equals drift on DuckDB, on the same Parquet files, for every method.

The data is adversarial: NaN, NULL and ±inf in floats, heavy ties (small integers), a constant
column, a column with no finite value, categories the reference never saw and a category
column with NULLs. Profiles must agree exactly (counts, edges bit for bit, moments to 1e-9),
and so must every statistic and verdict; the edges are also checked against numpy.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mlpilot.engine import drift as engine
from mlpilot.engine.bins import LOWEST
from mlpilot.monitors import drift
from tests.spark.parity import assert_same

pytestmark = pytest.mark.spark

T0 = datetime(2026, 3, 1, tzinfo=UTC)
NUMERIC = ["x", "ties", "constant", "hollow", "skewed"]
KINDS: dict[str, Any] = {**dict.fromkeys(NUMERIC, "numeric"), "c": "categorical"}


def _frame(rng: np.random.Generator, n: int, shift: float, categories: list[str]) -> pa.Table:
    x = rng.normal(shift, 1, n)
    x[:7] = np.nan
    x[7:9] = [math.inf, -math.inf]
    ties = rng.integers(0, 4, n).astype(float)
    c = rng.choice(categories, n).astype(object)
    c[:5] = None
    times = [T0 + timedelta(hours=int(h)) for h in rng.integers(0, 72, n)]
    return pa.table(
        {
            "time": pa.array(times, pa.timestamp("us", "UTC")),
            "x": pa.array(x, from_pandas=False),
            "ties": ties,
            "constant": np.full(n, 2.5),
            "hollow": pa.array([None] * (n - 3) + [math.nan] * 3, pa.float64()),
            "skewed": rng.lognormal(0, 2, n).round(3),
            "c": pa.array(c.tolist(), pa.string()),
        }
    )


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    folder = tmp_path_factory.mktemp("drift")
    rng = np.random.default_rng(8)
    reference, current = folder / "reference.parquet", folder / "current.parquet"
    pq.write_table(_frame(rng, 700, 0.0, ["a", "b", "c"]), reference)
    pq.write_table(_frame(rng, 500, 0.4, ["a", "b", "c", "new"]), current)
    return str(reference), str(current)


def _profiles(con: Any, path: str) -> dict[str, engine.ColumnProfile]:
    return engine.profile(con.read_parquet(path), KINDS)


def test_reference_profiles_are_identical(spark: Any, duck: Any, files: tuple[str, str]) -> None:
    on_spark, on_duck = _profiles(spark, files[0]), _profiles(duck, files[0])
    assert_same(
        {k: v.to_json() for k, v in on_spark.items()},
        {k: v.to_json() for k, v in on_duck.items()},
        exact=("edges",),
    )
    values = pq.read_table(files[0]).column("x").to_numpy(zero_copy_only=False)
    finite = values[np.isfinite(values)]
    expected = np.unique(np.quantile(finite, np.arange(1, 10) / 10))
    # numpy's linear rule, bit for bit, between the sentinels of -inf and +inf
    assert list(on_spark["x"].edges) == [LOWEST, *expected.tolist(), math.inf]
    assert on_spark["constant"].edges == (LOWEST, 2.5, math.nextafter(2.5, math.inf), math.inf)
    assert on_spark["hollow"].edges == (LOWEST, math.inf)
    assert on_spark["hollow"].missing == 700
    assert set(on_spark["c"].categories) == {"a", "b", "c"}


def test_compare_is_identical_for_every_method(
    spark: Any, duck: Any, files: tuple[str, str]
) -> None:
    results: dict[str | None, list[dict[str, Any]]] = {}
    for con in (spark, duck):
        reference, current = con.read_parquet(files[0]), con.read_parquet(files[1])
        profiles = engine.profile(reference, KINDS)  # once per engine, as a stored profile
        for method in (None, "psi", "js", "hellinger", "chi2", "ks", "wasserstein"):
            # The ECDF methods read both tables per column: two columns keep the run short.
            columns = ["x", "ties"] if method in (None, "ks", "wasserstein") else None
            report = drift.compare(
                reference, current, columns=columns, method=method, profiles=profiles
            )
            results.setdefault(method, []).append(report.to_dict())
    for method, (on_spark, on_duck) in results.items():
        assert_same(on_spark, on_duck, path=f"{method}")
        assert any(c["drifted"] for c in on_duck["columns"]), method  # the shift is seen


def test_windows_are_identical_with_stored_profiles(
    spark: Any, duck: Any, files: tuple[str, str]
) -> None:
    profiles = _profiles(duck, files[0])
    results = [
        drift.windows(con.read_parquet(files[1]), "time", "1d", profiles, method=method)
        for con in (spark, duck)
        for method in ("psi",)
    ]
    assert len(results[1]) == 3
    assert_same(results[0], results[1])
