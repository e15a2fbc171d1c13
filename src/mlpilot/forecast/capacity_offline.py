"""Offline evaluation of a capacity criterion (the top k per period) where the team runs it.

Two ways, the user chooses:

- **periods** — the evaluation rows carry a time: they are cut into the criterion's periods (UTC
  calendar days, weeks from Monday, months, or fixed windows such as ``7d``: the boundaries the
  live monitor uses, :mod:`mlpilot.engine.capacity`), the k highest scores of each period are
  the predicted positives, and the confusion counts are pooled over the periods. A period with
  fewer than k rows takes all its rows.
- **per period** — no times, but the population scored each period, N: the top
  ``round(k · n / N)`` rows (at least 1) of the n evaluation rows are the predicted positives,
  which assumes the evaluation set is a random sample of one period's population.

Ties at the k-th score are broken as the monitor breaks them: by time (earliest first), then by
the row's position in the file (the monitor's entity id has no offline counterpart), so the same
rows always select the same predictions. The pooled counts get the posterior of every metric at
an operating point (Dirichlet(½) on the four cells, :mod:`mlpilot.stats.confusion`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mlpilot.domain.criteria import Criterion
from mlpilot.domain.metrics import AT_OPERATING_POINT
from mlpilot.domain.parsing import parse_time
from mlpilot.engine.windows import width_origin
from mlpilot.errors import ValidationError
from mlpilot.stats.confusion import confusion_posterior
from mlpilot.stats.posterior import Posterior

__all__ = ["capacities", "capacity_evidence", "capacity_key", "epoch_seconds", "select"]

_CALENDAR = {"day": "1d", "week": "1w"}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # parse_time's "now", unused with future=True


def capacity_key(metric: str, top: int, per: str) -> str:
    """The metric key of ``metric`` at a capacity, e.g. ``precision at top 500 per week``."""
    return f"{metric} at top {top} per {per}"


def capacities(criteria: Sequence[Criterion]) -> list[tuple[int, str]]:
    """The distinct capacities ``(top, per)`` the criteria are judged at."""
    found = [
        (c.operating_point.top, c.operating_point.per) for c in criteria
        if c.operating_point is not None and c.operating_point.top is not None
    ]  # fmt: skip
    return list(dict.fromkeys((int(t), str(p)) for t, p in found))


def _seconds(value: Any, column: str) -> float:
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if isinstance(value, str | datetime):
        try:  # ISO text or a datetime; naive means UTC
            return parse_time(value, _EPOCH, future=True).timestamp()
        except ValidationError:
            pass
    raise ValidationError(
        f"time column {column!r} holds {value!r}, not a time; "
        "give ISO times such as 2026-03-02T09:00:00Z"
    )


def epoch_seconds(values: Sequence[Any] | NDArray[Any], column: str = "time") -> NDArray[Any]:
    """Seconds since the Unix epoch of a column of times (a time without a zone is UTC)."""
    array = np.asarray(values)
    if array.dtype.kind == "M":
        if np.isnat(array).any():
            raise ValidationError(f"time column {column!r} has missing times")
        return array.astype("datetime64[us]").astype(np.int64) / 1e6
    if array.dtype.kind in "biufc":
        raise ValidationError(
            f"time column {column!r} holds numbers ({array.dtype}), not times; "
            "give ISO times such as 2026-03-02T09:00:00Z"
        )
    return np.array([_seconds(v, column) for v in array.tolist()], dtype=np.float64)


def period_numbers(seconds: NDArray[Any], per: str) -> NDArray[np.int64]:
    """Each row's period number, with the monitor's boundaries (UTC; weeks from Monday)."""
    if per == "month":
        months = seconds.astype("datetime64[s]").astype("datetime64[M]").astype(np.int64)
        return months + 1970 * 12  # year * 12 + month - 1, as the monitor numbers months
    width, origin = width_origin(_CALENDAR.get(per, per))
    return np.floor((seconds - origin) / width).astype(np.int64)


def select(
    scores: NDArray[Any],
    top: int,
    per: str,
    *,
    seconds: NDArray[Any] | None = None,
    per_period: int | None = None,
) -> tuple[NDArray[np.bool_], dict[str, Any]]:
    """The rows the team would act on, and how they were chosen (see the module docstring)."""
    n = int(scores.size)
    if seconds is not None:
        periods = period_numbers(seconds, per)
        # Highest score first; ties by time, then by position in the file (lexsort: last key
        # is primary).
        order = np.lexsort((np.arange(n), seconds, -scores, periods))
        sorted_periods = periods[order]
        starts = np.flatnonzero(np.r_[True, sorted_periods[1:] != sorted_periods[:-1]])
        sizes = np.diff(np.r_[starts, n])
        rank = np.arange(n) - np.repeat(starts, sizes)
        chosen = np.zeros(n, dtype=bool)
        chosen[order[rank < top]] = True
        short = int((sizes < top).sum())
        details: dict[str, Any] = {
            "mode": "periods", "periods": int(starts.size), "short_periods": short,
            "selected": int(chosen.sum()),
        }  # fmt: skip
        if short:
            details["note"] = (
                f"{short} of {starts.size} period(s) had fewer than {top} rows: all their rows "
                "are taken as selected"
            )
        return chosen, details
    if per_period is None:
        raise ValidationError("a capacity needs the rows' times or the population per period")
    check_per_period(per_period, n)
    count = max(1, round(top * n / per_period))
    order = np.lexsort((np.arange(n), -scores))
    chosen = np.zeros(n, dtype=bool)
    chosen[order[:count]] = True
    return chosen, {
        "mode": "per period", "per_period": per_period, "selected": int(chosen.sum()),
        "note": (
            f"top {count} of {n} rows (k · n / N = {top} · {n} / {per_period}): assumes the "
            f"evaluation set is a random sample of one {per}'s population of {per_period}"
        ),
    }  # fmt: skip


def check_per_period(per_period: int, n: int) -> None:
    """The population scored per period is a whole number, at least the evaluation set."""
    if isinstance(per_period, bool) or int(per_period) != per_period or per_period < 1:
        raise ValidationError(
            f"--per-period must be a whole number of at least 1, got {per_period!r}"
        )
    if per_period < n:
        raise ValidationError(
            f"--per-period {per_period} is smaller than the evaluation set ({n} rows); it is the "
            "population scored each period, of which the evaluation set is a sample"
        )


def capacity_evidence(
    labels: NDArray[np.float64],
    scores: NDArray[Any],
    criteria: Sequence[Criterion],
    *,
    times: Sequence[Any] | NDArray[Any] | None,
    per_period: int | None,
    stratified: bool,
) -> tuple[dict[str, float | None], dict[str, Posterior], dict[str, Any]]:
    """For each capacity the criteria use: the point values, posteriors and details of every
    metric at the operating point, from the rows' ``times`` or the population ``per_period``
    (``labels``/``scores`` in the file's order)."""
    values: dict[str, float | None] = {}
    posteriors: dict[str, Posterior] = {}
    counts_by: dict[str, dict[str, int]] = {}
    how: dict[str, Any] = {}
    if times is not None and per_period is not None:
        raise ValidationError(
            "give the rows' times (--time-column) or the population per period (--per-period), "
            "not both"
        )
    seconds = None
    if times is not None:
        seconds = epoch_seconds(times)
        if seconds.shape != labels.shape:
            raise ValidationError(
                f"the times must be one per row: {seconds.size} times for {labels.size} rows"
            )
    if per_period is not None:
        check_per_period(per_period, labels.size)
    if seconds is None and per_period is None:
        return values, posteriors, {}
    positives, n = float(labels.sum()), labels.size
    for top, per in capacities(criteria):
        chosen, details = select(scores, top, per, seconds=seconds, per_period=per_period)
        tp = int((chosen & (labels == 1)).sum())
        counts = {"tp": tp, "fp": int(chosen.sum()) - tp, "fn": int(positives) - tp}
        counts["tn"] = n - counts["tp"] - counts["fp"] - counts["fn"]
        label = f"top {top} per {per}"
        counts_by[label], how[label] = counts, details
        for metric in AT_OPERATING_POINT:
            key = capacity_key(metric, top, per)
            values[key] = _point(metric, counts)
            posteriors[key] = confusion_posterior(counts, metric, stratified=stratified)
    return values, posteriors, {"confusion": counts_by, "capacity": how}


def _point(metric: str, c: dict[str, int]) -> float | None:
    """The metric from the pooled counts; None where its denominator is zero."""
    tp, fp, fn, tn = c["tp"], c["fp"], c["fn"], c["tn"]
    n = tp + fp + fn + tn

    def ratio(a: float, b: float) -> float | None:
        return a / b if b else None

    precision, recall, specificity = ratio(tp, tp + fp), ratio(tp, tp + fn), ratio(tn, tn + fp)
    if metric == "precision":
        return precision
    if metric == "recall":
        return recall
    if metric == "specificity":
        return specificity
    if metric == "accuracy":
        return ratio(tp + tn, n)
    if metric == "f1":
        return ratio(2 * tp, 2 * tp + fp + fn)
    if metric == "balanced_accuracy":
        both = recall is not None and specificity is not None
        return (recall + specificity) / 2 if both else None  # type: ignore[operator]
    if metric == "lift":
        return None if precision is None else ratio(precision, (tp + fn) / n)
    raise ValueError(metric)
