"""The engine half of data readiness, checked against pandas computed on the same rows."""

from __future__ import annotations

import dataclasses
import math
from datetime import date, datetime, timedelta

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlpilot.engine.connection import duckdb, table
from mlpilot.engine.readiness import (
    PeriodRows,
    ReadinessSummary,
    default_period,
    readiness_aggregate,
    summarize,
)
from mlpilot.errors import NotFoundError, ValidationError

START = datetime(2024, 1, 1)


def summary_of(frame: pa.Table, reference: pa.Table | None = None, **options) -> ReadinessSummary:
    connection = duckdb()
    ref = None if reference is None else table(reference, connection)
    return summarize(table(frame, connection), reference=ref, **options)


def random_frame(seed: int, n: int = 400, days: int = 60) -> pa.Table:
    """Floats with NaN and ±inf, ints and text and booleans with NULLs, a time with gaps, a
    three-class target, and 20 duplicated rows."""
    rng = np.random.default_rng(seed)
    f = rng.normal(size=n)
    f[rng.random(n) < 0.1] = np.nan
    f[rng.random(n) < 0.02] = np.inf
    f[rng.random(n) < 0.02] = -np.inf
    day = rng.integers(0, days, n)
    day = day[day % 9 != 4][: n // 2]  # days 4, 13, 22, … never occur: gaps
    day = np.resize(day, n)
    when = [
        START + timedelta(days=int(d), hours=int(h)) for d, h in zip(day, day % 24, strict=True)
    ]
    text = rng.choice(
        np.array(["a", "b", "c", "d", "e"], dtype=object), n, p=[0.4, 0.3, 0.2, 0.07, 0.03]
    )
    frame = pa.table(
        {
            "f": pa.array(f),
            "i": pa.array(rng.integers(-5, 50, n), mask=rng.random(n) < 0.1),
            "s": pa.array(text, mask=rng.random(n) < 0.15),
            "b": pa.array(rng.random(n) < 0.5, mask=rng.random(n) < 0.05),
            "ts": pa.array(when, pa.timestamp("us"), mask=rng.random(n) < 0.05),
            "y": pa.array(rng.choice([0, 1, 2], n, p=[0.7, 0.25, 0.05])),
        }
    )
    return pa.concat_tables([frame, frame.slice(0, 20)])


def expected_periods(frame: pd.DataFrame, period: str) -> list[PeriodRows]:
    ts = frame["ts"].dropna()
    starts = {
        "day": ts.dt.floor("D"),
        "week": ts.dt.to_period("W").dt.start_time,  # pandas weeks end on Sunday
        "month": ts.dt.to_period("M").dt.start_time,
    }[period]
    counts = starts.value_counts().sort_index()
    return [PeriodRows(stamp.date(), int(rows)) for stamp, rows in counts.items()]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_summary_matches_pandas(seed):
    frame = random_frame(seed)
    reference = random_frame(seed + 100, n=200).drop_columns(["b"])
    summary = summary_of(frame, reference, time_column="ts", target="y")
    df = frame.to_pandas()
    assert summary.rows == len(df)
    assert summary.duplicates == int(df.duplicated().sum()) >= 20
    by_name = {c.name: c for c in summary.columns}
    for name in df.columns:
        column = by_name[name]
        assert column.missing == int(df[name].isna().sum()), name
        assert column.distinct == df[name].nunique(), name
    finite = df["f"][np.isfinite(df["f"])]
    assert (by_name["f"].minimum, by_name["f"].maximum) == (finite.min(), finite.max())
    assert by_name["f"].infinite == int(np.isinf(df["f"]).sum())
    assert (by_name["i"].minimum, by_name["i"].maximum) == (df["i"].min(), df["i"].max())
    assert pd.Timestamp(by_name["ts"].minimum) == df["ts"].min()
    # time
    time = summary.time
    assert time is not None
    assert time.period == "day"
    assert (pd.Timestamp(time.first), pd.Timestamp(time.last)) == (df.ts.min(), df.ts.max())
    assert time.missing == int(df.ts.isna().sum())
    assert list(time.periods) == expected_periods(df, "day")
    # target
    target = summary.target
    assert target is not None
    counts = df["y"].value_counts()
    assert target.classes == len(counts)
    assert dict(target.top) == {int(k): int(v) for k, v in counts.items()}
    assert target.smallest == counts.min()
    assert target.mean == pytest.approx(df["y"].mean())
    assert target.std == pytest.approx(df["y"].std())
    # reference
    ref = reference.to_pandas()
    assert summary.reference is not None
    assert summary.reference.rows == len(ref)
    assert summary.reference.not_in_reference == ("b",)
    ranges = {r.column: r for r in summary.reference.ranges}
    assert set(ranges) == {"f", "i", "y"}
    for name, check in ranges.items():
        values = ref[name][np.isfinite(ref[name])]
        assert (check.reference_min, check.reference_max) == (values.min(), values.max())
        assert check.below == int((df[name] < values.min()).sum()), name
        assert check.above == int((df[name] > values.max()).sum()), name
    (unseen,) = summary.reference.unseen
    seen = set(ref["s"].dropna())
    new = df["s"][df["s"].notna() & ~df["s"].isin(seen)]
    assert (unseen.column, unseen.values, unseen.rows) == ("s", new.nunique(), len(new))
    ordered = sorted(new.value_counts().items(), key=lambda kv: (-kv[1], kv[0]))
    assert unseen.examples == tuple(value for value, _ in ordered[:3])


@pytest.mark.parametrize("period", ["day", "week", "month"])
def test_rows_per_period_match_pandas(period):
    frame = random_frame(7, days=200)
    summary = summary_of(frame, time_column="ts", period=period)
    assert summary.time is not None
    assert list(summary.time.periods) == expected_periods(frame.to_pandas(), period)


def test_unseen_values_count_every_row_of_a_value_the_reference_lacks():
    current = pa.table(
        {"s": ["a", "x", "x", "y", None, "z", "z", "z"], "n": [1, 2, 3, 4, 5, 6, 7, 8]}
    )
    reference = pa.table({"s": ["a", "b", None], "n": [2.5, 3.5, float("nan")]})
    ref = summary_of(current, reference).reference
    assert ref is not None
    assert ref.unseen[0].values == 3
    assert ref.unseen[0].rows == 6
    assert ref.unseen[0].examples == ("z", "x", "y")
    assert (ref.ranges[0].below, ref.ranges[0].above) == (2, 5)


def test_default_period_follows_the_span():
    assert default_period(None, None) == "day"
    assert default_period(date(2024, 1, 1), date(2024, 3, 31)) == "day"  # 90 days
    assert default_period(date(2024, 1, 1), date(2024, 4, 1)) == "week"
    assert default_period(datetime(2024, 1, 1), datetime(2025, 12, 31)) == "week"  # 730 days
    assert default_period(date(2024, 1, 1), date(2026, 1, 2)) == "month"


# --- adversarial ------------------------------------------------------------------------------


def test_an_empty_table_gives_zeros_and_no_times():
    frame = pa.table(
        {
            "f": pa.array([], pa.float64()),
            "s": pa.array([], pa.string()),
            "ts": pa.array([], pa.timestamp("us")),
        }
    )
    summary = summary_of(frame, time_column="ts", target="s")
    assert summary.rows == 0
    assert summary.duplicates == 0
    assert all(c.missing == 0 and c.distinct == 0 for c in summary.columns)
    assert summary.time is not None
    assert (summary.time.first, summary.time.last, summary.time.periods) == (None, None, ())
    assert summary.target is not None
    assert (summary.target.classes, summary.target.top, summary.target.smallest) == (0, (), None)


def test_one_row():
    frame = pa.table({"f": [1.5], "ts": [START], "y": ["a"]})
    summary = summary_of(frame, time_column="ts", target="y")
    assert summary.rows == 1
    assert summary.duplicates == 0
    assert summary.time is not None
    assert summary.time.periods == (PeriodRows(START.date(), 1),)
    assert summary.target is not None
    assert summary.target.top == (("a", 1),)


def test_all_null_constant_nan_and_infinite_columns():
    nan, inf = float("nan"), float("inf")
    frame = pa.table(
        {
            "empty": pa.array([None] * 5, pa.float64()),
            "same": ["k"] * 5,
            "odd": pa.array([nan, inf, -inf, 2.0, None]),
        }
    )
    empty, same, odd = summary_of(frame).columns
    assert (empty.missing, empty.distinct, empty.minimum) == (5, 0, None)
    assert (same.missing, same.distinct) == (0, 1)
    assert (odd.missing, odd.distinct, odd.infinite) == (2, 3, 2)
    assert (odd.minimum, odd.maximum) == (2.0, 2.0)


def test_duplicates_treat_nulls_as_equal():
    frame = pa.table({"a": [1, 1, None, None, 2], "b": ["x", "x", None, None, "x"]})
    assert summary_of(frame).duplicates == 2


def test_text_that_is_numbers_or_dates_is_counted():
    frame = pa.table(
        {"n": ["1", "2.5", "-3e2", "n/a", None], "d": ["2024-01-01", "2024-02-01", "x", "y", "z"]}
    )
    n, d = summary_of(frame).columns
    assert (n.as_number, n.not_number) == (3, "n/a")
    assert (d.as_time, d.not_time) == (2, "x")


def test_text_times_parse_and_unparsed_ones_are_counted():
    frame = pa.table({"ts": ["2024-01-01", "2024-01-03 10:00", "soon", None]})
    summary = summary_of(frame, time_column="ts")
    assert summary.time is not None
    assert summary.time.first == datetime(2024, 1, 1)
    assert (summary.time.unparsed, summary.time.unparsed_example) == (1, "soon")
    assert summary.time.missing == 2
    assert [p.rows for p in summary.time.periods] == [1, 1]


def test_a_time_column_that_does_not_parse_is_an_error_naming_it():
    frame = pa.table({"when": ["yesterday", "soon"]})
    with pytest.raises(ValidationError, match="time column 'when' does not parse"):
        summary_of(frame, time_column="when")


def test_a_numeric_time_column_is_refused_before_any_query():
    with pytest.raises(ValidationError, match="time column 'v' has type int64"):
        summary_of(pa.table({"v": [1, 2]}), time_column="v")


@pytest.mark.parametrize("option", ["time_column", "target"])
def test_an_unknown_column_is_named_with_the_available_ones(option):
    with pytest.raises(NotFoundError, match=r"'nope' in the data; the columns are: a, b"):
        summary_of(pa.table({"a": [1], "b": [2]}), **{option: "nope"})


def test_an_unknown_period_is_refused():
    with pytest.raises(ValidationError, match="unknown period 'year'"):
        summary_of(pa.table({"ts": [START]}), time_column="ts", period="year")


def test_a_many_valued_numeric_target_gets_mean_and_std_without_a_group_by():
    frame = pa.table({"y": [float(i) for i in range(30)]})
    target = summary_of(frame, target="y").target
    assert target is not None
    assert (target.classes, target.top, target.smallest) == (30, (), None)
    assert target.mean == pytest.approx(14.5)


def test_a_many_valued_text_target_keeps_the_top_classes_and_the_smallest():
    values = [f"c{i:02d}" for i in range(25) for _ in range(i + 1)]
    target = summary_of(pa.table({"y": values}), target="y").target
    assert target is not None
    assert target.classes == 25
    assert len(target.top) == 20
    assert target.top[0] == ("c24", 25)
    assert target.smallest == 1


def test_the_main_aggregate_is_one_query_over_the_table():
    connection = duckdb()
    t = table(random_frame(1), connection)
    sql = ibis.to_sql(readiness_aggregate(t, time_column="ts", target="y"))
    assert sql.count("SELECT") == 1
    assert "GROUP BY" not in sql


# --- order does not matter --------------------------------------------------------------------

values = {
    "x": st.sampled_from([0.0, 1.5, -2.0, math.nan, math.inf, None]),
    "s": st.sampled_from(["a", "b", "1", None]),
    "d": st.sampled_from([date(2024, 1, 1), date(2024, 1, 9), date(2024, 3, 2), None]),
    "y": st.sampled_from([0, 1, 1, None]),
}
REFERENCE = pa.table({"x": [0.0, 1.0], "s": ["a", "z"], "y": [0, 1]})


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.fixed_dictionaries(values), min_size=0, max_size=30), st.randoms())
def test_the_summary_does_not_depend_on_row_order(rows, random):
    schema = pa.schema(
        [("x", pa.float64()), ("s", pa.string()), ("d", pa.date32()), ("y", pa.int64())]
    )
    shuffled = list(rows)
    random.shuffle(shuffled)
    options = {"time_column": "d", "target": "y"}
    first = summary_of(pa.Table.from_pylist(rows, schema), REFERENCE, **options)
    second = summary_of(pa.Table.from_pylist(shuffled, schema), REFERENCE, **options)
    assert first.target is not None
    assert second.target is not None
    for field in ("mean", "std"):
        a, b = getattr(first.target, field), getattr(second.target, field)
        assert (a is None and b is None) or a == pytest.approx(b)
    blank = {"mean": None, "std": None}
    assert dataclasses.replace(first, target=dataclasses.replace(first.target, **blank)) == (
        dataclasses.replace(second, target=dataclasses.replace(second.target, **blank))
    )
