"""Judging data readiness: pure Python on hand-made summaries, plus one end-to-end call."""

from __future__ import annotations

import itertools
import json
from datetime import date, datetime, timedelta

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlpilot.domain.criteria import make_criterion
from mlpilot.engine.connection import duckdb, table
from mlpilot.engine.readiness import (
    ColumnSummary,
    PeriodRows,
    RangeCheck,
    ReadinessSummary,
    ReferenceSummary,
    TargetSummary,
    TimeSummary,
    UnseenValues,
)
from mlpilot.monitors.readiness import (
    DEFAULTS,
    check_data,
    history,
    judge,
    next_start,
    periods_between,
)


def column(name: str, *, missing: int = 0, distinct: int = 10, **extra) -> ColumnSummary:
    kind = extra.pop("kind", "numeric")
    dtype = extra.pop("dtype", {"numeric": "float64", "text": "string"}.get(kind, kind))
    return ColumnSummary(name, dtype, kind, missing, distinct, **extra)


def clean(rows: int = 1000, **changes) -> ReadinessSummary:
    base = ReadinessSummary(rows, 0, (column("a"), column("b", kind="text")))
    return ReadinessSummary(**{**base.__dict__, **changes})


def checks_by_name(report) -> dict[str, dict]:
    return {c["name"]: c for c in report["checks"]}


def data_criterion(metric: str, op: str, target: float, plan: str | None = None):
    return make_criterion(kind="data", metric=metric, op=op, target=target, plan=plan)


# --- defaults ---------------------------------------------------------------------------------


def test_clean_data_passes_every_default_and_the_defaults_are_in_the_report():
    report = judge(clean())
    assert report["ready"] is True
    assert [c["name"] for c in report["checks"]] == [
        "rows",
        "missing_share",
        "duplicate_share",
        "constant_columns",
    ]
    for check in report["checks"]:
        assert check["criterion"] is None
        assert check["plan"] is None
        assert check["threshold"] == DEFAULTS[check["name"]].target
    assert report["defaults"]["missing_share"] == {
        "op": "<=",
        "threshold": 0.5,
        "meaning": "no column is more than half missing",
    }
    json.dumps(report, allow_nan=False)


def test_each_default_fails_on_its_own_problem():
    summary = clean(
        rows=100,
        duplicates=2,
        columns=(column("a", missing=51), column("k", distinct=1), column("z", distinct=0)),
    )
    report = judge(summary)
    checks = checks_by_name(report)
    assert report["missing"] == {"a": 0.51, "k": 0.0, "z": 0.0}
    assert (checks["missing_share"]["observed"], checks["missing_share"]["passed"]) == (0.51, False)
    assert checks["missing_share"]["detail"] == "column 'a'"
    assert (checks["duplicate_share"]["observed"], checks["duplicate_share"]["passed"]) == (
        0.02,
        False,
    )
    assert report["constant_columns"] == ["k", "z"]
    assert (checks["constant_columns"]["observed"], checks["constant_columns"]["passed"]) == (
        2,
        False,
    )
    assert report["ready"] is False


def test_no_rows_fails_every_check_that_needs_rows_without_crashing():
    summary = clean(rows=0, columns=(column("a", distinct=0),))
    report = judge(summary)
    assert report["ready"] is False
    assert report["missing"] == {"a": None}
    assert report["duplicate_share"] is None
    for check in report["checks"]:
        assert check["passed"] is False
        assert check["name"] == "rows" or check["detail"] == "no rows"
    json.dumps(report, allow_nan=False)


# --- criteria ---------------------------------------------------------------------------------


def test_a_data_criterion_replaces_the_default_and_carries_its_plan():
    criteria = [
        data_criterion("rows", ">=", 5000, plan="Collect another quarter"),
        data_criterion("missing_share", "<=", 0.2),
        make_criterion(kind="model", metric="recall", op=">=", target=0.8),  # not a data one
    ]
    report = judge(clean(rows=1000), criteria)
    checks = checks_by_name(report)
    rows = checks["rows"]
    assert rows["passed"] is False
    assert rows["criterion"] == "rows >= 5000"
    assert rows["plan"] == "Collect another quarter"
    assert rows["threshold"] == 5000
    assert checks["missing_share"]["criterion"] == "missing_share <= 0.2"
    assert checks["duplicate_share"]["criterion"] is None  # still the default
    assert [c["name"] for c in report["checks"]].count("rows") == 1
    assert report["ready"] is False


def test_two_criteria_on_one_metric_give_two_checks():
    criteria = [data_criterion("rows", ">=", 10), data_criterion("rows", "<", 500)]
    checks = [c for c in judge(clean(rows=1000), criteria)["checks"] if c["name"] == "rows"]
    assert [c["passed"] for c in checks] == [True, False]


@pytest.mark.parametrize(
    ("metric", "op", "target", "note"),
    [
        ("history_days", ">=", 365, "needs a time column"),
        ("label_share", ">=", 0.05, "needs a target"),
    ],
)
def test_a_criterion_that_cannot_be_measured_fails_and_says_why(metric, op, target, note):
    report = judge(clean(), [data_criterion(metric, op, target)])
    check = checks_by_name(report)[metric]
    assert (check["observed"], check["passed"], check["detail"]) == (None, False, note)


def test_history_days_is_judged_on_the_span():
    time = TimeSummary(
        "ts",
        datetime(2024, 1, 1),
        datetime(2024, 7, 1, 12),
        0,
        0,
        None,
        "week",
        (PeriodRows(date(2024, 1, 1), 5), PeriodRows(date(2024, 7, 1), 5)),
    )
    report = judge(clean(time=time), [data_criterion("history_days", ">=", 365, plan="wait")])
    check = checks_by_name(report)["history_days"]
    assert check["observed"] == pytest.approx(182.5)
    assert (check["passed"], check["plan"]) == (False, "wait")


# --- history ----------------------------------------------------------------------------------


def time_summary(starts: list[date], period: str) -> TimeSummary:
    periods = tuple(PeriodRows(s, 1) for s in starts)
    first = datetime.combine(starts[0], datetime.min.time()) if starts else None
    last = datetime.combine(starts[-1], datetime.min.time()) if starts else None
    return TimeSummary("ts", first, last, 0, 0, None, period, periods)


def test_gaps_and_the_longest_gap_in_days():
    days = [date(2024, 1, 1), date(2024, 1, 3), date(2024, 1, 9)]
    out = history(time_summary(days, "day"))
    assert (out["gaps"], out["longest_gap_days"], out["span_days"]) == (6, 5, 8.0)
    months = [date(2023, 11, 1), date(2024, 2, 1)]
    out = history(time_summary(months, "month"))
    assert (out["gaps"], out["longest_gap_days"]) == (2, 62)  # December and January
    assert history(time_summary([date(2024, 1, 1)], "week"))["gaps"] == 0


def test_no_times_gives_nulls():
    out = history(time_summary([], "day"))
    assert (out["first"], out["span_days"], out["gaps"], out["longest_gap_days"]) == (
        None,
        None,
        None,
        None,
    )
    assert out["rows_per_period"] == []


FREQ = {"day": "D", "week": "W-MON", "month": "MS"}


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["day", "week", "month"]),
    st.sets(st.integers(0, 400), min_size=1, max_size=40),
)
def test_gaps_match_pandas(period, offsets):
    anchor = date(2023, 1, 2)  # a Monday
    if period == "day":
        starts = sorted({anchor + timedelta(days=o) for o in offsets})
    elif period == "week":
        starts = sorted({anchor + timedelta(weeks=o) for o in offsets})
    else:
        starts = sorted({date(2000 + o // 12, o % 12 + 1, 1) for o in offsets})
    out = history(time_summary(starts, period))
    every = pd.date_range(starts[0], starts[-1], freq=FREQ[period]).date
    empty = [d for d in every if d not in set(starts)]
    assert out["gaps"] == len(empty)
    longest = 0
    for a, b in itertools.pairwise(starts):
        run = [d for d in empty if a < d < b]
        if run:
            longest = max(longest, (b - run[0]).days)
    assert out["longest_gap_days"] == longest
    for a in starts:
        assert next_start(a, period) == pd.date_range(a, periods=2, freq=FREQ[period]).date[1]
    assert periods_between(starts[0], starts[-1], period) == len(every)


# --- target, types, reference -----------------------------------------------------------------


def test_class_shares_and_a_rare_minority_class():
    target = TargetSummary("y", 2, 10, (("no", 995), ("yes", 5)), 5)
    report = judge(clean(rows=1010, target=target))
    assert report["target"]["counts"] == [
        {"value": "no", "rows": 995, "share": 0.995},
        {"value": "yes", "rows": 5, "share": 0.005},
    ]
    assert report["target"]["minority_share"] == 0.005
    check = checks_by_name(report)["label_share"]
    assert (check["observed"], check["passed"], check["threshold"]) == (0.005, False, 0.01)
    assert any("rarest class is 0.50%" in w for w in report["warnings"])


def test_a_single_class_has_no_minority():
    report = judge(clean(target=TargetSummary("y", 1, 0, ((1, 1000),), 1000)))
    assert report["target"]["minority_share"] == 0.0
    assert checks_by_name(report)["label_share"]["passed"] is False


def test_a_many_valued_number_target_is_summarised_not_judged_on_balance():
    target = TargetSummary("y", 900, 0, (), None, mean=3.5, std=1.25)
    report = judge(clean(target=target))
    assert (report["target"]["mean"], report["target"]["std"]) == (3.5, 1.25)
    assert "label_share" not in checks_by_name(report)
    judged = judge(clean(target=target), [data_criterion("label_share", ">=", 0.1)])
    check = checks_by_name(judged)["label_share"]
    assert (check["passed"], check["detail"]) == (False, "target has 900 values: not class labels")


def test_text_that_is_almost_all_numbers_or_dates_is_a_warning():
    summary = clean(
        rows=100,
        columns=(
            column("n", kind="text", as_number=96, not_number="n/a"),
            column("d", kind="text", as_time=100),
            column("mixed", kind="text", as_number=94),
        ),
    )
    report = judge(summary)
    assert [(p["column"], p["problem"]) for p in report["type_problems"]] == [
        ("n", "numbers_as_text"),
        ("d", "dates_as_text"),
    ]
    warning = "column 'n' is text but 96.0% of its values parse as numbers"
    assert f"{warning} (one that does not: 'n/a')" in report["warnings"]
    assert report["ready"] is True  # a warning, not a failed check


def test_unparsed_times_are_a_type_problem():
    # Two of ten values are not times, and no value is NULL.
    time = TimeSummary("ts", datetime(2024, 1, 1), datetime(2024, 1, 2), 2, 2, "soon", "day", ())
    report = judge(clean(rows=10, time=time))
    (problem,) = report["type_problems"]
    assert problem == {"column": "ts", "problem": "unparsed_times", "share": 0.2, "example": "soon"}


def test_out_of_range_and_unseen_values_against_the_reference():
    reference = ReferenceSummary(
        rows=50,
        ranges=(RangeCheck("a", 0.0, 1.0, below=3, above=7),),
        unseen=(UnseenValues("b", values=2, rows=5, examples=("x", "y")),),
        only_in_reference=("old",),
        not_in_reference=(),
        type_mismatch=(),
    )
    report = judge(clean(rows=200, reference=reference))
    assert report["reference"]["out_of_range"]["a"]["share"] == 0.05
    assert report["reference"]["unseen"]["b"] == {
        "values": 2,
        "rows": 5,
        "share": 0.025,
        "examples": ["x", "y"],
    }
    check = checks_by_name(report)["out_of_range_share"]
    assert (check["observed"], check["detail"], check["passed"]) == (0.05, "column 'a'", False)
    assert "columns only in the reference: old" in report["warnings"]


# --- end to end -------------------------------------------------------------------------------


def test_check_data_runs_both_halves():
    frame = pa.table(
        {
            "ts": [datetime(2024, 1, 1), datetime(2024, 1, 1), datetime(2024, 1, 4)],
            "y": ["a", "a", "b"],
        }
    )
    connection = duckdb()
    report = check_data(
        table(frame, connection),
        time_column="ts",
        target="y",
        criteria=[data_criterion("rows", ">=", 1000, plan="more data")],
    )
    assert report["rows"] == 3
    assert report["duplicates"] == 1
    assert report["history"]["gaps"] == 2
    assert report["ready"] is False
    assert checks_by_name(report)["rows"]["plan"] == "more data"
    json.dumps(report, allow_nan=False)
