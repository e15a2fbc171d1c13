"""``monitors.service``: windows, SLOs over the period and the alert conditions, on Ibis tables
and on an initiative's event store. Expectations come from numpy on the rows."""

from __future__ import annotations

import functools
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

import mlpilot
from mlpilot.domain.alerts import Alert, MonitorGroup, Severity
from mlpilot.domain.criteria import Criterion, make_criterion
from mlpilot.engine.connection import duckdb, table
from mlpilot.monitors import service
from mlpilot.monitors.notify import describe
from mlpilot.monitors.service_slo import objectives
from mlpilot.stats import slo

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@functools.cache
def _connection() -> Any:
    con = duckdb()
    con.raw_sql("SET threads = 1")
    return con


def crit(metric: str, op: str, target: float, plan: str | None = None, id: int = 0) -> Criterion:
    c = make_criterion(kind="service", metric=metric, op=op, target=target, plan=plan)
    return Criterion(**{**c.__dict__, "id": id or None})


def requests(seconds: Any, latency: Any, errors: Any = None, version: Any = None) -> pa.Table:
    """Requests ``seconds`` before NOW (negative: after NOW)."""
    n = len(seconds)
    errors = np.zeros(n, bool) if errors is None else np.asarray(errors, bool)
    columns = {
        "time": pa.array(
            [NOW - timedelta(seconds=float(s)) for s in seconds], pa.timestamp("us", "UTC")
        ),
        "latency_ms": pa.array(np.asarray(latency, float)),
        "status": pa.array(np.where(errors, "error", "ok")),
    }
    if version is not None:
        columns["model_version"] = pa.array(version)
    return pa.table(columns)


def evaluate(data: pa.Table, criteria: list[Criterion], **options: Any) -> dict[str, Any]:
    return service.evaluate(
        table(data, _connection()), criteria, slug="svc", now=options.pop("now", NOW), **options
    )


def test_which_criteria_are_slos():
    found = objectives(
        [
            crit("availability", ">=", 0.999),
            crit("error_rate", "<", 0.01),
            crit("latency_p99", "<=", 300),
            crit("latency_p95", "<", 200),
            crit("throughput", ">=", 5),
            crit("latency_p50", ">=", 10),  # points the other way: per window only
        ]
    )
    assert [(o.criterion.metric, o.sli) for o in found] == [
        ("availability", "availability"), ("error_rate", "availability"),
        ("latency_p99", "latency"), ("latency_p95", "latency"),
    ]  # fmt: skip
    assert [o.objective for o in found] == pytest.approx([0.999, 0.99, 0.99, 0.95])
    assert found[2].threshold.inclusive
    assert not found[3].threshold.inclusive


def test_windows_rates_and_slo_counts_match_numpy():
    rng = np.random.default_rng(8)
    n = 4000
    seconds = rng.uniform(0, 2 * 86_400, n)
    latency = rng.lognormal(4.5, 0.7, n)
    errors = rng.uniform(size=n) < 0.02
    criteria = [crit("latency_p99", "<=", 250, id=1), crit("availability", ">=", 0.99, id=2)]
    report = evaluate(requests(seconds, latency, errors), criteria)
    windows = report["windows"]
    assert len(windows) == 48 or len(windows) == 49
    for w in windows:
        start = datetime.fromisoformat(w["start"])
        ago = (NOW - start).total_seconds()
        mask = (seconds <= ago) & (seconds > ago - 3600)
        assert w["count"] == mask.sum()
        assert w["throughput"] == pytest.approx(mask.sum() / 3600)
        assert w["error_rate"] == pytest.approx(errors[mask].mean())
        assert w["latency_p90"] == pytest.approx(np.quantile(latency[mask], 0.9), rel=1e-12)
        assert w["slo"][0]["compliance"] == pytest.approx((latency[mask] <= 250).mean())
        assert w["slo"][1]["compliance"] == pytest.approx(1 - errors[mask].mean())
        assert w["complete"]
    latency_slo, availability = report["slo"]["objectives"]
    assert latency_slo["total"] == n
    assert latency_slo["bad"] == (latency > 250).sum()
    assert availability["budget_left"] == pytest.approx(1 - errors.mean() / 0.01)
    last_hour = seconds < 3600
    burn = availability["burn_rates"]["1h"]
    assert burn["value"] == pytest.approx(errors[last_hour].mean() / 0.01)
    assert (burn["kind"], burn["window"], burn["error_budget"]) == ("burn rate", "1h", 0.01)
    assert burn["stands_for"] == "1 % of requests may fail over 30d"
    assert latency_slo["stands_for"] == "1 % of requests may take longer than 250 ms over 30d"


def test_empty_windows_appear_with_zero_count_and_null_rates():
    report = evaluate(requests([10, 5 * 3600 + 10], [5.0, 7.0]), [crit("throughput", ">=", 1)])
    counts = [w["count"] for w in report["windows"]]
    assert counts == [1, 0, 0, 0, 0, 1]
    empty = report["windows"][1]
    assert empty["throughput"] == 0.0
    assert empty["error_rate"] is None
    assert empty["latency_p50"] is None
    assert empty["latency_max"] is None
    assert empty["verdicts"][0]["met"] is False  # no traffic fails a throughput criterion


def test_a_window_in_progress_and_future_requests_are_not_complete_or_judged():
    data = requests([-7200, 1800, 4000], [1.0, 2.0, 3.0])  # one request 2 h in the future
    report = evaluate(data, [crit("throughput", ">=", 10)], now=NOW + timedelta(minutes=30))
    complete = {w["start"][11:16]: w["complete"] for w in report["windows"]}
    assert complete == {"10:00": True, "11:00": True, "12:00": False, "13:00": False,
                        "14:00": False}  # fmt: skip
    assert report["judged_window"].startswith("2026-03-10T11:00")
    in_progress = report["windows"][2]["verdicts"][0]
    assert in_progress["met"] is None
    assert "not ended" in in_progress["note"]
    assert report["slo"]["objectives"] == []


def test_a_latency_incident_pages_and_the_condition_carries_the_plan():
    minutes = np.arange(0, 6 * 60, 1 / 10)  # 10 requests a minute for 6 hours
    latency = np.where(minutes < 20, 900.0, 50.0)  # the last 20 minutes are slow
    criteria = [crit("latency_p99", "<=", 300, plan="Serve the rules engine", id=7)]
    data = requests(minutes * 60, latency)
    report = evaluate(data, criteria)
    (objective,) = report["slo"]["objectives"]
    assert objective["burn_rates"]["5m"]["value"] == pytest.approx(100.0)
    pages = [a for a in report["alerts"] if a["severity"] == "page"]
    assert [a["rule"] for a in pages] == ["burn-1h/5m"]
    page = pages[0]
    assert page["plan"] == "Serve the rules engine"
    assert page["criterion_id"] == 7
    last_hour = (minutes > 0) & (minutes <= 60)  # the window [NOW - 1 h, NOW)
    # the observed value is the metric: the hour's p99 latency in ms, against the 300 ms target
    assert (page["observed"], page["unit"], page["threshold"]) == (
        pytest.approx(np.quantile(latency[last_hour], 0.99), rel=1e-12),
        "ms",
        300,
    )
    # the burn rate is a separate, labelled field
    assert page["burn_rate"] == {
        "kind": "burn rate", "window": "1h",
        "value": pytest.approx((latency[last_hour] > 300).mean() / 0.01),
        "short_window": "5m", "short_value": pytest.approx(100.0),
        "alert_at": 14.4, "workbook_rate": 14.4, "error_budget": 0.01, "period": "30d",
        "stands_for": "1 % of requests may take longer than 300 ms over 30d",
    }  # fmt: skip
    assert f"burn rate {page['burn_rate']['value']:.1f}× over 1h" in page["message"]
    assert "99th percentile latency 900 ms over the last 1h" in page["message"]
    assert page["window_end"] == NOW.isoformat()
    episodes = [e for e in objective["alerts"] if e["severity"] == "page"]
    assert len(episodes) == 1
    assert episodes[0]["end"] is None
    started = datetime.fromisoformat(episodes[0]["start"]) - (NOW - timedelta(minutes=20))
    # all slow on a 99 % SLO: 14.4x over an hour needs 8.64 minutes of it
    delay = slo.detection_seconds(slo.PAGE, 0.99, 1.0)
    assert started == timedelta(minutes=math.ceil(delay / 60)) == timedelta(minutes=9)
    _, conditions = service.assess(table(data, _connection()), criteria, slug="svc", now=NOW)
    condition = conditions[0].to_alert()
    assert condition.group is MonitorGroup.SERVICE
    assert condition.severity is Severity.PAGE
    assert condition.key == "service:7:burn-1h/5m"
    line = describe("opened", Alert(1, "svc", condition, NOW, NOW, None))
    assert "observed 900 ms; burn rate of the 1 % error budget " in line
    assert "over 1h and 100.0× over 5m (page above 14.4×)" in line


def test_an_incident_that_ended_has_a_closed_episode_and_no_condition():
    minutes = np.arange(0, 6 * 60, 1 / 10)
    errors = (minutes >= 60) & (minutes < 70)  # ten minutes of errors, an hour ago
    report = evaluate(
        requests(minutes * 60, np.ones(minutes.size), errors),
        [crit("availability", ">=", 0.99, id=1)],
    )
    episodes = report["slo"]["objectives"][0]["alerts"]
    assert {e["severity"] for e in episodes} == {"page", "ticket"}
    assert all(e["end"] is not None for e in episodes if e["severity"] == "page")
    ended = datetime.fromisoformat([e for e in episodes if e["severity"] == "page"][-1]["end"])
    assert NOW - timedelta(minutes=60) < ended <= NOW - timedelta(minutes=55)
    # no page holds now; 100 errors in 3600 requests spent the 1 % budget of the period, and
    # burnt it at 2.8x over the last 3 days and 6 hours: a ticket
    assert [(a["rule"], a["severity"]) for a in report["alerts"]] == [
        ("burn-3d/6h", "ticket"), ("budget", "ticket")
    ]  # fmt: skip
    ticket = report["alerts"][0]
    assert ticket["observed"] == pytest.approx(1 - 100 / 3599)  # availability, not a rate
    assert ticket["burn_rate"]["value"] == pytest.approx((100 / 3599) / 0.01)


def test_a_spent_budget_is_a_ticket():
    seconds = np.arange(0, 86_400, 60.0)
    errors = np.zeros(seconds.size, bool)
    errors[(seconds > 20 * 3600)] = True  # errors a day ago: no burn now, budget spent
    report = evaluate(requests(seconds, np.ones(seconds.size), errors),
                      [crit("error_rate", "<=", 0.01, id=3)])  # fmt: skip
    rules = {a["rule"]: a for a in report["alerts"]}
    assert set(rules) == {"budget"}
    assert rules["budget"]["severity"] == "ticket"
    in_period = seconds > 0  # the request at NOW is past the period's end
    assert rules["budget"]["observed"] == pytest.approx(errors[in_period].mean())  # error rate
    assert rules["budget"]["threshold"] == 0.01
    left = rules["budget"]["budget_left"]
    assert (left["kind"], left["period"]) == ("error budget left", "30d")
    assert left["value"] == pytest.approx(1 - errors[in_period].mean() / 0.01)


def test_by_version_fills_windows_per_version():
    data = requests([10, 20, 7300], [1.0, 2.0, 3.0], version=["v1", "v2", "v1"])
    report = evaluate(data, [], by_version=True)
    assert report["by"] == "model-version"
    assert [(w["start"][11:13], w["model_version"], w["count"]) for w in report["windows"]] == [
        ("09", "v1", 1), ("10", "v1", 0), ("11", "v1", 1), ("11", "v2", 1)
    ]  # fmt: skip


# On the event store ---------------------------------------------------------------------------


@pytest.fixture
def initiative(tmp_path: Path) -> Any:
    ws = mlpilot.Workspace.open(tmp_path / "ws")
    churn = ws.create_initiative(
        "churn", name="Churn", problem="p", prediction_use="u", task="binary",
        shape="online-api", baseline="b",
    )  # fmt: skip
    yield churn
    ws.close()


def test_no_requests_is_no_data(initiative):
    charter = initiative.charter
    light = service.health(initiative.workspace.events, charter, initiative.criteria())
    assert light["status"] == "no-data"
    with pytest.raises(mlpilot.NotFoundError, match="no requests stored"):
        initiative.service()


def test_mixed_zones_and_predictions_through_the_store(initiative):
    initiative.add_criterion(kind="service", metric="latency_p99", op="<=", target=100)
    initiative.log_requests(
        pa.table(
            {
                "id": ["a", "b", "c"],
                # the same UTC hour written in three zones
                "time": [
                    "2026-03-10T10:05:00Z",
                    "2026-03-10T12:10:00+02:00",
                    "2026-03-10T05:20:00-05:00",
                ],
                "latency_ms": [10.0, 20.0, 30.0],
            }
        )
    )
    initiative.log_predictions(
        pa.table(
            {
                "id": ["p1", "p2"],
                "time": ["2026-03-10T10:30:00Z", "2026-03-10T10:40:00Z"],
                "score": [0.2, 0.4],
                "latency_ms": [40.0, None],
                "status": ["error", None],
            }
        )
    )
    report = initiative.service(at=NOW)
    (window,) = report["windows"]
    assert window["start"] == "2026-03-10T10:00:00+00:00"
    assert window["count"] == 4
    assert window["error_rate"] == 0.25
    assert window["latency_p50"] == pytest.approx(np.quantile([10, 20, 30, 40], 0.5))
    light = service.health(
        initiative.workspace.events, initiative.charter, initiative.criteria(), now=NOW
    )
    assert light["status"] == "ok"
    assert light["judged_window"] == window["start"]
    assert light["verdicts"][0]["met"] is True
    assert initiative.service_alerts(at=NOW) == []
    assert initiative.slo(at=NOW)["objectives"][0]["compliance"] == 1.0


def test_health_is_failing_with_the_worst_condition_per_criterion(initiative):
    initiative.add_criterion(kind="service", metric="availability", op=">=", target=0.999,
                             plan="Roll back")  # fmt: skip
    seconds = np.arange(0, 3 * 3600, 6.0)
    errors = seconds < 600  # the last ten minutes fail
    data = requests(seconds, np.ones(seconds.size), errors)
    ids = pa.array([f"r{i}" for i in range(seconds.size)])
    initiative.log_requests(data.append_column("id", ids))
    events, charter, criteria = (
        initiative.workspace.events,
        initiative.charter,
        initiative.criteria(),
    )
    light = service.health(events, charter, criteria, now=NOW)
    assert light["status"] == "failing"
    (verdict,) = light["verdicts"]
    assert verdict["met"] is False
    assert verdict["severity"] == "page"
    assert verdict["plan"] == "Roll back"
    assert verdict["rule"] == "burn-1h/5m"
    last_hour = (seconds > 0) & (seconds <= 3600)
    # the verdict's observed value is the availability over the hour, against its target
    assert verdict["observed"] == pytest.approx(1 - errors[last_hour].mean())
    assert verdict["target"] == 0.999
    assert verdict["burn_rate"]["kind"] == "burn rate"
    assert verdict["burn_rate"]["value"] == pytest.approx(errors[last_hour].mean() / 0.001)
    conditions = service.alert_conditions(events, "churn", criteria, now=NOW)
    assert {c.rule for c in conditions} >= {"burn-1h/5m"}
    calm = service.health(events, charter, criteria, now=NOW + timedelta(hours=8))
    # the page has cleared; the period's budget stays spent (10 failing minutes of 3 hours),
    # and the latest complete window with requests still fails
    assert {a["rule"] for a in calm["alerts"]} == {"budget", "window"}
    assert calm["status"] == "failing"
    assert calm["verdicts"][0]["severity"] == "ticket"


def test_the_demo_incident_pages_and_then_clears():
    from mlpilot.demo_service import generate

    data = generate(NOW)
    criteria = [crit("latency_p99", "<=", 300, plan="Serve cached scores", id=1)]
    during = evaluate(data.requests, criteria, now=data.incident_start + timedelta(minutes=35))
    assert "page" in {a["severity"] for a in during["alerts"]}
    after = evaluate(data.requests, criteria)
    assert after["alerts"] == []
    (objective,) = after["slo"]["objectives"]
    (episode,) = objective["alerts"]
    assert data.incident_start < datetime.fromisoformat(episode["start"]) < data.incident_end
    ended = datetime.fromisoformat(episode["end"])
    assert data.incident_end < ended <= data.incident_end + timedelta(minutes=5)
    assert 0 < objective["budget_left"] < 1


def test_weekly_windows_start_on_monday_and_gaps_are_filled():
    # NOW is a Tuesday; requests 1 and 3 weeks before it
    report = evaluate(requests([7 * 86_400, 21 * 86_400], [5.0, 6.0]), [], window="1w")
    starts = [datetime.fromisoformat(w["start"]) for w in report["windows"]]
    assert [s.weekday() for s in starts] == [0, 0, 0]
    assert [w["count"] for w in report["windows"]] == [1, 0, 1]
    assert report["windows"][0]["throughput"] == pytest.approx(1 / (7 * 86_400))


def test_a_perfect_availability_objective_has_no_budget():
    seconds = np.arange(0, 3600, 10.0)
    errors = seconds == 100.0  # one error, 100 s ago
    report = evaluate(
        requests(seconds, np.ones(seconds.size), errors), [crit("availability", ">=", 1.0, id=1)]
    )
    (objective,) = report["slo"]["objectives"]
    assert objective["error_budget"] == 0.0
    assert objective["budget_left"] is None  # -inf, which JSON cannot hold
    assert objective["burn_rates"]["5m"]["value"] is None
    rules = {a["rule"] for a in report["alerts"]}
    assert {"burn-1h/5m", "budget"} <= rules


def test_burn_rates_and_conditions_match_an_independent_recomputation():
    """Every burn rate, rule and observed value recomputed with numpy from the raw requests."""
    rng = np.random.default_rng(20260514)
    seconds = rng.uniform(0, 4 * 86_400, 40_000)  # four days before NOW
    latency = rng.lognormal(np.log(80), 0.5, seconds.size)
    incident = seconds < 58 * 60  # the last 58 minutes: 90 % of requests slow, 20 % errors
    latency[incident & (rng.uniform(size=seconds.size) < 0.9)] = 1200.0
    errors = rng.uniform(size=seconds.size) < np.where(incident, 0.2, 0.001)
    criteria = [
        crit("latency_p99", "<=", 300, id=1), crit("latency_p90", "<=", 300, id=2),
        crit("latency_p50", "<=", 300, id=3), crit("availability", ">=", 0.999, id=4),
    ]  # fmt: skip
    report = evaluate(requests(seconds, latency, errors), criteria)
    by_id = {o["criterion_id"]: o for o in report["slo"]["objectives"]}
    alerts = {(a["criterion_id"], a["rule"]): a for a in report["alerts"] if a["rule"] != "window"}

    def window(span: float) -> np.ndarray:
        return (seconds > 0) & (seconds <= span)  # [NOW - span, NOW)

    spans = {"5m": 300, "30m": 1800, "1h": 3600, "6h": 21_600, "3d": 259_200}
    for cid, bad, budget, metric in [
        (1, latency > 300, 0.01, lambda m: np.quantile(latency[m], 0.99)),
        (2, latency > 300, 0.1, lambda m: np.quantile(latency[m], 0.9)),
        (3, latency > 300, 0.5, lambda m: np.quantile(latency[m], 0.5)),
        (4, errors, 0.001, lambda m: 1 - errors[m].mean()),
    ]:
        burn = {name: bad[window(span)].mean() / budget for name, span in spans.items()}
        got = by_id[cid]["burn_rates"]
        for name, value in burn.items():
            assert got[name]["value"] == pytest.approx(value, rel=1e-9), (cid, name)
        assert by_id[cid]["budget_left"] == pytest.approx(
            1 - bad[window(4 * 86_400)].mean() / budget
        )
        for rule in slo.RULES:
            threshold = min(rule.rate, max(1.0, 0.75 / budget))
            long, short = (burn[slo.span_name(s)] for s in (rule.long_s, rule.short_s))
            holds = long > threshold and short > threshold
            assert ((cid, rule.name) in alerts) == holds, (cid, rule.name, long, short)
            if holds:
                alert = alerts[(cid, rule.name)]
                assert alert["observed"] == pytest.approx(metric(window(rule.long_s)), rel=1e-12)
                assert alert["burn_rate"]["alert_at"] == pytest.approx(threshold)
    # the incident pages every objective: the p99 and availability at the workbook's 14.4x,
    # the p90 and p50 at their scaled rates (more than 75 % of the hour's requests slow)
    paged = {cid for (cid, rule), a in alerts.items() if a["severity"] == "page"}
    assert paged == {1, 2, 3, 4}


@pytest.mark.parametrize(("metric", "quantile"), [("latency_p90", 0.9), ("latency_p50", 0.5)])
def test_a_large_budget_objective_pages_when_fully_breached_and_is_quiet_when_healthy(
    metric, quantile
):
    rng = np.random.default_rng(7)
    seconds = np.arange(1.0, 4 * 86_400, 20.0)
    healthy = rng.lognormal(np.log(100), 0.3, seconds.size)  # p90 about 147 ms, p50 100 ms
    criteria = [crit(metric, "<=", 300, id=1)]
    calm = evaluate(requests(seconds, healthy), criteria)
    assert calm["alerts"] == []
    (objective,) = calm["slo"]["objectives"]
    page = next(r for r in objective["rules"] if r["rule"] == "burn-1h/5m")
    assert page["scaled"]
    assert page["alert_at"] == pytest.approx(0.75 / (1 - quantile))
    assert page["workbook_rate"] == 14.4
    breached = np.where(seconds < 2 * 3600, 900.0, healthy)  # the last two hours all slow
    report = evaluate(requests(seconds, breached), criteria)
    pages = [a for a in report["alerts"] if a["severity"] == "page"]
    assert "burn-1h/5m" in {a["rule"] for a in pages}
    assert all(a["observed"] == 900.0 and a["unit"] == "ms" for a in pages)
