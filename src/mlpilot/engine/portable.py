"""What differs between engines, in one place, so monitors run unchanged on any Ibis backend.

The monitors' expressions are plain Ibis, with three exceptions where DuckDB offers a faster or
more exact built-in than Ibis's generic form; each has its counterpart here:

- times as whole microseconds since the epoch: DuckDB's ``epoch_us``, Spark's ``unix_micros``,
  elsewhere Ibis's ``epoch_seconds`` (whole seconds on some engines, so sub-second times lose
  their fraction there);
- integer floor division: DuckDB's ``divide``, Spark's ``div`` (both truncate toward zero; the
  caller shifts negative values first), elsewhere Ibis's floating ``//``;
- exact deciles: on DuckDB :mod:`mlpilot.engine.deciles`; elsewhere the engine's exact
  percentile aggregate asked for *order statistics* only (:func:`order_statistics`), then
  interpolated in numpy exactly as ``numpy.quantile``'s default. An engine whose Ibis quantile
  compiles to an approximate percentile is refused (:func:`require_exact_quantiles`), never
  used silently.

Spark SQL's ``percentile`` is exact; with a position ``(n - 1) p`` that is a whole number it
returns that order statistic itself, so asking for ``p = r / (n - 1)`` (nudged by an ulp until
the product is exactly ``r``) gives the ``r``-th smallest value bit for bit.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

from mlpilot.errors import ValidationError

if TYPE_CHECKING:
    import ibis.expr.types as ir

DECILES = tuple(i / 10 for i in range(1, 10))


def backend_name(expr: ir.Expr) -> str | None:
    """``duckdb``, ``pyspark``, … for an expression bound to a connection; None if unbound."""
    try:
        return str(expr._find_backend().name)
    except Exception:  # an unbound expression: no engine to specialise for
        return None


def is_infinite(column: ir.FloatingValue) -> ir.BooleanValue:
    """``+inf`` or ``-inf``. Ibis 12 compiles ``isinf()`` to FALSE on Spark (a Python ``==``
    between two SQL expressions); ``abs(x) = inf`` is right on every engine."""
    import ibis

    if backend_name(column) == "pyspark":
        return column.abs() == ibis.literal(math.inf, "float64")
    return column.isinf()


def zoned(table: ir.Table, row: dict[str, Any]) -> dict[str, Any]:
    """A result row with Spark's times marked UTC. Spark's TIMESTAMP is an instant shown in the
    session's zone (UTC in mlpilot), which Ibis types as a plain timestamp: without this, the
    same Parquet column would read back zoned from DuckDB and naive from Spark."""
    from datetime import UTC, datetime

    if backend_name(table) != "pyspark":
        return row
    return {
        key: value.replace(tzinfo=UTC)
        if isinstance(value, datetime) and value.tzinfo is None
        else value
        for key, value in row.items()
    }


def as_int(condition: ir.BooleanValue) -> ir.IntegerValue:
    """1 / 0 (NULL stays NULL) for a condition: a cast on DuckDB and Spark, a CASE elsewhere
    (PostgreSQL cannot cast a boolean to a bigint)."""
    import ibis

    if backend_name(condition) in ("duckdb", "pyspark", None):
        return condition.cast("int64")
    return ibis.ifelse(condition, 1, 0).cast("int64")


def _builtin_scalar(name: str, inputs: tuple[Any, ...], output: Any) -> Any:
    import ibis

    def unary(a: Any) -> Any:
        raise NotImplementedError  # never called: the engine runs its own

    def binary(a: Any, b: Any) -> Any:
        raise NotImplementedError  # never called: the engine runs its own

    function = unary if len(inputs) == 1 else binary
    return ibis.udf.scalar.builtin(function, name=name, signature=(inputs, output))


def epoch_micros(times: ir.Value) -> ir.IntegerValue:
    """Whole microseconds since the Unix epoch (UTC) of a timestamp or date column."""
    import ibis.expr.datatypes as dt

    if times.type().is_date():
        times = times.cast("timestamp")
    engine = backend_name(times)
    if engine == "duckdb":
        return _builtin_scalar("epoch_us", (times.type(),), dt.int64)(times)
    if engine == "pyspark":
        return _builtin_scalar("unix_micros", (times.type(),), dt.int64)(times)
    return (times.epoch_seconds().cast("float64") * 1_000_000).round().cast("int64")


def epoch_seconds(times: ir.Value) -> ir.FloatingValue | None:
    """Seconds since the epoch with their microseconds, on engines where Ibis's generic form
    would drop them (Spark: ``unix_micros / 1e6``, as DuckDB's ``epoch``); None elsewhere."""
    if backend_name(times) != "pyspark":
        return None
    return epoch_micros(times).cast("float64") / 1_000_000


def floor_divide(value: ir.IntegerValue, divisor: int) -> ir.IntegerValue:
    """``floor(value / divisor)`` for a positive ``divisor``, in integers where the engine can."""
    import ibis
    import ibis.expr.datatypes as dt

    engine = backend_name(value)
    name = {"duckdb": "divide", "pyspark": "div"}.get(engine or "")
    if name is None:
        return (value.cast("float64") / divisor).floor().cast("int64")
    shifted = value - ibis.ifelse(value < 0, divisor - 1, 0)  # both truncate toward zero
    builtin = _builtin_scalar(name, (dt.int64, dt.int64), dt.int64)
    return builtin(shifted.cast("int64"), ibis.literal(divisor, "int64"))


def order_position(rank: int, count: int, engine: str | None) -> float:
    """The fraction at which the engine's percentile aggregate (:func:`_percentile`) returns
    the ``rank``-th smallest of ``count`` values itself, with half a rank of margin on each side
    (a position ``(n - 1) p`` meant to be a whole number may miss it by an ulp).

    - Spark, ``percentile(x, p, 2)``: every value counted twice, so positions ``2r`` and
      ``2r + 1`` both hold ``x[r]``; ``p = (2r + 0.5) / (2n - 1)`` lies between them, and equal
      neighbours are returned without interpolation.
    - DuckDB, ``quantile_disc(x, p)``: ``p = (r + 0.5) / n``.
    """
    if engine == "pyspark":
        return min((2 * rank + 0.5) / (2 * count - 1), 1.0)
    return min((rank + 0.5) / count, 1.0)


# Approximate percentile functions: BigQuery's APPROX_QUANTILES, Trino's approx_percentile,
# Snowflake's APPROX_PERCENTILE, ClickHouse's quantile / quantiles / quantileTDigest (its exact
# ones are quantileExact*).
_APPROXIMATE = re.compile(
    r"approx\w*(quantile|percentile)|\bquantiles?\s*\(|\bquantile(timing|tdigest|bfloat16|dd)",
    re.IGNORECASE,
)


def require_exact_quantiles(expr: ir.Expr, dialect: str | None = None) -> None:
    """Refuse an expression whose quantiles the engine (or ``dialect``) computes approximately."""
    import ibis

    engine = dialect or backend_name(expr)
    if engine in ("duckdb", "pyspark"):  # quantile_cont / percentile: exact
        return
    from ibis.common.exceptions import OperationNotDefinedError

    try:
        sql = str(ibis.to_sql(expr, dialect=dialect))
    except OperationNotDefinedError as exc:  # e.g. Trino, BigQuery: no exact quantile in Ibis
        raise ValidationError(
            f"the {engine} engine offers no exact quantile through Ibis ({exc}); mlpilot needs "
            "exact quantiles (deciles, latency percentiles) and will not use an approximation"
        ) from None
    except Exception:  # a backend without SQL: trust its Ibis quantile (exact by contract)
        return
    if _APPROXIMATE.search(sql):
        raise ValidationError(
            f"the {engine} engine computes quantiles approximately; mlpilot needs exact "
            "quantiles (deciles, latency percentiles) and will not use an approximation"
        )


def _order_statistics(values: ir.FloatingValue, ranks: list[int], count: int) -> ir.Value:
    """The ``ranks``-th smallest values (an array), exactly: see :func:`order_position`."""
    import ibis
    import ibis.expr.datatypes as dt

    from mlpilot.engine.literals import exact_array, exact_literal

    engine = backend_name(values)
    positions = [order_position(r, count, engine) for r in ranks]
    if engine == "pyspark":

        def percentile(x: float, p: list[float], frequency: int) -> list[float]:
            raise NotImplementedError  # never called: Spark runs its own exact percentile

        spark = ibis.udf.agg.builtin(
            percentile,
            # sqlglot knows percentile with two arguments only and refuses a third; the
            # trailing space makes the name unknown to it, and Spark's parser ignores it.
            name="percentile ",
            signature=((dt.float64, dt.Array(dt.float64), dt.int32), dt.Array(dt.float64)),
        )
        exact = ibis.array([exact_literal(p) for p in positions])
        return spark(values, exact, ibis.literal(2, "int32"))

    def quantile_disc(x: float, p: list[float]) -> list[float]:
        raise NotImplementedError  # never called: DuckDB runs its own

    duck = ibis.udf.agg.builtin(
        quantile_disc,
        name="quantile_disc",
        signature=((dt.float64, dt.Array(dt.float64)), dt.Array(dt.float64)),
    )
    return duck(values, exact_array(positions))


def deciles(
    table: ir.Table,
    columns: list[str],
    counts: list[int],
    lows: list[float] | None = None,
    highs: list[float] | None = None,
) -> list[list[float] | None]:
    """Exact deciles of each column of finite doubles (NULL elsewhere), given each column's
    count of values, in ONE aggregate; None for a column without values.

    On Spark and DuckDB the aggregate fetches the order statistics ``x[floor h]`` and
    ``x[floor h + 1]`` (``h = (n - 1) p``) and numpy's linear rule interpolates them, so the
    deciles equal ``numpy.quantile``'s bit for bit. Elsewhere the engine's own exact quantile
    interpolates (the same rule; the last bit may differ), and an approximate one is refused.
    On Spark, given each column's finite minimum and maximum, two streaming passes find the
    same order statistics (:mod:`mlpilot.engine.steps`) without Spark's per-value hash maps.
    """
    engine = backend_name(table)
    if engine == "pyspark" and _steppable(counts, lows, highs):
        assert lows is not None
        assert highs is not None
        from mlpilot.engine.steps import order_statistics

        ranks_of = {
            j: sorted({r for p in DECILES for r in _neighbours(n, p)})
            for j, n in enumerate(counts)
            if n
        }
        stats = order_statistics(table, columns, lows, highs, ranks_of)
        return [
            [_lerp(stats[j], counts[j], p) for p in DECILES] if j in stats else None
            for j in range(len(columns))
        ]
    wanted: dict[int, list[int]] = {}
    metrics: dict[str, Any] = {}
    for j, name in enumerate(columns):
        n = counts[j]
        if not n:
            continue
        if engine in ("duckdb", "pyspark"):
            ranks = sorted({r for p in DECILES for r in _neighbours(n, p)})
            wanted[j] = ranks
            metrics[f"o{j}"] = _order_statistics(table[name], ranks, n)
        else:
            metrics[f"o{j}"] = table[name].quantile(list(DECILES))
    result: list[list[float] | None] = [None] * len(columns)
    if not metrics:
        return result
    query = table.aggregate(**metrics)
    require_exact_quantiles(query)
    row = query.to_pyarrow().to_pylist()[0]
    for j in range(len(columns)):
        if f"o{j}" not in row:
            continue
        values = [float(v) for v in row[f"o{j}"]]
        if j not in wanted:
            result[j] = values
            continue
        found = dict(zip(wanted[j], values, strict=True))
        result[j] = [_lerp(found, counts[j], p) for p in DECILES]
    return result


def _steppable(counts: list[int], lows: list[float] | None, highs: list[float] | None) -> bool:
    """Whether every column's range can be cut into equal steps without overflowing."""
    from mlpilot.engine.steps import STEPS

    if lows is None or highs is None:
        return False
    for n, low, high in zip(counts, lows, highs, strict=True):
        if n and low < high and not math.isfinite(STEPS / (high - low)):
            return False  # a range beyond the doubles, or too narrow to divide
    return True


def _neighbours(n: int, p: float) -> tuple[int, ...]:
    h = (n - 1) * p
    low = math.floor(h)
    return (low, low + 1) if h > low and low + 1 < n else (low,)


def _lerp(found: dict[int, float], n: int, p: float) -> float:
    """``numpy.quantile``'s linear rule, to the last bit (see mlpilot.engine.deciles)."""
    h = (n - 1) * p
    low = math.floor(h)
    frac = h - low
    a = found[low]
    if not frac or low + 1 >= n:
        return a
    b = found[low + 1]
    if frac >= 0.5:
        return b - (b - a) * (1 - frac)
    return a + (b - a) * frac
