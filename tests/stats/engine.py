"""Sufficient statistics computed from rows with numpy, the way the engine half computes them.

The stats half never sees rows; its tests do. These helpers play the engine: group by distinct
score, count, sum the documented per-row terms. Comparing ``mlpilot.stats`` on their output
with scikit-learn or scipy on the rows checks the whole contract between the two halves.
"""

from __future__ import annotations

import numpy as np

from mlpilot.stats.classification import LOG_LOSS_EPS, calibration_edges
from mlpilot.stats.regression import MAPE_EPS


def score_counts(scores, labels):
    """Distinct scores (ascending) and the positive and negative label counts at each."""
    scores, labels = np.asarray(scores, dtype=np.float64), np.asarray(labels)
    distinct, index = np.unique(scores, return_inverse=True)
    positives = np.bincount(index[labels == 1], minlength=distinct.size)
    negatives = np.bincount(index[labels == 0], minlength=distinct.size)
    return distinct, positives, negatives


def merge_score_counts(batches):
    """Sum per-batch (distinct, positives, negatives) over the union of their scores."""
    distinct = np.concatenate([batch[0] for batch in batches])
    union, index = np.unique(distinct, return_inverse=True)
    positives = np.bincount(
        index, weights=np.concatenate([batch[1] for batch in batches]), minlength=union.size
    )
    negatives = np.bincount(
        index, weights=np.concatenate([batch[2] for batch in batches]), minlength=union.size
    )
    return union, positives, negatives


def confusion_counts(labels, predicted):
    """(tp, fp, fn, tn) of binary labels and binary predictions."""
    y, yhat = np.asarray(labels) == 1, np.asarray(predicted) == 1
    return (
        int(np.sum(y & yhat)),
        int(np.sum(~y & yhat)),
        int(np.sum(y & ~yhat)),
        int(np.sum(~y & ~yhat)),
    )


def log_loss_terms(labels, probabilities):
    """Per-row log loss as the classification docstring tells the engine to compute it."""
    y, p = np.asarray(labels), np.asarray(probabilities, dtype=np.float64)
    eps = LOG_LOSS_EPS
    return np.where(
        y == 1, -np.log(np.clip(p, eps, 1 - eps)), -np.log(np.clip(1 - p, eps, 1 - eps))
    )


def brier_terms(labels, probabilities):
    """Per-row Brier term in scikit-learn's two-column form."""
    y, p = np.asarray(labels, dtype=np.float64), np.asarray(probabilities, dtype=np.float64)
    return ((y - p) ** 2 + ((1 - y) - (1 - p)) ** 2) / 2


def calibration_bin(probabilities, n_bins=10):
    """Bin index = number of inner edges strictly below p: what a SQL CASE on the edges does."""
    p = np.asarray(probabilities, dtype=np.float64)
    inner = calibration_edges(n_bins)[1:-1]
    return (p[:, None] > inner[None, :]).sum(axis=1)


def calibration_sums(labels, probabilities, n_bins=10):
    """Per bin: row count, sum of scores, sum of labels."""
    p = np.asarray(probabilities, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    index = calibration_bin(p, n_bins)
    return (
        np.bincount(index, minlength=n_bins),
        np.bincount(index, weights=p, minlength=n_bins),
        np.bincount(index, weights=y, minlength=n_bins),
    )


def confusion_matrix(labels, predicted, label_set=None):
    """K×K counts, rows true and columns predicted, over ``label_set`` (default: union seen)."""
    y, yhat = np.asarray(labels), np.asarray(predicted)
    classes = np.union1d(y, yhat) if label_set is None else np.asarray(label_set)
    k = classes.size
    cell = np.searchsorted(classes, y) * k + np.searchsorted(classes, yhat)
    return np.bincount(cell, minlength=k * k).reshape(k, k)


def regression_sums(y, yhat):
    """The six numbers of ``mlpilot.stats.regression`` for rows (y, ŷ)."""
    y, yhat = np.asarray(y, dtype=np.float64), np.asarray(yhat, dtype=np.float64)
    error = np.abs(y - yhat)
    mean = y.mean() if y.size else 0.0
    return (
        int(y.size),
        float(error.sum()),
        float(np.sum((y - yhat) ** 2)),
        float(np.sum(error / np.maximum(np.abs(y), MAPE_EPS))),
        float(y.sum()),
        float(np.sum((y - mean) ** 2)),
    )
