"""The Monte Carlo engine against processes whose answer is known in closed form."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from mlpilot.stats.forecast import ProcessDraws, dirichlet_cumulative, simulate

TRIALS = 20_000


def fixed(mu: list[float], sigma: list[float], transitions: list[list[float]]) -> ProcessDraws:
    """The same parameters in every trial (no parameter uncertainty)."""
    p = np.asarray(transitions, dtype=float)
    cumulative = np.cumsum(p, axis=1)
    cumulative[:, -1] = 1.0
    return ProcessDraws(
        np.tile(mu, (TRIALS, 1)).astype(float),
        np.tile(sigma, (TRIALS, 1)).astype(float),
        np.broadcast_to(cumulative, (TRIALS, *p.shape)).copy(),
    )


def within_mc_error(empirical: float, expected: float, n: int = TRIALS) -> bool:
    """|empirical - expected| within 4.5 binomial standard errors of a share."""
    se = math.sqrt(max(expected * (1 - expected), 1e-9) / n)
    return abs(empirical - expected) <= 4.5 * se


@pytest.mark.parametrize("elapsed", [0.0, 5.0, 40.0])
def test_one_lognormal_phase_gives_the_conditional_lognormal(elapsed):
    mu, sigma = math.log(20.0), 0.7
    draws = fixed([mu, 0.0], [sigma, 0.0], [[0, 1], [0, 1]])
    sim = simulate(draws, 0, elapsed, 1, np.random.default_rng(1))
    dist = stats.lognorm(s=sigma, scale=math.exp(mu))
    floor = dist.cdf(elapsed)
    for q in (0.1, 0.5, 0.85, 0.95):
        analytic = dist.ppf(floor + q * (1 - floor)) - elapsed
        assert within_mc_error(sim.probability_within(analytic), q), (q, analytic)
    assert sim.loops.sum() == 0


@pytest.mark.parametrize("q", [0.2, 0.5])
def test_a_loop_with_fixed_durations_is_geometric(q):
    # 0 -> 1 always; 1 -> terminal 2 with 1 - q, back to 0 with q; visits last 3 and 4 days.
    draws = fixed([math.log(3), math.log(4), 0], [0, 0, 0], [[0, 1, 0], [q, 0, 1 - q], [0, 0, 1]])
    sim = simulate(draws, 0, 0.0, 2, np.random.default_rng(2))
    expected_loops = q / (1 - q)
    se = math.sqrt(q) / (1 - q) / math.sqrt(TRIALS)
    assert abs(sim.loops.mean() - expected_loops) <= 4.5 * se
    for k in range(4):  # T = 7 (L + 1): P(T <= 7 (k + 1)) = 1 - q^(k + 1)
        assert within_mc_error(sim.probability_within(7 * (k + 1) + 1e-9), 1 - q ** (k + 1))
    np.testing.assert_allclose(np.unique(sim.days)[:3], [7, 14, 21])


def test_a_chain_without_loops_adds_its_means():
    mus, sigmas = [math.log(10), math.log(5), math.log(8)], [0.5, 0.3, 0.4]
    draws = fixed([*mus, 0], [*sigmas, 0], [[0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1]])
    sim = simulate(draws, 0, 0.0, 3, np.random.default_rng(3))
    means = [math.exp(m + s**2 / 2) for m, s in zip(mus, sigmas, strict=True)]
    variance = sum(
        (math.exp(s**2) - 1) * math.exp(2 * m + s**2) for m, s in zip(mus, sigmas, strict=True)
    )
    assert abs(sim.days.mean() - sum(means)) <= 4.5 * math.sqrt(variance / TRIALS)


def test_the_seed_fixes_the_result_and_the_terminal_start_is_done():
    draws = fixed([math.log(3), 0], [0.5, 0], [[0, 1], [0, 1]])
    a = simulate(draws, 0, 0.0, 1, np.random.default_rng(7)).days
    b = simulate(draws, 0, 0.0, 1, np.random.default_rng(7)).days
    np.testing.assert_array_equal(a, b)
    done = simulate(draws, 1, 0.0, 1, np.random.default_rng(7))
    assert (done.days == 0).all()


def test_a_process_that_never_ends_reports_infinity():
    draws = fixed([0, 0, 0], [0, 0, 0], [[0, 1, 0], [1, 0, 0], [0, 0, 1]])
    sim = simulate(draws, 0, 0.0, 2, np.random.default_rng(0), max_steps=20)
    assert np.isinf(sim.days).all()
    assert math.isinf(sim.quantile(0.5))


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.lists(st.floats(0, 5), min_size=4, max_size=4), min_size=4, max_size=4),
    st.integers(0, 2**32 - 1),
)
def test_dirichlet_rows_are_distributions_on_the_allowed_moves(alpha, seed):
    a = np.asarray(alpha)
    cumulative = dirichlet_cumulative(a, 50, np.random.default_rng(seed))
    assert cumulative.shape == (50, 4, 4)
    assert (np.diff(cumulative, axis=-1) >= -1e-12).all()
    np.testing.assert_array_equal(cumulative[..., -1], 1.0)
    probabilities = np.diff(cumulative, axis=-1, prepend=0.0)
    for row in range(4):
        if a[row].sum() > 0:  # a move with a zero pseudo-count never happens
            assert (probabilities[:, row, a[row] == 0] <= 1e-12).all()
        else:  # a row without moves stays put
            np.testing.assert_allclose(probabilities[:, row, row], 1.0)
