"""Learning-curve fits recover known power laws and refuse what they cannot extrapolate."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlpilot.stats.learning_curve import fit_learning_curve, pow3, pow4

SIZES = np.array([250, 500, 1000, 2000, 4000, 8000, 16000], dtype=float)


# Derandomized: the fit rightly refuses about 1% of noise samples (chi-square p < 0.01), so
# fresh random examples on every run would fail now and then for the right reason.
@settings(max_examples=15, deadline=None, derandomize=True)
@given(
    a=st.floats(0.6, 0.95),
    b=st.floats(3.0, 10.0),
    c=st.floats(0.3, 0.7),
    seed=st.integers(0, 2**32 - 1),
)
def test_pow3_recovers_known_parameters(a, b, c, seed):
    se = np.full(SIZES.size, 0.002)
    y = pow3(SIZES, a, -b, c) + np.random.default_rng(seed).normal(0, se)
    fit = fit_learning_curve(SIZES, y, se, planned_size=50_000)
    truth = float(pow3(np.array([50_000.0]), a, -b, c)[0])
    assert fit.regular, fit.reason
    # The extrapolation lands near the truth (a few noise SE). The asymptote itself is only
    # identified when the curve has nearly flattened by the largest size.
    assert fit.estimate == pytest.approx(truth, abs=0.02)
    if b * SIZES[-1] ** -c < 0.05:
        assert fit.params["a"] == pytest.approx(a, abs=0.03)
    assert fit.low < fit.estimate < fit.high


def test_pow4_is_chosen_for_a_late_bend_and_covers_the_truth():
    se = np.full(SIZES.size, 0.001)
    y = pow4(SIZES, 0.9, -40.0, 0.7, 3000.0)
    fit = fit_learning_curve(SIZES, y, se, planned_size=40_000)
    truth = float(pow4(np.array([40_000.0]), 0.9, -40.0, 0.7, 3000.0)[0])
    assert fit.model == "pow4"
    assert fit.low <= truth <= fit.high
    assert fit.params["d"] == pytest.approx(3000, rel=0.05)


def test_error_metrics_fall_with_data():
    se = np.full(SIZES.size, 0.002)
    y = pow3(SIZES, 0.1, 3.0, 0.5) + np.random.default_rng(1).normal(0, se)
    fit = fit_learning_curve(SIZES, y, se, planned_size=30_000, higher_is_better=False)
    assert fit.regular
    assert fit.estimate == pytest.approx(pow3(np.array([30_000.0]), 0.1, 3.0, 0.5)[0], abs=0.01)


@pytest.mark.parametrize("seed", range(5))
def test_noise_is_refused(seed):
    rng = np.random.default_rng(seed)
    y = rng.uniform(0.6, 0.8, SIZES.size)  # no relation to the size, errors claimed small
    fit = fit_learning_curve(SIZES, y, np.full(SIZES.size, 0.005), planned_size=50_000)
    assert not fit.regular
    assert fit.estimate is None
    assert fit.reason


def test_a_flat_curve_has_no_trend_to_extrapolate():
    rng = np.random.default_rng(3)
    se = np.full(SIZES.size, 0.01)
    y = 0.7 + rng.normal(0, se)
    fit = fit_learning_curve(SIZES, y, se, planned_size=50_000)
    assert not fit.regular
    assert fit.estimate is None
    assert any(word in fit.reason for word in ("trend", "scatter", "irregular", "worse"))


def test_a_curve_that_worsens_and_too_few_points_are_refused():
    se = np.full(SIZES.size, 0.002)
    worse = pow3(SIZES, 0.7, 2.0, 0.5)  # rises towards 0.7 from above: worse with data
    assert "worse" in fit_learning_curve(SIZES, worse, se, planned_size=1e5).reason
    short = fit_learning_curve(SIZES[:3], worse[:3], se[:3], planned_size=1e5)
    assert "3" in short.reason
    assert not short.regular
    with pytest.raises(ValueError, match="positive"):
        fit_learning_curve([0, 1, 2, 3], [1, 1, 1, 1], [0.1] * 4, planned_size=10)
