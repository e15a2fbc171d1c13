"""mlpilot drift: ``cold`` profiles the reference and compares; ``warm`` passes a stored profile.

The default check: the chi-square test on the reference's bins, with the distances (JS, PSI,
Hellinger) as effect sizes beside it.

``profile`` computes the reference profile and stores it as JSON (the day-after-day case keeps
it in the event store; here a file), for ``warm`` and for the plain DuckDB query.
"""

from __future__ import annotations

import json
import time

from _common import DATA, arguments, finish

args = arguments(("--size", {"default": "1m"}), ("--mode", {"default": "cold"}))
reference = DATA / f"drift_{args.size}_reference.parquet"
current = DATA / f"drift_{args.size}_current.parquet"
profile_path = DATA / f"profile_{args.size}.json"

t0 = time.perf_counter()
from mlpilot.engine import drift as engine  # noqa: E402
from mlpilot.engine.columns import column_kinds  # noqa: E402
from mlpilot.engine.connection import duckdb, table  # noqa: E402
from mlpilot.monitors.drift import compare  # noqa: E402

t1 = time.perf_counter()
result: dict = {"tool": "mlpilot", "mode": args.mode, "size": args.size, "import_s": t1 - t0}

if args.mode == "profile":
    con = duckdb()
    ref = table(reference, con)
    profiles = engine.profile(ref, column_kinds(ref))
    t2 = time.perf_counter()
    profile_path.write_text(json.dumps({k: p.to_json() for k, p in profiles.items()}))
    result |= {"load_s": 0.0, "compute_s": t2 - t1, "seconds": t2 - t1}
    finish(args.out, result)
    raise SystemExit(0)

con = duckdb()
ref = table(reference, con)
cur = table(current, con)
stored = None
if args.mode == "warm":
    data = json.loads(profile_path.read_text())
    stored = {k: engine.ColumnProfile.from_json(v) for k, v in data.items()}
t2 = time.perf_counter()
report = compare(ref, cur, profiles=stored)
t3 = time.perf_counter()


def column(c: object) -> dict:
    keys = ("type", "method", "test", "statistic", "p_value", "adjusted_p_value", "drifted",
            "effect_size", "n_reference", "n_current", "missing_reference",
            "missing_current")  # fmt: skip
    return {key: getattr(c, key) for key in keys}


result |= {
    "load_s": t2 - t1,
    "compute_s": t3 - t2,
    "seconds": t3 - t1,
    "columns": {c.name: column(c) for c in report.columns},
    "dataset_drift": report.dataset_drift,
    "share_drifted": report.share_drifted,
}
finish(args.out, result)
