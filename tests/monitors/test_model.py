"""``monitors.model`` and the ``Initiative`` model-monitor methods, on a stored workspace.

The stored-data path must give what the in-memory path gives on the same frames:
``Initiative.performance`` equals ``monitors.performance.evaluate``, per-window drift equals
``monitors.drift.compare`` on each day's slice. The drift profile of a reference is computed
once, stored, and dropped when the reference is replaced; ``health`` turns the latest mature
window and the latest drift into a light.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb as duckdb_module
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mlpilot
from mlpilot.domain.criteria import Comparator, Constraint, Criterion
from mlpilot.domain.metrics import CriterionKind
from mlpilot.engine import drift as drift_engine
from mlpilot.engine.connection import duckdb, table
from mlpilot.errors import NotFoundError
from mlpilot.monitors import model
from mlpilot.monitors.drift import compare
from mlpilot.monitors.performance import evaluate

REL = 1e-12
T0 = datetime(2026, 3, 2, tzinfo=UTC)
FEATURES = ["tenure", "plan", "usage"]
PLAN = "fall back to the usage-drop rule"


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[mlpilot.Workspace]:
    workspace = mlpilot.Workspace.open(tmp_path / "ws")
    try:
        yield workspace
    finally:
        workspace.close()


def create(ws: mlpilot.Workspace, slug: str = "churn", task: str = "binary", **kw: Any) -> Any:
    return ws.create_initiative(
        slug,
        name="Churn",
        problem="Subscribers leave",
        prediction_use="Retention calls",
        task=task,
        shape="batch",
        baseline="Usage drop rule",
        **kw,
    )


class Tables:
    """Ibis tables from frames, on one in-memory connection (DuckDB's default threads)."""

    def __init__(self) -> None:
        self.connection = duckdb()

    def __call__(self, frame: Any) -> Any:
        return table(frame, self.connection)


def utc(values: Any) -> pa.Array:
    return pa.array(list(values), pa.timestamp("us", "UTC"))


def features(rng: np.random.Generator, n: int, shift: float = 0.0) -> dict[str, Any]:
    return {
        "tenure": rng.integers(0, 60, n) + int(20 * shift),
        "plan": np.where(rng.uniform(size=n) < 0.35 + 0.15 * shift, "basic", "premium"),
        "usage": rng.normal(shift, 1.0, n),
    }


def reference_frame(seed: int = 0, n: int = 400, shift: float = 0.0) -> pa.Table:
    rng = np.random.default_rng(seed)
    return pa.table({**features(rng, n, shift), "label": rng.integers(0, 2, n)})


def monitoring_frames(
    seed: int, days: int = 3, per_day: int = 120, labeled: float = 0.8
) -> tuple[pa.Table, pa.Table]:
    """Predictions with features (the last day shifted), two model versions, and outcomes with
    corrections and delays."""
    rng = np.random.default_rng(seed)
    n = days * per_day
    day = np.repeat(np.arange(days), per_day)
    times = [
        T0 + timedelta(days=int(d), seconds=float(s))
        for d, s in zip(day, rng.uniform(0, 86_000, n), strict=True)
    ]
    daily = [features(rng, per_day, 1.0 if d == days - 1 else 0.0) for d in range(days)]
    columns = {k: np.concatenate([f[k] for f in daily]) for k in FEATURES}
    scores = rng.uniform(size=n).round(2)
    labels = (rng.uniform(size=n) < scores).astype(float)
    predictions = pa.table(
        {
            "id": [f"p{i}" for i in range(n)],
            "time": utc(times),
            "entity_id": [f"e{i}" for i in range(n)],
            "model_version": ["v1" if i % 4 else "v2" for i in range(n)],
            "score": scores,
            **columns,
        }
    )
    known = np.flatnonzero(rng.uniform(size=n) < labeled)
    corrected = known[::7]  # a wrong label first, corrected by a later outcome
    entities = [f"e{i}" for i in known] + [f"e{i}" for i in corrected]
    label_times = [times[i] + timedelta(hours=float(rng.uniform(2, 60))) for i in known]
    label_times += [times[i] - timedelta(minutes=1) for i in corrected]
    values = list(labels[known]) + list(1.0 - labels[corrected])
    outcomes = pa.table({"entity_id": entities, "time": utc(label_times), "label": values})
    return predictions, outcomes


def day_slice(predictions: pa.Table, k: int) -> pa.Table:
    """The predictions of day ``k`` (UTC), sliced with Arrow, not with mlpilot."""
    day = pc.floor_temporal(predictions["time"], unit="day")
    return predictions.filter(pc.equal(day, pa.scalar(T0 + timedelta(days=k), day.type)))


def assert_close(got: Any, expected: Any, path: str = "") -> None:
    if isinstance(expected, dict):
        assert isinstance(got, dict), (path, got)
        assert got.keys() == expected.keys(), (path, got, expected)
        for key in expected:
            assert_close(got[key], expected[key], f"{path}.{key}")
    elif isinstance(expected, list):
        assert isinstance(got, list), (path, got)
        assert len(got) == len(expected), (path, got, expected)
        for k, (a, b) in enumerate(zip(got, expected, strict=True)):
            assert_close(a, b, f"{path}[{k}]")
    elif isinstance(expected, float) and not isinstance(got, bool):
        assert got is not None, path
        assert got == pytest.approx(expected, rel=REL, abs=1e-300), path
    else:
        assert got == expected, (path, got, expected)


# --- performance --------------------------------------------------------------------------------


def test_performance_equals_evaluate_on_the_same_frames(ws: mlpilot.Workspace) -> None:
    churn = create(ws, baseline_value=0.5, baseline_metric="log_loss")
    churn.add_criterion("model", "recall", ">=", 0.6, at="precision>=0.5", threshold=0.5, plan=PLAN)
    churn.add_criterion("model", "roc_auc", ">=", 0.75)
    churn.add_criterion("service", "latency_p99", "<=", 300)
    predictions, outcomes = monitoring_frames(seed=1)
    assert churn.log_predictions(predictions).inserted == predictions.num_rows
    churn.log_outcomes(outcomes)
    tables = Tables()
    for options in ({}, {"window": "6h", "threshold": 0.3, "model_version": "v2"}):
        stored = churn.performance(**options)
        expected = evaluate(
            tables(predictions),
            tables(outcomes),
            charter=churn.charter,
            criteria=churn.criteria(),
            **options,
        )
        assert_close(stored, expected)
        assert stored["windows"]
        assert stored["slug"] == "churn"
        ids = [c.id for c in churn.criteria() if c.kind.value == "model"]
        assert [v["criterion_id"] for v in stored["windows"][0]["verdicts"]] == ids


def test_missing_data_is_a_clear_not_found_error(ws: mlpilot.Workspace) -> None:
    churn = create(ws)
    with pytest.raises(NotFoundError, match="no predictions for churn"):
        churn.performance()
    with pytest.raises(NotFoundError, match="no reference 'training' for churn"):
        churn.drift("training")
    churn.add_reference("training", reference_frame())
    with pytest.raises(NotFoundError, match="no predictions for churn"):
        churn.drift("training")
    predictions, _ = monitoring_frames(seed=2, days=1, per_day=20)
    churn.log_predictions(predictions)
    with pytest.raises(NotFoundError, match="no outcomes for churn"):
        churn.performance()
    with pytest.raises(NotFoundError, match="no reference 'holdout' for churn"):
        churn.drift("holdout")
    with pytest.raises(NotFoundError, match="nope"):
        ws.initiative("nope")


def test_a_missing_reference_points_to_the_command_that_adds_one(ws: mlpilot.Workspace) -> None:
    churn = create(ws)
    with pytest.raises(NotFoundError) as raised:
        churn.drift("training")
    assert "mlpilot reference add" in str(raised.value)


# --- drift --------------------------------------------------------------------------------------


def test_the_reference_profile_is_computed_once_and_stored(
    ws: mlpilot.Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    churn = create(ws)
    predictions, _ = monitoring_frames(seed=3)
    churn.log_predictions(predictions)
    churn.add_reference("training", reference_frame())
    events = ws.events
    assert events.load_summary("churn", "training", model.PROFILE_KEY) is None
    first = churn.drift("training")
    saved = events.load_summary("churn", "training", model.PROFILE_KEY)
    assert saved is not None
    assert sorted(c["name"] for c in saved["columns"]) == sorted(FEATURES)  # not the label

    def no_rescan(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the reference was profiled again")

    monkeypatch.setattr(drift_engine, "profile", no_rescan)
    assert churn.drift("training") == first
    # Empty the reference table behind mlpilot's back: the stored profile still answers.
    con = duckdb_module.connect(str(events.path))
    try:
        table_name = events.table_name("churn", "reference", "training")
        con.execute(f'DELETE FROM "{table_name}"')
        assert con.execute(f'SELECT count(*) FROM "{table_name}"').fetchone() == (0,)
    finally:
        con.close()
    assert churn.drift("training") == first
    assert [w["start"] for w in first["windows"]] == [
        (T0 + timedelta(days=d)).isoformat() for d in range(3)
    ]


def test_replacing_the_reference_drops_its_profile(ws: mlpilot.Workspace) -> None:
    churn = create(ws)
    predictions, _ = monitoring_frames(seed=4)
    churn.log_predictions(predictions)
    churn.add_reference("training", reference_frame(seed=1))
    before = churn.drift("training", method="js")
    churn.add_reference("training", reference_frame(seed=2, shift=1.0), replace=True)
    assert ws.events.load_summary("churn", "training", model.PROFILE_KEY) is None
    after = churn.drift("training", method="js")
    assert ws.events.load_summary("churn", "training", model.PROFILE_KEY) is not None
    assert after != before
    tables = Tables()
    reference = tables(reference_frame(seed=2, shift=1.0))
    for k, window in enumerate(after["windows"]):
        day = tables(day_slice(predictions, k))
        expected = compare(reference, day, columns=FEATURES, method="js").to_dict()
        assert window["columns"] == expected["columns"]


def test_window_drift_equals_compare_on_each_days_slice(ws: mlpilot.Workspace) -> None:
    churn = create(ws)
    predictions, _ = monitoring_frames(seed=5)
    churn.log_predictions(predictions)
    churn.add_reference("training", reference_frame(seed=6))
    tables = Tables()
    reference = tables(reference_frame(seed=6))
    days = [tables(day_slice(predictions, k)) for k in range(3)]
    for method in ("psi", "js", "chi2"):
        result = churn.drift("training", method=method)
        assert (result["reference"], result["window"]) == ("training", "1d")
        assert len(result["windows"]) == 3
        for window, day in zip(result["windows"], days, strict=True):
            expected = compare(reference, day, columns=FEATURES, method=method).to_dict()
            assert window["columns"] == expected["columns"], method
            assert window["dataset_drift"] == expected["dataset_drift"]
            assert window["share_drifted"] == expected["share_drifted"]
    # The last day's population is shifted: every column drifts there, none before.
    assert [w["dataset_drift"] for w in result["windows"]] == [False, False, True]


# --- health -------------------------------------------------------------------------------------

# One day of predictions: (rows, labeled rows, model good?, features shifted?)
Day = tuple[int, int, bool, bool]


def log_days(churn: Any, days: list[Day], *, outcomes: bool = True, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    ids, times, entities, scores, labels, cols = [], [], [], [], [], []
    outcome_rows: list[tuple[str, datetime, float]] = []
    for d, (n, labeled, good, shifted) in enumerate(days):
        for i in range(n):
            key = f"{d}-{i}"
            label = float(i % 2)
            score = (0.8 if label else 0.2) if good else (0.2 if label else 0.8)
            time = T0 + timedelta(days=d, minutes=10 * i)
            ids.append(f"p{key}")
            times.append(time)
            entities.append(f"e{key}")
            scores.append(score + rng.uniform(-0.05, 0.05))
            labels.append(label)
            if i < labeled:
                outcome_rows.append((f"e{key}", time + timedelta(hours=30), label))
        cols.append(features(rng, n, 4.0 if shifted else 0.0))
    churn.log_predictions(
        pa.table(
            {
                "id": ids,
                "time": utc(times),
                "entity_id": entities,
                "score": scores,
                **{k: np.concatenate([c[k] for c in cols]) for k in FEATURES},
            }
        )
    )
    if outcomes and outcome_rows:
        churn.log_outcomes(
            pa.table(
                {
                    "entity_id": [e for e, _, _ in outcome_rows],
                    "time": utc(t for _, t, _ in outcome_rows),
                    "label": [y for _, _, y in outcome_rows],
                }
            )
        )


HEALTH = {
    "ok": ([(40, 40, True, False), (40, 20, True, False)], True),
    "failing": ([(40, 40, True, False), (40, 40, False, False), (40, 5, True, False)], True),
    "warning": ([(40, 40, True, False), (40, 30, True, True)], True),
    "failing-and-drifted": ([(40, 40, True, False), (40, 40, False, True)], True),
    "ok-without-reference": ([(40, 40, True, False)], False),
}


@pytest.mark.parametrize("state", list(HEALTH))
def test_health_lights(ws: mlpilot.Workspace, state: str) -> None:
    churn = create(ws)
    churn.add_criterion("model", "roc_auc", ">=", 0.75, plan=PLAN)
    days, with_reference = HEALTH[state]
    log_days(churn, days)
    if with_reference:
        churn.add_reference("training", reference_frame(n=300))
    lights = churn.health()
    health, data = lights["model"], lights["data"]
    expected_status = "failing" if state.startswith("failing") else "ok"
    assert health["status"] == expected_status
    drifted = with_reference and days[-1][3]
    assert data["status"] == ("warning" if drifted else "ok")
    last = len(days) - 1
    judged = 1 if state == "failing" else last  # day 2 of "failing" is not mature (5 of 40)
    assert health["judged_window"] == (T0 + timedelta(days=judged)).isoformat()
    assert health["label_coverage"] == days[judged][1] / days[judged][0]
    (verdict,) = health["verdicts"]
    assert (verdict["metric"], verdict["plan"]) == ("roc_auc", PLAN)
    assert verdict["met"] is (expected_status != "failing")
    assert health["metrics"]["roc_auc"] == verdict["observed"]
    breached = [d for d, day in enumerate(days) if not day[2]]
    assert health["windows_breached"] == len(breached)
    assert health["last_breach"] == (
        (T0 + timedelta(days=breached[-1])).isoformat() if breached else None
    )
    assert "drift" not in health
    if not with_reference:
        assert data["drift"] is None
        return
    drift = data["drift"]
    assert drift["reference"] == "training"
    assert drift["window"] == (T0 + timedelta(days=last)).isoformat()
    shifted = days[last][3]
    assert bool(drift["drifted_columns"]) is shifted
    assert drift["dataset_drift"] is shifted
    assert drift["windows_with_drift"] == sum(day[3] for day in days)


def test_health_is_no_data_without_predictions_outcomes_or_a_mature_window(
    ws: mlpilot.Workspace,
) -> None:
    churn = create(ws)
    churn.add_criterion("model", "roc_auc", ">=", 0.75)
    assert churn.health()["model"] == {"status": "no-data", "reason": "no predictions stored"}
    assert churn.health()["data"] == {"status": "no-data", "reason": "no predictions stored"}
    log_days(churn, [(40, 19, False, True)], outcomes=False)
    assert churn.health()["model"] == {"status": "no-data", "reason": "no outcomes stored yet"}
    second = create(ws, "churn-2")
    second.add_criterion("model", "roc_auc", ">=", 0.75)
    log_days(second, [(40, 19, False, True)])  # 47.5% labeled: not mature, failing or not
    second.add_reference("training", reference_frame(n=300))
    lights = second.health()
    assert lights["model"]["status"] == "no-data"
    assert lights["model"]["reason"] == "no window has enough labels yet"
    assert lights["data"]["status"] == "warning"  # drift needs no labels
    assert lights["data"]["drift"]["drifted_columns"]


def test_health_survives_a_reference_without_shared_features(ws: mlpilot.Workspace) -> None:
    churn = create(ws)
    churn.add_criterion("model", "roc_auc", ">=", 0.75)
    log_days(churn, [(40, 40, True, False)])
    churn.add_reference("training", pa.table({"other": [1.0, 2.0, 3.0], "label": [0, 1, 0]}))
    lights = churn.health()
    assert (lights["model"]["status"], lights["data"]["status"]) == ("ok", "ok")
    assert "no feature" in lights["data"]["drift"]["error"]


def test_health_counts_only_judged_windows_as_breached(ws: mlpilot.Workspace) -> None:
    churn = create(ws)
    churn.add_criterion("model", "roc_auc", ">=", 0.75)
    log_days(churn, [(40, 40, True, False), (40, 4, False, False)])  # day 1: 10% labeled
    health = churn.health()["model"]
    assert health["status"] == "ok"
    assert (health["windows_breached"], health["last_breach"]) == (0, None)


# --- properties ---------------------------------------------------------------------------------

_slugs = itertools.count()


@settings(
    max_examples=3,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(split=st.floats(0.0, 1.0), seed=st.integers(0, 2**16))
def test_splitting_the_imports_changes_nothing(
    ws: mlpilot.Workspace, split: float, seed: int
) -> None:
    predictions, outcomes = monitoring_frames(seed=seed % 7, days=2, per_day=30)
    order = np.random.default_rng(seed).permutation(predictions.num_rows)
    cut = int(split * predictions.num_rows)
    k = next(_slugs)  # the workspace fixture is shared by the examples
    whole, parts = create(ws, f"whole-{k}"), create(ws, f"parts-{k}")
    for initiative in (whole, parts):
        initiative.add_criterion(
            "model", "recall", ">=", 0.6, at="precision>=0.5", top=20, per="day"
        )
        initiative.log_outcomes(outcomes)
    whole.log_predictions(predictions)
    first = parts.log_predictions(predictions.take(pa.array(order[:cut])))
    second = parts.log_predictions(predictions.take(pa.array(order[cut:])))
    assert first.inserted + second.inserted == predictions.num_rows
    one, two = whole.performance(), parts.performance()
    assert (one.pop("slug"), two.pop("slug")) == (f"whole-{k}", f"parts-{k}")
    for window in (*one["windows"], *two["windows"]):
        for verdict in window["verdicts"]:
            verdict.pop("criterion_id")  # each initiative numbers its own criteria
        for breach in window["breaches"]:
            breach.pop("criterion_id", None)
    assert_close(two, one)


def test_a_criterion_stored_without_its_operating_point_keeps_the_light_from_green(
    ws: mlpilot.Workspace,
) -> None:
    # An old workspace's criterion: a constraint, no operating point. It is never met.
    churn = create(ws)
    churn.add_criterion("model", "roc_auc", ">=", 0.75)
    old = Criterion(
        CriterionKind.MODEL, "recall", Comparator.GE, 0.6,
        constraint=Constraint("precision", Comparator.GE, 0.5),
    )  # fmt: skip
    ws.store.add_criterion("churn", old)
    log_days(churn, [(40, 40, True, False)])
    health = churn.health()["model"]
    auc, recall = health["verdicts"]
    assert auc["met"] is True
    assert (recall["observed"], recall["met"]) == (None, None)
    assert recall["note"].startswith("insufficient: no operating point declared")
    assert health["status"] == "no-data"
    assert "recall >= 0.6 at precision >= 0.5: insufficient" in health["reason"]


def test_a_window_without_positive_labels_is_not_green_nor_failing(ws: mlpilot.Workspace) -> None:
    churn = create(ws)
    churn.add_criterion("model", "recall", ">=", 0.6, plan=PLAN)
    predictions, _ = monitoring_frames(seed=3, days=1, per_day=30)
    churn.log_predictions(predictions)
    churn.log_outcomes(
        pa.table({
            "entity_id": predictions["entity_id"],
            "time": predictions["time"],
            "label": [0] * predictions.num_rows,
        })
    )  # fmt: skip
    health = churn.health()["model"]
    (verdict,) = health["verdicts"]
    assert (verdict["observed"], verdict["met"]) == (None, None)
    assert health["status"] == "no-data"
    assert health["reason"].endswith("undefined: no positive label in this window")
