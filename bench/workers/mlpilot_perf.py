"""mlpilot model performance: ``evaluate`` over Parquet-backed Ibis tables, daily windows."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from _common import DATA, arguments, finish

args = arguments()

t0 = time.perf_counter()
from mlpilot.domain.charter import make_charter  # noqa: E402
from mlpilot.domain.criteria import make_criterion  # noqa: E402
from mlpilot.engine.connection import duckdb, table  # noqa: E402
from mlpilot.monitors.performance import evaluate  # noqa: E402

t1 = time.perf_counter()
charter = make_charter(
    slug="bench", name="bench", problem="benchmark", prediction_use="benchmark",
    task="binary", shape="batch", baseline="always the majority class",
    created_at=datetime(2025, 1, 1, tzinfo=UTC),
)  # fmt: skip
criteria = [
    make_criterion(kind="model", metric="roc_auc", op=">=", target=0.75, task="binary"),
    make_criterion(
        kind="model",
        metric="recall",
        op=">=",
        target=0.5,
        task="binary",
        constraint=("precision", ">=", 0.5),
    ),
]
con = duckdb()
predictions = table(DATA / "perf_predictions.parquet", con)
outcomes = table(DATA / "perf_outcomes.parquet", con)
t2 = time.perf_counter()
report = evaluate(predictions, outcomes, charter=charter, criteria=criteria, window="1d")
t3 = time.perf_counter()
days = {
    w["start"][:10]: {
        "n": w["n"], "labeled": w["labeled"],
        **{k: w["metrics"].get(k) for k in ("roc_auc", "pr_auc", "log_loss", "brier")},
    }
    for w in report["windows"]
}  # fmt: skip
result = {
    "tool": "mlpilot", "import_s": t1 - t0, "load_s": t2 - t1, "compute_s": t3 - t2,
    "seconds": t3 - t1, "days": days,
}  # fmt: skip
finish(args.out, result)
