"""Service windows: engine rows with empty windows filled in, rates, SLO compliance, verdicts.

See :mod:`mlpilot.monitors.service` for what the windows mean.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from mlpilot.domain.criteria import Criterion
from mlpilot.engine import service as engine
from mlpilot.monitors import service_slo
from mlpilot.monitors.service_slo import Objective, ServiceCondition

# Filling more empty windows than this (e.g. a stray timestamp years away) lists only the
# windows with requests.
MAX_FILLED = 100_000
LATENCIES = (*engine.QUANTILE_NAMES, "latency_max")


def utc(value: datetime) -> datetime:
    """An aware UTC time (a naive one is read as UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def windows(
    rows: list[dict[str, Any]],
    step: timedelta,
    now: datetime,
    criteria: list[Criterion],
    found: list[Objective],
    bounds: list[engine.Threshold],
    *,
    by_version: bool = False,
) -> list[dict[str, Any]]:
    """Rows of the engine, empty windows filled in per version, with rates and verdicts.

    A window is ``complete`` once it has ended at ``now``.
    """
    groups: dict[str | None, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row.get("model_version"), []).append(row)
    result = []
    for version, group in groups.items():
        for row in _filled(group, step):
            start = utc(row["start"])
            out: dict[str, Any] = {"start": start.isoformat(), "end": (start + step).isoformat()}
            if by_version:
                out["model_version"] = version
            result.append(out | _measures(row, step, start + step <= now, criteria, found, bounds))
    return sorted(result, key=lambda w: (w["start"], w.get("model_version") or ""))


def _filled(group: list[dict[str, Any]], step: timedelta) -> Iterator[dict[str, Any]]:
    first, last = group[0]["start"], group[-1]["start"]
    if (last - first) / step >= MAX_FILLED:
        yield from group
        return
    by_start = {row["start"]: row for row in group}
    at = first
    while at <= last:
        yield by_start.get(at) or {"start": at, "count": 0, "errors": 0, "timed": 0,
                                   "over": [0] * len(group[0]["over"])}  # fmt: skip
        at += step


def _measures(
    row: dict[str, Any],
    step: timedelta,
    complete: bool,
    criteria: list[Criterion],
    found: list[Objective],
    bounds: list[engine.Threshold],
) -> dict[str, Any]:
    count, errors = row["count"], row["errors"]
    metrics: dict[str, Any] = {
        "count": count,
        "throughput": count / step.total_seconds(),
        "error_rate": errors / count if count else None,
        **{name: row.get(name) for name in LATENCIES},
        "complete": complete,
    }
    compliance = []
    for o in found:
        good, total = service_slo.good_and_total(
            o, count, errors, row["timed"], row["over"], bounds
        )
        compliance.append(
            {
                "criterion_id": o.criterion.id,
                "metric": o.criterion.metric,
                "compliance": good / total if total else None,
                "met": service_slo.met(o, good, total),
            }
        )
    verdicts = [_verdict(c, metrics) for c in criteria]
    return metrics | {
        "slo": compliance,
        "verdicts": verdicts,
        "breaches": [v for v in verdicts if v["met"] is False],
    }


def _verdict(criterion: Criterion, metrics: dict[str, Any]) -> dict[str, Any]:
    error_rate = metrics["error_rate"]
    observed = {
        "availability": None if error_rate is None else 1.0 - error_rate,
        "error_rate": error_rate,
        "throughput": metrics["throughput"],
    }.get(criterion.metric, metrics.get(criterion.metric))
    note = None
    if observed is None:
        note = "no request in this window" if not metrics["count"] else "no latency recorded"
    elif criterion.metric == "throughput" and not metrics["complete"]:
        observed, note = None, "the window has not ended: its throughput is not final"
    return criterion.verdict(observed, note)


def warning(
    slug: str, criterion: Criterion, window: dict[str, Any], verdict: dict[str, Any]
) -> ServiceCondition:
    """The warning a criterion failing in a complete window raises."""
    unit = "ms" if criterion.metric in LATENCIES else None
    shown = f"{verdict['observed']:.6g}" + (f" {unit}" if unit else "")
    return ServiceCondition(
        initiative=slug, group="service", criterion_id=criterion.id,
        criterion=verdict["criterion"], metric=criterion.metric, rule="window",
        severity="warning", window_start=datetime.fromisoformat(window["start"]),
        window_end=datetime.fromisoformat(window["end"]), observed=verdict["observed"],
        threshold=criterion.target, plan=criterion.plan, unit=unit,
        summary=f"{criterion.metric} {shown} in the window from {window['start'][:16]}",
        message=(
            f"{verdict['criterion']}: {criterion.metric} {shown} in the window from "
            f"{window['start']}"
        ),
    )  # fmt: skip
