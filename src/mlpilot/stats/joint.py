"""The probability that several criteria hold at once, from their own posterior probabilities.

Each criterion's posterior probability is kept as it is (its marginal), and the dependence
between criteria measured on the same rows is taken from the paired bootstrap replicates of
their metrics: a Gaussian copula whose correlation is that of the replicates' normal scores
(ranks mapped through Φ⁻¹), each oriented so that "higher" means "closer to met". Then
P(all met) = P(Y_k >= -Φ⁻¹(p_k) for every k), Y ~ N(0, R), by seeded Monte Carlo. With
independent replicates this is the product of the probabilities; with perfectly correlated ones,
the smallest.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray
from scipy import stats

__all__ = ["copula_probability"]

Floats = NDArray[np.float64]
DRAWS = 20_000  # Monte Carlo standard error below 0.004


@lru_cache(maxsize=16)
def _standard_normal(dimension: int, seed: int) -> Floats:
    """The same seeded standard normal draws for every call (read-only)."""
    draws = np.random.default_rng(seed).standard_normal((DRAWS, dimension))
    draws.setflags(write=False)
    return draws


def _normal_scores(values: Floats) -> Floats:
    finite = np.where(np.isfinite(values), values, np.nanmedian(values))
    ranks = stats.rankdata(finite)
    return np.asarray(stats.norm.ppf((ranks - 0.5) / ranks.size), dtype=np.float64)


def copula_probability(
    probabilities: Sequence[float],
    replicates: Sequence[Floats],
    higher: Sequence[bool],
    *,
    seed: int = 0,
) -> float:
    """P(every criterion met) from each one's probability and the paired replicates of its
    metric (``higher``: the criterion is met by higher values)."""
    p = np.clip(np.asarray(probabilities, dtype=np.float64), 0.0, 1.0)
    if p.size == 1:
        return float(p[0])
    scores = np.stack(
        [_normal_scores(np.asarray(r, dtype=np.float64)) * (1 if h else -1)
         for r, h in zip(replicates, higher, strict=True)]
    )  # fmt: skip
    spread = scores.std(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.atleast_2d(np.asarray(np.corrcoef(scores), dtype=np.float64))
    constant = spread == 0  # a metric that never moved: no dependence to measure
    corr[constant, :] = 0.0
    corr[:, constant] = 0.0
    np.fill_diagonal(corr, 1.0)
    corr = np.nan_to_num(corr)
    values, vectors = np.linalg.eigh(corr)  # repair rounding: keep it a correlation matrix
    corr = vectors @ np.diag(np.clip(values, 1e-9, None)) @ vectors.T
    d = np.sqrt(np.diag(corr))
    corr = corr / np.outer(d, d)
    draws = _standard_normal(p.size, seed) @ np.linalg.cholesky(corr).T
    with np.errstate(divide="ignore"):
        cut = -stats.norm.ppf(p)
    return float(np.all(draws >= cut, axis=1).mean())
