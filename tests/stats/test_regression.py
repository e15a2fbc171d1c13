"""Regression metrics from sums against scikit-learn on the rows the sums came from."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics
from sklearn.exceptions import UndefinedMetricWarning

from mlpilot.stats.regression import pooled_squared_deviation, regression_metrics
from tests.stats import engine

EXACT = 1e-12


def sklearn_metrics(y, yhat):
    return {
        "mae": metrics.mean_absolute_error(y, yhat),
        "rmse": metrics.root_mean_squared_error(y, yhat),
        "mape": metrics.mean_absolute_percentage_error(y, yhat),
        "r2": metrics.r2_score(y, yhat),
    }


def assert_matches(y, yhat, rel=EXACT):
    ours = regression_metrics(*engine.regression_sums(y, yhat))
    theirs = sklearn_metrics(np.asarray(y, float), np.asarray(yhat, float))
    assert ours.keys() == theirs.keys()
    for key in ours:
        assert math.isclose(ours[key], theirs[key], rel_tol=rel, abs_tol=1e-15), (key, ours, theirs)


@pytest.mark.parametrize(("seed", "n"), [(0, 2), (1, 10), (2, 1_000), (3, 200_000)])
@pytest.mark.parametrize("scale", [1e-6, 1.0, 1e12])
def test_regression_metrics_equal_sklearn(seed, n, scale):
    rng = np.random.default_rng(seed)
    y = rng.lognormal(size=n) * scale
    yhat = y + rng.normal(scale=0.3, size=n) * scale
    assert_matches(y, yhat)


@pytest.mark.parametrize(
    ("y", "yhat"),
    [
        pytest.param([0.0, 1.0, 2.0, 0.0], [0.5, 1.0, 2.5, 0.0], id="y-with-zeros"),
        pytest.param([0.0, 0.0], [1e-300, -3.0], id="only-zeros"),
        pytest.param([-2.0, 3.0, -1e-20], [-1.0, 3.5, 1e-20], id="negative-and-tiny-y"),
        pytest.param([1e12, 1e12 + 1, 1e12 + 3], [1e12 + 2, 1e12, 1e12 + 3], id="huge-offset"),
        pytest.param([1.0, 1.0 + 1e-12, 1.0 + 3e-12], [1.0 + 1e-12, 1.0, 1.0], id="tiny-diffs"),
        pytest.param([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], id="perfect"),
        pytest.param([1.0, 2.0, 3.0], [3.0, 2.0, 1.0], id="anti"),
    ],
)
def test_regression_metrics_adversarial(y, yhat):
    assert_matches(y, yhat)


def test_mape_of_a_zero_target_divides_by_float64_eps():
    y, yhat = np.array([0.0, 2.0]), np.array([1.0, 1.0])
    result = regression_metrics(*engine.regression_sums(y, yhat))
    assert result["mape"] == pytest.approx((1 / np.finfo(np.float64).eps + 0.5) / 2, rel=EXACT)
    assert_matches(y, yhat)


@pytest.mark.parametrize("value", [0.0, 2.0, -0.5, 1e12])
def test_constant_y_follows_force_finite(value):
    y = np.full(4, value)
    perfect = regression_metrics(*engine.regression_sums(y, y))
    assert perfect["r2"] == 1.0
    assert_matches(y, y)
    off = y + np.array([0.0, 1.0, -1.0, 0.5])
    assert regression_metrics(*engine.regression_sums(y, off))["r2"] == 0.0
    assert_matches(y, off)


def test_constant_y_whose_mean_does_not_round_trip():
    """sklearn's mean of [0.1] * 3 is 0.10000000000000002, so it does not see a constant y."""
    y, yhat = np.full(3, 0.1), np.array([0.1, 0.1, 0.2])
    assert metrics.r2_score(y, yhat) < -1e30
    assert_matches(y, yhat)  # an engine that computes Σ(y - ȳ)² the same way agrees ...
    sums = list(engine.regression_sums(y, yhat))
    sums[5] = 0.0  # ... and one that passes 0 when MIN(y) == MAX(y) gets the intended 0.0
    assert regression_metrics(*sums)["r2"] == 0.0


def test_one_row_has_no_r2():
    result = regression_metrics(*engine.regression_sums([3.0], [2.0]))
    assert result == {"mae": 1.0, "rmse": 1.0, "mape": pytest.approx(1 / 3), "r2": result["r2"]}
    assert math.isnan(result["r2"])
    with pytest.warns(UndefinedMetricWarning, match="less than two samples"):
        assert math.isnan(metrics.r2_score([3.0], [2.0]))


def test_no_rows_gives_nan_everywhere():
    assert all(math.isnan(value) for value in regression_metrics(0, 0, 0, 0, 0, 0).values())
    with pytest.raises(ValueError, match="non-negative row count"):
        regression_metrics(-1, 0, 0, 0, 0, 0)


def test_nan_in_the_rows_gives_nan():
    """sklearn refuses NaN rows; the sums of an engine that did not filter them carry NaN."""
    y, yhat = np.array([1.0, np.nan, 3.0]), np.array([1.5, 2.0, 2.0])
    result = regression_metrics(*engine.regression_sums(y, yhat))
    assert all(math.isnan(value) for value in result.values())
    with pytest.raises(ValueError, match="NaN"):
        metrics.mean_absolute_error(y, yhat)
    assert math.isnan(regression_metrics(3, 1.0, math.nan, 1.0, 6.0, 2.0)["r2"])
    assert math.isnan(regression_metrics(3, 1.0, 1.0, 1.0, 6.0, math.nan)["r2"])


def test_textbook_variance_formula_would_lose_the_r2():
    """Why the engine sums (y - ȳ)²: Σy² - (Σy)²/n cancels when the mean dwarfs the spread."""
    rng = np.random.default_rng(1)
    y = 1e9 + rng.normal(size=10_000)
    yhat = y + rng.normal(scale=0.1, size=y.size)
    sums = list(engine.regression_sums(y, yhat))
    good = regression_metrics(*sums)["r2"]
    sums[5] = float(np.sum(y**2) - np.sum(y) ** 2 / y.size)
    bad = regression_metrics(*sums)["r2"]
    assert math.isclose(good, metrics.r2_score(y, yhat), rel_tol=EXACT)
    assert abs(bad - good) > 1e-3


# --- batches ------------------------------------------------------------------------------------


def test_pooled_squared_deviation_edge_cases():
    assert pooled_squared_deviation([], [], []) == 0.0
    assert pooled_squared_deviation([0, 0], [0.0, 0.0], [0.0, 0.0]) == 0.0
    assert pooled_squared_deviation([0, 2], [0.0, 4.0], [2.0, 2.0]) == 2.0
    with pytest.raises(ValueError, match="one entry per batch"):
        pooled_squared_deviation([1, 2], [1.0], [0.0, 0.0])
    with pytest.raises(ValueError, match="non-negative"):
        pooled_squared_deviation([-1], [1.0], [0.0])


values = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=100, deadline=None)
@given(
    rows=st.lists(st.tuples(values, values), min_size=2, max_size=60),
    offset=st.sampled_from([0.0, 1e9]),
    data=st.data(),
)
def test_metrics_do_not_depend_on_row_order_or_batches(rows, offset, data):
    y = np.array([a for a, _ in rows]) + offset
    yhat = np.array([b for _, b in rows]) + offset
    order = np.array(data.draw(st.permutations(range(len(rows)))))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(rows)), max_size=4)))
    batches = [order[a:b] for a, b in zip([0, *cuts], [*cuts, len(rows)], strict=True)]

    parts = np.array([engine.regression_sums(y[b], yhat[b]) for b in batches])
    pooled = pooled_squared_deviation(parts[:, 0], parts[:, 4], parts[:, 5])
    merged = regression_metrics(int(parts[:, 0].sum()), *parts[:, 1:5].sum(axis=0), pooled)
    whole = regression_metrics(*engine.regression_sums(y, yhat))

    _, _, residual, _, _, deviation = engine.regression_sums(y, yhat)
    # Σ(y - ȳ)² around a mean rounded at u = a few ulps of max|y| is only that exact:
    u = 64 * np.finfo(np.float64).eps * np.abs(y).max()
    tolerance = EXACT * deviation + 2 * u * np.abs(y - y.mean()).sum() + y.size * u**2
    assert abs(pooled - deviation) <= tolerance
    for key in ("mae", "rmse", "mape"):
        assert math.isclose(merged[key], whole[key], rel_tol=EXACT)
    if deviation > 1e3 * tolerance:  # otherwise R² is ill-conditioned in sklearn as well
        # R² = 1 - R/D moves by (R/D)·(dD/D) when D moves by dD.
        r2_tolerance = residual / deviation * tolerance / deviation
        assert math.isclose(merged["r2"], whole["r2"], rel_tol=EXACT, abs_tol=r2_tolerance)
