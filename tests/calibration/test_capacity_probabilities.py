"""The probability stated offline for a capacity criterion (top k per period) is calibrated.

Many initiatives are drawn with known truth: binormal scores of separation d, prevalence π, a
population of N scored each period of which the team acts on the top k, so the true
precision@k is π·Φ̄(t − d)/q at the score t above which a share q = k/N of the population lies
(lift@k = precision@k / π). An evaluation set of n rows is drawn, the top round(k·n/N) rows are
selected (``--per-period N``), and the stated posterior probability that the criterion is met is
compared with whether it is. Targets are drawn around the truth so that every bin is used.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize, stats

from mlpilot.forecast.capacity_offline import select
from mlpilot.stats.confusion import confusion_posterior
from tests.calibration.test_model_probabilities import check

K, N, ROWS = 500, 20_000, 4_000  # selected per set: 500 · 4000 / 20000 = 100


def true_precision(separation: float, prevalence: float) -> float:
    share = K / N

    def excess(t: float) -> float:
        flagged = prevalence * stats.norm.sf(t - separation) + (1 - prevalence) * stats.norm.sf(t)
        return float(flagged - share)

    cut = optimize.brentq(excess, -10, 20)
    return float(prevalence * stats.norm.sf(cut - separation) / share)


@pytest.mark.parametrize(("metric", "sets"), [("precision", 1500), ("lift", 500)])
def test_capacity_probability_met_is_calibrated(metric, sets):
    rng = np.random.default_rng(20261208 + len(metric))
    stated, happened, covered = [], [], []
    for _ in range(sets):
        separation, prevalence = rng.uniform(0.8, 2.2), rng.uniform(0.05, 0.3)
        truth = true_precision(separation, prevalence)
        truth = truth / prevalence if metric == "lift" else truth
        y = (rng.random(ROWS) < prevalence).astype(np.float64)
        scores = rng.normal(separation * y, 1.0)
        chosen, _ = select(scores, K, "week", per_period=N)
        tp = int((chosen & (y == 1)).sum())
        counts = {"tp": tp, "fp": int(chosen.sum()) - tp, "fn": int(y.sum()) - tp}
        counts["tn"] = ROWS - counts["tp"] - counts["fp"] - counts["fn"]
        posterior = confusion_posterior(counts, metric)
        target = truth * (1 + rng.normal(0, 0.12))
        stated.append(posterior.probability(">=", target))
        happened.append(truth >= target)
        low, high = posterior.interval(0.95)
        covered.append(low <= truth <= high)
    check(f"{metric} at top {K} per week", np.array(stated), np.array(happened))
    coverage = float(np.mean(covered))
    se = np.sqrt(0.95 * 0.05 / sets)
    print(f"{metric}@k 95 % credible interval coverage {coverage:.3f} (MC se {se:.3f})")
    assert abs(coverage - 0.95) <= max(0.02, 3 * se)
