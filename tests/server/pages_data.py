"""A small, real workspace for the dashboard's page tests (built in a few seconds, seeded).

``churn``: criteria of all four kinds (with fallback plans), a lifecycle with a loop, a team, a
learning and a decision, six days of predictions with outcomes and a reference (drift in the
last two days), a day of service requests, and an analysed A/B test. ``quiet``: an initiative
with nothing measured yet. ``xss``: user strings that would run as script if a page or a chart
spec did not escape them.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from mlpilot.demo_experiment import add_demo_experiment
from mlpilot.workspace import Workspace

XSS = '<script>alert("x")</script>'
XSS_CLOSE = '</script><script>alert("y")</script>'
XSS_ATTR = '"><img src=x onerror=alert(1)>'
DAYS = 6
PER_DAY = 80


def _features(rng: np.random.Generator, n: int, shifted: bool) -> dict[str, np.ndarray]:
    return {
        "usage": rng.normal(3.0 if shifted else 0.0, 1.0, n).round(3),
        "plan": np.array(["basic", "premium"])[rng.choice(2, n, p=[0.9, 0.1] if shifted else
                                                           [0.5, 0.5])],
    }  # fmt: skip


def _monitoring(ws: Workspace, start: datetime, now: datetime) -> None:
    churn = ws.initiative("churn")
    rng = np.random.default_rng(3)
    reference = _features(rng, 400, shifted=False)
    churn.add_reference("training", pa.table({**reference, "label": rng.integers(0, 2, 400)}))
    columns: dict[str, list[object]] = {"usage": [], "plan": [], "score": [], "time": []}
    labels: list[int] = []
    # Each day's predictions inside one UTC day: unaligned, the last day's rows crossed midnight
    # and the latest daily window held a few of them, so its drift depended on the hour.
    midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
    for day in range(DAYS):
        x = _features(rng, PER_DAY, shifted=day >= DAYS - 2)
        columns["usage"] += x["usage"].tolist()
        columns["plan"] += x["plan"].tolist()
        score = 1 / (1 + np.exp(-(x["usage"] - 0.5)))
        columns["score"] += score.round(4).tolist()
        labels += (rng.random(PER_DAY) < score).astype(int).tolist()
        columns["time"] += [midnight + timedelta(days=day, minutes=15 * i) for i in range(PER_DAY)]
    n = DAYS * PER_DAY
    ids = [f"e-{i}" for i in range(n)]
    churn.log_predictions(pa.table({
        "id": [f"p-{i}" for i in range(n)], "entity_id": ids,
        "time": pa.array(columns["time"], pa.timestamp("us", "UTC")),
        "score": columns["score"], "usage": columns["usage"], "plan": columns["plan"],
    }))  # fmt: skip
    churn.log_outcomes(pa.table({
        "entity_id": ids,
        "time": pa.array([t + timedelta(hours=6) for t in columns["time"]],  # type: ignore[operator]
                         pa.timestamp("us", "UTC")),
        "label": labels,
    }))  # fmt: skip
    hours = 24
    times = [now - timedelta(hours=hours) + timedelta(minutes=3 * i) for i in range(hours * 20)]
    churn.log_requests(pa.table({
        "id": [f"r-{i}" for i in range(len(times))],
        "time": pa.array(times, pa.timestamp("us", "UTC")),
        "latency_ms": rng.gamma(4.0, 20.0, len(times)).round(1),
        "status": np.where(rng.random(len(times)) < 0.005, "error", "ok"),
    }))  # fmt: skip
    add_demo_experiment(churn, start, units=12_000)


def build_workspace(home: Path, now: datetime | None = None) -> datetime:
    """Create the test workspace in ``home``; returns the "now" it was built for."""
    now = now or datetime.now(UTC)
    start = now - timedelta(days=40)
    with Workspace.open(home) as ws:
        churn = ws.create_initiative(
            "churn", name="Churn risk", problem="Customers leave without warning",
            prediction_use="Retention calls", task="binary", shape="online-api",
            baseline="Usage-drop rule", baseline_value=0.41, baseline_metric="recall",
            started=start,
        )  # fmt: skip
        churn.add_criterion("model", "roc_auc", ">=", 0.7, plan="Keep the usage-drop rule")
        churn.add_criterion("service", "latency_p99", "<=", 300, plan="Serve cached scores")
        churn.add_criterion("service", "error_rate", "<=", 0.01)
        churn.add_criterion("data", "missing_share", "<=", 0.2)
        churn.add_criterion(
            "impact", "retention_30d", ">=", 0.02, effect="relative",
            guardrails=["offer_cost_per_customer:lower:margin=0.1"], plan="Stop the offers",
        )  # fmt: skip
        for day, phase, cause, reason in [
            (3, "data-understanding", None, None), (6, "modeling", None, None),
            (9, "data-preparation", "data", "Leakage in a date column"),
            (12, "modeling", None, None), (15, "evaluation", None, None),
        ]:  # fmt: skip
            churn.move_to(phase, cause=cause, reason=reason, at=start + timedelta(days=day))
        churn.add_member("Ana Ruiz", "data-scientist", 1.0)
        churn.add_member("Ben Ode", "product-manager", 0.5)
        churn.learn("Calls work only in the first week", tags=["calls"], at=start)
        churn.decide("continue", "The model beats the rule", at=start + timedelta(days=16))
        ws.create_initiative(
            "quiet", name="Quiet one", problem="p", prediction_use="u", task="regression",
            shape="batch", baseline="mean", started=start,
        )  # fmt: skip
        xss = ws.create_initiative(
            "xss", name=XSS, problem=XSS_CLOSE, prediction_use=XSS_ATTR, task="binary",
            shape="batch", baseline=XSS, started=start,
        )  # fmt: skip
        xss.add_criterion("model", "recall", ">=", 0.5, plan=XSS_CLOSE)
        xss.move_to("modeling", at=start + timedelta(days=1))
        xss.move_to("business-understanding", reason=XSS, at=start + timedelta(days=2))
        xss.learn(XSS_ATTR, tags=["x"], source=XSS, at=start)
        xss.decide("pivot", XSS_CLOSE, evidence=[XSS], who=XSS_ATTR, at=start)
        xss.add_member(XSS, "data-scientist")
        xss.record_uncertainty("model", 0.4, XSS_CLOSE, at=start)  # lands in a chart spec
        _monitoring(ws, start, now)
    return now


_BUILT: dict[str, tuple[Path, datetime]] = {}


def template(factory: pytest.TempPathFactory) -> tuple[Path, datetime]:
    """The test workspace, built once per session (copy it before changing it)."""
    if "home" not in _BUILT:
        home = factory.mktemp("pages-template") / "ws"
        _BUILT["home"] = (home, build_workspace(home))
    return _BUILT["home"]


def copy_of(home: Path, target: Path) -> Path:
    """A private copy of a built workspace (its metadata and event files)."""
    shutil.copytree(home, target)
    return target
