"""Time windows: parse ``6h`` / ``1d`` / ``1w`` and cut a time column into UTC buckets."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from mlpilot.errors import ValidationError

if TYPE_CHECKING:
    import ibis.expr.types as ir

_WINDOW = re.compile(r"([0-9]{1,4})([hdw])")
_UNITS = {"h": "hours", "d": "days", "w": "weeks"}


def parse_window(window: str) -> dict[str, int]:
    """``"6h"`` → ``{"hours": 6}``; hours, days or weeks, at least 1."""
    match = _WINDOW.fullmatch(window.strip().lower())
    if match is None or int(match.group(1)) < 1:
        raise ValidationError(f"invalid window {window!r}; use e.g. 1h, 6h, 1d or 1w")
    return {_UNITS[match.group(2)]: int(match.group(1))}


def window_length(window: str) -> timedelta:
    """The length of a window as a timedelta."""
    return timedelta(**parse_window(window))


def epoch_seconds(times: ir.Value) -> ir.FloatingValue:
    """Seconds since the Unix epoch. A zoned time is read directly: casting it to a plain one
    first (what Ibis does) costs DuckDB a time-zone conversion per row."""
    from mlpilot.engine.portable import epoch_seconds as portable_seconds

    dtype = times.type()
    seconds = portable_seconds(times)  # engines where Ibis's form drops the microseconds
    if seconds is not None:
        return seconds
    if dtype.is_timestamp() and dtype.timezone is not None:
        return _epoch(times)
    return times.cast("timestamp").epoch_seconds().cast("float64")


def bucket(table: ir.Table, column: str, window: str) -> ir.TimestampValue:
    """The start of each row's window (UTC; weeks start on Monday)."""
    width, origin = width_origin(window)
    return (bucket_index(table, column, window) * width + origin).as_timestamp("s")


def bucket_index(table: ir.Table, column: str, window: str) -> ir.IntegerValue:
    """The number of each row's window since the Unix epoch (a small integer, cheap to group
    on); :func:`window_start` turns it into the window's start."""
    if column not in table.columns:
        raise ValidationError(
            f"no time column {column!r}; the columns are: {', '.join(table.columns)}"
        )
    times = table[column]
    if not (times.type().is_date() or times.type().is_timestamp()):
        raise ValidationError(f"column {column!r} has type {times.type()}, not a time")
    width, origin = width_origin(window)
    return ((epoch_seconds(times) - origin) / width).floor().cast("int64")


def window_start(index: int, window: str) -> datetime:
    """The start (UTC) of window number ``index`` of :func:`bucket_index`."""
    width, origin = width_origin(window)
    return datetime.fromtimestamp(index * width + origin, UTC)


def window_index(start: datetime, window: str) -> int:
    """The number of the window starting at ``start`` (the inverse of :func:`window_start`)."""
    width, origin = width_origin(window)
    moment = start if start.tzinfo is not None else start.replace(tzinfo=UTC)
    return int((moment.timestamp() - origin) // width)


def width_origin(window: str) -> tuple[int, int]:
    """Seconds per window and the origin of the count: buckets count from the Unix epoch, a
    Thursday; for weeks four days on, so that weeks start on Monday."""
    width = int(window_length(window).total_seconds())
    return width, 4 * 86_400 if "weeks" in parse_window(window) else 0


def _epoch(times: ir.Value) -> ir.FloatingValue:
    import ibis
    import ibis.expr.datatypes as dt

    def epoch(value: object) -> float:
        """DuckDB's epoch(): seconds, with microseconds, of a zoned time."""
        raise NotImplementedError  # never called: the engine runs its own epoch()

    builtin = ibis.udf.scalar.builtin(epoch, name="epoch", signature=((times.type(),), dt.float64))
    return builtin(times)
