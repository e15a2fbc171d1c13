"""Durability: a real `mlpilot serve` killed with SIGKILL during ingest, 20 times, loses no
acknowledged record and stores none twice.

A client keeps posting batches (predictions with ids, outcomes whose ids the store derives),
sending a batch again until it is acknowledged — at-least-once, as the SDK does — and records
what was acknowledged. The server is killed at random moments and restarted each time; at the
end the event store must hold every acknowledged record exactly once and nothing that was never
sent.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import mlpilot
from mlpilot.store.tokens import TokenStore

KILLS = 20
PREDICTIONS_PER_BATCH = 150
OUTCOMES_PER_BATCH = 30
T0 = datetime(2026, 11, 28, tzinfo=UTC)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(home: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    mlpilot_cli = Path(sys.executable).with_name("mlpilot")
    with log.open("ab") as output:
        proc = subprocess.Popen(
            [str(mlpilot_cli), "--home", str(home), "serve", "--port", str(port)],
            stdout=output,
            stderr=output,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the server exited: {log.read_text()[-2000:]}")
        con = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            con.request("GET", "/healthz")
            if con.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.05)
        finally:
            con.close()
    proc.kill()
    raise AssertionError("the server did not answer /healthz within 60 s")


def batch(k: int) -> list[dict[str, Any]]:
    base = T0 + timedelta(minutes=k)
    predictions = [
        {"type": "prediction", "id": f"b{k}-{i}", "time": (base + timedelta(seconds=i)).isoformat(),
         "entity_id": f"e{k}-{i}", "score": (i % 100) / 100, "features": {"x": i, "k": k}}
        for i in range(PREDICTIONS_PER_BATCH)
    ]  # fmt: skip
    outcomes = [
        {"type": "outcome", "entity_id": f"e{k}-{i}", "label": i % 2,
         "time": (base + timedelta(hours=1)).isoformat()}
        for i in range(OUTCOMES_PER_BATCH)
    ]  # fmt: skip
    return predictions + outcomes


class Client(threading.Thread):
    """Sends batch 0, 1, 2…; each until acknowledged. Keeps the acknowledged batch numbers."""

    def __init__(self, port: int, token: str) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.acked: list[int] = []
        self.sent_upto = -1  # the highest batch number ever sent
        self.stop = threading.Event()
        self.failure: str | None = None

    def run(self) -> None:
        k = 0
        con: http.client.HTTPConnection | None = None
        while not self.stop.is_set():
            body = json.dumps({"records": batch(k)}).encode()
            try:
                con = con or http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                self.sent_upto = max(self.sent_upto, k)
                con.request("POST", "/api/v1/initiatives/churn/events", body, self.headers)
                reply = con.getresponse()
                data = reply.read()
            except (OSError, http.client.HTTPException):
                if con is not None:
                    con.close()
                con = None  # the server is down or restarting: the same batch again
                time.sleep(0.02)
                continue
            if reply.status in (429, 503):
                time.sleep(0.05)
                continue
            if reply.status != 200:
                self.failure = f"HTTP {reply.status}: {data[:500]!r}"
                break
            answer = json.loads(data)
            if answer["rejected"]:
                self.failure = f"rejected: {answer['rejected'][:3]}"
                break
            self.acked.append(k)
            k += 1
        if con is not None:
            con.close()


def test_sigkill_during_ingest_loses_no_acknowledged_record_and_stores_none_twice(tmp_path):
    home = tmp_path / "ws"
    with mlpilot.Workspace.open(home) as ws:
        ws.create_initiative(
            "churn", name="Churn", problem="Customers leave", prediction_use="Offers",
            task="binary", shape="online-api", baseline="Last month",
        )  # fmt: skip
        token = TokenStore(ws.store).create("ingest")[1]
    port = free_port()
    rng = random.Random(7)
    client = Client(port, token)
    kills = 0
    try:
        proc = start(home, port, tmp_path / "server.log")
        client.start()
        while kills < KILLS:
            time.sleep(rng.uniform(0.05, 0.6))  # ingest runs; then a kill at a random moment
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            kills += 1
            assert client.failure is None, client.failure
            proc = start(home, port, tmp_path / "server.log")
        acked_before_end = len(client.acked)
        time.sleep(0.5)
        client.stop.set()
        client.join(60)
        os.kill(proc.pid, signal.SIGKILL)  # the last one too: the store is read after a crash
        proc.wait()
    finally:
        client.stop.set()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert client.failure is None, client.failure
    assert acked_before_end >= KILLS, "too few batches were acknowledged to test anything"

    with mlpilot.Workspace.open(home, create=False) as ws:
        con = ws.events.connect()
        try:
            raw = con.con
            ids = [r[0] for r in raw.execute("SELECT id FROM predictions__churn").fetchall()]
            outcomes = raw.execute("SELECT entity_id, epoch_us(time), id FROM outcomes__churn")
            outcome_rows = outcomes.fetchall()
        finally:
            con.disconnect()

    acked = set(client.acked)
    expected_ids = {f"b{k}-{i}" for k in acked for i in range(PREDICTIONS_PER_BATCH)}
    stored = set(ids)
    assert len(ids) == len(stored), "a prediction is stored twice"
    assert expected_ids <= stored, f"{len(expected_ids - stored)} acknowledged predictions lost"
    sent = {f"b{k}-{i}" for k in range(client.sent_upto + 1) for i in range(PREDICTIONS_PER_BATCH)}
    assert stored <= sent, "a prediction that was never sent is stored"
    outcome_keys = [(entity, us) for entity, us, _ in outcome_rows]
    assert len(outcome_keys) == len(set(outcome_keys)), "an outcome is stored twice"
    assert len({i for *_, i in outcome_rows}) == len(outcome_rows)
    acked_outcomes = {f"e{k}-{i}" for k in acked for i in range(OUTCOMES_PER_BATCH)}
    assert acked_outcomes <= {entity for entity, _ in outcome_keys}
    # Whole batches only: a batch is one transaction per kind, committed or not at all.
    per_batch: dict[str, int] = {}
    for name in stored:
        per_batch[name.split("-")[0]] = per_batch.get(name.split("-")[0], 0) + 1
    assert set(per_batch.values()) == {PREDICTIONS_PER_BATCH}
