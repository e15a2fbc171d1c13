"""MLPILOT_URI: the CLI and ``mlpilot.connect()`` against a real ``mlpilot serve`` process."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import mlpilot
from mlpilot.cli.app import main
from mlpilot.errors import NotFoundError, ValidationError, WorkspaceError
from mlpilot.server import holder
from tests.server.kit import workspace_copy

MLPILOT = [sys.executable, "-m", "mlpilot"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*MLPILOT, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})}, check=False)  # fmt: skip


class Server:
    def __init__(self, home: Path, url: str, process: subprocess.Popen[str], token: str) -> None:
        self.home, self.url, self.process, self.token = home, url, process, token


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = workspace_copy(tmp_path_factory, tmp_path_factory.mktemp("remote") / "ws")
    port = _free_port()
    log = (home.parent / "server.log").open("w")  # a file: a full pipe would block the server
    command = [*MLPILOT, "--home", str(home), "serve", "--port", str(port)]
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=1) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                assert process.poll() is None, (home.parent / "server.log").read_text()
                time.sleep(0.1)
        else:
            raise AssertionError("the server did not answer /healthz")
        created = _cli("--home", str(home), "token", "create", "--role", "editor", "--json")
        assert created.returncode == 0, created.stderr
        yield Server(home, url, process, json.loads(created.stdout)["token"])
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        log.close()


@pytest.fixture
def remote(server: Server, monkeypatch: pytest.MonkeyPatch) -> Server:
    monkeypatch.setenv("MLPILOT_URI", server.url)
    monkeypatch.setenv("MLPILOT_TOKEN", server.token)
    return server


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_local_command_on_a_held_workspace_says_how_to_go_through_the_server(
    server: Server,
) -> None:
    done = _cli("--home", str(server.home), "status", "churn")
    assert done.returncode == 1
    pid = server.process.pid
    assert done.stderr.strip() == (
        f"error: the workspace {server.home} is held by `mlpilot serve` at {server.url} "
        f"(pid {pid}); set MLPILOT_URI={server.url} (and MLPILOT_TOKEN) to work through it"
    )
    assert holder.find(server.home) == holder.Holder(server.url, pid)


def test_cli_reads_through_the_server(remote: Server, capsys: pytest.CaptureFixture[str]) -> None:
    client = mlpilot.connect()
    code, out, err = _run(capsys, "initiative", "list", "--json")
    assert code == 0, err
    assert json.loads(out) == client.initiatives()
    assert {row["slug"] for row in json.loads(out)} == {"churn", "quiet", "xss"}

    code, out, _ = _run(capsys, "status", "churn", "--json")
    assert code == 0
    assert json.loads(out)["phase"] == client.initiative("churn").phase

    code, out, _ = _run(capsys, "alerts", "--json")
    assert code == 0
    assert json.loads(out) == client.alerts()


def test_cli_writes_through_the_server(remote: Server, capsys: pytest.CaptureFixture[str]) -> None:
    churn = mlpilot.connect().initiative("quiet")
    code, out, _ = _run(capsys, "phase", "quiet", "data-understanding", "--who", "Ana")
    assert code == 0
    assert "quiet: moved business-understanding → data-understanding" in out
    assert churn.history()[-1]["who"] == "Ana"

    code, out, _ = _run(capsys, "learn", "quiet", "Labels arrive late", "--tag", "labels")
    assert code == 0
    code, out, _ = _run(capsys, "learnings", "quiet", "--json")
    assert [x["text"] for x in json.loads(out)] == ["Labels arrive late"]

    code, out, _ = _run(capsys, "decide", "quiet", "pivot", "--why", "Too few labels")
    assert code == 0
    assert churn.decisions()[-1]["rationale"] == "Too few labels"

    code, _, err = _run(capsys, "phase", "quiet", "nowhere")
    assert code == 1
    assert err.startswith("error: unknown phase 'nowhere'")


def test_cli_logs_a_file_through_the_server(
    remote: Server, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    rows = pa.table({
        "request_id": [f"cli-{i}" for i in range(12)],
        "time": pa.array([1_764_000_000_000_000 + i * 1_000_000 for i in range(12)],
                         pa.timestamp("us", "UTC")),
        "latency_ms": [float(10 + i) for i in range(12)],
    })  # fmt: skip
    pq.write_table(rows, tmp_path / "requests.parquet")
    args = (
        "log",
        "requests",
        "churn",
        str(tmp_path / "requests.parquet"),
        "--map",
        "id=request_id",
    )
    code, out, _ = _run(capsys, *args, "--json")
    assert code == 0
    assert json.loads(out)["accepted"] == 12
    code, out, _ = _run(capsys, *args)
    assert code == 0
    assert "12 received, 0 accepted, 12 duplicates, 0 rejected" in out

    (tmp_path / "bad.csv").write_text(
        "id,time,latency_ms\nok-1,2026-11-28T10:00:00Z,5\nbad-1,2026-11-28T10:00:00Z,\n"
    )
    code, out, _ = _run(capsys, "log", "requests", "churn", str(tmp_path / "bad.csv"), "--json")
    assert code == 0
    result = json.loads(out)
    assert (result["accepted"], result["duplicates"]) == (1, 0)
    assert [r["index"] for r in result["rejected"]] == [1]


@pytest.mark.parametrize(
    "args", [("init",), ("performance", "churn"), ("team", "list", "churn"), ("token", "list")]
)
def test_other_commands_refuse_clearly(
    remote: Server, capsys: pytest.CaptureFixture[str], args: tuple[str, ...]
) -> None:
    code, out, err = _run(capsys, *args)
    assert code == 1
    assert out == ""
    assert err.strip() == (
        f"error: 'mlpilot {' '.join(args[:2] if args[0] in ('team', 'token') else args[:1])}' "
        f"is not available through a server (MLPILOT_URI={remote.url}); unset MLPILOT_URI to "
        "run it on a local workspace"
    )


def test_python_client(server: Server) -> None:
    client = mlpilot.connect(server.url, token=server.token)
    assert client.healthy()
    xss = client.initiative("xss")
    learned = xss.learn("From Python", tags=["sdk"])
    assert learned["text"] == "From Python"
    assert xss.learnings()[-1] == learned
    assert client.initiative("churn").performance(window="2d")["window"] == "2d"
    reply = client.initiative("churn").log_records(
        [{"type": "request", "id": "py-1", "time": "2026-11-28T10:00:00Z", "latency_ms": 3.0}]
    )
    assert reply["accepted"] == 1

    with pytest.raises(NotFoundError, match="no initiative 'nope'"):
        client.initiative("nope").learnings()
    with pytest.raises(ValidationError, match="unknown decision"):
        xss.decide("perhaps", "why not")
    with pytest.raises(WorkspaceError, match="needs a valid token"):
        mlpilot.connect(server.url, token="mlp_wrong").initiatives()
    with pytest.raises(WorkspaceError, match="cannot reach the mlpilot server"):
        mlpilot.connect(f"http://127.0.0.1:{_free_port()}", token="x").initiatives()


def test_connect_needs_a_uri(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLPILOT_URI", raising=False)
    with pytest.raises(ValidationError, match="set MLPILOT_URI"):
        mlpilot.connect()
    with pytest.raises(ValidationError, match="invalid server URI"):
        mlpilot.connect("ftp://somewhere")


def test_stale_holder_file_is_ignored(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    (tmp_path / holder.HOLDER_FILE).write_text(
        json.dumps({"url": "http://127.0.0.1:1", "pid": int(dead.stdout)})
    )
    assert holder.find(tmp_path) is None
    holder.check_not_held(tmp_path)  # no error
    (tmp_path / holder.HOLDER_FILE).write_text("{half")
    assert holder.find(tmp_path) is None


def test_serve_removes_its_holder_file_at_exit(tmp_path_factory: pytest.TempPathFactory) -> None:
    home = workspace_copy(tmp_path_factory, tmp_path_factory.mktemp("exit") / "ws")
    port = _free_port()
    command = [*MLPILOT, "--home", str(home), "serve", "--port", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for _ in range(600):
        if holder.find(home) is not None:
            break
        time.sleep(0.1)
    assert holder.find(home) == holder.Holder(f"http://127.0.0.1:{port}", process.pid)
    process.send_signal(signal.SIGTERM)
    try:
        out, _ = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:  # a failure, but one that leaves no process or pipe
        process.kill()
        process.communicate()
        raise
    assert f"at http://127.0.0.1:{port}" in out
    assert not (home / holder.HOLDER_FILE).exists()
