"""The false-alarm suite of drift's default check, on counts: every size from 1,000 to
10,000,000 rows, 2 to 10,000 categories, continuous and discrete columns.

The judgement works on summaries only (the reference's bin counts, the current data's), so the
simulation draws those summaries directly, exactly as the engine would reduce the rows (the
engine's reductions are checked against numpy in tests/engine/test_drift.py):

- categorical: multinomial counts of both samples; the reference profile holds the categories
  the reference drew, the current histogram their counts, the unseen ones counted 10 times or
  more one by one, and the rest;
- continuous: the reference's deciles are order statistics of its sample. For a continuous
  distribution the current counts between them depend only on the uniform order statistics
  (``F(x)``), drawn exactly through sums of exponentials: no 10M-row sample is ever built;
- discrete (Poisson, zero-inflated): multinomial counts of the values; deciles, point masses and
  bins computed from the counts by numpy's rule.

Each cell asserts an alarm rate (one column judged alone: the test's rejection rate at 0.05)
below 0.05 plus three Monte Carlo standard errors. docs/drift.md gives the measured table
(bench/drift_false_alarms.py, more replicates).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable

import numpy as np
import pytest

from mlpilot.engine.drift import ColumnProfile, Histogram
from mlpilot.monitors.drift_verdict import judge, judge_column

ALPHA = 0.05
LOWEST = -sys.float_info.max
DECILES = np.arange(1, 10) / 10
SIZES = (1_000, 100_000, 10_000_000)
Draw = Callable[[np.random.Generator], tuple[ColumnProfile, Histogram]]


def bound(trials: int, rate: float = ALPHA) -> float:
    return rate + 3 * math.sqrt(rate * (1 - rate) / trials)


def shares(k: int, shape: str) -> np.ndarray:
    if shape == "uniform":
        return np.full(k, 1 / k)
    weights = 1 / np.arange(1, k + 1) ** 1.1  # Zipf-like: a few common values, a long tail
    return weights / weights.sum()


# --- drawing the summaries ---------------------------------------------------------------------


def categorical(n: int, m: int, p: np.ndarray) -> Draw:
    names = np.array([f"k{i}" for i in range(p.size)], dtype=object)

    def draw(rng: np.random.Generator) -> tuple[ColumnProfile, Histogram]:
        x, y = rng.multinomial(n, p), rng.multinomial(m, p)
        seen = np.flatnonzero(x)
        seen = seen[np.lexsort((names[seen], -x[seen]))]  # by count, then by name
        unseen = np.flatnonzero(x == 0)
        frequent = unseen[y[unseen] >= 10]
        new = tuple((str(names[k]), int(y[k])) for k in frequent[np.argsort(-y[frequent])])
        profile = ColumnProfile(
            "c", "categorical", n, 0, (*x[seen].tolist(), 0), categories=tuple(names[seen])
        )
        histogram = Histogram(m, 0, (*y[seen].tolist(), int(y[unseen].sum())), new)
        return profile, histogram

    return draw


def continuous(n: int, m: int) -> Draw:
    """The reference's deciles by numpy's rule (h = (n - 1) p, between x[floor h] and the next
    value), on uniform order statistics drawn exactly; any continuous distribution gives the
    same counts."""
    h = (n - 1) * DECILES
    low = np.floor(h).astype(np.int64)
    frac = h - low
    ranks = np.unique(np.concatenate([low, np.minimum(low + 1, n - 1)]))
    below = np.where(frac > 0, low + 1, low)  # reference values below each decile

    def draw(rng: np.random.Generator) -> tuple[ColumnProfile, Histogram]:
        # U(r) = S(r + 1) / S(n + 1), S(k) a sum of k standard exponentials
        steps = np.diff(np.concatenate([[0], ranks + 1, [n + 1]])).astype(float)
        sums = np.cumsum(rng.gamma(steps))
        order = dict(zip(ranks.tolist(), (sums[:-1] / sums[-1]).tolist(), strict=True))
        deciles = [
            order[r] + f * (order[min(r + 1, n - 1)] - order[r])
            for r, f in zip(low.tolist(), frac.tolist(), strict=True)
        ]
        cdf = np.diff(np.concatenate([[0.0], deciles, [1.0]]))
        current = rng.multinomial(m, cdf)
        reference = np.diff(np.concatenate([[0], below, [n]]))
        edges = (LOWEST, *deciles, math.inf)
        profile = ColumnProfile("x", "numeric", n, 0, (0, *reference, 0), edges=edges)
        return profile, Histogram(m, 0, (0, *current.tolist(), 0))

    return draw


def discrete(n: int, m: int, p: np.ndarray) -> Draw:
    """Values 0, 1, … with shares ``p``: deciles by numpy's rule on the sorted reference, a bin
    of its own for a decile held by at least 1 % of the reference (every one here)."""
    values = np.arange(p.size, dtype=float)

    def draw(rng: np.random.Generator) -> tuple[ColumnProfile, Histogram]:
        x, y = rng.multinomial(n, p), rng.multinomial(m, p)
        cumulative = np.cumsum(x)
        h = (n - 1) * DECILES
        at = values[np.searchsorted(cumulative, np.floor(h), side="right")]
        after = values[
            np.searchsorted(cumulative, np.minimum(np.floor(h) + 1, n - 1), side="right")
        ]
        deciles = np.unique(at + (after - at) * (h - np.floor(h)))
        atoms = [d for d in deciles if d == round(d) and x[int(d)] >= max(2, n / 100)]
        edges = np.unique(
            [LOWEST, *deciles, *(math.nextafter(a, math.inf) for a in atoms), math.inf]
        )

        def binned(counts: np.ndarray) -> tuple[int, ...]:
            index = np.searchsorted(edges, values, side="right")
            return tuple(np.bincount(index, weights=counts, minlength=edges.size + 1).astype(int))

        profile = ColumnProfile("x", "numeric", n, 0, binned(x), edges=tuple(edges))
        return profile, Histogram(m, 0, binned(y))

    return draw


def alarm_rate(draw: Draw, reps: int, seed: int) -> float:
    """The share of ``reps`` comparisons of one column in which it drifted."""
    rng = np.random.default_rng(seed)
    alarms = 0
    for _ in range(reps):
        profile, histogram = draw(rng)
        column = judge_column(profile, histogram)
        assert column.p_value is not None or column.note
        alarms += bool(column.p_value is not None and column.p_value < ALPHA)
    return alarms / reps


# --- the grid ----------------------------------------------------------------------------------

CATEGORICAL = [
    pytest.param(n, k, shape, id=f"n{n:_}-k{k}-{shape}")
    for n in SIZES
    for k in (2, 200, 10_000)
    for shape in ("uniform", "zipf")
]


@pytest.mark.parametrize(("n", "k", "shape"), CATEGORICAL)
def test_categorical_false_alarm_rate(n, k, shape):
    reps = 300 if k == 10_000 else 800
    rate = alarm_rate(categorical(n, n, shares(k, shape)), reps, seed=n + k)
    assert rate <= bound(reps), rate


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("ratio", [1, 10, 0.1], ids=["same", "current-10x", "reference-10x"])
def test_continuous_false_alarm_rate(n, ratio):
    """Any continuous column — heavy-tailed (lognormal, Pareto, Cauchy) or not — gives these
    counts: the bins are the reference's own quantiles."""
    m = max(int(n * ratio), 1_000)
    reps = 1_000
    rate = alarm_rate(continuous(n, m), reps, seed=n + m)
    assert rate <= bound(reps), rate


POISSON = np.diff(
    np.concatenate(
        [[0.0], np.exp(-3.0) * np.cumsum([3.0**k / math.factorial(k) for k in range(15)]), [1.0]]
    )
)
ZERO_INFLATED = np.array([0.94, *np.full(30, 0.06 / 30)])  # 94 % zeros, the rest spread


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("p", [POISSON, ZERO_INFLATED], ids=["poisson", "zero-inflated"])
def test_discrete_false_alarm_rate(n, p):
    reps = 600
    rate = alarm_rate(discrete(n, n, p), reps, seed=n + p.size)
    assert rate <= bound(reps), rate


def test_the_dataset_false_alarm_rate():
    """Twenty columns of every kind, nothing changed: dataset drift (half the columns drifted
    after Benjamini–Hochberg) in at most ~5 % of the comparisons, and the columns' alarms
    rarer still."""
    rng = np.random.default_rng(14)
    draws = [
        *(categorical(1_001, 1_001, shares(200, "uniform")) for _ in range(5)),
        *(categorical(5_000, 20_000, shares(50, "zipf")) for _ in range(5)),
        *(continuous(1_001, 1_001) for _ in range(5)),
        *(discrete(3_000, 1_000, POISSON) for _ in range(5)),
    ]
    reps = 300
    datasets = columns = 0
    for _ in range(reps):
        pairs = [draw(rng) for draw in draws]
        profiles = {f"c{j}": p for j, (p, _) in enumerate(pairs)}
        report = judge(
            {name: _renamed(p, name) for name, p in profiles.items()},
            {f"c{j}": h for j, (_, h) in enumerate(pairs)},
        )
        datasets += report.dataset_drift
        columns += sum(c.drifted for c in report.columns)
    assert datasets / reps <= bound(reps)
    assert columns / (reps * len(draws)) <= bound(reps * len(draws))


def _renamed(profile: ColumnProfile, name: str) -> ColumnProfile:
    from dataclasses import replace

    return replace(profile, name=name)


# --- power, on the same summaries --------------------------------------------------------------


def test_a_category_share_change_of_five_points_is_caught_among_200():
    """One category of 200 goes from 5 % to 10 % of the rows (the rest shrink evenly)."""
    p = np.full(200, 0.95 / 199)
    p[0] = 0.05
    q = np.full(200, 0.90 / 199)
    q[0] = 0.10
    rng = np.random.default_rng(15)
    found = 0
    for _ in range(50):
        profile, _ = categorical(5_000, 5_000, p)(rng)
        index = {name: k for k, name in enumerate(profile.categories)}
        y = rng.multinomial(5_000, q)  # the current sample, on the reference's categories
        seen = [0] * len(index)
        for k in range(200):
            if f"k{k}" in index:
                seen[index[f"k{k}"]] = int(y[k])
        current = Histogram(5_000, 0, (*seen, 5_000 - sum(seen)))
        found += judge_column(profile, current).drifted
    assert found / 50 >= 0.9


@pytest.mark.parametrize("ratio", [10, 0.1], ids=["current-10x", "reference-10x"])
@pytest.mark.parametrize("k", [200, 10_000])
def test_categorical_false_alarm_rate_with_unequal_sizes(k, ratio):
    n = 100_000
    reps = 300
    rate = alarm_rate(categorical(n, int(n * ratio), shares(k, "zipf")), reps, seed=k + 7)
    assert rate <= bound(reps), rate


def test_a_small_shift_at_ten_million_rows_is_caught():
    """At 10M rows a shift of 0.01 of the current counts from the lowest decile bin to the
    highest one is found: the test grows more sensitive with the data, and the effect sizes say
    how small the change is."""
    rng = np.random.default_rng(16)
    found = 0
    for _ in range(20):
        profile, histogram = continuous(10_000_000, 10_000_000)(rng)
        bins = list(histogram.bins)
        moved = bins[1] // 100
        bins[1] -= moved
        bins[-2] += moved
        column = judge_column(profile, Histogram(histogram.count, 0, tuple(bins)))
        found += column.drifted
        assert column.effect_size is not None
        assert column.effect_size["js"] < 0.01
    assert found == 20
