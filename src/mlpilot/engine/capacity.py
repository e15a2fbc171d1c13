"""Capacity operating points in the engine: the k highest scores of each period are acted on.

A period is a calendar day, week (from Monday) or month in UTC, or a fixed window such as
``7d`` (counted from the Unix epoch, weeks from a Monday). Within each period the predictions
with a usable score are ranked by score, highest first, and the first k are selected — what a
team that calls "the 500 most at risk each week" does. Ties are broken by time, then entity
id, so the same data always selects the same rows. A prediction without a usable score (NULL
or NaN) is never selected. One window function per capacity marks the selected rows; the
monitor then counts them like any other prediction, and only per-period counts leave the engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from mlpilot.engine.portable import as_int, floor_divide
from mlpilot.engine.windows import bucket_index, epoch_seconds, window_start

if TYPE_CHECKING:
    import ibis.expr.types as ir

__all__ = ["periods", "scored", "selected", "with_selection"]

_CALENDAR = {"day": "1d", "week": "1w"}


def scored(score: ir.Value) -> ir.BooleanValue:
    """A usable score: not NULL and not NaN. Rows without one are left out of every metric
    (and counted as ``unscored``), whichever metric it is."""
    value = score.cast("float64")
    return value.notnull() & ~value.isnan()


def period_index(table: ir.Table, per: str) -> ir.IntegerValue:
    """The number of each row's period (from the Unix epoch; months as year * 12 + month - 1)."""
    if per != "month":
        return bucket_index(table, "time", _CALENDAR.get(per, per))
    return _month_index(table.time)


def period_bounds(index: int, per: str) -> tuple[datetime, datetime]:
    """The start and end (UTC) of period number ``index`` of :func:`period_index`."""
    if per != "month":
        window = _CALENDAR.get(per, per)
        return window_start(index, window), window_start(index + 1, window)
    return _month_start(index), _month_start(index + 1)


def _month_start(index: int) -> datetime:
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def _month_index(times: ir.Value) -> ir.IntegerValue:
    """Year * 12 + month - 1 of a time in UTC, from its day number since the epoch (Howard
    Hinnant's civil-from-days in integer arithmetic): no engine's time-zone setting matters."""
    import ibis

    days = (epoch_seconds(times) / 86_400).floor().cast("int64")
    z = days + 719_468
    era = floor_divide(z, 146_097)
    doe = z - era * 146_097  # day of the 400-year era, 0 to 146096
    yoe = floor_divide(
        doe - floor_divide(doe, 1_460) + floor_divide(doe, 36_524) - floor_divide(doe, 146_096),
        365,
    )
    doy = doe - (365 * yoe + floor_divide(yoe, 4) - floor_divide(yoe, 100))
    mp = floor_divide(5 * doy + 2, 153)  # months from March
    month = ibis.ifelse(mp < 10, mp + 3, mp - 9)
    year = yoe + era * 400 + as_int(month <= 2)
    return (year * 12 + month - 1).cast("int64")


def with_selection(table: ir.Table, capacities: Sequence[tuple[int, str]]) -> ir.Table:
    """``table`` (``time``, ``entity_id``, ``score``) with ``_period{j}`` and ``_sel{j}`` (the
    row is among the ``top`` highest scores of its period) for each capacity ``(top, per)``."""
    import ibis

    if not capacities:
        return table
    table = table.mutate(_scored=scored(table.score))
    for j, (top, per) in enumerate(capacities):
        table = table.mutate(**{f"_period{j}": period_index(table, per)})
        order = [table.score.cast("float64").desc(), table.time.asc(), table.entity_id.asc()]
        rank = ibis.row_number().over(
            group_by=[table[f"_period{j}"], table._scored], order_by=order
        )
        table = table.mutate(**{f"_sel{j}": table._scored & (rank < top)})
    return table.drop("_scored")


def selected(j: int) -> str:
    """The name of capacity ``j``'s selection column."""
    return f"_sel{j}"


def periods(table: ir.Table, j: int, per: str) -> list[dict[str, Any]]:
    """Per period of capacity ``j``: predictions, scored, selected, and the labeled and positive
    counts overall and among the selected (labels 0/1; the rows must carry ``label``)."""
    key = f"_period{j}"
    usable = scored(table.score)
    labeled = table.label.notnull() & usable
    positive = labeled & (table.label.cast("float64") == 1)
    chosen = table[selected(j)]
    rows = (
        table.group_by(key)
        .aggregate(
            n=table.count(),
            scored=as_int(usable).sum(),
            selected=as_int(chosen).sum(),
            labeled=as_int(labeled).sum(),
            positives=as_int(positive).sum(),
            selected_labeled=as_int(chosen & labeled).sum(),
            selected_positives=as_int(chosen & positive).sum(),
        )
        .order_by(key)
        .to_pyarrow()
        .to_pylist()
    )
    result = []
    for row in rows:
        start, end = period_bounds(int(row.pop(key)), per)
        counts = {name: int(value or 0) for name, value in row.items()}
        result.append({"start": start.isoformat(), "end": end.isoformat(), **counts})
    return result
