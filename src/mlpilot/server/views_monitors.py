"""The initiative page's monitor tabs: model performance, data (drift), service, impact.

Each tab is a dict with the group's ``light`` (from the health view), its ``charts`` (chart id
→ Vega-Lite spec), the rows its tables show and a ``message`` when its monitor cannot run yet
(no predictions, no reference, no requests, no experiment): a missing piece of evidence is
shown as such, never as an error page.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from mlpilot.domain.metrics import CriterionKind
from mlpilot.errors import MlpilotError
from mlpilot.report import labels
from mlpilot.server import charts

if TYPE_CHECKING:
    from mlpilot.workspace import Initiative

__all__ = ["data_tab", "impact_tab", "model_tab", "service_tab"]

RECENT = 10  # rows in the "recent windows" tables
FALLBACK_METRICS = 3  # charts drawn when no model criterion is declared


def _tab(health: dict[str, Any] | None, **parts: Any) -> dict[str, Any]:
    return {"health": health or {}, "charts": {}, "message": None, **parts}


def model_tab(initiative: Initiative, health: dict[str, Any] | None) -> dict[str, Any]:
    """Each model criterion's metric per window against its target (or the first metrics when
    none is declared), and the recent windows with their label coverage and breaches."""
    tab = _tab(health, windows=[])
    try:
        report = initiative.performance()
    except MlpilotError as exc:
        tab["message"] = str(exc)
        return tab
    windows = report["windows"]
    criteria = [c for c in initiative.criteria() if c.kind is CriterionKind.MODEL]
    for c in criteria:
        points = [
            {"start": w["start"], "value": v["observed"], "met": v["met"],
             "coverage": w["label_coverage"]}
            for w in windows for v in w["verdicts"]
            if v["criterion_id"] == c.id and v["observed"] is not None
        ]  # fmt: skip
        tab["charts"][f"model-{c.id}"] = charts.performance_chart(
            c.metric, c.describe(), c.target, points
        )
    if not criteria:
        names = list(next((w["metrics"] for w in windows if w["metrics"]), {}))
        for name in names[:FALLBACK_METRICS]:
            points = [
                {"start": w["start"], "value": w["metrics"].get(name), "met": None,
                 "coverage": w["label_coverage"]}
                for w in windows if w["metrics"].get(name) is not None
            ]  # fmt: skip
            tab["charts"][f"model-{name}"] = charts.performance_chart(name, None, None, points)
    tab["windows"] = [
        {"start": w["start"], "n": w["n"], "labeled": w["labeled"],
         "coverage": w["label_coverage"],
         "breaches": [v["criterion"] for v in w["verdicts"] if v["met"] is False]}
        for w in reversed(windows[-RECENT:])
    ]  # fmt: skip
    tab["judgement"] = _judgement(health or {})
    return tab


def _judgement(health: dict[str, Any]) -> dict[str, Any] | None:
    """The model light's judgement, each number said for what it is: per criterion the latest
    window's value, the probability it holds now and its interval, as the monitor labels them."""
    verdicts = health.get("verdicts") or []
    if not verdicts:
        return None
    overall = health.get("probability_all_met")
    rows = []
    for v in verdicts:
        probability = v.get("probability_met")
        low, high = v.get("low"), v.get("high")
        interval = labels.interval_label(v.get("interval_kind"), v.get("level"))
        rows.append({
            "criterion": v["criterion"], "observed": v.get("observed"),
            "probability": (v.get("note") or "insufficient evidence") if probability is None
            else labels.stated(probability, v.get("probability_kind")),
            "interval": None if low is None or high is None else
            f"[{low:.3g}, {high:.3g}] {interval}",
            "met": {True: "yes", False: "no"}.get(v.get("met"), "undecided"),
        })  # fmt: skip
    return {
        "overall": None if overall is None else _sentence(labels.stated(
            overall, health.get("probability_kind"), "every model criterion holds now")),
        "windows": health.get("judged_windows"),
        "rows": rows,
    }  # fmt: skip


def _reference(initiative: Initiative) -> str | None:
    names = [r.name for r in initiative.references()]
    if "training" in names:
        return "training"
    return names[0] if names else None


def data_tab(initiative: Initiative, health: dict[str, Any] | None) -> dict[str, Any]:
    """Drift per column in the latest window against the reference (bars with the thresholds),
    each column's drift over time, and the data criteria's verdicts."""
    tab = _tab(health, reference=None, columns=[], window=None)
    reference = _reference(initiative)
    if reference is None:
        tab["message"] = (
            "no reference dataset stored; add one with 'mlpilot reference add' to monitor drift"
        )
        return tab
    tab["reference"] = reference
    try:
        report = initiative.drift(reference)
    except MlpilotError as exc:
        tab["message"] = str(exc)
        return tab
    windows = report["windows"]
    if not windows:
        tab["message"] = "no predictions to compare with the reference yet"
        return tab
    latest = windows[-1]
    tab["window"] = latest["start"]
    tab["columns"] = latest["columns"]
    tab["charts"]["drift-latest"] = charts.drift_chart(latest)
    history = charts.drift_history_chart(windows)
    if history is not None:
        tab["charts"]["drift-history"] = history
    return tab


def _slos(initiative: Initiative) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The service criteria as chart rules: (latency ones, error-rate ones)."""
    latency, errors = [], []
    for c in initiative.criteria():
        if c.kind is not CriterionKind.SERVICE:
            continue
        rule = {"metric": c.metric, "target": c.target, "criterion": c.describe()}
        if c.metric.startswith("latency_"):
            latency.append(rule)
        elif c.metric == "error_rate":
            errors.append(rule)
    return latency, errors


def service_tab(
    initiative: Initiative, health: dict[str, Any] | None, now: datetime
) -> dict[str, Any]:
    """Latency percentiles and the error rate per hour against the SLOs, and each SLO's
    compliance and error budget over its period."""
    tab = _tab(health, objectives=[], alerts=[])
    try:
        report = initiative.service(at=now)
    except MlpilotError as exc:
        tab["message"] = str(exc)
        return tab
    latency, errors = _slos(initiative)
    windows = report["windows"]
    tab["charts"]["service-latency"] = charts.latency_chart(windows, latency)
    tab["charts"]["service-errors"] = charts.error_chart(windows, errors)
    tab["objectives"] = report["slo"]["objectives"]
    tab["period"] = report["slo"]["period"]
    tab["alerts"] = report["alerts"]
    return tab


def _effect_rows(analysis: dict[str, Any]) -> list[dict[str, Any]]:
    """The analysed metrics as chart rows: relative effect, its interval, the KPI's target."""
    targets = {
        c["metric"]: c["target"]
        for c in analysis.get("criteria", [])
        if c.get("effect", "relative") == "relative"
    }
    rows = []
    for r in analysis.get("results", []):
        low, high = r["effect_rel_ci"]
        rows.append(
            {"label": f"{r['metric']} · {r['variant']}", "metric": r["metric"],
             "variant": r["variant"], "effect": r["effect_rel"], "low": low, "high": high,
             "role": r.get("role") or "metric", "verdict": r.get("verdict") or "-",
             "p_value": r.get("p_value_adjusted", r.get("p_value")),
             "target": targets.get(r["metric"]) if r.get("role") == "kpi" else None}
        )  # fmt: skip
    return rows


def _impact_probability(results: dict[str, Any]) -> str | None:
    """The analysis's probability that the chosen arm meets every impact criterion, said for
    what it is and under which prior (or why there is none)."""
    stated = results.get("impact_probability")
    if not stated:
        return None
    event = stated.get("event") or "the arm that would be chosen meets every impact criterion"
    arm = f" ({stated['variant']})" if stated.get("variant") else ""
    if stated.get("value") is None:
        why = stated.get("note") or "not computed"
        return _sentence(f"{labels.kind_label(stated.get('kind'))} that {event}{arm}: none — {why}")
    prior = f"; prior: {stated['prior']}" if stated.get("prior") else ""
    return _sentence(f"{labels.stated(stated['value'], stated.get('kind'), event)}{arm}{prior}")


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def impact_tab(initiative: Initiative, health: dict[str, Any] | None) -> dict[str, Any]:
    """The experiments, and the latest analysis: each metric's effect with its interval against
    the minimum effect of the impact criterion, and the verdicts."""
    from mlpilot.store.experiments import ExperimentStore

    tab = _tab(health, experiments=initiative.experiments(), analysis=None, rows=[])
    found = ExperimentStore(initiative.workspace.store.engine).latest_analysis(initiative.slug)
    if found is None:
        tab["message"] = (
            "no experiment analysed yet" if tab["experiments"] else "no experiment declared yet"
        )
        return tab
    rows = _effect_rows(found.results)
    interval = found.results.get("interval") or {}
    tab["analysis"] = {
        "experiment": found.experiment, "at": found.at.isoformat(), "method": found.method,
        "verdict": found.verdict, "reason": found.results.get("reason"),
        "units": found.results.get("units", {}), "srm": found.results.get("srm"),
        "verdicts": found.results.get("verdicts", []),
        "interval": labels.interval_label(interval.get("kind"), interval.get("level")),
        "probability": _impact_probability(found.results),
        "guardrails": [
            f"guardrail {g['metric']} ({g['variant']}): {g['verdict']} — "
            + ("no probability" if g.get("probability_harm") is None else labels.stated(
                g["probability_harm"], g.get("probability_kind"), "it harms"))
            for g in found.results.get("guardrails", [])
        ],
    }  # fmt: skip
    tab["rows"] = rows
    if rows:
        tab["charts"]["impact-effects"] = charts.experiment_chart(found.experiment, rows)
    return tab
