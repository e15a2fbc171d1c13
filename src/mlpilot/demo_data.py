"""Synthetic monitoring data for the demo's churn initiative (seeded, so every demo matches).

60 days of predictions (500 a day) from a logistic churn model, outcomes that arrive 3 to 14
days after each prediction, and the training data as the reference. From day 35 to day 45 a
competitor's promotion shifts the population: usage drops, more customers on the basic plan,
and churn rises in a way the model has not learned — drift, and a dip in recall.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np

DAYS = 60
PER_DAY = 500
REFERENCE_ROWS = 20_000
EPISODE = range(35, 46)
PLANS = np.array(["basic", "standard", "premium"])
REGIONS = np.array(["north", "south", "east", "west"])
CONTRACTS = np.array(["monthly", "annual"])


@dataclass(frozen=True)
class DemoData:
    """Arrow tables ready for ``log_predictions``, ``log_outcomes`` and ``add_reference``."""

    reference: Any
    predictions: Any
    outcomes: Any


def _customers(rng: np.random.Generator, n: int, shifted: bool) -> dict[str, np.ndarray]:
    plan_share = [0.55, 0.3, 0.15] if shifted else [0.35, 0.4, 0.25]
    return {
        "tenure_months": rng.gamma(2.0, 12.0, n).round(1),
        "monthly_charges": rng.normal(55, 18, n).clip(10, 150).round(2),
        "support_calls": rng.poisson(2.4 if shifted else 1.2, n),
        "usage_drop": rng.beta(3 if shifted else 2, 5, n).round(3),
        "plan": PLANS[rng.choice(3, n, p=plan_share)],
        "region": REGIONS[rng.choice(4, n)],
        "contract": CONTRACTS[rng.choice(2, n, p=[0.6, 0.4])],
    }


def _model_logit(x: dict[str, np.ndarray]) -> np.ndarray:
    return np.asarray(
        -2.6
        - 0.07 * x["tenure_months"]
        + 0.6 * x["support_calls"]
        + 5.0 * x["usage_drop"]
        + 1.5 * (x["contract"] == "monthly")
        + 0.5 * (x["plan"] == "basic")
    )


def _true_probability(x: dict[str, np.ndarray], shifted: bool) -> np.ndarray:
    logit = _model_logit(x)
    if shifted:  # the promotion pulls basic-plan customers away, which the model never saw
        logit = 0.4 * logit + 1.8 * (x["plan"] == "basic") + 0.6 * (x["region"] == "south") - 1.0
    return np.asarray(1 / (1 + np.exp(-logit)))


def generate(start: datetime, seed: int = 7) -> DemoData:
    """The demo's reference, predictions and outcomes; prediction days start at ``start``."""
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    training = _customers(rng, REFERENCE_ROWS, shifted=False)
    training_label = rng.uniform(size=REFERENCE_ROWS) < _true_probability(training, False)
    reference = pa.table({**training, "label": training_label.astype(np.int64)})

    columns: dict[str, list[Any]] = {}
    times: list[datetime] = []
    labels: list[bool] = []
    delays: list[float] = []
    for day in range(DAYS):
        shifted = day in EPISODE
        x = _customers(rng, PER_DAY, shifted)
        for name, values in x.items():
            columns.setdefault(name, []).extend(values.tolist())
        seconds = np.sort(rng.uniform(0, 86_400, PER_DAY))
        times.extend(start + timedelta(days=day, seconds=float(s)) for s in seconds)
        model = 1 / (1 + np.exp(-_model_logit(x)))
        columns.setdefault("score", []).extend(model.round(4).tolist())
        labels.extend((rng.uniform(size=PER_DAY) < _true_probability(x, shifted)).tolist())
        delays.extend(rng.uniform(3, 14, PER_DAY).tolist())
    n = DAYS * PER_DAY
    ids = [f"pred-{i:06d}" for i in range(n)]
    entities = [f"cust-{i:06d}" for i in range(n)]
    predictions = pa.table(
        {
            "id": ids,
            "time": pa.array(times, pa.timestamp("us", "UTC")),
            "entity_id": entities,
            "model_version": ["v2" if i >= 20 * PER_DAY else "v1" for i in range(n)],
            **columns,
        }
    )
    label_times = [t + timedelta(days=d) for t, d in zip(times, delays, strict=True)]
    last = start + timedelta(days=DAYS)
    known = [i for i in range(n) if label_times[i] <= last]
    outcomes = pa.table(
        {
            "entity_id": [entities[i] for i in known],
            "time": pa.array([label_times[i] for i in known], pa.timestamp("us", "UTC")),
            "label": [int(labels[i]) for i in known],
        }
    )
    return DemoData(reference, predictions, outcomes)
