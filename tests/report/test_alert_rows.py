"""The stakeholder update's open alerts: one row per criterion, saying what holds.

A latency incident sets off several service conditions for one criterion at once (two pages,
the 3-day ticket, the spent budget, the failing window): the report listed each as its own row,
and the rows read the same ("service | latency_p99 <= 300 ms | ticket | … ")."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

import mlpilot
from mlpilot.report.html import to_html
from mlpilot.report.markdown import to_markdown
from mlpilot.report.update import build_update

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def update(tmp_path: Path) -> Iterator[dict[str, Any]]:
    ws = mlpilot.Workspace.open(tmp_path / "ws")  # the rows do not depend on the store
    churn = ws.create_initiative(
        "churn", name="Churn", problem="p", prediction_use="u", task="binary",
        shape="online-api", baseline="b",
    )  # fmt: skip
    churn.add_criterion("service", "latency_p99", "<=", 300, plan="roll back")
    rng = np.random.default_rng(5)
    seconds = np.arange(1.0, 4 * 86_400, 60.0)
    latency = rng.lognormal(np.log(70), 0.3, seconds.size)
    latency[(seconds < 8 * 3600) & (rng.uniform(size=seconds.size) < 0.2)] = 900.0
    times = [NOW - timedelta(seconds=float(s)) for s in seconds]
    churn.log_requests(
        pa.table(
            {
                "id": [f"r{i}" for i in range(seconds.size)],
                "time": pa.array(times, pa.timestamp("us", "UTC")),
                "latency_ms": latency,
            }
        )
    )
    churn.monitor(now=NOW, notifiers=[])
    assert len(churn.alerts(open_only=True)) >= 3  # several conditions of one criterion
    yield build_update(churn, now=NOW, trials=200)
    ws.close()


def test_one_row_per_criterion_with_what_holds(update):
    assert update["monitors"]["service"]["status"] == "failing"  # the light agrees
    (row,) = update["alerts"]
    assert (row["criterion"], row["severity"]) == ("latency_p99 <= 300 ms", "page")
    holds = " ".join(row["holds"])
    assert "burn rate" in holds
    assert "error budget" in holds
    assert len(row["holds"]) == len(set(row["holds"])) >= 3
    markdown = to_markdown(update)
    rows = [line for line in markdown.splitlines() if line.startswith("| service |")]
    assert len(rows) == 1
    assert "burn rate" in rows[0]
    page = to_html(update)
    assert page.count("<td>latency_p99 &lt;= 300 ms</td>") == 1
