"""Experiments benchmark: 10M exposed units × 10 metrics from raw events to the verdict, and the
stats half per metric and arm against gbstats 0.8.0 on the same sufficient statistics.

    nice .venv/bin/python bench/experiments.py [--units 10000000] [--runs 3]

Data (seeded, generated once by DuckDB into bench/data/experiments-<units>.duckdb, gitignored):
the event store's own tables ``exposures__bench`` (one exposure per unit, two variants 50/50,
over 14 days) and ``metric_events__bench`` (per unit and metric, an event after exposure with
probability 0.15 and one in the 30 days before with probability 0.05; 10 metrics, so about
2 events per unit). Timed: the command line (``mlpilot experiment analyze``, a new process each
run) and the library's ``monitors.experiment_runs.run`` in this process — the engine half on
the store's unit keys, then the stats half and the verdict; beside them the portable (Ibis)
engine half and a hand-written DuckDB query on the same tables, and what keys cost an import.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
METRICS = [f"m{i}" for i in range(10)]


def generate(path: Path, units: int) -> None:
    import duckdb

    start = time.perf_counter()
    con = duckdb.connect(str(path))
    con.execute("SELECT setseed(0.42)")
    con.execute(f"""
        CREATE TABLE exposures__bench AS
        SELECT 'x' || i AS id, TIMESTAMPTZ '2026-03-01 00:00:00+00'
                 + to_microseconds(CAST(random() * 14 * 86400e6 AS BIGINT)) AS time,
               'u' || i AS unit_id, 'bench' AS experiment,
               CASE WHEN random() < 0.5 THEN 'control' ELSE 'treatment' END AS variant
        FROM range({units}) t(i)""")
    metrics = ", ".join(f"'{m}'" for m in METRICS)
    # Per unit and metric: an event after exposure (p 0.15), one in the 30 days before (p 0.05);
    # the treatment lifts m0 by 2 % and each value carries a per-unit level (CUPED's signal).
    con.execute(f"""
        CREATE TABLE metric_events__bench AS
        WITH cells AS (
            SELECT e.unit_id, e.time, e.variant, m.metric, random() AS r,
                   hash(e.unit_id) % 1000 / 100.0 AS level
            FROM exposures__bench e CROSS JOIN (SELECT unnest([{metrics}]) AS metric) m)
        SELECT 'v' || row_number() OVER () AS id, unit_id, metric,
               CASE WHEN r < 0.15 THEN time + to_microseconds(CAST(r * 1e12 AS BIGINT))
                    ELSE time - to_microseconds(CAST((r - 0.15) * 4e13 AS BIGINT)) END AS time,
               (level + random() * 10) * CASE WHEN metric = 'm0' AND variant = 'treatment'
                                              THEN 1.02 ELSE 1.0 END AS value
        FROM cells WHERE r < 0.20""")
    n = con.execute("SELECT count(*) FROM metric_events__bench").fetchone()
    con.close()
    print(f"generated {units:,} units, {n[0]:,} events in {time.perf_counter() - start:.1f} s")


def keyed(path: Path) -> None:
    """Give the tables the store's dense unit keys, as an import does (``store/units.py``): the
    same code that keys a store written before keys existed. Timed, since imports pay it."""
    import duckdb

    from mlpilot.store.sql import column_names
    from mlpilot.store.units import UNIT_KEY, ensure_keys

    con = duckdb.connect(str(path))
    if UNIT_KEY not in column_names(con, "exposures__bench"):
        start = time.perf_counter()
        con.begin()
        ensure_keys(con, "exposures__bench")  # both tables, as an import does
        con.commit()
        print(f"unit keys for exposures and metric events: {time.perf_counter() - start:.1f} s")
    con.close()


def timed_cli(path: Path, runs: int) -> list[float]:
    """``mlpilot experiment analyze`` in a new process on a workspace whose event store is a
    copy of the data: what a user waits for, interpreter start and imports included."""
    import shutil

    mlpilot = str(Path(sys.executable).parent / "mlpilot")
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        home = Path(tmp) / "ws"
        metrics = [arg for m in METRICS for arg in ("--metric", m)]
        for command in (
            ["init"],
            ["initiative", "create", "bench", "--name", "Bench", "--problem", "p",
             "--prediction-use", "u", "--task", "binary", "--shape", "batch", "--baseline", "b"],
            ["experiment", "create", "bench", "bench", "--variants", "control,treatment",
             "--split", "50,50", *metrics],
        ):  # fmt: skip
            quiet = {"check": True, "stdout": subprocess.DEVNULL}
            subprocess.run([mlpilot, "--home", str(home), *command], **quiet)
        shutil.copy(path, home / "events.duckdb")
        os.sync()  # the copy's write-back is the benchmark's doing, not the analysis'
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            subprocess.run(
                [mlpilot, "--home", str(home), "experiment", "analyze", "bench", "bench", "--json",
                 "--no-save"],
                check=True, stdout=subprocess.DEVNULL,
            )  # fmt: skip
            times.append(time.perf_counter() - start)
    return times


def timed_keying(path: Path, runs: int) -> dict[str, list[float]]:
    """What unit keys cost an import into the 10M-unit store (a copy): metric events in
    batches of 1,000 (a server commit) and 100,000 rows (a file), half of them from new units;
    and, for the same batches, the keying alone (``key_batch``), rolled back."""
    import shutil

    import duckdb
    import pyarrow as pa

    from mlpilot.store.events import EventStore
    from mlpilot.store.units import key_batch

    times: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        copy = Path(tmp) / "events.duckdb"
        shutil.copy(path, copy)
        store = EventStore(copy)
        for size in (1_000, 100_000):
            for run in range(runs):
                units = [f"u{i * 7919 % 10_000_000}" for i in range(size // 2)]
                units += [f"new-{size}-{run}-{i}" for i in range(size - size // 2)]
                batch = pa.table(
                    {
                        "unit_id": units,
                        "time": pa.array([datetime(2026, 3, 20, tzinfo=UTC)] * size),
                        "metric": ["m0"] * size,
                        "value": [float(i % 7) for i in range(size)],
                        "id": [f"k-{size}-{run}-{i}" for i in range(size)],
                    }
                )
                with duckdb.connect(str(copy)) as con:
                    con.register("batch", batch)
                    con.begin()
                    start = time.perf_counter()
                    key_batch(con, "units__bench", "SELECT unit_id FROM batch")
                    times.setdefault(f"keying {size:,}", []).append(time.perf_counter() - start)
                    con.rollback()
                start = time.perf_counter()
                store.import_events("bench", "metric_events", batch)
                times.setdefault(f"import {size:,}", []).append(time.perf_counter() - start)
    return times


# The query a team would write by hand in DuckDB for the same statistics (CUPED columns
# included): first exposure per unit, join, per (unit, metric) sums, moments per variant.
HAND_SQL = """
WITH u AS (SELECT unit_id, min(time) AS f, arg_min(variant, time) AS v,
                  min(variant) != max(variant) AS mixed
           FROM exposures__bench WHERE experiment = 'bench' GROUP BY unit_id),
pu AS (SELECT e.unit_id, e.metric, any_value(u.v) AS v,
              sum(CASE WHEN e.time >= u.f THEN e.value ELSE 0 END) AS x,
              sum(CASE WHEN e.time < u.f THEN e.value ELSE 0 END) AS p
       FROM metric_events__bench e JOIN u ON e.unit_id = u.unit_id
       WHERE NOT u.mixed AND e.time >= u.f - INTERVAL 30 DAY GROUP BY e.unit_id, e.metric)
SELECT v, metric, count(*), sum(x), sum(x * x), sum(p), sum(p * p), sum(x * p)
FROM pu GROUP BY v, metric
"""


def timed_alternatives(path: Path, runs: int) -> tuple[dict[str, list[float]], list[dict]]:
    """The portable (Ibis) engine half and the hand-written DuckDB query, same data; and the
    portable half's rows (the stats half is timed on them)."""
    import duckdb

    from mlpilot.engine.experiments import MetricDef, experiment_stats
    from mlpilot.store.events import EventStore

    times: dict[str, list[float]] = {"portable": [], "duckdb": []}
    for _ in range(runs):
        start = time.perf_counter()
        con = EventStore(path).connect()
        rows, _ = experiment_stats(
            con.table("exposures__bench"),
            con.table("metric_events__bench"),
            "bench",
            ["control", "treatment"],
            [MetricDef(m) for m in METRICS],
        )
        con.disconnect()
        times["portable"].append(time.perf_counter() - start)
        start = time.perf_counter()
        with duckdb.connect(str(path), read_only=True) as raw:
            raw.execute(HAND_SQL).fetchall()
        times["duckdb"].append(time.perf_counter() - start)
    return times, rows


def timed_pipeline(path: Path, units: int, runs: int, cuped: bool) -> tuple[list[float], dict]:
    from mlpilot.monitors.experiment_runs import run
    from mlpilot.store.events import EventStore
    from mlpilot.store.experiments import ExperimentRecord

    record = ExperimentRecord(
        id=1,
        slug="bench",
        name="bench",
        variants=["control", "treatment"],
        split=[1.0, 1.0],
        metrics=[{"name": m} for m in METRICS],
        created_at=datetime.now(UTC),
        details={},
        criteria=[
            {
                "metric": "m0",
                "op": ">=",
                "target": 0.01,
                "effect": "relative",
                "guardrails": ["m1", "m2"],
                "describe": "m0 >= +1%",
            }
        ],
    )
    store = EventStore(path)
    times, report = [], {}
    for _ in range(runs):
        start = time.perf_counter()
        report = run(store, record, cuped=cuped)
        times.append(time.perf_counter() - start)
    return times, report


def stats_half(report: dict, repeat: int) -> tuple[dict[str, float], list]:
    from mlpilot.stats.abtest import compare
    from mlpilot.stats.experiments import ArmStats

    pairs = report["_pairs"]
    arms = [(ArmStats(**a), ArmStats(**b)) for a, b in pairs]
    options = {
        "frequentist": {},
        "bayesian": {"method": "bayesian"},
        "sequential": {"method": "sequential"},
        "cuped": {"cuped": True},
    }
    seconds, results = {}, {}
    for name, kwargs in options.items():
        times = []
        for a, b in arms:
            for _ in range(repeat):
                start = time.perf_counter()
                r = compare(a, b, **kwargs)
                times.append(time.perf_counter() - start)
        seconds[name] = statistics.median(times)
        results[name] = r
    return seconds, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--units", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    data = BENCH / "data"
    data.mkdir(exist_ok=True)
    path = data / f"experiments-{args.units}.duckdb"
    if not path.exists():
        generate(path, args.units)
    keyed(path)
    cli = timed_cli(path, args.runs)
    print(
        f"raw events → verdict by the command line, `mlpilot experiment analyze --json` (a new "
        f"process each): runs {', '.join(f'{t:.2f}' for t in cli)} s; "
        f"median {statistics.median(cli):.2f} s"
    )
    for cuped in (False, True):
        times, report = timed_pipeline(path, args.units, args.runs, cuped)
        label = "with CUPED" if cuped else "plain"
        print(
            f"raw events → verdict, {args.units:,} units × {len(METRICS)} metrics ({label}): "
            f"runs {', '.join(f'{t:.2f}' for t in times)} s; median "
            f"{statistics.median(times):.2f} s; verdict {report['verdict']}"
        )
    for name, runs in timed_keying(path, args.runs).items():
        print(
            f"{name} rows into the store: runs {', '.join(f'{t:.3f}' for t in runs)} s;"
            f" median {statistics.median(runs):.3f} s"
        )
    others, rows = timed_alternatives(path, args.runs)
    for name, label in (("portable", "mlpilot's portable (Ibis) path"), ("duckdb", "hand SQL")):
        print(
            f"engine half only, {label}: runs {', '.join(f'{t:.2f}' for t in others[name])} s; "
            f"median {statistics.median(others[name]):.2f} s"
        )
    # The stats half on the statistics the engine just produced (one pair per metric).
    keys = (
        "n",
        "sum",
        "sum_squares",
        "covariate_sum",
        "covariate_sum_squares",
        "covariate_cross_sum",
    )
    pairs = [[{k: r[k] for k in keys} for r in rows[i : i + 2]] for i in range(0, len(rows), 2)]
    ours, results = stats_half({"_pairs": pairs}, args.repeat)
    python = BENCH / ".venvs" / "gbstats" / "bin" / "python"
    theirs: dict = {}
    if python.exists():
        with tempfile.TemporaryDirectory() as tmp:
            stats_file, out = Path(tmp) / "stats.json", Path(tmp) / "out.json"
            stats_file.write_text(json.dumps(pairs))
            subprocess.run(
                [
                    str(python),
                    str(BENCH / "workers" / "gbstats_experiment.py"),
                    "--stats",
                    str(stats_file),
                    "--out",
                    str(out),
                    "--repeat",
                    str(args.repeat),
                ],
                check=True,
            )
            theirs = json.loads(out.read_text())
    print("stats half, one metric and arm, median µs (mlpilot | gbstats 0.8.0 | ratio):")
    for name, seconds in ours.items():
        gb = theirs.get("seconds", {}).get(name)
        cell = f"{gb * 1e6:8.1f} | {gb / seconds:5.1f}×" if gb else "       - |     -"
        print(f"  {name:12s} {seconds * 1e6:8.1f} | {cell}")
    if theirs:  # the last pair's relative effects must agree
        for name, r in results.items():
            g = theirs["results"][name][-1]
            assert abs(r.effect_rel - g["expected"]) < 1e-9, (name, r.effect_rel, g)
            if name != "sequential":  # mlpilot's relative sequence is Fieller's, valid at small n
                assert abs(r.effect_rel_ci[0] - g["ci"][0]) < 1e-9, (name, r.effect_rel_ci, g)
        print("  gbstats and mlpilot agree on every relative effect and fixed-n interval (1e-9)")
    print(f"machine: {os.cpu_count()} CPUs; python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
