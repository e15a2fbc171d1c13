"""``mlpilot phase``, ``decide``, ``learn``, ``history``: the lifecycle as it really happens."""

from __future__ import annotations

import typer

from mlpilot.cli.common import JSON_OPTION, console, done, open_workspace, print_json, table
from mlpilot.report.status import learning_dict, transition_dict

AT_OPTION = typer.Option(None, "--at", help="When it happened (ISO time); default now.")
WHO_OPTION = typer.Option(None, "--who", help="Who made the move or decision.")


def phase(
    ctx: typer.Context,
    slug: str,
    phase: str = typer.Argument(..., help="The phase moved to, e.g. modeling."),
    reason: str | None = typer.Option(None, help="Why; required when moving backward."),
    cause: str | None = typer.Option(
        None, help="business, data, model, service, impact or other (backward default: other)."
    ),
    at: str | None = AT_OPTION,
    who: str | None = WHO_OPTION,
) -> None:
    """Record a move to PHASE; moving backward (a loop) needs --reason."""
    moved = (
        open_workspace(ctx)
        .initiative(slug)
        .move_to(phase, reason=reason, cause=cause, at=at, who=who)
    )
    assert moved.from_phase is not None
    kind = "loop back" if moved.is_backward else "moved"
    done(f"{slug}: {kind} {moved.from_phase.value} → {moved.to_phase.value}")


def history(ctx: typer.Context, slug: str, as_json: bool = JSON_OPTION) -> None:
    """Show the lifecycle log, loops included."""
    log = open_workspace(ctx).initiative(slug).history()
    if as_json:
        print_json([transition_dict(t) for t in log])
        return
    rows = (
        (
            t.at.strftime("%Y-%m-%d %H:%M"),
            t.from_phase.value if t.from_phase else "(start)",
            ("↩ " if t.is_backward else "") + t.to_phase.value,
            t.cause.value if t.cause else None,
            t.reason,
        )
        for t in log
    )
    console.print(table(None, ("at", "from", "to", "cause", "reason"), rows))


def decide(
    ctx: typer.Context,
    slug: str,
    verdict: str = typer.Argument(..., help="continue, pivot, stop or ship."),
    why: str = typer.Option(..., "--why", help="The rationale."),
    evidence: list[str] = typer.Option([], "--evidence", help="Evidence behind it (repeatable)."),
    at: str | None = AT_OPTION,
    who: str | None = WHO_OPTION,
) -> None:
    """Record a decision: continue, pivot, stop or ship."""
    initiative = open_workspace(ctx).initiative(slug)
    decision = initiative.decide(verdict, why, evidence=evidence, who=who, at=at)
    done(f"{slug}: decided to {decision.verdict.value} (status {decision.verdict.status.value})")


def learn(
    ctx: typer.Context,
    slug: str,
    text: str = typer.Argument(..., help="What was learned."),
    tag: list[str] = typer.Option([], "--tag", help="A tag (repeatable, or comma-separated)."),
    phase: str | None = typer.Option(None, help="The phase it was learned in; default current."),
    source: str | None = typer.Option(None, help="Where it came from (experiment, interview…)."),
    at: str | None = AT_OPTION,
) -> None:
    """Record a learning."""
    learning = (
        open_workspace(ctx)
        .initiative(slug)
        .learn(text, tags=tag, phase=phase, source=source, at=at)
    )
    done(f"{slug}: learning recorded in {learning.phase.value if learning.phase else '-'}")


def learnings(ctx: typer.Context, slug: str, as_json: bool = JSON_OPTION) -> None:
    """List what was learned."""
    items = open_workspace(ctx).initiative(slug).learnings()
    if as_json:
        print_json([learning_dict(item) for item in items])
        return
    rows = (
        (item.at.strftime("%Y-%m-%d"), item.phase.value if item.phase else None, item.text,
         ", ".join(item.tags), item.source)
        for item in items
    )  # fmt: skip
    console.print(table(None, ("at", "phase", "learning", "tags", "source"), rows))
