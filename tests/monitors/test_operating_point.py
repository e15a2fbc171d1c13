"""Model criteria judged where the model runs (issue 14, sections 1 and 6).

Each expectation is computed from the rows with pandas and scikit-learn: the top k of each
period by sorting, the metrics with ``sklearn.metrics`` on the labeled rows that have a score.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    log_loss,
    precision_score,
    recall_score,
    roc_auc_score,
)

from mlpilot.domain.criteria import (
    Comparator,
    Constraint,
    Criterion,
    OperatingPoint,
    make_operating_point,
)
from mlpilot.domain.metrics import CriterionKind
from mlpilot.monitors.operating import HINDSIGHT, NO_POINT
from tests.monitors.test_performance import T0, Case, charter, criterion

REL = 1e-12


def random_case(seed: int, n: int, days: int, prevalence: float, labeled: float = 1.0) -> Case:
    """Scores that know nothing about the labels."""
    rng = np.random.default_rng(seed)
    seconds = np.sort(rng.uniform(0, days * 86_400, n))
    times = [T0 + timedelta(seconds=float(s)) for s in seconds]
    scores = rng.uniform(size=n)
    y = (rng.uniform(size=n) < prevalence).astype(float)
    known = np.flatnonzero(rng.uniform(size=n) < labeled)
    return Case(times, scores, [(int(i), times[i] + timedelta(hours=1), y[i]) for i in known])


def legacy(metric: str = "recall", target: float = 0.6, at: float = 0.5) -> Criterion:
    """A criterion as an old workspace stored it: a constraint and no operating point."""
    return Criterion(
        CriterionKind.MODEL,
        metric,
        Comparator.GE,
        target,
        constraint=Constraint("precision", Comparator.GE, at),
        plan="keep the rule",
        id=7,
    )


def labeled_rows(part: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    rows = part.dropna(subset=["label"])
    rows = rows[rows["output"].notna()]
    return rows["label"].to_numpy(dtype=float).astype(int), rows["output"].to_numpy(dtype=float)


# --- a constraint judged at the best threshold in hindsight -------------------------------------


def test_a_random_model_stored_with_a_constraint_and_no_operating_point_is_never_met() -> None:
    # Issue 14: "recall 1.000 (met 0.6)" next to ROC AUC 0.456. With more than half the labels
    # positive, the lowest threshold reaches precision >= 0.5 and recall 1 for any model.
    case = random_case(seed=41, n=600, days=3, prevalence=0.6)
    report = case.evaluate(charter(), [legacy()])
    for window, (_, part) in zip(report["windows"], case.windows(), strict=True):
        y, p = labeled_rows(part)
        assert window["metrics"]["roc_auc"] == pytest.approx(roc_auc_score(y, p), rel=REL)
        (verdict,) = window["verdicts"]
        assert (verdict["observed"], verdict["met"], verdict["note"]) == (None, None, NO_POINT)
        assert window["breaches"] == []
        # What hindsight would reach is still shown, and labelled as such.
        afterwards = verdict["achievable_afterwards"]
        assert afterwards["label"] == HINDSIGHT == "achievable at a threshold chosen afterwards"
        assert afterwards["value"] == 1.0


def test_a_random_model_at_its_declared_threshold_fails_its_criterion() -> None:
    case = random_case(seed=42, n=3000, days=2, prevalence=0.6)
    declared = criterion(
        "recall", ">=", 0.6, constraint=("precision", ">=", 0.5),
        operating_point=make_operating_point(threshold=0.5),
    )  # fmt: skip
    report = case.evaluate(charter(), [declared])
    for window, (_, part) in zip(report["windows"], case.windows(), strict=True):
        y, p = labeled_rows(part)
        (verdict,) = window["verdicts"]
        recall = recall_score(y, p >= 0.5)
        assert verdict["observed"] == pytest.approx(recall, rel=REL)
        assert verdict["constraint_observed"] == pytest.approx(precision_score(y, p >= 0.5))
        assert verdict["operating_point"] == "threshold 0.5"
        assert verdict["criterion"] == "recall >= 0.6 and precision >= 0.5 at threshold 0.5"
        assert verdict["met"] is False  # recall about 0.5: a random model does not meet 0.6
        assert window["breaches"] == [verdict]
        assert verdict["achievable_afterwards"]["value"] == 1.0  # shown, not the verdict


def test_a_declared_threshold_other_than_the_reports_is_used() -> None:
    case = random_case(seed=43, n=500, days=1, prevalence=0.3)
    at_03 = criterion("precision", ">=", 0.2, operating_point=OperatingPoint(threshold=0.3))
    plain = criterion("precision", ">=", 0.2)
    (window,) = case.evaluate(charter(), [at_03, plain], threshold=0.8)["windows"]
    y, p = labeled_rows(case.rows)
    first, second = window["verdicts"]
    assert first["observed"] == pytest.approx(precision_score(y, p >= 0.3), rel=REL)
    assert second["observed"] == pytest.approx(precision_score(y, p >= 0.8), rel=REL)
    assert second["operating_point"] == "threshold 0.8 (the report's)"
    (point,) = window["operating_points"]
    assert point["point"] == "threshold 0.3"
    assert point["confusion"]["tp"] == int(np.sum((y == 1) & (p >= 0.3)))


# --- capacity: the top k per period --------------------------------------------------------------


def top_k_reference(case: Case, times: list[Any], top: int, per: str) -> pd.DataFrame:
    """Each prediction with its period and whether it is among the period's top k scores."""
    frame = case.rows.copy()
    frame["time"] = pd.to_datetime(times, utc=True)
    frame["entity"] = [f"e{i}" for i in range(len(frame))]
    if per == "week":
        frame["period"] = frame["time"].dt.tz_convert(None).dt.to_period("W-SUN").dt.start_time
    elif per == "month":
        frame["period"] = frame["time"].dt.tz_convert(None).dt.to_period("M").dt.start_time
    else:
        frame["period"] = frame["time"].dt.floor(per)
    frame["scored"] = frame["output"].notna()
    ranked = frame[frame["scored"]].sort_values(
        ["period", "output", "time", "entity"], ascending=[True, False, True, True]
    )
    chosen = ranked.groupby("period").head(top).index
    frame["selected"] = frame.index.isin(chosen)
    return frame


@pytest.mark.parametrize(
    ("top", "per", "days"), [(15, "week", 20), (40, "month", 70), (5, "12h", 3)]
)
def test_capacity_metrics_per_window_and_per_period_equal_a_pandas_reference(
    top: int, per: str, days: int
) -> None:
    rng = np.random.default_rng(44)
    n = 60 * days
    seconds = np.sort(rng.uniform(0, days * 86_400, n))
    times = [T0 + timedelta(seconds=float(s)) for s in seconds]
    scores = rng.uniform(size=n).round(2)  # ties at the k-th score
    scores[rng.uniform(size=n) < 0.05] = np.nan  # never selected, counted as unscored
    y = (rng.uniform(size=n) < 0.1 + 0.5 * np.nan_to_num(scores)).astype(float)
    known = np.flatnonzero(rng.uniform(size=n) < 0.8)
    case = Case(times, scores, [(int(i), times[i] + timedelta(hours=2), y[i]) for i in known])
    point = make_operating_point(top=top, per=per)
    criteria = [
        criterion("precision", ">=", 0.5, operating_point=point),
        criterion("recall", ">=", 0.2, operating_point=point),
        criterion("lift", ">=", 1.5, operating_point=point),
    ]
    report = case.evaluate(charter(), criteria, window="1d")
    frame = top_k_reference(case, times, top, per)
    usable = frame[frame["label"].notna() & frame["scored"]]
    for window in report["windows"]:
        day = usable[usable["window"] == pd.Timestamp(window["start"])]
        truth, chosen = day["label"].to_numpy() == 1, day["selected"].to_numpy()
        expected = {
            "precision": truth[chosen].mean() if chosen.any() else None,
            "recall": chosen[truth].mean() if truth.any() else None,
        }
        expected["lift"] = (
            expected["precision"] / truth.mean()
            if expected["precision"] is not None and truth.any()
            else None
        )
        for verdict in window["verdicts"]:
            want = expected[verdict["metric"]]
            if want is None:
                assert verdict["observed"] is None
                assert verdict["met"] is None
                assert verdict["note"].startswith("undefined")
            else:
                assert verdict["observed"] == pytest.approx(want, rel=REL)
            assert verdict["operating_point"] == f"top {top} per {per}"
        assert window["unscored"] == int(
            frame[frame["window"] == pd.Timestamp(window["start"])]["output"].isna().sum()
        )
    (block,) = report["capacity"]
    assert (block["top"], block["per"]) == (top, per)
    periods = frame.groupby("period")
    assert [p["start"] for p in block["periods"]] == [
        t.tz_localize("UTC").isoformat() if t.tzinfo is None else t.isoformat()
        for t in periods.groups
    ]
    for got, (_, part) in zip(block["periods"], periods, strict=True):
        labeled = part[part["label"].notna() & part["scored"]]
        hit = labeled["selected"] & (labeled["label"] == 1)
        assert got["selected"] == min(top, int(part["scored"].sum()))
        assert got["selected_labeled"] == int(labeled["selected"].sum())
        assert got["selected_positives"] == int(hit.sum())
        assert got["positives"] == int((labeled["label"] == 1).sum())
        assert got["precision_at_k"] == pytest.approx(hit.sum() / labeled["selected"].sum())
        assert got["recall_at_k"] == pytest.approx(hit.sum() / (labeled["label"] == 1).sum())
        share = (labeled["label"] == 1).mean()
        assert got["lift_at_k"] == pytest.approx(got["precision_at_k"] / share)


def test_each_predictions_own_decision_is_judged() -> None:
    rng = np.random.default_rng(45)
    n = 300
    times = [T0 + timedelta(minutes=int(m)) for m in np.sort(rng.integers(0, 1400, n))]
    case = Case(times, rng.uniform(size=n), [])
    decisions = rng.integers(0, 2, n)
    y = rng.integers(0, 2, n).astype(float)
    case = Case(times, case.rows["output"], [(i, T0 + timedelta(days=1), y[i]) for i in range(n)])
    case.predictions = case.predictions.append_column("prediction", [decisions.tolist()])
    judged = criterion("precision", ">=", 0.9, operating_point=OperatingPoint(decision=True))
    (window,) = case.evaluate(charter(), [judged])["windows"]
    (verdict,) = window["verdicts"]
    assert verdict["observed"] == pytest.approx(precision_score(y, decisions), rel=REL)
    assert verdict["operating_point"] == "each prediction's decision"
    assert verdict["met"] is False


# --- undefined metrics and missing scores --------------------------------------------------------


def test_a_window_without_positive_labels_leaves_recall_undefined_never_breached() -> None:
    # Issue 14: such a window reported recall 0.0, a breach of "recall >= 0.6".
    times = [T0 + timedelta(hours=h) for h in range(8)]
    scores = [0.1, 0.2, 0.3, 0.6, 0.7, 0.8, 0.9, 0.95]
    case = Case(times, scores, [(i, T0 + timedelta(days=1), 0.0) for i in range(8)])
    criteria = [
        criterion("recall", ">=", 0.6, plan="retrain"),
        criterion("roc_auc", ">=", 0.7),
        criterion("pr_auc", ">=", 0.3),
        criterion("precision", ">=", 0.5, operating_point=OperatingPoint(threshold=0.5)),
    ]
    (window,) = case.evaluate(charter(), criteria)["windows"]
    recall, auc, ap, precision = window["verdicts"]
    for verdict in (recall, auc, ap):
        assert (verdict["observed"], verdict["met"]) == (None, None)
        assert verdict["note"].startswith("undefined:")
    assert recall["note"] == "undefined: no positive label in this window"
    assert window["metrics"]["recall"] is None
    assert window["metrics"]["precision"] == 0.0  # defined: 5 predicted positive, none right
    assert (precision["observed"], precision["met"]) == (0.0, False)
    assert window["breaches"] == [precision]


def test_nan_scores_are_left_out_of_every_metric_and_counted() -> None:
    # Issue 14: a NaN score counted as zero loss in log loss, but as a negative for recall.
    rng = np.random.default_rng(46)
    n = 400
    times = [T0 + timedelta(minutes=int(m)) for m in np.sort(rng.integers(0, 1400, n))]
    scores = rng.uniform(size=n)
    y = (rng.uniform(size=n) < scores).astype(float)
    missing = rng.uniform(size=n) < 0.1
    scores[missing] = np.nan
    case = Case(times, scores, [(i, T0 + timedelta(days=1), y[i]) for i in range(n)])
    top = make_operating_point(top=50, per="day")
    criteria = [criterion("recall", ">=", 0.5, operating_point=top)]
    (window,) = case.evaluate(charter(), criteria)["windows"]
    keep = ~missing
    yk, pk = y[keep].astype(int), scores[keep]
    assert window["unscored"] == int(missing.sum())
    assert window["labeled"] == n  # the label coverage counts every prediction
    expected = {
        "log_loss": log_loss(yk, pk),
        "brier": brier_score_loss(yk, pk),
        "recall": recall_score(yk, pk >= 0.5),
        "precision": precision_score(yk, pk >= 0.5),
        "roc_auc": roc_auc_score(yk, pk),
        "pr_auc": average_precision_score(yk, pk),
    }
    for name, value in expected.items():
        assert window["metrics"][name] == pytest.approx(value, rel=1e-9), name
    assert sum(b["count"] for b in window["calibration"]) == keep.sum()
    chosen = np.argsort(-pk, kind="stable")[:50]
    (verdict,) = window["verdicts"]
    assert verdict["observed"] == pytest.approx(yk[chosen].sum() / yk.sum(), rel=REL)


def test_a_window_whose_labeled_rows_have_no_score_has_only_undefined_metrics() -> None:
    times = [T0, T0 + timedelta(hours=1)]
    case = Case(times, [math.nan, math.nan], [(0, T0, 1.0), (1, T0, 0.0)])
    (window,) = case.evaluate(charter(), [criterion("log_loss", "<=", 0.5)])["windows"]
    assert window["unscored"] == 2
    assert all(value is None for value in window["metrics"].values())
    (verdict,) = window["verdicts"]
    assert (verdict["observed"], verdict["met"]) == (None, None)
    assert verdict["note"] == "undefined: no labeled prediction with a usable score in this window"
