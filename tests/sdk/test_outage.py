"""The SDK through an outage of the real server: records logged while ``mlpilot serve`` is down
are spooled, then delivered when it is back, and every record is stored exactly once.

The server is killed with SIGKILL while the tracker is sending, so a batch may be in flight:
committed and answered, committed with its answer lost, or not committed. Each case ends with
the record stored once — the ids never change on a resend and the server keeps the first.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

import mlpilot
from tests.sdk.conftest import free_port, wait_for

MLPILOT = [sys.executable, "-m", "mlpilot"]
CHARTER = {
    "name": "Churn", "problem": "Customers leave", "prediction_use": "Retention offers",
    "task": "binary", "shape": "batch", "baseline": "Last month's cancellations",
}  # fmt: skip


def cli(home: Path, *args: str) -> str:
    done = subprocess.run(
        [*MLPILOT, "--home", str(home), *args],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


class Server:
    """``mlpilot --home HOME serve --port PORT`` as a child process."""

    def __init__(self, home: Path, port: int, log: Path) -> None:
        self.home, self.port, self.log = home, port, log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [*MLPILOT, "--home", str(self.home), "serve", "--port", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        wait_for(self.healthy, f"the server to answer (log: {self.log})", limit=120)

    def healthy(self) -> bool:
        assert self.process is not None
        assert self.process.poll() is None, self.log.read_text()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2) as r:
                return bool(r.status == 200)
        except OSError:
            return False

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=60)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=60)


@pytest.fixture
def served(tmp_path):
    home = tmp_path / "ws"
    with mlpilot.Workspace.open(home) as ws:
        ws.create_initiative("churn", **CHARTER)
    token = json.loads(
        cli(home, "token", "create", "--role", "ingest", "--initiative", "churn", "--json")
    )["token"]
    server = Server(home, free_port(), tmp_path / "server.log")
    server.start()
    try:
        yield server, token
    finally:
        server.stop()


def stored(home: Path, kind: str, column: str) -> list[str]:
    """A column of the stored events, read through the Workspace API once the server is gone."""
    with mlpilot.Workspace.open(home, create=False) as ws:
        con = ws.events.connect()
        try:
            table = con.table(ws.events.table_name("churn", kind))
            return [str(v) for v in table.select(column).to_pyarrow().column(column).to_pylist()]
        finally:
            con.disconnect()


def test_records_logged_through_an_outage_are_stored_exactly_once(served, tmp_path):
    server, token = served
    tracker = mlpilot.Tracker(
        f"http://127.0.0.1:{server.port}", token, "churn", batch_size=20, flush_interval=0.05,
        max_retries=2, backoff_base=0.05, backoff_max=0.5, timeout=5,
        spool_dir=tmp_path / "spool",
    )  # fmt: skip
    logged = 0

    def log(count: int) -> None:
        nonlocal logged
        for _ in range(count):  # ids are the tracker's own: a resend must keep them
            tracker.log_prediction(
                (logged % 100) / 100, entity_id=f"e-{logged}", features={"n": logged}
            )
            if logged % 2 == 0:
                tracker.log_outcome(f"e-{logged}", logged % 3 == 0)
            logged += 1

    log(100)
    wait_for(lambda: tracker.stats()["sent"] == 150, "the first records to be stored")

    log(30)
    server.kill()  # while the tracker may be sending: a batch can be in flight
    log(70)
    time.sleep(0.2)
    log(100)  # the server is down: these must go to the spool
    assert tracker.flush(60)
    during = tracker.stats()
    assert during["spooled"] > 0
    assert during["sent"] < 450  # 300 predictions and 150 outcomes logged so far
    assert list((tmp_path / "spool").glob("*.batch.gz")) != []

    server.start()
    log(50)
    total = logged + (logged + 1) // 2  # predictions, and an outcome for every other one
    wait_for(lambda: tracker.stats()["sent"] == total, "the spool to be delivered", limit=120)
    assert tracker.close(timeout=30)
    stats = tracker.stats()
    assert (stats["dropped"], stats["rejected"], stats["invalid"]) == (0, 0, 0)
    assert list((tmp_path / "spool").glob("*.batch.gz")) == []
    server.stop()

    entities = stored(server.home, "predictions", "entity_id")
    assert len(entities) == logged == 350
    assert sorted(entities) == sorted(f"e-{n}" for n in range(logged))  # each once
    assert len(set(stored(server.home, "predictions", "id"))) == logged
    outcomes = stored(server.home, "outcomes", "entity_id")
    assert sorted(outcomes) == sorted(f"e-{n}" for n in range(0, logged, 2))
