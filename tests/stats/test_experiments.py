"""Experiment statistics: GrowthBook's published values, and scipy on random data."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from mlpilot.errors import ValidationError
from mlpilot.stats.abtest import compare
from mlpilot.stats.corrections import adjust, benjamini_hochberg, holm
from mlpilot.stats.experiments import ArmStats, srm_p_value, validate_arm

GB = 1e-4  # the issue's tolerance against gbstats' published numbers


def arm(values, kind="mean", covariate=None, denominator=None) -> ArmStats:
    x = np.asarray(values, float)
    extra = {}
    if covariate is not None:
        c = np.asarray(covariate, float)
        extra = {
            "covariate_sum": c.sum(),
            "covariate_sum_squares": (c * c).sum(),
            "covariate_cross_sum": (x * c).sum(),
        }
    if denominator is not None:
        y = np.asarray(denominator, float)
        extra = {
            "denominator_sum": y.sum(),
            "denominator_sum_squares": (y * y).sum(),
            "cross_sum": (x * y).sum(),
        }
    return ArmStats(len(x), float(x.sum()), float((x * x).sum()), kind, **extra)


def test_gbstats_frequentist_mean():
    a, b = ArmStats(3407, 1396.87, 52377.9767), ArmStats(3461, 2422.7, 134698.29)
    r = compare(a, b)
    assert r.effect_rel == pytest.approx(0.70732, abs=GB)
    assert r.effect_rel_ci == pytest.approx((-0.03526, 1.44989), abs=GB)
    assert r.p_value_rel == pytest.approx(0.06191, abs=GB)
    assert r.effect_abs == pytest.approx(0.29, abs=GB)
    assert r.effect_abs_ci == pytest.approx((0.04538, 0.53462), abs=GB)
    assert r.p_value == pytest.approx(0.02016, abs=GB)


def test_gbstats_binomial():
    r = compare(ArmStats(28, 14, 14, "proportion"), ArmStats(30, 16, 16, "proportion"))
    assert r.effect_rel == pytest.approx(0.06667, abs=GB)
    assert r.effect_rel_ci == pytest.approx((-0.47767, 0.61101), abs=GB)
    assert r.p_value_rel == pytest.approx(0.80707, abs=GB)


def test_gbstats_bayesian():
    a, b = ArmStats(100, 49, 49, "proportion"), ArmStats(100, 51, 51, "proportion")
    r = compare(a, b, method="bayesian", higher_is_better=True)
    assert r.effect_rel == pytest.approx(0.04082, abs=GB)
    assert r.effect_rel_ci == pytest.approx((-0.24779, 0.32943), abs=GB)
    assert r.chance_to_win == pytest.approx(0.60918, abs=GB)
    assert r.risk == pytest.approx((0.0814, 0.04058), abs=GB)
    assert r.p_value is None


def test_gbstats_corrections():
    holm_p = holm([0.01, 0.04, 0.03, 0.005, 0.55, 0.6])
    assert holm_p == pytest.approx([0.05, 0.12, 0.12, 0.03, 1, 1], abs=GB)
    bh = benjamini_hochberg([0.898, 0.138, 0.007, 0.964, 0.538, 0.006, 0.138])
    assert bh == pytest.approx([0.964, 0.2415, 0.0245, 0.964, 0.7532, 0.0245, 0.2415], abs=GB)


# Values computed with gbstats 0.8.0 (bench/.venvs/gbstats) on the same statistics.
def test_gbstats_sequential():
    a, b = ArmStats(3407, 1396.87, 52377.9767), ArmStats(3461, 2422.7, 134698.29)
    r = compare(a, b, method="sequential")
    assert r.effect_abs_ci == pytest.approx((-0.0894100955, 0.6694100955), rel=1e-8)
    assert r.p_value == pytest.approx(0.2907445592, rel=1e-8)
    # The relative sequence is Fieller's, not GrowthBook's delta method (-0.444, 1.859): at each
    # bound r, the absolute sequence of treatment - (1 + r) * control has 0 on its edge.
    for r_bound in r.effect_rel_ci:
        assert r_bound is not None
        f = 1 + r_bound
        scaled = ArmStats(a.n, a.sum * f, a.sum_squares * f * f)
        low, high = compare(scaled, b, method="sequential").effect_abs_ci
        assert min(abs(low), abs(high)) == pytest.approx(0, abs=1e-9)
    assert r.p_value_rel == r.p_value  # at r = 0 the contrast is the absolute effect


def test_gbstats_one_sided_prior_cuped_and_ratio():
    a, b = ArmStats(3407, 1396.87, 52377.9767), ArmStats(3461, 2422.7, 134698.29)
    r = compare(a, b, sided="greater")
    assert r.effect_rel_ci[0] == pytest.approx(0.0841569724, rel=1e-8)
    assert r.effect_rel_ci[1] is None
    assert r.p_value_rel == pytest.approx(0.0309559137, rel=1e-8)
    pa, pb = ArmStats(100, 49, 49, "proportion"), ArmStats(100, 51, 51, "proportion")
    r = compare(pa, pb, method="bayesian", prior=(0.1, 0.3**2), higher_is_better=True)
    assert r.effect_rel == pytest.approx(0.0523068352, rel=1e-8)
    assert r.effect_rel_ci == pytest.approx((-0.2067756264, 0.3113892968), rel=1e-8)
    assert r.chance_to_win == pytest.approx(0.6538376526, rel=1e-8)
    assert r.risk == pytest.approx((0.0829641439, 0.0306573087), rel=1e-8)
    ca = ArmStats(
        3000,
        10000,
        50000,
        covariate_sum=9000,
        covariate_sum_squares=40000,
        covariate_cross_sum=38000,
    )
    cb = ArmStats(
        3100,
        10900,
        56000,
        covariate_sum=9400,
        covariate_sum_squares=42000,
        covariate_cross_sum=41000,
    )
    r = compare(ca, cb, cuped=True)
    assert r.effect_rel == pytest.approx(0.0490109443, rel=1e-8)
    assert r.effect_rel_ci == pytest.approx((0.0178613746, 0.0801605140), rel=1e-8)
    assert r.p_value_rel == pytest.approx(0.0020485325, rel=1e-7)
    assert r.variance_reduction is not None
    assert r.variance_reduction > 0
    ra = ArmStats(1000, 5000, 40000, "ratio", 2000, 5000, 12000)
    rb = ArmStats(1020, 5400, 44000, "ratio", 2010, 5100, 13000)
    r = compare(ra, rb)
    assert r.effect_rel == pytest.approx(0.0746268657, rel=1e-8)
    assert r.effect_rel_ci == pytest.approx((0.0140331660, 0.1352205653), rel=1e-8)
    assert r.p_value_rel == pytest.approx(0.0158093563, rel=1e-7)


@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
@pytest.mark.parametrize("seed", range(5))
def test_welch_matches_scipy(seed, alternative):
    rng = np.random.default_rng(seed)
    x = rng.normal(10, 3, rng.integers(2, 400))
    y = rng.lognormal(2.3, 0.5, rng.integers(2, 400))
    sided = {"two-sided": "two", "greater": "greater", "less": "less"}[alternative]
    r = compare(arm(x), arm(y), sided=sided, alpha=0.1)
    expected = stats.ttest_ind(y, x, equal_var=False, alternative=alternative)
    assert r.p_value == pytest.approx(expected.pvalue, rel=1e-9)
    ci = expected.confidence_interval(0.9)
    low, high = r.effect_abs_ci
    assert (low if low is not None else -math.inf) == pytest.approx(ci.low, rel=1e-9)
    assert (high if high is not None else math.inf) == pytest.approx(ci.high, rel=1e-9)
    from_stats = stats.ttest_ind_from_stats(
        y.mean(),
        y.std(ddof=1),
        len(y),
        x.mean(),
        x.std(ddof=1),
        len(x),
        equal_var=False,
        alternative=alternative,
    )
    assert r.p_value == pytest.approx(from_stats.pvalue, rel=1e-9)


@pytest.mark.parametrize("seed", range(5))
def test_srm_matches_scipy_chisquare(seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 6))
    split = rng.uniform(1, 5, k)
    counts = rng.integers(0, 5000, k)
    expected = split / split.sum() * counts.sum()
    assert srm_p_value(counts.tolist(), split.tolist()) == pytest.approx(
        stats.chisquare(counts, expected).pvalue, rel=1e-9
    )


def test_cuped_equals_regression_adjusted_values():
    rng = np.random.default_rng(3)
    pre_c, pre_t = rng.normal(5, 2, 500), rng.normal(5, 2, 600)
    x_c = pre_c * 0.8 + rng.normal(0, 1, 500)
    x_t = pre_t * 0.8 + rng.normal(0.3, 1, 600)
    r = compare(arm(x_c, covariate=pre_c), arm(x_t, covariate=pre_t), cuped=True)
    both_x, both_c = np.concatenate([x_c, x_t]), np.concatenate([pre_c, pre_t])
    theta = np.cov(both_x, both_c)[0, 1] / both_c.var(ddof=1)
    adj_c, adj_t = x_c - theta * pre_c, x_t - theta * pre_t
    assert r.effect_abs == pytest.approx(adj_t.mean() - adj_c.mean(), rel=1e-9)
    var = adj_c.var(ddof=1) / 500 + adj_t.var(ddof=1) / 600
    assert r.se_abs == pytest.approx(math.sqrt(var), rel=1e-9)
    plain = compare(arm(x_c), arm(x_t))
    assert r.variance_reduction == pytest.approx(1 - var / plain.se_abs**2, rel=1e-9)
    assert r.variance_reduction > 0.5


def test_ratio_variance_is_the_linearised_variance():
    rng = np.random.default_rng(4)
    y = rng.poisson(3, 800) + 1.0
    x = y * rng.gamma(2, 5, 800)
    a = arm(x, "ratio", denominator=y)
    r = x.sum() / y.sum()
    assert a.mean == pytest.approx(r)
    assert a.variance == pytest.approx(((x - r * y) / y.mean()).var(ddof=1), rel=1e-9)


VALUES = st.floats(-1e3, 1e3).filter(lambda v: v == 0 or abs(v) > 1e-6)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(VALUES, min_size=2, max_size=30),
    st.lists(VALUES, min_size=2, max_size=30),
    st.randoms(use_true_random=False),
)
def test_row_order_does_not_matter_and_swapping_arms_negates(x, y, rnd):
    shuffled = list(y)
    rnd.shuffle(shuffled)
    one, two = compare(arm(x), arm(y)), compare(arm(x), arm(shuffled))
    if one.p_value is None:
        assert two.flag == one.flag is not None
        return
    assert two.p_value == pytest.approx(one.p_value, rel=1e-6, abs=1e-9)
    back = compare(arm(y), arm(x))
    assert back.effect_abs == pytest.approx(-one.effect_abs, rel=1e-9, abs=1e-9)
    assert back.p_value == pytest.approx(one.p_value, rel=1e-6, abs=1e-9)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=20))
def test_corrections_never_lower_a_p_value_and_holm_is_strictest(p):
    raw = np.asarray(p)
    h, b = adjust(raw, "holm"), adjust(raw, "bh")
    assert (h >= raw - 1e-12).all()
    assert (b >= raw - 1e-12).all()
    assert (h >= b - 1e-12).all()
    assert (h <= 1).all()
    assert (b <= 1).all()


def test_sequential_interval_is_wider_than_the_fixed_one():
    a, b = ArmStats(3407, 1396.87, 52377.9767), ArmStats(3461, 2422.7, 134698.29)
    fixed, seq = compare(a, b), compare(a, b, method="sequential")
    assert seq.effect_abs_ci[0] < fixed.effect_abs_ci[0]
    assert seq.effect_abs_ci[1] > fixed.effect_abs_ci[1]
    assert seq.p_value > fixed.p_value


# Adversarial inputs: a named flag, or a ValidationError naming what is wrong.
@pytest.mark.parametrize(
    ("control", "treatment", "flag"),
    [
        (ArmStats(0, 0, 0), ArmStats(10, 5, 5), "empty_arm"),
        (ArmStats(1, 3, 9), ArmStats(10, 5, 5), "too_few_units"),
        (ArmStats(10, 20, 40), ArmStats(10, 30, 90), "zero_variance"),
        (ArmStats(500, 0, 0, "proportion"), ArmStats(500, 7, 7, "proportion"), "control_mean_zero"),
    ],
)
@pytest.mark.parametrize("method", ["frequentist", "bayesian", "sequential"])
def test_degenerate_arms_are_flagged(control, treatment, flag, method):
    r = compare(control, treatment, method=method)
    assert r.flag == flag
    assert r.effect_rel is None
    assert r.effect_rel_ci == (None, None)
    if flag == "control_mean_zero":  # the absolute test still holds
        assert r.effect_abs == pytest.approx(7 / 500)
        assert r.effect_abs_ci[0] is not None
    else:
        assert r.p_value is None
        assert r.chance_to_win is None


@pytest.mark.parametrize(
    ("stats_", "needle"),
    [
        (ArmStats(10, math.nan, 5), "finite"),
        (ArmStats(10, 5, math.inf), "finite"),
        (ArmStats(10, 10, 5), "sum_squares"),
        (ArmStats(-1, 0, 0), "whole number"),
        (ArmStats(0, 3, 9), "n = 0"),
        (ArmStats(10, 12, 12, "proportion"), "[0, n]"),
        (ArmStats(10, 5, 5, "ratio"), "denominator"),
        (ArmStats(10, 10, 20, "ratio", 10, 20, 1000), "cross_sum"),
        (
            ArmStats(
                10, 10, 20, covariate_sum=10, covariate_sum_squares=20, covariate_cross_sum=-50
            ),
            "covariate_cross_sum",
        ),
        (ArmStats(10, 10, 20, "median"), "kind"),
    ],
)
def test_impossible_statistics_are_refused(stats_, needle):
    with pytest.raises(ValidationError, match="variant b") as info:
        validate_arm(stats_, "variant b, metric m")
    assert needle in str(info.value)


def test_bad_options_are_refused():
    a, b = ArmStats(10, 5, 5), ArmStats(10, 6, 6)
    for kwargs, needle in (
        ({"method": "magic"}, "method"),
        ({"alpha": 1.5}, "alpha"),
        ({"sided": "up"}, "side"),
        ({"method": "sequential", "sided": "greater"}, "two-sided"),
        ({"prior": (0.0, -1.0)}, "prior"),
        ({"tuning": 0}, "tuning"),
    ):
        with pytest.raises(ValidationError, match=needle):
            compare(a, b, **kwargs)
    with pytest.raises(ValidationError, match="split"):
        srm_p_value([10, 10], [1.0])
    with pytest.raises(ValidationError, match="correction"):
        adjust([0.1], "bonferroni")
    with pytest.raises(ValidationError, match=r"\[0, 1\]"):
        holm([0.1, math.nan])


def test_sums_beyond_float_range_are_flagged_or_refused():
    r = compare(ArmStats(2, 1e-200, 1e-300), ArmStats(2, 0.0, 0.0))
    assert r.flag == "numeric_range"
    with pytest.raises(ValidationError, match="sum_squares"):  # Σx² cannot hold (Σx)²/n
        validate_arm(ArmStats(3, 1e300, 1e308), "variant b")
