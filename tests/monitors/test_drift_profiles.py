"""A reference profile stored by an older mlpilot (format 1: deciles only, ±inf in the end bins)
is profiled again from the stored reference table, once; the judgement never runs on it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

import mlpilot
from mlpilot.engine import drift as drift_engine
from mlpilot.monitors import model

T0 = datetime(2026, 3, 2, tzinfo=UTC)


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[mlpilot.Workspace]:
    workspace = mlpilot.Workspace.open(tmp_path / "ws")
    try:
        yield workspace
    finally:
        workspace.close()


def frame(rng: np.random.Generator, n: int) -> dict[str, Any]:
    return {"usage": rng.normal(size=n), "plan": rng.choice(["basic", "premium"], n).tolist()}


def test_an_old_format_profile_is_profiled_again(ws: mlpilot.Workspace) -> None:
    churn = ws.create_initiative(
        "churn", name="Churn", problem="Subscribers leave", prediction_use="Retention calls",
        task="binary", shape="batch", baseline="Usage drop rule",
    )  # fmt: skip
    rng = np.random.default_rng(1)
    n = 600
    predictions = pa.table(
        {
            "id": [f"p{i}" for i in range(n)],
            "entity_id": [f"e{i}" for i in range(n)],
            "time": pa.array(
                [T0 + timedelta(hours=int(h)) for h in rng.integers(0, 72, n)],
                pa.timestamp("us", "UTC"),
            ),
            "score": rng.uniform(size=n),
            **frame(rng, n),
        }
    )
    churn.log_predictions(predictions)
    churn.add_reference("training", pa.table(frame(rng, 2_000)))
    fresh = churn.drift("training")
    old = {
        "columns": [
            {"name": "usage", "kind": "numeric", "count": 2000, "missing": 0,
             "bins": [1000, 1000], "edges": [0.0], "categories": [], "mean": 0.0, "std": 1.0},
            {"name": "plan", "kind": "categorical", "count": 2000, "missing": 0,
             "bins": [1000, 1000, 0], "edges": [], "categories": ["basic", "premium"],
             "mean": None, "std": None},
        ]
    }  # fmt: skip
    ws.events.save_summary("churn", "training", model.PROFILE_KEY, old)
    assert churn.drift("training") == fresh
    saved = ws.events.load_summary("churn", "training", model.PROFILE_KEY)
    assert saved is not None
    assert {c["format"] for c in saved["columns"]} == {drift_engine.PROFILE_FORMAT}
