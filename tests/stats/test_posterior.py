"""Posteriors of model metrics: their parts checked against independent references."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from sklearn.metrics import average_precision_score, roc_auc_score

from mlpilot.stats.confusion import confusion_draws, confusion_posterior, joint_probability_at
from mlpilot.stats.joint import copula_probability
from mlpilot.stats.posterior import Posterior, ranking_posterior
from mlpilot.stats.ranking import ap_influence, auc_delong, hanley_mcneil, score_counts


@st.composite
def scored_rows(draw):
    n = draw(st.integers(6, 60))
    y = draw(
        st.lists(st.integers(0, 1), min_size=n, max_size=n).filter(
            lambda v: 1 < sum(v) < len(v) - 1
        )
    )
    p = draw(st.lists(st.integers(0, 12), min_size=n, max_size=n))  # ties are common
    return np.asarray(y), np.asarray(p) / 12


def delong_by_pairs(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    """DeLong et al. (1988) written out over every positive-negative pair."""
    pos, neg = p[y == 1], p[y == 0]
    psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    v10, v01 = psi.mean(axis=1), psi.mean(axis=0)
    return float(psi.mean()), float(v10.var(ddof=1) / pos.size + v01.var(ddof=1) / neg.size)


@settings(max_examples=60, deadline=None)
@given(scored_rows())
def test_auc_and_its_delong_variance_from_score_counts(rows):
    y, p = rows
    auc, variance = auc_delong(*score_counts(y, p))
    reference_auc, reference_variance = delong_by_pairs(y, p)
    assert auc[0] == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    assert auc[0] == pytest.approx(reference_auc, abs=1e-12)
    assert variance[0] == pytest.approx(reference_variance, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(scored_rows())
def test_average_precision_from_score_counts_equals_scikit_learn(rows):
    y, p = rows
    ap, _ = ap_influence(*score_counts(y, p))
    assert ap[0] == pytest.approx(average_precision_score(y, p), abs=1e-12)


@pytest.mark.parametrize("stratified", [False, True])
def test_the_influence_variance_of_ap_matches_the_bootstrap(stratified):
    """The delta-method variance against 4,000 bootstrap replicates of the same rows (their
    variance has a relative standard error of about 2 %; 10 % allowed)."""
    rng = np.random.default_rng(3)
    n = 3000
    y = (rng.random(n) < 0.2).astype(int)
    p = np.round(stats.norm.cdf(rng.normal(1.2 * y, 1.0)), 3)
    _, variance = ap_influence(*score_counts(y, p), stratified=stratified)
    pos, neg = score_counts(y, p)
    if stratified:
        rep_pos = rng.multinomial(int(pos.sum()), pos / pos.sum(), size=4000)
        rep_neg = rng.multinomial(int(neg.sum()), neg / neg.sum(), size=4000)
    else:
        cells = rng.multinomial(n, np.concatenate([pos, neg]) / n, size=4000)
        rep_pos, rep_neg = cells[:, : pos.size], cells[:, pos.size :]
    replicates, _ = ap_influence(rep_pos, rep_neg)
    assert variance[0] == pytest.approx(replicates.var(), rel=0.1)


def test_the_beta_posteriors_are_the_dirichlet_marginals():
    counts = {"tp": 40, "fp": 25, "fn": 15, "tn": 120}
    draws = confusion_draws(counts, size=200_000, seed=1)
    for metric in ("precision", "recall", "specificity", "accuracy", "f1"):
        posterior = confusion_posterior(counts, metric)
        for target in (0.5, 0.6, 0.7, 0.8):
            exact = posterior.probability(">=", target)
            assert exact == pytest.approx((draws[metric] >= target).mean(), abs=0.004), metric
    assert confusion_posterior(counts, "precision").probability(">=", 0.6) == pytest.approx(
        stats.beta.sf(0.6, 40.5, 25.5)
    )
    low, high = confusion_posterior(counts, "recall").interval()
    assert (low, high) == pytest.approx(tuple(stats.beta.ppf([0.025, 0.975], 40.5, 15.5)))


def test_too_few_rows_give_no_number():
    few = confusion_posterior({"tp": 3, "fp": 2, "fn": 1, "tn": 90}, "precision")
    assert few.probability(">=", 0.5) is None
    assert few.interval() == (None, None)
    assert few.note.startswith("insufficient evidence: 5 row(s) predicted positive")
    assert few.note.endswith("at least 10 are needed for precision")
    perfect = ranking_posterior("roc_auc", 1.0, 0.0, 2, 98, method="DeLong")
    assert not perfect.sufficient
    assert "2 positive" in perfect.note


def test_a_perfect_separation_of_enough_rows_is_not_certain():
    posterior = ranking_posterior("roc_auc", 1.0, 0.0, 20, 20, method="DeLong")
    low, high = posterior.interval()
    assert 0.8 < low < high < 1.0
    assert posterior.probability(">=", 0.99) < 0.9
    assert "boundary" in posterior.method


def test_the_logit_t_posterior_is_monotone_and_round_trips():
    posterior = ranking_posterior("roc_auc", 0.8, 0.03**2, 60, 240, method="DeLong")
    targets = np.linspace(0.6, 0.95, 30)
    above = [posterior.probability(">=", t) for t in targets]
    assert all(a >= b for a, b in itertools.pairwise(above))
    low, high = posterior.interval(0.9)
    assert posterior.probability(">=", low) == pytest.approx(0.95, abs=2e-3)
    assert posterior.probability("<=", high) == pytest.approx(0.95, abs=2e-3)
    again = Posterior.from_json(posterior.to_json())
    assert again.interval() == posterior.interval()


def test_two_conditions_at_one_operating_point_are_judged_jointly():
    counts = {"tp": 60, "fp": 50, "fn": 40, "tn": 300}
    both = joint_probability_at(counts, [("recall", ">=", 0.6), ("precision", ">=", 0.5)])
    alone = [
        confusion_posterior(counts, m).probability(">=", t)
        for m, t in (("recall", 0.6), ("precision", 0.5))
    ]
    assert both is not None
    assert both <= min(alone) + 0.005
    assert (
        joint_probability_at({"tp": 3, "fp": 2, "fn": 1, "tn": 9}, [("recall", ">=", 0.5)]) is None
    )


def test_the_copula_spans_independence_to_identity():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=400), rng.normal(size=400)
    assert copula_probability([0.7, 0.6], [a, b], [True, True]) == pytest.approx(0.42, abs=0.02)
    assert copula_probability([0.7, 0.6], [a, a], [True, True]) == pytest.approx(0.6, abs=0.01)
    # Opposite orientation: a criterion met by low values of the same metric.
    assert copula_probability([0.5, 0.5], [a, a], [True, False]) == pytest.approx(0.0, abs=0.01)
    assert copula_probability([0.8], [a], [True]) == 0.8


def test_hanley_mcneil_matches_its_formula():
    a, m, n = 0.8, 50, 150
    q1, q2 = a / (2 - a), 2 * a * a / (1 + a)
    expected = (a * (1 - a) + (m - 1) * (q1 - a * a) + (n - 1) * (q2 - a * a)) / (m * n)
    assert float(hanley_mcneil(a, m, n)) == pytest.approx(expected)
