"""The experiment planner against statsmodels' power of the two-sample z-test."""

from __future__ import annotations

import math

import pytest
from statsmodels.stats.power import NormalIndPower

from mlpilot.errors import ValidationError
from mlpilot.stats.abtest import compare
from mlpilot.stats.experiments import ArmStats
from mlpilot.stats.power import Baseline, minimum_effect, power_at, sample_size

SOLVER = 1e-6  # statsmodels' own root finder stops near this relative precision


@pytest.mark.parametrize(
    ("ratio", "alpha", "power"), [(1, 0.05, 0.8), (2, 0.01, 0.9), (0.5, 0.1, 0.7)]
)
@pytest.mark.parametrize("sided", ["two", "greater"])
def test_mean_metric_sample_size_matches_statsmodels(ratio, alpha, power, sided):
    base = Baseline(10.0, 3.0)
    total = sample_size(
        base, 0.5, relative=False, alpha=alpha, power=power, shares=[1, ratio], sided=sided
    )
    n1 = NormalIndPower().solve_power(
        effect_size=0.5 / 3,
        alpha=alpha,
        power=power,
        ratio=ratio,
        alternative="two-sided" if sided == "two" else "larger",
    )
    assert total / (1 + ratio) == pytest.approx(n1, rel=SOLVER)


def test_reverse_mde_matches_statsmodels_and_round_trips():
    base = Baseline(10.0, 3.0)
    effect = minimum_effect(base, 2000, relative=False)
    d = NormalIndPower().solve_power(nobs1=1000, alpha=0.05, power=0.8, ratio=1)
    assert effect == pytest.approx(d * 3, rel=1e-5)  # statsmodels' root is the coarser one
    assert NormalIndPower().power(effect / 3, 1000, 0.05, ratio=1) == pytest.approx(0.8, rel=1e-9)
    relative = minimum_effect(base, 2000)
    assert relative == pytest.approx(effect / 10, rel=1e-9)


@pytest.mark.parametrize("rate", [0.02, 0.1, 0.5])
def test_proportion_sample_size_round_trips_and_matches_statsmodels(rate):
    base = Baseline(rate)
    total = sample_size(base, 0.1)
    assert minimum_effect(base, total) == pytest.approx(0.1, rel=1e-6)
    p2 = rate * 1.1
    pooled_sd = math.sqrt((rate * (1 - rate) + p2 * (1 - p2)) / 2)
    n1 = NormalIndPower().solve_power(effect_size=(p2 - rate) / pooled_sd, alpha=0.05, power=0.8)
    assert total / 2 == pytest.approx(n1, rel=SOLVER)


def test_the_planned_size_detects_the_effect_about_as_often_as_promised():
    base = Baseline(0.2)
    total = sample_size(base, 0.1)
    n = total / 2
    assert power_at(0.02, 0.16, 0.22 * 0.78, n, n, 0.05, "two") == pytest.approx(0.8, rel=1e-9)
    # At exactly that size, data at the expected rates gives a z of about 2.8 (1.96 + 0.84).
    a = ArmStats(round(n), 0.2 * round(n), 0.2 * round(n), "proportion")
    b = ArmStats(round(n), 0.22 * round(n), 0.22 * round(n), "proportion")
    r = compare(a, b)
    assert r.effect_abs / r.se_abs == pytest.approx(1.959964 + 0.841621, rel=1e-3)


def test_bad_plans_are_refused():
    with pytest.raises(ValidationError, match="rate"):
        sample_size(Baseline(1.5), 0.1)
    with pytest.raises(ValidationError, match="out of"):
        sample_size(Baseline(0.6), 1.0)
    with pytest.raises(ValidationError, match="non-zero"):
        sample_size(Baseline(0.1), 0.0)
    with pytest.raises(ValidationError, match="standard deviation"):
        sample_size(Baseline(3.0, 0.0), 0.1)
    with pytest.raises(ValidationError, match="positive"):
        minimum_effect(Baseline(0.1), 0)
    with pytest.raises(ValidationError, match="split"):
        sample_size(Baseline(0.1), 0.1, shares=[1, 0])
    with pytest.raises(ValidationError, match="alpha"):
        sample_size(Baseline(0.1), 0.1, power=1.0)
