"""Record validation (server/records.py) on its own: any JSON value gives good tables and
named rejections, never an exception; every record is accounted for exactly once; the good
ones keep their values; a held event store serves readers and writers from one connection."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mlpilot
from mlpilot.server.records import RECORD_TYPES, from_records
from mlpilot.server.records_arrow import from_arrow
from mlpilot.store.events import EventStore

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
    st.sampled_from(["2026-11-28T10:00:00Z", "2026-11-28", "ok", "error", "p1", "Age", "age"]),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=6,
)
FIELD_NAMES = sorted({f for spec in RECORD_TYPES.values() for f in spec.fields} | {"features"})
RECORD = st.one_of(
    JSON,
    st.fixed_dictionaries(
        {"type": st.sampled_from([*RECORD_TYPES, "other"])},
        optional={name: JSON if name == "features" else SCALARS for name in FIELD_NAMES},
    ),
    st.fixed_dictionaries(
        {
            "type": st.just("prediction"),
            "id": st.text(min_size=1, max_size=4),
            "time": st.just("2026-11-28T10:00:00+02:00"),
            "score": st.floats(min_value=0, max_value=1),
            "features": st.dictionaries(st.sampled_from(["a", "b", "B", "1x", "score"]), SCALARS),
        },
    ),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(RECORD, max_size=12))
def test_any_json_is_accounted_for_once_and_never_raises(records: list[Any]) -> None:
    batch = from_records(records)
    kept = [i for table in batch.tables.values() for i in table["_index"].to_pylist()]
    rejected = [r["index"] for r in batch.rejected]
    assert sorted(kept + rejected) == list(range(len(records)))
    assert batch.received == len(records)
    for rejection in batch.rejected:
        assert rejection["reason"]
        assert rejection["id"] is None or isinstance(rejection["id"], str)
    for kind, table in batch.tables.items():
        assert kind in {spec.kind for spec in RECORD_TYPES.values()}
        for name in table.column_names:  # only checked names reach the store
            assert name == "_index" or name.replace("_", "a").isalnum()


@pytest.mark.parametrize(
    ("features", "reason"),
    [
        ({"a": [False, 0]}, "feature 'a' must be a number, text or boolean, not a list"),
        ({"a": {"b": 1}}, "feature 'a' must be a number, text or boolean, not an object"),
        ({"a": 2**64}, "feature 'a' is an integer beyond 64 bits"),
    ],
)
def test_a_feature_value_that_is_not_a_scalar_is_rejected(features: Any, reason: str) -> None:
    good = {"type": "prediction", "id": "g", "time": "2026-11-28", "score": 0.5,
            "features": {"a": 1}}  # fmt: skip
    batch = from_records([{**good, "id": "b", "features": features}, good])
    assert batch.rejected == [{"index": 0, "id": "b", "reason": reason}]
    assert batch.tables["predictions"]["a"].to_pylist() == [1]


def test_good_records_keep_their_values_and_times_become_utc() -> None:
    records = [
        {"type": "prediction", "id": "a", "time": "2026-11-28T11:00:00+01:00", "score": 0.25,
         "features": {"n": 3, "s": "x", "b": True}},
        {"type": "prediction", "id": 7, "time": "2026-11-28", "prediction": "churn"},
        {"type": "metric_event", "unit_id": "u", "time": "2026-11-28T10:00:00", "metric": "m",
         "value": 2},
    ]  # fmt: skip
    batch = from_records(records)
    assert batch.rejected == []
    predictions = batch.tables["predictions"].to_pylist()
    first = predictions[0]
    assert first["time"] == datetime(2026, 11, 28, 10, tzinfo=UTC)
    assert (first["n"], first["s"], first["b"]) == (3, "x", True)
    assert predictions[1]["id"] == "7"
    assert predictions[1]["prediction"] == "churn"
    metric = batch.tables["metric_events"].to_pylist()[0]
    assert metric["value"] == 2.0
    assert metric["time"] == datetime(2026, 11, 28, 10, tzinfo=UTC)
    assert "id" not in batch.tables["metric_events"].column_names  # derived by the store


def test_numbers_and_text_in_one_field_keep_the_first_kind() -> None:
    base = {"type": "outcome", "entity_id": "c", "time": "2026-11-28"}
    batch = from_records([{**base, "label": 1}, {**base, "label": "yes"}, {**base, "label": 0}])
    assert [(r["index"], r["reason"]) for r in batch.rejected] == [
        (1, "'label' is text but earlier records of the batch give number")
    ]
    assert batch.tables["outcomes"]["label"].to_pylist() == [1.0, 0.0]


def test_integers_a_double_cannot_hold_are_rejected_by_name() -> None:
    """Found by the property above: 2^53 + 1 made pyarrow raise instead of a rejection."""
    big = 2**53 + 1
    base = {"type": "prediction", "time": "2026-11-28", "score": 0.5}
    batch = from_records(
        [
            {**base, "id": "a", "prediction": big},
            {**base, "id": "b", "features": {"x": 1.5}},
            {**base, "id": "c", "features": {"x": big}},
            {**base, "id": "d", "features": {"x": 2**53}},
        ]
    )
    assert [(r["id"], r["reason"]) for r in batch.rejected] == [
        ("a", "'prediction' is an integer beyond 2^53, which a number here cannot hold"),
        ("c", "feature 'x' is an integer beyond 2^53 among decimals"),
    ]
    assert batch.tables["predictions"]["x"].to_pylist() == [1.5, float(2**53)]


def test_an_arrow_batch_checks_what_json_checks() -> None:
    table = pa.table({
        "type": ["request", "request", "request", None],
        "id": ["r1", "r2", None, "r4"],
        "time": ["2026-11-28T10:00:00Z", "soon", "2026-11-28T10:00:00Z", "2026-11-28"],
        "latency_ms": [1.0, 2.0, 3.0, float("inf")],
        "status": ["ok", "ok", "ok", "maybe"],
        "bogus": [None, None, None, 1],
    })  # fmt: skip
    batch = from_arrow(table)
    assert [(r["index"], r["id"]) for r in batch.rejected] == [(1, "r2"), (2, None), (3, "r4")]
    assert "'time' is not an ISO 8601 time" in batch.rejected[0]["reason"]
    assert batch.rejected[1]["reason"] == "missing 'id'"
    assert "missing 'type'" in batch.rejected[2]["reason"]
    assert batch.tables["requests"]["id"].to_pylist() == ["r1"]


# The held event store ---------------------------------------------------------------------------


def predictions(ids: range) -> pa.Table:
    return pa.table({
        "id": [f"p{i}" for i in ids], "time": [datetime(2026, 11, 28, tzinfo=UTC)] * len(ids),
        "score": [0.5] * len(ids),
    })  # fmt: skip


def test_a_held_store_serves_every_call_from_one_connection(tmp_path: Path) -> None:
    path = tmp_path / "events.duckdb"
    store = EventStore(path)
    with store.hold():
        assert store.held
        assert EventStore(path).held  # any EventStore of the path
        con = store.connect()  # an Ibis connection while the store is held and written
        errors: list[BaseException] = []

        def write(start: int) -> None:
            try:
                for k in range(5):
                    ids = range(start + k * 10, start + k * 10 + 10)
                    EventStore(path).import_predictions("churn", predictions(ids))
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=write, args=(s,)) for s in (0, 1000, 2000)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert con.table("predictions__churn").count().to_pyarrow().as_py() == 150
        con.disconnect()
        script = (  # another process cannot write meanwhile, and is told why
            "import sys, pyarrow; from mlpilot.store.events import EventStore; "
            "EventStore(sys.argv[1]).import_predictions('x', pyarrow.table("
            "{'id': ['a'], 'time': ['2026-01-01'], 'score': [0.1]}))"
        )
        run = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True)
        assert run.returncode != 0
        assert b"in use by another process" in run.stderr
        with store.hold():  # holding again shares the connection
            assert store.import_predictions("churn", predictions(range(5))).duplicates == 5
        assert store.held
    assert not store.held
    assert store.import_predictions("churn", predictions(range(150, 151))).inserted == 1
    with pytest.raises(mlpilot.WorkspaceError, match="not held"):
        store.cursor()
