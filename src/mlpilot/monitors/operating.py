"""Model criteria judged where the model runs: at their declared operating point.

A binary model's criterion on a metric that depends on where it runs (precision, recall, …) is
judged at its declared threshold, at its capacity (the top k of each period, see
:mod:`mlpilot.engine.capacity`) or at each prediction's own decision — never at a threshold
chosen afterwards. The best value such a threshold would have reached may be shown beside the
verdict, labelled as such. A criterion stored with a constraint and no operating point (before
operating points existed) is "insufficient", never met. An undefined value is null with a note
saying why, and is neither met nor breached.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from mlpilot.domain.criteria import Criterion, OperatingPoint
from mlpilot.domain.metrics import AT_OPERATING_POINT
from mlpilot.engine import performance as engine
from mlpilot.stats.classification import lift, threshold_metrics

__all__ = [
    "HINDSIGHT",
    "NO_POINT",
    "Points",
    "capacity_periods",
    "constrained_met",
    "hindsight",
    "judge",
    "metrics_at",
    "points_of",
]

HINDSIGHT = "achievable at a threshold chosen afterwards"
NO_POINT = (
    "insufficient: no operating point declared; judge it where the model runs by declaring it "
    "again with --threshold T or --top K --per PERIOD"
)
_UNDEFINED = {
    "recall": "no positive label",
    "pr_auc": "no positive label",
    "precision": "no prediction is positive at the operating point",
    "specificity": "no negative label",
    "balanced_accuracy": "one class only among the labels",
    "f1": "no positive label and no positive prediction",
    "lift": "no positive label, or nothing predicted positive",
    "roc_auc": "one class only among the labels",
}


@dataclass(frozen=True)
class Points:
    """The distinct operating points the criteria declare, as the engine counts them."""

    declared: tuple[OperatingPoint, ...]
    engine: tuple[engine.Point, ...]
    capacities: tuple[tuple[int, str], ...]  # (top, per) of each capacity, in engine order


def points_of(criteria: list[Criterion], has_decisions: bool) -> Points:
    """The operating points of ``criteria``; a decision point only when the predictions carry
    a numeric or boolean ``prediction`` column (``has_decisions``)."""
    declared = tuple(dict.fromkeys(c.operating_point for c in criteria if c.operating_point))
    counted: list[OperatingPoint] = []
    points: list[engine.Point] = []
    capacities: list[tuple[int, str]] = []
    for point in declared:
        if point.threshold is not None:
            points.append(engine.Point("threshold", point.threshold))
        elif point.top is not None and point.per is not None:
            points.append(engine.Point("capacity", len(capacities)))
            capacities.append((point.top, point.per))
        elif has_decisions:
            points.append(engine.Point("decision"))
        else:
            continue
        counted.append(point)
    return Points(tuple(counted), tuple(points), tuple(capacities))


def metrics_at(counts: dict[str, int]) -> dict[str, float | None]:
    """The thresholded metrics and lift from the confusion counts at one operating point."""
    values = threshold_metrics(**counts) | {"lift": lift(**counts)}
    recall, specificity = values["recall"], values["specificity"]
    values["balanced_accuracy"] = (recall + specificity) / 2
    return {name: None if math.isnan(v) else float(v) for name, v in values.items()}


def capacity_periods(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per period: precision@k, recall@k and lift@k from the engine's counts (null, never 0,
    where undefined), with the counts behind them."""
    result = []
    for row in rows:
        tp, acted = row["selected_positives"], row["selected_labeled"]
        counts = {"tp": tp, "fp": acted - tp, "fn": row["positives"] - tp}
        counts["tn"] = row["labeled"] - acted - counts["fn"]
        values = metrics_at(counts)
        result.append(
            row | {"precision_at_k": values["precision"], "recall_at_k": values["recall"],
                   "lift_at_k": values["lift"]}
        )  # fmt: skip
    return result


def judge(
    criterion: Criterion,
    metric: str,
    window_metrics: dict[str, float | None],
    at_points: dict[OperatingPoint, dict[str, float | None]],
    threshold: float,
) -> tuple[float | None, str | None, dict[str, Any]]:
    """The observed value, the note and the operating-point fields of one model verdict in one
    window (``metric`` is the criterion's metric as the window names it): ``operating_point``
    (where it was judged) and ``measure`` (what the value is, e.g. ``precision@500 per week``)."""
    point = criterion.operating_point
    where = None
    if point is not None:
        where = point.describe()
    elif metric in AT_OPERATING_POINT:
        where = f"threshold {threshold:g} (the report's)"
    measure = metric
    if point is not None and point.top is not None:
        measure = f"{metric}@{point.top} per {point.per}"
    extra: dict[str, Any] = {"operating_point": where, "measure": measure}
    if not window_metrics:
        return None, "no outcome has arrived for this window yet", extra
    if criterion.needs_operating_point:
        return None, NO_POINT, extra
    if point is None:
        observed = window_metrics.get(metric)
        if metric not in window_metrics:
            return None, f"{metric} is not computed for this task", extra
        return observed, _why_undefined(metric, observed), extra
    values = at_points.get(point)
    if values is None:
        return None, "the predictions carry no 0/1 decision (a numeric prediction column)", extra
    observed = values.get(metric)
    note = _why_undefined(metric, observed)
    if criterion.constraint is not None:
        c = criterion.constraint
        extra["constraint_observed"] = values.get(c.metric)
        if observed is not None and extra["constraint_observed"] is None and note is None:
            note = f"{c.metric} is undefined: {_UNDEFINED.get(c.metric, 'no rows')}"
    return observed, note, extra


def constrained_met(
    criterion: Criterion, observed: float | None, other: float | None
) -> bool | None:
    """A criterion with a constraint at an operating point: both must hold. A failing main
    condition fails whatever the constraint; an undefined one leaves it unjudged."""
    if observed is None:
        return None
    if not criterion.is_met(observed):
        return False
    if other is None or criterion.constraint is None:
        return None
    c = criterion.constraint
    return c.op.holds(other, c.target)


def hindsight(value: float | None) -> dict[str, Any]:
    """The best value over every threshold, labelled as what it is: never the verdict."""
    return {
        "value": value,
        "label": HINDSIGHT,
        "note": None if value is not None else "no threshold satisfies the constraint",
    }


def _why_undefined(metric: str, observed: float | None) -> str | None:
    if observed is not None:
        return None
    reason = _UNDEFINED.get(metric, "no labeled prediction with a usable score")
    return f"undefined: {reason} in this window"
