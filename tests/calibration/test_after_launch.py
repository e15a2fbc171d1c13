"""After launch: the posterior probability that the model meets its criteria *now* comes true.

Each simulated initiative has 14 daily windows of labeled predictions (150 to 600 rows each) from
a population whose quality drifts: the binormal separation follows a random walk (steps of sd
0.05), and in a fifth of the initiatives it drops or jumps once (by N(0, 0.5)) at a random window.
Two criteria: recall at the deployed threshold and ROC AUC, each with a target within ±0.1 of the
value in the *latest* window's population. The monitor's judgement
(:func:`mlpilot.monitors.judgement.judge`, the one behind the model light) states the posterior
probability of each criterion and of both; each is compared, binned, with whether the latest
population met the targets. The expected calibration error must be at most 0.05.
"""

from __future__ import annotations

import numpy as np

from mlpilot.domain.criteria import make_criterion
from mlpilot.monitors.judgement import judge
from mlpilot.stats.ranking import auc_delong
from tests.calibration import simulation as sim
from tests.calibration.test_model_probabilities import RANGE, check

INITIATIVES = 1500
WINDOWS = 14


def test_the_probability_now_is_calibrated() -> None:
    rng = np.random.default_rng(21)
    steps = rng.normal(0, 0.05, (INITIATIVES, WINDOWS))
    jumps = np.where(rng.random(INITIATIVES) < 0.2, rng.normal(0, 0.5, INITIATIVES), 0.0)
    when = rng.integers(1, WINDOWS, INITIATIVES)
    path = rng.uniform(0.8, 2.0, INITIATIVES)[:, None] + np.cumsum(steps, axis=1)
    path += jumps[:, None] * (np.arange(WINDOWS)[None, :] >= when[:, None])
    path = np.clip(path, 0.05, None)
    prevalence = rng.uniform(0.1, 0.4, INITIATIVES)
    rows = rng.integers(150, 600, (INITIATIVES, WINDOWS))
    latest = sim.population(path[:, -1], prevalence)
    first = sim.cut(latest, prevalence)  # the deployed threshold: fixed for every window
    truth = sim.truth(latest, first)
    targets = {m: np.clip(truth[m] + rng.uniform(-RANGE, RANGE, INITIATIVES), 0.01, 0.99)
               for m in ("recall", "roc_auc")}  # fmt: skip
    windows: list[list[dict]] = [[] for _ in range(INITIATIVES)]
    for j in range(WINDOWS):
        pos, neg = sim.sample(sim.population(path[:, j], prevalence), rows[:, j], rng)
        counts = sim.confusion(pos, neg, first)
        auc = auc_delong(pos, neg)[0]
        for i in range(INITIATIVES):
            windows[i].append({
                "label_coverage": 1.0, "labeled": int(rows[i, j]),
                "confusion": {k: int(v[i]) for k, v in counts.items()},
                "metrics": {"roc_auc": None if np.isnan(auc[i]) else float(auc[i])},
            })  # fmt: skip
    stated = {"recall": np.empty(INITIATIVES), "roc_auc": np.empty(INITIATIVES),
              "both": np.empty(INITIATIVES)}  # fmt: skip
    for i in range(INITIATIVES):
        criteria = [
            make_criterion(kind="model", metric=m, op=">=", target=float(targets[m][i]),
                           task="binary")
            for m in ("recall", "roc_auc")
        ]  # fmt: skip
        judged = judge({"task": "binary", "windows": windows[i]}, criteria)
        stated["recall"][i], stated["roc_auc"][i] = (
            row["probability_met"] for row in judged["criteria"]
        )
        stated["both"][i] = judged["probability_all_met"]
    met = {m: truth[m] >= targets[m] for m in ("recall", "roc_auc")}
    met["both"] = met["recall"] & met["roc_auc"]
    for name in ("recall", "roc_auc", "both"):
        check(f"after launch: {name}", stated[name], met[name])
