"""Drift statistics from histograms and ECDF summaries against scipy and hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.spatial.distance import jensenshannon

from mlpilot.stats.drift import (
    EMPTY_BIN_SHARE,
    MIN_EXPECTED,
    benjamini_hochberg,
    chi2_sf,
    effect_sizes,
    hellinger,
    homogeneity_test,
    js_distance,
    ks_pvalue,
    pool_rare,
    psi,
    shares,
)

EXACT = 1e-12


def close(actual, expected, rel=EXACT, abs_=1e-15):
    return math.isclose(actual, expected, rel_tol=rel, abs_tol=abs_)


def histograms(seed, bins, empty=0):
    """Two count vectors over the same bins, the current one shifted; ``empty`` bins zeroed."""
    rng = np.random.default_rng(seed)
    reference = rng.multinomial(5_000, rng.dirichlet(np.ones(bins)))
    current = rng.multinomial(3_000, rng.dirichlet(np.ones(bins) * 2))
    reference[:empty] = 0
    current[bins - empty :] = 0
    return reference, current


HISTOGRAMS = [
    pytest.param(seed, bins, empty, id=f"bins{bins}-empty{empty}-s{seed}")
    for seed, bins, empty in ((0, 2, 0), (1, 5, 0), (2, 10, 0), (3, 10, 2), (4, 40, 5))
]


# --- KS ------------------------------------------------------------------------------------------


def ks_samples(seed, n1, n2, ties):
    rng = np.random.default_rng(seed)
    if ties:
        return rng.integers(0, 6, size=n1), rng.integers(0, 7, size=n2)
    return rng.normal(size=n1), rng.normal(0.05, 1.1, size=n2)


@pytest.mark.parametrize("ties", [False, True], ids=["continuous", "ties"])
@pytest.mark.parametrize(
    ("n1", "n2"),
    [
        (1, 1),
        (1, 9),
        (8, 8),
        (30, 50),
        (500, 500),
        (700, 9_999),
        (10_000, 10_000),  # exact: the largest size ks_2samp still computes exactly
        (10_000, 3_000),
        (10_001, 10_001),  # asymptotic from here on
        (10_001, 40),
        (25_000, 60_000),
    ],
)
def test_ks_pvalue_equals_ks_2samp_in_both_orders(n1, n2, ties):
    a, b = ks_samples(n1 * 7 + n2, n1, n2, ties)
    forward = stats.ks_2samp(a, b)
    assert close(ks_pvalue(forward.statistic, n1, n2), forward.pvalue)
    backward = stats.ks_2samp(b, a)
    assert close(ks_pvalue(backward.statistic, n2, n1), backward.pvalue)


def test_ks_pvalue_of_identical_and_separated_samples():
    same = np.arange(20.0)
    assert ks_pvalue(stats.ks_2samp(same, same).statistic, 20, 20) == 1.0
    apart = stats.ks_2samp(np.arange(30.0), np.arange(30.0) + 100)
    assert apart.statistic == 1.0
    assert close(ks_pvalue(1.0, 30, 30), apart.pvalue)


def test_ks_pvalue_needs_both_samples():
    with pytest.raises(ValueError, match="both samples"):
        ks_pvalue(0.5, 0, 10)


# --- chi-square ----------------------------------------------------------------------------------


def assert_chi2_matches(reference, current):
    """No bin is pooled here: the test is chi2_contingency on the table without empty bins."""
    table = np.array([reference, current], dtype=float)
    table = table[:, table.sum(axis=0) > 0]
    expected = stats.chi2_contingency(table, correction=False)
    assert expected.expected_freq.min() >= MIN_EXPECTED  # nothing to pool
    result = homogeneity_test(reference, current)
    assert result is not None
    assert close(result.statistic, expected.statistic)
    assert close(result.p_value, expected.pvalue)
    assert (result.df, result.bins, result.pooled) == (expected.dof, table.shape[1], 0)


@pytest.mark.parametrize(("seed", "bins", "empty"), HISTOGRAMS[:3])
def test_chi2_equals_chi2_contingency(seed, bins, empty):
    assert_chi2_matches(*histograms(seed, bins, empty))


def test_chi2_with_a_category_in_one_sample_only():
    assert_chi2_matches([100, 200, 0], [120, 180, 15])
    assert_chi2_matches([100, 0, 200], [0, 17, 180])


def test_chi2_drops_categories_seen_in_neither():
    """chi2_contingency refuses a zero column; the test drops it, as if never listed."""
    with pytest.raises(ValueError, match="zero element"):
        stats.chi2_contingency(np.array([[10, 0, 20], [12, 0, 18]]), correction=False)
    assert homogeneity_test([10, 0, 20], [12, 0, 18]) == homogeneity_test([10, 20], [12, 18])
    assert_chi2_matches([10, 0, 20], [12, 0, 18])


def test_bins_with_small_expected_counts_are_pooled():
    """Expected count in the smaller sample: (r + c) · 100 / 1100. Bins 3-5 (totals 22, 33, 11:
    expected 2, 3, 1) go into one pool (total 66: expected 6, enough)."""
    reference = [400, 300, 200, 20, 30, 0]
    current = [40, 30, 20, 2, 3, 5]
    r, c, pooled = pool_rare(reference, current)
    assert (r.tolist(), c.tolist(), pooled) == ([400, 300, 200, 50], [40, 30, 20, 10], 3)
    result = homogeneity_test(reference, current)
    expected = stats.chi2_contingency(np.array([r, c]), correction=False)
    assert result is not None
    assert close(result.statistic, expected.statistic)
    assert close(result.p_value, expected.pvalue)
    assert (result.df, result.bins, result.pooled) == (3, 4, 3)


def test_a_pool_too_small_joins_the_smallest_bin():
    """One rare bin (total 4: expected 2) is still too small alone: it joins the bin with the
    smallest total (the 60)."""
    r, c, pooled = pool_rare([100, 30, 2], [100, 30, 2])
    assert (r.tolist(), c.tolist(), pooled) == ([100, 32], [100, 32], 1)


def test_pooling_looks_only_at_the_totals_of_both_samples():
    """The bins pooled depend on r + c (and the two sizes), not on how a total splits between
    the samples: a permutation of the values between the samples never changes them."""
    rng = np.random.default_rng(3)
    values = rng.integers(0, 40, 1_000)  # 40 bins, some rare
    n = 300
    pools = set()
    for _ in range(20):
        shuffled = rng.permutation(values)
        r = np.bincount(shuffled[:n], minlength=40)
        c = np.bincount(shuffled[n:], minlength=40)
        pooled_r, pooled_c, count = pool_rare(r, c)
        pools.add((tuple(pooled_r + pooled_c), count))
    assert len(pools) == 1


def test_chi2_with_a_single_bin_is_no_evidence():
    """chi2_contingency gives 0 and 1 for one category; so does the test (no pooling)."""
    result = stats.chi2_contingency(np.array([[5.0], [7.0]]), correction=False)
    assert (result.statistic, result.pvalue) == (0.0, 1.0)
    for reference, current in (([5], [7]), ([50, 0], [70, 0]), ([5, 0], [2, 0])):
        found = homogeneity_test(reference, current)
        assert found is not None
        assert (found.statistic, found.p_value, found.df, found.pooled) == (0.0, 1.0, 0, 0)


def test_chi2_with_an_empty_sample_or_too_few_values_is_untestable():
    """chi2_contingency raises on an empty row; pooling every bin into one leaves nothing to
    compare: the test says so (None) instead of a p-value."""
    with pytest.raises(ValueError, match="zero element"):
        stats.chi2_contingency(np.array([[0, 0, 0], [3, 4, 5]]), correction=False)
    untestable = [([0, 0, 0], [3, 4, 5]), ([3, 4, 5], [0, 0, 0]), ([0, 0], [0, 0]),
                  ([1, 2], [2, 1])]  # fmt: skip
    for reference, current in untestable:
        assert homogeneity_test(reference, current) is None, (reference, current)


def test_chi2_refuses_mismatched_or_invalid_counts():
    with pytest.raises(ValueError, match="same bins"):
        homogeneity_test([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="count"):
        homogeneity_test([1, -2], [1, 2])


def test_chi2_with_ten_thousand_bins_and_ten_million_values():
    """Large counts and many degrees of freedom: still chi2_contingency's answer."""
    rng = np.random.default_rng(4)
    shares_ = rng.dirichlet(np.full(10_000, 50.0))
    assert_chi2_matches(rng.multinomial(10_000_000, shares_), rng.multinomial(10_000_000, shares_))


@pytest.mark.parametrize("df", [1, 2, 3, 7, 9, 19, 20, 21, 99, 1_000, 9_999, 20_000])
def test_chi2_sf_equals_scipy(df):
    """The survival function written out (no scipy import on the drift path) against scipy's
    chdtrc, from the bulk to tails of 1e-280."""
    from scipy.special import chdtrc

    sd = math.sqrt(2 * df)
    grid = np.concatenate([np.linspace(0.01, 3, 40) * df, df + sd * np.linspace(-4, 40, 45)])
    for x in grid[grid > 0]:
        expected = float(chdtrc(df, x))
        if expected > 1e-280:
            assert close(chi2_sf(float(x), df), expected, rel=1e-10), (df, x)
    assert chi2_sf(0.0, df) == 1.0


@settings(max_examples=200, deadline=None)
@given(df=st.integers(1, 50_000), x=st.floats(1e-6, 1e5))
def test_chi2_sf_equals_scipy_property(df, x):
    from scipy.special import chdtrc

    expected = float(chdtrc(df, x))
    got = chi2_sf(x, df)
    assert 0.0 <= got <= 1.0
    if expected > 1e-280:
        assert close(got, expected, rel=1e-9, abs_=1e-15)
    else:
        assert got < 1e-270


def test_chi2_sf_needs_a_degree_of_freedom():
    with pytest.raises(ValueError, match="degree of freedom"):
        chi2_sf(1.0, 0)


def test_effect_sizes_over_the_bins_seen_in_either_sample():
    sizes = effect_sizes([10, 0, 30, 0], [20, 0, 20, 5])
    assert sizes is not None
    assert close(sizes["js"], js_distance([10, 30, 0], [20, 20, 5]))
    assert close(sizes["psi"], psi([10, 30, 0], [20, 20, 5]))
    assert close(sizes["hellinger"], hellinger([10, 30, 0], [20, 20, 5]))
    assert effect_sizes([0, 0], [1, 2]) is None


# --- binned distances ----------------------------------------------------------------------------


def psi_formula(r, c):
    return np.sum((c - r) * np.log(c / r))


def hellinger_formula(r, c):
    return np.sqrt(np.sum((np.sqrt(r) - np.sqrt(c)) ** 2) / 2)


@pytest.mark.parametrize(("seed", "bins", "empty"), HISTOGRAMS)
def test_distances_equal_scipy_and_direct_formulas(seed, bins, empty):
    reference, current = histograms(seed, bins, empty)
    r, c = shares(reference), shares(current)
    assert close(js_distance(reference, current), jensenshannon(r, c, base=2))
    assert close(psi(reference, current), psi_formula(r, c))
    # The stable form sqrt(Σ(√r - √c)² / 2) of the same distance (drift uses sqrt(1 - Σ√(rc))).
    assert close(hellinger(reference, current), hellinger_formula(r, c), rel=1e-9)


def test_hand_computed_values():
    """50/50 against 25/75: every term in closed form."""
    reference, current = [50, 50], [25, 75]
    assert close(psi(reference, current), 0.25 * math.log(3))
    assert close(psi(reference, current), 0.27465307216702742)  # 40-digit Decimal
    assert close(hellinger(reference, current), math.sqrt(1 - (math.sqrt(2) + math.sqrt(6)) / 4))
    kl_r = 0.5 * math.log2(0.5 / 0.375) + 0.5 * math.log2(0.5 / 0.625)
    kl_c = 0.25 * math.log2(0.25 / 0.375) + 0.75 * math.log2(0.75 / 0.625)
    assert close(js_distance(reference, current), math.sqrt((kl_r + kl_c) / 2))
    assert close(js_distance(reference, current), 0.22089576884901741)  # 40-digit Decimal
    assert close(hellinger(reference, current), 0.18459191128251453)  # 40-digit Decimal


def test_identical_histograms_are_at_distance_zero():
    for counts in ([1, 2], [3, 5, 7], [10, 0, 20, 40]):
        assert psi(counts, counts) == 0.0
        assert js_distance(counts, counts) == 0.0


def test_hellinger_of_identical_histograms_is_zero():
    assert hellinger([0, 0, 1, 2], [0, 0, 1, 2]) == 0.0


def test_empty_bins_are_floored_at_1e_4_before_normalising():
    assert EMPTY_BIN_SHARE == 1e-4
    assert np.allclose(shares([0, 10, 10]), np.array([1e-4, 0.5, 0.5]) / 1.0001, rtol=EXACT)
    assert close(float(shares([0, 0, 4]).sum()), 1.0)
    # Disjoint supports stay finite: r = (1, 1e-4)/1.0001 and c = (1e-4, 1)/1.0001.
    expected_psi = 2 * (1 - 1e-4) / 1.0001 * math.log(1e4)  # 18.416996976180352
    assert close(psi([10, 0], [0, 10]), expected_psi)
    assert 0.99 < js_distance([10, 0], [0, 10]) < 1.0
    assert close(hellinger([10, 0], [0, 10]), math.sqrt(1 - 2 * math.sqrt(1e-4) / 1.0001))


@pytest.mark.parametrize("counts", [[0, 0, 0], []], ids=["zeros", "no-bins"])
def test_shares_refuse_an_empty_histogram(counts):
    with pytest.raises(ValueError, match="empty histogram"):
        shares(counts)
    with pytest.raises(ValueError, match="empty histogram"):
        psi(counts, counts)


@pytest.mark.parametrize(
    "counts", [[1, math.nan, 2], [1, math.inf, 2], [5, -1, 2]], ids=["nan", "inf", "negative"]
)
def test_shares_refuse_counts_that_are_not_counts(counts):
    with pytest.raises(ValueError, match="count"):
        shares(counts)


@settings(max_examples=100, deadline=None)
@given(
    pair=st.integers(1, 12).flatmap(
        lambda k: st.tuples(
            st.lists(st.integers(0, 10**6), min_size=k, max_size=k),
            st.lists(st.integers(0, 10**6), min_size=k, max_size=k),
        )
    ),
    scale=st.integers(1, 1000),
)
def test_distances_are_symmetric_bounded_and_scale_free(pair, scale):
    reference, current = pair
    if sum(reference) == 0 or sum(current) == 0:
        return
    scaled = [count * scale for count in reference]
    for distance in (psi, js_distance, hellinger):
        value = distance(reference, current)
        assert value >= 0.0
        assert close(distance(current, reference), value, rel=1e-9, abs_=1e-7)
        assert close(distance(scaled, current), value, rel=1e-9, abs_=1e-7)
    assert js_distance(reference, current) <= 1.0
    assert hellinger(reference, current) <= 1.0


# --- Benjamini–Hochberg --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "p_values",
    [
        pytest.param([0.01], id="one"),
        pytest.param([0.04, 0.01, 0.03, 0.2, 0.5], id="unsorted"),
        pytest.param([0.02, 0.02, 0.02, 0.5, 0.5], id="ties"),
        pytest.param([0.0, 1.0, 0.3, 1.0], id="zero-and-one"),
        pytest.param(np.random.default_rng(0).random(1_000) ** 3, id="random-1000"),
    ],
)
def test_benjamini_hochberg_equals_false_discovery_control(p_values):
    expected = stats.false_discovery_control(p_values, method="bh")
    assert np.allclose(benjamini_hochberg(p_values), expected, rtol=EXACT, atol=0)


def test_benjamini_hochberg_of_nothing_is_nothing():
    assert benjamini_hochberg([]).shape == (0,)
    assert stats.false_discovery_control([]).shape == (0,)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=50))
def test_benjamini_hochberg_property(p_values):
    adjusted = benjamini_hochberg(p_values)
    expected = stats.false_discovery_control(p_values, method="bh")
    assert np.allclose(adjusted, expected, rtol=EXACT, atol=0)
    assert (adjusted >= np.asarray(p_values) * (1 - 1e-15)).all()  # p·m/m may round down
    assert (adjusted <= 1.0).all()


def test_benjamini_hochberg_does_not_spread_a_nan():
    try:
        adjusted = benjamini_hochberg([0.01, math.nan, 0.04])
    except ValueError:
        return
    assert np.isfinite(adjusted[[0, 2]]).all()
