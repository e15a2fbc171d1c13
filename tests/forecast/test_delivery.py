"""The delivery forecast: known answers with much history, the prior's width with none."""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from mlpilot.domain.lifecycle import Phase, Transition
from mlpilot.errors import ValidationError
from mlpilot.forecast.delivery import forecast_delivery, learn_history
from tests.forecast.synthetic import START, forward_only, looping

MEDIANS = (10.0, 12.0, 20.0, 15.0, 6.0, 9.0)
SIGMAS = (0.4, 0.5, 0.3, 0.6, 0.4, 0.5)


def at_phase(phase: Phase) -> list[Transition]:
    """A fresh log that has just entered ``phase``."""
    return [Transition(START, None, Phase.BUSINESS_UNDERSTANDING)] + (
        [] if phase is Phase.BUSINESS_UNDERSTANDING
        else [Transition(START, Phase.BUSINESS_UNDERSTANDING, phase)]
    )  # fmt: skip


def test_much_history_recovers_the_true_remaining_time():
    rng = np.random.default_rng(11)
    reference = [forward_only(MEDIANS, SIGMAS).log(rng) for _ in range(400)]
    log = at_phase(Phase.DEPLOYMENT)
    result = forecast_delivery(log, reference, START, trials=20_000, seed=5)
    # Deployment is the last phase: the remaining time is its log-normal visit.
    truth = stats.lognorm(s=SIGMAS[5], scale=MEDIANS[5])
    for q in (0.5, 0.85, 0.95):
        days = (result.date_at(q) - START).total_seconds() / 86400
        # Monte Carlo error (4.5 SE) plus the estimation error of 400 observations (~0.03).
        assert abs(truth.cdf(days) - q) < 4.5 * math.sqrt(q * (1 - q) / 20_000) + 0.03
    assert result.to_dict()["expected_loops"] < 0.02


def test_expected_loops_follow_the_reference_class():
    rng = np.random.default_rng(12)
    back = 0.3
    reference = [looping(MEDIANS, SIGMAS, back).log(rng) for _ in range(300)]
    result = forecast_delivery(at_phase(Phase.BUSINESS_UNDERSTANDING), reference, START, seed=1)
    # Loops from modeling, evaluation, deployment (each back one phase with probability 0.3):
    # a birth-death walk over 3 phases; its expected loop count, solved exactly below.
    q, p = back, 1 - back
    # E[loops] from state i (3, 4, 5), L_i = q (1 + L_{i-1}) + p L_{i+1}; L_6 = 0, and from 2
    # the walk goes on to 3 (L_2 = L_3).
    a = np.array([[1 - q, -p, 0], [-q, 1, -p], [0, -q, 1]])
    expected = np.linalg.solve(a, [q, q, q])[0]
    assert abs(result.to_dict()["expected_loops"] - expected) < 0.1 * expected


def test_without_history_the_prior_is_wider_than_with_it():
    rng = np.random.default_rng(13)
    sigma = (0.8,) * 6
    medians = (14.0, 14.0, 21.0, 21.0, 10.0, 14.0)  # the prior's own medians
    reference = [forward_only(medians, sigma).log(rng) for _ in range(60)]
    log = at_phase(Phase.BUSINESS_UNDERSTANDING)
    bare = forecast_delivery(log, [], START, seed=3)
    informed = forecast_delivery(log, reference, START, seed=3)
    width = {
        name: (f.date_at(0.95) - f.date_at(0.5)).days
        for name, f in (("bare", bare), ("informed", informed))
    }
    assert width["bare"] > 1.3 * width["informed"], width
    assert bare.to_dict()["history_transitions"] == 0
    assert informed.to_dict()["history_initiatives"] == 60
    assert informed.to_dict()["history_transitions"] == 360


def test_a_delivered_initiative_is_complete_and_by_gives_a_probability():
    rng = np.random.default_rng(14)
    log = forward_only(MEDIANS, SIGMAS).log(rng)
    done = forecast_delivery(log, [], log[-1].at + timedelta(days=3), by=log[-1].at)
    data = done.to_dict()
    assert data["complete"] is True
    assert data["p50"] == data["p95"] == log[-1].at.isoformat()
    assert data["probability_by"] == 1.0
    open_log = at_phase(Phase.MODELING)
    later = forecast_delivery(open_log, [], START, by=START + timedelta(days=10_000), seed=2)
    soon = forecast_delivery(open_log, [], START, by=START + timedelta(days=1), seed=2)
    assert later.to_dict()["probability_by"] > 0.99
    assert soon.to_dict()["probability_by"] < 0.05


def test_history_counts_finished_visits_only():
    rng = np.random.default_rng(15)
    log = forward_only(MEDIANS, SIGMAS).log(rng)
    history = learn_history([log[:4]])  # three finished visits, the fourth still open
    assert history.transitions == 3
    assert history.initiatives == 1
    assert [len(history.log_days[p]) for p in range(7)] == [1, 1, 1, 0, 0, 0, 0]


def test_bad_input_is_refused():
    log = at_phase(Phase.MODELING)
    with pytest.raises(ValidationError, match="trials"):
        forecast_delivery(log, [], START, trials=10)
    with pytest.raises(ValidationError, match="before the last transition"):
        forecast_delivery(log, [], START - timedelta(days=1))
    with pytest.raises(ValidationError, match="not started"):
        forecast_delivery([], [], START)


@settings(max_examples=25, deadline=None)
@given(
    phase=st.sampled_from(list(Phase)[:-1]),
    elapsed=st.floats(0, 200),
    reference=st.integers(0, 6),
    seed=st.integers(0, 2**32 - 1),
)
def test_dates_are_ordered_and_the_probability_grows_with_the_date(phase, elapsed, reference, seed):
    rng = np.random.default_rng(seed)
    logs = [looping(MEDIANS, SIGMAS, back=0.2).log(rng) for _ in range(reference)]
    log = at_phase(phase)
    now = START + timedelta(days=elapsed)
    result = forecast_delivery(log, logs, now, trials=500, seed=seed)
    dates = [result.date_at(q) for q in (0.5, 0.85, 0.95)]
    assert all(d is None or d >= now for d in dates)
    finite = [d for d in dates if d is not None]
    assert finite == sorted(finite)
    chances = [result.probability_by(now + timedelta(days=d)) for d in (0, 30, 90, 365, 3650)]
    assert chances == sorted(chances)
    assert chances[0] == 0.0
