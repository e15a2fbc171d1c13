"""The engine half of data readiness: reduce a table of any size to a :class:`ReadinessSummary`.

Nothing here loads rows into Python. Each query is an Ibis expression whose result is small:

1. the reference (``reference=``): ONE aggregate — row count, finite min/max of shared numeric
   columns;
2. the table: ONE aggregate — row count, and per column the missing count (NULL, plus NaN for
   floating columns), the exact count of distinct non-missing values, the finite min/max of
   numeric and time columns, the infinite count of floating columns, how many text values parse
   as numbers or as times (``TRY_CAST``), the time column's range and unparsed count, the
   target's mean/std, and the counts below/above the reference range;
3. duplicates: one ``DISTINCT`` over all columns (``rows - distinct rows``);
4. rows per period (with a time column): one group-by on the truncated time;
5. target classes (with a target that is not a many-valued number): one group-by, top classes;
6. unseen text values (with a reference sharing text columns): one unpivot, group-by and
   anti-join against the reference's values, a few examples per column.

Because only aggregates come back, the same code runs on DuckDB and on any engine Ibis reaches.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from mlpilot.engine.columns import is_missing
from mlpilot.engine.portable import as_int, is_infinite, zoned
from mlpilot.errors import NotFoundError, ValidationError

if TYPE_CHECKING:
    import ibis.expr.types as ir

Kind = Literal["numeric", "text", "time", "boolean", "other"]
Period = Literal["day", "week", "month"]
PERIODS: tuple[Period, ...] = ("day", "week", "month")
_UNITS: dict[Period, str] = {"day": "D", "week": "W", "month": "M"}
# A target with more distinct values than this is summarised by mean/std, not class shares.
MAX_CLASSES = 20
UNSEEN_EXAMPLES = 3
Scalar = float | int | str | bool | datetime | date


@dataclass(frozen=True)
class ColumnSummary:
    """One column: what is missing, how varied it is, its range, and how its text parses."""

    name: str
    dtype: str
    kind: Kind
    missing: int  # NULL, plus NaN in floating columns
    distinct: int | None  # distinct non-missing values; None for list/struct/other columns
    minimum: float | datetime | date | None = None  # finite values only
    maximum: float | datetime | date | None = None
    infinite: int = 0  # floating columns: +inf and -inf values
    as_number: int = 0  # text columns: non-missing values that parse as numbers
    as_time: int = 0  # text columns: non-missing values that parse as dates or times
    not_number: str | None = None  # text columns: the smallest value that does not parse
    not_time: str | None = None


@dataclass(frozen=True)
class PeriodRows:
    """The rows whose time falls in the period starting on ``start``."""

    start: date
    rows: int


@dataclass(frozen=True)
class TimeSummary:
    """The time column: its range, the values that are not times, rows per period."""

    column: str
    first: datetime | date | None
    last: datetime | date | None
    missing: int  # NULL or unparsed
    unparsed: int  # text time columns: non-missing values that are not times
    unparsed_example: str | None
    period: Period
    periods: tuple[PeriodRows, ...]  # non-empty periods, in time order


@dataclass(frozen=True)
class TargetSummary:
    """The target: class counts (the most common first) or, for many-valued numbers, mean/std."""

    column: str
    classes: int  # distinct non-missing values
    missing: int
    top: tuple[tuple[Scalar, int], ...]  # up to MAX_CLASSES (value, rows); empty for numbers
    smallest: int | None  # rows of the rarest class; None when not counted
    mean: float | None = None
    std: float | None = None  # sample standard deviation


@dataclass(frozen=True)
class RangeCheck:
    """A numeric column against the reference's finite range."""

    column: str
    reference_min: float | None
    reference_max: float | None
    below: int
    above: int


@dataclass(frozen=True)
class UnseenValues:
    """A text column's values that never occur in the reference."""

    column: str
    values: int  # distinct unseen values
    rows: int  # rows holding one
    examples: tuple[str, ...]  # the most frequent few


@dataclass(frozen=True)
class ReferenceSummary:
    """The table against the reference: ranges, unseen values, columns that do not match."""

    rows: int
    ranges: tuple[RangeCheck, ...]
    unseen: tuple[UnseenValues, ...]
    only_in_reference: tuple[str, ...]
    not_in_reference: tuple[str, ...]
    type_mismatch: tuple[str, ...]


@dataclass(frozen=True)
class ReadinessSummary:
    """Everything the judging half needs, as plain Python values."""

    rows: int
    duplicates: int
    columns: tuple[ColumnSummary, ...]
    time: TimeSummary | None = None
    target: TargetSummary | None = None
    reference: ReferenceSummary | None = None


def column_kind(dtype: Any) -> Kind:
    """How readiness treats a column of this Ibis type."""
    if dtype.is_boolean():
        return "boolean"
    if dtype.is_numeric():
        return "numeric"
    if dtype.is_string():
        return "text"
    if dtype.is_timestamp() or dtype.is_date():
        return "time"
    return "other"


def require_column(table: ir.Table, name: str, what: str) -> None:
    """A NotFoundError naming ``name`` and listing the columns when the table lacks it."""
    names = list(table.columns)
    if name not in names:
        listed = ", ".join(names) if names else "none"
        raise NotFoundError(f"no {what} {name!r} in the data; the columns are: {listed}")


def parse_period(text: str | None) -> Period | None:
    """``day``, ``week`` or ``month`` (None: choose from the span)."""
    if text is None:
        return None
    key = text.strip().lower()
    for period in PERIODS:
        if key == period:
            return period
    raise ValidationError(f"unknown period {text!r}; expected one of: {', '.join(PERIODS)}")


def default_period(first: datetime | date | None, last: datetime | date | None) -> Period:
    """``day`` for a span up to 90 days, ``week`` up to two years (730 days), else ``month``."""
    if first is None or last is None:
        return "day"
    days = (_as_datetime(last) - _as_datetime(first)).total_seconds() / 86400
    if days <= 90:
        return "day"
    return "week" if days <= 730 else "month"


def _as_datetime(value: datetime | date) -> datetime:
    return value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)


def _finite(column: ir.Column) -> ir.BooleanValue:
    """Neither missing nor infinite (NULL yields NULL, which every aggregate filter drops)."""
    if column.type().is_floating():
        return ~(column.isnan() | is_infinite(column))
    return column.notnull()


def _count(condition: ir.BooleanValue) -> ir.IntegerScalar:
    return as_int(condition).sum()


def time_expression(table: ir.Table, name: str) -> ir.Value:
    """The time column as a time: itself, or text cast with ``TRY_CAST`` (NULL when it fails)."""
    require_column(table, name, "time column")
    column = table[name]
    dtype = column.type()
    if dtype.is_timestamp() or dtype.is_date():
        return column
    if dtype.is_string():
        return column.try_cast("timestamp")
    raise ValidationError(
        f"time column {name!r} has type {dtype}; give a timestamp, a date or ISO 8601 text"
    )


def readiness_aggregate(
    table: ir.Table,
    *,
    time_column: str | None = None,
    target: str | None = None,
    ranges: dict[str, tuple[float | None, float | None]] | None = None,
) -> ir.Table:
    """The ONE aggregate over the table (see the module docstring); a one-row Ibis table.

    Output names are positional (``c3_missing``), so any column name is safe.
    """
    metrics: dict[str, ir.Scalar] = {"row_count": table.count()}
    for i, name in enumerate(table.columns):
        column = table[name]
        kind = column_kind(column.type())
        metrics[f"c{i}_missing"] = _count(is_missing(column))
        if kind == "other":
            continue
        metrics[f"c{i}_distinct"] = column.nunique(where=~is_missing(column))
        if kind in ("numeric", "time"):
            metrics[f"c{i}_min"] = column.min(where=_finite(column))
            metrics[f"c{i}_max"] = column.max(where=_finite(column))
        if column.type().is_floating():
            metrics[f"c{i}_infinite"] = _count(is_infinite(column))
        if kind == "text" and name != time_column:
            number, when = column.try_cast("float64"), column.try_cast("timestamp")
            metrics[f"c{i}_as_number"] = _count(number.notnull())
            metrics[f"c{i}_as_time"] = _count(when.notnull())
            metrics[f"c{i}_not_number"] = column.min(where=column.notnull() & number.isnull())
            metrics[f"c{i}_not_time"] = column.min(where=column.notnull() & when.isnull())
        if ranges and name in ranges:
            low, high = ranges[name]
            valid = ~is_missing(column)
            if low is not None:
                metrics[f"c{i}_below"] = _count(valid & (column < low))
            if high is not None:
                metrics[f"c{i}_above"] = _count(valid & (column > high))
    if time_column is not None:
        when = time_expression(table, time_column)
        metrics["time_first"] = when.min()
        metrics["time_last"] = when.max()
        metrics["time_missing"] = _count(when.isnull())
        if table[time_column].type().is_string():
            raw = table[time_column]
            metrics["time_unparsed"] = _count(raw.notnull() & when.isnull())
            metrics["time_unparsed_example"] = raw.min(where=raw.notnull() & when.isnull())
    if target is not None and column_kind(table[target].type()) == "numeric":
        column = table[target]
        metrics["target_mean"] = column.mean(where=_finite(column))
        metrics["target_std"] = column.std(where=_finite(column), how="sample")
    return table.aggregate(**metrics)


def summarize(
    table: ir.Table,
    *,
    time_column: str | None = None,
    target: str | None = None,
    reference: ir.Table | None = None,
    period: str | None = None,
) -> ReadinessSummary:
    """Run the readiness queries on ``table`` and return their small results.

    ``period`` (``day``, ``week``, ``month``) buckets the rows per period; by default it follows
    the span (see :func:`default_period`). Unknown column names raise NotFoundError; a time
    column that is neither a time nor text, or text none of which parses, a ValidationError.
    """
    chosen = parse_period(period)
    if time_column is not None:
        time_expression(table, time_column)  # validates before any query runs
    if target is not None:
        require_column(table, target, "target column")
    ref_rows, ranges, mismatch = _reference_ranges(table, reference)
    row = zoned(
        table,
        _one_row(readiness_aggregate(table, time_column=time_column, target=target, ranges=ranges)),
    )
    rows = int(row["row_count"])
    columns = tuple(_column_summary(table, i, name, row) for i, name in enumerate(table.columns))
    time = None
    if time_column is not None:
        time = _time_summary(table, time_column, row, chosen)
    target_summary = None
    if target is not None:
        target_summary = _target_summary(table, target, row, columns)
    reference_summary = None
    if reference is not None:
        positions = {name: i for i, name in enumerate(table.columns)}
        reference_summary = ReferenceSummary(
            rows=ref_rows,
            ranges=tuple(
                RangeCheck(
                    name,
                    low,
                    high,
                    below=_int(row.get(f"c{positions[name]}_below")),
                    above=_int(row.get(f"c{positions[name]}_above")),
                )
                for name, (low, high) in ranges.items()
            ),
            unseen=_unseen(table, reference),
            only_in_reference=tuple(c for c in reference.columns if c not in positions),
            not_in_reference=tuple(c for c in table.columns if c not in reference.columns),
            type_mismatch=mismatch,
        )
    duplicates = rows - int(table.distinct().count().to_pyarrow().as_py()) if rows else 0
    return ReadinessSummary(rows, duplicates, columns, time, target_summary, reference_summary)


def _one_row(expr: ir.Table) -> dict[str, Any]:
    rows: list[dict[str, Any]] = expr.to_pyarrow().to_pylist()
    return rows[0]


def _int(value: Any) -> int:
    return 0 if value is None else int(value)


def _plain(value: Any) -> Any:
    """Decimals become floats; NaN (an empty aggregate on some engines) becomes None."""
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _column_summary(table: ir.Table, i: int, name: str, row: dict[str, Any]) -> ColumnSummary:
    dtype = table[name].type()
    kind = column_kind(dtype)
    distinct = row.get(f"c{i}_distinct")
    return ColumnSummary(
        name=name,
        dtype=str(dtype),
        kind=kind,
        missing=_int(row[f"c{i}_missing"]),
        distinct=None if kind == "other" else _int(distinct),
        minimum=_plain(row.get(f"c{i}_min")),
        maximum=_plain(row.get(f"c{i}_max")),
        infinite=_int(row.get(f"c{i}_infinite")),
        as_number=_int(row.get(f"c{i}_as_number")),
        as_time=_int(row.get(f"c{i}_as_time")),
        not_number=row.get(f"c{i}_not_number"),
        not_time=row.get(f"c{i}_not_time"),
    )


def _reference_ranges(
    table: ir.Table, reference: ir.Table | None
) -> tuple[int, dict[str, tuple[float | None, float | None]], tuple[str, ...]]:
    """ONE aggregate on the reference: its rows and the finite range of each shared number."""
    if reference is None:
        return 0, {}, ()
    numeric: list[str] = []
    mismatch: list[str] = []
    for name in table.columns:
        if name not in reference.columns:
            continue
        kind = column_kind(table[name].type())
        ref_kind = column_kind(reference[name].type())
        if kind != ref_kind:
            mismatch.append(name)
        elif kind == "numeric":
            numeric.append(name)
    metrics: dict[str, ir.Scalar] = {"rows": reference.count()}
    for j, name in enumerate(numeric):
        column = reference[name]
        metrics[f"r{j}_min"] = column.min(where=_finite(column)).cast("float64")
        metrics[f"r{j}_max"] = column.max(where=_finite(column)).cast("float64")
    row = _one_row(reference.aggregate(**metrics))
    ranges = {
        name: (_plain(row[f"r{j}_min"]), _plain(row[f"r{j}_max"])) for j, name in enumerate(numeric)
    }
    return int(row["rows"]), ranges, tuple(mismatch)


def _time_summary(
    table: ir.Table, name: str, row: dict[str, Any], chosen: Period | None
) -> TimeSummary:
    first, last = row["time_first"], row["time_last"]
    unparsed = _int(row.get("time_unparsed"))
    if first is None and unparsed:
        raise ValidationError(
            f"time column {name!r} does not parse as times "
            f"(e.g. {row['time_unparsed_example']!r}); give ISO 8601 text such as 2026-03-01"
        )
    period = chosen or default_period(first, last)
    periods: tuple[PeriodRows, ...] = ()
    if first is not None:
        import ibis

        when = time_expression(table, name)
        dated = table.select(when=when).filter(ibis._.when.notnull())
        grouped = (
            dated.group_by(start=dated.when.truncate(_UNITS[period]))
            .aggregate(rows=ibis._.count())
            .order_by("start")
        )
        periods = tuple(
            PeriodRows(_as_date(r["start"]), int(r["rows"]))
            for r in grouped.to_pyarrow().to_pylist()
        )
    return TimeSummary(
        column=name,
        first=first,
        last=last,
        missing=_int(row["time_missing"]),
        unparsed=unparsed,
        unparsed_example=row.get("time_unparsed_example"),
        period=period,
        periods=periods,
    )


def _as_date(value: datetime | date) -> date:
    return value.date() if isinstance(value, datetime) else value


def _target_summary(
    table: ir.Table, name: str, row: dict[str, Any], columns: tuple[ColumnSummary, ...]
) -> TargetSummary:
    import ibis

    summary = next(c for c in columns if c.name == name)
    classes = summary.distinct or 0
    mean, std = _plain(row.get("target_mean")), _plain(row.get("target_std"))
    if summary.kind == "other" or (summary.kind == "numeric" and classes > MAX_CLASSES):
        return TargetSummary(name, classes, summary.missing, (), None, mean, std)
    column = table[name]
    labelled = table.select(value=column).filter(~is_missing(column))
    counts = labelled.group_by("value").aggregate(rows=ibis._.count())
    ranked = counts.mutate(
        smallest=counts.rows.min().over(ibis.window()),
        rank=ibis.row_number().over(order_by=[counts.rows.desc(), counts.value]),
    )
    top = ranked.filter(ranked["rank"] < MAX_CLASSES).order_by("rank").to_pyarrow().to_pylist()
    smallest = int(top[0]["smallest"]) if top else None
    pairs = tuple((_plain(r["value"]), int(r["rows"])) for r in top)
    return TargetSummary(name, classes, summary.missing, pairs, smallest, mean, std)


def _unseen(table: ir.Table, reference: ir.Table) -> tuple[UnseenValues, ...]:
    """One query: text values of ``table`` (per shared text column) absent from ``reference``."""
    import ibis

    names = [
        c
        for c in table.columns
        if c in reference.columns
        and column_kind(table[c].type()) == "text"
        and column_kind(reference[c].type()) == "text"
    ]
    if not names:
        return ()

    def longer(t: ir.Table) -> ir.Table:
        # Positional names keep the unpivot safe for any column name.
        renamed = t.select(**{f"c{i}": t[name] for i, name in enumerate(names)})
        long = renamed.pivot_longer(list(renamed.columns), names_to="column", values_to="value")
        return long.filter(long.value.notnull())

    current = longer(table).group_by(["column", "value"]).aggregate(n=ibis._.count())
    seen = longer(reference).select("column", "value").distinct()
    unseen = current.anti_join(seen, ["column", "value"])
    per_column = ibis.window(group_by=unseen.column)
    ranked = unseen.mutate(
        rank=ibis.row_number().over(
            group_by=unseen.column, order_by=[unseen.n.desc(), unseen.value]
        ),
        values=unseen.n.count().over(per_column),
        rows=unseen.n.sum().over(per_column),
    )
    found: dict[str, UnseenValues] = {}
    kept = ranked.filter(ranked["rank"] < UNSEEN_EXAMPLES).order_by(["column", "rank"])
    for r in kept.to_pyarrow().to_pylist():
        name = names[int(r["column"][1:])]
        before = found.get(name)
        examples = (*before.examples, r["value"]) if before else (r["value"],)
        found[name] = UnseenValues(name, int(r["values"]), int(r["rows"]), examples)
    return tuple(found[n] if n in found else UnseenValues(n, 0, 0, ()) for n in names)
