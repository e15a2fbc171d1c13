"""``engine.experiments``: sufficient statistics per arm, checked against pandas on the same rows
(first exposure decides the variant, pre-period events only feed the covariate)."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlpilot.engine.connection import duckdb, table
from mlpilot.engine.experiments import MetricDef, experiment_stats, parse_metric
from mlpilot.errors import ValidationError

T0 = datetime(2026, 3, 2, tzinfo=UTC)
REL = 1e-9


@functools.cache
def _connection():  # type: ignore[no-untyped-def]
    connection = duckdb()
    connection.raw_sql("SET threads = 1")
    return connection


def frames(seed: int, units: int = 150, events: int = 900) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ids = [f"u{i}" for i in range(units)]
    exposures = pd.DataFrame(
        {
            "unit_id": ids,
            "experiment": "exp",
            "variant": rng.choice(["control", "b", "c"], units),
            "time": [T0 + timedelta(hours=int(h)) for h in rng.integers(0, 72, units)],
        }
    )
    # A second exposure of some units: the same variant later (fine), or another (mixed).
    again = exposures.sample(20, random_state=seed).copy()
    again["time"] += timedelta(hours=5)
    again.loc[again.index[:4], "variant"] = "control-x"
    other = exposures.head(10).assign(experiment="other", variant="z")
    events_ = pd.DataFrame(
        {
            "unit_id": rng.choice([*ids, "stranger"], events),
            "metric": rng.choice(["revenue", "orders", "visits"], events),
            "value": rng.gamma(2, 10, events).round(2),
            "time": [T0 + timedelta(hours=int(h)) for h in rng.integers(-60 * 24, 10 * 24, events)],
        }
    )
    return pd.concat([exposures, again, other], ignore_index=True), events_


def expected(exposures, events, metric, kind, pre_days=30.0, cap=None):  # type: ignore[no-untyped-def]
    exp = exposures[exposures.experiment == "exp"].sort_values("time")
    first = exp.groupby("unit_id").agg(
        first=("time", "min"), variant=("variant", "first"), kinds=("variant", "nunique")
    )
    first = first[first.kinds == 1]
    joined = events.merge(first, left_on="unit_id", right_index=True)
    joined = joined[joined.metric == metric]
    post = joined[joined.time >= joined["first"]]
    pre = joined[
        (joined.time < joined["first"])
        & (joined.time >= joined["first"] - timedelta(days=pre_days))
    ]
    if kind == "conversion":
        x = post.groupby("unit_id").size().clip(upper=1).astype(float)
        c = pre.groupby("unit_id").size().clip(upper=1).astype(float)
    else:
        x, c = post.groupby("unit_id").value.sum(), pre.groupby("unit_id").value.sum()
        if cap is not None:
            limit = x.quantile(cap)
            x, c = x.clip(upper=limit), c.clip(upper=limit)
    per_unit = first.assign(
        x=x.reindex(first.index).fillna(0.0), c=c.reindex(first.index).fillna(0.0)
    )
    out = {}
    for variant, g in per_unit.groupby("variant"):
        out[variant] = {
            "n": len(g),
            "sum": g.x.sum(),
            "sum_squares": (g.x**2).sum(),
            "covariate_sum": g.c.sum(),
            "covariate_sum_squares": (g.c**2).sum(),
            "covariate_cross_sum": (g.x * g.c).sum(),
        }
    return out


def run(exposures, events, metrics, **kwargs):  # type: ignore[no-untyped-def]
    con = _connection()
    return experiment_stats(
        table(exposures, con), table(events, con), "exp", ["control", "b", "c"], metrics, **kwargs
    )


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize(
    ("spec", "source", "kind", "cap"),
    [
        ("revenue", "revenue", "mean", None),
        ("bought:conversion:from=orders", "orders", "conversion", None),
        ("revenue:cap=0.9", "revenue", "mean", 0.9),
    ],
)
def test_moments_match_pandas(seed, spec, source, kind, cap):
    exposures, events = frames(seed)
    rows, units = run(exposures, events, [parse_metric(spec)], pre_days=14)
    truth = expected(exposures, events, source, kind, pre_days=14, cap=cap)
    assert units["__mixed__"] == 4
    for row in rows:
        want = truth[row["variant"]]
        assert units[row["variant"]] == row["n"] == want["n"]
        assert row["kind"] == ("proportion" if kind == "conversion" else "mean")
        for key, value in want.items():
            assert row[key] == pytest.approx(value, rel=REL, abs=1e-9), key


def test_ratio_moments_match_pandas():
    exposures, events = frames(7)
    rows, _ = run(exposures, events, [MetricDef("aov", "ratio", "revenue", "orders")])
    num = expected(exposures, events, "revenue", "mean")
    den = expected(exposures, events, "orders", "mean")
    for row in rows:
        assert row["sum"] == pytest.approx(num[row["variant"]]["sum"], rel=REL)
        assert row["sum_squares"] == pytest.approx(num[row["variant"]]["sum_squares"], rel=REL)
        assert row["denominator_sum"] == pytest.approx(den[row["variant"]]["sum"], rel=REL)
        assert row["n"] == num[row["variant"]]["n"]
    # Σxy needs both per unit: recompute it from the rows directly.
    exp = exposures[exposures.experiment == "exp"]
    first = exp.groupby("unit_id").agg(
        first=("time", "min"), kinds=("variant", "nunique"), variant=("variant", "first")
    )
    first = first[first.kinds == 1]
    j = events.merge(first, left_on="unit_id", right_index=True)
    j = j[j.time >= j["first"]]
    wide = j.pivot_table(
        index=["unit_id", "variant"],
        columns="metric",
        values="value",
        aggfunc="sum",
        fill_value=0.0,
    ).reset_index()
    cross = (wide.revenue * wide.orders).groupby(wide.variant).sum()
    for row in rows:
        assert row["cross_sum"] == pytest.approx(cross.get(row["variant"], 0.0), rel=REL)


def test_until_drops_later_events_and_exposures():
    exposures, events = frames(2)
    until = T0 + timedelta(hours=36)
    rows, _ = run(exposures, events, [MetricDef("revenue")], until=until)
    truth = expected(
        exposures[exposures.time <= until], events[events.time <= until], "revenue", "mean"
    )
    for row in rows:
        assert row["n"] == truth[row["variant"]]["n"]
        assert row["sum"] == pytest.approx(truth[row["variant"]]["sum"], rel=REL)


def test_a_variant_without_units_gives_zero_rows():
    exposures, events = frames(3)
    exposures = exposures[exposures.variant != "c"]
    rows, _ = run(exposures, events, [MetricDef("revenue")])
    empty = next(r for r in rows if r["variant"] == "c")
    assert empty["n"] == 0
    assert empty["sum"] == 0.0


@settings(max_examples=15, deadline=None)
@given(st.randoms(use_true_random=False))
def test_row_order_does_not_change_the_statistics(rnd):
    exposures, events = frames(11, units=60, events=300)
    first, _ = run(exposures, events, [MetricDef("revenue")])
    order = list(range(len(events)))
    rnd.shuffle(order)
    second, _ = run(
        exposures.sample(frac=1.0, random_state=rnd.randint(0, 99)),
        events.iloc[order],
        [MetricDef("revenue")],
    )
    for a, b in zip(first, second, strict=True):
        assert a["n"] == b["n"]
        assert a["sum"] == pytest.approx(b["sum"], rel=1e-9)
        assert a["covariate_cross_sum"] == pytest.approx(b["covariate_cross_sum"], rel=1e-9)


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        ("Revenue", "snake_case"),
        ("aov:ratio", "NUM/DEN"),
        ("x:mean:a/b", "ratio"),
        ("x:cap=1.5", "percentile"),
        ("x:conversion:cap=0.9", "mean metrics"),
        ("x:median", "unknown token"),
        ("x:cap=high", "cap"),
    ],
)
def test_bad_metric_specs_are_refused(spec, needle):
    with pytest.raises(ValidationError, match=needle):
        parse_metric(spec)


def test_metric_specs_parse():
    assert parse_metric("aov:ratio:revenue/orders") == MetricDef(
        "aov", "ratio", "revenue", "orders"
    )
    cost = parse_metric("cost:lower:cap=0.99")
    assert cost.cap == 0.99
    assert cost.higher_is_better is False
    assert cost.source == "cost"
