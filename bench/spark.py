"""Spark local mode vs DuckDB, in one run: drift on 1M rows x 20 columns and model performance
on 1M predictions joined to their outcomes (daily windows), the same code on both engines.

    .venv/bin/python bench/spark.py [--runs 3] [--cores 2]

Uses the drift data of bench/generate.py (1M) and the first 1M predictions of its performance
data (written once to bench/data/spark_perf_*.parquet). Each measurement runs in this process
(the Spark session is started once, outside the timings, and warmed by one untimed run of each
workload; DuckDB opens a connection per run). Prints each run, the medians, the ratios and the
Spark jobs per workload, checks that both engines' answers agree, and prints a markdown section.
On one machine Spark is expected to be slower: the point is that the same monitors run where the
data lives, on a cluster, and bring back only their small statistics.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))
DATA = ROOT / "bench" / "data"


def perf_files(size: int = 1_000_000) -> tuple[Path, Path]:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    predictions, outcomes = (
        DATA / "spark_perf_predictions.parquet",
        DATA / "spark_perf_outcomes.parquet",
    )
    if not predictions.exists():
        source = pq.read_table(DATA / "perf_predictions.parquet")
        kept = source.filter(pc.less(source["entity_id"], size))
        pq.write_table(kept, predictions, row_group_size=250_000)
        labels = pq.read_table(DATA / "perf_outcomes.parquet")
        pq.write_table(
            labels.filter(pc.less(labels["entity_id"], size)), outcomes, row_group_size=250_000
        )
    return predictions, outcomes


def drift(con: Any) -> dict[str, Any]:
    from mlpilot.monitors.drift import compare

    reference = con.read_parquet(str(DATA / "drift_1m_reference.parquet"))
    current = con.read_parquet(str(DATA / "drift_1m_current.parquet"))
    return compare(reference, current).to_dict()


def performance(con: Any, files: tuple[Path, Path]) -> dict[str, Any]:
    from datetime import UTC, datetime

    from mlpilot.domain.charter import make_charter
    from mlpilot.monitors.performance import evaluate

    charter = make_charter(
        slug="bench", name="Bench", problem="p", prediction_use="u", task="binary",
        shape="batch", baseline="b", created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )  # fmt: skip
    return evaluate(
        con.read_parquet(str(files[0])), con.read_parquet(str(files[1])),
        charter=charter, criteria=[], window="1d",
    )  # fmt: skip


def same(a: Any, b: Any, path: str = "$") -> list[str]:
    """Differences beyond 1e-9 relative (quantiles and counts must agree exactly anyway)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in b for d in same(a.get(k), b[k], f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} vs {len(b)} items"]
        return [
            d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in same(x, y, f"{path}[{i}]")
        ]
    if isinstance(a, float) and isinstance(b, float):
        ok = (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9)
        return [] if ok else [f"{path}: {a!r} vs {b!r}"]
    return [] if a == b else [f"{path}: {a!r} vs {b!r}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--only", nargs="*", default=None, help="drift and/or performance")
    args = parser.parse_args()
    import ibis

    from mlpilot.engine.connection import duckdb
    from mlpilot.engine.spark import count_jobs, local_session

    files = perf_files()
    started = time.perf_counter()
    session = local_session(
        "mlpilot-bench", cores=args.cores, partitions=args.cores * 2, memory="4g"
    )
    spark = ibis.pyspark.connect(session)
    startup = time.perf_counter() - started
    workloads = {"drift 1M x 20": drift, "performance 1M": lambda c: performance(c, files)}
    if args.only:
        workloads = {k: v for k, v in workloads.items() if k.split()[0] in args.only}
    times: dict[tuple[str, str], list[float]] = {}
    answers: dict[tuple[str, str], Any] = {}
    jobs: dict[str, int] = {}
    for name, run in workloads.items():
        with count_jobs(session) as counted:  # the untimed warm-up run, counted
            answers[(name, "spark")] = run(spark)
        jobs[name] = counted.jobs
        for i in range(args.runs):
            for engine in ("duckdb", "spark"):
                con = duckdb() if engine == "duckdb" else spark
                t0 = time.perf_counter()
                answers[(name, engine)] = run(con)
                seconds = time.perf_counter() - t0
                if engine == "duckdb":
                    con.disconnect()
                times.setdefault((name, engine), []).append(seconds)
                print(f"{name:16} {engine:7} run {i + 1}: {seconds:7.2f} s", flush=True)
    lines = [
        f"Spark local[{args.cores}] (session start {startup:.1f} s, not counted) vs DuckDB, "
        f"median of {args.runs} runs:",
        "",
        "| workload | DuckDB (s) | Spark (s) | Spark / DuckDB | Spark jobs | answers agree |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for name in workloads:
        duck = statistics.median(times[(name, "duckdb")])
        on_spark = statistics.median(times[(name, "spark")])
        diffs = same(answers[(name, "spark")], answers[(name, "duckdb")])
        agree = "yes" if not diffs else f"NO ({len(diffs)}: {diffs[0]})"
        ratio = on_spark / duck
        lines.append(
            f"| {name} | {duck:.2f} | {on_spark:.2f} | {ratio:.1f}x | {jobs[name]} | {agree} |"
        )
    print("\n".join(lines))
    session.stop()


if __name__ == "__main__":
    main()
