"""Offline evaluations: from rows (labels and scores), from metric values, from scikit-learn.

From rows, every catalogue metric of the task is measured with its posterior (see
:mod:`mlpilot.stats.posterior`) so that the probability of meeting any criterion — declared now
or later — can be read from the stored evaluation: the confusion counts for the metrics at an
operating point, the logit-scale location and spread for ROC AUC and PR AUC, and the i.i.d.
bootstrap replicates (seeded, float32, base64) for the others and for the dependence between
criteria. A model criterion is judged at its operating point: each declared threshold gets its
own metric keys (``recall at threshold 0.42``); a capacity (top k per period) gets its keys
(``precision at top 500 per week``) when the rows' times or the population scored per period are
given (:mod:`mlpilot.forecast.capacity_offline`); each prediction's decision is not evaluable
from an offline set of scores (the live monitor judges it). A case-control sample (class counts
fixed by design) is resampled within each class, and only when asked (``stratified``).
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
from mlpilot.domain.criteria import Criterion
from mlpilot.domain.metrics import AT_OPERATING_POINT, metric_spec
from mlpilot.errors import ValidationError
from mlpilot.forecast.capacity_offline import capacity_evidence
from mlpilot.stats import bootstrap as bs
from mlpilot.stats.confusion import confusion_posterior
from mlpilot.stats.posterior import LEVEL, Posterior, draws_posterior, ranking_posterior
from mlpilot.stats.ranking import ap_influence, auc_delong, score_counts
from mlpilot.store.evaluations import Evaluation

__all__ = ["decode", "from_rows", "from_values", "point_key"]

INTERVAL_KIND = "credible interval"
MAX_CELLS = 20_000_000  # replicates x rows: above it, fewer replicates (200 at least)
# Metrics whose value is a share of a count: their standard error from a value and n is binomial.
_SHARES = {"accuracy", "balanced_accuracy", "precision", "recall", "specificity", "f1"}


def point_key(metric: str, threshold: float) -> str:
    """The metric key of ``metric`` at a declared threshold, e.g. ``recall at threshold 0.42``."""
    return f"{metric} at threshold {threshold:g}"


def encode(values: NDArray[np.float64]) -> str:
    """Replicates as base64 float32 (4 bytes each; NaN kept)."""
    return base64.b64encode(np.asarray(values, dtype="<f4").tobytes()).decode("ascii")


def decode(text: str) -> NDArray[np.float64]:
    """The replicates :func:`encode` stored."""
    return np.frombuffer(base64.b64decode(text), dtype="<f4").astype(np.float64)


def _finite_or_none(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


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


def _counts(labels: NDArray[np.float64], scores: NDArray[Any], threshold: float) -> dict[str, int]:
    flagged = scores >= threshold
    tp = int((flagged & (labels == 1)).sum())
    fp = int(flagged.sum()) - tp
    fn = int(labels.sum()) - tp
    return {"tp": tp, "fp": fp, "fn": fn, "tn": int(labels.size) - tp - fp - fn}


def _thresholds(criteria: Sequence[Criterion]) -> list[float]:
    found = [
        c.operating_point.threshold for c in criteria
        if c.operating_point is not None and c.operating_point.threshold is not None
    ]  # fmt: skip
    return list(dict.fromkeys(found))


def _binary_evidence(
    labels: NDArray[np.float64],
    scores: NDArray[Any],
    threshold: float,
    criteria: Sequence[Criterion],
    stratified: bool,
) -> tuple[Any, dict[str, Posterior], dict[str, Any]]:
    """The replicate function, the posteriors that need no replicates, and the details."""
    names = list(bs.BINARY_METRICS)
    if scores.min() < 0 or scores.max() > 1:  # not probabilities: no proper scoring rules
        names = [n for n in names if n not in ("log_loss", "brier")]
    extra_points = [t for t in _thresholds(criteria) if t != threshold]
    posteriors: dict[str, Posterior] = {}
    point_counts = {}
    for t in (threshold, *extra_points):
        counts = _counts(labels, scores, t)
        point_counts[f"{t:g}"] = counts
        for metric in AT_OPERATING_POINT:
            key = metric if t == threshold else point_key(metric, t)
            posteriors[key] = confusion_posterior(counts, metric, stratified=stratified)
    pos, neg = score_counts(labels, scores)
    positives, negatives = float(pos.sum()), float(neg.sum())
    auc, auc_var = auc_delong(pos, neg)
    posteriors["roc_auc"] = ranking_posterior(
        "roc_auc", float(auc[0]), float(auc_var[0]), positives, negatives,
        method="DeLong variance on the logit scale",
    )  # fmt: skip
    ap, ap_var = ap_influence(pos, neg, stratified=stratified)
    posteriors["pr_auc"] = ranking_posterior(
        "pr_auc", float(ap[0]), float(ap_var[0]), positives, negatives,
        method="delta-method (influence function) variance on the logit scale",
    )  # fmt: skip

    def compute(idx: NDArray[Any]) -> bs.Metrics:
        weights = bs.index_weights(idx, labels.size)  # rows are sorted by score: no re-sort
        out = bs.weighted_binary_metrics(labels, scores, weights, threshold, names)
        for t in extra_points:
            at_t = bs.weighted_binary_metrics(labels, scores, weights, t, AT_OPERATING_POINT)
            out |= {point_key(m, t): v for m, v in at_t.items()}
        return out

    details: dict[str, Any] = {
        "threshold": threshold, "positives": int(positives), "negatives": int(negatives),
        "confusion": point_counts,
        "hindsight": _hindsight(labels, scores, criteria),
    }  # fmt: skip
    return compute, posteriors, details


def _hindsight(
    labels: NDArray[np.float64], scores: NDArray[Any], criteria: Sequence[Criterion]
) -> dict[str, Any]:
    """For each constrained criterion, the best value a threshold chosen afterwards reaches:
    shown, labelled, never the verdict."""
    found: dict[str, Any] = {}
    for c in criteria:
        if c.constraint is None or c.metric not in ("precision", "recall", "specificity"):
            continue
        if c.constraint.metric not in ("precision", "recall", "specificity"):
            continue
        value = bs.constrained_metric(
            labels, scores, c.metric, c.constraint.metric,
            partial(_holds, c.constraint.op.value, target=c.constraint.target),
        )[0]  # fmt: skip
        found[c.describe()] = {
            "value": _finite_or_none(float(value)),
            "label": "achievable at a threshold chosen afterwards",
        }
    return found


def _holds(op: str, values: NDArray[np.float64], target: float) -> NDArray[np.bool_]:
    from mlpilot.stats.posterior import holds

    return holds(op, values, target)


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
    stratified: bool = False,
    times: Sequence[Any] | NDArray[Any] | None = None,
    per_period: int | None = None,
) -> Evaluation:
    """Metrics of ``predicted`` against ``y`` with their posteriors and 95 % credible intervals.

    Binary: ``predicted`` is the score of class 1; multiclass: the predicted class;
    regression: the predicted value. Ranking tasks are not evaluated from rows. ``stratified``
    only for a case-control sample (class counts fixed by design): the bootstrap then resamples
    within each class, and precision, accuracy, F1 and lift refer to the sample's class shares.
    A capacity criterion (top k per period) is measured from the rows' ``times`` or from the
    population scored ``per_period`` (:mod:`mlpilot.forecast.capacity_offline`).
    """
    y_arr, p_arr = np.asarray(y), np.asarray(predicted)
    if y_arr.ndim != 1 or y_arr.shape != p_arr.shape or y_arr.size < 2:
        raise ValidationError(
            f"labels and predictions must be two columns of the same length (at least 2 rows), "
            f"got {y_arr.size} and {p_arr.size}"
        )
    if replicates < 100:
        raise ValidationError(f"replicates must be at least 100, got {replicates}")
    details: dict[str, Any] = {
        "seed": seed, "replicates_n": replicates, "level": LEVEL,
        "resampling": "stratified (case-control)" if stratified else "iid",
    }  # fmt: skip
    posteriors: dict[str, Posterior] = {}
    positives = negatives = None
    strata: NDArray[Any] | None
    if task is Task.BINARY:
        labels, scores = _binary(y_arr, p_arr)
        cap_values, cap_posteriors, cap_details = capacity_evidence(
            labels, scores, criteria, times=times, per_period=per_period, stratified=stratified
        )
        order = np.argsort(-scores, kind="stable")  # highest score first, once
        labels, scores = labels[order], scores[order]
        compute, posteriors, binary = _binary_evidence(
            labels, scores, threshold, criteria, stratified
        )
        posteriors |= cap_posteriors
        binary["confusion"] |= cap_details.pop("confusion", {})
        details |= binary | cap_details
        positives, negatives = binary["positives"], binary["negatives"]
        strata = labels
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
    if task is not Task.BINARY and (times is not None or per_period is not None):
        raise ValidationError("a capacity (--time-column, --per-period) applies to binary models")
    if stratified and strata is None:
        raise ValidationError("only a classifier's sample can be stratified (by its labels)")
    point: dict[str, float | None] = {
        k: float(v[0]) for k, v in compute(np.arange(y_arr.size)[None, :]).items()
    }
    if task is Task.BINARY:
        point |= cap_values
    # The main metrics' posteriors need no replicates: on a large set, fewer suffice.
    replicates = min(replicates, max(200, MAX_CELLS // y_arr.size))
    details["replicates_n"] = replicates
    reps = bs.bootstrap(
        compute, y_arr.size, strata=strata if stratified else None,
        replicates=replicates, seed=seed,
    )  # fmt: skip
    for key, values in reps.items():
        if key not in posteriors:
            posteriors[key] = draws_posterior(values, positives, negatives, int(y_arr.size))
    details["replicates"] = {k: encode(v) for k, v in reps.items()}
    details |= _summaries(posteriors)
    details["se"] = {
        k: _finite_or_none(float(np.nanstd(v))) if np.isfinite(v).any() else None
        for k, v in reps.items()
    }
    if task is Task.BINARY:  # capacity metrics have no replicates: the posterior's spread
        details["se"] |= {k: _spread(posteriors[k]) for k in cap_values}
    return Evaluation(
        name=name, at=at, source=source,
        metrics={k: None if v is None else _finite_or_none(v) for k, v in point.items()},
        train_size=train_size, n=int(y_arr.size), details=details,
    )  # fmt: skip


def _spread(posterior: Posterior) -> float | None:
    """A standard error for the learning curve: the 95 % interval's width / (2 × 1.96)."""
    low, high = posterior.interval(LEVEL) if posterior.sufficient else (None, None)
    return None if low is None or high is None else _finite_or_none((high - low) / 3.92)


def _summaries(posteriors: dict[str, Posterior]) -> dict[str, Any]:
    """The stored posteriors, their credible intervals and what kind of interval each is."""
    return {
        "posteriors": {k: p.to_json() for k, p in posteriors.items()},
        "intervals": {
            k: None if not p.sufficient else [_finite_or_none(x) for x in p.interval(LEVEL)]
            for k, p in posteriors.items()
        },
        "interval_kind": INTERVAL_KIND,
    }


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

    Recall, specificity and accuracy get their Beta posterior from the count the value is a
    share of (recall and specificity need ``positives``); ROC AUC a logit-scale posterior with
    the Hanley–McNeil variance and PR AUC one with the binomial variance over the positives
    (both need ``positives``). Precision, F1 and the other metrics need their rows: no posterior.
    """
    if n < 2:
        raise ValidationError(f"the sample size must be at least 2, got {n}")
    if positives is not None and not 0 < positives < n:
        raise ValidationError(f"positives must be between 1 and n - 1 ({n - 1}), got {positives}")
    clean: dict[str, float | None] = {}
    se: dict[str, float | None] = {}
    posteriors: dict[str, Posterior] = {}
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
        posteriors[spec.name] = _value_posterior(spec.name, float(value), n, positives)
    details = {"positives": positives, "se": se, "level": LEVEL} | _summaries(posteriors)
    return Evaluation(
        name=name, at=at, source=source, metrics=clean, train_size=train_size, n=n,
        details=details,
    )  # fmt: skip


def _value_posterior(metric: str, value: float, n: int, positives: int | None) -> Posterior:
    from mlpilot.stats.posterior import insufficient
    from mlpilot.stats.ranking import hanley_mcneil

    needs_positives = metric in ("recall", "specificity", "roc_auc", "pr_auc")
    if needs_positives and positives is None:
        return insufficient(f"{metric} from a value needs the number of positives (--positives)")
    pos = float(positives or 0)
    neg = n - pos
    if metric in ("recall", "specificity", "accuracy"):
        size = {"recall": pos, "specificity": neg}.get(metric, float(n))
        hit, miss = value * size, (1 - value) * size
        counts = {
            "recall": {"tp": hit, "fn": miss, "fp": 0.0, "tn": 0.0},
            "specificity": {"tn": hit, "fp": miss, "tp": 0.0, "fn": 0.0},
            "accuracy": {"tp": hit, "fp": miss, "fn": 0.0, "tn": 0.0},
        }[metric]
        return confusion_posterior(counts, metric)
    if metric == "roc_auc":
        variance = float(hanley_mcneil(value, pos, neg))
        return ranking_posterior(
            metric, value, variance, pos, neg, method="Hanley–McNeil variance on the logit scale"
        )
    if metric == "pr_auc":
        return ranking_posterior(
            metric, value, value * (1 - value) / pos, pos, neg,
            method="binomial variance over the positives on the logit scale",
        )  # fmt: skip
    return insufficient(
        f"{metric} from a value has no sampling distribution; give the predictions instead"
    )


def _value_se(metric: str, value: float, n: int, positives: int | None) -> float | None:
    """A standard error for the learning curve's weights (classes assumed balanced when the
    positives are not given)."""
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
