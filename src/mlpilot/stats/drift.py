"""Drift statistics from histograms and ECDF summaries.

Binned distances (PSI, Jensen–Shannon, Hellinger) compare two count vectors over the same bins:
an empty bin gets a share of 1e-4 before the shares are normalised, so no log or ratio blows up.
The chi-square test is ``scipy.stats.chi2_contingency`` (no continuity correction) on the 2×K
table of categories seen in either sample. KS p-values follow ``scipy.stats.ks_2samp``
(two-sided, ``method="auto"``): exact when both samples have at most 10,000 values, asymptotic
otherwise.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

EMPTY_BIN_SHARE = 1e-4
KS_EXACT_MAX_N = 10_000


def shares(counts: ArrayLike) -> NDArray[np.float64]:
    """Normalised shares with empty bins floored at ``EMPTY_BIN_SHARE`` before normalising."""
    array = np.asarray(counts, dtype=np.float64)
    if not np.isfinite(array).all() or (array < 0).any():
        raise ValueError("a histogram needs finite, non-negative counts")
    total = array.sum()
    if total <= 0:
        raise ValueError("cannot compare an empty histogram")
    share = array / total
    share = np.where(share > 0, share, EMPTY_BIN_SHARE)
    return np.asarray(share / share.sum(), dtype=np.float64)


def psi(reference: ArrayLike, current: ArrayLike) -> float:
    """Population stability index: sum of (c - r) * ln(c / r) over the bins."""
    r, c = shares(reference), shares(current)
    return float(np.sum((c - r) * np.log(c / r)))


def js_distance(reference: ArrayLike, current: ArrayLike) -> float:
    """Jensen–Shannon distance, base 2, in [0, 1] (as ``scipy.spatial.distance.jensenshannon``)."""
    r, c = shares(reference), shares(current)
    m = (r + c) / 2
    divergence = (np.sum(r * np.log2(r / m)) + np.sum(c * np.log2(c / m))) / 2
    return float(math.sqrt(max(divergence, 0.0)))


def hellinger(reference: ArrayLike, current: ArrayLike) -> float:
    """Hellinger distance (in [0, 1]): sqrt(sum((sqrt r - sqrt c)^2) / 2).

    This form is exactly 0 for identical histograms, where sqrt(1 - sum sqrt(r c)) is not.
    """
    r, c = shares(reference), shares(current)
    return float(math.sqrt(np.sum((np.sqrt(r) - np.sqrt(c)) ** 2) / 2))


def chi2_test(reference: ArrayLike, current: ArrayLike) -> tuple[float, float]:
    """Chi-square statistic and p-value of the 2×K contingency table (categories seen in either)."""
    from scipy.stats import chi2_contingency

    table = np.vstack([np.asarray(reference, float), np.asarray(current, float)])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
        return 0.0, 1.0  # one category, or an empty sample: nothing can differ
    result = chi2_contingency(table, correction=False)
    return float(result.statistic), float(result.pvalue)


def ks_pvalue(statistic: float, n_reference: int, n_current: int) -> float:
    """Two-sided p-value of the two-sample KS statistic, as ``scipy.stats.ks_2samp``."""
    if n_reference == 0 or n_current == 0:
        raise ValueError("the KS test needs values in both samples")
    from scipy.stats import distributions

    n1, n2 = n_reference, n_current
    if max(n1, n2) <= KS_EXACT_MAX_N:
        from scipy.stats._stats_py import (  # the exact path of ks_2samp itself
            _attempt_exact_2kssamp,
        )

        # The exact count is symmetric in the two sizes; pass the larger first.
        large, small = max(n1, n2), min(n1, n2)
        success, _d, prob = _attempt_exact_2kssamp(
            large, small, math.gcd(large, small), statistic, "two-sided"
        )
        if success:
            return float(np.clip(prob, 0.0, 1.0))
    effective = n1 * n2 / (n1 + n2)
    return float(np.clip(distributions.kstwo.sf(statistic, np.round(effective)), 0.0, 1.0))


def benjamini_hochberg(p_values: ArrayLike) -> NDArray[np.float64]:
    """Benjamini–Hochberg adjusted p-values (false discovery rate), in the input order."""
    p = np.asarray(p_values, dtype=np.float64)
    if p.size == 0:
        return p
    if np.isnan(p).any() or (p < 0).any() or (p > 1).any():
        raise ValueError("p-values must lie in [0, 1]")
    order = np.argsort(p)
    ranked = p[order] * p.size / np.arange(1, p.size + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty_like(p)
    out[order] = np.minimum(adjusted, 1.0)
    return out
