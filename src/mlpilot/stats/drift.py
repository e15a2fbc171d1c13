"""Drift statistics from histograms and ECDF summaries.

The alarm is a test whose threshold follows the null distribution at the sample sizes and the
number of bins at hand: :func:`homogeneity_test`, Pearson's chi-square test of homogeneity on the
2×K table of both samples' counts, after pooling the bins whose expected count would be below
``MIN_EXPECTED`` (:func:`pool_rare`). The pooling looks only at the column totals of the table
(the two samples added up), which a permutation of the rows between the samples leaves
unchanged, so it does not bias the test; with every expected count at 5 or more the chi-square
distribution is an accurate null at any size. The KS p-value follows ``scipy.stats.ks_2samp``
(two-sided, ``method="auto"``): exact when both samples have at most 10,000 values, asymptotic
otherwise.

Binned distances (PSI, Jensen–Shannon, Hellinger) are effect sizes, never thresholds: an empty
bin gets a share of 1e-4 before the shares are normalised, so no log or ratio blows up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

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


MIN_EXPECTED = 5.0


@dataclass(frozen=True)
class HomogeneityTest:
    """Pearson's chi-square test of homogeneity of two count vectors over the same bins."""

    statistic: float
    df: int
    p_value: float
    bins: int  # bins compared, after pooling
    pooled: int  # bins with too small an expected count, pooled into one


def pool_rare(
    reference: ArrayLike,
    current: ArrayLike,
    min_expected: float = MIN_EXPECTED,
    rare: ArrayLike | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64], int]:
    """The two count vectors with bins empty in both dropped and every bin whose expected count
    in the smaller sample, ``(r + c) · min(n, m) / (n + m)``, is below ``min_expected`` pooled
    into one last bin; if that pool is itself too small it joins the bin with the smallest total.
    ``rare`` marks bins pooled whatever their count: sums of categories that are each too rare
    for a bin of their own. Returns the pooled vectors and how many bins went into the pool."""
    r = _counts(reference)
    c = _counts(current)
    forced = np.zeros(r.shape, bool) if rare is None else np.asarray(rare, bool)
    if r.shape != c.shape or forced.shape != r.shape:
        raise ValueError("both histograms need the same bins")
    keep = (r + c) > 0
    r, c, forced = r[keep], c[keep], forced[keep]
    n, m = r.sum(), c.sum()
    if n == 0 or m == 0:
        return r, c, 0
    scale = min(n, m) / (n + m)
    pool = forced | ((r + c) * scale < min_expected)
    if not pool.any():
        return r, c, 0
    r = np.append(r[~pool], r[pool].sum())
    c = np.append(c[~pool], c[pool].sum())
    if (r[-1] + c[-1]) * scale < min_expected and r.size > 1:
        smallest = int(np.argmin(r[:-1] + c[:-1]))
        r[smallest] += r[-1]
        c[smallest] += c[-1]
        r, c = r[:-1], c[:-1]
    return r, c, int(pool.sum())


def homogeneity_test(
    reference: ArrayLike,
    current: ArrayLike,
    min_expected: float = MIN_EXPECTED,
    rare: ArrayLike | None = None,
) -> HomogeneityTest | None:
    """Pearson's chi-square test that both samples come from one distribution over the bins
    (as ``scipy.stats.chi2_contingency(table, correction=False)`` on the pooled 2×K table).
    Both samples in one and the same bin: statistic 0, p-value 1 (nothing differs). None when
    a sample is empty, or when pooling leaves a single bin of several: too few values to test."""
    r, c, pooled = pool_rare(reference, current, min_expected, rare)
    if r.sum() == 0 or c.sum() == 0:
        return None
    if r.size < 2:
        return HomogeneityTest(0.0, 0, 1.0, 1, 0) if pooled <= 1 else None
    total = r + c
    n, m = r.sum(), c.sum()
    expected_r, expected_c = total * (n / (n + m)), total * (m / (n + m))
    statistic = float(
        np.sum((r - expected_r) ** 2 / expected_r + (c - expected_c) ** 2 / expected_c)
    )
    df = r.size - 1
    return HomogeneityTest(statistic, df, chi2_sf(statistic, df), int(r.size), pooled)


def chi2_sf(statistic: float, df: int) -> float:
    """P(X >= statistic) for X chi-square with ``df`` degrees of freedom (``scipy.special.chdtrc``
    to about 1e-12 relative): the regularized upper incomplete gamma Q(df / 2, statistic / 2), by
    its power series below df / 2 + 1 and its continued fraction (Lentz) above. Written out so
    that a drift check does not import scipy (a tenth of a second of the 1M-row warm path)."""
    if df < 1:
        raise ValueError("the chi-square distribution needs at least one degree of freedom")
    if not statistic > 0:
        return 1.0
    a, x = df / 2, statistic / 2
    front = math.exp(_log_front(a, x))
    if x < a + 1:  # P(a, x) = front / a · (1 + x / (a + 1) + x² / ((a + 1)(a + 2)) + …)
        term = total = 1 / a
        step = a
        while term > total * 1e-17:
            step += 1
            term *= x / step
            total += term
        return min(max(1 - front * total, 0.0), 1.0)
    tiny = 1e-300  # Q(a, x) = front · 1 / (x + 1 - a - 1(1 - a) / (x + 3 - a - 2(2 - a) / …))
    b = x + 1 - a
    c, d = 1 / tiny, 1 / b
    fraction = d
    for i in range(1, 100_000):
        numerator = -i * (i - a)
        b += 2
        d = numerator * d + b
        d = 1 / (d if abs(d) > tiny else tiny)
        c = b + numerator / c
        c = c if abs(c) > tiny else tiny
        fraction *= d * c
        if abs(d * c - 1) < 1e-16:
            break
    return min(front * fraction, 1.0)


def _log_front(a: float, x: float) -> float:
    """log(x^a e^-x / Γ(a)). For large ``a`` the direct form cancels terms of size a·log x; with
    Stirling's series for log Γ it is a·(log1p(t) - t) + log(a / 2π) / 2 - (its remainder),
    t = (x - a) / a, exact to the last bits."""
    if a < 10:
        return a * math.log(x) - x - math.lgamma(a)
    t = (x - a) / a
    remainder = 1 / (12 * a) - 1 / (360 * a**3) + 1 / (1260 * a**5) - 1 / (1680 * a**7)
    return a * (math.log1p(t) - t) + 0.5 * math.log(a / (2 * math.pi)) - remainder


def effect_sizes(reference: ArrayLike, current: ArrayLike) -> dict[str, float] | None:
    """PSI, Jensen–Shannon distance and Hellinger distance over the bins seen in either sample;
    None when a sample is empty."""
    r, c = _counts(reference), _counts(current)
    keep = (r + c) > 0
    r, c = r[keep], c[keep]
    if r.sum() == 0 or c.sum() == 0:
        return None
    return {"psi": psi(r, c), "js": js_distance(r, c), "hellinger": hellinger(r, c)}


def _counts(values: ArrayLike) -> NDArray[np.float64]:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1 or not np.isfinite(array).all() or (array < 0).any():
        raise ValueError("a histogram needs finite, non-negative counts")
    return array


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
