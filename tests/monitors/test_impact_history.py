"""The workspace's own prior: learned from its past experiments once there are ten, and said."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa

import mlpilot
from mlpilot.monitors.impact_history import past_effects, workspace_prior
from mlpilot.store.experiments import ExperimentStore

T0 = datetime(2026, 3, 2, tzinfo=UTC)


def _past(store: ExperimentStore, record_id: int, effect: float, *, srm: bool = False) -> None:
    """A stored analysis whose KPI row moved by ``effect`` (relative, lower is better)."""
    row = {
        "metric": "cost",
        "variant": "treatment",
        "role": "kpi",
        "direction": "lower",
        "likelihood": {"effect_rel": effect, "se_rel": 0.01},
    }
    store.add_analysis(
        record_id, at=T0, method="frequentist", verdict="pass",
        results={"srm": srm, "results": [row]},
    )  # fmt: skip


def _log(churn: mlpilot.Initiative, name: str) -> None:
    units = [f"u{i}" for i in range(400)]
    variants = ["control" if i % 2 else "treatment" for i in range(400)]
    churn.log_exposures(
        pa.table({"unit_id": units, "experiment": [name] * 400, "variant": variants,
                  "time": [T0] * 400})
    )  # fmt: skip
    values = [1.0 - (0.02 if v == "treatment" else 0.0) + (i % 7) / 10 for i, v in
              enumerate(variants)]  # fmt: skip
    churn.log_metric_events(
        pa.table({"unit_id": units, "metric": ["cost"] * 400, "value": values,
                  "time": [T0 + timedelta(days=1)] * 400})
    )  # fmt: skip


def test_the_prior_is_learned_from_ten_past_experiments(ws: mlpilot.Workspace):
    churn = ws.create_initiative(
        "churn", name="Churn", problem="p", prediction_use="u", task="binary", shape="batch",
        baseline="b",
    )  # fmt: skip
    churn.add_criterion("impact", "cost", "<=", -0.01)  # lower is better: the KPI must fall 1 %
    store = ExperimentStore(ws.store.engine)
    ids = []
    for k in range(11):
        churn.create_experiment(f"past{k}", variants=["control", "treatment"])
        ids.append(store.get("churn", f"past{k}").id)
    for k in range(9):
        _past(store, ids[k], -0.005 - 0.001 * k)  # cost fell: good, oriented +
    _past(store, ids[9], 0.5, srm=True)  # untrustworthy: left out
    estimates, errors, experiments = past_effects(ws.store.engine)
    assert experiments == 9
    assert min(estimates) > 0
    assert errors == [0.01] * 9
    assert workspace_prior(ws.store.engine) is None

    churn.create_experiment("now", variants=["control", "treatment"])
    _log(churn, "now")
    before = churn.analyze_experiment("now", save=False)
    assert before["prior"]["source"] == "default"
    _past(store, ids[10], -0.004)
    after = churn.analyze_experiment("now", save=False)
    assert after["prior"]["source"] == "workspace"
    assert after["prior"]["experiments"] == 10
    assert after["prior"]["mean"] > 0
    assert "learned from 10 past experiments" in after["impact_probability"]["prior"]
    assert after["impact_probability"]["value"] != before["impact_probability"]["value"]
    # A declared prior wins over the workspace's.
    declared = churn.analyze_experiment("now", save=False, prior=(0.0, 0.02**2))
    assert declared["prior"]["source"] == "declared"
