"""Service performance: latency, errors and throughput per window, judged against the SLOs.

The engine half (``mlpilot.engine.service``) reduces the requests to per-window counts and
exact quantiles, and to a per-minute count series; :mod:`mlpilot.monitors.service_slo` and
``mlpilot.stats.slo`` turn those into compliance, error budget, burn rates and the alert
conditions that hold at the evaluation time ``now``.

- Windows are buckets of the request time in UTC. Every window from the first request's to the
  last request's appears; one without requests has ``count`` 0, ``throughput`` 0 and null rates
  and latencies (unless that would list more than :data:`MAX_FILLED` windows: then only those
  with requests).
- ``throughput`` is ``count`` over the window's full length, also for the first and last window,
  which the traffic may cover only partly; a window that has not ended at ``now`` (including any
  window of requests timestamped in the future) has ``complete: false``.
- Warnings (severity ``warning``) come from the latest complete window: a service criterion that
  fails there, e.g. ``throughput >= 5`` or ``latency_p99 <= 300`` on that window's quantile.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from mlpilot.domain.charter import Charter
from mlpilot.domain.criteria import Criterion
from mlpilot.domain.metrics import CriterionKind
from mlpilot.engine import service as engine
from mlpilot.engine.windows import window_length
from mlpilot.monitors import service_slo
from mlpilot.monitors.service_slo import ServiceCondition
from mlpilot.monitors.service_windows import LATENCIES, utc, warning, windows
from mlpilot.store.events import EventStore

if TYPE_CHECKING:
    import ibis.expr.types as ir

DEFAULT_PERIOD = "30d"


def evaluate(
    table: ir.Table,
    criteria: list[Criterion],
    *,
    slug: str = "",
    window: str = "1h",
    by_version: bool = False,
    now: datetime | None = None,
    period: str = DEFAULT_PERIOD,
) -> dict[str, Any]:
    """The ``mlpilot service`` report of the requests in ``table`` (see :func:`service_report`);
    ``table`` has ``time`` and ``latency_ms`` and/or ``status`` (any Ibis table)."""
    return assess(
        table, criteria, slug=slug, window=window, by_version=by_version, now=now, period=period
    )[0]


def assess(
    table: ir.Table,
    criteria: list[Criterion],
    *,
    slug: str = "",
    window: str = "1h",
    by_version: bool = False,
    now: datetime | None = None,
    period: str = DEFAULT_PERIOD,
) -> tuple[dict[str, Any], list[ServiceCondition]]:
    """:func:`evaluate`'s report and the conditions holding at ``now`` as records."""
    moment = utc(now or datetime.now(UTC))
    step, span = window_length(window), window_length(period)
    table = table if "_error" in table.columns else engine.normalize(table)
    service = [c for c in criteria if c.kind is CriterionKind.SERVICE]
    found = service_slo.objectives(service)
    bounds = service_slo.thresholds(found)
    overall = windows(
        engine.summarize(table, window, thresholds=bounds), step, moment, service, found, bounds
    )
    shown = overall
    if by_version:
        rows = engine.summarize(table, window, by_version=True, thresholds=bounds)
        shown = windows(rows, step, moment, service, found, bounds, by_version=True)
    objectives: list[dict[str, Any]] = []
    conditions: list[ServiceCondition] = []
    if found:  # the per-minute series only serves the SLOs
        start = moment - span - timedelta(seconds=service_slo.LEAD_SECONDS)
        series = engine.series(
            table, start, moment, thresholds=bounds, step_seconds=service_slo.STEP_SECONDS
        )
        objectives, conditions = service_slo.evaluate(
            slug, found, bounds, series, span, _latency_of(table)
        )
    judged = next((w for w in reversed(overall) if w["complete"]), None)
    if judged is not None:
        conditions += [
            warning(slug, c, judged, v)
            for c, v in zip(service, judged["verdicts"], strict=True)
            if v["met"] is False
        ]
    return {
        "slug": slug,
        "window": window,
        "by": "model-version" if by_version else None,
        "now": moment.isoformat(),
        "windows": shown,
        "judged_window": None if judged is None else judged["start"],
        "slo": {
            "period": period,
            "start": (moment - span).isoformat(),
            "end": moment.isoformat(),
            "objectives": objectives,
        },
        "alerts": [c.to_dict() for c in conditions],
    }, conditions


def _latency_of(table: ir.Table) -> service_slo.LatencyOf:
    """A latency SLO's percentile over an alert's window, one engine query per window (only
    for the conditions that hold)."""
    spans: dict[tuple[datetime, datetime], dict[str, float | None]] = {}

    def latency_of(metric: str, start: datetime, end: datetime) -> float | None:
        if (start, end) not in spans:
            spans[start, end] = engine.span_latency(table, start, end)
        return spans[start, end][metric]

    return latency_of


def statistics(
    table: ir.Table, window: str = "1h", *, by_version: bool = False, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Only the windows' statistics (no criteria, no SLOs) of any Ibis table of requests."""
    table = table if "_error" in table.columns else engine.normalize(table)
    rows = engine.summarize(table, window, by_version=by_version)
    moment = utc(now or datetime.now(UTC))
    return windows(rows, window_length(window), moment, [], [], [], by_version=by_version)


def service_report(
    events: EventStore,
    slug: str,
    criteria: list[Criterion],
    *,
    window: str = "1h",
    by_version: bool = False,
    now: datetime | None = None,
    period: str = DEFAULT_PERIOD,
) -> dict[str, Any] | None:
    """The report on ``slug``'s stored requests (and predictions carrying a latency or status),
    JSON-ready; None when none are stored. Keys: ``windows``, ``judged_window``, ``slo``
    (``objectives`` over the period ending ``now``), ``alerts`` (conditions holding now)."""
    with _requests(events, slug) as table:
        if table is None:
            return None
        return evaluate(
            table, criteria, slug=slug, window=window, by_version=by_version, now=now,
            period=period,
        )  # fmt: skip


def alert_conditions(
    events: EventStore,
    slug: str,
    criteria: list[Criterion],
    *,
    window: str = "1h",
    now: datetime | None = None,
    period: str = DEFAULT_PERIOD,
) -> list[ServiceCondition]:
    """The service conditions that hold at ``now`` (none without stored requests)."""
    with _requests(events, slug) as table:
        if table is None:
            return []
        return assess(table, criteria, slug=slug, window=window, now=now, period=period)[1]


def health(
    events: EventStore,
    charter: Charter,
    criteria: list[Criterion],
    *,
    window: str = "1h",
    now: datetime | None = None,
    period: str = DEFAULT_PERIOD,
) -> dict[str, Any]:
    """The service group's light: ``failing`` (a page or ticket condition holds), ``warning``
    (a criterion fails in the latest complete window), ``ok``, or ``no-data`` (no requests
    stored, or none in the period and no complete window), with the evidence.

    ``verdicts`` has one entry per service criterion; a failing one carries the ``severity``,
    ``rule`` and ``message`` of its most severe condition (page, then ticket, then warning),
    its ``observed`` metric over that condition's window (``unit``, ``window_start``,
    ``window_end``) against the criterion's ``target``, and its labelled ``burn_rate`` or
    ``budget_left``.
    """
    report = service_report(events, charter.slug, criteria, window=window, now=now, period=period)
    if report is None:
        return {"status": "no-data", "reason": "no requests stored"}
    judged = next((w for w in report["windows"] if w["start"] == report["judged_window"]), None)
    objectives = report["slo"]["objectives"]
    if judged is None and not any(o["total"] for o in objectives):
        return {"status": "no-data", "reason": f"no request in the last {period}", "window": window}
    severities = {a["severity"] for a in report["alerts"]}
    status = "failing" if severities & {"page", "ticket"} else "warning" if severities else "ok"
    metrics = {}
    if judged is not None:
        metrics = {k: judged[k] for k in ("count", "throughput", "error_rate", *LATENCIES)}
    service = [c for c in criteria if c.kind is CriterionKind.SERVICE]
    return {
        "status": status,
        "window": window,
        "judged_window": report["judged_window"],
        "judged_window_end": None if judged is None else judged["end"],
        "metrics": metrics,
        "verdicts": [_worst(c, judged, report["alerts"]) for c in service],
        "slo": [
            {k: o[k] for k in ("criterion_id", "criterion", "compliance", "met", "budget_left")}
            for o in objectives
        ],
        "alerts": report["alerts"],
    }


def _worst(
    criterion: Criterion, judged: dict[str, Any] | None, alerts: list[dict[str, Any]]
) -> dict[str, Any]:
    """The criterion's verdict in the judged window, replaced by its most severe condition."""
    text = criterion.describe()
    verdict = next((v for v in (judged or {}).get("verdicts", []) if v["criterion"] == text), None)
    base = verdict or criterion.verdict(None, "no complete window")
    mine = [a for a in alerts if a["criterion"] == text and a["criterion_id"] == criterion.id]
    if not mine:
        return base
    worst = max(mine, key=lambda a: _RANK[a["severity"]])
    keys = ("severity", "rule", "observed", "unit", "window_start", "window_end", "message",
            "burn_rate", "budget_left")  # fmt: skip
    return base | {"met": False, "target": worst["threshold"]} | {k: worst[k] for k in keys}


_RANK = {"warning": 0, "ticket": 1, "page": 2}


@contextmanager
def _requests(events: EventStore, slug: str) -> Iterator[ir.Table | None]:
    """Requests and predictions carrying a latency or status, from their sources or the store
    (:mod:`mlpilot.monitors.tables`); None when there are neither."""
    from mlpilot.monitors.tables import event_tables, same_engine

    with event_tables(events, slug) as tables:
        requests, predictions = tables.get("requests"), tables.get("predictions")
        if requests is not None and predictions is not None:
            if tables.source("requests") is not None and tables.source("predictions") is None:
                predictions = None  # requests from a source: those are the service's
            else:
                same_engine(requests, predictions)
        yield engine.requests(requests, predictions)
