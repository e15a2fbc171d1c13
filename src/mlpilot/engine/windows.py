"""Time windows: parse ``6h`` / ``1d`` / ``1w`` and cut a time column into UTC buckets."""

from __future__ import annotations

import re
from datetime import timedelta
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


def bucket(table: ir.Table, column: str, window: str) -> ir.TimestampValue:
    """The start of each row's window (UTC; weeks start on Monday)."""
    import ibis

    if column not in table.columns:
        raise ValidationError(
            f"no time column {column!r}; the columns are: {', '.join(table.columns)}"
        )
    times = table[column]
    if times.type().is_date():
        times = times.cast("timestamp")
    elif not times.type().is_timestamp():
        raise ValidationError(f"column {column!r} has type {times.type()}, not a time")
    unit = parse_window(window)
    # Buckets count from the Unix epoch, a Thursday; four days on, weeks start on Monday.
    offset = ibis.interval(days=4) if "weeks" in unit else None
    return times.bucket(**unit, offset=offset)
