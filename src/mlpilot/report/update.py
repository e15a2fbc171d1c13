"""The stakeholder update: one page that tells the truth about an initiative.

:func:`build_update` gathers, from what is stored, where the initiative is and how it got there
(the timeline with its loops and their causes), the delivery forecast as a range, the two
uncertainties with their trend, the monitors' health and open alerts, the decisions and learnings
since the last update, and what the team needs from its network. A section whose evidence is
missing says so (``missing``) instead of failing the page. :mod:`mlpilot.report.markdown` and
:mod:`mlpilot.report.html` render it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from mlpilot.domain import lifecycle
from mlpilot.errors import MlpilotError
from mlpilot.report.status import charter_dict, decision_dict, learning_dict, transition_dict

if TYPE_CHECKING:
    from mlpilot.workspace import Initiative

__all__ = ["DEFAULT_SINCE_DAYS", "build_update"]

DEFAULT_SINCE_DAYS = 30  # "since the last update" when no --since is given
HISTOGRAM_BINS = 30


def _forecast(initiative: Initiative, now: datetime, trials: int) -> dict[str, Any]:
    import numpy as np

    result = initiative.forecast(as_of=now, trials=trials)
    data = result.to_dict()
    sim = result.simulation
    if sim is not None:
        days = sim.days[np.isfinite(sim.days)]
        if days.size:
            # The last 1 % would stretch the axis over years: it is left out of the chart.
            top = float(np.quantile(days, 0.99))
            counts, edges = np.histogram(days[days <= top], bins=HISTOGRAM_BINS, range=(0, top))
            data["histogram"] = {
                "start": [(now + timedelta(days=float(e))).isoformat() for e in edges[:-1]],
                "end": [(now + timedelta(days=float(e))).isoformat() for e in edges[1:]],
                "share": [float(c) / sim.days.size for c in counts],
            }
    return data


def _section(missing: list[str], what: str, build: Any) -> Any:
    """Run one section's builder; a monitoring or data problem becomes a line in ``missing``."""
    try:
        return build()
    except MlpilotError as exc:
        missing.append(f"{what}: {exc}")
        return None


def _network(initiative: Initiative) -> dict[str, Any]:
    cover = initiative.coverage()
    workspace = initiative.workspace
    asks = []
    for role in [*cover.missing_roles, *cover.single_points]:
        need = role.value.replace("-", " ")
        matches = workspace.who_can_help(need, limit=3)
        asks.append({"need": need, "allies": [m.ally.person for m in matches if m.score > 0]})
    consultations = [
        {"at": c.at.isoformat(), "person": c.person, "need": c.need, "outcome": c.outcome}
        for c in workspace.consultations()
        if c.initiative == initiative.slug
    ]
    return {
        "missing_roles": [r.value for r in cover.missing_roles],
        "single_points": [r.value for r in cover.single_points],
        "asks": asks,
        "consultations": consultations,
    }


def build_update(
    initiative: Initiative,
    *,
    since: datetime | None = None,
    now: datetime,
    trials: int = 10_000,
) -> dict[str, Any]:
    """Everything the stakeholder update shows, computed at ``now`` (nothing is stored)."""
    since = since or now - timedelta(days=DEFAULT_SINCE_DAYS)
    charter, log = initiative.charter, initiative.history()
    missing: list[str] = []
    visits = [
        {"phase": v.phase.value, "start": v.start.isoformat(), "end": (v.end or now).isoformat()}
        for v in lifecycle.visits(log)
    ]
    loops = lifecycle.loops(log)
    forecast = _section(missing, "forecast", lambda: _forecast(initiative, now, trials))
    feasibility = initiative.feasibility()
    if not initiative.evaluations():
        missing.append("feasibility: no offline evaluation recorded ('mlpilot evaluate')")
    uncertainty = initiative.uncertainty()
    for kind in ("model", "impact"):
        if uncertainty[kind] is None:
            missing.append(f"{kind} uncertainty: never recorded")
    health = _section(missing, "monitors", lambda: _health(initiative, now))
    if health is not None and all(g.get("status") == "no-data" for g in health.values()):
        missing.append("monitors: no monitoring data yet")
    alerts = _section(missing, "alerts", lambda: _alerts(initiative))
    decisions = [decision_dict(d) for d in initiative.decisions() if d.at >= since]
    learnings = [learning_dict(item) for item in initiative.learnings() if item.at >= since]
    return {
        **charter_dict(charter),
        "as_of": now.isoformat(),
        "since": since.isoformat(),
        "phase": log[-1].to_phase.value,
        "started_at": log[0].at.isoformat(),
        "timeline": [transition_dict(t) for t in log],
        "visits": visits,
        "loops": len(loops),
        "loops_by_cause": {c.value: n for c, n in lifecycle.loops_by_cause(log).items()},
        "forecast": forecast,
        "feasibility": feasibility,
        "uncertainty": uncertainty,
        "monitors": health,
        "alerts": alerts,
        "decisions": decisions,
        "learnings": learnings,
        "network": _section(missing, "network", lambda: _network(initiative)),
        "missing": missing,
    }


def _health(initiative: Initiative, now: datetime) -> dict[str, Any]:
    health = getattr(initiative, "health", None)
    if health is not None:
        return dict(health(now=now))  # the lights at the update's time, as its alerts
    return {"model": initiative.model_health()}  # type: ignore[attr-defined]  # older facade


_RANK = {"warning": 0, "ticket": 1, "page": 2}


def _alerts(initiative: Initiative) -> list[dict[str, Any]]:
    """The open alerts, one row per group and criterion: a service criterion can hold several
    conditions at once (pages, tickets, a spent budget, a failing window), which would read as
    identical rows. A row has the worst ``severity``, the earliest ``first_seen`` and ``holds``:
    what each condition says, worst first."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for alert in sorted(
        (a.to_dict() for a in initiative.alerts(open_only=True)),
        key=lambda a: -_RANK.get(a["severity"], 0),
    ):
        held = f"{alert['severity']}: {_what(alert)}"
        row = rows.setdefault((alert["group"], alert["criterion"]), alert | {"holds": []})
        row["first_seen"] = min(row["first_seen"], alert["first_seen"])
        if held not in row["holds"]:
            row["holds"].append(held)
    return list(rows.values())


def _what(alert: dict[str, Any]) -> str:
    summary = (alert.get("details") or {}).get("summary")
    if summary:
        return str(summary)
    observed = alert.get("observed")
    return "failing" if observed is None else f"observed {observed:.4g}"
