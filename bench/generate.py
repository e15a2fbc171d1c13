"""Generate the benchmark data once (seeded) into bench/data/ as Parquet.

Drift (``drift_{size}_reference.parquet`` / ``drift_{size}_current.parquet``): 20 columns,
``n0``..``n14`` float64 (several distribution shapes, 0.5 % NaN in ``n3``) and ``c0``..``c4``
strings with about 8 categories (0.5 % NULL in ``c4``). The current data shifts ``n0`` (mean
+0.5 sd), ``n1`` (scale x1.5), ``n2`` (a small +0.05 sd shift) and ``c0`` (category shares),
and adds a category the reference never saw to ``c1``; the other 15 columns are drawn from the
same distributions as the reference.

Performance (``perf_predictions.parquet`` / ``perf_outcomes.parquet``): binary predictions with
float scores over 60 days, one per entity; outcomes (0/1 labels) for 70 % of the entities,
arriving 1 to 5 days after the prediction.

    python bench/generate.py [--drift 1000000 10000000] [--perf 10000000] [--force]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

DATA = Path(__file__).resolve().parent / "data"
CHUNK = 1_000_000
N_NUMERIC = 15
N_CATEGORICAL = 5
CATEGORIES = [f"cat_{k}" for k in range(8)]
BASE_SHARES = np.array([0.30, 0.20, 0.15, 0.10, 0.10, 0.07, 0.05, 0.03])
SHIFTED_SHARES = np.array([0.22, 0.24, 0.15, 0.12, 0.10, 0.07, 0.06, 0.04])
START = np.datetime64("2025-01-01T00:00:00", "us")
DAYS = 60
US_PER_DAY = 86_400 * 1_000_000


def drift_path(size: int, side: str) -> Path:
    return DATA / f"drift_{_label(size)}_{side}.parquet"


def perf_paths() -> tuple[Path, Path]:
    return DATA / "perf_predictions.parquet", DATA / "perf_outcomes.parquet"


def _label(size: int) -> str:
    return f"{size // 1_000_000}m" if size % 1_000_000 == 0 else str(size)


def _numeric(rng: np.random.Generator, j: int, n: int, current: bool) -> np.ndarray:
    shape = j % 5
    if shape == 0:
        x = rng.normal(10.0 * j, 1.0 + j, n)
    elif shape == 1:
        x = rng.lognormal(1.0, 0.75, n)
    elif shape == 2:
        x = rng.uniform(-5.0, 5.0, n)
    elif shape == 3:
        x = rng.gamma(2.0, 3.0, n)
    else:
        x = rng.exponential(2.0, n)
    if current and j == 0:  # mean + 0.5 sd
        x = x + 0.5 * 1.0
    if current and j == 1:  # scale x1.5 around the median
        x = np.median(x) + (x - np.median(x)) * 1.5
    if current and j == 2:  # +0.05 sd: small, should not drift at js >= 0.1
        x = x + 0.05 * 10 / np.sqrt(12)
    if j == 3:
        x[rng.random(n) < 0.005] = np.nan
    return x


def _categorical(rng: np.random.Generator, k: int, n: int, current: bool) -> pa.Array:
    shares = SHIFTED_SHARES if current and k == 0 else BASE_SHARES
    codes = rng.choice(len(CATEGORIES), size=n, p=shares)
    values = np.array(CATEGORIES, dtype=object)[codes]
    if current and k == 1:  # a category the reference never saw, 2 % of rows
        values[rng.random(n) < 0.02] = "cat_new"
    mask = rng.random(n) < 0.005 if k == 4 else None
    return pa.array(values, type=pa.string(), mask=mask)


def write_drift(size: int, force: bool = False) -> None:
    for side, seed in (("reference", 1), ("current", 2)):
        path = drift_path(size, side)
        if path.exists() and not force:
            continue
        started = time.perf_counter()
        rng = np.random.default_rng([seed, size])
        tmp = path.with_suffix(".tmp")
        writer = None
        for offset in range(0, size, CHUNK):
            n = min(CHUNK, size - offset)
            current = side == "current"
            columns = {f"n{j}": pa.array(_numeric(rng, j, n, current)) for j in range(N_NUMERIC)}
            columns |= {f"c{k}": _categorical(rng, k, n, current) for k in range(N_CATEGORICAL)}
            batch = pa.table(columns)
            if writer is None:
                writer = pq.ParquetWriter(tmp, batch.schema)
            writer.write_table(batch, row_group_size=CHUNK)
        assert writer is not None
        writer.close()
        tmp.rename(path)
        print(f"  wrote {path.name} in {time.perf_counter() - started:.1f} s", flush=True)


def write_perf(size: int, force: bool = False) -> None:
    predictions, outcomes = perf_paths()
    if predictions.exists() and outcomes.exists() and not force:
        return
    started = time.perf_counter()
    rng = np.random.default_rng([3, size])
    pred_writer = out_writer = None
    for offset in range(0, size, CHUNK):
        n = min(CHUNK, size - offset)
        entity = np.arange(offset, offset + n, dtype=np.int64)
        when = START + rng.integers(0, DAYS * US_PER_DAY, n).astype("timedelta64[us]")
        day = (when - START).astype("timedelta64[D]").astype(np.int64)
        # The model slowly degrades over the 60 days: less signal in the score.
        logit = rng.normal(-1.0, 1.5, n)
        label = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int64)
        signal = 1.0 - 0.6 * day / DAYS
        score = 1 / (1 + np.exp(-(signal * logit + rng.normal(0.0, 1.0, n))))
        pred = pa.table(
            {
                "entity_id": entity,
                "time": pa.array(when, type=pa.timestamp("us", tz="UTC")),
                "score": score,
            }
        )
        keep = rng.random(n) < 0.7
        delay = rng.integers(1 * US_PER_DAY, 5 * US_PER_DAY + 1, n).astype("timedelta64[us]")
        out = pa.table(
            {
                "entity_id": entity[keep],
                "time": pa.array((when + delay)[keep], type=pa.timestamp("us", tz="UTC")),
                "label": label[keep],
            }
        )
        if pred_writer is None:
            pred_writer = pq.ParquetWriter(predictions.with_suffix(".tmp"), pred.schema)
            out_writer = pq.ParquetWriter(outcomes.with_suffix(".tmp"), out.schema)
        pred_writer.write_table(pred, row_group_size=CHUNK)
        assert out_writer is not None
        out_writer.write_table(out, row_group_size=CHUNK)
    assert pred_writer is not None
    assert out_writer is not None
    pred_writer.close()
    out_writer.close()
    predictions.with_suffix(".tmp").rename(predictions)
    outcomes.with_suffix(".tmp").rename(outcomes)
    print(f"  wrote {predictions.name}, {outcomes.name} in {time.perf_counter() - started:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drift", type=int, nargs="*", default=[1_000_000, 10_000_000])
    parser.add_argument("--perf", type=int, default=10_000_000)
    parser.add_argument("--force", action="store_true", help="rewrite existing files")
    args = parser.parse_args()
    DATA.mkdir(exist_ok=True)
    for size in args.drift:
        write_drift(size, args.force)
    if args.perf:
        write_perf(args.perf, args.force)


if __name__ == "__main__":
    main()
