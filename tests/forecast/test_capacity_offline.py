"""Capacity criteria (top k per period) evaluated offline, at the operating point the team uses.

Before: a capacity criterion was "not evaluable offline" and had no probability before launch.
The counts are checked against a direct pandas computation of the same selection (ties at the
cut, a period with fewer than k rows, one period only), the posterior against scipy's Beta.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import mlpilot
from mlpilot.errors import ValidationError

T0 = datetime(2026, 3, 4, 10, tzinfo=UTC)  # a Wednesday


def make(tmp_path, *criteria: tuple[str, float, str]):
    ws = mlpilot.Workspace.open(tmp_path / "ws")
    churn = ws.create_initiative(
        "churn", name="Churn", problem="p", prediction_use="u", task="binary", shape="batch",
        baseline="usage rule",
    )  # fmt: skip
    for metric, target, per in criteria:
        churn.add_criterion("model", metric, ">=", target, top=50, per=per)
    return ws, churn


def frame(n: int, days: float, seed: int, decimals: int = 1) -> pd.DataFrame:
    """Scores rounded to ``decimals``: many ties at every cut."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.2).astype(int)
    p = np.round(stats.norm.cdf(rng.normal(1.2 * y, 1.0) - 0.8), decimals)
    offsets = rng.uniform(0, days * 86_400, n)
    t = pd.to_datetime(T0) + pd.to_timedelta(np.round(offsets / 3600) * 3600, unit="s")
    return pd.DataFrame({"y": y, "p": p, "t": t})


def reference(data: pd.DataFrame, k: int, period: pd.Series) -> dict[str, float]:
    """Top k by score per period (ties: earliest time, then file order), pooled counts."""
    d = data.assign(period=period.to_numpy(), i=np.arange(len(data)))
    d = d.sort_values(["period", "p", "t", "i"], ascending=[True, False, True, True])
    chosen = d.groupby("period").cumcount() < k
    tp = int((chosen & (d.y == 1)).sum())
    fp = int(chosen.sum()) - tp
    fn = int(d.y.sum()) - tp
    precision = tp / (tp + fp)
    return {"tp": tp, "fp": fp, "fn": fn, "precision": precision,
            "recall": tp / (tp + fn), "lift": precision / d.y.mean()}  # fmt: skip


@pytest.mark.parametrize(
    ("per", "days", "period"),
    [
        ("week", 30, lambda t: t.dt.tz_convert(None).dt.to_period("W-SUN")),  # weeks from Monday
        ("day", 9, lambda t: t.dt.floor("D")),
        ("month", 70, lambda t: t.dt.tz_convert(None).dt.to_period("M")),
        ("3d", 20, lambda t: (t - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(days=3)),
        ("week", 3, lambda t: t.dt.tz_convert(None).dt.to_period("W-SUN")),  # Wed-Sat: 1 period
        # about 49 rows per window: some windows have fewer than k = 50 rows and take them all
        ("2d", 37, lambda t: (t - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(days=2)),
    ],
)
def test_capacity_metrics_equal_a_direct_computation(tmp_path, per, days, period):
    data = frame(900, days, seed=len(per) + int(days))
    ws, churn = make(tmp_path, ("precision", 0.3, per), ("lift", 1.5, per), ("recall", 0.1, per))
    with ws:
        churn.evaluate(data, time_column="t", name="gbm")
        report = churn.feasibility()
        evaluation = churn.evaluations()[-1]
    ref = reference(data, 50, period(data.t))
    precision, lift, recall = report["criteria"]
    assert precision["estimate"] == pytest.approx(ref["precision"], abs=1e-12)
    assert lift["estimate"] == pytest.approx(ref["lift"], abs=1e-12)
    assert recall["estimate"] == pytest.approx(ref["recall"], abs=1e-12)
    a, b = ref["tp"] + 0.5, ref["fp"] + 0.5  # Dirichlet(½): precision ~ Beta(TP + ½, FP + ½)
    assert precision["probability_met"] == pytest.approx(stats.beta.sf(0.3, a, b), abs=1e-9)
    assert [precision["low"], precision["high"]] == pytest.approx(
        stats.beta.ppf([0.025, 0.975], a, b), abs=1e-9
    )
    assert 0 <= lift["probability_met"] <= 1
    se = evaluation.details["se"][f"precision at top 50 per {per}"]  # the learning curve's
    assert se == pytest.approx((precision["high"] - precision["low"]) / 3.92, abs=1e-12)
    assert report["probability_all_met"] is not None
    assert report["method"].startswith("joint posterior of the confusion counts")
    how = evaluation.details["capacity"][f"top 50 per {per}"]
    short = (period(data.t).value_counts() < 50).sum()
    assert how["short_periods"] == short
    if short:
        assert "fewer than 50 rows" in precision["note"]
    assert short > 0 or per != "2d"  # the cases cover periods with fewer than k rows


def test_the_per_period_population_selects_top_k_n_over_n(tmp_path):
    data = frame(1000, 1, seed=3).drop(columns="t")
    ws, churn = make(tmp_path, ("precision", 0.4, "week"))
    with ws:
        churn.evaluate(data, per_period=12_000, name="gbm")  # 50 · 1000 / 12000 = 4.17 -> 4
        (row,) = churn.feasibility()["criteria"]
    order = np.lexsort((np.arange(1000), -data.p.to_numpy()))[:4]
    tp = int(data.y.to_numpy()[order].sum())
    assert row["estimate"] == pytest.approx(tp / 4)
    assert "random sample of one week's population of 12000" in row["note"]


def test_without_times_or_population_a_capacity_is_not_evaluable_and_says_how(tmp_path):
    """The defect: before, a capacity criterion never got a probability offline."""
    data = frame(600, 14, seed=4)
    ws, churn = make(tmp_path, ("precision", 0.3, "week"))
    with ws:
        churn.evaluate(data.drop(columns="t"), name="no-times")
        (before,) = churn.feasibility()["criteria"]
        churn.evaluate(data, time_column="t", name="with-times")
        (after,) = churn.feasibility()["criteria"]
    assert before["probability_met"] is None
    assert "--time-column" in before["note"]
    assert "--per-period" in before["note"]
    assert after["probability_met"] is not None
    assert after["evaluation"] == "with-times"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"time_column": "when"}, "no column 'when'"),
        ({"time_column": "y"}, "holds numbers"),
        ({"time_column": "bad"}, "not a time"),
        ({"per_period": 0}, "at least 1"),
        ({"per_period": 100}, "smaller than the evaluation set (300 rows)"),
        ({"per_period": 5000, "time_column": "t"}, "not both"),
    ],
)
def test_bad_capacity_input_is_a_named_error(tmp_path, options, message):
    data = frame(300, 14, seed=5).assign(bad="monday")
    ws, churn = make(tmp_path, ("precision", 0.3, "week"))
    with ws, pytest.raises(ValidationError) as raised:
        churn.evaluate(data, **options)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_times_as_iso_text_and_dates_give_the_same_periods(tmp_path):
    data = frame(400, 21, seed=6)
    text = data.assign(t=data.t.dt.strftime("%Y-%m-%dT%H:%M:%S+00:00"))
    ws, churn = make(tmp_path, ("precision", 0.3, "week"))
    with ws:
        churn.evaluate(data, time_column="t", name="a", at=T0 + timedelta(days=30))
        (a,) = churn.feasibility()["criteria"]
        churn.evaluate(text, time_column="t", name="b", at=T0 + timedelta(days=31))
        (b,) = churn.feasibility()["criteria"]
    assert (a["evaluation"], b["evaluation"]) == ("a", "b")
    assert a["estimate"] == b["estimate"]


def test_criteria_at_one_capacity_are_joined_on_their_counts_then_with_the_others(tmp_path):
    from mlpilot.stats.confusion import confusion_draws

    data = frame(1400, 14, seed=7, decimals=6)
    ws, churn = make(tmp_path, ("precision", 0.57, "week"), ("lift", 2.8, "week"))
    with ws:
        churn.add_criterion("model", "roc_auc", ">=", 0.7)
        churn.evaluate(data, time_column="t", name="gbm")
        report = churn.feasibility()
        counts = churn.evaluations()[-1].details["confusion"]["top 50 per week"]
    precision, lift, auc = report["criteria"]
    draws = confusion_draws(counts)  # the same Dirichlet(½) posterior, drawn
    both = float(((draws["precision"] >= 0.57) & (draws["lift"] >= 2.8)).mean())
    assert min(precision["probability_met"], lift["probability_met"]) >= both  # a joint event
    # precision@k and lift@k move together: their joint is well above the product
    assert both > precision["probability_met"] * lift["probability_met"] + 0.1
    expected = both * auc["probability_met"]
    assert report["probability_all_met"] == pytest.approx(expected, abs=1e-12)
    assert "the parts taken as independent" in report["method"]
