"""What users would otherwise do: pandas in memory and scikit-learn per day.

Load both Parquet files, keep each entity's latest outcome, left-join it to the predictions,
group the labeled rows by UTC day, and compute ROC AUC, average precision, log loss and Brier.
"""

from __future__ import annotations

import time

from _common import DATA, arguments, finish

args = arguments()

t0 = time.perf_counter()
import pandas as pd  # noqa: E402
import sklearn  # noqa: E402
from sklearn.metrics import (  # noqa: E402
    average_precision_score,
    brier_score_loss,
    log_loss,
    roc_auc_score,
)

t1 = time.perf_counter()
predictions = pd.read_parquet(DATA / "perf_predictions.parquet")
outcomes = pd.read_parquet(DATA / "perf_outcomes.parquet")
t2 = time.perf_counter()
latest = outcomes.sort_values("time").drop_duplicates("entity_id", keep="last")
joined = predictions.merge(
    latest[["entity_id", "label"]], on="entity_id", how="left", validate="many_to_one"
)
joined["day"] = joined["time"].dt.floor("D")
counts = joined.groupby("day").agg(n=("entity_id", "size"), labeled=("label", "count"))
days = {}
for day, group in joined.dropna(subset=["label"]).groupby("day"):
    y, p = group["label"].to_numpy(), group["score"].to_numpy()
    days[day.strftime("%Y-%m-%d")] = {
        "n": int(counts.loc[day, "n"]), "labeled": int(counts.loc[day, "labeled"]),
        "roc_auc": roc_auc_score(y, p), "pr_auc": average_precision_score(y, p),
        "log_loss": log_loss(y, p, labels=[0, 1]), "brier": brier_score_loss(y, p),
    }  # fmt: skip
t3 = time.perf_counter()
result = {
    "tool": "scikit-learn", "version": sklearn.__version__, "pandas": pd.__version__,
    "import_s": t1 - t0, "load_s": t2 - t1, "compute_s": t3 - t2, "seconds": t3 - t1,
    "days": days,
}  # fmt: skip
finish(args.out, result)
