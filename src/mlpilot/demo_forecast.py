"""Feasibility evidence for the demo: offline evaluations at growing training sizes.

:func:`add_demo_evaluations` records, for *churn* (binary) and *demand-forecast* (regression),
evaluations of synthetic validation sets whose quality improves with the training size along a
power law, dated while those initiatives were modeling — so the demo shows feasibility with
bootstrap intervals, a learning curve, and the model uncertainty's history. The data are
generated from a fixed seed: the same every run.

:func:`add_inflight_initiative` adds *fraud-alerts*, still modeling after a loop, so that the
demo has an initiative whose delivery forecast is a real range (the three others are delivered
or stopped).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from mlpilot.demo import replay

if TYPE_CHECKING:
    from mlpilot.workspace import Workspace

__all__ = [
    "CHURN_EVALUATIONS",
    "FORECAST_EVALUATIONS",
    "FRAUD_MOVES",
    "add_demo_evaluations",
    "add_inflight_initiative",
]

# (day after the initiative's start, training rows, true ROC AUC of the model at that size)
CHURN_EVALUATIONS = [
    (70, 5_000, 0.74),
    (85, 10_000, 0.79),
    (115, 20_000, 0.83),
    (128, 40_000, 0.86),
]
# (day, training days of history, true MAPE)
FORECAST_EVALUATIONS = [(60, 90, 0.19), (68, 180, 0.155), (88, 365, 0.13), (100, 730, 0.115)]
ROWS = 3_000  # validation rows per evaluation
# churn: two weeks of the subscribers scored (500 a day, as in production), with their times, so
# that "the 500 most at risk each week" is judged offline where the team runs the model.
CHURN_DAYS, CHURN_PER_DAY = 14, 500


def add_demo_evaluations(
    workspace: Workspace, churn_start: datetime, forecast_start: datetime, seed: int = 7
) -> None:
    """Record the demo's evaluations (churn and demand-forecast must exist, criteria declared)."""
    import numpy as np
    from scipy import stats

    rng = np.random.default_rng(seed)
    churn = workspace.initiative("churn")
    rows = CHURN_DAYS * CHURN_PER_DAY
    for day, size, auc in CHURN_EVALUATIONS:
        y = (rng.random(rows) < 0.2).astype(int)
        separation = math.sqrt(2) * float(stats.norm.ppf(auc))  # binormal: AUC = Φ(d / √2)
        score = 1 / (1 + np.exp(-(rng.normal(separation * y, 1.0) - 1.5)))
        at = churn_start + timedelta(days=day, hours=15)
        first = (at - timedelta(days=CHURN_DAYS)).date()  # two full weeks, Monday to Sunday
        first -= timedelta(days=first.weekday())
        seconds = rng.integers(0, CHURN_DAYS * 86_400, rows).astype("timedelta64[s]")
        churn.evaluate(
            {"y": y, "p": score, "t": np.datetime64(first, "s") + seconds}, time_column="t",
            train_size=size, name=f"gbm-{size // 1000}k", at=at,
        )  # fmt: skip
    demand = workspace.initiative("demand-forecast")
    for day, history_days, mape in FORECAST_EVALUATIONS:
        actual = rng.lognormal(math.log(1_000), 0.3, ROWS)
        # |N(0, s)| has mean s·√(2/π): relative errors of spread s give that MAPE.
        predicted = actual * (1 + rng.normal(0, mape / math.sqrt(2 / math.pi), ROWS))
        demand.evaluate(
            {"y": actual, "p": predicted}, train_size=history_days,
            name=f"calendar-model-{history_days}d",
            at=forecast_start + timedelta(days=day, hours=15),
        )  # fmt: skip
    churn.assess_model_uncertainty()  # after deployment: from the model monitor


# (day after the start, phase, cause, reason)
FRAUD_MOVES = [
    (12, "data-understanding", None, None),
    (26, "data-preparation", None, None),
    (45, "modeling", None, None),
    (58, "data-preparation", "data",
     "Chargeback labels arrive up to 60 days late: the last two months cannot be used"),
    (66, "modeling", None, None),
]  # fmt: skip
FRAUD_EVALUATIONS = [(52, 20_000, 0.80), (70, 40_000, 0.83)]


def add_inflight_initiative(workspace: Workspace, now: datetime, seed: int = 11) -> None:
    """Create *fraud-alerts* (started 75 days before ``now``, modeling) with two evaluations."""
    import numpy as np
    from scipy import stats

    start = now - timedelta(days=75)
    fraud = workspace.create_initiative(
        "fraud-alerts",
        name="Flag card payments likely to be fraudulent",
        problem="Fraud analysts review payments in arrival order and find fraud days late.",
        prediction_use="Analysts review the 300 riskiest payments of each day first.",
        task="binary",
        shape="batch",
        baseline="Rules on amount and country maintained by the fraud team",
        baseline_value=0.35,
        baseline_metric="recall",
        started=start,
    )
    replay(fraud, start, FRAUD_MOVES)
    fraud.add_criterion(
        "model", "recall", ">=", 0.6, at="precision>=0.3", top=300, per="day",
        plan="Keep the analysts' rules",
    )  # fmt: skip
    fraud.add_criterion("model", "roc_auc", ">=", 0.85)
    for person, role in (("Ana Ruiz", "product-manager"), ("Ben Okafor", "data-scientist")):
        fraud.add_member(person, role, 0.5)
    rng = np.random.default_rng(seed)
    for day, size, auc in FRAUD_EVALUATIONS:
        y = (rng.random(ROWS) < 0.05).astype(int)
        separation = math.sqrt(2) * float(stats.norm.ppf(auc))
        score = 1 / (1 + np.exp(-(rng.normal(separation * y, 1.0) - 3.0)))
        fraud.evaluate(
            {"y": y, "p": score}, train_size=size, name=f"xgb-{size // 1000}k",
            at=start + timedelta(days=day, hours=15),
        )  # fmt: skip
