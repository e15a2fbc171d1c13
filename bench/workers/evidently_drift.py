"""Evidently 0.7: ``Report([DataDriftPreset()])`` on pandas frames read from the same Parquet.

Its default per-column methods apply (for more than 1,000 rows: Wasserstein distance, normed,
for numeric columns and Jensen–Shannon distance for categorical ones, both at 0.1).
"""

from __future__ import annotations

import time

from _common import DATA, arguments, finish

args = arguments(("--size", {"default": "1m"}))
reference = DATA / f"drift_{args.size}_reference.parquet"
current = DATA / f"drift_{args.size}_current.parquet"

t0 = time.perf_counter()
import evidently  # noqa: E402
import pandas as pd  # noqa: E402
from evidently import Report  # noqa: E402
from evidently.presets import DataDriftPreset  # noqa: E402

t1 = time.perf_counter()
ref = pd.read_parquet(reference)
cur = pd.read_parquet(current)
t2 = time.perf_counter()
snapshot = Report([DataDriftPreset()]).run(current_data=cur, reference_data=ref)
summary = snapshot.dict()
t3 = time.perf_counter()

columns = {}
dataset = None
for metric in summary["metrics"]:
    config = metric.get("config", {})
    kind = config.get("type", "")
    if kind.endswith("ValueDrift"):
        columns[config["column"]] = {
            "method": config.get("method"),
            "threshold": config.get("threshold"),
            "statistic": metric["value"],
        }
    elif kind.endswith("DriftedColumnsCount"):
        dataset = metric["value"]
for test in summary.get("tests", []) or []:
    name = str(test.get("metric_config", {}).get("params", {}).get("column", ""))
    if name in columns:
        columns[name]["test_status"] = test.get("status")
for info in columns.values():  # Evidently's rule: a distance drifts at or above its threshold
    if isinstance(info["statistic"], (int, float)) and info["threshold"] is not None:
        info["drifted"] = bool(info["statistic"] >= info["threshold"])
result = {
    "tool": "evidently", "size": args.size, "version": evidently.__version__,
    "pandas": pd.__version__, "import_s": t1 - t0, "load_s": t2 - t1, "compute_s": t3 - t2,
    "seconds": t3 - t1, "columns": columns, "dataset": dataset,
}  # fmt: skip
finish(args.out, result)
