"""``engine.performance``: the per-window sums and counts, checked against numpy, scipy and
scikit-learn on the same rows.

The engine half is tested on its own: every expectation is computed from the rows with pandas /
numpy (latest outcome per entity, per-window sums), scipy (Mann–Whitney via average ranks) or
scikit-learn's curves, never with ``mlpilot.stats``.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import rankdata
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_curve

from mlpilot.engine import performance as engine
from mlpilot.engine.connection import duckdb, table
from mlpilot.errors import ValidationError

REL = 1e-12
T0 = datetime(2026, 3, 2, tzinfo=UTC)
EPS = float(np.finfo(np.float64).eps)
EDGES = np.linspace(0.0, 1.0, 11)


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


@pytest.fixture
def tables() -> Tables:
    return _shared()


def utc(values: Any) -> pa.Array:
    return pa.array(list(values), pa.timestamp("us", "UTC"))


def predictions_frame(times: list[datetime], scores: Any = None, **extra: Any) -> pa.Table:
    n = len(times)
    columns: dict[str, Any] = {
        "id": [f"p{i}" for i in range(n)],
        "time": utc(times),
        "entity_id": extra.pop("entity_id", [f"e{i}" for i in range(n)]),
    }
    if scores is not None:
        columns["score"] = np.asarray(scores, dtype=np.float64)
    columns |= extra
    return pa.table(columns)


def outcomes_frame(entities: list[str], times: list[datetime], labels: Any) -> pa.Table:
    return pa.table({"entity_id": entities, "time": utc(times), "label": labels})


def day_of(times: Any) -> pd.Series:
    """The UTC day each time falls in, the reference for the engine's daily windows."""
    return pd.Series(pd.to_datetime(list(times), utc=True)).dt.floor("1D")


def window_key(value: Any) -> pd.Timestamp:
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def random_binary(
    rng: np.random.Generator, n: int, days: int, *, decimals: int | None = None
) -> tuple[pa.Table, pa.Table, pd.DataFrame]:
    """Predictions over ``days`` days, about 80% labeled; also the joined rows as pandas."""
    seconds = np.sort(rng.uniform(0, days * 86_400, n))
    times = [T0 + timedelta(seconds=float(s)) for s in seconds]
    scores = rng.uniform(size=n)
    if decimals is not None:
        scores = scores.round(decimals)
    labels = (rng.uniform(size=n) < 0.2 + 0.6 * scores).astype(np.float64)
    has_label = rng.uniform(size=n) < 0.8
    delays = rng.uniform(1, 200, n)  # hours
    preds = predictions_frame(times, scores)
    entities = [f"e{i}" for i in range(n)]
    known = np.flatnonzero(has_label)
    outs = outcomes_frame(
        [entities[i] for i in known],
        [times[i] + timedelta(hours=float(delays[i])) for i in known],
        labels[known],
    )
    rows = pd.DataFrame(
        {
            "window": day_of(times),
            "score": scores,
            "label": np.where(has_label, labels, np.nan),
            "delay": np.where(has_label, delays * 3600, np.nan),
        }
    )
    return preds, outs, rows


def mann_whitney_twice(scores: np.ndarray, labels: np.ndarray) -> int:
    """2·U of the positives (ties counting one half), exactly, from average ranks."""
    ranks = rankdata(scores)  # average ranks: ties share a half-integer rank
    positives = labels == 1
    n_pos = int(positives.sum())
    return round(2 * ranks[positives].sum()) - n_pos * (n_pos + 1)


# --- joined -------------------------------------------------------------------------------------


def test_joined_takes_each_entitys_latest_outcome(tables: Tables) -> None:
    preds = predictions_frame(
        [T0, T0 + timedelta(hours=1), T0 + timedelta(hours=2), T0 + timedelta(days=1), T0],
        [0.1, 0.2, 0.3, 0.4, 0.5],
        entity_id=["a", "b", "c", "a", "d"],
    )
    # Not in time order: the correction for "a" (label 1 at +3 days) comes first in the table.
    outs = outcomes_frame(
        ["a", "a", "c", "c", "d"],
        [
            T0 + timedelta(days=3),
            T0 + timedelta(days=2),
            T0 + timedelta(hours=5),
            T0 + timedelta(hours=4),
            T0 - timedelta(hours=1),  # before the prediction: a negative delay, kept as is
        ],
        [1.0, 0.0, 0.0, 1.0, 1.0],
    )
    got = engine.joined(tables(preds), tables(outs)).to_pyarrow().to_pandas()
    got = got.sort_values("id").set_index("id")

    frame_p, frame_o = preds.to_pandas(), outs.to_pandas()
    latest = frame_o.sort_values("time").groupby("entity_id", as_index=False).last()
    expected = frame_p.merge(latest, on="entity_id", how="left", suffixes=("", "_label"))
    expected = expected.set_index("id").sort_index()
    assert (
        got["label"].isna().tolist()
        == expected["label"].isna().tolist()
        == [
            False,
            True,
            False,
            False,
            False,
        ]
    )
    assert got["label"].dropna().tolist() == expected["label"].dropna().tolist() == [1, 0, 1, 1]
    delay = (expected["time_label"] - expected["time"]).dt.total_seconds()
    np.testing.assert_array_equal(got["_delay"].to_numpy(), delay.to_numpy())
    assert got.loc["p3", "_delay"] == 2 * 86_400  # same entity, later prediction
    assert got.loc["p4", "_delay"] == -3600


# --- totals -------------------------------------------------------------------------------------


def test_binary_totals_match_numpy_per_window(tables: Tables) -> None:
    rng = np.random.default_rng(11)
    preds, outs, rows = random_binary(rng, 600, 3, decimals=2)
    got = engine.totals(engine.joined(tables(preds), tables(outs)), "1d", "binary", 0.5)
    assert [window_key(r["_window"]) for r in got] == sorted(rows["window"].unique())
    for row, (_, part) in zip(got, rows.groupby("window"), strict=True):
        labeled = part.dropna(subset=["label"])
        y, p = labeled["label"].to_numpy(), labeled["score"].to_numpy()
        hit = p >= 0.5
        assert row["n"] == len(part)
        assert row["labeled"] == len(labeled)
        assert (row["tp"], row["fp"], row["fn"], row["tn"]) == (
            int(np.sum((y == 1) & hit)),
            int(np.sum((y == 0) & hit)),
            int(np.sum((y == 1) & ~hit)),
            int(np.sum((y == 0) & ~hit)),
        )
        clipped = np.clip(p, EPS, 1 - EPS)
        log_loss_sum = np.sum(np.where(y == 1, -np.log(clipped), -np.log(1 - clipped)))
        assert row["log_loss_sum"] == pytest.approx(log_loss_sum, rel=REL)
        assert row["brier_sum"] == pytest.approx(np.sum((y - p) ** 2), rel=REL)
        bins = np.searchsorted(EDGES[1:-1], p)  # calibration_curve's binning
        for b in range(10):
            inside = bins == b
            assert row[f"cal_n{b}"] == int(inside.sum())
            assert (row[f"cal_p{b}"] or 0.0) == pytest.approx(p[inside].sum(), rel=REL)
            assert (row[f"cal_y{b}"] or 0.0) == pytest.approx(y[inside].sum(), rel=REL)
        delays = labeled["delay"].to_numpy()
        assert row["delay_mean_s"] == pytest.approx(delays.mean(), rel=1e-9)
        assert row["delay_median_s"] == pytest.approx(np.median(delays), rel=1e-9)


def test_delay_median_interpolates_between_the_middle_rows(tables: Tables) -> None:
    preds = predictions_frame([T0] * 5, [0.1, 0.2, 0.3, 0.4, 0.5])
    hours = [1, 2, 3, 10]  # an even count: the median is 2.5 h, not 2 h or 3 h
    outs = outcomes_frame(
        ["e0", "e1", "e2", "e3"], [T0 + timedelta(hours=h) for h in hours], [0.0, 1.0, 0.0, 1.0]
    )
    (row,) = engine.totals(engine.joined(tables(preds), tables(outs)), "1d", "binary", 0.5)
    assert row["delay_median_s"] == np.median(hours) * 3600
    assert row["delay_mean_s"] == np.mean(hours) * 3600
    assert (row["n"], row["labeled"]) == (5, 4)


def test_calibration_bins_put_scores_on_an_edge_in_the_lower_bin(tables: Tables) -> None:
    scores = [0.0, 0.1, 0.3, 0.30000000000000004, 0.7, 0.7000000000000001, 0.9, 1.0]
    preds = predictions_frame([T0] * len(scores), scores)
    outs = outcomes_frame([f"e{i}" for i in range(len(scores))], [T0] * len(scores), [1.0] * 8)
    (row,) = engine.totals(engine.joined(tables(preds), tables(outs)), "1d", "binary", 0.5)
    expected = np.bincount(np.searchsorted(EDGES[1:-1], scores), minlength=10)
    assert [row[f"cal_n{b}"] for b in range(10)] == expected.tolist()
    assert expected.tolist() == [2, 0, 2, 0, 0, 0, 2, 0, 1, 1]


def test_regression_totals_match_numpy_per_window(tables: Tables) -> None:
    rng = np.random.default_rng(5)
    n = 300
    times = [T0 + timedelta(hours=float(h)) for h in np.sort(rng.uniform(0, 72, n))]
    # A large mean and a small spread: Σ(y - ȳ)² must be taken around the mean.
    y = 1e9 + rng.normal(0, 1, n)
    y[:5] = 0.0  # zeros: |e| / eps
    yhat = y + rng.normal(0, 0.5, n)
    has_label = rng.uniform(size=n) < 0.9
    preds = predictions_frame(times, prediction=yhat)
    known = np.flatnonzero(has_label)
    outs = outcomes_frame([f"e{i}" for i in known], [T0] * len(known), y[known])
    got = engine.totals(engine.joined(tables(preds), tables(outs)), "1d", "regression", 0.5)
    rows = pd.DataFrame({"window": day_of(times), "y": np.where(has_label, y, np.nan), "p": yhat})
    assert len(got) == 3
    for row, (_, part) in zip(got, rows.groupby("window"), strict=True):
        labeled = part.dropna(subset=["y"])
        yy, pp = labeled["y"].to_numpy(), labeled["p"].to_numpy()
        error = pp - yy
        assert (row["n"], row["labeled"]) == (len(part), len(labeled))
        assert row["abs_error_sum"] == pytest.approx(np.abs(error).sum(), rel=REL)
        assert row["squared_error_sum"] == pytest.approx((error**2).sum(), rel=REL)
        ape = np.abs(error) / np.maximum(np.abs(yy), EPS)
        assert row["ape_sum"] == pytest.approx(ape.sum(), rel=REL)
        assert row["y_sum"] == pytest.approx(yy.sum(), rel=REL)
        assert row["y_ss"] == pytest.approx(((yy - yy.mean()) ** 2).sum(), rel=1e-9)
        assert (row["y_min"], row["y_max"]) == (yy.min(), yy.max())


def test_totals_need_the_output_column_of_the_task(tables: Tables) -> None:
    only_prediction = predictions_frame([T0], prediction=[1.0])
    only_score = predictions_frame([T0], [0.5])
    outs = outcomes_frame(["e0"], [T0], [1.0])
    with pytest.raises(ValidationError, match="score column"):
        engine.totals(engine.joined(tables(only_prediction), tables(outs)), "1d", "binary", 0.5)
    with pytest.raises(ValidationError, match="prediction column"):
        engine.totals(engine.joined(tables(only_score), tables(outs)), "1d", "regression", 0.5)


def test_windows_are_cut_in_utc(tables: Tables) -> None:
    eastern = timezone(timedelta(hours=-5))
    times = [
        datetime(2026, 3, 1, 23, 30, tzinfo=UTC),
        datetime(2026, 3, 1, 20, 0, tzinfo=eastern),  # 2026-03-02 01:00 UTC
        datetime(2026, 3, 2, 18, 59, tzinfo=eastern),  # 23:59 UTC
        datetime(2026, 3, 2, 19, 0, tzinfo=eastern),  # 2026-03-03 00:00 UTC
    ]
    preds = predictions_frame(times, [0.5] * 4)
    outs = outcomes_frame(["e0"], [T0], [1.0])
    rows = engine.totals(engine.joined(tables(preds), tables(outs)), "1d", "binary", 0.5)
    assert [(window_key(r["_window"]), r["n"]) for r in rows] == [
        (pd.Timestamp("2026-03-01", tz="UTC"), 1),
        (pd.Timestamp("2026-03-02", tz="UTC"), 2),
        (pd.Timestamp("2026-03-03", tz="UTC"), 1),
    ]


# --- ranking ------------------------------------------------------------------------------------

CONSTRAINTS = (
    engine.Constraint("recall", "precision", ">=", 0.61),
    engine.Constraint("precision", "recall", ">=", 0.83),
    engine.Constraint("recall", "specificity", ">=", 0.77),
    engine.Constraint("specificity", "recall", ">", 0.5),
    engine.Constraint("precision", "specificity", "<", 0.9),
)
OPS = {">=": np.greater_equal, ">": np.greater, "<=": np.less_equal, "<": np.less}


def curve_points(scores: np.ndarray, labels: np.ndarray) -> dict[str, np.ndarray]:
    """Precision, recall and specificity at each distinct score as threshold, from
    scikit-learn's curves without their sentinel points (PR's final (1, 0), ROC's (0, 0))."""
    precision, recall, pr_thresholds = precision_recall_curve(labels, scores)
    fpr, _, roc_thresholds = roc_curve(labels, scores, drop_intermediate=False)
    by_threshold = dict(zip(roc_thresholds[1:], 1 - fpr[1:], strict=True))
    return {
        "precision": precision[:-1],
        "recall": recall[:-1],
        "specificity": np.array([by_threshold[t] for t in pr_thresholds]),
    }


def best_under(points: dict[str, np.ndarray], c: engine.Constraint) -> float | None:
    holds = OPS[c.op](points[c.other], c.value)
    return float(points[c.metric][holds].max()) if holds.any() else None


@pytest.mark.parametrize("decimals", [2, None], ids=["ties", "continuous"])
def test_ranking_matches_sklearn_curves_per_window(tables: Tables, decimals: int | None) -> None:
    rng = np.random.default_rng(21)
    preds, outs, rows = random_binary(rng, 900, 3, decimals=decimals)
    data = engine.joined(tables(preds), tables(outs))
    got = {window_key(k): v for k, v in engine.ranking(data, "1d", CONSTRAINTS).items()}
    assert sorted(got) == sorted(rows["window"].unique())
    for window, part in rows.dropna(subset=["label"]).groupby("window"):
        y, p = part["label"].to_numpy().astype(int), part["score"].to_numpy()
        row = got[window]
        pos, neg = int(y.sum()), int((1 - y).sum())
        assert (row["pos"], row["neg"], row["distinct_scores"]) == (pos, neg, len(np.unique(p)))
        assert row["auc_pairs2"] == mann_whitney_twice(p, y)
        assert row["ap_sum"] / pos == pytest.approx(average_precision_score(y, p), rel=REL)
        points = curve_points(p, y)
        for k, constraint in enumerate(CONSTRAINTS):
            expected = best_under(points, constraint)
            if expected is None:
                assert row[f"best{k}"] is None, constraint
            else:
                assert row[f"best{k}"] == pytest.approx(expected, rel=REL), constraint


def test_ranking_is_exact_above_10000_distinct_scores(tables: Tables) -> None:
    rng = np.random.default_rng(8)
    n = 12_000
    scores = rng.uniform(size=n)
    labels = (rng.uniform(size=n) < scores).astype(np.float64)
    preds = predictions_frame([T0 + timedelta(seconds=i) for i in range(n)], scores)
    outs = outcomes_frame([f"e{i}" for i in range(n)], [T0] * n, labels)
    (row,) = engine.ranking(engine.joined(tables(preds), tables(outs)), "1d").values()
    assert row["distinct_scores"] == len(np.unique(scores)) > 10_000
    # Exact: 2·U is an integer, and the engine's is the same integer (no quantisation).
    assert row["auc_pairs2"] == mann_whitney_twice(scores, labels.astype(int))


def test_ranking_without_positives_has_no_constrained_best(tables: Tables) -> None:
    preds = predictions_frame([T0] * 4, [0.1, 0.4, 0.6, 0.9])
    outs = outcomes_frame(["e0", "e1", "e2", "e3"], [T0] * 4, [0.0] * 4)
    data = engine.joined(tables(preds), tables(outs))
    (row,) = engine.ranking(data, "1d", CONSTRAINTS[:1]).values()
    assert (row["pos"], row["neg"], row["auc_pairs2"], row["ap_sum"]) == (0, 4, 0, 0.0)
    assert row["best0"] is None


def test_ranking_ignores_unlabeled_rows(tables: Tables) -> None:
    preds = predictions_frame([T0, T0, T0 + timedelta(days=1)], [0.2, 0.8, 0.5])
    outs = outcomes_frame(["e0"], [T0], [1.0])
    ranked = engine.ranking(engine.joined(tables(preds), tables(outs)), "1d")
    assert [(window_key(k), v["pos"], v["neg"]) for k, v in ranked.items()] == [
        (pd.Timestamp(T0), 1, 0)
    ]


def test_ranking_leaves_out_labeled_rows_without_a_score(tables: Tables) -> None:
    preds = predictions_frame([T0] * 3, score=pa.array([0.2, None, 0.7], pa.float64()))
    outs = outcomes_frame(["e0", "e1", "e2"], [T0] * 3, [0.0, 1.0, 1.0])
    (row,) = engine.ranking(engine.joined(tables(preds), tables(outs)), "1d").values()
    assert (row["pos"], row["neg"], row["auc_pairs2"]) == (1, 1, 2)


def test_grid_steps_holding_one_score_each_are_exact(tables: Tables) -> None:
    """20,000 labeled rows of 300 scores, at least a grid step apart: on the grid, nothing is
    merged, so the window is exact and needs no second pass."""
    rng = np.random.default_rng(9)
    distinct = np.arange(300) / 300
    scores = rng.choice(distinct, size=20_000)
    labels = (rng.uniform(size=scores.size) < scores).astype(np.float64)
    n = scores.size
    preds = predictions_frame([T0 + timedelta(seconds=i) for i in range(n)], scores)
    outs = outcomes_frame([f"e{i}" for i in range(n)], [T0] * n, labels)
    data = engine.joined(tables(preds), tables(outs))
    (row,) = engine.ranking(data, "1d", grid="all").values()
    assert (row["gridded"], row["merged_steps"], row["merged_pairs"]) == (True, 0, 0)
    assert row["auc_pairs2"] == mann_whitney_twice(scores, labels.astype(int))


@settings(max_examples=8, deadline=None, database=None)
@given(
    st.lists(
        st.tuples(st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0]), st.booleans()),
        min_size=1,
        max_size=40,
    )
)
def test_ranking_counts_ties_one_half(rows: list[tuple[float, bool]]) -> None:
    tables = _shared()
    scores = np.array([s for s, _ in rows])
    labels = np.array([int(b) for _, b in rows])
    preds = predictions_frame([T0] * len(rows), scores)
    outs = outcomes_frame([f"e{i}" for i in range(len(rows))], [T0] * len(rows), labels * 1.0)
    (row,) = engine.ranking(engine.joined(tables(preds), tables(outs)), "1d").values()
    assert row["auc_pairs2"] == mann_whitney_twice(scores, labels)
    assert (row["pos"], row["neg"]) == (labels.sum(), len(labels) - labels.sum())
    if labels.any():
        assert row["ap_sum"] / labels.sum() == pytest.approx(
            average_precision_score(labels, scores), rel=REL
        )


# --- confusion ----------------------------------------------------------------------------------


def test_confusion_counts_labeled_rows_per_window_and_pair(tables: Tables) -> None:
    rng = np.random.default_rng(2)
    n = 200
    classes = np.array(["billing", "tech", "sales"])
    truth = classes[rng.integers(0, 3, n)]
    predicted = np.where(rng.uniform(size=n) < 0.7, truth, classes[rng.integers(0, 3, n)])
    predicted[:3] = "legal"  # a class that is only ever predicted
    times = [T0 + timedelta(hours=float(h)) for h in rng.uniform(0, 48, n)]
    has_label = rng.uniform(size=n) < 0.75
    preds = predictions_frame(times, prediction=predicted.tolist())
    known = np.flatnonzero(has_label)
    outs = outcomes_frame([f"e{i}" for i in known], [T0] * len(known), truth[known].tolist())
    got = engine.confusion(engine.joined(tables(preds), tables(outs)), "1d")
    frame = pd.DataFrame({"window": day_of(times), "y": truth, "p": predicted})[has_label]
    expected = {
        window: {(y, p): int(n) for (y, p), n in part.groupby(["y", "p"]).size().items()}
        for window, part in frame.groupby("window")
    }
    assert {window_key(k): v for k, v in got.items()} == expected
