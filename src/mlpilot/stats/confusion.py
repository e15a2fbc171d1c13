"""Posteriors of the metrics at an operating point, from the four confusion counts.

The prior is Dirichlet(½, ½, ½, ½) on the shares of the four cells (TP, FP, FN, TN) of a sample
drawn i.i.d. from the population the model runs on. Its aggregation property makes each
proportion's posterior a Beta, exactly:

=============  ==========================  =================================
metric         posterior                   minimum count (else insufficient)
=============  ==========================  =================================
precision      Beta(TP + ½, FP + ½)        TP + FP predicted positive
recall         Beta(TP + ½, FN + ½)        TP + FN positives
specificity    Beta(TN + ½, FP + ½)        TN + FP negatives
accuracy       Beta(TP + TN + 1, FP + FN + 1)   all rows
F1             2J / (1 + J), J ~ Beta(TP + ½, FP + FN + 1)   TP + FP + FN
=============  ==========================  =================================

(J = TP / (TP + FP + FN), of which F1 is an increasing function.) Balanced accuracy and lift, and
the joint of several conditions at one point (``recall >= 0.6 and precision >= 0.5 at threshold
0.42``), come from Monte Carlo draws of the same Dirichlet (seeded: the same counts give the same
probability). A *stratified* (case-control) sample fixes the class counts by design: recall and
specificity keep their Beta posteriors, independent, and the other metrics are drawn from them at
the sample's class shares. Counts may be fractional (a monitor's down-weighted windows).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from mlpilot.stats.posterior import MIN_COUNT, Posterior, holds, insufficient

__all__ = [
    "CONFUSION_PRIOR",
    "METRICS",
    "beta_interval",
    "beta_parameters",
    "beta_probability",
    "confusion_draws",
    "confusion_posterior",
    "joint_probability_at",
    "metric_probability",
    "metric_quantiles",
]

Floats = NDArray[np.float64]
CONFUSION_PRIOR = "Dirichlet(½, ½, ½, ½) on the four confusion cells"
STRATIFIED_PRIOR = "Beta(½, ½) on recall and on the false-positive rate (class counts fixed)"
METRICS = ("precision", "recall", "specificity", "accuracy", "f1", "balanced_accuracy", "lift")
DRAWS = 20_000
_CELLS = ("tp", "fp", "fn", "tn")


def _counts(params: Mapping[str, Any]) -> tuple[float, float, float, float]:
    return tuple(float(params[c]) for c in _CELLS)  # type: ignore[return-value]


def _denominator(metric: str, tp: Any, fp: Any, fn: Any, tn: Any) -> tuple[Any, str]:
    """The count a metric's evidence rests on (scalars or arrays), and what it counts."""
    return {
        "precision": (tp + fp, "row(s) predicted positive"),
        "recall": (tp + fn, "positive label(s)"),
        "specificity": (tn + fp, "negative label(s)"),
        "accuracy": (tp + fp + fn + tn, "row(s)"),
        "f1": (tp + fp + fn, "row(s) positive or predicted positive"),
        "balanced_accuracy": (np.minimum(tp + fn, tn + fp), "row(s) in the smaller class"),
        "lift": (
            np.minimum(tp + fp, tp + fn),
            "row(s) predicted positive or positive, whichever fewer",
        ),
    }[metric]


def beta_parameters(
    metric: str, tp: Any, fp: Any, fn: Any, tn: Any, *, stratified: bool = False
) -> tuple[Any, Any] | None:
    """The exact Beta posterior (a, b) of ``metric`` (of J for F1) from the confusion counts,
    scalars or arrays; None when the metric has none (it is then drawn)."""
    if metric == "recall":
        return tp + 0.5, fn + 0.5
    if metric == "specificity":
        return tn + 0.5, fp + 0.5
    if stratified:
        return None
    if metric == "precision":
        return tp + 0.5, fp + 0.5
    if metric == "accuracy":
        return tp + tn + 1.0, fp + fn + 1.0
    if metric == "f1":
        return tp + 0.5, fp + fn + 1.0
    return None


def beta_interval(
    metric: str, tp: Any, fp: Any, fn: Any, tn: Any, level: float = 0.95
) -> tuple[Floats, Floats]:
    """The equal-tailed credible interval of a Beta-marginal ``metric`` (vectorised over the
    counts), NaN where the denominator has fewer than :data:`MIN_COUNT` rows."""
    a, b = beta_parameters(metric, tp, fp, fn, tn)  # type: ignore[misc]
    tail = (1 - level) / 2
    low, high = stats.beta.ppf(tail, a, b), stats.beta.ppf(1 - tail, a, b)
    if metric == "f1":
        low, high = 2 * low / (1 + low), 2 * high / (1 + high)
    rows = _denominator(metric, *(np.asarray(v, dtype=np.float64) for v in (tp, fp, fn, tn)))[0]
    enough = np.asarray(rows) >= MIN_COUNT
    return np.where(enough, low, np.nan), np.where(enough, high, np.nan)


def beta_probability(metric: str, tp: Any, fp: Any, fn: Any, tn: Any, target: Any) -> Floats:
    """P(metric >= target) for a Beta-marginal ``metric`` (vectorised; no minimum-count rule)."""
    a, b = beta_parameters(metric, tp, fp, fn, tn)  # type: ignore[misc]
    cut = np.asarray(target, dtype=np.float64)
    if metric == "f1":
        cut = cut / (2 - cut)
    return np.asarray(stats.beta.sf(np.clip(cut, 0.0, 1.0), a, b), dtype=np.float64)


def _beta(params: Mapping[str, Any]) -> tuple[float, float] | None:
    found = beta_parameters(
        params["metric"], *_counts(params), stratified=bool(params.get("stratified"))
    )
    return None if found is None else (float(found[0]), float(found[1]))


def confusion_posterior(
    counts: Mapping[str, float], metric: str, *, stratified: bool = False
) -> Posterior:
    """The posterior of ``metric`` at an operating point with these confusion ``counts``."""
    tp, fp, fn, tn = (float(counts[c]) for c in _CELLS)
    found, what = _denominator(metric, tp, fp, fn, tn)
    rows = float(found)
    if rows < MIN_COUNT:
        return insufficient(f"{rows:g} {what}; at least {MIN_COUNT} are needed for {metric}")
    params: dict[str, Any] = {"metric": metric, "stratified": stratified}
    params |= dict(zip(_CELLS, (tp, fp, fn, tn), strict=True))
    exact = _beta(params) is not None
    method = "exact Beta marginal" if exact else f"{DRAWS:,} Monte Carlo draws (seeded)"
    prior = STRATIFIED_PRIOR if stratified else CONFUSION_PRIOR
    return Posterior("confusion", params, prior, method)


def confusion_draws(
    counts: Mapping[str, float], *, stratified: bool = False, size: int = DRAWS, seed: int = 0
) -> dict[str, Floats]:
    """Posterior draws of every metric at the operating point (shared draws: paired)."""
    tp, fp, fn, tn = (float(counts[c]) for c in _CELLS)
    rng = np.random.default_rng(seed)
    if stratified:
        positives, negatives = tp + fn, fp + tn
        recall = rng.beta(tp + 0.5, fn + 0.5, size)
        false_rate = rng.beta(fp + 0.5, tn + 0.5, size)
        cells = np.stack(
            [positives * recall, negatives * false_rate, positives * (1 - recall),
             negatives * (1 - false_rate)], axis=1,
        ) / (positives + negatives)  # fmt: skip
    else:
        gammas = rng.standard_gamma(np.array([tp, fp, fn, tn]) + 0.5, size=(size, 4))
        cells = gammas / gammas.sum(axis=1, keepdims=True)
    s_tp, s_fp, s_fn, s_tn = cells.T
    recall, specificity = s_tp / (s_tp + s_fn), s_tn / (s_tn + s_fp)
    precision = s_tp / (s_tp + s_fp)
    return {
        "precision": precision,
        "recall": recall,
        "specificity": specificity,
        "accuracy": s_tp + s_tn,
        "f1": 2 * s_tp / (2 * s_tp + s_fp + s_fn),
        "balanced_accuracy": (recall + specificity) / 2,
        "lift": precision / (s_tp + s_fn),
    }


def metric_probability(params: dict[str, Any], op: str, target: float) -> float:
    """P(metric op target) under the posterior ``params`` describe."""
    higher = op in (">=", ">")
    if _beta(params) is not None:
        above = float(beta_probability(params["metric"], *_counts(params), min(target, 2.0)))
        return above if higher else 1 - above
    draws = confusion_draws(params, stratified=bool(params.get("stratified")))[params["metric"]]
    return float(holds(op, draws, target).mean())


def metric_quantiles(params: dict[str, Any], qs: Sequence[float]) -> list[float]:
    """Posterior quantiles of the metric."""
    beta = _beta(params)
    if beta is not None:
        values = stats.beta.ppf(np.asarray(qs), *beta)
        if params["metric"] == "f1":
            values = 2 * values / (1 + values)
        return [float(v) for v in values]
    draws = confusion_draws(params, stratified=bool(params.get("stratified")))[params["metric"]]
    return [float(v) for v in np.quantile(draws[np.isfinite(draws)], qs)]


def joint_probability_at(
    counts: Mapping[str, float],
    conditions: Sequence[tuple[str, str, float]],
    *,
    stratified: bool = False,
) -> float | None:
    """P(every ``(metric, op, target)`` holds) at one operating point, from shared draws; None
    when any metric has too few rows."""
    for metric, _, _ in conditions:
        if not confusion_posterior(counts, metric, stratified=stratified).sufficient:
            return None
    if len(conditions) == 1:
        metric, op, target = conditions[0]
        params = dict(counts) | {"metric": metric, "stratified": stratified}
        return metric_probability(params, op, target)
    draws = confusion_draws(counts, stratified=stratified)
    met = np.logical_and.reduce([holds(op, draws[m], t) for m, op, t in conditions])
    return float(met.mean())
