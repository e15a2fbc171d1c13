"""Classification metrics from counts, equal to scikit-learn on the rows the counts came from.

The engine never ships rows. ROC AUC and average precision are exact functions of the numbers of
positive and negative labels at each distinct score, in ascending score order; the shipped engine
(``mlpilot.engine.performance.ranking``) evaluates them in the database with window sums over those
per-score counts, and :func:`roc_auc` / :func:`average_precision` compute the same from the count
vectors, for an engine that returns the vectors instead (and to check the in-database form in the
tests). Thresholded metrics need the four confusion counts, proper scoring rules need one sum each,
and the calibration curve needs three sums per bin. Each docstring states the per-row term the
engine must sum so that the result equals ``sklearn.metrics`` (1.9) on the same rows.

Where a metric is undefined — scikit-learn raises, warns, or substitutes its ``zero_division``
value (one class only, no rows, no positive prediction) — these functions return NaN, so that a
monitor shows the window as "undefined" with a note and never counts it as met or breached.

**Quantised scores.** The shipped engine does not quantise: it is exact for any number of distinct
scores. An engine that rounds scores to a grid before grouping (to bound the size of its summary)
stays within a provable distance of the exact AUC. Rounding is monotone, so a positive–negative
pair in two different grid cells keeps its order; only pairs that share a cell change, from "won"
(1), "lost" (0) or "tied" (½) to "tied" (½). Each such pair moves the Mann–Whitney sum by at most
½, hence::

    |AUC(exact scores) - AUC(quantised scores)| <= auc_tie_share(quantised counts) / 2

and ``auc_tie_share`` = Σ_c pos_c · neg_c / (P · N) is computed from the same quantised counts, so
the monitor can report the bound it achieved. It is also at most max_c pos_c / P: a grid whose
cells each hold at most 2e-4 of the positives (10,000 cells at the quantiles of the positive scores
hold 1e-4 each, barring ties already in the data) keeps the AUC within 1e-4 of the exact value,
whatever the negatives do. A uniform grid gives no such guarantee when scores crowd into a few
cells, which is why the bound should be reported rather than assumed. The bound is for AUC only:
average precision of quantised scores has no comparable guarantee.
"""

from __future__ import annotations

import math
from typing import TypedDict

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "LOG_LOSS_EPS",
    "CalibrationBin",
    "auc_tie_share",
    "average_precision",
    "brier",
    "calibration",
    "calibration_edges",
    "lift",
    "log_loss",
    "multiclass_metrics",
    "roc_auc",
    "threshold_metrics",
]

LOG_LOSS_EPS = float(np.finfo(np.float64).eps)  # sklearn clips probabilities to [eps, 1 - eps]


def _counts(values: ArrayLike, name: str) -> NDArray[np.float64]:
    """A 1-D vector of finite, non-negative counts (float, so that weighted counts work too)."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a 1-D vector of counts, got shape {array.shape}")
    if not np.isfinite(array).all() or (array < 0).any():
        raise ValueError(f"{name} must hold finite, non-negative counts")
    return array


def _score_counts(
    positives: ArrayLike, negatives: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    pos, neg = _counts(positives, "positives"), _counts(negatives, "negatives")
    if pos.shape != neg.shape:
        raise ValueError(
            f"positives and negatives must count the same distinct scores, "
            f"got {pos.size} and {neg.size}"
        )
    return pos, neg


def roc_auc(positives: ArrayLike, negatives: ArrayLike) -> float:
    """Area under the ROC curve from label counts per distinct score (ascending score order).

    The Mann–Whitney form: the share of positive–negative pairs in which the positive scores
    higher, a tie counting one half. This is exactly the trapezoid over the ROC points that
    ``sklearn.metrics.roc_auc_score`` integrates. NaN when either class is absent (scikit-learn
    1.9 also returns NaN there, with an ``UndefinedMetricWarning``; older versions raised).
    """
    pos, neg = _score_counts(positives, negatives)
    n_pos, n_neg = pos.sum(), neg.sum()
    if n_pos == 0 or n_neg == 0:
        return math.nan
    negatives_below = np.cumsum(neg) - neg
    # Twice the Mann–Whitney U: an integer for integer counts, exact in float64 below 2**53.
    twice_u = np.sum(pos * (2 * negatives_below + neg))
    return float(twice_u / (2 * n_pos * n_neg))


def auc_tie_share(positives: ArrayLike, negatives: ArrayLike) -> float:
    """Share of positive–negative pairs tied at the same score: Σ pos·neg / (P·N).

    Half of it bounds how far the AUC of quantised scores can be from the AUC of the exact
    scores (see the module docstring). NaN when either class is absent.
    """
    pos, neg = _score_counts(positives, negatives)
    n_pos, n_neg = pos.sum(), neg.sum()
    if n_pos == 0 or n_neg == 0:
        return math.nan
    return float(np.sum(pos * neg) / (n_pos * n_neg))


def average_precision(positives: ArrayLike, negatives: ArrayLike) -> float:
    """Average precision from label counts per distinct score (ascending score order).

    As ``sklearn.metrics.average_precision_score``: thresholds at each distinct score from the
    highest down, AP = Σ (R_k - R_{k-1}) · P_k, a step function without interpolation. Only
    thresholds that add positives change the recall, so AP = Σ_k pos_k / P · TP_k / (TP_k + FP_k).
    NaN without positives (scikit-learn returns 0.0 there, with a warning).
    """
    pos, neg = _score_counts(positives, negatives)
    pos_desc, neg_desc = pos[::-1], neg[::-1]
    true_pos, false_pos = np.cumsum(pos_desc), np.cumsum(neg_desc)
    n_pos = true_pos[-1] if pos.size else 0.0
    if n_pos == 0:
        return math.nan
    adds = pos_desc > 0
    precision = true_pos[adds] / (true_pos[adds] + false_pos[adds])
    return float(np.sum(pos_desc[adds] / n_pos * precision))


def _ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator, or NaN (undefined) when the denominator is 0. scikit-learn's
    ``zero_division=0`` would say 0.0: a window without positives would then fail a recall
    criterion it was never tested on."""
    return numerator / denominator if denominator > 0 else math.nan


def threshold_metrics(tp: int, fp: int, fn: int, tn: int) -> dict[str, float]:
    """Precision, recall, F1, accuracy and specificity from the confusion counts at a threshold.

    As scikit-learn with ``zero_division=np.nan``: a ratio whose denominator is 0 is NaN —
    recall without positives, precision without a positive prediction, specificity without
    negatives, F1 without either (specificity is ``recall_score(..., pos_label=0)``). Accuracy
    is NaN without rows, where scikit-learn raises.
    """
    counts = {"tp": tp, "fp": fp, "fn": fn, "tn": tn}
    for name, value in counts.items():
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be a finite, non-negative count, got {value!r}")
    total = tp + fp + fn + tn
    return {
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, tp + fn),
        # 2·TP / (2·TP + FP + FN): sklearn's own form, equal to 2PR / (P + R) with its zeros.
        "f1": _ratio(2 * tp, 2 * tp + fp + fn),
        "accuracy": (tp + tn) / total if total > 0 else math.nan,
        "specificity": _ratio(tn, tn + fp),
    }


def lift(tp: int, fp: int, fn: int, tn: int) -> float:
    """Precision over the share of positives: how many times the base rate the acted-on rows
    hold. NaN when nothing is predicted positive or no row is positive."""
    total = tp + fp + fn + tn
    precision, prevalence = _ratio(tp, tp + fp), _ratio(tp + fn, total)
    if math.isnan(precision) or math.isnan(prevalence) or prevalence == 0:
        return math.nan
    return precision / prevalence


def log_loss(sum_log_loss: float, n: int) -> float:
    """Mean log loss from the engine's sum of per-row losses; NaN without rows.

    To equal ``sklearn.metrics.log_loss(y, p)`` (y in {0, 1}, p the probability of 1), the
    engine sums, in float64::

        y = 1:  -ln(min(max(p,     eps), 1 - eps))
        y = 0:  -ln(min(max(1 - p, eps), 1 - eps))

    with eps = ``np.finfo(np.float64).eps`` = 2.220446049250313e-16 (scikit-learn 1.9 clips the
    two-column probabilities [1 - p, p] to [eps, 1 - eps], eps of the input's float dtype).
    For float64 p in [0, 1], clipping 1 - p and taking 1 - clip(p) give the same value, so
    ``-ln(1 - min(max(p, eps), 1 - eps))`` is an equivalent form for y = 0.
    """
    if n < 0:
        raise ValueError(f"n must be a non-negative row count, got {n}")
    return float(sum_log_loss) / n if n > 0 else math.nan


def brier(sum_squared_error: float, n: int) -> float:
    """Mean Brier score from the engine's sum of per-row squared errors; NaN without rows.

    ``sklearn.metrics.brier_score_loss(y, p)`` (1.9, binary) is the mean over rows of
    ``((y - p)**2 + ((1 - y) - (1 - p))**2) / 2`` — it scores the two columns [1 - p, p] and
    halves. Mathematically that is ``(y - p)**2``, and for y = 1 the two agree exactly in float64;
    for y = 0 scikit-learn's rounding of 1 - p changes the row by up to about 1.1e-16 · p. That
    is invisible unless nearly every row is a tiny p with y = 0, but an engine that wants to
    match to the last digits sums scikit-learn's two-column form.
    """
    if n < 0:
        raise ValueError(f"n must be a non-negative row count, got {n}")
    return float(sum_squared_error) / n if n > 0 else math.nan


class CalibrationBin(TypedDict):
    """One bin of a reliability diagram; the means are None when the bin is empty."""

    count: float
    mean_score: float | None
    observed_rate: float | None


def calibration_edges(n_bins: int = 10) -> NDArray[np.float64]:
    """The bin edges of ``calibration_curve(strategy="uniform")``: ``np.linspace(0, 1, n + 1)``.

    The engine must compare scores with these float64 values exactly (0.30000000000000004,
    0.6000000000000001, 0.7000000000000001 for ten bins), not compute ``floor(p * n)``. A score
    p falls in bin i = number of inner edges strictly below p (``np.searchsorted(edges[1:-1],
    p)``): bins are [0, e1], (e1, e2], …, (e_{n-1}, 1], so a score on an edge goes to the lower
    bin, 0.0 to the first bin and 1.0 to the last. ``floor(10 * p)`` puts 0.1 in the second bin
    and 0.7 in the eighth; scikit-learn puts them in the first and the seventh.
    """
    if n_bins < 1:
        raise ValueError(f"n_bins must be at least 1, got {n_bins}")
    return np.linspace(0.0, 1.0, n_bins + 1)


def calibration(
    counts: ArrayLike, sum_scores: ArrayLike, sum_labels: ArrayLike
) -> list[CalibrationBin]:
    """Per bin: row count, mean score and observed positive rate (None for an empty bin).

    The engine bins scores on :func:`calibration_edges` and sums, per bin, 1, p and y (in
    {0, 1}). The non-empty bins then match ``sklearn.calibration.calibration_curve(y, p,
    n_bins=len(counts), strategy="uniform")``: ``mean_score`` is its ``prob_pred`` and
    ``observed_rate`` its ``prob_true``. Empty bins are kept (scikit-learn drops them) so that
    bin i is always the same score range.
    """
    n = _counts(counts, "counts")
    scores = np.asarray(sum_scores, dtype=np.float64)
    labels = np.asarray(sum_labels, dtype=np.float64)
    if scores.shape != n.shape or labels.shape != n.shape:
        raise ValueError(
            f"counts, sum_scores and sum_labels must have one entry per bin, "
            f"got {n.size}, {scores.size} and {labels.size}"
        )
    return [
        CalibrationBin(
            count=float(count),
            mean_score=float(score / count) if count > 0 else None,
            observed_rate=float(label / count) if count > 0 else None,
        )
        for count, score, label in zip(n, scores, labels, strict=True)
    ]


def multiclass_metrics(confusion: ArrayLike) -> dict[str, float]:
    """Accuracy and macro F1 from a K×K confusion matrix (rows true class, columns predicted).

    As ``accuracy_score`` and ``f1_score(average="macro", zero_division=0)``, whose labels are
    the union of those seen in y_true or y_pred: a class whose row and column are both empty
    is dropped before averaging, so the engine may pass a fixed label set. Per class,
    F1 = 2·TP / (2·TP + FP + FN). Both NaN without rows (scikit-learn raises).
    """
    matrix = np.asarray(confusion, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"confusion must be a square K×K matrix, got shape {matrix.shape}")
    if not np.isfinite(matrix).all() or (matrix < 0).any():
        raise ValueError("confusion must hold finite, non-negative counts")
    total = matrix.sum()
    if total == 0:
        return {"accuracy": math.nan, "macro_f1": math.nan}
    true_pos = np.diag(matrix)
    per_true, per_predicted = matrix.sum(axis=1), matrix.sum(axis=0)
    seen = (per_true + per_predicted) > 0
    f1 = 2 * true_pos[seen] / (per_true[seen] + per_predicted[seen])
    return {"accuracy": float(true_pos.sum() / total), "macro_f1": float(np.mean(f1))}
