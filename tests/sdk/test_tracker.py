"""The tracker against a real HTTP receiver: batching, the wire format, counters, bad input,
the bounded queue, configuration errors and close."""

from __future__ import annotations

import gzip
import json
import logging
import math

import pytest

from mlpilot import Tracker, ValidationError
from tests.sdk.conftest import free_port, wait_for


def test_records_go_in_batches_of_batch_size(receiver, make_tracker):
    tracker = make_tracker(receiver.uri, batch_size=100, flush_interval=30)
    for n in range(250):
        tracker.log_prediction(0.5, id=f"p-{n}")
    assert tracker.flush(30)
    assert [len(hit.records) for hit in receiver.hits] == [100, 100, 50]
    assert [r["id"] for r in receiver.records()] == [f"p-{n}" for n in range(250)]
    assert tracker.stats() == {"sent": 250, "spooled": 0, "dropped": 0, "rejected": 0,
                               "retries": 0, "invalid": 0, "queued": 0}  # fmt: skip


def test_a_partial_batch_leaves_after_flush_interval_without_a_flush(receiver, make_tracker):
    tracker = make_tracker(receiver.uri, batch_size=1000, flush_interval=0.2)
    for n in range(3):
        tracker.log_outcome(f"e-{n}", n % 2)
    wait_for(lambda: tracker.stats()["sent"] == 3, "the interval flush")
    assert sum(len(hit.records) for hit in receiver.hits) == 3


def test_the_wire_format_gzip_json_with_a_bearer_token(receiver, make_tracker):
    tracker = make_tracker(receiver.uri)
    tracker.log_prediction(0.25, features={"tenure": 3, "plan": "pro"}, entity_id="c-1",
                           model_version="v7", id="p-1", time="2026-11-28T10:00:00Z")  # fmt: skip
    tracker.log_request(40.5, status="error", error_class="Timeout", id="r-1", time=0.0)
    tracker.log_exposure("u-1", "cta", "B", id="x-1", time=0.0)
    tracker.log_metric_event("u-1", "revenue", 9.5, id="m-1", time=0.0)
    assert tracker.flush(30)
    (hit,) = receiver.hits
    assert hit.path == "/api/v1/initiatives/churn/events"
    assert hit.headers["Authorization"] == "Bearer secret-token"
    assert hit.headers["Content-Encoding"] == "gzip"
    assert hit.headers["Content-Type"] == "application/json"
    assert hit.records == [
        {"type": "prediction", "id": "p-1", "time": "2026-11-28T10:00:00Z", "entity_id": "c-1",
         "model_version": "v7", "score": 0.25, "features": {"tenure": 3, "plan": "pro"}},
        {"type": "request", "id": "r-1", "time": "1970-01-01T00:00:00.000000Z", "latency_ms": 40.5,
         "status": "error", "error_class": "Timeout"},
        {"type": "exposure", "id": "x-1", "time": "1970-01-01T00:00:00.000000Z", "unit_id": "u-1",
         "experiment": "cta", "variant": "B"},
        {"type": "metric_event", "id": "m-1", "time": "1970-01-01T00:00:00.000000Z",
         "unit_id": "u-1", "metric": "revenue", "value": 9.5},
    ]  # fmt: skip


def test_ids_and_times_are_filled_in_and_model_version_defaults(receiver, make_tracker):
    tracker = make_tracker(receiver.uri, model_version="2026-11")
    tracker.log_prediction(prediction="stay")
    tracker.log_request(3.0)
    assert tracker.flush(30)
    prediction, request = receiver.records()
    assert len({prediction["id"], request["id"]}) == 2
    assert prediction["model_version"] == request["model_version"] == "2026-11"
    assert prediction["time"].endswith("Z")
    assert request["status"] == "ok"


def test_bad_arguments_never_raise_they_are_counted_and_logged_once(receiver, make_tracker, caplog):
    tracker = make_tracker(receiver.uri)
    with caplog.at_level(logging.WARNING, logger="mlpilot.sdk"):
        tracker.log_request(math.nan)
        tracker.log_request(math.inf)
        tracker.log_prediction(0.5, features={"embedding": [0.1, 0.2]})
        tracker.log_prediction(0.5, features=5)  # not a mapping at all: refused in the call
        tracker.log_outcome("e-1")  # no label
        tracker.log_prediction(0.5, features={"ok": 1.0})
        assert tracker.flush(30)
    assert receiver.records()[0]["features"] == {"ok": 1.0}
    stats = tracker.stats()
    assert (stats["sent"], stats["dropped"], stats["invalid"]) == (1, 5, 5)
    latency = [r for r in caplog.records if "latency_ms" in r.getMessage()]
    assert len(latency) == 1  # two bad latencies, one log line
    assert any("'embedding'" in r.getMessage() for r in caplog.records)


def test_a_full_queue_drops_and_counts_without_blocking(receiver, make_tracker):
    from tests.sdk.receiver import Answer

    receiver.answer(Answer(delay=2.0))  # hold the sender in its first post
    tracker = make_tracker(receiver.uri, queue_size=10)
    tracker.log_prediction(0.5, id="first")
    tracker.flush(0)
    wait_for(lambda: len(receiver.hits) == 1, "the first post")
    for n in range(25):
        tracker.log_prediction(0.5, id=f"p-{n}")
    assert tracker.stats()["queued"] == 10
    assert tracker.stats()["dropped"] == 15
    assert tracker.flush(30)
    assert [r["id"] for r in receiver.records()] == ["first", *(f"p-{n}" for n in range(10))]
    assert tracker.stats()["sent"] == 11


def test_rejected_records_in_a_200_reply_are_counted_not_retried(receiver, make_tracker):
    from tests.sdk.receiver import Answer

    receiver.answer(Answer(reject=(1,)))
    tracker = make_tracker(receiver.uri)
    for n in range(3):
        tracker.log_prediction(0.5, id=f"p-{n}")
    assert tracker.flush(30)
    assert len(receiver.hits) == 1
    stats = tracker.stats()
    assert (stats["sent"], stats["rejected"], stats["retries"]) == (2, 1, 0)


def test_configuration_errors_are_raised_at_start(monkeypatch, tmp_path):
    monkeypatch.delenv("MLPILOT_URI", raising=False)
    monkeypatch.delenv("MLPILOT_INITIATIVE", raising=False)
    with pytest.raises(ValidationError, match="MLPILOT_URI"):
        Tracker(initiative="churn")
    with pytest.raises(ValidationError, match="MLPILOT_INITIATIVE"):
        Tracker("http://127.0.0.1:1")
    with pytest.raises(ValidationError, match="http://host:port"):
        Tracker("ftp://example/", "t", "churn")
    with pytest.raises(ValidationError, match="invalid slug"):
        Tracker("http://127.0.0.1:1", "t", "Churn Model")
    with pytest.raises(ValidationError, match="batch_size"):
        Tracker("http://127.0.0.1:1", "t", "churn", batch_size=0)
    with pytest.raises(ValidationError, match="flush_interval"):
        Tracker("http://127.0.0.1:1", "t", "churn", flush_interval=math.nan)


def test_settings_come_from_the_environment(monkeypatch, receiver, tmp_path):
    monkeypatch.setenv("MLPILOT_URI", receiver.uri + "/")
    monkeypatch.setenv("MLPILOT_TOKEN", "env-token")
    monkeypatch.setenv("MLPILOT_INITIATIVE", "fraud")
    monkeypatch.setenv("MLPILOT_SPOOL_DIR", str(tmp_path / "spools"))
    with Tracker() as tracker:
        assert tracker.spool_dir == tmp_path / "spools" / "fraud"
        tracker.log_outcome("e", 1)
    (hit,) = receiver.hits
    assert hit.path == "/api/v1/initiatives/fraud/events"
    assert hit.headers["Authorization"] == "Bearer env-token"


def test_after_close_records_are_dropped_and_counted(receiver, make_tracker):
    tracker = make_tracker(receiver.uri)
    tracker.log_outcome("e", 1)
    assert tracker.close(timeout=10)
    assert tracker.close() is True  # twice is fine
    tracker.log_outcome("e", 0)
    assert tracker.stats()["sent"] == 1
    assert tracker.stats()["dropped"] == 1
    assert tracker.flush(1)


def test_close_spools_what_an_unreachable_server_did_not_take(make_tracker, tmp_path):
    tracker = make_tracker(f"http://127.0.0.1:{free_port()}", batch_size=10)
    for n in range(25):
        tracker.log_prediction(0.5, id=f"p-{n}")
    assert tracker.close(timeout=5)
    stats = tracker.stats()
    assert (stats["sent"], stats["spooled"], stats["dropped"]) == (0, 25, 0)
    bodies = sorted((tmp_path / "spool").glob("*.batch.gz"))
    ids = [r["id"] for b in bodies for r in json.loads(gzip.decompress(b.read_bytes()))["records"]]
    assert ids == [f"p-{n}" for n in range(25)]
