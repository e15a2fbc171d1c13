"""Ingest throughput over loopback: mlpilot's events endpoint (JSON and Arrow IPC bodies) beside
MLflow's ``log_batch``, in one run on one machine.

    python bench/ingest.py                  # 3 runs of 10 s each per measurement
    python bench/ingest.py --runs 1 --seconds 5 --only json arrow

mlpilot: ``mlpilot --home TMP serve`` in its own process; the load generator (this process)
posts pre-serialised bodies of 1,000 prediction records (5 features each, fresh ids in every
body) over a few keep-alive connections and counts the records acknowledged (a 200 reply, sent
after the commit). MLflow: ``mlflow server`` with a SQLite backend (bench/.venvs/mlflow, made by
bench/setup.sh) and its client's ``log_batch`` of 1,000 metrics per call, MLflow's maximum
(bench/workers/mlflow_log_batch.py); ``--workers 4``, its default (BENCH_MLFLOW_WORKERS=1 for
one process like mlpilot's). Both generators run on the same 2 cores as their server,
which is the setting of the goal (>= 100,000 events/s). Prints medians, ratios and the CPU
seconds the server used per million records; writes a markdown section to
bench/data/ingest.md.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
MAIN_PYTHON = ROOT / ".venv" / "bin" / "python"
MLFLOW_PYTHON = BENCH / ".venvs" / "mlflow" / "bin" / "python"
T0 = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
BATCH = 1000
FEATURES = 5
CONNECTIONS = 8
SERVER_PYTHONPATH = ""  # --server-pythonpath
# mlflow server --workers: 4, its default (it is faster with them; mlpilot runs one process)
MLFLOW_WORKERS = int(os.environ.get("BENCH_MLFLOW_WORKERS", "4"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(port: int, path: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            con = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            con.request("GET", path)
            if con.getresponse().status < 500:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"no server on port {port} after {timeout} s")


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process and its children so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(fields[i]) for i in (11, 12, 13, 14))
    return ticks / os.sysconf("SC_CLK_TCK")


# Bodies ----------------------------------------------------------------------------------------


def records(n: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    prefix = uuid.uuid4().hex[:12]
    start = T0 + timedelta(seconds=seed)  # like live traffic: each batch a little later
    return [
        {
            "type": "prediction",
            "id": f"{prefix}-{i}",
            "time": (start + timedelta(microseconds=i * 1000)).isoformat().replace("+00:00", "Z"),
            "entity_id": f"c{rng.randrange(100_000)}",
            "model_version": "v3",
            "score": round(rng.random(), 6),
            "latency_ms": round(rng.uniform(2, 40), 3),
            "status": "ok",
            "features": {f"f{j}": round(rng.gauss(0, 1), 6) for j in range(FEATURES)},
        }
        for i in range(n)
    ]


def json_body(rows: list[dict[str, Any]]) -> bytes:
    import orjson

    return orjson.dumps({"records": rows})


def arrow_body(rows: list[dict[str, Any]]) -> bytes:
    import pyarrow as pa

    flat = [{**{k: v for k, v in r.items() if k != "features"}, **r["features"]} for r in rows]
    table = pa.Table.from_pylist(flat)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


# The load --------------------------------------------------------------------------------------


def load(
    port: int, path: str, headers: dict[str, str], bodies: list[bytes], seconds: float
) -> tuple[int, int, float]:
    """Post bodies round-robin from CONNECTIONS threads for ``seconds``; (records acknowledged,
    requests refused with 429, elapsed seconds). Each body is sent once."""
    acked = [0] * CONNECTIONS
    refused = [0] * CONNECTIONS
    next_body = iter(range(len(bodies)))
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker(n: int) -> None:
        con = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while time.monotonic() < stop:
            with lock:
                at = next(next_body, None)
            if at is None:
                return
            body = bodies[at]
            while True:
                con.request("POST", path, body, headers)
                reply = con.getresponse()
                data = reply.read()
                if reply.status == 429:
                    refused[n] += 1
                    time.sleep(0.01)
                    continue
                if reply.status != 200:
                    raise RuntimeError(f"HTTP {reply.status}: {data[:300]!r}")
                acked[n] += int(json.loads(data)["accepted"])
                break

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(CONNECTIONS)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(acked), sum(refused), time.monotonic() - start


def mlpilot_server(home: Path) -> tuple[subprocess.Popen[bytes], int, str]:
    import mlpilot
    from mlpilot.store.tokens import TokenStore

    with mlpilot.Workspace.open(home) as ws:
        ws.create_initiative(
            "churn", name="Churn", problem="Customers leave", prediction_use="Offers",
            task="binary", shape="online-api", baseline="Last month",
        )  # fmt: skip
        _, token = TokenStore(ws.store).create("ingest")
    port = free_port()
    mlpilot_cli = MAIN_PYTHON.parent / "mlpilot"
    env = dict(os.environ)
    if SERVER_PYTHONPATH:  # e.g. a folder with httptools and uvloop, which uvicorn then uses
        env["PYTHONPATH"] = SERVER_PYTHONPATH
    proc = subprocess.Popen(
        [str(mlpilot_cli), "--home", str(home), "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        env=env,
    )
    wait_http(port, "/healthz")
    return proc, port, token


def measure_mlpilot(fmt: str, runs: int, seconds: float) -> list[dict[str, float]]:
    results = []
    needed = int(seconds * 250_000 / BATCH) + 8  # more bodies than any run can send
    make = json_body if fmt == "json" else arrow_body
    bodies = [make(records(BATCH, seed)) for seed in range(needed)]
    content_type = "application/json" if fmt == "json" else "application/vnd.apache.arrow.stream"
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            proc, port, token = mlpilot_server(Path(tmp))
            try:
                headers = {"Authorization": f"Bearer {token}", "Content-Type": content_type}
                path = "/api/v1/initiatives/churn/events"
                load(port, path, headers, bodies[:4], 2.0)  # warm-up: tables created
                cpu0 = proc_cpu(proc.pid)
                own0 = resource.getrusage(resource.RUSAGE_SELF)
                acked, refused, elapsed = load(port, path, headers, bodies[4:], seconds)
                server_cpu = proc_cpu(proc.pid) - cpu0
                own1 = resource.getrusage(resource.RUSAGE_SELF)
                client_cpu = (own1.ru_utime - own0.ru_utime) + (own1.ru_stime - own0.ru_stime)
            finally:
                proc.terminate()
                proc.wait(30)
        results.append(
            {
                "events_per_s": acked / elapsed,
                "server_cpu_s_per_m": server_cpu / acked * 1e6,
                "client_cpu_s_per_m": client_cpu / acked * 1e6,
                "refused_429": refused,
                "body_kb": len(bodies[0]) / 1024,
            }
        )
        print(f"  mlpilot {fmt}: {results[-1]}", flush=True)
    return results


def measure_mlflow(runs: int, seconds: float) -> list[dict[str, float]]:
    if not MLFLOW_PYTHON.exists():
        print("  mlflow: no bench/.venvs/mlflow; run bash bench/setup.sh", flush=True)
        return []
    results = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            port = free_port()
            proc = subprocess.Popen(
                [str(MLFLOW_PYTHON.parent / "mlflow"), "server", "--host", "127.0.0.1",
                 "--port", str(port), "--backend-store-uri", f"sqlite:///{tmp}/mlflow.db",
                 "--default-artifact-root", f"{tmp}/artifacts", "--workers", str(MLFLOW_WORKERS)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
            try:
                wait_http(port, "/health", timeout=120)
                cpu0 = proc_tree_cpu(proc.pid)
                out = subprocess.run(
                    [str(MLFLOW_PYTHON), str(BENCH / "workers" / "mlflow_log_batch.py"),
                     f"http://127.0.0.1:{port}", str(seconds), str(CONNECTIONS)],
                    capture_output=True, text=True, check=True,
                )  # fmt: skip
                server_cpu = proc_tree_cpu(proc.pid) - cpu0
            finally:
                os.killpg(proc.pid, 15)
                proc.wait(30)
        figures = json.loads(out.stdout.strip().splitlines()[-1])
        figures["events_per_s"] = figures["metrics_per_s"]
        figures["server_cpu_s_per_m"] = server_cpu / figures["metrics"] * 1e6
        results.append(figures)
        print(f"  mlflow log_batch: {figures}", flush=True)
    return results


def proc_tree_cpu(pid: int) -> float:
    """CPU seconds of a process and its live descendants (mlflow server runs a child)."""
    total = 0.0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            total += proc_cpu(current)
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        pending += [int(c) for c in children]
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--only", nargs="*", default=["json", "arrow", "mlflow"])
    parser.add_argument(
        "--server-pythonpath",
        default="",
        help="PYTHONPATH for the mlpilot server (to try httptools / uvloop without installing)",
    )
    args = parser.parse_args()
    global SERVER_PYTHONPATH
    SERVER_PYTHONPATH = args.server_pythonpath
    found: dict[str, list[dict[str, float]]] = {}
    for what in args.only:
        print(f"{what}:", flush=True)
        if what == "mlflow":
            found[what] = measure_mlflow(args.runs, args.seconds)
        else:
            found[what] = measure_mlpilot(what, args.runs, args.seconds)
    report = markdown(found, args)
    print(report)
    out = BENCH / "data"
    out.mkdir(exist_ok=True)
    (out / "ingest.md").write_text(report)


def markdown(found: dict[str, list[dict[str, float]]], args: argparse.Namespace) -> str:
    def median(what: str, key: str) -> float | None:
        values = [r[key] for r in found.get(what, []) if key in r]
        return statistics.median(values) if values else None

    rate = {what: median(what, "events_per_s") for what in found}
    base = rate.get("mlflow")
    lines = [
        "## Ingest over loopback",
        "",
        f"`python bench/ingest.py --runs {args.runs} --seconds {args.seconds:g}` on "
        f"{os.cpu_count()} cores: batches of {BATCH:,} records, {CONNECTIONS} keep-alive "
        "connections, the load generator on the same machine. Medians of "
        f"{args.runs} runs."
        + (f" Server PYTHONPATH: {args.server_pythonpath}." if args.server_pythonpath else ""),
        "",
        "| what | records/s | × MLflow | server CPU s per 1M records |",
        "|---|---:|---:|---:|",
    ]
    names = {
        "json": "mlpilot, JSON (1,000 predictions, 5 features)",
        "arrow": "mlpilot, Arrow IPC (same records)",
        "mlflow": f"MLflow log_batch (1,000 metrics), SQLite, {MLFLOW_WORKERS} workers",
    }
    for what in found:
        value = rate[what]
        if value is None:
            continue
        ratio = f"{value / base:.1f}" if base else "–"
        cpu = median(what, "server_cpu_s_per_m")
        lines.append(f"| {names[what]} | {value:,.0f} | {ratio} | {cpu:.1f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    main()
