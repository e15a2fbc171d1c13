"""Encoding records for the wire: ids, times, features, and bad values refused with a reason."""

from __future__ import annotations

import json
import math
import uuid
from datetime import UTC, date, datetime, timedelta, timezone

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlpilot.sdk.records import encode_record, format_time


def decoded(kind, **fields):
    data, problem = encode_record(kind, fields)
    assert problem is None, problem
    assert data is not None
    return json.loads(data)


def refused(kind, **fields) -> str:
    data, problem = encode_record(kind, fields)
    assert data is None
    assert problem
    return problem


def test_a_missing_id_is_a_fresh_uuid4_hex_and_a_given_id_is_kept():
    first = decoded("prediction", score=0.5, time=0.0)
    second = decoded("prediction", score=0.5, time=0.0)
    assert len(first["id"]) == 32
    assert int(first["id"], 16) >> 76 & 0xF == 4  # the uuid version nibble
    assert first["id"] != second["id"]
    assert decoded("prediction", score=0.5, id="p-1")["id"] == "p-1"
    assert decoded("prediction", score=0.5, id=17)["id"] == "17"


def test_every_kind_with_its_fields():
    outcome = decoded("outcome", entity_id="e", label="churned", time=0.0, id="o")
    assert outcome == {"type": "outcome", "entity_id": "e", "label": "churned",
                       "time": "1970-01-01T00:00:00.000000Z", "id": "o"}  # fmt: skip
    request = decoded("request", latency_ms=12, status="ok", model_version="v2", id="r")
    assert request == {"type": "request", "latency_ms": 12.0, "status": "ok",
                       "model_version": "v2", "id": "r"}  # fmt: skip
    exposure = decoded("exposure", unit_id=5, experiment="cta", variant="B", id="x")
    assert exposure == {"type": "exposure", "unit_id": "5", "experiment": "cta",
                        "variant": "B", "id": "x"}  # fmt: skip
    event = decoded("metric_event", unit_id="u", metric="revenue", value=np.float32(2.5), id="m")
    assert event == {"type": "metric_event", "unit_id": "u", "metric": "revenue", "value": 2.5,
                     "id": "m"}  # fmt: skip


def test_missing_required_fields_are_named():
    assert "label" in refused("outcome", entity_id="e")
    assert "entity_id" in refused("outcome", label=1)
    assert "latency_ms" in refused("request", status="ok")
    assert "unit_id, experiment, variant" in refused("exposure")
    assert "score or prediction" in refused("prediction", features={"a": 1})


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, "12", True, [1.0]])
def test_latency_must_be_a_finite_number(bad):
    assert "latency_ms" in refused("request", latency_ms=bad)


@pytest.mark.parametrize(
    ("field", "bad"),
    [("score", math.nan), ("score", "high"), ("value", math.inf), ("prediction", math.nan),
     ("label", [1]), ("entity_id", 1.5), ("entity_id", True), ("model_version", b"v1")],
)  # fmt: skip
def test_reserved_fields_refuse_wrong_types(field, bad):
    kind = {"value": "metric_event", "label": "outcome"}.get(field, "prediction")
    fields = {"score": 0.5, "unit_id": "u", "metric": "m", "value": 1.0, "entity_id": "e",
              "label": 1} if kind != "prediction" else {"score": 0.5}  # fmt: skip
    fields[field] = bad
    assert field in refused(kind, **fields)


def test_features_keep_scalars_numpy_included_and_nan_is_missing():
    when = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    record = decoded(
        "prediction",
        prediction="churn",
        features={"n": np.int64(3), "x": np.float32(0.25), "flag": np.bool_(True), "s": "a",
                  "missing": None, "gap": math.nan, "gap32": np.float32("nan"), "when": when,
                  "day": date(2026, 3, 1), "big": 2**40},
    )  # fmt: skip
    assert record["features"] == {
        "n": 3, "x": 0.25, "flag": True, "s": "a", "missing": None, "gap": None, "gap32": None,
        "when": "2026-03-01T09:30:00Z", "day": "2026-03-01", "big": 2**40,
    }  # fmt: skip


@pytest.mark.parametrize(
    "bad", [[1, 2], {"a": 1}, object(), math.inf, np.array([1.0, 2.0]), b"bytes", {1, 2}]
)
def test_an_unserialisable_feature_refuses_the_record_and_names_it(bad):
    problem = refused("prediction", score=0.1, features={"ok": 1, "bad": bad})
    assert "'bad'" in problem


def test_features_must_be_a_mapping_with_text_names():
    assert "mapping" in refused("prediction", score=0.1, features=[("a", 1)])
    assert "feature name" in refused("prediction", score=0.1, features={1: 2})
    assert "feature name" in refused("prediction", score=0.1, features={"": 2})


def test_times_in_utc_iso_8601():
    assert format_time(0.0) == "1970-01-01T00:00:00.000000Z"
    assert format_time(1.5) == "1970-01-01T00:00:01.500000Z"
    naive = datetime(2026, 3, 1, 9, 30)
    assert format_time(naive) == "2026-03-01T09:30:00Z"  # naive means UTC, as on the server
    paris = datetime(2026, 3, 1, 10, 30, tzinfo=timezone(timedelta(hours=1)))
    assert format_time(paris) == "2026-03-01T09:30:00Z"
    assert format_time(date(2026, 3, 1)) == "2026-03-01"
    assert format_time("2026-03-01T09:30:00+02:00") == "2026-03-01T09:30:00+02:00"
    for bad in (math.nan, math.inf, 1e300, [2026], True):
        assert format_time(bad) is None
    assert "time" in refused("outcome", entity_id="e", label=1, time=math.nan)


@given(st.floats(min_value=0, max_value=4_102_444_800))  # 1970 to 2100
def test_clock_times_match_datetime_to_the_microsecond(seconds):
    text = format_time(seconds)
    assert text.endswith("Z")
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    assert abs((parsed - datetime.fromtimestamp(seconds, UTC)).total_seconds()) <= 1e-6
    assert format_time(0.9999999) == "1970-01-01T00:00:01.000000Z"


def test_generated_ids_are_valid_uuid4():
    for _ in range(200):
        value = decoded("outcome", entity_id="e", label=0)["id"]
        assert uuid.UUID(value).version == 4
        assert uuid.UUID(value).hex == value
