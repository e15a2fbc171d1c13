"""``mlpilot status``: the one-screen summary of an initiative, or of all of them."""

from __future__ import annotations

from typing import Any

import typer
from rich.console import Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from mlpilot.cli.common import JSON_OPTION, console, open_workspace, print_json, table
from mlpilot.domain.metrics import CATALOGUE
from mlpilot.forecast.uncertainty import describe
from mlpilot.report.status import StatusReport


def status(
    ctx: typer.Context,
    slug: str | None = typer.Argument(None, help="The initiative; omit for an overview."),
    as_json: bool = JSON_OPTION,
) -> None:
    """One-screen summary: phase, loops, time in phase, criteria, team coverage, decisions."""
    workspace = open_workspace(ctx)
    if slug is None:
        reports = [workspace.initiative(c.slug).status() for c in workspace.initiatives()]
        if as_json:
            print_json([report.to_dict() for report in reports])
            return
        console.print(overview(reports))
        return
    report = workspace.initiative(slug).status()
    if as_json:
        print_json(report.to_dict())
        return
    console.print(render(report))


def overview(reports: list[StatusReport]) -> Table:
    """One line per initiative."""
    rows = (
        (r.charter.slug, r.charter.status.value, r.phase.value,
         sum(t.is_backward for t in r.log), ", ".join(m.value for m in r.coverage.missing_roles))
        for r in reports
    )  # fmt: skip
    return table("Initiatives", ("initiative", "status", "phase", "loops", "missing roles"), rows)


_LIGHTS = {"ok": "green", "warning": "yellow", "failing": "red", "no-data": "dim"}
# A model verdict is None while its posterior probability is neither high nor low enough.
_MET = {True: "met", False: "FAILS", None: "undecided"}


def _unit(metric: str) -> str:
    """`` ms`` for a latency: the catalogue's unit, so a value is not read as something else."""
    spec = CATALOGUE.get(metric)
    return f" {spec.unit}" if spec is not None and spec.unit else ""


def monitor_lines(monitors: dict[str, dict[str, Any]]) -> list[str]:
    """One line per monitor group: its light and the evidence behind it."""
    lines = []
    for group, health in monitors.items():
        status = health["status"]
        text = f"[{_LIGHTS[status]}]● {group}: {status}[/{_LIGHTS[status]}]"
        if status == "no-data":
            lines.append(f"{text} — {health['reason']}")
            continue
        parts = []
        if health.get("judged_window"):
            coverage = health.get("label_coverage")
            labels = f" (labels {coverage:.0%})" if coverage is not None else ""
            parts.append(f"{health['judged_window'][:10]}{labels}")
        shown = ", ".join(
            f"{v.get('measure', v['metric'])} {v['observed']:.3f}{_unit(v['metric'])} "
            f"({_MET[v['met']]} {v['target']:g}{_unit(v['metric'])})"
            for v in health.get("verdicts", [])
            if v["observed"] is not None
        )
        text += f" — {': '.join([*parts, shown or 'no criteria'])}"
        if health.get("windows_breached"):
            last = health["last_breach"][:10]
            text += f"; {health['windows_breached']} window(s) breached, last {last}"
        if health.get("summary"):
            text += f"; {health['summary']}"
        drift = health.get("drift")
        if drift and "error" in drift:
            text += f"; drift not checked: {drift['error']}"
        elif drift:
            drifted = ", ".join(drift["drifted_columns"]) or "none"
            seen = drift["windows_with_drift"]
            text += f"; drift vs {drift['reference']} now: {drifted} ({seen} window(s) with drift)"
        lines.append(text)
    return lines


def _days(seconds: float) -> str:
    return f"{seconds / 86400:.1f} d"


def render(report: StatusReport) -> Panel:
    """The text form of a status report."""
    data = report.to_dict()
    charter = report.charter
    base = charter.baseline
    baseline = base.description + (
        "" if base.value is None else f" = {base.value:g} {base.metric or ''}".rstrip()
    )
    causes = ", ".join(f"{cause} {n}" for cause, n in data["loops_by_cause"].items())
    header = (
        f"[bold]{escape(charter.name)}[/bold] · {charter.status.value} · phase "
        f"[bold]{data['phase']}[/bold] · {data['loops']} loop(s){f' ({causes})' if causes else ''}"
        f"\nproblem: {escape(charter.problem)}\nprediction use: {escape(charter.prediction_use)}"
        f"\ntask/shape: {charter.task.value} / {charter.shape.value}   "
        f"baseline: {escape(baseline)}"
    )
    history = table(
        "Lifecycle",
        ("at", "move", "cause", "reason"),
        (
            (t.at.strftime("%Y-%m-%d"),
             f"{'↩ ' if t.is_backward else ''}{t.to_phase.value}", t.cause,
             None if t.reason is None else escape(t.reason))
            for t in report.log
        ),
    )  # fmt: skip
    total = sum(data["time_in_phase"].values()) or 1.0
    phases = table(
        "Time in phase",
        ("phase", "time", "share"),
        (
            (phase, _days(seconds), "█" * round(30 * seconds / total))
            for phase, seconds in data["time_in_phase"].items()
            if seconds > 0
        ),
    )
    criteria = table(
        "Success criteria",
        ("kind", "criterion", "fallback plan"),
        (
            (c["kind"], escape(c["text"]), None if c["plan"] is None else escape(c["plan"]))
            for c in data["criteria"]
        ),
    )
    cover = data["coverage"]
    team = (
        f"team: {len(report.members)} member(s) · missing roles: "
        f"{', '.join(cover['missing_roles']) or 'none'} · single points of failure: "
        f"{escape(', '.join(cover['single_points'])) or 'none'}"
    )
    parts: list[RenderableType] = [header, history, phases, criteria, team]
    parts.extend(monitor_lines(data["monitors"]))
    parts.append(f"uncertainty: {describe(data['uncertainty'])}")
    if report.decisions:
        last = report.decisions[-1]
        parts.append(
            f"last decision: {last.verdict.value} on {last.at:%Y-%m-%d} — {escape(last.rationale)}"
        )
    return Panel(Group(*parts), title=f"mlpilot status · {charter.slug}", title_align="left")
