"""``monitors.performance.evaluate``: per-window metrics equal scikit-learn on the same rows.

Every expectation is computed from the rows themselves: each prediction's entity's latest
outcome with pandas, the UTC day with ``Series.dt.floor``, then ``sklearn.metrics`` /
``sklearn.calibration`` on the labeled rows of each day. Tolerance: 1e-12 relative (the engine
sums in a different order than scikit-learn; observed differences are a few ulps).
"""

from __future__ import annotations

import functools
import math
import warnings
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.calibration import calibration_curve
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    brier_score_loss,
    f1_score,
    log_loss,
    mean_absolute_error,
    mean_absolute_percentage_error,
    precision_recall_curve,
    precision_score,
    r2_score,
    recall_score,
    roc_auc_score,
    root_mean_squared_error,
)

from mlpilot.domain.charter import Charter, make_charter
from mlpilot.domain.criteria import Comparator, Constraint, Criterion, make_criterion
from mlpilot.domain.metrics import CriterionKind
from mlpilot.engine.connection import duckdb, table
from mlpilot.errors import ValidationError
from mlpilot.monitors.performance import evaluate

REL = 1e-12
T0 = datetime(2026, 3, 2, tzinfo=UTC)
AT_PRECISION = 0.7
WINDOW_KEYS = {
    "start",
    "end",
    "n",
    "labeled",
    "label_coverage",
    "label_delay_hours",
    "label_delay_mean_hours",
    "metrics",
    "baseline",
    "verdicts",
    "breaches",
}
VERDICT_KEYS = {
    "criterion_id", "criterion", "metric", "observed", "target", "met", "plan", "note",
    "operating_point", "measure",
}  # fmt: skip
BINARY_METRICS = {
    "precision",
    "recall",
    "f1",
    "accuracy",
    "specificity",
    "log_loss",
    "brier",
    "roc_auc",
    "pr_auc",
}


class Tables:
    """Ibis tables from frames, on one in-memory connection."""

    def __init__(self) -> None:
        self.connection = duckdb()
        self.connection.raw_sql("SET threads = 1")  # small tables: faster, same results

    def __call__(self, frame: Any) -> Any:
        return table(frame, self.connection)


@functools.cache
def _shared() -> Tables:
    return Tables()


def charter(task: str = "binary", **baseline: Any) -> Charter:
    return make_charter(
        slug="churn",
        name="Churn",
        problem="Subscribers leave",
        prediction_use="Retention calls",
        task=task,
        shape="batch",
        baseline="Usage drop rule",
        created_at=T0,
        **baseline,
    )


def criterion(metric: str, op: str, target: float, task: str = "binary", **kw: Any) -> Criterion:
    kind = kw.pop("kind", "model")
    return make_criterion(kind=kind, metric=metric, op=op, target=target, task=task, **kw)


# As a workspace stored it before operating points: judged "insufficient", never met; the best
# value at a threshold chosen afterwards is still shown beside the verdict.
CONSTRAINED = Criterion(
    CriterionKind.MODEL, "recall", Comparator.GE, 0.6,
    constraint=Constraint("precision", Comparator.GE, AT_PRECISION), plan="use the rule",
)  # fmt: skip


def afterwards(verdict: dict[str, Any]) -> float | None:
    """The best value at a threshold chosen afterwards, shown beside a constrained verdict."""
    shown = verdict["achievable_afterwards"]
    assert shown["label"] == "achievable at a threshold chosen afterwards"
    assert verdict["met"] is None  # never the verdict
    return shown["value"]  # type: ignore[no-any-return]


def utc(values: Any) -> pa.Array:
    return pa.array(list(values), pa.timestamp("us", "UTC"))


class Case:
    """Predictions and outcomes as Arrow frames, and the reference join in pandas."""

    def __init__(
        self,
        times: list[datetime],
        outputs: Any,
        outcomes: list[tuple[int, datetime, Any]],
        *,
        column: str = "score",
        versions: list[str] | None = None,
    ) -> None:
        n = len(times)
        columns: dict[str, Any] = {
            "id": [f"p{i}" for i in range(n)],
            "time": utc(times),
            "entity_id": [f"e{i}" for i in range(n)],
            column: list(outputs),
        }
        if versions is not None:
            columns["model_version"] = versions
        self.predictions = pa.table(columns)
        self.outcomes = pa.table(
            {
                "entity_id": pa.array([f"e{i}" for i, _, _ in outcomes], pa.string()),
                "time": utc(t for _, t, _ in outcomes),
                "label": pa.array(
                    [label for _, _, label in outcomes], None if outcomes else pa.float64()
                ),
            }
        )
        latest: dict[int, tuple[datetime, Any]] = {}
        for i, t, label in outcomes:
            if i not in latest or t > latest[i][0]:
                latest[i] = (t, label)
        self.rows = pd.DataFrame(
            {
                "window": pd.Series(pd.to_datetime(times, utc=True)).dt.floor("1D"),
                "output": list(outputs),
                "label": [latest[i][1] if i in latest else None for i in range(n)],
                "delay": [
                    (latest[i][0] - times[i]).total_seconds() if i in latest else np.nan
                    for i in range(n)
                ],
            }
        )

    def evaluate(self, the_charter: Charter, criteria: list[Criterion], **kw: Any) -> Any:
        tables = _shared()
        return evaluate(
            tables(self.predictions),
            tables(self.outcomes),
            charter=the_charter,
            criteria=criteria,
            **kw,
        )

    def windows(self) -> list[tuple[pd.Timestamp, pd.DataFrame]]:
        return list(self.rows.groupby("window"))


def binary_case(
    rng: np.random.Generator,
    n: int,
    days: int,
    *,
    scores: np.ndarray | None = None,
    labeled: float = 0.8,
) -> Case:
    seconds = np.sort(rng.uniform(0, days * 86_400, n))
    times = [T0 + timedelta(seconds=float(s)) for s in seconds]
    p = rng.uniform(size=n) if scores is None else scores
    y = (rng.uniform(size=n) < 0.15 + 0.7 * p).astype(float)
    known = np.flatnonzero(rng.uniform(size=n) < labeled)
    outcomes = [
        (int(i), times[i] + timedelta(hours=float(rng.uniform(1, 90))), y[i]) for i in known
    ]
    return Case(times, p, outcomes)


def iso(stamp: pd.Timestamp) -> str:
    return stamp.to_pydatetime().isoformat()


# --- the reference ------------------------------------------------------------------------------


def sklearn_binary(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, float | None]:
    """scikit-learn's metrics for one window's labeled rows; None where it is undefined."""
    hit = (p >= threshold).astype(int)
    both = 0 < y.sum() < len(y)

    def defined(value: float) -> float | None:
        return None if math.isnan(value) else float(value)

    return {
        "precision": defined(precision_score(y, hit, zero_division=np.nan)),
        "recall": defined(recall_score(y, hit, zero_division=np.nan)),
        "f1": defined(f1_score(y, hit, zero_division=np.nan)),
        "accuracy": accuracy_score(y, hit),
        "specificity": defined(recall_score(y, hit, pos_label=0, zero_division=np.nan)),
        "log_loss": log_loss(y, p, labels=[0, 1]),
        "brier": brier_score_loss(y, p, labels=[0, 1]),
        "roc_auc": roc_auc_score(y, p) if both else None,
        "pr_auc": average_precision_score(y, p) if y.sum() > 0 else None,
    }


def best_recall_at_precision(y: np.ndarray, p: np.ndarray, at: float) -> float:
    """Max recall over precision_recall_curve's points with precision >= ``at``, its final
    (precision 1, recall 0) point included: 0.0 when no real threshold qualifies."""
    with warnings.catch_warnings():  # no positives: sklearn warns and sets recall to 1
        warnings.simplefilter("ignore")
        precision, recall, _ = precision_recall_curve(y, p)
    return float(recall[precision >= at].max())


def assert_close(got: Any, expected: Any, rel: float = REL, path: str = "") -> None:
    """Equal structures; floats to ``rel``; None only where None."""
    if isinstance(expected, dict):
        assert isinstance(got, dict), (path, got)
        assert got.keys() == expected.keys(), (path, got, expected)
        for key in expected:
            assert_close(got[key], expected[key], rel, f"{path}.{key}")
    elif isinstance(expected, list):
        assert isinstance(got, list), (path, got)
        assert len(got) == len(expected), (path, got, expected)
        for k, (a, b) in enumerate(zip(got, expected, strict=True)):
            assert_close(a, b, rel, f"{path}[{k}]")
    elif isinstance(expected, float) and not isinstance(got, bool):
        assert got is not None, path
        assert got == pytest.approx(expected, rel=rel, abs=1e-300), path
    else:
        assert got == expected, (path, got, expected)


def check_binary_window(window: dict[str, Any], part: pd.DataFrame, threshold: float) -> None:
    labeled = part.dropna(subset=["label"])
    y = labeled["label"].to_numpy(dtype=float).astype(int)
    p = labeled["output"].to_numpy(dtype=float)
    assert window["n"] == len(part)
    assert window["labeled"] == len(labeled)
    assert window["label_coverage"] == len(labeled) / len(part)
    if len(labeled) == 0:
        assert window["metrics"] == {}
        assert window["label_delay_hours"] is None
        return
    assert window["label_delay_hours"] == pytest.approx(
        np.median(labeled["delay"]) / 3600, rel=1e-9
    )
    expected = sklearn_binary(y, p, threshold)
    assert window["metrics"].keys() == BINARY_METRICS
    for name, value in expected.items():
        got = window["metrics"][name]
        if value is None:
            assert got is None, name
        else:
            assert got == pytest.approx(value, rel=REL, abs=1e-300), name
    prob_true, prob_pred = calibration_curve(y, p, n_bins=10, strategy="uniform")
    filled = [b for b in window["calibration"] if b["count"] > 0]
    assert len(window["calibration"]) == 10
    assert sum(b["count"] for b in window["calibration"]) == len(labeled)
    assert_close([b["observed_rate"] for b in filled], prob_true.tolist())
    assert_close([b["mean_score"] for b in filled], prob_pred.tolist())
    assert all(b["mean_score"] is None for b in window["calibration"] if b["count"] == 0)
    hit = p >= threshold
    assert window["confusion"] == {
        "tp": int(np.sum((y == 1) & hit)),
        "fp": int(np.sum((y == 0) & hit)),
        "fn": int(np.sum((y == 1) & ~hit)),
        "tn": int(np.sum((y == 0) & ~hit)),
    }


# --- binary metrics -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind", ["continuous", "ties", "extremes"], ids=["continuous", "ties", "exact-0-1-and-edges"]
)
def test_binary_metrics_equal_sklearn_per_window(kind: str) -> None:
    rng = np.random.default_rng({"continuous": 1, "ties": 2, "extremes": 3}[kind])
    n = 900
    scores = {
        "continuous": rng.uniform(size=n),
        "ties": rng.uniform(size=n).round(2),
        "extremes": rng.choice([0.0, 1.0, 0.1, 0.3, 0.5, 0.7, 0.9, 0.35], size=n),
    }[kind]
    case = binary_case(rng, n, 3, scores=scores)
    report = case.evaluate(charter(), [CONSTRAINED], threshold=0.5)
    assert len(report["windows"]) == 3
    for window, (start, part) in zip(report["windows"], case.windows(), strict=True):
        assert (window["start"], window["end"]) == (iso(start), iso(start + pd.Timedelta("1D")))
        check_binary_window(window, part, 0.5)
        labeled = part.dropna(subset=["label"])
        y, p = labeled["label"].to_numpy(dtype=float).astype(int), labeled["output"].to_numpy()
        (verdict,) = window["verdicts"]
        assert afterwards(verdict) == pytest.approx(
            best_recall_at_precision(y, p, AT_PRECISION), rel=REL
        )


def test_auc_is_exact_with_more_than_10000_distinct_scores_in_a_window() -> None:
    rng = np.random.default_rng(4)
    n = 12_000
    case = binary_case(rng, n, 1, labeled=1.0)
    assert case.rows["output"].nunique() > 10_000
    (window,) = case.evaluate(charter(), [CONSTRAINED])["windows"]
    y = case.rows["label"].to_numpy(dtype=float).astype(int)
    p = case.rows["output"].to_numpy(dtype=float)
    assert window["metrics"]["roc_auc"] == pytest.approx(roc_auc_score(y, p), rel=REL)
    assert window["metrics"]["pr_auc"] == pytest.approx(average_precision_score(y, p), rel=REL)
    assert afterwards(window["verdicts"][0]) == pytest.approx(
        best_recall_at_precision(y, p, AT_PRECISION), rel=REL
    )


@pytest.mark.parametrize("label", [0.0, 1.0], ids=["only-negatives", "only-positives"])
def test_a_window_with_one_class_has_no_roc_auc(label: float) -> None:
    times = [T0 + timedelta(hours=h) for h in range(6)]
    scores = [0.0, 0.2, 0.5, 0.5, 0.8, 1.0]
    case = Case(times, scores, [(i, T0 + timedelta(days=2), label) for i in range(6)])
    auc = criterion("roc_auc", ">=", 0.75, plan="retrain")
    (window,) = case.evaluate(charter(), [auc, CONSTRAINED])["windows"]
    check_binary_window(window, case.rows, 0.5)
    assert window["metrics"]["roc_auc"] is None
    assert (window["metrics"]["pr_auc"] is None) == (label == 0.0)
    roc_verdict, constrained = window["verdicts"]
    assert (roc_verdict["observed"], roc_verdict["met"]) == (None, None)
    assert window["breaches"] == [v for v in window["verdicts"] if v["met"] is False]
    # Without positives no threshold reaches precision 0.7 (scikit-learn's final point, recall
    # 0 at precision "1", is no threshold): nothing is achievable. With only positives, all is.
    assert afterwards(constrained) == (None if label == 0.0 else 1.0)


def test_when_no_threshold_meets_the_constraint_nothing_is_achievable_afterwards() -> None:
    # The highest score is a negative and precision never reaches 0.7 at any threshold.
    scores = [0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3]
    labels = [0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0]
    times = [T0] * 8
    case = Case(times, scores, [(i, T0 + timedelta(days=1), y) for i, y in enumerate(labels)])
    (window,) = case.evaluate(charter(), [CONSTRAINED])["windows"]
    (verdict,) = window["verdicts"]
    precision, _, _ = precision_recall_curve(labels, scores)
    assert not (precision[:-1] >= AT_PRECISION).any()  # only sklearn's final (1, 0) point
    assert best_recall_at_precision(np.array(labels), np.array(scores), AT_PRECISION) == 0.0
    assert afterwards(verdict) is None
    assert verdict["achievable_afterwards"]["note"] == "no threshold satisfies the constraint"
    assert (verdict["observed"], verdict["met"]) == (None, None)
    assert window["breaches"] == []


def test_a_window_without_labels_has_no_metrics_and_no_judgement() -> None:
    times = [T0, T0 + timedelta(hours=2), T0 + timedelta(days=1), T0 + timedelta(days=1, hours=3)]
    case = Case(times, [0.9, 0.1, 0.8, 0.4], [(0, T0 + timedelta(days=3), 1.0)])
    criteria = [CONSTRAINED, criterion("log_loss", "<=", 0.5, plan="recalibrate")]
    report = case.evaluate(charter(baseline_value=0.4, baseline_metric="recall"), criteria)
    first, second = report["windows"]
    assert (first["labeled"], second["labeled"]) == (1, 0)
    assert set(second) == WINDOW_KEYS | {"unscored"}
    assert (second["n"], second["label_coverage"], second["label_delay_hours"]) == (2, 0.0, None)
    assert second["metrics"] == {}
    assert second["baseline"] is None
    assert [(v["observed"], v["met"]) for v in second["verdicts"]] == [(None, None), (None, None)]
    assert [v["plan"] for v in second["verdicts"]] == ["use the rule", "recalibrate"]
    assert second["breaches"] == []


def test_a_window_without_labels_explains_its_null_verdicts() -> None:
    case = Case([T0, T0], [0.9, 0.1], [])
    criteria = [CONSTRAINED, criterion("log_loss", "<=", 0.5)]
    (window,) = case.evaluate(charter(), criteria)["windows"]
    notes = [v["note"] for v in window["verdicts"]]
    assert not any("not computed" in (n or "") or "no threshold" in (n or "") for n in notes)


def test_a_window_with_one_labeled_row() -> None:
    times = [T0, T0 + timedelta(hours=1), T0 + timedelta(hours=2)]
    case = Case(times, [0.9, 0.3, 0.6], [(0, T0 + timedelta(hours=5), 1.0)])
    (window,) = case.evaluate(charter(), [CONSTRAINED])["windows"]
    check_binary_window(window, case.rows, 0.5)
    assert (window["n"], window["labeled"], window["label_delay_hours"]) == (3, 1, 5.0)
    assert window["metrics"]["roc_auc"] is None
    assert window["metrics"]["pr_auc"] == 1.0
    assert afterwards(window["verdicts"][0]) == 1.0


@pytest.mark.parametrize("threshold", [0.0, 0.35, 0.5, 1.0])
def test_thresholded_metrics_use_score_at_or_above_the_threshold(threshold: float) -> None:
    rng = np.random.default_rng(9)
    case = binary_case(rng, 300, 1, scores=rng.choice([0.0, 0.35, 0.5, 0.8, 1.0], size=300))
    report = case.evaluate(charter(), [], threshold=threshold)
    assert report["threshold"] == threshold
    (window,) = report["windows"]
    check_binary_window(window, case.rows, threshold)


@pytest.mark.parametrize("threshold", [-0.01, 1.01, math.nan, math.inf])
def test_a_threshold_outside_0_1_is_refused(threshold: float) -> None:
    case = Case([T0], [0.5], [(0, T0, 1.0)])
    with pytest.raises(ValidationError, match="threshold must be in"):
        case.evaluate(charter(), [], threshold=threshold)


@pytest.mark.parametrize("window", ["3x", "0d", "d", "1.5d", ""])
def test_a_bad_window_is_refused(window: str) -> None:
    case = Case([T0], [0.5], [(0, T0, 1.0)])
    with pytest.raises(ValidationError, match="invalid window"):
        case.evaluate(charter(), [], window=window)


def test_binary_labels_other_than_0_1_are_refused_or_scored_as_sklearn() -> None:
    y = [-1.0, 1.0, 1.0, -1.0, 1.0, -1.0]
    p = [0.1, 0.8, 0.6, 0.4, 0.9, 0.3]
    case = Case([T0] * 6, p, [(i, T0, label) for i, label in enumerate(y)])
    try:
        (window,) = case.evaluate(charter(), [])["windows"]
    except ValidationError:
        return
    assert window["metrics"]["brier"] == pytest.approx(brier_score_loss(y, p, pos_label=1))
    prob_true, _ = calibration_curve(y, p, n_bins=10, pos_label=1)
    observed = [b["observed_rate"] for b in window["calibration"] if b["count"]]
    assert observed == pytest.approx(prob_true.tolist())


# --- windows and the join -----------------------------------------------------------------------


def test_windows_are_utc_and_follow_the_window_length() -> None:
    eastern = timezone(timedelta(hours=-5))
    times = [
        datetime(2026, 3, 4, 20, 0, tzinfo=eastern),  # 2026-03-05 01:00 UTC, a Thursday
        datetime(2026, 3, 5, 5, 59, tzinfo=UTC),
        datetime(2026, 3, 5, 6, 0, tzinfo=UTC),
        datetime(2026, 3, 9, 0, 0, tzinfo=UTC),  # a Monday
    ]
    case = Case(times, [0.5] * 4, [(i, times[i] + timedelta(hours=1), 1.0) for i in range(4)])
    starts = {
        window: [
            (w["start"], w["end"], w["n"])
            for w in case.evaluate(charter(), [], window=window)["windows"]
        ]
        for window in ("1d", "6h", "1w")
    }
    assert starts["1d"] == [
        ("2026-03-05T00:00:00+00:00", "2026-03-06T00:00:00+00:00", 3),
        ("2026-03-09T00:00:00+00:00", "2026-03-10T00:00:00+00:00", 1),
    ]
    assert starts["6h"] == [
        ("2026-03-05T00:00:00+00:00", "2026-03-05T06:00:00+00:00", 2),
        ("2026-03-05T06:00:00+00:00", "2026-03-05T12:00:00+00:00", 1),
        ("2026-03-09T00:00:00+00:00", "2026-03-09T06:00:00+00:00", 1),
    ]
    assert starts["1w"] == [  # weeks start on Monday
        ("2026-03-02T00:00:00+00:00", "2026-03-09T00:00:00+00:00", 3),
        ("2026-03-09T00:00:00+00:00", "2026-03-16T00:00:00+00:00", 1),
    ]


def test_each_prediction_gets_its_entitys_latest_outcome() -> None:
    times = [T0 + timedelta(hours=h) for h in (1, 2, 3, 4, 5, 6)]
    scores = [0.9, 0.8, 0.3, 0.2, 0.7, 0.6]
    outcomes = [
        (0, T0 + timedelta(days=3), 0.0),  # corrects the label 1 of day 2, stored after it
        (0, T0 + timedelta(days=2), 1.0),
        (1, T0 + timedelta(hours=12), 1.0),
        (2, T0 + timedelta(hours=20), 0.0),
        (2, T0 + timedelta(hours=30), 1.0),  # a later correction
        (3, T0 + timedelta(hours=10), 0.0),
        # entities 4 and 5: no outcome yet
    ]
    case = Case(times, scores, outcomes)
    assert case.rows["label"].tolist()[:4] == [0.0, 1.0, 1.0, 0.0]
    (window,) = case.evaluate(charter(), [CONSTRAINED])["windows"]
    check_binary_window(window, case.rows, 0.5)
    assert (window["n"], window["labeled"], window["label_coverage"]) == (6, 4, 4 / 6)
    delays = [3 * 24 - 1, 12 - 2, 30 - 3, 10 - 4]  # to each entity's latest outcome, in hours
    assert window["label_delay_hours"] == pytest.approx(np.median(delays), rel=1e-12)
    assert window["label_delay_mean_hours"] == pytest.approx(np.mean(delays), rel=1e-12)


def test_the_model_version_filter_keeps_only_that_versions_predictions() -> None:
    rng = np.random.default_rng(6)
    n = 400
    times = [T0 + timedelta(seconds=float(s)) for s in np.sort(rng.uniform(0, 2 * 86_400, n))]
    scores = rng.uniform(size=n).round(3)
    versions = ["v1" if i % 3 else "v2" for i in range(n)]
    labels = (rng.uniform(size=n) < scores).astype(float)
    case = Case(
        times,
        scores,
        [(i, times[i] + timedelta(days=1), labels[i]) for i in range(n)],
        versions=versions,
    )
    report = case.evaluate(charter(), [CONSTRAINED], model_version="v2")
    assert report["model_version"] == "v2"
    only = case.rows[np.array(versions) == "v2"]
    for window, (_, part) in zip(report["windows"], only.groupby("window"), strict=True):
        check_binary_window(window, part, 0.5)
    assert case.evaluate(charter(), [], model_version="v3")["windows"] == []
    without = Case([T0], [0.5], [(0, T0, 1.0)])
    with pytest.raises(ValidationError, match="model_version"):
        without.evaluate(charter(), [], model_version="v1")


# --- multiclass and regression ------------------------------------------------------------------


def test_multiclass_metrics_equal_sklearn_with_string_labels() -> None:
    rng = np.random.default_rng(12)
    n = 600
    classes = np.array(["billing", "tech", "sales", "returns"])
    truth = classes[rng.choice(4, n, p=[0.4, 0.3, 0.2, 0.1])]
    predicted = np.where(rng.uniform(size=n) < 0.6, truth, classes[rng.integers(0, 3, n)])
    predicted[rng.choice(n, 15, replace=False)] = "legal"  # predicted, never true
    times = [T0 + timedelta(seconds=float(s)) for s in np.sort(rng.uniform(0, 3 * 86_400, n))]
    known = np.flatnonzero(rng.uniform(size=n) < 0.85)
    case = Case(
        times,
        predicted.tolist(),
        [(int(i), times[i] + timedelta(days=1), str(truth[i])) for i in known],
        column="prediction",
    )
    criteria = [
        criterion("f1", ">=", 0.9, task="multiclass", plan="keep the rules"),
        criterion("accuracy", ">=", 0.5, task="multiclass"),
        criterion("roc_auc", ">=", 0.5, task="multiclass"),
    ]
    the_charter = charter("multiclass", baseline_value=0.62, baseline_metric="accuracy")
    report = case.evaluate(the_charter, criteria)
    assert report["task"] == "multiclass"
    for window, (_, part) in zip(report["windows"], case.windows(), strict=True):
        labeled = part.dropna(subset=["label"])
        y, p = labeled["label"].tolist(), labeled["output"].tolist()
        accuracy = accuracy_score(y, p)
        macro_f1 = f1_score(y, p, average="macro", zero_division=0)
        assert window["metrics"].keys() == {"accuracy", "macro_f1"}
        assert window["metrics"]["accuracy"] == pytest.approx(accuracy, rel=REL)
        assert window["metrics"]["macro_f1"] == pytest.approx(macro_f1, rel=REL)
        f1_verdict, accuracy_verdict, auc_verdict = window["verdicts"]
        assert f1_verdict["observed"] == window["metrics"]["macro_f1"]  # f1 means macro F1
        assert (f1_verdict["met"], f1_verdict["plan"]) == (macro_f1 >= 0.9, "keep the rules")
        assert accuracy_verdict["observed"] == window["metrics"]["accuracy"]
        assert (auc_verdict["observed"], auc_verdict["met"]) == (None, None)
        assert "not computed for multiclass" in auc_verdict["note"]
        assert window["baseline"] == {
            "metric": "accuracy",
            "baseline": 0.62,
            "model": window["metrics"]["accuracy"],
            "beats_baseline": window["metrics"]["accuracy"] > 0.62,
        }


def test_a_multiclass_baseline_on_f1_is_compared_with_macro_f1() -> None:
    case = Case(
        [T0] * 4,
        ["x", "y", "z", "x"],
        [(i, T0, label) for i, label in enumerate(["x", "y", "y", "x"])],
        column="prediction",
    )
    the_charter = charter("multiclass", baseline_value=0.5, baseline_metric="f1")
    (window,) = case.evaluate(the_charter, [])["windows"]
    macro_f1 = f1_score(["x", "y", "y", "x"], ["x", "y", "z", "x"], average="macro")
    assert window["baseline"] == {
        "metric": "f1",
        "baseline": 0.5,
        "model": pytest.approx(macro_f1, rel=REL),
        "beats_baseline": True,
    }


REGRESSION_CASES = {
    "plain": ([3.0, 5.0, 2.5, 7.0, 4.0], [2.5, 5.0, 3.0, 8.0, 4.5]),
    "zeros-in-y": ([0.0, 1.0, 2.0, 0.0], [0.5, 1.0, 2.5, -0.25]),
    "constant-y-imperfect": ([2.0, 2.0, 2.0], [1.0, 2.0, 3.0]),
    "constant-y-perfect": ([2.0, 2.0, 2.0], [2.0, 2.0, 2.0]),
    "large-mean": ([1e9 + 0.1, 1e9 + 0.2, 1e9 + 0.4], [1e9, 1e9, 1e9]),
}


@pytest.mark.parametrize("name", list(REGRESSION_CASES))
def test_regression_metrics_equal_sklearn(name: str) -> None:
    y, yhat = REGRESSION_CASES[name]
    times = [T0 + timedelta(hours=i) for i in range(len(y))]
    # A second day with an unlabeled prediction: it must not leak into the first.
    case = Case(
        [*times, T0 + timedelta(days=1)],
        [*yhat, 99.0],
        [(i, T0 + timedelta(days=2), v) for i, v in enumerate(y)],
        column="prediction",
    )
    mape = criterion("mape", "<=", 0.2, task="regression", plan="last year's weekday")
    the_charter = charter("regression", baseline_value=0.21, baseline_metric="mape")
    first, second = case.evaluate(the_charter, [mape])["windows"]
    expected = {
        "mae": mean_absolute_error(y, yhat),
        "rmse": root_mean_squared_error(y, yhat),
        "mape": mean_absolute_percentage_error(y, yhat),
        "r2": r2_score(y, yhat),
    }
    assert_close(first["metrics"], expected)
    if name == "constant-y-imperfect":
        assert first["metrics"]["r2"] == 0.0  # force_finite: not -inf
    if name == "constant-y-perfect":
        assert first["metrics"]["r2"] == 1.0
    if name == "zeros-in-y":
        assert first["metrics"]["mape"] > 1e14  # |e| / eps, as scikit-learn
    (verdict,) = first["verdicts"]
    assert verdict["observed"] == first["metrics"]["mape"]
    assert verdict["met"] is (expected["mape"] <= 0.2)
    assert first["baseline"]["beats_baseline"] is (expected["mape"] < 0.21)  # lower is better
    assert (second["n"], second["labeled"], second["metrics"]) == (1, 0, {})


def test_regression_r2_of_a_constant_y_that_floats_cannot_average_is_zero() -> None:
    """scikit-learn's mean of [0.1, 0.1, 0.1] is 0.10000000000000002, so it sees a spread and
    reports R² ≈ -1.7e31; mlpilot documents the intended 0.0 (stats/regression.py)."""
    y, yhat = [0.1, 0.1, 0.1], [0.1, 0.1, 0.2]
    case = Case([T0] * 3, yhat, [(i, T0, v) for i, v in enumerate(y)], column="prediction")
    (window,) = case.evaluate(charter("regression"), [])["windows"]
    assert window["metrics"]["r2"] == 0.0
    assert r2_score(y, yhat) < -1e30


def test_regression_r2_of_a_single_row_is_null() -> None:
    case = Case([T0], [4.0], [(0, T0, 5.0)], column="prediction")
    (window,) = case.evaluate(charter("regression"), [])["windows"]
    assert window["metrics"] == {"mae": 1.0, "rmse": 1.0, "mape": 0.2, "r2": None}


# --- verdicts and the baseline ------------------------------------------------------------------


def test_verdicts_cover_every_model_criterion_and_breaches_only_the_failing_ones() -> None:
    rng = np.random.default_rng(30)
    case = binary_case(rng, 400, 2, labeled=1.0)
    criteria = [
        CONSTRAINED,
        criterion("roc_auc", ">=", 0.99, plan="retrain on last quarter"),
        criterion("log_loss", "<=", 5.0, plan="recalibrate"),
        criterion("brier", "<", 0.01),
        criterion("balanced_accuracy", ">=", 0.5),
        criterion("latency_p99", "<=", 300, task="binary", kind="service", plan="cache"),
    ]
    report = case.evaluate(charter(), criteria)
    for window in report["windows"]:
        assert set(window) == WINDOW_KEYS | {"calibration", "confusion", "ranking", "unscored"}
        verdicts = window["verdicts"]
        assert set(verdicts[0]) == VERDICT_KEYS | {"achievable_afterwards"}
        assert all(set(v) == VERDICT_KEYS for v in verdicts[1:])
        assert [v["metric"] for v in verdicts] == [
            "recall",
            "roc_auc",
            "log_loss",
            "brier",
            "balanced_accuracy",
        ]  # the service criterion is not judged here
        assert [v["criterion"] for v in verdicts] == [
            "recall >= 0.6 at precision >= 0.7",
            "roc_auc >= 0.99",
            "log_loss <= 5",
            "brier < 0.01",
            "balanced_accuracy >= 0.5",
        ]
        metrics = window["metrics"]
        assert [v["observed"] for v in verdicts[1:4]] == [
            metrics["roc_auc"],
            metrics["log_loss"],
            metrics["brier"],
        ]
        assert [v["met"] for v in verdicts] == [
            None,  # stored without an operating point: insufficient, never met
            False,
            True,
            False,
            None,
        ]
        assert verdicts[4]["note"] == "balanced_accuracy is not computed for binary models"
        assert window["breaches"] == [v for v in verdicts if v["met"] is False]
        assert [b["plan"] for b in window["breaches"] if b["metric"] == "roc_auc"] == [
            "retrain on last quarter"
        ]
        assert all(
            b["target"] == c.target
            for b in window["breaches"]
            for c in criteria
            if c.metric == b["metric"]
        )


@pytest.mark.parametrize(
    ("metric", "value"),
    [("log_loss", 0.9), ("log_loss", 0.3), ("recall", 0.3), ("recall", 0.9), ("brier", 0.2)],
)
def test_the_baseline_block_compares_in_the_metrics_direction(metric: str, value: float) -> None:
    rng = np.random.default_rng(31)
    case = binary_case(rng, 300, 1, labeled=1.0)
    (window,) = case.evaluate(charter(baseline_value=value, baseline_metric=metric), [])["windows"]
    model = window["metrics"][metric]
    lower_is_better = metric in ("log_loss", "brier")
    assert window["baseline"] == {
        "metric": metric,
        "baseline": value,
        "model": model,
        "beats_baseline": model < value if lower_is_better else model > value,
    }


def test_no_baseline_block_without_a_baseline_value() -> None:
    case = Case([T0], [0.7], [(0, T0, 1.0)])
    (window,) = case.evaluate(charter(), [])["windows"]
    assert window["baseline"] is None


# --- properties ---------------------------------------------------------------------------------

ROW = st.tuples(
    st.integers(0, 2),  # day
    st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.7, 0.9, 1.0]),  # score, heavily tied
    st.sampled_from([None, 0.0, 1.0]),  # label (None: not arrived)
    st.booleans(),  # an earlier, wrong outcome that the label corrects
)


@settings(max_examples=6, deadline=None, database=None)
@given(rows=st.lists(ROW, min_size=1, max_size=30), order=st.randoms(use_true_random=False))
def test_metrics_equal_sklearn_and_ignore_row_order(rows: list[Any], order: Any) -> None:
    times = [T0 + timedelta(days=d, minutes=k) for k, (d, _, _, _) in enumerate(rows)]
    outcomes = []
    for i, (_, _, label, corrected) in enumerate(rows):
        if label is None:
            continue
        if corrected:
            outcomes.append((i, times[i] + timedelta(hours=1), 1.0 - label))
        outcomes.append((i, times[i] + timedelta(hours=2 + i), label))
    case = Case(times, [s for _, s, _, _ in rows], outcomes)
    report = case.evaluate(charter(), [CONSTRAINED])
    for window, (_, part) in zip(report["windows"], case.windows(), strict=True):
        check_binary_window(window, part, 0.5)

    permutation = list(range(len(rows)))
    order.shuffle(permutation)
    shuffled_outcomes = list(outcomes)
    order.shuffle(shuffled_outcomes)
    shuffled = Case([times[i] for i in permutation], [rows[i][1] for i in permutation], [])
    shuffled.predictions = case.predictions.take(pa.array(permutation))
    shuffled.outcomes = pa.table(
        {
            "entity_id": [f"e{i}" for i, _, _ in shuffled_outcomes],
            "time": utc(t for _, t, _ in shuffled_outcomes),
            "label": [label for _, _, label in shuffled_outcomes],
        },
        schema=case.outcomes.schema,
    )
    assert_close(shuffled.evaluate(charter(), [CONSTRAINED]), report)


# --- many distinct scores: the score grid ------------------------------------------------------


def _one_day(scores: np.ndarray, seed: int) -> tuple[Case, np.ndarray, np.ndarray]:
    """One labeled day with these scores; labels drawn from them."""
    rng = np.random.default_rng(seed)
    n = scores.size
    times = [T0 + timedelta(seconds=float(s)) for s in np.sort(rng.uniform(0, 86_000, n))]
    y = (rng.uniform(size=n) < 0.15 + 0.7 * (scores - scores.min()) / np.ptp(scores)).astype(float)
    outcomes = [(i, times[i] + timedelta(hours=1), y[i]) for i in range(n)]
    return Case(times, scores.tolist(), outcomes), y, scores


def test_many_distinct_scores_go_on_the_grid_within_the_stated_bounds() -> None:
    case, y, p = _one_day(np.random.default_rng(40).uniform(size=40_000), 41)
    (window,) = case.evaluate(charter(), [])["windows"]
    ranking = window["ranking"]
    assert ranking["exact"] is False
    assert ranking["score_bins"] == 1 << 14
    auc_bound, ap_bound = ranking["roc_auc_error_bound"], ranking["pr_auc_error_bound"]
    assert 0 < auc_bound <= 1e-4
    assert abs(window["metrics"]["roc_auc"] - roc_auc_score(y, p)) <= auc_bound
    assert abs(window["metrics"]["pr_auc"] - average_precision_score(y, p)) <= ap_bound
    assert ap_bound < 1e-2
    # the counts at the decision threshold are untouched by the grid
    assert window["metrics"]["log_loss"] == pytest.approx(log_loss(y, p), rel=1e-12)


def test_ten_thousand_distinct_scores_are_exact() -> None:
    distinct = np.random.default_rng(42).uniform(size=10_000)
    scores = np.random.default_rng(43).choice(distinct, size=30_000)
    scores[:10_000] = distinct  # every one of them present
    case, y, p = _one_day(scores, 44)
    (window,) = case.evaluate(charter(), [])["windows"]
    assert window["ranking"] == {
        "exact": True, "score_bins": None, "roc_auc_error_bound": 0.0, "pr_auc_error_bound": 0.0,
    }  # fmt: skip
    assert window["metrics"]["roc_auc"] == pytest.approx(roc_auc_score(y, p), rel=1e-12)
    assert window["metrics"]["pr_auc"] == pytest.approx(average_precision_score(y, p), rel=1e-12)


def test_scores_too_close_for_the_grid_are_computed_exactly() -> None:
    """40,000 distinct scores within one grid step: the bound would be 0.5, so exact again."""
    scores = 0.5 + np.random.default_rng(45).uniform(size=40_000) * 1e-6
    case, y, p = _one_day(scores, 46)
    (window,) = case.evaluate(charter(), [])["windows"]
    assert window["ranking"]["exact"] is True
    assert window["metrics"]["roc_auc"] == pytest.approx(roc_auc_score(y, p), rel=1e-12)
    assert window["metrics"]["pr_auc"] == pytest.approx(average_precision_score(y, p), rel=1e-12)


def test_only_the_windows_with_many_scores_go_on_the_grid() -> None:
    rng = np.random.default_rng(47)
    many = rng.uniform(size=30_000)
    few = rng.choice(np.linspace(0.05, 0.95, 50), size=2_000)
    n = many.size + few.size
    times = [T0 + timedelta(seconds=float(s)) for s in np.sort(rng.uniform(0, 86_000, many.size))]
    times += [
        T0 + timedelta(days=1, seconds=float(s)) for s in np.sort(rng.uniform(0, 86_000, few.size))
    ]
    scores = np.concatenate([many, few])
    y = (rng.uniform(size=n) < scores).astype(float)
    case = Case(
        times, scores.tolist(), [(i, times[i] + timedelta(hours=1), y[i]) for i in range(n)]
    )
    first, second = case.evaluate(charter(), [])["windows"]
    assert (first["ranking"]["exact"], second["ranking"]["exact"]) == (False, True)
    day2 = slice(many.size, n)
    assert second["metrics"]["roc_auc"] == pytest.approx(
        roc_auc_score(y[day2], scores[day2]), rel=1e-12
    )
    day1 = slice(0, many.size)
    bound = first["ranking"]["roc_auc_error_bound"]
    assert abs(first["metrics"]["roc_auc"] - roc_auc_score(y[day1], scores[day1])) <= bound
