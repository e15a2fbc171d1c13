"""MLflow's log_batch against a running ``mlflow server``: metrics per second acknowledged.

    python mlflow_log_batch.py URI SECONDS THREADS

Runs in bench/.venvs/mlflow. Each thread has its own run and posts log_batch calls of 1,000
metrics (MLflow's maximum per call; 10 keys x 100 steps, fresh steps in every call), built
before the clock starts.
Prints one JSON line: {"metrics": n, "seconds": s, "metrics_per_s": r}.
"""

from __future__ import annotations

import json
import sys
import threading
import time

from mlflow.entities import Metric  # type: ignore[import-not-found]
from mlflow.tracking import MlflowClient  # type: ignore[import-not-found]

PER_CALL = 1000
PREPARED = 30  # calls built ahead per thread
KEYS = 10


def batch(b: int, now: int) -> list[Metric]:
    """Call ``b``'s metrics: every key at 100 new steps."""
    steps = PER_CALL // KEYS
    return [
        Metric(f"m{k}", float(b * steps + s) / 7.0, now, b * steps + s)
        for k in range(KEYS)
        for s in range(steps)
    ]


def main() -> None:
    uri, seconds, threads = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    client = MlflowClient(tracking_uri=uri)
    experiment = client.create_experiment(f"bench-{time.time_ns()}")
    runs = [client.create_run(experiment).info.run_id for _ in range(threads)]
    now = int(time.time() * 1000)
    client.log_batch(runs[0], metrics=batch(10**6, now))  # warm-up: connection, tables
    # Built before the clock starts: more calls than MLflow answers in the time (~10 a second
    # in all here); any further ones are built as they go.
    prepared = [[batch(b, now) for b in range(PREPARED)] for _ in range(threads)]
    done = [0] * threads
    stop = time.monotonic() + seconds

    def worker(n: int) -> None:
        own = MlflowClient(tracking_uri=uri)
        b = 0
        while time.monotonic() < stop:
            metrics = prepared[n][b] if b < len(prepared[n]) else batch(b, now)
            own.log_batch(runs[n], metrics=metrics)
            done[n] += len(metrics)
            b += 1

    workers = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    start = time.monotonic()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.monotonic() - start
    total = sum(done)
    print(json.dumps({"metrics": total, "seconds": elapsed, "metrics_per_s": total / elapsed}))


if __name__ == "__main__":
    main()
