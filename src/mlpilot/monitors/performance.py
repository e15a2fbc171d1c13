"""Model performance per time window, judged against the model criteria and the baseline.

The engine half (``mlpilot.engine.performance``) reduces predictions joined to their outcomes
to per-window sums and counts; the stats half (``mlpilot.stats``) turns them into the metrics
scikit-learn would compute on the same rows. A window where a model criterion fails yields a
breach that carries the criterion's fallback plan. Criteria with an operating point are judged
there (:mod:`mlpilot.monitors.operating`); an undefined value is neither met nor breached.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from mlpilot.domain.charter import Charter, Task
from mlpilot.domain.criteria import Criterion, OperatingPoint
from mlpilot.domain.metrics import CATALOGUE, CriterionKind
from mlpilot.engine import capacity
from mlpilot.engine import performance as engine
from mlpilot.engine.windows import window_length
from mlpilot.errors import ValidationError
from mlpilot.monitors import operating
from mlpilot.stats.classification import (
    brier,
    calibration,
    log_loss,
    multiclass_metrics,
    threshold_metrics,
)
from mlpilot.stats.regression import regression_metrics

if TYPE_CHECKING:
    import ibis.expr.types as ir

# The catalogue says f1 for any classifier; a multiclass window reports its macro F1.
_ALIASES = {Task.MULTICLASS: {"f1": "macro_f1"}}


def evaluate(
    predictions: ir.Table,
    outcomes: ir.Table,
    *,
    charter: Charter,
    criteria: list[Criterion],
    window: str = "1d",
    threshold: float = 0.5,
    model_version: str | None = None,
) -> dict[str, Any]:
    """The ``mlpilot performance`` report: ``windows`` with metrics, verdicts and breaches."""
    if not 0.0 <= threshold <= 1.0 or math.isnan(threshold):
        raise ValidationError(f"the decision threshold must be in [0, 1], got {threshold}")
    step = window_length(window)
    if model_version is not None:
        if "model_version" not in predictions.columns:
            raise ValidationError("the predictions have no model_version column")
        predictions = predictions.filter(predictions.model_version == model_version)
    model_criteria = [c for c in criteria if c.kind is CriterionKind.MODEL]
    constraints = tuple(dict.fromkeys(c for c in map(_constraint, model_criteria) if c is not None))
    task = charter.task
    if task is Task.BINARY:
        engine.check_binary_labels(outcomes)
    outputs = [c for c in ("score", "prediction") if c in predictions.columns]
    decisions = "prediction" in outputs and _numeric(predictions.prediction)
    points = operating.points_of(model_criteria if task is Task.BINARY else [], decisions)
    joined = engine.joined(predictions.select("time", "entity_id", *outputs), outcomes)
    if points.capacities:
        engine.require_score(joined)
    joined = capacity.with_selection(joined, points.capacities)
    marks = [c for c in joined.columns if c.startswith(("_sel", "_period"))]
    # The join is the costly part: computed once into a temporary table the passes share.
    columns = engine.windowed(joined, window).select("_window", *outputs, "label", "_delay", *marks)
    with columns.cache() as data:
        sums = engine.totals(data, window, task.value, threshold, points.engine)
        ranking = _ranking(data, window, constraints, sums) if task is Task.BINARY else {}
        confusions = engine.confusion(data, window) if task is Task.MULTICLASS else {}
        periods = [
            {"point": f"top {top} per {per}", "top": top, "per": per,
             "periods": operating.capacity_periods(capacity.periods(data, j, per))}
            for j, (top, per) in enumerate(points.capacities)
        ]  # fmt: skip
    windows = []
    for row in sums:
        start = _utc(row["_window"])
        metrics, extra = _metrics(
            task, row, ranking.get(row["_window"]), confusions.get(row["_window"])
        )
        at_points = _at_points(points, row, bool(metrics))
        if at_points:
            extra["operating_points"] = [
                {"point": point.describe(), "confusion": counts, "metrics": at_points[point]}
                for point, counts in zip(points.declared, row["points"], strict=True)
            ]
        best = ranking.get(row["_window"], {})
        verdicts = [
            _verdict(c, task, metrics, at_points, best, constraints, threshold)
            for c in model_criteria
        ]
        if task is Task.BINARY:
            extra["unscored"] = int(row.get("unscored") or 0)
        windows.append(
            {
                "start": start.isoformat(),
                "end": (start + step).isoformat(),
                "n": int(row["n"]),
                "labeled": int(row["labeled"] or 0),
                "label_coverage": (row["labeled"] or 0) / row["n"] if row["n"] else None,
                "label_delay_hours": _hours(row["delay_median_s"]),
                "label_delay_mean_hours": _hours(row["delay_mean_s"]),
                "metrics": metrics,
                **extra,
                "baseline": _baseline(charter, metrics),
                "verdicts": verdicts,
                "breaches": [v for v in verdicts if v["met"] is False],
            }
        )
    return {
        "slug": charter.slug,
        "task": task.value,
        "window": window,
        "threshold": threshold,
        "model_version": model_version,
        "windows": windows,
        "capacity": periods,
    }


def _numeric(column: ir.Value) -> bool:
    return bool(column.type().is_numeric() or column.type().is_boolean())


def _at_points(
    points: operating.Points, row: dict[str, Any], labeled: bool
) -> dict[OperatingPoint, dict[str, float | None]]:
    """The metrics at each declared operating point in one window (none before labels)."""
    if not labeled or not points.declared:
        return {}
    return {
        point: operating.metrics_at(counts)
        for point, counts in zip(points.declared, row["points"], strict=True)
    }


def _ranking(
    data: ir.Table,
    window: str,
    constraints: tuple[engine.Constraint, ...],
    sums: list[dict[str, Any]],
) -> dict[Any, dict[str, Any]]:
    """Ranking counts per window: on the score grid where a window has many labeled rows,
    then exactly again for a gridded window that may have 10,000 distinct scores or fewer and
    merged some, or whose AUC bound exceeds the tolerance (see mlpilot.engine.performance)."""
    grid = engine.gridded(sums)
    every = len(grid) == len(sums)
    ranked = engine.ranking(data, window, constraints, "all" if every else grid)
    loose = {w for w in grid if w in ranked and not _close_enough(ranked[w])}
    if loose:
        ranked |= engine.ranking(data, window, constraints, grid - loose)
    return ranked


def _close_enough(ranked: dict[str, Any]) -> bool:
    """A gridded window's result stands: it merged no scores, or it has more than 10,000
    distinct scores (each merged step holds two at least) within the AUC tolerance."""
    if not ranked["merged_steps"]:
        return True
    lower_bound = ranked["distinct_scores"] + ranked["merged_steps"]
    return lower_bound > engine.EXACT_DISTINCT and _auc_bound(ranked) <= engine.AUC_TOLERANCE


def _auc_bound(ranked: dict[str, Any] | None) -> float:
    """Half the share of (positive, negative) pairs in grid steps that merged scores."""
    if not ranked or not ranked["gridded"] or not ranked["pos"] or not ranked["neg"]:
        return 0.0
    return float(ranked["merged_pairs"]) / float(2 * ranked["pos"] * ranked["neg"])


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 3600


def _clean(value: float | None) -> float | None:
    """JSON has no NaN: an undefined metric (one class only, no labels) is null."""
    return None if value is None or math.isnan(value) else float(value)


def _metrics(
    task: Task,
    row: dict[str, Any],
    ranked: dict[str, Any] | None,
    confusion: dict[tuple[str, str], int] | None,
) -> tuple[dict[str, float | None], dict[str, Any]]:
    labeled = int(row["labeled"] or 0)
    extra: dict[str, Any] = {}
    values: dict[str, float] = {}
    if labeled == 0:  # no outcome has arrived yet: nothing to measure
        return {}, extra
    if task is Task.BINARY:
        counts = {k: int(row[k] or 0) for k in ("tp", "fp", "fn", "tn")}
        values |= threshold_metrics(**counts)
        # Rows without a usable score are in no sum, so in no denominator either.
        scored = int(row["scored_labeled"])
        values["log_loss"] = log_loss(row["log_loss_sum"] or 0.0, scored)
        values["brier"] = brier(row["brier_sum"] or 0.0, scored)
        pos, neg = (int(ranked["pos"]), int(ranked["neg"])) if ranked else (0, 0)
        ranks = ranked or {}
        values["roc_auc"] = ranks["auc_pairs2"] / (2 * pos * neg) if pos and neg else math.nan
        values["pr_auc"] = ranks["ap_sum"] / pos if pos else math.nan
        approximate = bool(ranks.get("gridded")) and bool(ranks.get("merged_steps"))
        extra["ranking"] = {
            "exact": not approximate,
            "score_bins": engine.SCORE_BINS if approximate else None,
            "roc_auc_error_bound": _auc_bound(ranked) if approximate else 0.0,
            "pr_auc_error_bound": ranks["ap_spread"] / pos if approximate and pos else 0.0,
        }
        bins = len(engine.CALIBRATION_EDGES) + 1
        extra["calibration"] = calibration(
            [row[f"cal_n{b}"] or 0 for b in range(bins)],
            [row[f"cal_p{b}"] or 0.0 for b in range(bins)],
            [row[f"cal_y{b}"] or 0.0 for b in range(bins)],
        )
        extra["confusion"] = counts
    elif task is Task.MULTICLASS:
        labels = sorted({label for pair in (confusion or {}) for label in pair})
        matrix = [[(confusion or {}).get((y, p), 0) for p in labels] for y in labels]
        values |= (
            multiclass_metrics(matrix) if labels else {"accuracy": math.nan, "macro_f1": math.nan}
        )
    elif task is Task.REGRESSION:
        values |= regression_metrics(
            labeled, row["abs_error_sum"] or 0.0, row["squared_error_sum"] or 0.0,
            row["ape_sum"] or 0.0, row["y_sum"] or 0.0,
            # A constant y has no spread, whatever its floating-point mean says.
            0.0 if row["y_min"] == row["y_max"] else row["y_ss"] or 0.0,
        )  # fmt: skip
    else:
        raise ValidationError(f"performance monitoring does not cover {task.value} models yet")
    return {name: _clean(value) for name, value in values.items()}, extra


def _constraint(criterion: Criterion) -> engine.Constraint | None:
    c = criterion.constraint
    if c is None or criterion.metric not in engine.CURVE_METRICS:
        return None
    if c.metric not in engine.CURVE_METRICS:
        return None
    return engine.Constraint(criterion.metric, c.metric, c.op.value, c.target)


def _verdict(
    criterion: Criterion,
    task: Task,
    metrics: dict[str, float | None],
    at_points: dict[OperatingPoint, dict[str, float | None]],
    best: dict[str, Any],
    constraints: tuple[engine.Constraint, ...],
    threshold: float,
) -> dict[str, Any]:
    """One criterion's verdict in one window, judged at its operating point."""
    name = _ALIASES.get(task, {}).get(criterion.metric, criterion.metric)
    observed, note, extra = operating.judge(criterion, name, metrics, at_points, threshold)
    if note is not None and note.startswith(f"{name} is not computed"):
        note = f"{name} is not computed for {task.value} models"
    verdict = criterion.verdict(observed, note) | extra
    if criterion.constraint is not None:
        if "constraint_observed" in extra:
            verdict["met"] = operating.constrained_met(
                criterion, observed, extra["constraint_observed"]
            )
        wanted = _constraint(criterion)
        afterwards = None
        if wanted is not None and best:
            afterwards = _clean(best.get(f"best{constraints.index(wanted)}"))
        verdict["achievable_afterwards"] = operating.hindsight(afterwards) if best else None
    return verdict


def _baseline(charter: Charter, metrics: dict[str, float | None]) -> dict[str, Any] | None:
    base = charter.baseline
    if base.value is None or base.metric is None:
        return None
    model = metrics.get(_ALIASES.get(charter.task, {}).get(base.metric, base.metric))
    if model is None:
        return None
    higher = CATALOGUE[base.metric].higher_is_better
    return {
        "metric": base.metric,
        "baseline": base.value,
        "model": model,
        "beats_baseline": model > base.value if higher else model < base.value,
    }
