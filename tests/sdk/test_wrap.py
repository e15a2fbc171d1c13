"""The decorator and the context manager: inputs as features, output, latency, errors."""

from __future__ import annotations

import asyncio
import time
import traceback

import numpy as np
import pytest

from mlpilot.sdk.wrap import split_output


@pytest.fixture
def tracker(receiver, make_tracker):
    return make_tracker(receiver.uri)


def sent(tracker, receiver):
    assert tracker.flush(30)
    return receiver.records()


def test_keyword_inputs_are_features_and_the_output_a_score(tracker, receiver):
    @tracker.track(entity_key="customer", model_version="v3")
    def predict(customer, tenure, plan):
        return 0.8

    assert predict(customer="c-1", tenure=12, plan="pro") == 0.8
    (record,) = sent(tracker, receiver)
    assert record["type"] == "prediction"
    assert record["entity_id"] == "c-1"
    assert record["features"] == {"tenure": 12, "plan": "pro"}
    assert record["score"] == 0.8
    assert record["model_version"] == "v3"
    assert record["status"] == "ok"


def test_a_mapping_argument_is_the_features_other_positionals_are_not(tracker, receiver):
    class Model:
        @tracker.track(exclude=["debug"])
        def predict(self, row, debug=False):
            return "churn"

    row = {"tenure": 3, "country": "FR"}
    assert Model().predict(row, debug=True) == "churn"
    row["tenure"] = 99  # changed after the call: the record keeps what the call saw
    (record,) = sent(tracker, receiver)
    assert record["features"] == {"tenure": 3, "country": "FR"}
    assert record["prediction"] == "churn"
    assert "score" not in record


def test_latency_covers_the_call(tracker, receiver):
    @tracker.track
    def slow(x):
        time.sleep(0.05)
        return 1

    slow(1)
    (record,) = sent(tracker, receiver)
    assert record["latency_ms"] >= 50.0  # a lower bound: the call slept 50 ms
    assert record["prediction"] == 1


def test_an_error_is_recorded_and_the_hosts_exception_re_raised_unchanged(tracker, receiver):
    failure = KeyError("no such customer")

    @tracker.track(model_version="v3")
    def predict(customer):
        raise failure

    with pytest.raises(KeyError) as caught:
        predict(customer="c-404")
    assert caught.value is failure
    frames = [frame.name for frame in traceback.extract_tb(caught.value.__traceback__)]
    assert frames[-1] == "predict"  # the host's own frame, not ours, raised it
    assert predict.__name__ == "predict"
    (record,) = sent(tracker, receiver)
    assert record["type"] == "request"
    assert record["status"] == "error"
    assert record["error_class"] == "KeyError"
    assert record["model_version"] == "v3"
    assert record["latency_ms"] >= 0


def test_keyboard_interrupt_passes_through_unrecorded(tracker, receiver):
    @tracker.track
    def interrupted():
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        interrupted()
    assert sent(tracker, receiver) == []


def test_an_output_that_is_neither_score_nor_prediction_records_the_request(tracker, receiver):
    @tracker.track
    def many(x):
        return np.array([0.1, 0.9])

    many(x=1)
    (record,) = sent(tracker, receiver)
    assert record["type"] == "request"
    assert record["status"] == "ok"


def test_async_functions_are_timed_across_the_await(tracker, receiver):
    @tracker.track(output="prediction")
    async def predict(x):
        await asyncio.sleep(0.03)
        return 0.4

    assert asyncio.run(predict(x=2)) == 0.4
    (record,) = sent(tracker, receiver)
    assert record["prediction"] == 0.4
    assert record["latency_ms"] >= 30.0
    assert record["features"] == {"x": 2}


def test_the_context_manager_records_what_the_block_sets(tracker, receiver):
    with tracker.track(features={"tenure": 4}, entity_id="c-9") as call:
        call.score = 0.3
    with tracker.track() as call:
        pass  # no output set: a request
    with pytest.raises(ZeroDivisionError), tracker.track(model_version="v1"):
        1 / 0  # noqa: B018
    prediction, request, error = sent(tracker, receiver)
    assert prediction["features"] == {"tenure": 4}
    assert prediction["entity_id"] == "c-9"
    assert prediction["score"] == 0.3
    assert (request["type"], request["status"]) == ("request", "ok")
    assert (error["status"], error["error_class"], error["model_version"]) == (
        "error", "ZeroDivisionError", "v1",
    )  # fmt: skip


def test_a_bad_input_does_not_break_the_host_call(tracker, receiver):
    @tracker.track
    def predict(vector, weight):
        return 0.5

    assert predict(vector=[1, 2, 3], weight=2) == 0.5  # a list feature: record dropped
    assert tracker.flush(30)
    assert tracker.stats()["invalid"] == 1
    assert receiver.records() == []


@pytest.mark.parametrize(
    ("result", "output", "expected"),
    [(0.2, "auto", (0.2, None)), (1.0, "auto", (1.0, None)), (3.5, "auto", (None, 3.5)),
     (True, "auto", (None, True)), (1, "auto", (None, 1)), ("yes", "auto", (None, "yes")),
     (np.float32(0.5), "auto", (0.5, None)), (np.int64(2), "auto", (None, 2)),
     ([0.5], "auto", (None, None)), (0.2, "prediction", (None, 0.2)),
     (7, "score", (7, None))],
)  # fmt: skip
def test_split_output(result, output, expected):
    assert split_output(result, output) == expected
