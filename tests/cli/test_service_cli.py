"""``mlpilot service`` through the real entry point: JSON keys, ``--by``, the SLO section, the
human table, and one-line errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.cli.helpers import Cli, assert_one_line_error, create_args, make_cli

AT = datetime(2026, 3, 4, 0, 0, tzinfo=UTC)
WINDOW_KEYS = {
    "start", "end", "count", "throughput", "error_rate", "latency_p50", "latency_p90",
    "latency_p95", "latency_p99", "latency_max", "complete", "slo", "verdicts", "breaches",
}  # fmt: skip


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    cli = make_cli(capsys, tmp_path, monkeypatch)
    cli.ok("init")
    cli.ok(*create_args("churn"))
    return cli


def log_requests(cli: Cli, tmp_path: Path) -> np.ndarray:
    """Two days of requests, v1 then v2; the last 30 minutes are slow. Returns latencies."""
    rng = np.random.default_rng(4)
    n = 2880
    seconds = np.sort(rng.uniform(0, 2 * 86_400, n))
    times = [AT - timedelta(days=2) + timedelta(seconds=float(s)) for s in seconds]
    latency = np.where(seconds > 2 * 86_400 - 1800, 800.0, rng.gamma(3, 20, n))
    path = tmp_path / "requests.parquet"
    pq.write_table(
        pa.table(
            {
                "request_id": [f"r{i}" for i in range(n)],
                "time": pa.array(times, pa.timestamp("us", "UTC")),
                "model_version": np.where(seconds < 86_400, "v1", "v2"),
                "latency_ms": latency,
                "status": np.where(rng.uniform(size=n) < 0.01, "error", "ok"),
            }
        ),
        path,
    )
    cli.ok("log", "requests", "churn", str(path), "--map", "id=request_id")
    return latency


def test_json_windows_slo_and_alerts(cli, tmp_path):
    latency = log_requests(cli, tmp_path)
    cli.ok("criteria", "add", "churn", "--kind", "service", "--metric", "latency_p99",
           "--op", "<=", "--target", "300", "--plan", "Serve the usage-drop rule")  # fmt: skip
    report = cli.json("service", "churn", "--at", AT.isoformat())
    assert report["window"] == "1h"
    assert report["by"] is None
    windows = report["windows"]
    assert len(windows) == 48
    assert set(windows[0]) == WINDOW_KEYS
    assert sum(w["count"] for w in windows) == latency.size
    assert windows[-1]["latency_max"] == 800.0
    assert windows[-1]["breaches"][0]["plan"] == "Serve the usage-drop rule"
    (objective,) = report["slo"]["objectives"]
    assert objective["sli"] == "latency"
    assert objective["objective"] == 0.99
    assert objective["bad"] == int((latency > 300).sum())
    severities = {a["severity"] for a in report["alerts"]}
    assert "page" in severities
    assert "warning" in severities
    assert all(a["plan"] == "Serve the usage-drop rule" for a in report["alerts"])
    # every alert's observed value is the latency in ms against the 300 ms target; a burn
    # rate is a labelled record of its own
    for alert in report["alerts"]:
        assert (alert["unit"], alert["threshold"]) == ("ms", 300)
        assert alert["observed"] > 300
    (page,) = [a for a in report["alerts"] if a["rule"] == "burn-1h/5m"]
    assert page["burn_rate"]["kind"] == "burn rate"
    assert page["burn_rate"]["window"] == "1h"
    assert page["burn_rate"]["stands_for"] == "1 % of requests may take longer than 300 ms over 30d"
    assert objective["burn_rates"]["1h"]["kind"] == "burn rate"
    assert "99th percentile latency 800 ms over the last 1h" in page["message"]


def test_by_model_version(cli, tmp_path):
    log_requests(cli, tmp_path)
    report = cli.json("service", "churn", "--window", "1d", "--by", "model-version",
                      "--at", AT.isoformat())  # fmt: skip
    assert [(w["start"][:10], w["model_version"]) for w in report["windows"]] == [
        ("2026-03-02", "v1"), ("2026-03-03", "v2")
    ]  # fmt: skip
    assert {"model_version"} | WINDOW_KEYS == set(report["windows"][0])


def test_human_output(cli, tmp_path):
    log_requests(cli, tmp_path)
    cli.ok("criteria", "add", "churn", "--kind", "service", "--metric", "availability",
           "--op", ">=", "--target", "0.95")  # fmt: skip
    cli.ok("criteria", "add", "churn", "--kind", "service", "--metric", "latency_p90",
           "--op", "<=", "--target", "300")  # fmt: skip
    out = cli.ok("service", "churn", "--window", "6h", "--at", AT.isoformat()).out
    assert "p99" in out
    assert "req/s" in out
    assert "availability >= 0.95" in out
    flat = " ".join(out.split())
    assert "burn rate 1h / 6h /" in flat  # the header (its last window may wrap)
    assert "0.0× / 0.1× / 0.2×" in flat
    assert "5 % of requests may fail over 30d" in flat
    assert "burn rate: the bad share over the trailing window ÷ the error budget" in flat
    assert "page above 14.4× over 1h and 5m" in flat
    assert "ticket above 1× over 3d and 6h" in flat
    # the p90 objective's 1 h page is scaled to its 10 % budget, and says so
    assert "latency_p90 <= 300 ms: its budget is too large" in flat
    assert "burn-1h/5m pages above 7.5× (75% of requests bad)" in flat


def test_errors_are_one_line(cli, tmp_path):
    assert_one_line_error(cli("service", "churn"), "no requests stored")
    assert_one_line_error(cli("service", "nope"), "nope")
    log_requests(cli, tmp_path)
    assert_one_line_error(cli("service", "churn", "--by", "region"), "--by model-version")
    assert_one_line_error(cli("service", "churn", "--window", "5x"), "invalid window")
    assert_one_line_error(cli("service", "churn", "--period", "0d"), "invalid window")
    assert_one_line_error(cli("service", "churn", "--at", "2999-01-01"), "in the future")
