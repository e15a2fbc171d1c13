"""One health view over an initiative's monitor groups, and the alerts it raises.

Each group gives a light — ``ok``, ``warning``, ``failing`` or ``no-data`` — with the criteria
verdicts behind it. :func:`conditions` turns a light into the alert conditions it implies, which
:class:`mlpilot.store.alerts.AlertStore` keeps as one open alert per condition until it clears.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from mlpilot.domain.alerts import AlertChanges, AlertCondition, MonitorGroup, Severity
from mlpilot.domain.charter import Charter
from mlpilot.domain.criteria import Criterion
from mlpilot.domain.metrics import CriterionKind
from mlpilot.engine.windows import parse_window, window_length
from mlpilot.errors import NotFoundError, ValidationError
from mlpilot.monitors.model import drift_windows
from mlpilot.monitors.notify import Notifier
from mlpilot.monitors.readiness import check_data
from mlpilot.monitors.tables import event_tables
from mlpilot.store.alerts import AlertStore
from mlpilot.store.events import PREDICTION_COLUMNS, EventStore

if TYPE_CHECKING:
    from sqlalchemy import Engine

__all__ = ["LIVE_DATA_METRICS", "conditions", "data_health", "impact_health", "record"]

# The data criteria that say something about one window of live features. The others (rows,
# history_days, label_share) describe a training set: 'mlpilot data check' judges those.
LIVE_DATA_METRICS = ("missing_share", "duplicate_share")


def data_health(
    events: EventStore,
    charter: Charter,
    criteria: list[Criterion],
    *,
    reference: str | None = None,
    window: str = "1d",
) -> dict[str, Any]:
    """The data group's light on the latest window of the stored predictions.

    Failing when a declared data criterion on missing or duplicate values
    (:data:`LIVE_DATA_METRICS`) fails on that window's features; warning when a
    feature drifted against the reference (``training`` when there is one, else the first);
    ok otherwise; no-data without predictions.
    """
    slug = charter.slug
    result: dict[str, Any] = {"window": window}
    declared = [
        c for c in criteria if c.kind is CriterionKind.DATA and c.metric in LIVE_DATA_METRICS
    ]
    with event_tables(events, slug) as tables:  # stored, or read where its source lives
        table = tables.get("predictions")
        if table is None:
            return {"status": "no-data", "reason": "no predictions stored"}
        last = table.time.max().to_pyarrow().as_py()
        if last is None:
            return {"status": "no-data", "reason": "no predictions stored"}
        start, end = _window_of(last.astimezone(UTC), window)
        recent = table.filter(table.time >= start)
        features = [c for c in table.columns if c not in PREDICTION_COLUMNS or c == "time"]
        report = check_data(recent.select(features), time_column="time", criteria=declared)
    checks = [c for c in report["checks"] if c["criterion"] is not None]
    result |= {
        "judged_window": start.isoformat(),
        "judged_window_end": end.isoformat(),
        "rows": report["rows"],
        "verdicts": [_check_verdict(c) for c in checks],
        "status": "failing" if any(not c["passed"] for c in checks) else "ok",
    }
    names = [r.name for r in events.references(slug)]
    chosen = reference or ("training" if "training" in names else (names[0] if names else None))
    if chosen is None:
        result["drift"] = None
        return result
    try:
        windows = drift_windows(events, slug, chosen, window=window)["windows"]
    except (ValidationError, NotFoundError) as exc:  # the light stays; say why no drift
        result["drift"] = {"reference": chosen, "error": str(exc)}
        return result
    latest = windows[-1]
    drifted = [c["name"] for c in latest["columns"] if c["drifted"]]
    result["drift"] = {
        "reference": chosen,
        "window": latest["start"],
        "share_drifted": latest["share_drifted"],
        "dataset_drift": latest["dataset_drift"],
        "drifted_columns": drifted,
        "windows_with_drift": sum(
            1 for w in windows if w["dataset_drift"] or any(c["drifted"] for c in w["columns"])
        ),
    }
    if drifted and result["status"] == "ok":
        result["status"] = "warning"
    return result


def impact_health(engine: Engine, slug: str) -> dict[str, Any]:
    """The impact group's light from the latest analysed experiment: ``ok`` when it passes its
    impact criteria, ``failing`` when it fails them (or a guardrail degrades), ``warning``
    while inconclusive, ``no-data`` before any experiment is analysed."""
    from mlpilot.store.experiments import ExperimentStore

    store = ExperimentStore(engine)
    found = store.latest_analysis(slug)
    if found is None:
        return {"status": "no-data", "reason": "no experiment analysed yet"}
    criteria = {c["describe"]: c for c in store.get(slug, found.experiment).criteria}
    rows = {(r["metric"], r["variant"]): r for r in found.results.get("results", [])}
    verdicts = []
    for entry in found.results.get("verdicts", []):
        criterion = criteria.get(entry["criterion"], {})
        # A guardrail's entry names its own metric (and has no target of the criterion's).
        guardrail = entry.get("role") == "guardrail"
        metric = entry.get("metric") or criterion.get("metric", "")
        row = rows.get((metric, entry["variant"]), {})
        relative = guardrail or criterion.get("effect", "relative") != "absolute"
        verdicts.append(
            {
                "key": f"{found.experiment}:{entry['variant']}:{entry['criterion']}"
                + (f":{metric}" if guardrail else ""),
                "criterion_id": criterion.get("id"),
                "criterion": entry["criterion"],
                "metric": metric,
                "variant": entry["variant"],
                "observed": row.get("effect_rel" if relative else "effect_abs"),
                "target": None if guardrail else criterion.get("target"),
                "met": {"pass": True, "fail": False}.get(entry["verdict"]),
                "plan": criterion.get("plan"),
                "reason": entry["reason"],
            }
        )
    status = {"pass": "ok", "fail": "failing"}.get(found.verdict, "warning")
    return {
        "status": status,
        "experiment": found.experiment,
        "verdict": found.verdict,
        "analysed_at": found.at.isoformat(),
        "verdicts": verdicts,
        "summary": f"experiment {found.experiment}: {found.verdict} ({found.results['reason']})",
    }


def conditions(group: MonitorGroup, light: dict[str, Any]) -> list[AlertCondition]:
    """The alert conditions a group's light implies: one per failing criterion verdict, for
    the data group one for drift, for the service group one per SLO rule that holds (its
    ``alerts``). Each carries the criterion's fallback plan."""
    if group is MonitorGroup.SERVICE:
        return [_service_condition(alert) for alert in light.get("alerts", [])]
    start, end = (_time(light.get(k)) for k in ("judged_window", "judged_window_end"))
    found = [
        AlertCondition(
            key=f"{group.value}:{_key(verdict)}",
            group=group,
            criterion=verdict["criterion"],
            metric=verdict["metric"],
            severity=Severity(verdict.get("severity", Severity.TICKET.value)),
            observed=verdict.get("observed"),
            threshold=verdict.get("target"),
            window_start=start,
            window_end=end,
            plan=verdict.get("plan"),
        )
        for verdict in light.get("verdicts", [])
        if verdict.get("met") is False
    ]
    drift = light.get("drift") or {}
    if drift.get("drifted_columns"):
        found.append(
            AlertCondition(
                key=f"{group.value}:drift:{drift['reference']}",
                group=group,
                criterion=f"features do not drift from reference {drift['reference']!r}",
                metric="share_drifted",
                severity=Severity.TICKET if drift["dataset_drift"] else Severity.WARNING,
                observed=drift["share_drifted"],
                window_start=_time(drift["window"]),
                window_end=end,
                details={"drifted_columns": drift["drifted_columns"]},
            )
        )
    return found


def record(
    alerts: AlertStore,
    slug: str,
    lights: dict[str, dict[str, Any]],
    notifiers: list[Notifier],
    now: datetime | None = None,
) -> dict[str, AlertChanges]:
    """Sync each group's conditions into the alert store and tell the notifiers what opened or
    resolved. A group without data is left as it is: it has not seen its conditions clear."""
    changes: dict[str, AlertChanges] = {}
    for name, light in lights.items():
        if light.get("status") == "no-data":
            continue
        group = MonitorGroup(name)
        change = alerts.sync(slug, group, conditions(group, light), now)
        changes[name] = change
        for notifier in notifiers:
            for alert in change.opened:
                notifier.notify("opened", alert)
            for alert in change.resolved:
                notifier.notify("resolved", alert)
    return changes


def _key(verdict: dict[str, Any]) -> str:
    """What tells a verdict's alert apart across runs: its own key, else the criterion."""
    return str(verdict.get("key") or verdict.get("criterion_id") or verdict["criterion"])


def _service_condition(alert: dict[str, Any]) -> AlertCondition:
    from mlpilot.monitors.service_slo import ServiceCondition

    times = {k: datetime.fromisoformat(alert[k]) for k in ("window_start", "window_end")}
    observed = math.inf if alert["observed"] is None else alert["observed"]  # null: infinite
    return ServiceCondition(**(alert | times | {"observed": observed})).to_alert()


def _window_of(last: datetime, window: str) -> tuple[datetime, datetime]:
    """The window (UTC, counted from the epoch like the monitors' buckets) holding ``last``."""
    width = window_length(window)
    epoch = datetime(1970, 1, 5 if "weeks" in parse_window(window) else 1, tzinfo=UTC)
    start = epoch + ((last - epoch) // width) * width
    return start, start + width


def _check_verdict(check: dict[str, Any]) -> dict[str, Any]:
    return {
        "criterion_id": check["criterion_id"],
        "criterion": check["criterion"],
        "metric": check["name"],
        "observed": check["observed"],
        "target": check["threshold"],
        "met": check["passed"],
        "plan": check["plan"],
    }


def _time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)
