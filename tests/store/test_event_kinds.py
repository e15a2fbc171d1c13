"""The event kinds beyond predictions and outcomes: requests, exposures and metric events."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from mlpilot import ImportResult, ValidationError
from mlpilot.store.events import EventStore


@pytest.fixture
def store(tmp_path: Path) -> EventStore:
    return EventStore(tmp_path / "events.duckdb")


def _rows(store: EventStore, table: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(store.path), read_only=True) as con:
        return con.execute(f"SELECT * EXCLUDE (time) FROM {table} ORDER BY ALL").fetchall()


def test_requests_are_stored_once_with_their_status_and_error_class(store):
    rows = pa.table(
        {
            "id": ["r1", "r2", "r2"],
            "time": ["2026-03-01T10:00:00Z", "2026-03-01T10:00:01Z", "2026-03-01T10:00:01Z"],
            "latency_ms": [12, 30.5, 30.5],
            "status": ["ok", "error", "error"],
            "error_class": [None, "Timeout", "Timeout"],
        }
    )
    assert store.import_events("churn", "requests", rows) == ImportResult(3, 2, 1)
    assert store.import_events("churn", "requests", rows) == ImportResult(3, 0, 3)
    assert _rows(store, "requests__churn") == [
        ("r1", None, 12.0, "ok", None),
        ("r2", None, 30.5, "error", "Timeout"),
    ]


@pytest.mark.parametrize(
    ("column", "values", "message"),
    [
        ("latency_ms", [float("nan")], "'latency_ms' has 1 NaN or infinite value"),
        ("latency_ms", [float("inf")], "'latency_ms' has 1 NaN or infinite value"),
        ("latency_ms", ["fast"], "'latency_ms' is VARCHAR; it must be numeric"),
        ("status", ["fine"], "'status' has 1 value other than 'ok' or 'error'"),
    ],
)
def test_bad_request_values_are_refused_by_name_and_nothing_is_written(
    store, column, values, message
):
    good = {"id": ["r0"], "time": ["2026-03-01"], "latency_ms": [5.0], "status": ["ok"]}
    store.import_events("churn", "requests", pa.table(good))
    bad = {**good, "id": ["r1"], column: values}
    with pytest.raises(ValidationError, match=message):
        store.import_events("churn", "requests", pa.table(bad))
    assert [row[0] for row in _rows(store, "requests__churn")] == ["r0"]


def test_a_request_needs_a_latency(store):
    with pytest.raises(ValidationError, match="no 'latency_ms' column"):
        store.import_events("churn", "requests", pa.table({"id": ["a"], "time": ["2026-03-01"]}))


def test_exposures_and_metric_events_derive_ids_so_a_resend_stores_nothing(store):
    exposures = pa.table(
        {
            "unit_id": ["u1", "u2", "u1"],
            "experiment": ["x", "x", "y"],
            "variant": ["control", "treatment", "control"],
            "time": ["2026-03-01", "2026-03-01", "2026-03-01"],
        }
    )
    assert store.import_events("churn", "exposures", exposures) == ImportResult(3, 3, 0)
    assert store.import_events("churn", "exposures", exposures).inserted == 0
    events = pa.table(
        {
            "unit_id": ["u1", "u1", "u1"],
            "time": ["2026-03-02T08:00:00", "2026-03-02T08:00:00", "2026-03-02T08:00:00.000001"],
            "metric": ["revenue", "revenue", "revenue"],
            "value": [9.5, 9.5, 9.5],
        }
    )  # the first two are the same event; the third is a microsecond later
    assert store.import_events("churn", "metric_events", events) == ImportResult(3, 2, 1)
    assert store.import_events("churn", "metric_events", events).inserted == 0


def test_metric_event_values_must_be_numbers(store):
    events = pa.table(
        {"unit_id": ["u1"], "time": ["2026-03-02"], "metric": ["revenue"], "value": ["lots"]}
    )
    with pytest.raises(ValidationError, match="'value' is VARCHAR; it must be numeric"):
        store.import_events("churn", "metric_events", events)
    assert not store.path.exists()


def test_predictions_may_carry_their_request_latency_without_it_becoming_a_feature(store):
    rows = pa.table(
        {"id": ["p1"], "time": ["2026-03-01"], "score": [0.3], "latency_ms": [8.0], "age": [41]}
    )
    store.import_predictions("churn", rows)
    assert store.feature_columns("churn") == ["age"]


def test_unknown_kinds_are_refused(store):
    with pytest.raises(ValidationError, match="no table kind 'labels'"):
        store.import_events("churn", "labels", pa.table({"id": ["a"]}))
