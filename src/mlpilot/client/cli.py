"""The CLI through a server: with ``MLPILOT_URI`` set, ``open_workspace`` hands the command here.

The command's parsed parameters (``ctx.params``) are sent to the server; the output matches the
local command's (the same JSON with ``--json``). A command the server does not offer fails on one
line naming the way out.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import typer
from rich.markup import escape

from mlpilot.cli.common import console, done, print_json, table
from mlpilot.client import Client, connect
from mlpilot.errors import MlpilotError

__all__ = ["REMOTE_COMMANDS", "run_remote"]

Handler = Callable[[Client, dict[str, Any]], None]


def _initiative_list(client: Client, p: dict[str, Any]) -> None:
    rows = client.initiatives()
    if p.get("as_json"):
        print_json(rows)
        return
    columns = ("slug", "name", "status", "phase", "task", "shape")
    console.print(table(None, columns, ([row[c] for c in columns] for row in rows)))


def _status(client: Client, p: dict[str, Any]) -> None:
    from mlpilot.cli.status import monitor_lines
    from mlpilot.forecast.uncertainty import describe

    slug = p.get("slug")
    if slug is None:
        reports = [client.initiative(row["slug"]).status() for row in client.initiatives()]
        if p.get("as_json"):
            print_json(reports)
            return
        rows = ((r["slug"], r["status"], r["phase"], r["loops"],
                 ", ".join(r["coverage"]["missing_roles"])) for r in reports)  # fmt: skip
        header = ("initiative", "status", "phase", "loops", "missing roles")
        console.print(table("Initiatives", header, rows))
        return
    data = client.initiative(slug).status()
    if p.get("as_json"):
        print_json(data)
        return
    console.print(
        f"[bold]{escape(data['name'])}[/bold] · {data['status']} · phase "
        f"[bold]{data['phase']}[/bold] · {data['loops']} loop(s)\n"
        f"problem: {escape(data['problem'])}",
        soft_wrap=True,
    )
    console.print(table("Success criteria", ("kind", "criterion", "fallback plan"),
                        ((c["kind"], c["text"], c["plan"]) for c in data["criteria"])))  # fmt: skip
    for line in monitor_lines(data["monitors"]):
        console.print(line, soft_wrap=True)
    console.print(f"uncertainty: {describe(data['uncertainty'])}", soft_wrap=True)


def _minute(iso: str) -> str:
    return iso[:16].replace("T", " ")


def _history(client: Client, p: dict[str, Any]) -> None:
    log = client.initiative(p["slug"]).history()
    if p.get("as_json"):
        print_json(log)
        return
    rows = (
        (
            t["at"][:16].replace("T", " "),
            t["from"] or "(start)",
            ("↩ " if t["backward"] else "") + t["to"],
            t["cause"],
            t["reason"],
        )
        for t in log
    )
    console.print(table(None, ("at", "from", "to", "cause", "reason"), rows))


def _phase(client: Client, p: dict[str, Any]) -> None:
    moved = client.initiative(p["slug"]).move_to(
        p["phase"], reason=p.get("reason"), cause=p.get("cause"), at=p.get("at"), who=p.get("who")
    )
    kind = "loop back" if moved["backward"] else "moved"
    done(f"{p['slug']}: {kind} {moved['from']} → {moved['to']}")


def _learn(client: Client, p: dict[str, Any]) -> None:
    learned = client.initiative(p["slug"]).learn(
        p["text"], tags=p.get("tag") or [], phase=p.get("phase"), source=p.get("source"),
        at=p.get("at"),
    )  # fmt: skip
    done(f"{p['slug']}: learning recorded in {learned['phase'] or '-'}")


def _learnings(client: Client, p: dict[str, Any]) -> None:
    items = client.initiative(p["slug"]).learnings()
    if p.get("as_json"):
        print_json(items)
        return
    rows = ((i["at"][:10], i["phase"], i["text"], ", ".join(i["tags"]), i["source"])
            for i in items)  # fmt: skip
    console.print(table(None, ("at", "phase", "learning", "tags", "source"), rows))


def _decide(client: Client, p: dict[str, Any]) -> None:
    decided = client.initiative(p["slug"]).decide(
        p["verdict"], p["why"], evidence=p.get("evidence") or [], who=p.get("who"),
        at=p.get("at"),
    )  # fmt: skip
    done(f"{p['slug']}: decided to {decided['verdict']}")


def _alerts(client: Client, p: dict[str, Any]) -> None:
    slug, open_only = p.get("slug"), bool(p.get("open_only"))
    found = (client.alerts(open_only=open_only) if slug is None
             else client.initiative(slug).alerts(open_only=open_only))  # fmt: skip
    if p.get("as_json"):
        print_json(found)
        return
    if not found:
        console.print("no alerts")
    for a in found:
        state = "open" if not a["resolved"] else f"resolved {_minute(a['resolved_at'])}"
        observed = "-" if a["observed"] is None else f"{a['observed']:.4g}"
        plan = f"; plan: {a['plan']}" if a["plan"] else ""
        console.print(
            f"{a['initiative']} {a['group']} {a['severity']} [{state}] — {a['criterion']}, "
            f"observed {observed}, since {_minute(a['first_seen'])}{plan}",
            markup=False, soft_wrap=True,
        )  # fmt: skip


def _log(kind: str, noun: str) -> Handler:
    def handler(client: Client, p: dict[str, Any]) -> None:
        from mlpilot.cli.log import parse_map

        result = client.initiative(p["slug"]).log_events(
            kind, p["file"], parse_map(p.get("mapping") or [])
        )
        if p.get("as_json"):
            print_json({**result, "inserted": result["accepted"]})
            return
        rejected = result["rejected"]
        done(
            f"{noun} of {p['slug']}: {result['received']} received, {result['accepted']} "
            f"accepted, {result['duplicates']} duplicates, {len(rejected)} rejected"
        )
        for item in rejected[:5]:
            console.print(f"  row {item['index']}: {item['reason']}", markup=False)
        if len(rejected) > 5:
            console.print(f"  … and {len(rejected) - 5} more (--json lists them all)")

    return handler


REMOTE_COMMANDS: dict[str, Handler] = {
    "initiative list": _initiative_list,
    "status": _status,
    "history": _history,
    "phase": _phase,
    "learn": _learn,
    "learnings": _learnings,
    "decide": _decide,
    "alerts": _alerts,
    "log predictions": _log("predictions", "predictions"),
    "log outcomes": _log("outcomes", "outcomes"),
    "log requests": _log("requests", "requests"),
    "log exposures": _log("exposures", "exposures"),
    "log metric-events": _log("metric_events", "metric events"),
}


def run_remote(ctx: typer.Context) -> None:
    """Run the command of ``ctx`` through the server at ``MLPILOT_URI``, then exit."""
    uri = os.environ.get("MLPILOT_URI", "")
    command = " ".join(ctx.command_path.split()[1:])
    handler = REMOTE_COMMANDS.get(command)
    if handler is None:
        raise MlpilotError(
            f"'mlpilot {command}' is not available through a server (MLPILOT_URI={uri}); "
            "unset MLPILOT_URI to run it on a local workspace"
        )
    handler(connect(uri), dict(ctx.params))
    raise typer.Exit(0)
