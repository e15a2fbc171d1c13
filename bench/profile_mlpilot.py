"""Where mlpilot's time goes: imports, each engine query, Ibis compilation, Python around them.

    python bench/profile_mlpilot.py [--size 1m] [--perf] [--cprofile N] [--repeat 3]

Times each phase of a cold drift comparison (and, with ``--perf``, each query of the
performance monitor) in-process, and splits the whole under cProfile into time spent executing
in DuckDB versus compiling Ibis expressions versus the rest. Run it on an idle machine.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
from pathlib import Path

started = time.perf_counter()
DATA = Path(__file__).resolve().parent / "data"


REPEAT = 3


def stopwatch(label: str, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    """The fastest of REPEAT calls (robust to other processes on a shared machine)."""
    times = []
    for _ in range(REPEAT):
        t = time.perf_counter()
        value = fn(*args, **kwargs)
        times.append(time.perf_counter() - t)
    print(f"  {label:<44} {min(times):7.3f} s  (min of {REPEAT}; max {max(times):.3f})")
    return value


def split(stats: pstats.Stats, total: float) -> None:
    """DuckDB execution (C calls into the duckdb module), Ibis compilation, the rest."""
    raw = stats.stats  # type: ignore[attr-defined]
    execute = sum(
        tt for (file, _, name), (_, _, tt, _, _) in raw.items()
        if file == "~" and "duckdb" in name.lower()
    )  # fmt: skip
    compile_ = max(
        (ct for (file, _, name), (_, _, _, ct, _) in raw.items()
         if name in ("compile", "to_sqlglot") and "ibis" in file),
        default=0.0,
    )  # fmt: skip
    print(f"  inside DuckDB (C calls)                      {execute:7.3f} s")
    print(f"  Ibis compile (largest compile/to_sqlglot)    {compile_:7.3f} s (cumulative)")
    print(f"  everything else (Python)                     {total - execute:7.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="1m")
    parser.add_argument("--perf", action="store_true")
    parser.add_argument("--cprofile", type=int, default=15, help="top N functions by cumtime")
    parser.add_argument("--repeat", type=int, default=3, help="calls per phase (min is shown)")
    args = parser.parse_args()
    global REPEAT
    REPEAT = args.repeat

    t = time.perf_counter()
    import ibis

    from mlpilot.engine import drift as engine
    from mlpilot.engine.columns import column_kinds
    from mlpilot.engine.connection import duckdb, table
    from mlpilot.monitors.drift import compare

    print(f"imports (ibis, mlpilot drift): {time.perf_counter() - t:.3f} s")

    reference = DATA / f"drift_{args.size}_reference.parquet"
    current = DATA / f"drift_{args.size}_current.parquet"
    print(f"\ncold drift {args.size}, phase by phase:")
    con = stopwatch("connect", duckdb)
    ref = stopwatch("table(reference)", table, reference, con)
    cur = stopwatch("table(current)", table, current, con)
    kinds = stopwatch("column_kinds", column_kinds, ref)
    numeric = {n: k for n, k in kinds.items() if k == "numeric"}
    categorical = [n for n, k in kinds.items() if k == "categorical"]
    profiles = stopwatch("profile (all three queries)", engine.profile, ref, kinds)
    stopwatch("  numeric only (deciles agg + bins agg)", engine.profile, ref, numeric)
    numeric_profiles = {n: p for n, p in profiles.items() if p.kind == "numeric"}
    stopwatch("  reference bins agg alone", engine.histograms, ref, numeric_profiles)
    stopwatch("  categories alone (pivot + group-by)", engine.profile, ref,
              {n: kinds[n] for n in categorical})  # fmt: skip
    stopwatch("histograms(current)", engine.histograms, cur, profiles)
    stopwatch("compare(ref, cur) cold, all together", compare, ref, cur)
    stopwatch("compare(ref, cur, profiles=) warm", compare, ref, cur, profiles=profiles)
    sql = ibis.to_sql(cur.aggregate(**engine.histogram_metrics(cur, profiles)))
    print(f"  current-histogram SQL: {len(sql):,} characters")

    profiler = cProfile.Profile()
    t = time.perf_counter()
    profiler.enable()
    compare(ref, cur)
    profiler.disable()
    total = time.perf_counter() - t
    print(f"\ncProfile of compare() cold ({total:.3f} s under the profiler):")
    stats_ = pstats.Stats(profiler)
    split(stats_, total)
    stats_.sort_stats("cumulative").print_stats(args.cprofile)

    if args.perf:
        from mlpilot.engine import performance as perf

        print("\nperformance monitor, query by query (10M predictions):")
        predictions = table(DATA / "perf_predictions.parquet", con)
        outcomes = table(DATA / "perf_outcomes.parquet", con)
        data = perf.joined(predictions, outcomes)
        stopwatch("totals (sums, delay median, calibration)", perf.totals, data, "1d", "binary",
                  0.5)  # fmt: skip
        stopwatch("ranking (group by window, score + windows)", perf.ranking, data, "1d")
        print("\ncutting 10M TIMESTAMPTZ values into days (count per window):")
        import ibis as ib

        times = predictions.time
        for label, window in (
            ("time_bucket on TIMESTAMPTZ (as now)", times.bucket(days=1)),
            ("cast to TIMESTAMP, then time_bucket", times.cast("timestamp").bucket(days=1)),
            ("epoch seconds // 86400", times.epoch_seconds() // 86400),
        ):
            grouped = predictions.mutate(w=window).group_by("w").aggregate(n=ib._.count())
            stopwatch(label, grouped.to_pyarrow)
    print(f"\nwhole script: {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
