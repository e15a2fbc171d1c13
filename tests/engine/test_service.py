"""``engine.service``: per-window counts and exact latency quantiles, and the per-minute series,
checked against numpy (``numpy.quantile``'s default linear interpolation) on the same rows."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlpilot.engine import service as engine
from mlpilot.engine.connection import duckdb, table
from mlpilot.errors import ValidationError

T0 = datetime(2026, 3, 2, tzinfo=UTC)
HOUR = 3600


@functools.cache
def _connection() -> Any:
    con = duckdb()
    con.raw_sql("SET threads = 1")  # small tables: faster, same results
    return con


def frame(
    seconds: Any,
    latency: Any,
    status: Any = None,
    *,
    version: Any = None,
    error_class: Any = None,
    zone: str = "UTC",
) -> pa.Table:
    """Requests ``seconds`` after T0."""
    times = [T0 + timedelta(seconds=float(s)) for s in seconds]
    n = len(times)
    columns: dict[str, Any] = {
        "id": [str(i) for i in range(n)],
        "time": pa.array(times, pa.timestamp("us", "UTC")).cast(pa.timestamp("us", zone)),
        "latency_ms": pa.array(latency, pa.float64()),
        "status": pa.array(status if status is not None else ["ok"] * n, pa.string()),
    }
    if version is not None:
        columns["model_version"] = pa.array(version, pa.string())
    if error_class is not None:
        columns["error_class"] = pa.array(error_class, pa.string())
    return pa.table(columns)


def ibis_table(data: pa.Table) -> Any:
    return engine.normalize(table(data, _connection()))


def expected(seconds: Any, latency: Any, errors: Any, width: int, bounds: Any = ()) -> dict:
    """Per window start (seconds from T0): what numpy says."""
    seconds, latency = np.asarray(seconds, float), np.asarray(latency, float)
    errors = np.asarray(errors, bool)
    keys = np.floor((T0.timestamp() + seconds) / width) * width - T0.timestamp()
    out = {}
    for key in np.unique(keys):
        mask = keys == key
        lat = latency[mask][~np.isnan(latency[mask])]
        out[key] = {
            "count": int(mask.sum()),
            "errors": int(errors[mask].sum()),
            "timed": lat.size,
            "quantiles": np.quantile(lat, engine.QUANTILES).tolist() if lat.size else None,
            "max": float(lat.max()) if lat.size else None,
            "over": [int((lat > b).sum()) for b in bounds],
        }
    return out


def check(rows: list[dict], want: dict) -> None:
    assert len(rows) == len(want)
    for row in rows:
        key = row["start"].replace(tzinfo=UTC).timestamp() - T0.timestamp()
        w = want[key]
        assert (row["count"], row["errors"], row["timed"]) == (w["count"], w["errors"], w["timed"])
        got = [row[name] for name in engine.QUANTILE_NAMES]
        if w["quantiles"] is None:
            assert got == [None] * 4
            assert row["latency_max"] is None
        else:
            assert got == pytest.approx(w["quantiles"], rel=1e-12, abs=1e-12)
            assert row["latency_max"] == w["max"]
        assert row["over"] == w["over"]


def test_random_requests_match_numpy():
    rng = np.random.default_rng(3)
    n = 5000
    seconds = rng.uniform(0, 3 * 86_400, n)
    latency = rng.lognormal(4, 0.8, n)
    errors = rng.uniform(size=n) < 0.03
    status = np.where(errors, "error", "ok").tolist()
    rows = engine.summarize(
        ibis_table(frame(seconds, latency, status)),
        "1h",
        thresholds=[engine.Threshold(100.0), engine.Threshold(250.0)],
    )
    check(rows, expected(seconds, latency, errors, HOUR, (100.0, 250.0)))
    assert [r["start"] for r in rows] == sorted(r["start"] for r in rows)


@pytest.mark.parametrize(
    ("seconds", "latency", "status"),
    [
        pytest.param([10.0], [42.5], ["ok"], id="one-request"),
        pytest.param([1, 2, 3, 4000], [7.0, 7.0, 7.0, 7.0], None, id="equal-latencies"),
        pytest.param([5, 6, 7], [1.0, 900.0, 3.0], ["error"] * 3, id="all-errors"),
        pytest.param([5, 6, 7, 8], [1.0, 1e9, 0.0, 2.0], None, id="extreme-values"),
        pytest.param([3600, 3599.999999, 0], [1.0, 2.0, 3.0], None, id="window-edges"),
    ],
)
def test_adversarial_requests_match_numpy(seconds, latency, status):
    status = status or ["ok"] * len(seconds)
    rows = engine.summarize(
        ibis_table(frame(seconds, latency, status)), "1h", thresholds=[engine.Threshold(5.0)]
    )
    errors = [s == "error" for s in status]
    check(rows, expected(seconds, latency, errors, HOUR, (5.0,)))


def test_missing_latencies_count_as_requests_but_not_in_quantiles():
    seconds, latency = [1, 2, 3, 4], [10.0, None, 30.0, None]
    rows = engine.summarize(ibis_table(frame(seconds, latency)), "1h")
    assert rows[0]["count"] == 4
    assert rows[0]["timed"] == 2
    assert rows[0]["latency_p50"] == pytest.approx(np.quantile([10.0, 30.0], 0.5))
    only_missing = engine.summarize(ibis_table(frame([1], [None])), "1h")
    assert only_missing[0]["latency_p99"] is None
    assert only_missing[0]["latency_max"] is None


def test_status_rules():
    data = frame(
        [1, 2, 3, 4],
        [1.0, 1.0, 1.0, 1.0],
        ["ok", "error", None, None],
        error_class=[None, "Timeout", "Timeout", None],
    )
    rows = engine.summarize(ibis_table(data), "1h")
    assert rows[0]["errors"] == 2  # "error", and a missing status with an error class


def test_requests_in_another_zone_and_in_the_future_land_in_their_utc_windows():
    seconds = [10.0, 4000.0, 86_400 * 365 * 3]
    rows = engine.summarize(ibis_table(frame(seconds, [1.0, 2.0, 3.0], zone="+05:30")), "1h")
    want = expected(seconds, [1.0, 2.0, 3.0], [False] * 3, HOUR)
    check(rows, want)
    assert rows[-1]["start"].year == T0.year + 3


def test_by_version_splits_each_window():
    rng = np.random.default_rng(5)
    n = 600
    seconds, latency = rng.uniform(0, 7200, n), rng.gamma(2, 20, n)
    version = rng.choice(["v1", "v2"], n)
    rows = engine.summarize(
        ibis_table(frame(seconds, latency, version=version.tolist())), "1h", by_version=True
    )
    assert [(r["start"].hour, r["model_version"]) for r in rows] == [
        (0, "v1"), (0, "v2"), (1, "v1"), (1, "v2")
    ]  # fmt: skip
    for row in rows:
        mask = (seconds // HOUR == row["start"].hour) & (version == row["model_version"])
        assert row["count"] == mask.sum()
        assert row["latency_p95"] == pytest.approx(np.quantile(latency[mask], 0.95), rel=1e-12)


def test_strict_threshold_counts_equal_latencies_as_over():
    data = ibis_table(frame([1, 2, 3], [100.0, 99.0, 101.0]))
    inclusive, strict = engine.Threshold(100.0), engine.Threshold(100.0, inclusive=False)
    rows = engine.summarize(data, "1h", thresholds=[inclusive, strict])
    assert rows[0]["over"] == [1, 2]


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 80),
    split=st.floats(0, 1),
)
def test_row_order_and_split_between_tables_do_not_matter(seed, n, split):
    rng = np.random.default_rng(seed)
    seconds = rng.integers(0, 4 * HOUR, n).astype(float)  # ties in time on purpose
    latency = rng.choice([1.0, 2.5, 2.5, 80.0, 300.0], n)
    status = rng.choice(["ok", "error"], n).tolist()
    whole = frame(seconds, latency, status)
    order = rng.permutation(n)
    shuffled = whole.take(pa.array(order))
    cut = int(split * n)
    predictions = shuffled.slice(0, cut).rename_columns(["id", "time", "latency_ms", "status"])
    requests = shuffled.slice(cut)
    con = _connection()
    both = engine.requests(
        table(requests, con) if requests.num_rows else None,
        table(predictions, con) if predictions.num_rows else None,
    )
    assert both is not None
    bounds = [engine.Threshold(2.5)]
    assert engine.summarize(both, "1h", thresholds=bounds) == engine.summarize(
        ibis_table(whole), "1h", thresholds=bounds
    )


def test_predictions_count_when_they_carry_a_signal_and_once_per_id():
    con = _connection()
    requests = table(frame([1, 2], [10.0, 20.0]), con)
    predictions = table(
        pa.table(
            {
                "id": ["0", "p1", "p2"],  # "0" is a stored request already
                "time": pa.array([T0] * 3, pa.timestamp("us", "UTC")),
                "score": [0.1, 0.2, 0.3],
                "latency_ms": pa.array([99.0, 30.0, None], pa.float64()),
                "status": pa.array([None, None, None], pa.string()),
            }
        ),
        con,
    )
    rows = engine.summarize(engine.requests(requests, predictions), "1h")
    assert rows[0]["count"] == 3
    assert rows[0]["latency_max"] == 30.0
    plain = table(pa.table({"id": ["a"], "time": pa.array([T0], pa.timestamp("us", "UTC"))}), con)
    assert engine.requests(None, plain) is None
    assert engine.requests(None, None) is None


def test_normalize_needs_a_time_and_a_signal():
    con = _connection()
    with pytest.raises(ValidationError, match="latency_ms or status"):
        engine.normalize(table(pa.table({"time": [T0], "x": [1]}), con))
    with pytest.raises(ValidationError, match="not a time"):
        engine.normalize(table(pa.table({"time": ["2026-03-02"], "latency_ms": [1.0]}), con))


def test_series_counts_per_minute_match_numpy():
    rng = np.random.default_rng(11)
    n = 3000
    seconds = rng.uniform(-600, 7800, n)
    latency = rng.lognormal(4, 1, n)
    errors = rng.uniform(size=n) < 0.1
    data = ibis_table(frame(seconds, latency, np.where(errors, "error", "ok").tolist()))
    end = T0 + timedelta(hours=2)
    got = engine.series(data, T0, end, thresholds=[engine.Threshold(80.0)])
    inside = (seconds >= 0) & (seconds < 7200)
    index = (seconds[inside] // 60).astype(int)
    assert got.total.tolist() == np.bincount(index, minlength=120).tolist()
    assert got.errors.tolist() == np.bincount(index[errors[inside]], minlength=120).tolist()
    slow = latency[inside] > 80.0
    assert got.over[0].tolist() == np.bincount(index[slow], minlength=120).tolist()
    assert got.timed.tolist() == got.total.tolist()


def test_series_of_an_empty_range_and_naive_times():
    data = ibis_table(frame([1.0], [1.0]))
    later = T0 + timedelta(days=1)
    empty = engine.series(data, later, later + timedelta(minutes=3))
    assert empty.total.tolist() == [0, 0, 0]
    assert empty.over.shape == (0, 3)
    with pytest.raises(ValidationError, match="zoned"):
        engine.series(data, T0.replace(tzinfo=None), later)


def test_series_accepts_any_zone():
    data = ibis_table(frame([30.0, 90.0], [1.0, 1.0]))
    start = T0.astimezone(timezone(timedelta(hours=-3)))
    got = engine.series(data, start, start + timedelta(minutes=2))
    assert got.total.tolist() == [1, 1]


def test_times_before_1970_floor_into_their_windows():
    times = [datetime(1969, 12, 31, 23, 30, tzinfo=UTC), datetime(1969, 12, 31, 22, 0, tzinfo=UTC),
             datetime(1969, 12, 31, 21, 59, 59, 500_000, tzinfo=UTC),
             datetime(1970, 1, 1, 0, 0, tzinfo=UTC)]  # fmt: skip
    data = pa.table(
        {"time": pa.array(times, pa.timestamp("us", "UTC")), "latency_ms": [1.0, 2.0, 3.0, 4.0]}
    )
    rows = engine.summarize(ibis_table(data), "1h")
    assert [(r["start"].isoformat(), r["count"]) for r in rows] == [
        ("1969-12-31T21:00:00", 1), ("1969-12-31T22:00:00", 1),
        ("1969-12-31T23:00:00", 1), ("1970-01-01T00:00:00", 1),
    ]  # fmt: skip
    weekly = engine.summarize(ibis_table(data), "1w")
    assert [r["start"].isoformat() for r in weekly] == ["1969-12-29T00:00:00"]  # a Monday
    start = datetime(1969, 12, 31, 22, 0, tzinfo=UTC)
    got = engine.series(ibis_table(data), start, start + timedelta(hours=2), step_seconds=1800)
    assert got.total.tolist() == [1, 0, 0, 1]  # 22:00, 23:30; midnight is past the end


def test_span_latency_matches_numpy_on_the_rows_in_the_span():
    rng = np.random.default_rng(31)
    n = 2000
    seconds = np.round(rng.uniform(-600, 7800, n))  # whole seconds: some fall on the bounds
    latency = rng.lognormal(4, 1, n)
    data = ibis_table(frame(seconds, latency))
    start, end = T0 + timedelta(minutes=30), T0 + timedelta(hours=1, minutes=30)
    got = engine.span_latency(data, start, end)
    inside = (seconds >= 1800) & (seconds < 5400)
    want = np.quantile(latency[inside], engine.QUANTILES)
    assert list(got) == list(engine.QUANTILE_NAMES)
    np.testing.assert_allclose(list(got.values()), want, rtol=1e-12)
    later = T0 + timedelta(days=1)
    assert set(engine.span_latency(data, later, later + timedelta(hours=1)).values()) == {None}
    with pytest.raises(ValidationError, match="zoned"):
        engine.span_latency(data, start.replace(tzinfo=None), end)
