"""The proper prior on effects and its posterior, against independent computations: numerical
integration (scipy.integrate) for one arm, seeded importance sampling for several."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import integrate
from scipy.stats import norm

from mlpilot.errors import ValidationError
from mlpilot.stats.abtest import compare
from mlpilot.stats.effect_prior import (
    DEFAULT_PRIOR,
    MIN_EXPERIMENTS,
    EffectPrior,
    fit_prior,
    normal_prior,
    posterior,
)
from mlpilot.stats.experiments import ArmStats


def prior_density(x: float, prior: EffectPrior) -> float:
    return sum(
        w * norm.pdf(x, prior.mean, s) for s, w in zip(prior.scales, prior.weights, strict=True)
    )


def integrated(estimate: float, se: float, prior: EffectPrior, low: float, high: float) -> float:
    """P(low <= effect <= high | estimate) by quadrature of prior × likelihood."""

    def joint(x: float) -> float:
        return prior_density(x, prior) * norm.pdf(estimate, x, se)

    edges = sorted(
        {-1.0, low if math.isfinite(low) else -1.0, high if math.isfinite(high) else 1.0, 1.0}
    )
    total = sum(integrate.quad(joint, a, b, limit=200)[0] for a, b in itertools.pairwise(edges))
    inside = integrate.quad(joint, max(low, -1.0), min(high, 1.0), limit=200)[0]
    return inside / total


@pytest.mark.parametrize(
    ("estimate", "se", "low", "high"),
    [(0.03, 0.01, 0.02, math.inf), (0.0, 0.02, -math.inf, -0.01), (0.15, 0.05, 0.05, 0.2)],
)
def test_one_effect_matches_numerical_integration(estimate, se, low, high):
    post = posterior(np.array([estimate]), np.array([[se * se]]), DEFAULT_PRIOR)
    assert post.probability(0, low, high) == pytest.approx(
        integrated(estimate, se, DEFAULT_PRIOR, low, high), abs=1e-7
    )
    mean = (
        integrate.quad(
            lambda x: x * prior_density(x, DEFAULT_PRIOR) * norm.pdf(estimate, x, se),
            -1,
            1,
            limit=200,
        )[0]
        / integrate.quad(
            lambda x: prior_density(x, DEFAULT_PRIOR) * norm.pdf(estimate, x, se), -1, 1, limit=200
        )[0]
    )
    assert post.mean() == pytest.approx(mean, abs=1e-8)


def test_arms_sharing_a_control_match_importance_sampling():
    """Three arms, correlated estimates: the exact mixture posterior against 400,000 draws of
    the prior (shared scale) weighted by the likelihood."""
    rng = np.random.default_rng(41)
    estimates = np.array([0.012, 0.025, -0.004])
    cov = np.full((3, 3), 0.006**2) + np.diag([0.008**2, 0.01**2, 0.009**2])
    exact = posterior(estimates, cov, DEFAULT_PRIOR)
    draws = 400_000
    scales = rng.choice(DEFAULT_PRIOR.scales, size=draws, p=DEFAULT_PRIOR.weights)
    effects = rng.normal(0, 1, (draws, 3)) * scales[:, None]
    resid = estimates - effects
    weight = np.exp(-0.5 * np.einsum("ij,jk,ik->i", resid, np.linalg.inv(cov), resid))
    weight /= weight.sum()
    effective = 1 / np.sum(weight**2)
    for k in range(3):
        hit = effects[:, k] >= 0.02
        sampled = float(weight @ hit)
        se = math.sqrt(sampled * (1 - sampled) / effective)
        assert exact.probability(k, low=0.02) == pytest.approx(sampled, abs=5 * se + 1e-4)


def test_the_bayesian_comparison_uses_the_mixture():
    a, b = ArmStats(5000, 1000, 1000, "proportion"), ArmStats(5000, 1100, 1100, "proportion")
    r = compare(a, b, method="bayesian", prior=DEFAULT_PRIOR, higher_is_better=False)
    flat = compare(a, b, method="frequentist")
    estimate, se = flat.effect_rel, flat.se_rel
    assert r.effect_rel == pytest.approx(
        posterior(np.array([estimate]), np.array([[se * se]]), DEFAULT_PRIOR).mean(), rel=1e-9
    )
    low, high = r.effect_rel_ci
    assert integrated(estimate, se, DEFAULT_PRIOR, -math.inf, low) == pytest.approx(0.025, abs=1e-6)
    assert integrated(estimate, se, DEFAULT_PRIOR, high, math.inf) == pytest.approx(0.025, abs=1e-6)
    assert r.chance_to_win == pytest.approx(
        integrated(estimate, se, DEFAULT_PRIOR, -1, 0), abs=1e-7
    )
    # One normal is GrowthBook's proper prior, in closed form.
    one = compare(a, b, method="bayesian", prior=(0.0, 0.05**2), higher_is_better=True)
    same = compare(a, b, method="bayesian", prior=normal_prior(0.0, 0.05**2), higher_is_better=True)
    assert one == same


def test_the_workspace_prior_recovers_the_population():
    rng = np.random.default_rng(42)
    effects = rng.normal(0.004, 0.01, 3000)
    errors = np.exp(rng.uniform(np.log(0.003), np.log(0.03), 3000))
    prior = fit_prior(effects + errors * rng.standard_normal(3000), errors)
    assert prior.source == "workspace"
    assert prior.experiments == 3000
    assert prior.mean == pytest.approx(0.004, abs=0.001)
    implied = sum(
        w * norm.sf(0.02, prior.mean, s) for s, w in zip(prior.scales, prior.weights, strict=True)
    )
    assert implied == pytest.approx(norm.sf(0.02, 0.004, 0.01), abs=0.01)
    assert "learned from 3000 past experiments" in str(prior.describe()["text"])


def test_the_workspace_prior_needs_enough_experiments():
    with pytest.raises(ValidationError, match=f"needs {MIN_EXPERIMENTS} past experiments"):
        fit_prior([0.01] * 9, [0.01] * 9)


@pytest.mark.parametrize(
    ("mean", "scales", "weights"),
    [(math.nan, (0.01,), (1.0,)), (0.0, (0.0,), (1.0,)), (0.0, (0.01, 0.02), (0.5, 0.6))],
)
def test_a_malformed_prior_is_refused(mean, scales, weights):
    with pytest.raises(ValidationError, match="a prior needs"):
        EffectPrior(mean, scales, weights)
