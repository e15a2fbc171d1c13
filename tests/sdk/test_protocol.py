"""Failures the real server cannot be made to produce on demand, from a stdlib receiver: 429 with
Retry-After, 5xx, refusals, a slow server, and an outage with the spool."""

from __future__ import annotations

import gzip
import json

import pytest

from tests.sdk.conftest import free_port, wait_for
from tests.sdk.receiver import Answer


def ids_of(hit):
    return [record["id"] for record in hit.records]


def test_429_waits_at_least_retry_after_and_resends_the_same_ids(receiver, make_tracker):
    receiver.answer(Answer(429, {"Retry-After": "1"}))
    tracker = make_tracker(receiver.uri, backoff_max=5)
    for _ in range(3):
        tracker.log_prediction(0.5)
    assert tracker.flush(30)
    first, second = receiver.hits
    assert [first.status, second.status] == [429, 200]
    assert second.at - first.at >= 1.0  # Retry-After is a lower bound on the wait
    assert ids_of(first) == ids_of(second)  # never new ids on a retry
    stats = tracker.stats()
    assert (stats["sent"], stats["retries"], stats["spooled"]) == (3, 1, 0)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_retried_with_the_same_ids(receiver, make_tracker, status):
    receiver.answer(Answer(status), Answer(status))
    tracker = make_tracker(receiver.uri)
    tracker.log_outcome("e-1", 1)
    tracker.log_outcome("e-2", 0)
    assert tracker.flush(30)
    assert receiver.statuses() == [status, status, 200]
    assert len({tuple(ids_of(hit)) for hit in receiver.hits}) == 1
    assert tracker.stats()["retries"] == 2
    assert tracker.stats()["sent"] == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 413])
def test_refusals_are_not_retried_and_count_as_dropped(receiver, make_tracker, status, caplog):
    receiver.answer(Answer(status), Answer(status))
    tracker = make_tracker(receiver.uri)
    tracker.log_prediction(0.5)
    tracker.log_prediction(0.6)
    assert tracker.flush(30)
    tracker.log_prediction(0.7)
    assert tracker.flush(30)
    assert receiver.statuses() == [status, status]
    stats = tracker.stats()
    assert (stats["dropped"], stats["retries"], stats["sent"]) == (3, 0, 0)
    refusals = [r for r in caplog.records if f"HTTP {status}" in r.getMessage()]
    assert len(refusals) == 1  # logged once


def test_a_slow_server_times_out_and_the_resend_is_stored_once(receiver, make_tracker):
    receiver.answer(Answer(delay=1.5))  # takes the batch, answers after the client gave up
    tracker = make_tracker(receiver.uri, timeout=0.5)
    for n in range(4):
        tracker.log_prediction(0.5, id=f"p-{n}")
    assert tracker.flush(30)
    assert len(receiver.hits) == 2
    assert ids_of(receiver.hits[0]) == ids_of(receiver.hits[1])
    assert sorted(receiver.stored) == [f"p-{n}" for n in range(4)]  # once each
    stats = tracker.stats()
    assert (stats["sent"], stats["retries"]) == (4, 1)  # 4 duplicates count as sent


def test_through_an_outage_batches_spool_then_go_oldest_first_once(receiver, make_tracker):
    receiver.default = Answer(503)
    tracker = make_tracker(receiver.uri, max_retries=1, batch_size=5)
    for n in range(12):
        tracker.log_prediction(0.5, id=f"p-{n:02d}")
    assert tracker.flush(30)
    spooled = tracker.stats()["spooled"]
    assert spooled == 12
    assert tracker.stats()["sent"] == 0
    receiver.default = Answer(200)
    for n in range(12, 20):  # logged while the spool drains: queued behind it
        tracker.log_prediction(0.5, id=f"p-{n:02d}")
    wait_for(lambda: tracker.stats()["sent"] == 20, "the spool to drain")
    delivered = [r["id"] for hit in receiver.hits if hit.status == 200 for r in hit.records]
    assert delivered == [f"p-{n:02d}" for n in range(20)]  # oldest first, each once
    assert sorted(receiver.stored) == delivered
    assert list(tracker.spool_dir.glob("*.batch.gz")) == []


def test_a_long_retry_after_spools_and_is_honoured_before_the_next_try(receiver, make_tracker):
    receiver.answer(Answer(429, {"Retry-After": "2"}))
    tracker = make_tracker(receiver.uri, backoff_max=0.5)  # 2 s is over the backoff cap
    tracker.log_outcome("e", 1)
    assert tracker.flush(30)
    assert tracker.stats()["spooled"] == 1  # not slept on: spooled at once
    wait_for(lambda: tracker.stats()["sent"] == 1, "the spooled batch")
    first, second = receiver.hits
    assert second.at - first.at >= 2.0


def test_spooled_batches_of_an_earlier_run_are_sent_at_start(receiver, make_tracker):
    down = make_tracker(f"http://127.0.0.1:{free_port()}", max_retries=0)
    for n in range(7):
        down.log_exposure(f"u-{n}", "cta", "A", id=f"x-{n}")
    assert down.close(timeout=10)
    assert down.stats()["spooled"] == 7
    up = make_tracker(receiver.uri)  # the same spool folder, the server now reachable
    wait_for(lambda: up.stats()["sent"] == 7, "the earlier run's spool")
    assert sorted(receiver.stored) == [f"x-{n}" for n in range(7)]
    assert list(up.spool_dir.glob("*.batch.gz")) == []


def test_the_spool_bound_drops_the_oldest_batches_and_counts_them(make_tracker):
    tracker = make_tracker(
        f"http://127.0.0.1:{free_port()}", max_retries=0, batch_size=50, spool_max_bytes=3000
    )
    for n in range(400):
        tracker.log_prediction(0.5, id=f"prediction-{n:04d}", features={"n": n})
    assert tracker.close(timeout=20)
    stats = tracker.stats()
    files = sorted(tracker.spool_dir.glob("*.batch.gz"))
    kept = sum(int(f.name.split("-")[3].split(".")[0]) for f in files)
    assert sum(f.stat().st_size for f in files) <= 3000
    assert stats["spooled"] == 400
    assert stats["dropped"] == 400 - kept > 0
    ids = [r["id"] for f in files for r in json.loads(gzip.decompress(f.read_bytes()))["records"]]
    assert ids == [f"prediction-{n:04d}" for n in range(400 - kept, 400)]  # the newest kept
