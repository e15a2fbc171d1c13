"""The engine half of model performance: predictions joined to their outcomes, per window.

Each prediction is matched to its entity's latest outcome (labels may arrive days later; a
later outcome for the same entity corrects an earlier one). A prediction counts in the window of
its own time. Two aggregates per window do all the work:

- totals: rows, labeled rows, label delays, confusion counts at the decision threshold, sums for
  log loss and Brier score, calibration bin counts, regression error sums;
- for scores, a group-by on (window, score) whose ordered cumulative sums give the exact ROC AUC
  (Mann–Whitney with ties counted one half), average precision (step-wise, as scikit-learn) and
  the best value of a metric under a constraint (e.g. recall at precision >= 0.5), evaluated at
  every distinct score as threshold.

A window with many labeled rows (more than ``GRID_ROWS``) groups its scores on a grid of
``SCORE_BINS`` equal steps instead: millions of groups become thousands. Each step also keeps
its lowest and highest score, so the steps that merged different scores are known exactly; a
step holding one score is as exact as before. Scores merged in a step count as tied, which
moves the ROC AUC by at most half the share of (positive, negative) pairs in merged steps — a
bound computed from the same counts and reported; average precision gets its own bound, and
constrained bests are evaluated at the grid thresholds. The monitor recomputes a window exactly
when the bound exceeds ``AUC_TOLERANCE``, or when it may have 10,000 distinct scores or fewer
(occupied steps plus merged steps, a lower bound of the distinct scores, is at most
``EXACT_DISTINCT``) and a step merged scores. The decision rests on exact counts only, so
every engine takes the same one.

A binary window's totals also hold the confusion counts at each declared operating point
(:class:`Point`): a threshold, the model's own decision, or a capacity whose selected rows
:mod:`mlpilot.engine.capacity` marked. Rows without a usable score (NULL or NaN) are left out of
every sum and counted as ``unscored``.

Nothing but these per-window numbers leaves the engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from mlpilot.engine.capacity import scored, selected
from mlpilot.engine.portable import as_int
from mlpilot.engine.windows import bucket_index, epoch_seconds, window_index, window_start
from mlpilot.errors import ValidationError

if TYPE_CHECKING:
    import ibis.expr.types as ir

EPS = float(np.finfo(np.float64).eps)
SCORE_BINS = 1 << 14
EXACT_DISTINCT = 10_000  # windows with at most this many distinct scores are always exact
GRID_ROWS = 15_000  # windows with more labeled rows go on the grid first
AUC_TOLERANCE = 1e-4
CALIBRATION_EDGES = tuple(float(e) for e in np.linspace(0.0, 1.0, 11)[1:-1])
CURVE_METRICS = ("precision", "recall", "specificity")


@dataclass(frozen=True)
class Point:
    """Where a binary model's decisions are counted: at a ``threshold`` (score >= value), at
    each prediction's own ``decision`` (its prediction column is 1), or at ``capacity`` number
    ``value`` (the rows :func:`mlpilot.engine.capacity.with_selection` selected)."""

    kind: Literal["threshold", "decision", "capacity"]
    value: float = 0.0


@dataclass(frozen=True)
class Constraint:
    """Evaluate ``metric`` at the best threshold where ``other op value`` holds."""

    metric: str
    other: str
    op: str
    value: float


def joined(predictions: ir.Table, outcomes: ir.Table) -> ir.Table:
    """Predictions with the latest label of their entity (NULL while none has arrived)."""
    latest = outcomes.group_by("entity_id").aggregate(
        label=outcomes.label.argmax(outcomes.time), label_time=outcomes.time.max()
    )
    both = predictions.left_join(latest, "entity_id")
    delay = epoch_seconds(both.label_time) - epoch_seconds(both.time)
    return both.mutate(_delay=delay)


def require_score(table: ir.Table) -> None:
    """A capacity ranks scores: the predictions must carry them."""
    if "score" not in table.columns:
        raise ValidationError("a capacity (--top K --per PERIOD) ranks scores: log a score column")


def check_binary_labels(outcomes: ir.Table) -> None:
    """Binary labels must be 0 or 1 (or booleans): one small aggregate over the outcomes."""
    label = outcomes.label
    if not (label.type().is_numeric() or label.type().is_boolean()):
        raise ValidationError(
            f"a binary model's labels must be 0 or 1; the stored labels are {label.type()}"
        )
    value = label.cast("float64")
    other = value.notnull() & (value != 0) & (value != 1)
    row = outcomes.aggregate(n=other.sum(), example=value.min(where=other)).to_pyarrow()
    found = row.to_pylist()[0]
    if found["n"]:
        raise ValidationError(
            f"a binary model's labels must be 0 or 1; {found['n']} outcome(s) hold other "
            f"values, e.g. {found['example']:g}"
        )


def _bucket(table: ir.Table, window: str) -> ir.Table:
    """``table`` with its rows' window starts as ``_window``; a table that has them already
    (see :func:`windowed`) is used as it is."""
    return table if "_window" in table.columns else windowed(table, window)


def windowed(table: ir.Table, window: str) -> ir.Table:
    """``table`` with ``_window``, the number of each row's window since the Unix epoch (see
    :func:`mlpilot.engine.windows.bucket`): computed once into a cached table, the later
    passes group on a small stored integer; results name windows by their start."""
    return table.mutate(_window=bucket_index(table, "time", window))


def _start(index: int, window: str) -> datetime:
    return window_start(index, window)


def _index(start: datetime, window: str) -> int:
    return window_index(start, window)


def totals(
    table: ir.Table, window: str, task: str, threshold: float, points: tuple[Point, ...] = ()
) -> list[dict[str, Any]]:
    """One row of sums per window (see the module docstring); a binary row's ``points`` holds
    the confusion counts at each of ``points``."""
    import ibis

    data = _bucket(table, window)
    has_label = data.label.notnull()
    metrics: dict[str, Any] = {
        "n": data.count(),
        "labeled": has_label.sum(),
        "delay_mean_s": data._delay.mean(),
        "delay_median_s": data._delay.quantile(0.5),
    }
    if task == "binary":
        if "score" not in data.columns:
            raise ValidationError("a binary model's performance needs a score column")
        metrics["unscored"] = as_int(~scored(data.score)).sum()
        rows = data.group_by("_window").aggregate(**metrics).order_by("_window")
        found = rows.to_pyarrow().to_pylist()
        return _started(_with_binary_sums(found, data, threshold, points), window)
    if task == "regression":
        if "prediction" not in data.columns:
            raise ValidationError("a regression model's performance needs a prediction column")
        data = data.mutate(
            _mean_y=_only(has_label, data.label.cast("float64")).mean().over(group_by="_window")
        )
        has_label = data.label.notnull()
        y = data.label.cast("float64")
        error = data.prediction.cast("float64") - y
        metrics = {
            "n": data.count(),
            "labeled": has_label.sum(),
            "delay_mean_s": data._delay.mean(),
            "delay_median_s": data._delay.quantile(0.5),
            "abs_error_sum": _only(has_label, error.abs()).sum(),
            "squared_error_sum": _only(has_label, error**2).sum(),
            "ape_sum": _only(has_label, error.abs() / ibis.greatest(y.abs(), EPS)).sum(),
            "y_sum": _only(has_label, y).sum(),
            "y_ss": _only(has_label, (y - data._mean_y) ** 2).sum(),
            "y_min": _only(has_label, y).min(),
            "y_max": _only(has_label, y).max(),
        }
    rows = data.group_by("_window").aggregate(**metrics).order_by("_window")
    return _started(rows.to_pyarrow().to_pylist(), window)


def _started(rows: list[dict[str, Any]], window: str) -> list[dict[str, Any]]:
    """Rows keyed by window number, keyed by the window's start instead."""
    return [row | {"_window": _start(row["_window"], window)} for row in rows]


def _with_binary_sums(
    rows: list[dict[str, Any]], data: ir.Table, threshold: float, points: tuple[Point, ...]
) -> list[dict[str, Any]]:
    """Add the binary sums to each window's row: confusion counts, log loss and Brier sums,
    calibration bins, the number of labeled rows with a score. One group-by on (window,
    calibration bin, label, predicted class at the threshold and at each point) of the labeled
    rows with a usable score computes them all: a few hundred groups with four sums, several
    times cheaper in DuckDB than fifty conditional sums per window."""
    import ibis

    labeled = data.filter(data.label.notnull() & scored(data.score))
    y = labeled.label.cast("float64")
    p = labeled.score.cast("float64")
    keys = {
        "_window": labeled._window,
        "_cal": sum((as_int(p > edge) for edge in CALIBRATION_EDGES), ibis.literal(0)),
        "_y": y,
        "_predicted": p >= threshold,
        **{f"_at{i}": _decided(labeled, point) for i, point in enumerate(points)},
    }
    sums = {
        "n": labeled.count(),
        "p_sum": p.sum(),
        "log_loss_sum": ibis.ifelse(y == 1, _neg_log(p), _neg_log(1 - p)).sum(),
        # scikit-learn's two-column form; equal to (p - y)^2 up to its rounding of 1 - p.
        "brier_sum": (((y - p) ** 2 + ((1 - y) - (1 - p)) ** 2) / 2).sum(),
    }
    groups = labeled.group_by(**keys).aggregate(**sums).to_pyarrow().to_pylist()
    # A group-by returns its groups in no set order; adding their float sums in one fixed order
    # makes the same data give the same last bit every time.
    ordered = ("_cal", "_y", "_predicted", *(f"_at{i}" for i in range(len(points))))
    groups.sort(key=lambda g: tuple((g[k] is None, g[k] or 0) for k in ordered))
    bins = len(CALIBRATION_EDGES) + 1
    by_window: dict[Any, dict[str, Any]] = {}
    for row in rows:
        zero: dict[str, float] = dict.fromkeys(("tp", "fp", "fn", "tn"), 0)
        zero |= {"log_loss_sum": 0.0, "brier_sum": 0.0, "scored_labeled": 0}
        for b in range(bins):
            zero |= {f"cal_n{b}": 0, f"cal_p{b}": 0.0, f"cal_y{b}": 0.0}
        at_points = [dict.fromkeys(("tp", "fp", "fn", "tn"), 0) for _ in points]
        by_window[row["_window"]] = row | zero | {"points": at_points}
    for group in groups:
        row = by_window[group["_window"]]
        if group["_predicted"] is None or group["_cal"] is None:  # no score: not counted
            continue
        n, positive = int(group["n"]), group["_y"] == 1
        row[_cell(group["_predicted"], positive)] += n
        row["scored_labeled"] += n
        for i, counts in enumerate(row["points"]):
            if group[f"_at{i}"] is not None:  # a decision that was not recorded: not counted
                counts[_cell(group[f"_at{i}"], positive)] += n
        row["log_loss_sum"] += group["log_loss_sum"] or 0.0
        row["brier_sum"] += group["brier_sum"] or 0.0
        b = int(group["_cal"])
        row[f"cal_n{b}"] += n
        row[f"cal_p{b}"] += group["p_sum"] or 0.0
        row[f"cal_y{b}"] += n * float(group["_y"])
    return list(by_window.values())


def _cell(predicted: bool, positive: bool) -> str:
    return ("tp" if positive else "fp") if predicted else ("fn" if positive else "tn")


def _decided(table: ir.Table, point: Point) -> ir.BooleanValue:
    """Whether each row is predicted positive at ``point``."""
    if point.kind == "threshold":
        return table.score.cast("float64") >= point.value
    if point.kind == "capacity":
        return table[selected(int(point.value))]
    return table.prediction.cast("float64") == 1


def _only(condition: ir.BooleanValue, value: ir.NumericValue) -> ir.FloatingValue:
    """``value`` where ``condition`` holds, else NULL, which aggregates skip. DuckDB runs this
    several times faster than an aggregate's FILTER clause (``where=``)."""
    import ibis

    return ibis.ifelse(condition, value.cast("float64"), ibis.null("float64"))


def _neg_log(p: ir.FloatingValue) -> ir.FloatingValue:
    import ibis

    return -(ibis.greatest(ibis.least(p, 1 - EPS), EPS).ln())


def gridded(rows: list[dict[str, Any]]) -> set[Any]:
    """The windows (``_window`` of :func:`totals` rows) whose scores go on the grid."""
    return {r["_window"] for r in rows if (r.get("labeled") or 0) > GRID_ROWS}


def ranking(
    table: ir.Table,
    window: str,
    constraints: tuple[Constraint, ...] = (),
    grid: set[Any] | frozenset[Any] | Literal["all"] = frozenset(),
) -> dict[Any, dict[str, Any]]:
    """ROC AUC and average precision ingredients per window, and constrained bests; exact but
    for the windows in ``grid``, whose scores are grouped on the score grid (module docstring).

    The engine counts positives and negatives per (window, score or grid step); ordered by
    score, the negatives strictly below a score give the Mann–Whitney count, and the positives
    and negatives at or above it are the confusion counts with that score as threshold — running
    sums over at most a few hundred thousand counts, which numpy does in milliseconds where
    ordered SQL windows cost seconds. ``grid="all"`` puts every window on the grid.
    """
    import ibis

    # A prediction without a usable score cannot be ranked (nor counted at the threshold).
    data = _bucket(table, window).filter(lambda t: t.label.notnull() & scored(t.score))
    score = data.score.cast("float64")
    if grid == "all":  # the usual case with many scores: no per-row window test
        score = (score * SCORE_BINS).floor() / SCORE_BINS
    elif grid:
        on_grid = data._window.isin(sorted(_index(w, window) for w in grid))
        score = ibis.ifelse(on_grid, (score * SCORE_BINS).floor() / SCORE_BINS, score)
    positive = data.label.cast("float64") == 1
    exact = data.score.cast("float64")
    counts = (
        data.mutate(_s=score)
        .group_by(["_window", "_s"])
        .aggregate(
            pos=as_int(positive).sum(),
            neg=as_int(~positive).sum(),
            merged=exact.min() < exact.max(),  # the step holds different scores
        )
        .to_pyarrow()
    )
    if counts.num_rows == 0:
        return {}
    order = np.lexsort((counts["_s"].to_numpy(), counts["_window"].to_numpy()))
    windows = counts["_window"].to_numpy()[order]
    starts = np.flatnonzero(np.r_[True, windows[1:] != windows[:-1]])
    per_window = _curves(
        counts["pos"].to_numpy()[order],
        counts["neg"].to_numpy()[order],
        counts["merged"].to_numpy()[order],
        starts,
        constraints,
    )
    result = {}
    for k, index in enumerate(windows[starts].tolist()):
        key = _start(index, window)
        row = {name: values[k] for name, values in per_window.items()}
        result[key] = {"_window": key, **row, "gridded": grid == "all" or key in grid}
    return result


def _curves(
    pos: np.ndarray,
    neg: np.ndarray,
    merged: np.ndarray,
    starts: np.ndarray,
    constraints: tuple[Constraint, ...],
) -> dict[str, list[Any]]:
    """Per window (rows from ``starts`` on, ascending score), the sums of the module docstring;
    ``merged`` marks the grid steps that hold different scores."""
    total_pos = np.add.reduceat(pos, starts)
    total_neg = np.add.reduceat(neg, starts)
    lengths = np.diff(np.r_[starts, len(pos)])

    def running(values: np.ndarray) -> np.ndarray:  # cumulative sums restarting per window
        cumulative = np.cumsum(values)
        before: np.ndarray = np.r_[0, cumulative[starts[1:] - 1]]
        restarted: np.ndarray = cumulative - np.repeat(before, lengths)
        return restarted

    pos_upto, neg_upto = running(pos), running(neg)
    tp = np.repeat(total_pos, lengths) - pos_upto + pos
    fp = np.repeat(total_neg, lengths) - neg_upto + neg
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = tp / (tp + fp)
        by_name = {
            "precision": precision,
            "recall": tp / np.repeat(total_pos, lengths),
            "specificity": (np.repeat(total_neg, lengths) - fp) / np.repeat(total_neg, lengths),
        }
        # Within a grid step the precision at each positive lies between these two (positives
        # after, or before, the step's negatives): the step's share of the AP error bound.
        low = (tp - pos + 1) / (tp - pos + fp + 1)
        high = tp / (tp + fp - neg)
    spread = np.where(merged & (pos > 0), pos * (high - low), 0.0)
    sums: dict[str, list[Any]] = {
        "pos": total_pos.tolist(),
        "neg": total_neg.tolist(),
        "distinct_scores": lengths.tolist(),
        # Negatives strictly below each score, plus half of those tied with it.
        "auc_pairs2": np.add.reduceat(pos * (2 * (neg_upto - neg) + neg), starts).tolist(),
        "merged_steps": np.add.reduceat(merged.astype(np.int64), starts).tolist(),
        "merged_pairs": np.add.reduceat(np.where(merged, pos * neg, 0), starts).tolist(),
        "ap_sum": np.add.reduceat(pos * precision, starts).tolist(),
        "ap_spread": np.add.reduceat(spread, starts).tolist(),
    }
    for k, c in enumerate(constraints):
        other = by_name[c.other]
        holds = {">=": other >= c.value, ">": other > c.value, "<=": other <= c.value,
                 "<": other < c.value}[c.op]  # fmt: skip
        value = by_name[c.metric]
        best = np.maximum.reduceat(np.where(holds & ~np.isnan(value), value, -np.inf), starts)
        sums[f"best{k}"] = [None if b == -np.inf else float(b) for b in best]
    return sums


def confusion(table: ir.Table, window: str) -> dict[Any, dict[tuple[str, str], int]]:
    """Multiclass: counts per (window, true label, predicted label), labeled rows only."""
    data = _bucket(table, window).filter(lambda t: t.label.notnull())
    counted = data.group_by(
        [
            data._window,
            data.label.cast("string").name("y"),
            data.prediction.cast("string").name("p"),
        ]
    ).aggregate(n=data.count())
    result: dict[Any, dict[tuple[str, str], int]] = {}
    for row in counted.to_pyarrow().to_pylist():
        start = _start(row["_window"], window)
        result.setdefault(start, {})[(row["y"], row["p"])] = int(row["n"])
    return result
