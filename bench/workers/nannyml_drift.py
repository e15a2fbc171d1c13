"""NannyML: ``UnivariateDriftCalculator`` with Jensen–Shannon for every column, one chunk.

Fit on the reference, calculate on the current data (pandas frames read from the same Parquet).
Run with NML_DISABLE_USAGE_LOGGING=1. With one chunk NannyML's own alert thresholds (derived
from the spread over reference chunks) are degenerate, so only the distances are kept.
"""

from __future__ import annotations

import time
import warnings

from _common import DATA, arguments, finish

args = arguments(("--size", {"default": "1m"}))
reference = DATA / f"drift_{args.size}_reference.parquet"
current = DATA / f"drift_{args.size}_current.parquet"

t0 = time.perf_counter()
import nannyml as nml  # noqa: E402
import pandas as pd  # noqa: E402

t1 = time.perf_counter()
warnings.filterwarnings("ignore", message="The resulting number of chunks is too low")
ref = pd.read_parquet(reference)
cur = pd.read_parquet(current)
t2 = time.perf_counter()
names = list(ref.columns)
calculator = nml.UnivariateDriftCalculator(
    column_names=names,
    continuous_methods=["jensen_shannon"],
    categorical_methods=["jensen_shannon"],
    chunk_number=1,
)
calculator.fit(ref)
frame = calculator.calculate(cur).to_df()
t3 = time.perf_counter()

analysis = frame[frame[("chunk", "chunk", "period")] == "analysis"].iloc[0]
columns = {
    name: {
        "method": "jensen_shannon",
        "statistic": float(analysis[(name, "jensen_shannon", "value")]),
        "type": "continuous" if name in calculator.continuous_column_names else "categorical",
    }
    for name in names
}
result = {
    "tool": "nannyml", "size": args.size, "version": nml.__version__, "pandas": pd.__version__,
    "import_s": t1 - t0, "load_s": t2 - t1, "compute_s": t3 - t2, "seconds": t3 - t1,
    "columns": columns,
}  # fmt: skip
finish(args.out, result)
