"""The engine-portable pieces: exact deciles from order statistics (here on DuckDB's
``quantile_disc``; on Spark in tests/spark), the refusal of approximate quantiles, and the
integer time arithmetic."""

from __future__ import annotations

import math

import ibis
import numpy as np
import pyarrow as pa
import pytest

from mlpilot.engine import portable
from mlpilot.engine.connection import duckdb, table
from mlpilot.errors import ValidationError


@pytest.mark.parametrize(
    "values",
    [
        np.random.default_rng(1).normal(size=691),
        np.random.default_rng(2).integers(0, 4, 500).astype(float),  # ties
        np.array([3.5]),
        np.array([1.0, 2.0]),
        np.random.default_rng(3).lognormal(0, 3, 1001),
        np.array([5e-324, 1e-300, 1.0, 1e300]),
    ],
)
def test_deciles_equal_numpy_bit_for_bit(values: np.ndarray) -> None:
    con = duckdb()
    with_nulls = pa.table({"x": pa.array([*values.tolist(), None], pa.float64())})
    t = table(with_nulls, con)
    (found,) = portable.deciles(t, ["x"], [values.size])
    assert found == np.quantile(values, np.arange(1, 10) / 10).tolist()


def test_deciles_of_an_empty_column_are_none() -> None:
    t = table(pa.table({"x": pa.array([None, None], pa.float64())}), duckdb())
    assert portable.deciles(t, ["x"], [0]) == [None]


@pytest.mark.parametrize("count", [2, 3, 10, 691, 1_000_003])
def test_order_positions_fall_inside_the_wanted_rank(count: int) -> None:
    for rank in {0, 1, count // 3, count - 2, count - 1}:
        p = portable.order_position(rank, count, "pyspark")
        assert 2 * rank <= (2 * count - 1) * p < 2 * rank + 1 or rank == count - 1
        q = portable.order_position(rank, count, "duckdb")
        assert math.floor(count * q) == rank


def test_approximate_quantiles_are_refused() -> None:
    t = ibis.table({"x": "float64"}, name="t")
    query = t.aggregate(q=t.x.quantile(0.5))
    portable.require_exact_quantiles(query, "postgres")  # PERCENTILE_CONT: exact
    with pytest.raises(ValidationError, match="approximately"):
        portable.require_exact_quantiles(query, "clickhouse")  # quantile(): a sample
    with pytest.raises(ValidationError, match="no exact quantile"):
        portable.require_exact_quantiles(query, "trino")  # only approx_percentile


def test_floor_division_and_microseconds_on_duckdb() -> None:
    t = table(pa.table({"v": pa.array([-7, -6, -1, 0, 5, 6], pa.int64())}), duckdb())
    got = t.select(q=portable.floor_divide(t.v, 3)).to_pyarrow().column("q").to_pylist()
    assert got == [v // 3 for v in (-7, -6, -1, 0, 5, 6)]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_stepped_order_statistics_equal_the_sorted_values(seed: int) -> None:
    """The two-pass order statistics Spark uses (mlpilot.engine.steps), run here on DuckDB:
    skewed values, a heavy tie at the maximum, a column with two values, every rank checked."""
    from mlpilot.engine.steps import order_statistics

    rng = np.random.default_rng(seed)
    n = 997
    skewed = rng.lognormal(0, 4, n)
    skewed[:300] = skewed.max()  # the top value lands on the last step exactly
    two = rng.choice([-1e-300, 7.5], n)
    normal = rng.normal(size=n)
    t = table(pa.table({"a": skewed, "b": two, "c": normal}), duckdb())
    columns = ["a", "b", "c"]
    values = [skewed, two, normal]
    wanted = {
        j: sorted({0, 1, n // 2, n - 2, n - 1, *rng.integers(0, n, 20).tolist()}) for j in range(3)
    }
    found = order_statistics(
        t, columns, [float(v.min()) for v in values], [float(v.max()) for v in values], wanted
    )
    for j, ranks in wanted.items():
        ordered = np.sort(values[j])
        assert found[j] == {r: float(ordered[r]) for r in ranks}
