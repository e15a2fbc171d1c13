"""What the dashboard's pages show, gathered from the facade as plain data (no web framework
here, so each function is testable without a server or a browser).

The portfolio reuses :class:`mlpilot.report.status.StatusReport` (phase, lights, uncertainties);
the initiative page reuses the stakeholder update (:func:`mlpilot.report.update.build_update`:
timeline, forecast, uncertainties, health, alerts, network) and adds the criteria, the team and
one tab per monitor group (:mod:`mlpilot.server.views_monitors`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from mlpilot.domain.charter import Status
from mlpilot.domain.criteria import Criterion
from mlpilot.domain.decisions import Verdict
from mlpilot.domain.lifecycle import Cause, Phase
from mlpilot.report import labels
from mlpilot.report.status import coverage_dict, criterion_dict, member_dict
from mlpilot.server import charts
from mlpilot.server.views_monitors import data_tab, impact_tab, model_tab, service_tab

if TYPE_CHECKING:
    from mlpilot.workspace import Workspace

__all__ = ["GROUPS", "LIGHT_LABELS", "initiative_page", "portfolio"]

GROUPS = ("model", "data", "service", "impact")
LIGHT_LABELS = {"ok": "ok", "warning": "warning", "failing": "failing", "no-data": "no data"}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # "since the beginning" for the stakeholder update
FORECAST_TRIALS = 4000  # enough for the percentiles shown; the page stays quick


def _light(health: dict[str, Any] | None) -> dict[str, str]:
    """A monitor group's light: its status and the one line of evidence behind it."""
    if not health:
        return {"status": "no-data", "label": LIGHT_LABELS["no-data"], "why": "not computed"}
    status = str(health.get("status", "no-data"))
    why = health.get("reason") or health.get("summary")
    if why is None:
        verdicts = health.get("verdicts", [])
        failing = [v["criterion"] for v in verdicts if v.get("met") is False]
        parts = [
            ("fails: " + "; ".join(failing))
            if failing
            else ("every criterion met" if verdicts else "no criterion judged")
        ]
        drift = health.get("drift") or {}
        if drift.get("error"):
            parts.append(f"drift not checked: {drift['error']}")
        elif drift.get("drifted_columns"):
            parts.append(f"drift vs {drift['reference']}: {', '.join(drift['drifted_columns'])}")
        why = "; ".join(parts)
    return {"status": status, "label": LIGHT_LABELS.get(status, status), "why": str(why)}


def _uncertainty(entry: dict[str, Any] | None) -> dict[str, Any]:
    """One uncertainty as shown: the number (never a rounded certainty) and what it is — its
    ``kind`` as recorded with it and the event it is the probability of (``what``)."""
    if entry is None:
        return {"probability": None, "text": "unknown", "trend": None, "source": "never recorded",
                "kind": None, "what": None}  # fmt: skip
    probability = entry["probability"]
    return {
        "probability": probability,
        "text": labels.probability(probability),
        "kind": labels.kind_label(entry.get("probability_kind")),
        "what": labels.what_it_is(entry),
        "trend": entry.get("trend"),
        "source": entry.get("source"),
        "at": entry.get("at"),
    }


def portfolio(
    workspace: Workspace, visible: Callable[[str], bool], now: datetime | None = None
) -> list[dict[str, Any]]:
    """One row per initiative the caller may see: name, status, phase, loops, the two
    uncertainties (model, impact) and the four health lights (model, data, service, impact)."""
    rows = []
    for charter in workspace.initiatives():
        if not visible(charter.slug):
            continue
        report = workspace.initiative(charter.slug).status(now)
        data = report.to_dict()
        monitors = data["monitors"]
        rows.append(
            {
                "slug": charter.slug,
                "name": charter.name,
                "status": charter.status.value,
                "phase": data["phase"],
                "loops": data["loops"],
                "missing_roles": data["coverage"]["missing_roles"],
                "uncertainty": {k: _uncertainty(data["uncertainty"].get(k)) for k in
                                ("model", "impact")},
                "lights": {group: _light(monitors.get(group)) for group in GROUPS},
            }
        )  # fmt: skip
    return rows


def _criteria(criteria: list[Criterion]) -> list[dict[str, Any]]:
    order = {kind: i for i, kind in enumerate(GROUPS)}
    items = [criterion_dict(c) for c in criteria]
    return sorted(items, key=lambda c: (order.get(c["kind"], len(order)), c["id"] or 0))


def _timeline(update: dict[str, Any]) -> dict[str, Any]:
    """The lifecycle log, newest first for reading, and its stays for the Gantt chart."""
    log = update["timeline"]
    visits = [{**v, "loop": log[i]["backward"]} for i, v in enumerate(update["visits"])]
    return {
        "moves": list(reversed(log)),
        "loops": update["loops"],
        "loops_by_cause": update["loops_by_cause"],
        "visits": visits,
        "chart": charts.timeline_chart(visits),
    }


def _phase_choices(current: str) -> list[dict[str, Any]]:
    """The phases a move can go to, each marked backward or forward from ``current``; the
    next phase forward is the form's default."""
    now_order = Phase(current).order
    return [
        {"value": p.value, "backward": p.order < now_order, "next": p.order == now_order + 1}
        for p in Phase
        if p.value != current
    ]


def initiative_page(
    workspace: Workspace, slug: str, now: datetime | None = None, *,
    trials: int = FORECAST_TRIALS,
) -> dict[str, Any]:  # fmt: skip
    """Everything the initiative page shows; NotFoundError for an unknown ``slug``. The page's
    charts are gathered in ``charts`` (chart id → Vega-Lite spec)."""
    from mlpilot.report.update import build_update

    initiative = workspace.initiative(slug)
    now = now or datetime.now(UTC)
    update = build_update(initiative, since=EPOCH, now=now, trials=trials)
    lights = update["monitors"] or {}
    timeline = _timeline(update)
    found: dict[str, Any] = {"timeline": timeline["chart"]}
    forecast_spec = None if update["forecast"] is None else charts.forecast_chart(
        update["forecast"])  # fmt: skip
    uncertainty_spec = charts.uncertainty_chart(update["uncertainty"])
    if forecast_spec is not None:
        found["forecast"] = forecast_spec
    if uncertainty_spec is not None:
        found["uncertainty"] = uncertainty_spec
    tabs = {
        "model": model_tab(initiative, lights.get("model")),
        "data": data_tab(initiative, lights.get("data")),
        "service": service_tab(initiative, lights.get("service"), now),
        "impact": impact_tab(initiative, lights.get("impact")),
    }
    for tab in tabs.values():
        found.update(tab["charts"])
    cover = initiative.coverage()
    charter = initiative.charter
    return {
        "slug": slug,
        "name": charter.name,
        "status": charter.status.value,
        "stopped": charter.status is Status.STOPPED,
        "phase": update["phase"],
        "as_of": now.isoformat(),
        "charter": update,  # the charter fields (problem, baseline, …) are at its top level
        "criteria": _criteria(initiative.criteria()),
        "timeline": timeline,
        "forecast": update["forecast"],
        "uncertainty": {k: _uncertainty(update["uncertainty"].get(k)) for k in
                        ("model", "impact")},
        "lights": {group: _light(lights.get(group)) for group in GROUPS},
        "tabs": tabs,
        "alerts": [a.to_dict() for a in initiative.alerts()],
        "team": [member_dict(m) for m in initiative.team()],
        "coverage": coverage_dict(cover),
        "network": update["network"],
        "decisions": list(reversed(update["decisions"])),
        "learnings": list(reversed(update["learnings"])),
        "missing": update["missing"],
        "charts": charts.clean(found),
        "choices": {
            "phases": _phase_choices(update["phase"]),
            "causes": [c.value for c in Cause],
            "verdicts": [v.value for v in Verdict],
            "all_phases": [p.value for p in Phase],
        },
    }  # fmt: skip
