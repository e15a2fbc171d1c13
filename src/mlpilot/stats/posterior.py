"""Posteriors of model metrics: the probability that a criterion is met is a posterior probability.

Each posterior is stated with its prior and its method, and gives the probability that the metric
satisfies ``op target`` and an equal-tailed credible interval (whose frequentist coverage the
calibration suite measures, docs/calibration.md). Families:

- ``confusion``: metrics at an operating point (precision, recall, specificity, accuracy, F1,
  balanced accuracy, lift) from the confusion counts, under a Dirichlet(½, ½, ½, ½) prior on the
  four cells (:mod:`mlpilot.stats.confusion`).
- ``logit-t``: ROC AUC and PR AUC. The likelihood of logit(estimate) is a Student t around
  logit(θ) with df = min(positives, negatives) - 1 and the DeLong (AUC) or influence-function
  (AP) standard error on the logit scale; the prior is uniform on expit(logit θ - logit θ0),
  θ0 the no-skill value (½ for ROC AUC, the share of positives for PR AUC). Computed on a grid.
- ``t``: a location-scale Student t under a flat prior (a monitor's pooled windows,
  :mod:`mlpilot.stats.pooling`).
- ``draws``: any other statistic, from the i.i.d. bootstrap replicates of the evaluation (the
  bootstrap distribution as an approximate posterior under a non-informative prior on the rows).
- ``insufficient``: fewer than :data:`MIN_COUNT` of a class (or in the denominator of a
  proportion): no probability and no interval, only the note.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special, stats

__all__ = [
    "LEVEL",
    "MIN_COUNT",
    "PROBABILITY_KIND",
    "RANKING_PRIOR",
    "Posterior",
    "draws_posterior",
    "holds",
    "insufficient",
    "logit_spread",
    "logit_t_cdf",
    "logit_t_quantile",
    "ranking_params",
    "ranking_posterior",
]

Floats = NDArray[np.float64]
LEVEL = 0.95
MIN_COUNT = 10  # fewer positives or negatives (or rows in a proportion's denominator): no number
PROBABILITY_KIND = "posterior probability"
RANKING_PRIOR = (
    "uniform on expit(logit θ - logit θ0), θ0 the no-skill value (½ for ROC AUC, "
    "the share of positives for PR AUC)"
)
BOOTSTRAP_PRIOR = "non-informative on the rows (the i.i.d. bootstrap distribution)"
_GRID = np.linspace(-14.0, 14.0, 801)  # in scale units around the location


def holds(op: str, values: Floats, target: float) -> NDArray[np.bool_]:
    """``values op target`` elementwise (NaN never holds)."""
    with np.errstate(invalid="ignore"):
        result = {
            ">=": values >= target,
            ">": values > target,
            "<=": values <= target,
            "<": values < target,
        }[op]
    return np.asarray(result, dtype=bool)


@dataclass(frozen=True)
class Posterior:
    """A metric's posterior: ``family`` with its ``params``, ``prior`` and ``method`` stated."""

    family: str
    params: dict[str, Any]
    prior: str | None = None
    method: str | None = None
    note: str | None = None
    draws: Floats | None = field(default=None, compare=False, repr=False)

    @property
    def sufficient(self) -> bool:
        """False when the evidence is too thin for a number."""
        return self.family != "insufficient"

    def probability(self, op: str, target: float) -> float | None:
        """Posterior probability that the metric satisfies ``op target`` (None if insufficient)."""
        higher = op in (">=", ">")
        if self.family == "insufficient":
            return None
        if self.family == "logit-t":
            below = self._cdf(target)
            return float(1 - below if higher else below)
        if self.family == "confusion":
            from mlpilot.stats.confusion import metric_probability

            return metric_probability(self.params, op, target)
        if self.family == "t":
            below = float(stats.t.cdf((target - self.params["loc"]) / self.params["scale"],
                                      self.params["df"]))  # fmt: skip
            return 1 - below if higher else below
        values = self._draws()
        values = values[np.isfinite(values)]
        return float(holds(op, values, target).mean()) if values.size else None

    def interval(self, level: float = LEVEL) -> tuple[float | None, float | None]:
        """The equal-tailed credible interval at ``level`` (None, None if insufficient)."""
        tail = (1 - level) / 2
        if self.family == "insufficient":
            return None, None
        if self.family == "logit-t":
            return self._quantile(tail), self._quantile(1 - tail)
        if self.family == "confusion":
            from mlpilot.stats.confusion import metric_quantiles

            low, high = metric_quantiles(self.params, (tail, 1 - tail))
            return low, high
        if self.family == "t":
            width = float(stats.t.ppf(1 - tail, self.params["df"])) * self.params["scale"]
            return self.params["loc"] - width, self.params["loc"] + width
        values = self._draws()
        values = values[np.isfinite(values)]
        if values.size == 0:
            return None, None
        low, high = np.quantile(values, [tail, 1 - tail])
        return float(low), float(high)

    def to_json(self) -> dict[str, Any]:
        """What :meth:`from_json` needs (draws are stored apart, with the replicates)."""
        return {
            "family": self.family,
            "params": self.params,
            "prior": self.prior,
            "method": self.method,
            "note": self.note,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], draws: Floats | None = None) -> Posterior:
        """The posterior :meth:`to_json` stored; ``draws`` for the ``draws`` family."""
        return cls(
            data["family"], dict(data.get("params") or {}), data.get("prior"),
            data.get("method"), data.get("note"), draws,
        )  # fmt: skip

    def _params(self) -> tuple[float, float, float, float]:
        p = self.params
        return float(p["loc"]), float(p["scale"]), float(p["df"]), float(p["center"])

    def _cdf(self, target: float) -> float:
        return float(logit_t_cdf(np.array([target]), *self._params())[0])

    def _quantile(self, q: float) -> float:
        return float(logit_t_quantile(q, *self._params())[0])

    def _draws(self) -> Floats:
        if self.draws is None:
            raise ValueError("a draws posterior needs its draws (the stored replicates)")
        return np.asarray(self.draws, dtype=np.float64)


def _logit_t_grid(
    loc: ArrayLike, scale: ArrayLike, df: ArrayLike, center: ArrayLike
) -> tuple[Floats, Floats]:
    """Per posterior (row): grid points on the logit scale and the posterior CDF there."""
    loc_, scale_, df_, center_ = (
        np.atleast_1d(np.asarray(v, dtype=np.float64))[:, None] for v in (loc, scale, df, center)
    )
    grid = loc_ + scale_ * _GRID[None, :]
    log_density = -(df_ + 1) / 2 * np.log1p(_GRID[None, :] ** 2 / df_)  # Student t, unnormalised
    log_density = log_density - np.logaddexp(0, grid - center_) - np.logaddexp(0, center_ - grid)
    density = np.exp(log_density - log_density.max(axis=1, keepdims=True))
    steps = (density[:, 1:] + density[:, :-1]) / 2
    cdf = np.concatenate([np.zeros((grid.shape[0], 1)), np.cumsum(steps, axis=1)], axis=1)
    return grid, cdf / cdf[:, -1:]


def logit_t_cdf(
    target: ArrayLike, loc: ArrayLike, scale: ArrayLike, df: ArrayLike, center: ArrayLike
) -> Floats:
    """P(θ <= target) under ``logit-t`` posteriors (vectorised over posteriors)."""
    grid, cdf = _logit_t_grid(loc, scale, df, center)
    t = np.broadcast_to(np.asarray(target, dtype=np.float64), (grid.shape[0],))
    inside = np.clip(t, 1e-300, 1 - 1e-16)
    x = special.logit(inside)
    index = np.clip((grid < x[:, None]).sum(axis=1) - 1, 0, grid.shape[1] - 2)
    rows = np.arange(grid.shape[0])
    x0, x1 = grid[rows, index], grid[rows, index + 1]
    c0, c1 = cdf[rows, index], cdf[rows, index + 1]
    value = np.clip(c0 + (c1 - c0) * (x - x0) / (x1 - x0), 0.0, 1.0)
    value = np.where(x <= grid[:, 0], 0.0, np.where(x >= grid[:, -1], 1.0, value))
    return np.asarray(np.where(t <= 0, 0.0, np.where(t >= 1, 1.0, value)), dtype=np.float64)


def logit_t_quantile(
    q: float, loc: ArrayLike, scale: ArrayLike, df: ArrayLike, center: ArrayLike
) -> Floats:
    """The ``q`` quantile of ``logit-t`` posteriors (vectorised over posteriors)."""
    grid, cdf = _logit_t_grid(loc, scale, df, center)
    index = np.clip((cdf < q).sum(axis=1) - 1, 0, grid.shape[1] - 2)
    rows = np.arange(grid.shape[0])
    c0, c1 = cdf[rows, index], cdf[rows, index + 1]
    share = np.where(c1 > c0, (q - c0) / np.where(c1 > c0, c1 - c0, 1.0), 0.0)
    x = grid[rows, index] + np.clip(share, 0, 1) * (grid[rows, index + 1] - grid[rows, index])
    return np.asarray(special.expit(x), dtype=np.float64)


def insufficient(note: str) -> Posterior:
    """No number: the evidence is too thin (``note`` says what is missing)."""
    return Posterior("insufficient", {}, note=f"insufficient evidence: {note}")


def _class_note(positives: float, negatives: float) -> str | None:
    if min(positives, negatives) >= MIN_COUNT:
        return None
    return (
        f"{positives:g} positive and {negatives:g} negative label(s); at least {MIN_COUNT} "
        "of each are needed"
    )


def logit_spread(
    metric: str,
    estimate: ArrayLike,
    variance: ArrayLike,
    positives: ArrayLike,
    negatives: ArrayLike,
) -> tuple[Floats, Floats, NDArray[np.bool_]]:
    """Location and spread of logit(estimate), and whether the estimate sits at the boundary
    (vectorised).

    At the boundary (an estimate of exactly 0 or 1, where the sampling variance estimates to
    zero) the location is moved half a pair inside and the spread is the one a value half an
    observation from the boundary would have (Hanley–McNeil for AUC, binomial for AP), so that a
    perfect separation of few rows never states certainty.
    """
    from mlpilot.stats.ranking import hanley_mcneil

    est, var, pos, neg = (
        np.asarray(v, dtype=np.float64) for v in (estimate, variance, positives, negatives)
    )
    m = np.maximum(np.minimum(pos, neg), 1.0)
    edge = 0.5 / (pos * neg + 1)
    value = np.clip(est, edge, 1 - edge)
    with np.errstate(invalid="ignore"):
        boundary = ~(np.isfinite(var) & (var > 0)) | (value != est)
    near = np.clip(est, 0.5 / (m + 1), 1 - 0.5 / (m + 1))
    if metric == "roc_auc":
        spread = np.sqrt(hanley_mcneil(near, pos, neg))
    else:
        spread = np.sqrt(near * (1 - near) / np.maximum(pos, 1.0))
    inner = np.sqrt(np.where(boundary, 1.0, var)) / (value * (1 - value))
    scale = np.where(boundary, spread / (near * (1 - near)), inner)
    return special.logit(value), np.asarray(scale, dtype=np.float64), np.asarray(boundary)


def ranking_params(
    metric: str,
    estimate: ArrayLike,
    variance: ArrayLike,
    positives: ArrayLike,
    negatives: ArrayLike,
) -> dict[str, Floats]:
    """The ``logit-t`` parameters of ROC AUC or PR AUC posteriors (vectorised), with
    ``sufficient`` false where a class has fewer than :data:`MIN_COUNT` rows."""
    pos = np.asarray(positives, dtype=np.float64)
    neg = np.asarray(negatives, dtype=np.float64)
    loc, scale, boundary = logit_spread(metric, estimate, variance, pos, neg)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = special.logit(pos / (pos + neg))
    return {
        "loc": loc,
        "scale": scale,
        "df": np.maximum(np.minimum(pos, neg) - 1, 1.0),
        "center": np.zeros_like(loc) if metric == "roc_auc" else np.asarray(share),
        "boundary": boundary.astype(np.float64),
        "sufficient": (
            (np.minimum(pos, neg) >= MIN_COUNT) & np.isfinite(np.asarray(estimate, dtype=float))
        ).astype(np.float64),
    }


def ranking_posterior(
    metric: str,
    estimate: float,
    variance: float,
    positives: float,
    negatives: float,
    *,
    method: str,
) -> Posterior:
    """The ``logit-t`` posterior of ROC AUC (``roc_auc``) or PR AUC (``pr_auc``)."""
    note = _class_note(positives, negatives)
    if note is not None or not math.isfinite(estimate):
        return insufficient(note or f"{metric} is undefined")
    found = ranking_params(metric, estimate, variance, positives, negatives)
    if bool(found["boundary"]):
        method += "; at the boundary, the spread of a value half a row inside it"
    params = {k: float(found[k]) for k in ("loc", "scale", "df", "center")}
    return Posterior("logit-t", params, RANKING_PRIOR, method)


def draws_posterior(
    draws: Floats, positives: float | None, negatives: float | None, rows: int
) -> Posterior:
    """An approximate posterior from the bootstrap replicates of the evaluation."""
    if positives is not None and negatives is not None:
        note = _class_note(positives, negatives)
        if note is not None:
            return insufficient(note)
    elif rows < MIN_COUNT:
        return insufficient(f"{rows} rows; at least {MIN_COUNT} are needed")
    return Posterior(
        "draws", {}, BOOTSTRAP_PRIOR, "bootstrap distribution of the evaluation rows",
        draws=np.asarray(draws, dtype=np.float64),
    )  # fmt: skip
