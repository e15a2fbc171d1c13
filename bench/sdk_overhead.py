"""Overhead of the production tracker per tracked call, against the bare call, in one run.

    python bench/sdk_overhead.py [--calls 200000] [--block 100] [--sink stdlib|server]

Two measurements, each side by side with its bare counterpart, in alternating blocks of
``--block`` calls timed with ``perf_counter_ns`` (so clock reads cost 1/block per call):

- decorator: ``@tracker.track`` around a trivial ``predict(tenure=..., plan=...)`` returning
  0.5, against the same undecorated function;
- log_prediction: ``tracker.log_prediction(score, features=<5 features>, entity_id=...)``,
  against the same loop body without the call (the features dict is built in both).

Overhead = median per-call time of the tracked blocks minus that of the bare blocks; the goal is
≤ 10 µs. The sender thread runs meanwhile (it shares the GIL), posting to a receiver in another
process: ``stdlib`` (default) a minimal HTTP receiver answering 200, or ``server`` a real
``mlpilot serve`` over a temporary workspace. The queue is sized to hold every call so the
drop path is never what is measured; the script checks nothing was dropped and everything sent,
and reports the sender's cost per record (CPU time of the process while it drains).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

SINK = textwrap.dedent(
    """
    import sys
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out at once, as from uvicorn
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            out = b'{"accepted": -1, "duplicates": 0, "rejected": []}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)
        def do_GET(self):
            self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
        def log_message(self, *args): pass
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
    """
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(url: str) -> None:
    for _ in range(600):
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"no answer from {url}")


def start_sink(kind: str, folder: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    """A receiver process: (process, uri, token)."""
    port = free_port()
    uri = f"http://127.0.0.1:{port}"
    if kind == "stdlib":
        process = subprocess.Popen([sys.executable, "-c", SINK, str(port)])
        wait_healthy(uri + "/")
        return process, uri, "unused"
    import mlpilot

    home = folder / "ws"
    with mlpilot.Workspace.open(home) as ws:
        ws.create_initiative("churn", name="Churn", problem="p", prediction_use="u",
                             task="binary", shape="batch", baseline="b")  # fmt: skip
    cli = [sys.executable, "-m", "mlpilot", "--home", str(home)]
    created = subprocess.run([*cli, "token", "create", "--role", "ingest", "--json"],
                             capture_output=True, text=True, check=True)  # fmt: skip
    token = json.loads(created.stdout)["token"]
    process = subprocess.Popen([*cli, "serve", "--port", str(port)], stdout=subprocess.DEVNULL)
    wait_healthy(uri + "/healthz")
    return process, uri, token


def side_by_side(
    bare: Callable[[int], None], tracked: Callable[[int], None], blocks: int, block: int
) -> tuple[list[float], list[float]]:
    """Per-call ns of each block, bare and tracked alternating (bare first, then swapped)."""
    clock = time.perf_counter_ns
    times: dict[str, list[float]] = {"bare": [], "tracked": []}
    for n in range(blocks):
        order = (
            (("bare", bare), ("tracked", tracked))
            if n % 2
            else (("tracked", tracked), ("bare", bare))
        )
        for name, run in order:
            start = clock()
            run(block)
            times[name].append((clock() - start) / block)
    return times["bare"], times["tracked"]


def summary(bare: list[float], tracked: list[float]) -> dict[str, float]:
    def q(values: list[float], p: float) -> float:
        return statistics.quantiles(values, n=100)[int(p) - 1]

    return {
        "bare_median_us": statistics.median(bare) / 1000,
        "tracked_median_us": statistics.median(tracked) / 1000,
        "overhead_median_us": (statistics.median(tracked) - statistics.median(bare)) / 1000,
        "overhead_p90_us": (q(tracked, 90) - q(bare, 90)) / 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200_000, help="tracked calls per case")
    parser.add_argument("--block", type=int, default=100)
    parser.add_argument("--sink", choices=("stdlib", "server"), default="stdlib")
    args = parser.parse_args()
    blocks = args.calls // args.block

    from mlpilot import Tracker

    with tempfile.TemporaryDirectory() as tmp:
        process, uri, token = start_sink(args.sink, Path(tmp))
        try:
            tracker = Tracker(uri, token, "churn", queue_size=2 * args.calls + 10,
                              spool_dir=Path(tmp) / "spool")  # fmt: skip

            def predict(tenure: int, plan: str) -> float:
                return 0.5

            tracked_predict = tracker.track(predict)

            def bare_calls(n: int) -> None:
                for i in range(n):
                    predict(tenure=i, plan="pro")

            def tracked_calls(n: int) -> None:
                for i in range(n):
                    tracked_predict(tenure=i, plan="pro")

            def bare_logs(n: int) -> None:
                for i in range(n):
                    features = {
                        "tenure": i,
                        "plan": "pro",
                        "age": 41,
                        "spend": 12.5,
                        "region": "eu",
                    }
                    _ = features

            def tracked_logs(n: int) -> None:
                log = tracker.log_prediction
                for i in range(n):
                    features = {
                        "tenure": i,
                        "plan": "pro",
                        "age": 41,
                        "spend": 12.5,
                        "region": "eu",
                    }
                    log(0.5, features=features, entity_id="c-1")

            side_by_side(bare_calls, tracked_calls, 20, args.block)  # warm up
            side_by_side(bare_logs, tracked_logs, 20, args.block)
            tracker.flush(120)
            before = tracker.stats()
            results: dict[str, Any] = {}
            results["decorator"] = summary(
                *side_by_side(bare_calls, tracked_calls, blocks, args.block)
            )
            results["log_prediction"] = summary(
                *side_by_side(bare_logs, tracked_logs, blocks, args.block)
            )
            cpu, wall = time.process_time(), time.perf_counter()
            queued = tracker.stats()["queued"]
            tracker.flush(600)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            after = tracker.stats()
            tracker.close(30)
        finally:
            process.terminate()
            process.wait(60)

    logged = 2 * blocks * args.block
    sent = after["sent"] - before["sent"]
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"# SDK overhead ({machine}, sink {args.sink}, {blocks} blocks of {args.block})")
    print()
    print("| call | bare µs | tracked µs | overhead µs (median) | overhead µs (p90) |")
    print("|---|---:|---:|---:|---:|")
    for name, r in results.items():
        print(f"| {name} | {r['bare_median_us']:.2f} | {r['tracked_median_us']:.2f} | "
              f"**{r['overhead_median_us']:.2f}** | {r['overhead_p90_us']:.2f} |")  # fmt: skip
    print()
    print(f"records logged {logged}, sent {sent}, dropped {after['dropped']}, "
          f"spooled {after['spooled']}, retries {after['retries']}")  # fmt: skip
    if queued:
        per_record = cpu / queued * 1e6
        print(f"sender drain after the run: {queued} records in {wall:.2f} s, "
              f"{per_record:.1f} µs CPU per record (the process, sender alone)")  # fmt: skip
    if args.sink == "stdlib" and (sent != logged or after["dropped"]):
        raise SystemExit("not every record was sent: the measurement is not valid")


if __name__ == "__main__":
    main()
