"""``mlpilot monitor`` (run every monitor group, record alerts) and ``mlpilot alerts``."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import typer

from mlpilot.cli.common import JSON_OPTION, console, open_workspace, print_json
from mlpilot.cli.status import monitor_lines
from mlpilot.domain.alerts import Alert
from mlpilot.domain.parsing import parse_time
from mlpilot.monitors.notify import Notifier, describe, webhook_from_env

# At exit, a webhook gets this long to deliver what is queued; monitoring never waits on it.
FLUSH_SECONDS = 3.0


class _Collect:
    """Keeps the alert events of a run, to print them (the CLI's log line)."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def notify(self, event: str, alert: Alert) -> None:
        self.lines.append(describe(event, alert))

    def close(self, timeout: float = 5.0) -> None:
        return None


def monitor(
    ctx: typer.Context,
    slug: str,
    window: str = typer.Option("1d", help="The model and data window, e.g. 1h, 1d, 1w."),
    at: str | None = typer.Option(
        None, help="Judge as of this time (ISO 8601; default now): replays, backfills."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Run every monitor group over its latest window; open, keep or resolve alerts.

    Schedule it (e.g. hourly with cron): each failing criterion stays one open alert until it
    clears. MLPILOT_ALERT_WEBHOOK=URL also posts each opened or resolved alert as JSON.
    """
    initiative = open_workspace(ctx).initiative(slug)
    collected = _Collect()
    webhook = webhook_from_env(os.environ)
    notifiers: list[Notifier] = [collected] if webhook is None else [collected, webhook]
    try:
        now = parse_time(at, datetime.now(UTC), "monitoring time")
        result = initiative.monitor(window=window, notifiers=notifiers, now=now)
    finally:
        if webhook is not None:
            webhook.close(FLUSH_SECONDS)
    if as_json:
        print_json(result)
        return
    for line in monitor_lines(result["groups"]):
        console.print(line, soft_wrap=True)
    for line in collected.lines:
        console.print(line, markup=False, soft_wrap=True)
    console.print(f"{len(result['alerts']['open'])} open alert(s)")


def alerts(
    ctx: typer.Context,
    slug: str | None = typer.Argument(None, help="Only this initiative's alerts."),
    open_only: bool = typer.Option(False, "--open", help="Only alerts not resolved yet."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Alerts raised by 'mlpilot monitor', open ones first."""
    workspace = open_workspace(ctx)
    found = workspace.alerts.alerts(slug, open_only=open_only)
    if as_json:
        print_json([a.to_dict() for a in found])
        return
    if not found:
        console.print("no alerts")
    for a in found:
        c = a.condition
        state = "open" if a.open else f"resolved {a.resolved_at:%Y-%m-%d %H:%M}"
        observed = "-" if c.observed is None else f"{c.observed:.4g}"
        unit, summary = c.details.get("unit"), c.details.get("summary")  # a service SLO's labels
        observed += f" {unit}" if unit and c.observed is not None else ""
        observed += f"; {summary}" if summary else ""
        plan = f"; plan: {c.plan}" if c.plan else ""
        console.print(
            f"{a.initiative} {c.group.value} {c.severity.value} [{state}] — {c.criterion}, "
            f"observed {observed}, since {a.first_seen:%Y-%m-%d %H:%M}{plan}",
            markup=False,
            soft_wrap=True,
        )
