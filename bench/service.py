"""Service statistics over 10M requests with hourly windows: mlpilot, pandas and Polars.

    python bench/service.py [--runs 3] [--rows 10000000]

Generates (once, seeded) ``bench/data/service_requests.parquet``: 10M requests over 30 days
(``id``, ``time`` UTC, ``model_version``, ``latency_ms`` log-normal with a slow tail,
``status`` with 1 % errors, ``error_class``), written by pyarrow in time order with its
default row groups. Then runs each measurement in a fresh process (this script with
``--worker NAME``), ``--runs`` times, and prints medians, ratios and an agreement check.

Per hourly window, every tool computes the count, errors, throughput (count / 3600), error rate,
latency p50 / p90 / p95 / p99 with linear interpolation (numpy's default) and the maximum:

- mlpilot: ``mlpilot.monitors.service.statistics(table(parquet), "1h")`` on a DuckDB-backed
  Ibis table over the file (nothing loaded), and the whole ``evaluate(...)`` report with two
  SLOs (``latency_p99 <= 300``, ``availability >= 0.99``: per-minute series, burn rates,
  alert episodes);
- pandas: ``read_parquet`` of the three columns, ``groupby(time.dt.floor("h"))`` with
  ``quantile([...])``;
- Polars: ``scan_parquet`` → ``group_by(time.dt.truncate("1h"))`` with
  ``quantile(q, "linear")``, collected.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
DATA = BENCH / "data"
FILE = DATA / "service_requests.parquet"
QUANTILES = (0.5, 0.9, 0.95, 0.99)
KEYS = ("count", "errors", "latency_p50", "latency_p90", "latency_p95", "latency_p99",
        "latency_max")  # fmt: skip
WORKERS = ("mlpilot", "mlpilot_report", "pandas", "polars")


def generate(rows: int) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(2026)
    start = np.datetime64("2026-10-01T00:00:00", "us").astype(np.int64)
    times = start + np.sort(rng.integers(0, 30 * 86_400 * 10**6, rows))
    latency = rng.lognormal(np.log(60.0), 0.45, rows)
    tail = rng.uniform(size=rows) < 0.005
    latency[tail] = rng.uniform(300, 3000, int(tail.sum()))
    errors = rng.uniform(size=rows) < 0.01
    table = pa.table(
        {
            "id": pa.array(np.char.add("r", np.arange(rows).astype(str))),
            "time": pa.array(times, pa.timestamp("us", "UTC")),
            "model_version": pa.array(np.array(["v1", "v2", "v3"])[rng.integers(0, 3, rows)]),
            "latency_ms": latency.round(3),
            "status": pa.array(np.where(errors, "error", "ok")),
            "error_class": pa.array(np.where(errors, "Timeout", ""), mask=~errors),
        }
    )
    DATA.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, FILE)


# Workers: each prints one JSON line: timings and the per-window results -----------------------


def worker_mlpilot(report: bool) -> dict[str, Any]:
    from datetime import UTC, datetime

    imported = time.perf_counter()
    from mlpilot.domain.criteria import make_criterion
    from mlpilot.engine.connection import table
    from mlpilot.monitors import service

    t0, c0 = time.perf_counter(), time.process_time()
    requests = table(str(FILE))
    t1 = time.perf_counter()
    now = datetime(2026, 10, 31, tzinfo=UTC)
    if report:
        criteria = [
            make_criterion(kind="service", metric="latency_p99", op="<=", target=300),
            make_criterion(kind="service", metric="availability", op=">=", target=0.99),
        ]
        windows = service.evaluate(requests, criteria, window="1h", now=now)["windows"]
    else:
        windows = service.statistics(requests, "1h", now=now)
    t2, c2 = time.perf_counter(), time.process_time()
    rows = [
        [w["start"][:19], w["count"], round(w["error_rate"] * w["count"]) if w["count"] else 0]
        + [w[k] for k in KEYS[2:]]
        for w in windows
    ]
    return {
        "import_s": t0 - imported,
        "load_s": t1 - t0,
        "compute_s": t2 - t1,
        "work_cpu_s": c2 - c0,
        "rows": rows,
    }


def worker_pandas() -> dict[str, Any]:
    imported = time.perf_counter()
    import pandas as pd

    t0, c0 = time.perf_counter(), time.process_time()
    frame = pd.read_parquet(FILE, columns=["time", "latency_ms", "status"])
    t1 = time.perf_counter()
    hour = frame["time"].dt.floor("h")
    groups = frame.assign(hour=hour, error=frame["status"].eq("error")).groupby("hour")
    basic = groups.agg(
        count=("latency_ms", "size"), errors=("error", "sum"), latency_max=("latency_ms", "max")
    )
    quantiles = groups["latency_ms"].quantile(list(QUANTILES)).unstack()
    basic["throughput"] = basic["count"] / 3600
    basic["error_rate"] = basic["errors"] / basic["count"]
    t2, c2 = time.perf_counter(), time.process_time()
    rows = [
        [start.strftime("%Y-%m-%dT%H:%M:%S"), int(r["count"]), int(r["errors"])]
        + [float(quantiles.loc[start, q]) for q in QUANTILES]
        + [float(r["latency_max"])]
        for start, r in basic.iterrows()
    ]
    return {
        "import_s": t0 - imported,
        "load_s": t1 - t0,
        "compute_s": t2 - t1,
        "work_cpu_s": c2 - c0,
        "rows": rows,
    }


def worker_polars() -> dict[str, Any]:
    imported = time.perf_counter()
    import polars as pl

    t0, c0 = time.perf_counter(), time.process_time()
    lazy = pl.scan_parquet(FILE).select("time", "latency_ms", "status")
    t1 = time.perf_counter()
    latency = pl.col("latency_ms")
    result = (
        lazy.group_by(pl.col("time").dt.truncate("1h").alias("hour"))
        .agg(
            pl.len().alias("count"),
            (pl.col("status") == "error").sum().alias("errors"),
            *(latency.quantile(q, "linear").alias(f"q{q}") for q in QUANTILES),
            latency.max().alias("latency_max"),
        )
        .with_columns(
            (pl.col("count") / 3600).alias("throughput"),
            (pl.col("errors") / pl.col("count")).alias("error_rate"),
        )
        .sort("hour")
        .collect()
    )
    t2, c2 = time.perf_counter(), time.process_time()
    rows = [
        [r["hour"].strftime("%Y-%m-%dT%H:%M:%S"), r["count"], r["errors"]]
        + [r[f"q{q}"] for q in QUANTILES]
        + [r["latency_max"]]
        for r in result.iter_rows(named=True)
    ]
    return {
        "import_s": t0 - imported,
        "load_s": t1 - t0,
        "compute_s": t2 - t1,
        "work_cpu_s": c2 - c0,
        "rows": rows,
    }


# The harness ------------------------------------------------------------------------------------


def run_once(name: str) -> dict[str, Any]:
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, __file__, "--worker", name], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    out = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    if status != 0:
        raise SystemExit(f"worker {name} failed with status {status}")
    result: dict[str, Any] = json.loads(out)
    result["process_s"] = time.perf_counter() - started
    result["cpu_s"] = usage.ru_utime + usage.ru_stime
    result["seconds"] = result["load_s"] + result["compute_s"]
    return result


def _peak_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited from the
    parent that forked it)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def agree(reference: list[list[Any]], other: list[list[Any]]) -> float:
    """Largest relative difference over every value of every window (inf if they differ in
    windows or counts)."""
    if [r[:3] for r in reference] != [r[:3] for r in other]:
        return float("inf")
    worst = 0.0
    for a, b in zip(reference, other, strict=True):
        for x, y in zip(a[3:], b[3:], strict=True):
            worst = max(worst, abs(x - y) / max(abs(x), abs(y), 1e-300))
    return worst


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", choices=WORKERS)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rows", type=int, default=10_000_000)
    args = parser.parse_args()
    if args.worker:
        work = {
            "mlpilot": lambda: worker_mlpilot(report=False),
            "mlpilot_report": lambda: worker_mlpilot(report=True),
            "pandas": worker_pandas,
            "polars": worker_polars,
        }[args.worker]
        result = work()
        result["peak_mb"] = _peak_mb()
        print(json.dumps(result))
        return
    if not FILE.exists():
        began = time.perf_counter()
        generate(args.rows)
        print(f"generated {FILE} in {time.perf_counter() - began:.1f} s")
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in WORKERS}
    for run in range(args.runs):
        for name in WORKERS:
            result = run_once(name)
            results[name].append(result)
            print(f"run {run + 1} {name:15s} load+compute {result['seconds']:6.2f} s  "
                  f"(cpu {result['work_cpu_s']:5.2f} s)  process {result['process_s']:6.2f} s  "
                  f"cpu {result['cpu_s']:6.2f} s  peak {result['peak_mb']:6.0f} MB",
                  flush=True)  # fmt: skip
    base = statistics.median(r["seconds"] for r in results["mlpilot"])
    print("\n| measurement | runs | load+compute s | its CPU s | process s | process CPU s "
          "| peak MB | ÷ mlpilot |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name in WORKERS:
        runs = results[name]
        med = {k: statistics.median(r[k] for r in runs) for k in
               ("seconds", "work_cpu_s", "process_s", "cpu_s", "peak_mb")}  # fmt: skip
        print(f"| {name} | {len(runs)} | {med['seconds']:.2f} | {med['work_cpu_s']:.2f} | "
              f"{med['process_s']:.2f} | {med['cpu_s']:.2f} | {med['peak_mb']:.0f} | "
              f"{med['seconds'] / base:.2f} |")  # fmt: skip
    reference = results["mlpilot"][0]["rows"]
    print(f"\nwindows: {len(reference)}; requests: {sum(r[1] for r in reference)}")
    for name in WORKERS[1:]:
        diff = agree(reference, results[name][0]["rows"])
        print(f"agreement mlpilot vs {name}: counts and errors equal, largest relative "
              f"difference of quantiles and max {diff:.2e}")  # fmt: skip


if __name__ == "__main__":
    main()
