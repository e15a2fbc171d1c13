"""The engine half of service performance: requests reduced to small per-window summaries.

Two aggregates do all the work, one pass over the requests each:

- :func:`summarize`: per window (and per model version) the count, errors, requests with a
  latency, exact latency quantiles p50 / p90 / p95 / p99 (``quantile_cont``: linear
  interpolation, as ``numpy.quantile``'s default), the maximum, and for each latency threshold
  of a latency SLO the requests over it;
- :func:`series`: the same counts (no quantiles) per fixed step (a minute) over a time range,
  from which the stats half computes burn rates over any trailing window;
- :func:`span_latency`: the exact latency quantiles over one time range (an alert window), so
  that an alert on a latency SLO states the latency itself, not only its burn rate.

A request is an error when its ``status`` is ``error``, or when the status is missing but an
``error_class`` is given; a missing status is otherwise ``ok``. Nothing but these summaries
leaves the engine.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from mlpilot.engine.portable import as_int, require_exact_quantiles
from mlpilot.engine.windows import parse_window, window_length
from mlpilot.errors import ValidationError

if TYPE_CHECKING:
    import ibis.expr.types as ir

QUANTILES = (0.5, 0.9, 0.95, 0.99)
QUANTILE_NAMES = ("latency_p50", "latency_p90", "latency_p95", "latency_p99")
COLUMNS = ("time", "model_version", "latency_ms", "_error")
SIGNALS = ("status", "latency_ms")  # a prediction with either counts as a request
_EPOCH = datetime(1970, 1, 1)  # window starts are naive UTC, as the engine's buckets
_US = 1_000_000


@dataclass(frozen=True)
class Threshold:
    """A latency SLO's bound: a request is good when ``latency < ms`` (``<= ms`` if inclusive)."""

    ms: float
    inclusive: bool = True


def normalize(table: ir.Table) -> ir.Table:
    """Any table with ``time`` and ``latency_ms`` and/or ``status`` as :data:`COLUMNS`."""
    import ibis

    columns = set(table.columns)
    if "time" not in columns or not columns.intersection(SIGNALS):
        raise ValidationError(
            "requests need a time column and a latency_ms or status column; the columns are: "
            + ", ".join(table.columns)
        )
    kind = table.time.type()
    if not (kind.is_timestamp() or kind.is_date()):
        raise ValidationError(f"the requests' time column has type {kind}, not a time")
    classified = table.error_class.notnull() if "error_class" in columns else ibis.literal(False)
    if "status" in columns:
        status = table.status.cast("string")
        error = ibis.ifelse(status.isnull(), classified, status == "error")
    else:
        error = classified
    return table.select(
        time=table.time,
        model_version=(
            table.model_version.cast("string")
            if "model_version" in columns
            else ibis.null("string")
        ),
        latency_ms=(
            table.latency_ms.cast("float64") if "latency_ms" in columns else ibis.null("float64")
        ),
        _error=as_int(error),
    )


def requests(requests: ir.Table | None, predictions: ir.Table | None) -> ir.Table | None:
    """Stored requests and the predictions that carry a latency or status, as one table.

    A prediction whose id is also a stored request's id counts once, as the request. Returns
    None when neither table holds requests.
    """
    parts = []
    if requests is not None:
        parts.append(normalize(requests))
    if predictions is not None and set(predictions.columns).intersection(SIGNALS):
        signal = [predictions[c].notnull() for c in SIGNALS if c in predictions.columns]
        carried = predictions.filter(signal[0] if len(signal) == 1 else signal[0] | signal[1])
        if requests is not None and "id" in predictions.columns:
            carried = carried.anti_join(requests.select("id"), "id")
        parts.append(normalize(carried))
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    # A stored request's time is NOT NULL, a prediction's is too, but Ibis unions only equal
    # schemas: make every column nullable on both sides.
    schema = {name: dtype.copy(nullable=True) for name, dtype in parts[0].schema().items()}
    return parts[0].cast(schema).union(parts[1].cast(schema))


def _epoch_us(moment: datetime) -> int:
    """Whole microseconds since the epoch of a zoned time, exactly."""
    return (moment - _EPOCH.replace(tzinfo=UTC)) // timedelta(microseconds=1)


def _micros(times: ir.Value) -> ir.IntegerValue:
    """Microseconds since the epoch as integers: DuckDB's ``epoch_us`` (twice as fast as
    flooring ``epoch()`` seconds, and exact), Spark's ``unix_micros`` (engine.portable)."""
    from mlpilot.engine.portable import epoch_micros

    return epoch_micros(times)


def _floor_divide(value: ir.IntegerValue, divisor: int) -> ir.IntegerValue:
    """``floor(value / divisor)`` in integers (engine.portable); Ibis's ``//`` goes through
    floating point."""
    from mlpilot.engine.portable import floor_divide

    return floor_divide(value, divisor)


def _over(latency: ir.FloatingValue, threshold: Threshold) -> ir.IntegerValue:
    """1 when a request is slower than the SLO allows, 0 when not, NULL without a latency."""
    slow = latency > threshold.ms if threshold.inclusive else latency >= threshold.ms
    return as_int(slow)


def summarize(
    table: ir.Table,
    window: str,
    *,
    by_version: bool = False,
    thresholds: Sequence[Threshold] = (),
) -> list[dict[str, Any]]:
    """One row per non-empty window (and model version), ordered by window (then version).

    Keys: ``start`` (a datetime), ``model_version`` (with ``by_version``), ``count``,
    ``errors``, ``timed`` (requests with a latency), the :data:`QUANTILE_NAMES`,
    ``latency_max`` (None when no request of the window has a latency) and ``over`` (a list:
    requests over each threshold).
    """
    # The window's index, turned into its start only after aggregating (one conversion per
    # window rather than per row); the same buckets as engine.windows.bucket.
    width = int(window_length(window).total_seconds())
    origin = 4 * 86_400 if "weeks" in parse_window(window) else 0  # Monday 1970-01-05
    index = _floor_divide(_micros(table.time) - origin * _US, width * _US)
    data = table.mutate(_window=index)
    latency = data.latency_ms
    metrics: dict[str, Any] = {
        "count": data.count(),
        "errors": data._error.sum(),
        "timed": latency.count(),
        "_q": latency.quantile(list(QUANTILES)),
        "latency_max": latency.max(),
    }
    for k, threshold in enumerate(thresholds):
        metrics[f"_over{k}"] = _over(latency, threshold).sum()
    keys = ["_window", "model_version"] if by_version else ["_window"]
    query = data.group_by(keys).aggregate(**metrics).order_by(keys)
    require_exact_quantiles(query)  # an engine's approximate percentile is never used silently
    rows = query.to_pyarrow().to_pylist()
    result = []
    for row in rows:
        quantiles = row.pop("_q") if row["timed"] else None
        start = _EPOCH + timedelta(seconds=row.pop("_window") * width + origin)
        out: dict[str, Any] = {"start": start}
        if by_version:
            out["model_version"] = row.pop("model_version")
        out |= {
            "count": int(row["count"]),
            "errors": int(row["errors"] or 0),
            "timed": int(row["timed"]),
        }
        for name, value in zip(QUANTILE_NAMES, quantiles or [None] * len(QUANTILES), strict=True):
            out[name] = value
        out["latency_max"] = row["latency_max"]
        out["over"] = [int(row[f"_over{k}"] or 0) for k in range(len(thresholds))]
        result.append(out)
    return result


def span_latency(table: ir.Table, start: datetime, end: datetime) -> dict[str, float | None]:
    """The exact latency quantiles (:data:`QUANTILE_NAMES`) of the requests in ``[start, end)``
    (zoned datetimes, the same bounds as :func:`series`); None without latencies."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValidationError("the span needs zoned start and end times")
    first, last = (_epoch_us(moment) for moment in (start, end))
    data = table.mutate(_us=_micros(table.time)).filter(lambda t: (t._us >= first) & (t._us < last))
    latency = data.latency_ms
    query = data.aggregate(timed=latency.count(), _q=latency.quantile(list(QUANTILES)))
    require_exact_quantiles(query)
    (row,) = query.to_pyarrow().to_pylist()
    values = row["_q"] if row["timed"] else None
    return dict(zip(QUANTILE_NAMES, values or [None] * len(QUANTILES), strict=True))


@dataclass(frozen=True)
class Series:
    """Counts per step from ``start``: step ``k`` covers ``[start + k·step, start + (k+1)·step)``.

    ``over`` has one row per threshold.
    """

    start: datetime
    step_seconds: int
    total: np.ndarray[Any, np.dtype[np.int64]]
    errors: np.ndarray[Any, np.dtype[np.int64]]
    timed: np.ndarray[Any, np.dtype[np.int64]]
    over: np.ndarray[Any, np.dtype[np.int64]]


def series(
    table: ir.Table,
    start: datetime,
    end: datetime,
    *,
    thresholds: Sequence[Threshold] = (),
    step_seconds: int = 60,
) -> Series:
    """Counts per step over ``[start, end)`` (zoned datetimes); steps without requests are 0."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValidationError("the series needs zoned start and end times")
    first, last = (_epoch_us(moment) for moment in (start, end))
    steps = max(0, math.ceil((last - first) / (step_seconds * _US)))
    data = table.mutate(_us=_micros(table.time)).filter(lambda t: (t._us >= first) & (t._us < last))
    data = data.mutate(_k=_floor_divide(data._us - first, step_seconds * _US))
    latency = data.latency_ms
    metrics: dict[str, Any] = {
        "n": data.count(),
        "e": data._error.sum(),
        "t": latency.count(),
    }
    for k, threshold in enumerate(thresholds):
        metrics[f"o{k}"] = _over(latency, threshold).sum()
    arrow = data.group_by("_k").aggregate(**metrics).to_pyarrow()
    index = np.asarray(arrow["_k"].to_numpy(zero_copy_only=False), dtype=np.int64)

    def spread(name: str) -> np.ndarray[Any, np.dtype[np.int64]]:
        values = np.zeros(steps, dtype=np.int64)
        column = arrow[name].to_numpy(zero_copy_only=False)
        values[index] = np.nan_to_num(np.asarray(column, dtype=np.float64)).astype(np.int64)
        return values

    over = np.stack([spread(f"o{k}") for k in range(len(thresholds))]) if thresholds else None
    return Series(
        start=start,
        step_seconds=step_seconds,
        total=spread("n"),
        errors=spread("e"),
        timed=spread("t"),
        over=over if over is not None else np.zeros((0, steps), dtype=np.int64),
    )
