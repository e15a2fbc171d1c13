"""ROC AUC and average precision with their sampling variances, from label counts per score.

Everything here works on the *score counts*: for each distinct score in ascending order, how many
positive and how many negative labels carry it (``pos``, ``neg``; a 2-D array holds one evaluation
per row, so simulations are vectorised). Rows reduce to these counts with one sort
(:func:`score_counts`); an engine can return them directly. Ties count one half, as in
scikit-learn.

- :func:`auc_delong`: the Mann–Whitney AUC and the DeLong, DeLong & Clarke-Pearson (1988)
  variance, from the placement values of each positive (share of negatives below it) and each
  negative (share of positives above it), with the unbiased (n - 1) variances.
- :func:`ap_influence`: average precision as ``average_precision_score`` computes it, and its
  delta-method (influence-function) variance: AP is a smooth functional of the two empirical
  score distributions and the share of positives, so its variance is the mean squared influence
  of one row over n. With ``stratified`` (a case-control sample, class counts fixed by design)
  the influence is centred within each class.
- :func:`hanley_mcneil`: the Hanley & McNeil (1982) variance of an AUC from its value and the
  class counts alone, for evidence that carries no placements (a metric value, a monitor window).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["ap_influence", "auc_delong", "hanley_mcneil", "score_counts"]

Floats = NDArray[np.float64]


def score_counts(y: ArrayLike, p: ArrayLike) -> tuple[Floats, Floats]:
    """Positive and negative label counts per distinct score of ``p``, ascending."""
    labels = np.asarray(y, dtype=np.float64)
    _, inverse = np.unique(np.asarray(p, dtype=np.float64), return_inverse=True)
    pos = np.bincount(inverse, weights=labels).astype(np.float64)
    neg = np.bincount(inverse, weights=1.0 - labels).astype(np.float64)
    return pos, neg


def _safe(denominator: Floats) -> Floats:
    return np.where(denominator > 0, denominator, 1.0)


def auc_delong(positives: ArrayLike, negatives: ArrayLike) -> tuple[Floats, Floats]:
    """ROC AUC and its DeLong variance per row of the score counts (NaN without both classes;
    the variance needs at least two of each)."""
    pos = np.atleast_2d(np.asarray(positives, dtype=np.float64))
    neg = np.atleast_2d(np.asarray(negatives, dtype=np.float64))
    n_pos, n_neg = pos.sum(axis=1, keepdims=True), neg.sum(axis=1, keepdims=True)
    below = np.cumsum(neg, axis=1) - neg
    above = n_pos - np.cumsum(pos, axis=1)
    v10 = (below + 0.5 * neg) / _safe(n_neg)  # each positive: share of negatives it beats
    v01 = (above + 0.5 * pos) / _safe(n_pos)  # each negative: share of positives that beat it
    auc = (pos * v10).sum(axis=1, keepdims=True) / _safe(n_pos)
    s10 = (pos * (v10 - auc) ** 2).sum(axis=1, keepdims=True) / _safe(n_pos - 1)
    s01 = (neg * (v01 - auc) ** 2).sum(axis=1, keepdims=True) / _safe(n_neg - 1)
    variance = s10 / _safe(n_pos) + s01 / _safe(n_neg)
    defined = (n_pos > 0) & (n_neg > 0)
    enough = (n_pos > 1) & (n_neg > 1)
    return (
        np.where(defined, auc, np.nan)[:, 0],
        np.where(enough, variance, np.nan)[:, 0],
    )


def ap_influence(
    positives: ArrayLike, negatives: ArrayLike, *, stratified: bool = False
) -> tuple[Floats, Floats]:
    """Average precision and its delta-method variance per row of the score counts.

    With G1(s), G0(s) the shares of all n rows that are positive (negative) and score at least s,
    h = G1 / (G1 + G0) the precision there and p the share of positives, AP = E[y h(s)] / p.
    One row (y', s') moves it by IF = (y' h(s') - Ψ + y'·a(s') - (1 - y')·b(s') - AP (y' - p)) / p
    where a, b sum G0 / G² and G1 / G² over the positives scoring at most s'. Var = mean IF² / n.
    NaN without positives.
    """
    pos = np.atleast_2d(np.asarray(positives, dtype=np.float64))[:, ::-1]  # descending scores
    neg = np.atleast_2d(np.asarray(negatives, dtype=np.float64))[:, ::-1]
    n = (pos.sum(axis=1) + neg.sum(axis=1))[:, None]
    share1, share0 = pos / _safe(n), neg / _safe(n)
    g1, g0 = np.cumsum(share1, axis=1), np.cumsum(share0, axis=1)
    g = g1 + g0
    h = g1 / _safe(g)
    p = g1[:, -1:]
    psi = (share1 * h).sum(axis=1, keepdims=True)
    ap = psi / _safe(p)
    weight = share1 / _safe(g) ** 2
    a = np.cumsum((weight * g0)[:, ::-1], axis=1)[:, ::-1]  # over cells scoring at most s'
    b = np.cumsum((weight * g1)[:, ::-1], axis=1)[:, ::-1]
    if_pos = (h - psi + a - ap * (1 - p)) / _safe(p)
    if_neg = (-psi - b + ap * p) / _safe(p)
    if stratified:  # class counts fixed: only the spread within each class is sampling noise
        q = 1 - p
        mean1 = (share1 * if_pos).sum(axis=1, keepdims=True) / _safe(p)
        mean0 = (share0 * if_neg).sum(axis=1, keepdims=True) / _safe(q)
        if_pos, if_neg = if_pos - mean1, if_neg - mean0
    variance = ((share1 * if_pos**2).sum(axis=1) + (share0 * if_neg**2).sum(axis=1)) / n[:, 0]
    defined = p[:, 0] > 0
    return np.where(defined, ap[:, 0], np.nan), np.where(defined, variance, np.nan)


def hanley_mcneil(auc: ArrayLike, positives: ArrayLike, negatives: ArrayLike) -> Floats:
    """The Hanley–McNeil (1982) variance of an AUC from its value and the class counts."""
    a = np.asarray(auc, dtype=np.float64)
    n_pos = np.asarray(positives, dtype=np.float64)
    n_neg = np.asarray(negatives, dtype=np.float64)
    q1, q2 = a / (2 - a), 2 * a**2 / (1 + a)
    variance = a * (1 - a) + (n_pos - 1) * (q1 - a**2) + (n_neg - 1) * (q2 - a**2)
    return np.asarray(np.maximum(variance, 0.0) / (n_pos * n_neg), dtype=np.float64)
