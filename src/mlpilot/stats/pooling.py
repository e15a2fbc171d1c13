"""Posteriors from several monitor windows, the latest weighing most.

After launch the evidence comes in windows. Each window's evidence is down-weighted by its age,
``weight = ½ ** (age / half_life)`` (age in windows, the latest 0), and pooled — a discounted
("power prior") update, so that the posterior describes the model *now* rather than on average:

- confusion counts (metrics at an operating point): the weighted counts, into the Dirichlet
  posterior of :mod:`mlpilot.stats.confusion`;
- ROC AUC and PR AUC: each window's logit-scale estimate and spread (Hanley–McNeil for AUC,
  binomial over the positives for AP: a window report carries no placements), combined with
  precision ``weight / spread²``, into the ``logit-t`` posterior with df the weighted smaller
  class count minus one;
- any other metric: the weighted mean of the window values, with the spread between windows
  (each window's variance taken as σ² / rows) on a Student t with J - 1 df, under a flat prior.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from scipy import special

from mlpilot.stats.posterior import (
    MIN_COUNT,
    RANKING_PRIOR,
    Posterior,
    insufficient,
    logit_spread,
)
from mlpilot.stats.ranking import hanley_mcneil

__all__ = ["age_weights", "pooled_counts", "pooled_ranking", "pooled_values"]

Floats = NDArray[np.float64]
FLAT_PRIOR = "flat on the metric's scale"


def age_weights(windows: int, half_life: float) -> Floats:
    """The weight of each of ``windows`` windows, oldest first: ½ per ``half_life`` of age."""
    ages = np.arange(windows, dtype=np.float64)[::-1]
    return np.asarray(0.5 ** (ages / half_life), dtype=np.float64)


def pooled_counts(
    counts: Sequence[dict[str, float] | None], weights: Floats
) -> dict[str, float] | None:
    """The weighted sum of the windows' confusion counts (windows without counts left out)."""
    total = {"tp": 0.0, "fp": 0.0, "fn": 0.0, "tn": 0.0}
    seen = False
    for window, weight in zip(counts, weights, strict=True):
        if window is None:
            continue
        seen = True
        for cell in total:
            total[cell] += float(weight) * float(window.get(cell) or 0)
    return total if seen else None


def pooled_ranking(
    metric: str,
    estimates: Sequence[float | None],
    positives: Sequence[float],
    negatives: Sequence[float],
    weights: Floats,
) -> Posterior:
    """The pooled ``logit-t`` posterior of ROC AUC or PR AUC over the windows."""
    locs, precisions, small, pos_sum, neg_sum = [], [], 0.0, 0.0, 0.0
    for value, pos, neg, weight in zip(estimates, positives, negatives, weights, strict=True):
        if value is None or pos < 2 or neg < 2:
            continue
        variance = (
            float(hanley_mcneil(value, pos, neg)) if metric == "roc_auc"
            else value * (1 - value) / pos
        )  # fmt: skip
        loc, scale, _ = logit_spread(metric, value, variance, pos, neg)
        locs.append(float(loc))
        precisions.append(float(weight) / float(scale) ** 2)
        small += float(weight) * min(pos, neg)
        pos_sum += float(weight) * pos
        neg_sum += float(weight) * neg
    if min(pos_sum, neg_sum) < MIN_COUNT:
        return insufficient(
            f"{pos_sum:.3g} positive and {neg_sum:.3g} negative label(s) in the weighted recent "
            f"windows; at least {MIN_COUNT} of each are needed"
        )
    total = float(np.sum(precisions))
    share = pos_sum / (pos_sum + neg_sum)
    params = {
        "loc": float(np.dot(precisions, locs) / total),
        "scale": float(total**-0.5),
        "df": max(small - 1, 1.0),
        "center": 0.0 if metric == "roc_auc" else float(special.logit(share)),
    }
    spread = "Hanley–McNeil" if metric == "roc_auc" else "binomial"
    method = f"windows pooled on the logit scale ({spread} spread), weighted by age"
    return Posterior("logit-t", params, RANKING_PRIOR, method)


def pooled_values(
    values: Sequence[float | None], rows: Sequence[float], weights: Floats
) -> Posterior:
    """A Student-t posterior of a metric from its window values (at least 3 windows)."""
    kept = [(v, n, w) for v, n, w in zip(values, rows, weights, strict=True) if v is not None and n]
    if len(kept) < 3 or sum(n for _, n, _ in kept) < MIN_COUNT:
        return insufficient(
            f"{len(kept)} judged window(s); at least 3 (and {MIN_COUNT} rows) are needed"
        )
    m = np.array([v for v, _, _ in kept])
    size = np.array([n * w for _, n, w in kept])
    mean = float(np.dot(size, m) / size.sum())
    per_row = float(np.dot(size, (m - mean) ** 2) / size.sum()) * len(kept) / (len(kept) - 1)
    scale = max((per_row / size.sum()) ** 0.5, 1e-12)
    params = {"loc": mean, "scale": scale, "df": float(len(kept) - 1)}
    method = "weighted mean of the windows, spread between windows, weighted by age"
    return Posterior("t", params, FLAT_PRIOR, method)
