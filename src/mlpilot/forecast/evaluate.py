"""Offline evaluations: from rows (labels and scores), from metric values, from scikit-learn.

From rows, every catalogue metric of the task is computed with a stratified bootstrap (seeded);
the replicates are kept (float32, base64) so that the probability of meeting any criterion —
declared now or later — can be read from them. A model criterion with a constraint (``recall >=
0.6 at precision >= 0.5``) gets its own metric key, the best value over thresholds where the
constraint holds, as the model monitor evaluates it.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Sequence
from datetime import datetime
from functools import partial
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mlpilot.domain.charter import Task
from mlpilot.domain.criteria import Comparator, Criterion
from mlpilot.domain.metrics import metric_spec
from mlpilot.errors import ValidationError
from mlpilot.stats import bootstrap as bs
from mlpilot.store.evaluations import Evaluation

__all__ = ["constrained_key", "decode", "from_rows", "from_values"]

LEVEL = 0.95
# Metrics whose value is a share of a count: their interval from a value and n is binomial.
_SHARES = {"accuracy", "balanced_accuracy", "precision", "recall", "specificity", "f1"}


def constrained_key(criterion: Criterion) -> str | None:
    """The metric key of a constrained criterion, e.g. ``recall at precision>=0.5``."""
    c = criterion.constraint
    return None if c is None else f"{criterion.metric} at {c.metric}{c.op.value}{c.target:g}"


def encode(values: NDArray[np.float64]) -> str:
    """Replicates as base64 float32 (4 bytes each; NaN kept)."""
    return base64.b64encode(np.asarray(values, dtype="<f4").tobytes()).decode("ascii")


def decode(text: str) -> NDArray[np.float64]:
    """The replicates :func:`encode` stored."""
    return np.frombuffer(base64.b64decode(text), dtype="<f4").astype(np.float64)


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _binary(y: NDArray[Any], score: NDArray[Any]) -> tuple[NDArray[np.float64], NDArray[Any]]:
    labels = np.asarray(y, dtype=np.float64)
    if not np.isin(labels, (0.0, 1.0)).all():
        raise ValidationError("a binary model's labels must be 0 or 1")
    if labels.min() == labels.max():
        raise ValidationError("the evaluation set holds one class only; it needs both 0 and 1")
    scores = np.asarray(score, dtype=np.float64)
    if not np.isfinite(scores).all():
        raise ValidationError("the scores must be finite numbers")
    return labels, scores


def from_rows(
    task: Task,
    y: Sequence[Any] | NDArray[Any],
    predicted: Sequence[Any] | NDArray[Any],
    *,
    name: str,
    at: datetime,
    source: str,
    criteria: Sequence[Criterion] = (),
    train_size: int | None = None,
    threshold: float = 0.5,
    replicates: int = 1000,
    seed: int | None = 0,
) -> Evaluation:
    """Metrics of ``predicted`` against ``y`` with bootstrap replicates and 95 % intervals.

    Binary: ``predicted`` is the score of class 1; multiclass: the predicted class;
    regression: the predicted value. Ranking tasks are not evaluated from rows.
    """
    y_arr, p_arr = np.asarray(y), np.asarray(predicted)
    if y_arr.ndim != 1 or y_arr.shape != p_arr.shape or y_arr.size < 2:
        raise ValidationError(
            f"labels and predictions must be two columns of the same length (at least 2 rows), "
            f"got {y_arr.size} and {p_arr.size}"
        )
    if replicates < 100:
        raise ValidationError(f"replicates must be at least 100, got {replicates}")
    details: dict[str, Any] = {"seed": seed, "replicates_n": replicates, "level": LEVEL}
    if task is Task.BINARY:
        labels, scores = _binary(y_arr, p_arr)
        names = list(bs.BINARY_METRICS)
        if scores.min() < 0 or scores.max() > 1:  # not probabilities: no proper scoring rules
            names = [n for n in names if n not in ("log_loss", "brier")]
        keyed = [(constrained_key(c), c) for c in criteria if c.constraint is not None]

        def compute(idx: NDArray[Any]) -> bs.Metrics:
            yy, pp = labels[idx], scores[idx]
            curve = bs.sorted_curve(yy, pp)  # one sort for AUC, PR AUC and the constraints
            out = bs.binary_metrics(yy, pp, threshold, names, curve)
            for key, c in keyed:
                assert c.constraint is not None
                assert key is not None
                op, target = c.constraint.op, c.constraint.target
                out[key] = bs.constrained_metric(
                    yy,
                    pp,
                    c.metric,
                    c.constraint.metric,
                    partial(_holds, op, target=target),
                    curve,
                )
            return out

        strata: NDArray[Any] | None = labels
        details |= {"threshold": threshold, "positives": int(labels.sum())}
        details["negatives"] = int(labels.size - labels.sum())
    elif task is Task.MULTICLASS:
        classes, codes = np.unique(
            np.concatenate([y_arr.astype(str), p_arr.astype(str)]), return_inverse=True
        )
        truth, guess = codes[: y_arr.size], codes[y_arr.size :]
        details["classes"] = [str(c) for c in classes]

        def compute(idx: NDArray[Any]) -> bs.Metrics:
            return bs.multiclass_rows(truth[idx], guess[idx])

        strata = truth
    elif task is Task.REGRESSION:
        try:
            truth_f, guess_f = y_arr.astype(np.float64), p_arr.astype(np.float64)
        except ValueError:
            raise ValidationError(
                "a regression evaluation needs numeric labels and predictions"
            ) from None

        def compute(idx: NDArray[Any]) -> bs.Metrics:
            return bs.regression_rows(truth_f[idx], guess_f[idx])

        strata = None
    else:
        raise ValidationError(
            f"a {task.value} model is evaluated from metric values, not rows; use --metric"
        )
    point = {k: float(v[0]) for k, v in compute(np.arange(y_arr.size)[None, :]).items()}
    reps = bs.bootstrap(compute, y_arr.size, strata, replicates, seed)
    details["replicates"] = {k: encode(v) for k, v in reps.items()}
    details["intervals"] = {
        k: [_finite_or_none(x) for x in bs.percentile_interval(v, LEVEL)] for k, v in reps.items()
    }
    details["se"] = {k: _finite_or_none(float(np.nanstd(v))) for k, v in reps.items()}
    return Evaluation(
        name=name, at=at, source=source, metrics={k: _finite_or_none(v) for k, v in point.items()},
        train_size=train_size, n=int(y_arr.size), details=details,
    )  # fmt: skip


def _holds(op: Comparator, values: NDArray[np.float64], *, target: float) -> NDArray[np.bool_]:
    return {
        Comparator.GE: values >= target,
        Comparator.GT: values > target,
        Comparator.LE: values <= target,
        Comparator.LT: values < target,
    }[op]


def from_values(
    metrics: dict[str, float],
    *,
    n: int,
    name: str,
    at: datetime,
    source: str = "values",
    positives: int | None = None,
    train_size: int | None = None,
) -> Evaluation:
    """An evaluation from metric values measured on ``n`` rows (``positives`` of class 1).

    Shares get a normal (Wald) interval on their count — recall on the positives, specificity on
    the negatives, the rest on ``n``; ROC AUC the Hanley–McNeil interval; other metrics none.
    """
    if n < 2:
        raise ValidationError(f"the sample size must be at least 2, got {n}")
    if positives is not None and not 0 < positives < n:
        raise ValidationError(f"positives must be between 1 and n - 1 ({n - 1}), got {positives}")
    clean: dict[str, float | None] = {}
    se: dict[str, float | None] = {}
    for key, value in metrics.items():
        spec = metric_spec(key)
        if (
            not math.isfinite(value)
            or (spec.lower is not None and value < spec.lower)
            or (spec.upper is not None and value > spec.upper)
        ):
            raise ValidationError(f"{spec.name} = {value:g} is outside the range of the metric")
        clean[spec.name] = float(value)
        se[spec.name] = _value_se(spec.name, float(value), n, positives)
    intervals = {
        k: None if s is None else [clean[k] - 1.959964 * s, clean[k] + 1.959964 * s]  # type: ignore[operator]
        for k, s in se.items()
    }
    return Evaluation(
        name=name, at=at, source=source, metrics=clean, train_size=train_size, n=n,
        details={"positives": positives, "se": se, "intervals": intervals, "level": LEVEL},
    )  # fmt: skip


def _value_se(metric: str, value: float, n: int, positives: int | None) -> float | None:
    pos = positives if positives is not None else n / 2
    neg = n - pos
    if metric in _SHARES:
        count = {"recall": pos, "specificity": neg}.get(metric, n)
        return math.sqrt(max(value * (1 - value), 0.25 / count) / count)
    if metric == "roc_auc":  # Hanley & McNeil (1982)
        q1, q2 = value / (2 - value), 2 * value**2 / (1 + value)
        variance = value * (1 - value) + (pos - 1) * (q1 - value**2) + (neg - 1) * (q2 - value**2)
        return math.sqrt(max(variance, 1e-12) / (pos * neg))
    return None
