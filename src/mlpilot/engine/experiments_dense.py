"""The engine half of experiments on the event store's own tables, by array indexing.

The store gives every unit a dense key (``unit_key``, :mod:`mlpilot.store.units`), so the per
unit reductions of :func:`mlpilot.engine.experiments.experiment_stats` — the first exposure of a
unit, the join of events to it, the per (unit, metric) sums — become indexing and ``bincount``
on arrays of one slot per unit, with no hash table. DuckDB only scans and filters. Same
definitions, same result rows; ``tests/engine/test_experiments_dense.py`` checks both paths
against each other. Where keys are missing (a table stored before keys existed and not
imported to since) it returns None and the caller takes the portable path.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from mlpilot.engine.arrays import half_the_memory, small_pages
from mlpilot.engine.experiments import MIXED, UNITS, MetricDef
from mlpilot.store.sql import column_names, literal, quote
from mlpilot.store.units import UNIT_KEY, units_table

if TYPE_CHECKING:
    import duckdb
    from numpy.typing import NDArray

_NEVER = np.iinfo(np.int64).max  # the first exposure of a unit never exposed
_US = 1_000_000
# Peak bytes per stored row (event or exposure), measured: 2.8 GB RSS for 30M rows at 10M units.
_BYTES_PER_ROW = 100
_WORKERS = 2  # threads for the per-metric work (numpy releases the GIL in it)


@dataclass
class _Sums:
    """One event metric's sums per unit, for the units with events of it in their window."""

    units: NDArray[np.int64]
    x: NDArray[Any]  # after the first exposure
    p: NDArray[Any]  # in the pre-period (the CUPED covariate)
    bx: NDArray[Any]  # 1 when any event after the first exposure
    bp: NDArray[Any]  # 1 when any event in the pre-period


@small_pages()
def dense_stats(
    con: duckdb.DuckDBPyConnection,
    exposures: str,
    events: str,
    experiment: str,
    metrics: list[MetricDef],
    *,
    pre_days: float,
    until: datetime | None,
    memory: int | None = None,
) -> list[dict[str, Any]] | None:
    """The result rows of :func:`~mlpilot.engine.experiments.experiment_stats`'s query
    (variant, key, n, s1, s2, c1, c2, x12, b1, b2, b12) for the stored tables ``exposures``
    and ``events``; None when a table has no unit keys, or when the arrays would take more
    than ``memory`` bytes (default: half the machine's memory) — DuckDB's query can spill to
    disk, arrays cannot."""
    for table in (exposures, events):
        if UNIT_KEY not in column_names(con, table):
            return None  # the table is missing, or stored before keys (units table too)
    stored = sum(
        int(row[0])
        for row in con.execute(
            "SELECT estimated_size FROM duckdb_tables() WHERE schema_name = 'main' AND "
            f"table_name IN ({literal(exposures)}, {literal(events)})"
        ).fetchall()
    )
    if stored * _BYTES_PER_ROW > (half_the_memory() if memory is None else memory):
        return None
    # Values go into the SQL as literals, not bound parameters (see store.sql.literal).
    bound = "" if until is None else f" AND {_until(until)}"
    mine = f"experiment = {literal(experiment)}{bound}"
    names = [
        str(row[0])
        for row in con.execute(
            f"SELECT DISTINCT variant FROM {quote(exposures)} WHERE {mine} ORDER BY variant"
        ).fetchall()
    ]
    raws = sorted({m.source for m in metrics} | {m.denominator for m in metrics if m.denominator})
    kept = f"list_contains({_texts(raws)}, metric){bound}"
    # The events come in on a second cursor meanwhile: DuckDB converts one result at a time
    # per connection, and the first exposures need only the exposures.
    with closing(con.cursor()) as other, ThreadPoolExecutor(1) as pool:  # pool ends first
        pending = pool.submit(
            lambda: other.execute(
                f"SELECT {UNIT_KEY} AS k, "
                f"CAST(list_position({_texts(raws)}, metric) - 1 AS SMALLINT) AS m, "
                f"epoch_us(time) AS t, CAST(value AS DOUBLE) AS x FROM {quote(events)} WHERE {kept}"
            ).fetchnumpy()
        )
        exposed = con.execute(
            f"SELECT {UNIT_KEY} AS k, epoch_us(time) AS t, "
            f"CAST(list_position({_texts(names)}, variant) - 1 AS SMALLINT) AS v "
            f"FROM {quote(exposures)} WHERE {mine}"
        ).fetchnumpy()
        if np.ma.is_masked(exposed["k"]):
            return None  # a row without a key: only a store edited by hand
        top = con.execute(f"SELECT max(unit_key) FROM {quote(units_table(exposures))}").fetchone()
        size = 0 if top is None or top[0] is None else int(top[0]) + 1  # every key is below
        mixed = len(names)  # the code of units exposed to several variants
        first, variant = _first_exposures(exposed["k"], exposed["t"], exposed["v"], size, mixed)
        rows = pending.result()
    if np.ma.is_masked(rows["k"]):
        return None
    keys = np.asarray(rows["k"], np.int64)
    extra = int(np.max(keys, initial=-1)) + 1 - size
    if extra > 0:  # units keyed by an import that committed between the two cursors' reads
        first = np.concatenate([first, np.full(extra, _NEVER)])
        variant = np.concatenate([variant, np.full(extra, mixed)])
        size += extra
    result = [
        {"variant": names[v] if v < mixed else MIXED, "key": UNITS, "n": float(n)}
        for v, n in enumerate(np.bincount(variant[first != _NEVER], minlength=mixed + 1))
        if n
    ]
    counted = np.where(variant < mixed, first, _NEVER)  # a single variant: events count
    sums = _event_sums(keys, rows["m"], rows["t"], rows["x"], counted, pre_days, len(raws))
    labels = [*names, MIXED]
    by_metric = dict(zip(raws, sums, strict=True))
    binary = {m.source for m in metrics if m.kind == "conversion"}
    with ThreadPoolExecutor(_WORKERS) as pool:
        for moments in pool.map(
            lambda raw: _moments(raw, by_metric[raw], variant, labels, raw in binary), raws
        ):
            result += moments
    for metric in metrics:
        if metric.kind == "ratio":
            assert metric.denominator is not None
            result += _ratio(metric, by_metric[metric.source], by_metric[metric.denominator],
                             variant, labels, size)  # fmt: skip
        elif metric.cap is not None:
            result += _capped(metric, by_metric[metric.source], variant, labels)
    return result


def _first_exposures(
    keys: NDArray[np.int64], times: Any, codes: Any, size: int, mixed: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Per unit key: its first exposure time (``_NEVER`` if none) and its variant's code
    (``mixed`` when it was exposed to several, or never)."""
    first = np.full(size, _NEVER, np.int64)
    np.minimum.at(first, keys, times)
    low = np.full(size, np.iinfo(np.int16).max, np.int16)
    high = np.full(size, -1, np.int16)
    np.minimum.at(low, keys, codes)
    np.maximum.at(high, keys, codes)
    return first, np.where(low == high, low, mixed).astype(np.int64)


def _event_sums(
    keys: NDArray[np.int64],
    codes: Any,
    times: Any,
    values: Any,
    first: NDArray[np.int64],
    pre_days: float,
    count: int,
) -> list[_Sums]:
    """Per event metric (by code), the sums per unit over the events from ``pre_days`` before
    its first exposure on; ``first`` is _NEVER for the units that do not count."""
    start = first[keys]
    post = times >= start
    start -= round(pre_days * 86_400) * _US  # in place: the start of the pre-period
    keep = times >= start  # never for _NEVER: no time is within years of it
    # A stable counting sort by metric (the dropped rows last): each metric's rows in order.
    grouped = codes.astype(np.uint8 if count < 255 else np.uint16)
    grouped[~keep] = count
    order = np.argsort(grouped, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(grouped, minlength=count + 1))])

    def some(codes: range) -> list[_Sums]:  # each worker with its own scratch arrays
        mark = np.zeros(len(first), np.bool_)
        slot = np.zeros(len(first), np.int64)
        out = []
        for code in codes:
            picked = order[bounds[code] : bounds[code + 1]]
            unit = keys[picked]
            mark[unit] = True
            units = np.flatnonzero(mark)
            mark[units] = False
            slot[units] = np.arange(len(units))
            at = 2 * slot[unit] + post[picked]  # a bin per unit and side: pre 2i, post 2i + 1
            sums = np.bincount(at, values[picked], 2 * len(units))
            seen = np.bincount(at, minlength=2 * len(units)) > 0
            out.append(_Sums(units, sums[1::2], sums[::2], seen[1::2] * 1.0, seen[::2] * 1.0))
        return out

    # numpy releases the GIL in these loops: two threads take every other metric.
    with ThreadPoolExecutor(_WORKERS) as pool:
        parts = list(pool.map(some, [range(w, count, _WORKERS) for w in range(_WORKERS)]))
    return [parts[code % _WORKERS][code // _WORKERS] for code in range(count)]


def _moments(
    key: str, s: _Sums, variant: NDArray[np.int64], labels: list[str], binary: bool = True
) -> list[dict[str, Any]]:
    """Per variant: n, Σx, Σx², Σp, Σp², Σx·p and, when ``binary`` (a conversion metric reads
    them), the same of the 0/1 indicators."""
    columns = {
        "s1": s.x, "s2": s.x * s.x, "c1": s.p, "c2": s.p * s.p, "x12": s.x * s.p,
        "b1": s.bx if binary else None,
        "b2": s.bp if binary else None,
        "b12": s.bx * s.bp if binary else None,
    }  # fmt: skip
    return _grouped(key, variant[s.units], columns, labels)


def _ratio(
    metric: MetricDef,
    num: _Sums,
    den: _Sums,
    variant: NDArray[np.int64],
    labels: list[str],
    size: int,
) -> list[dict[str, Any]]:
    """Per variant, the moments of the units' (numerator, denominator) sums after exposure,
    over the units with events of either."""
    mark = np.zeros(size, np.bool_)
    mark[num.units] = True
    mark[den.units] = True
    units = np.flatnonzero(mark)
    slot = np.zeros(size, np.int64)
    slot[units] = np.arange(len(units))
    a = np.zeros(len(units))
    b = np.zeros(len(units))
    a[slot[num.units]] = num.x
    b[slot[den.units]] = den.x
    columns = {
        "s1": a, "s2": a * a, "c1": b, "c2": b * b, "x12": a * b, "b1": None, "b2": None,
        "b12": None,
    }  # fmt: skip
    return _grouped(f"ratio:{metric.name}", variant[units], columns, labels)


def _capped(
    metric: MetricDef, s: _Sums, variant: NDArray[np.int64], labels: list[str]
) -> list[dict[str, Any]]:
    """The moments with each unit's values capped at the ``cap`` percentile of the values after
    exposure of the units that have any (DuckDB's ``quantile_cont``: NaN sorts last)."""
    assert metric.cap is not None
    ranked = np.sort(s.x[s.bx > 0])
    if len(ranked):
        at = metric.cap * (len(ranked) - 1)
        low = int(np.floor(at))
        high = min(low + 1, len(ranked) - 1)
        limit = ranked[low] + (at - low) * (ranked[high] - ranked[low])
        # fmin: a NaN limit caps nothing and a NaN value becomes the limit, as DuckDB's least().
        s = _Sums(s.units, np.fmin(s.x, limit), np.fmin(s.p, limit), s.bx, s.bp)
    return _moments(f"cap:{metric.name}", s, variant, labels)


def _grouped(
    key: str, group: NDArray[np.int64], columns: dict[str, Any], labels: list[str]
) -> list[dict[str, Any]]:
    """One row per variant present: the units (n) and each column's sum (0 for None)."""
    present = np.bincount(group, minlength=len(labels))
    zeros = np.zeros(len(labels))
    sums = {
        name: zeros if values is None else np.bincount(group, values, len(labels))
        for name, values in columns.items()
    }
    return [
        {
            "variant": label,
            "key": key,
            "n": float(present[i]),
            **{name: float(v[i]) for name, v in sums.items()},
        }
        for i, label in enumerate(labels)
        if present[i]
    ]


def _texts(values: list[str]) -> str:
    return "[" + ", ".join(map(literal, values)) + "]::VARCHAR[]"


def _until(until: datetime) -> str:
    """``time <= until``; a time without a zone is UTC, as everywhere in the store."""
    zoned = until if until.tzinfo is not None else until.replace(tzinfo=UTC)
    return f"time <= TIMESTAMPTZ {literal(zoned.isoformat())}"
