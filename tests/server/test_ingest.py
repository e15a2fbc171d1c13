"""POST /api/v1/initiatives/{slug}/events in-process over a real workspace: every record type
stored as the CLI's import stores it and read by the monitors, idempotency, rejected records
named, JSON / gzip / Arrow IPC bodies, the size limit, back-pressure and access."""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pytest
from fastapi import FastAPI
from tests.server.kit import TestClient, bearer, make_token

import mlpilot
from mlpilot.server.app import create_app
from mlpilot.server.writer import IngestWriter

T0 = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
URL = "/api/v1/initiatives/churn/events"
ARROW = "application/vnd.apache.arrow.stream"


def new_workspace(home: Path) -> Path:
    with mlpilot.Workspace.open(home) as ws:
        for slug in ("churn", "other"):
            ws.create_initiative(
                slug, name=slug.title(), problem="Customers leave", prediction_use="Offers",
                task="binary", shape="online-api", baseline="Last month",
            )  # fmt: skip
    return home


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return new_workspace(tmp_path / "ws")


@pytest.fixture
def server(home: Path) -> Iterator[tuple[TestClient, FastAPI, dict[str, str]]]:
    token = make_token(home, "ingest")
    app = create_app(home)
    with TestClient(app) as client:
        yield client, app, bearer(token)


def at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def prediction(i: int, **extra: Any) -> dict[str, Any]:
    return {
        "type": "prediction", "id": f"p{i}", "time": at(i), "entity_id": f"c{i % 7}",
        "model_version": "v1", "score": (i % 10) / 10, "latency_ms": 3.0 + i % 5,
        "status": "error" if i % 9 == 0 else "ok",
        "features": {"age": 20 + i % 50, "plan": ("basic", "pro")[i % 2], "spend": i / 3},
        **extra,
    }  # fmt: skip


def post(client: TestClient, headers: dict[str, str], records: list[Any], **kw: Any) -> Any:
    body = orjson.dumps({"records": records})
    return client.post(kw.pop("url", URL), content=body, headers={**headers, **kw})


def rows(app: FastAPI, table: str, order: str = "id") -> list[dict[str, Any]]:
    """Every row of ``table`` in the app's (held) event store, through Ibis."""
    con = app.state.workspace.events.connect()
    try:
        frame = con.table(table).order_by(order).to_pyarrow()
        return list(frame.to_pylist())
    finally:
        con.disconnect()


def count(app: FastAPI, table: str) -> int:
    con = app.state.workspace.events.connect()
    try:
        return int(con.table(table).count().to_pyarrow().as_py())
    finally:
        con.disconnect()


# Every record type ------------------------------------------------------------------------------

EVERY_KIND: list[dict[str, Any]] = [
    *(prediction(i) for i in range(40)),
    *(
        {"type": "outcome", "entity_id": f"c{i}", "time": at(3600 + i), "label": i % 2}
        for i in range(7)
    ),
    *(
        {
            "type": "request",
            "id": f"r{i}",
            "time": at(i),
            "latency_ms": 10.0 + i,
            "model_version": "v1",
            "status": "ok" if i % 4 else "error",
            "error_class": None if i % 4 else "Timeout",
        }
        for i in range(30)
    ),
    *(
        {
            "type": "exposure",
            "unit_id": f"u{i}",
            "experiment": "offer",
            "variant": "ab"[i % 2],
            "time": at(i),
        }
        for i in range(20)
    ),
    *(
        {
            "type": "metric_event",
            "unit_id": f"u{i}",
            "time": at(100 + i),
            "metric": "revenue",
            "value": 1.5 * i,
        }
        for i in range(20)
    ),
]


def as_import(records: list[dict[str, Any]], kind: str) -> pa.Table:
    """The same records as the table the CLI's import would be given."""
    chosen = [dict(r) for r in records if r["type"] == kind]
    for r in chosen:
        r.pop("type")
        r.update(r.pop("features", {}))
        r["time"] = datetime.fromisoformat(r["time"])
    return pa.Table.from_pylist(chosen)


def test_every_record_type_is_stored_as_the_cli_import_stores_it(server, tmp_path):
    client, app, headers = server
    reply = post(client, headers, EVERY_KIND)
    assert reply.status_code == 200, reply.text
    assert reply.json() == {"accepted": len(EVERY_KIND), "duplicates": 0, "rejected": []}
    reference = mlpilot.Workspace.open(new_workspace(tmp_path / "reference"))
    churn = reference.initiative("churn")
    churn.log_predictions(as_import(EVERY_KIND, "prediction"))
    churn.log_outcomes(as_import(EVERY_KIND, "outcome"))
    churn.log_requests(as_import(EVERY_KIND, "request"))
    churn.log_exposures(as_import(EVERY_KIND, "exposure"))
    churn.log_metric_events(as_import(EVERY_KIND, "metric_event"))
    for kind in ("predictions", "outcomes", "requests", "exposures", "metric_events"):
        table = f"{kind}__churn"
        con = reference.events.connect()
        try:
            expected = con.table(table).order_by("id").to_pyarrow()
        finally:
            con.disconnect()
        assert rows(app, table) == expected.to_pylist(), kind
        assert count(app, table) > 0
    # The monitors read them: the same service report as from the CLI-imported copy.
    served = app.state.workspace.initiative("churn").service(window="1h", at=at(7200))
    assert served == churn.service(window="1h", at=at(7200))
    assert served["windows"], "the service monitor found no windows"
    features = app.state.workspace.events.feature_columns("churn")
    assert features == ["age", "plan", "spend"]
    reference.close()


# Idempotency ------------------------------------------------------------------------------------


def test_the_same_batch_twice_is_stored_once(server):
    client, app, headers = server
    batch = [prediction(i) for i in range(50)]
    first = post(client, headers, batch).json()
    second = post(client, headers, batch).json()
    assert first == {"accepted": 50, "duplicates": 0, "rejected": []}
    assert second == {"accepted": 0, "duplicates": 50, "rejected": []}
    assert count(app, "predictions__churn") == 50


def test_overlapping_batches_and_repeats_within_a_batch_store_each_id_once(server):
    client, app, headers = server
    assert post(client, headers, [prediction(i) for i in range(0, 30)]).json()["accepted"] == 30
    overlapping = [prediction(i) for i in range(20, 60)]
    reply = post(client, headers, overlapping).json()
    assert (reply["accepted"], reply["duplicates"]) == (30, 10)
    repeated = [prediction(70), prediction(70, score=0.99), prediction(71)]
    reply = post(client, headers, repeated).json()
    assert (reply["accepted"], reply["duplicates"]) == (2, 1)
    stored = {r["id"]: r for r in rows(app, "predictions__churn")}
    assert len(stored) == 62 == count(app, "predictions__churn")
    assert stored["p70"]["score"] == prediction(70)["score"]  # the first of a repeated id wins


def test_concurrent_posts_of_overlapping_batches_store_each_id_once(server):
    client, app, headers = server
    replies: list[dict[str, Any]] = []
    errors: list[BaseException] = []

    def send(start: int) -> None:
        try:
            for round_ in range(3):
                batch = [prediction(i) for i in range(start + round_ * 10, start + 60)]
                replies.append(post(client, headers, batch).json())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(start,)) for start in (0, 20, 40, 0)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    stored = [r["id"] for r in rows(app, "predictions__churn")]
    assert sorted(stored) == sorted({f"p{i}" for i in range(100)})
    assert sum(r["accepted"] for r in replies) == 100
    sent = sum(r["accepted"] + r["duplicates"] for r in replies)
    assert sent == sum(len(range(s + k * 10, s + 60)) for s in (0, 20, 40, 0) for k in range(3))


def test_outcomes_without_ids_get_the_ids_the_cli_import_derives(server):
    client, app, headers = server
    outcomes = [
        {"type": "outcome", "entity_id": f"c{i}", "time": at(i), "label": "yes"} for i in range(5)
    ]
    assert post(client, headers, outcomes).json()["accepted"] == 5
    again = app.state.workspace.events.import_outcomes("churn", as_import(outcomes, "outcome"))
    assert (again.inserted, again.duplicates) == (0, 5)
    # An explicit id next to derived ones in one batch: both kinds kept apart.
    mixed = [{**outcomes[0], "id": "explicit"}, {**outcomes[1], "time": at(99)}]
    assert post(client, headers, mixed).json()["accepted"] == 2
    assert count(app, "outcomes__churn") == 7


# Bad records ------------------------------------------------------------------------------------

BAD: list[tuple[dict[str, Any], str]] = [
    ({"type": "prediction", "time": at(1), "score": 0.5}, "missing 'id'"),
    ({"type": "prediction", "id": "t", "score": 0.5}, "missing 'time'"),
    ({"type": "prediction", "id": "t", "time": "yesterday", "score": 0.5}, "'time'"),
    ({"type": "prediction", "id": "t", "time": 5, "score": 0.5}, "'time'"),
    ({"type": "prediction", "id": "t", "time": at(1), "score": 1.5}, "'score' is outside"),
    ({"type": "prediction", "id": "t", "time": at(1), "score": "high"}, "'score' must be a number"),
    ({"type": "prediction", "id": "t", "time": at(1)}, "neither 'score' nor 'prediction'"),
    ({"type": "prediction", "id": "t", "time": at(1), "score": 0.1, "status": "fine"}, "'status'"),
    ({"type": "prediction", "id": "t", "time": at(1), "score": 0.1, "label": 1}, "unknown field"),
    ({"type": "prediction", "id": "t", "time": at(1), "score": 0.1, "features": [1]}, "'features'"),
    ({"type": "prediction", "id": "t", "time": at(1), "score": 0.1,
      "features": {'a"; DROP TABLE predictions__churn; --': 1}}, "bad feature name"),
    ({"type": "prediction", "id": "t", "time": at(1), "score": 0.1, "features": {"score": 1}},
     "reserved"),
    ({"type": "prediction", "id": "t", "time": at(1), "score": 0.1, "features": {"Age": 1}},
     "only in case"),
    ({"type": "prediction", "id": "t", "time": at(1), "score": 0.1, "features": {"age": [1]}},
     "feature 'age'"),
    ({"type": "prediction", "id": "t", "time": at(1), "score": 0.1, "features": {"age": "old"}},
     "feature 'age' is text"),
    ({"type": "prediction", "id": {"x": 1}, "time": at(1), "score": 0.1}, "'id' must be text"),
    ({"type": "request", "id": "t", "time": at(1)}, "missing 'latency_ms'"),
    ({"type": "outcome", "entity_id": "c1", "time": at(1)}, "missing 'label'"),
    ({"type": "outcome", "entity_id": "c1", "time": at(1), "label": [1]}, "'label'"),
    ({"type": "exposure", "unit_id": "u", "experiment": "x", "time": at(1)}, "missing 'variant'"),
    ({"type": "metric_event", "unit_id": "u", "time": at(1), "metric": "m", "value": "a lot"},
     "'value' must be a number"),
    ({"type": "refund", "id": "t"}, "unknown type 'refund'"),
    ({"id": "t"}, "missing 'type'"),
    ("a string", "must be an object"),
]  # fmt: skip


def test_a_mixed_batch_stores_the_good_records_and_names_each_bad_one(server):
    client, app, headers = server
    good = [prediction(i) for i in range(5)]
    batch: list[Any] = [good[0]]
    expected: list[tuple[int, str]] = []
    for bad, reason in BAD:
        expected.append((len(batch), reason))
        batch.append(bad)
    batch += good[1:]
    reply = post(client, headers, batch)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["accepted"] == 5
    assert [r["index"] for r in body["rejected"]] == [index for index, _ in expected]
    for rejection, (index, reason) in zip(body["rejected"], expected, strict=True):
        assert reason in rejection["reason"], (batch[index], rejection)
        given = batch[index].get("id") if isinstance(batch[index], dict) else None
        assert rejection["id"] == (given if isinstance(given, str) else None)
    assert sorted(r["id"] for r in rows(app, "predictions__churn")) == [f"p{i}" for i in range(5)]
    assert app.state.workspace.events.feature_columns("churn") == ["age", "plan", "spend"]
    counters = app.state.writer.counters()
    assert (counters["stored"], counters["rejected"]) == (5, len(BAD))


def test_a_value_conflicting_with_the_stored_column_is_rejected_not_the_batch(server):
    client, app, headers = server
    assert post(client, headers, [prediction(1)]).json()["accepted"] == 1  # age: integers
    text_age = {**prediction(2), "features": {"age": "forty", "plan": "pro"}}
    without_age = {**prediction(3), "features": {"plan": "basic"}}
    reply = post(client, headers, [text_age, without_age]).json()
    assert reply["accepted"] == 1
    assert [(r["index"], r["id"]) for r in reply["rejected"]] == [(0, "p2")]
    assert "'age' is VARCHAR" in reply["rejected"][0]["reason"]
    assert "BIGINT" in reply["rejected"][0]["reason"]
    floats = {**prediction(4), "features": {"age": 40.5}}  # doubles widen an integer column
    assert post(client, headers, [floats]).json()["accepted"] == 1
    assert [r["age"] for r in rows(app, "predictions__churn")] == [21.0, None, 40.5]


# Body formats -----------------------------------------------------------------------------------


def test_gzip_and_arrow_bodies_store_the_same_rows_as_json(server):
    client, app, headers = server
    batch = [prediction(i) for i in range(30)]
    zipped = gzip.compress(orjson.dumps({"records": batch[:10]}))
    reply = client.post(URL, content=zipped, headers={**headers, "Content-Encoding": "gzip"})
    assert reply.json() == {"accepted": 10, "duplicates": 0, "rejected": []}
    flat = [{k: v for k, v in r.items() if k != "features"} | r["features"] for r in batch]
    table = pa.Table.from_pylist(flat)
    reply = client.post(URL, content=arrow_bytes(table), headers={**headers, "Content-Type": ARROW})
    assert reply.json() == {"accepted": 20, "duplicates": 10, "rejected": []}
    other = post(client, headers, batch, url=URL.replace("churn", "other"))  # to compare
    assert other.json()["accepted"] == 30
    assert rows(app, "predictions__churn") == rows(app, "predictions__other")


def test_an_arrow_batch_with_a_features_struct_and_bad_rows(server):
    client, app, headers = server
    table = pa.table({
        "type": ["prediction", "prediction", "outcome", "nonsense"],
        "id": ["a", "b", None, "z"],
        "time": pa.array([T0, T0, T0, T0], pa.timestamp("us", "UTC")),
        "score": [0.1, float("nan"), None, None],
        "entity_id": ["c1", "c2", "c1", None],
        "label": [None, None, 1.0, None],
        "features": pa.array([{"age": 1}, {"age": 2}, None, None]),
    })  # fmt: skip
    reply = client.post(URL, content=arrow_bytes(table), headers={**headers, "Content-Type": ARROW})
    body = reply.json()
    assert body["accepted"] == 2  # a and the outcome
    assert [(r["index"], r["id"]) for r in body["rejected"]] == [(1, "b"), (3, "z")]
    assert "'score' is not a finite number" in body["rejected"][0]["reason"]
    assert [r["age"] for r in rows(app, "predictions__churn")] == [1]
    assert count(app, "outcomes__churn") == 1


def arrow_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


@pytest.mark.parametrize(
    ("content", "headers", "message"),
    [
        (b"{not json", {}, "not JSON"),
        (b'{"rows": []}', {}, '{"records": [...]}'),
        (b'[{"type": "prediction"}]', {}, '{"records": [...]}'),
        (b"\x1f\x8b\x08broken", {"Content-Encoding": "gzip"}, "gzip"),
        (b"{}", {"Content-Encoding": "br"}, "Content-Encoding"),
        (b"{}", {"Content-Type": "text/csv"}, "Content-Type"),
        (b"not arrow", {"Content-Type": ARROW}, "Arrow IPC"),
    ],
)
def test_a_body_that_cannot_be_read_is_a_400_and_stores_nothing(server, content, headers, message):
    client, app, auth = server
    reply = client.post(URL, content=content, headers={**auth, **headers})
    assert reply.status_code == 400
    assert message in reply.json()["detail"]
    assert app.state.writer.counters()["stored"] == 0


def test_an_arrow_table_without_a_type_column_is_a_400(server):
    client, _, headers = server
    body = arrow_bytes(pa.table({"id": ["a"]}))
    reply = client.post(URL, content=body, headers={**headers, "Content-Type": ARROW})
    assert reply.status_code == 400
    assert "'type' column" in reply.json()["detail"]


def test_a_body_over_the_limit_is_a_413_compressed_or_not(server):
    client, app, headers = server
    app.state.ingest_max_bytes = 2_000
    big = orjson.dumps({"records": [prediction(i) for i in range(40)]})
    assert len(big) > 2_000
    reply = client.post(URL, content=big, headers=headers)
    assert reply.status_code == 413
    assert "2000" in reply.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit is found while reading
        for start in range(0, len(big), 500):
            yield big[start : start + 500]

    assert client.post(URL, content=chunks(), headers=headers).status_code == 413
    bomb = gzip.compress(b'{"records": [' + b" " * 100_000 + b"]}")
    assert len(bomb) < 2_000
    reply = client.post(URL, content=bomb, headers={**headers, "Content-Encoding": "gzip"})
    assert reply.status_code == 413
    assert app.state.writer.counters()["stored"] == 0
    small = orjson.dumps({"records": [prediction(1)]})
    assert client.post(URL, content=small, headers=headers).json()["accepted"] == 1


# Back-pressure and the writer's life -------------------------------------------------------------


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.01)


def test_a_full_queue_answers_429_with_retry_after_and_nothing_is_lost(server):
    client, app, headers = server
    app.state.writer.stop()
    writer = IngestWriter(app.state.workspace, max_queue=1)  # a queue of one, paused below
    writer.start()
    app.state.writer = writer
    replies: dict[int, Any] = {}

    def send(n: int) -> None:
        replies[n] = post(client, headers, [prediction(n)])

    try:
        with writer.paused():
            first = threading.Thread(target=send, args=(1,))
            first.start()  # taken by the writer, which then waits
            wait_for(lambda: writer.counters()["received"] == 1, "the first batch taken")
            wait_for(lambda: writer.counters()["queue_depth"] == 0, "the first batch taken")
            second = threading.Thread(target=send, args=(2,))
            second.start()  # waits in the queue
            wait_for(lambda: writer.counters()["queue_depth"] == 1, "the second batch queued")
            refused = post(client, headers, [prediction(3)])
            assert refused.status_code == 429
            assert int(refused.headers["Retry-After"]) >= 1
            assert writer.counters()["stored"] == 0
        first.join()
        second.join()
        assert [replies[n].json()["accepted"] for n in (1, 2)] == [1, 1]
        assert post(client, headers, [prediction(3)]).json()["accepted"] == 1
        assert sorted(r["id"] for r in rows(app, "predictions__churn")) == ["p1", "p2", "p3"]
    finally:
        writer.stop()


def test_stop_writes_every_queued_batch_first(home):
    workspace = mlpilot.Workspace.open(home)
    from mlpilot.server.records import from_records

    with workspace.events.hold():
        writer = IngestWriter(workspace, max_queue=10)
        writer.start()
        with writer.paused():
            futures = [
                writer.submit("churn", from_records([prediction(i) for i in range(k, k + 5)]))
                for k in range(0, 50, 5)
            ]
            stopper = threading.Thread(target=writer.stop)
            stopper.start()
        stopper.join()
        assert [f.result().accepted for f in futures] == [5] * 10
        counters = writer.counters()
        assert (counters["stored"], counters["batches"], counters["queue_depth"]) == (50, 10, 0)
        with pytest.raises(mlpilot.WorkspaceError, match="stopped"):
            writer.submit("churn", from_records([prediction(99)]))
    assert len(workspace.events.feature_columns("churn")) == 3
    workspace.close()


def test_the_writer_counts_for_metrics(server):
    client, app, headers = server
    post(client, headers, [prediction(1), prediction(2), {"type": "nope"}])
    post(client, headers, [prediction(1)])
    counters = app.state.writer.counters()
    expected = {"received": 4, "stored": 2, "duplicates": 1, "rejected": 1, "batches": 2}
    assert {k: counters[k] for k in expected} == expected
    assert counters["queue_depth"] == 0
    assert counters["queue_size"] > 0


# Access -------------------------------------------------------------------------------------------


def test_access_unknown_initiative_and_tokens(server, home):
    client, app, headers = server
    batch = [prediction(1)]
    assert post(client, headers, batch, url=URL.replace("churn", "nobody")).status_code == 404
    assert post(client, {}, batch).status_code == 401
    assert post(client, bearer("mlp_not-a-token"), batch).status_code == 401
    viewer = bearer(make_token(home, "viewer"))
    assert post(client, viewer, batch).status_code == 403
    scoped = bearer(make_token(home, "ingest", initiative="other"))
    assert post(client, scoped, batch).status_code == 403
    assert post(client, scoped, batch, url=URL.replace("churn", "other")).status_code == 200
    editor = bearer(make_token(home, "editor"))
    assert post(client, editor, [prediction(2)]).json()["accepted"] == 1
    assert count(app, "predictions__churn") == 1
