"""Small adversarial Parquet files that both engines read (the same bytes on both sides)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def utc(values: list[datetime]) -> pa.Array:
    return pa.array(values, pa.timestamp("us", "UTC"))


def predictions(folder: Path, task: str, seed: int = 5, n: int = 400) -> tuple[str, str]:
    """Predictions over four days and outcomes that arrive late: day 3 has no label at all
    (an empty window for the metrics), day 2 only positives; scores tie heavily."""
    rng = np.random.default_rng(seed)
    day = rng.integers(0, 4, n)
    times = [
        T0 + timedelta(days=int(d), seconds=float(s))
        for d, s in zip(day, rng.uniform(0, 86_399, n), strict=True)
    ]
    entities = [f"e{i}" for i in range(n)]
    columns: dict[str, object] = {
        "id": [f"p{i}" for i in range(n)],
        "time": utc(times),
        "entity_id": entities,
        "model_version": rng.choice(["v1", "v2"], n).tolist(),
    }
    labeled = day != 3
    if task == "binary":
        label = rng.integers(0, 2, n)
        label[day == 2] = 1
        score = np.clip(0.3 * label + rng.uniform(0, 0.7, n), 0, 1).round(2)  # ties
        score[:3] = [0.0, 1.0, 0.5]
        columns["score"] = score
        labels = label.astype(float)
    elif task == "multiclass":
        label = rng.choice(["a", "b", "c"], n)
        guess = np.where(rng.random(n) < 0.6, label, rng.choice(["a", "b", "d"], n))
        columns["prediction"] = guess.tolist()
        labels = label
    else:
        y = rng.normal(10, 3, n).round(1)
        y[:4] = 0.0  # MAPE's guard against division by zero
        columns["prediction"] = y + rng.normal(0, 1, n)
        labels = y
    outcome_times = [
        t + timedelta(hours=float(h)) for t, h in zip(times, rng.uniform(1, 60, n), strict=True)
    ]
    keep = np.flatnonzero(labeled)
    outcomes = {
        "entity_id": [entities[i] for i in keep],
        "time": utc([outcome_times[i] for i in keep]),
        "label": pa.array([labels[i] for i in keep])
        if task != "multiclass"
        else [str(labels[i]) for i in keep],
    }
    pred_path, out_path = (
        folder / f"{task}-predictions.parquet",
        folder / f"{task}-outcomes.parquet",
    )
    pq.write_table(pa.table(columns), pred_path)
    pq.write_table(pa.table(outcomes), out_path)
    return str(pred_path), str(out_path)


def requests(folder: Path, seed: int = 6, n: int = 600) -> str:
    """Requests over three days: latencies with ties and NULLs, errors by status or class."""
    rng = np.random.default_rng(seed)
    latency = rng.exponential(80, n).round(1)
    latency[::17] = 100.0  # ties at an SLO bound
    lat = pa.array([None if i % 23 == 0 else float(v) for i, v in enumerate(latency)], pa.float64())
    status = rng.choice(["ok", "ok", "ok", "error"], n).astype(object)
    status[::29] = None
    table = pa.table(
        {
            "id": [f"r{i}" for i in range(n)],
            "time": utc([T0 + timedelta(seconds=float(s)) for s in rng.uniform(0, 3 * 86_400, n)]),
            "latency_ms": lat,
            "status": pa.array(status.tolist(), pa.string()),
            "error_class": pa.array(
                [("Timeout" if i % 31 == 0 else None) for i in range(n)], pa.string()
            ),
            "model_version": rng.choice(["v1", "v2"], n).tolist(),
        }
    )
    path = folder / "requests.parquet"
    pq.write_table(table, path)
    return str(path)


def readiness(folder: Path, seed: int = 7, n: int = 300) -> tuple[str, str]:
    rng = np.random.default_rng(seed)

    def frame(rows: int, shift: float, cities: list[str]) -> pa.Table:
        x = rng.normal(shift, 1, rows)
        x[:4] = [math.nan, math.inf, -math.inf, math.nan]
        n_rows = rows
        return pa.table(
            {
                "time": utc([T0 + timedelta(days=int(d)) for d in rng.integers(0, 40, n_rows)]),
                "x": x,
                "ties": rng.integers(0, 3, n_rows),
                "constant": ["same"] * n_rows,
                "empty": pa.array([None] * n_rows, pa.float64()),
                "city": pa.array(
                    [None if i % 11 == 0 else str(rng.choice(cities)) for i in range(n_rows)]
                ),
                "amount": [
                    str(v) if i % 7 else "n/a" for i, v in enumerate(rng.integers(1, 50, n_rows))
                ],
                "y": rng.choice([0, 1], n_rows, p=[0.9, 0.1]),
            }
        )

    data, reference = folder / "data.parquet", folder / "reference.parquet"
    table = frame(n, 0.5, ["paris", "lyon", "nice"])
    pq.write_table(pa.concat_tables([table, table.slice(0, 5)]), data)  # 5 duplicate rows
    pq.write_table(frame(n, 0.0, ["paris", "lyon"]), reference)
    return str(data), str(reference)


def experiment(
    folder: Path, seed: int = 9, units: int = 200, events: int = 1200
) -> tuple[str, str]:
    rng = np.random.default_rng(seed)
    ids = [f"u{i}" for i in range(units)]
    variant = rng.choice(["control", "treatment"], units).astype(object)
    times = [T0 + timedelta(hours=int(h)) for h in rng.integers(0, 72, units)]
    # A few units exposed twice, four of them to the other variant (mixed).
    again = list(range(12))
    other = {i: ("treatment" if variant[i] == "control" else "control") for i in again[:4]}
    exposures = pa.table(
        {
            "unit_id": ids + [ids[i] for i in again],
            "experiment": ["exp"] * (units + len(again)),
            "variant": variant.tolist() + [other.get(i, variant[i]) for i in again],
            "time": utc(times + [times[i] + timedelta(hours=5) for i in again]),
        }
    )
    metric_events = pa.table(
        {
            "unit_id": rng.choice([*ids, "stranger"], events).tolist(),
            "metric": rng.choice(["revenue", "orders", "visits"], events).tolist(),
            "value": rng.gamma(2, 10, events).round(2),
            "time": utc(
                [T0 + timedelta(hours=int(h)) for h in rng.integers(-40 * 24, 10 * 24, events)]
            ),
        }
    )
    a, b = folder / "exposures.parquet", folder / "metric_events.parquet"
    pq.write_table(exposures, a)
    pq.write_table(metric_events, b)
    return str(a), str(b)
