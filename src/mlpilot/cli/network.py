"""``mlpilot network …``: allies outside the team and who to ask for what."""

from __future__ import annotations

import typer

from mlpilot.cli.common import JSON_OPTION, console, done, open_workspace, print_json, table

app = typer.Typer(help="The network of allies outside the team.", no_args_is_help=True)


@app.command("add")
def add(
    ctx: typer.Context,
    person: str,
    expertise: list[str] = typer.Option(
        ..., "--expertise", help="What they know (repeatable, or comma-separated)."
    ),
    relation: str = typer.Option(
        ...,
        help="business-stakeholder, staff-engineer, user-researcher, data-scientist, "
        "customer-support, legal, domain-expert, data-engineer, security or other.",
    ),
    team: str | None = typer.Option(None, help="Their team."),
) -> None:
    """Add an ally (again: replace their relation, expertise and team)."""
    new = open_workspace(ctx).add_ally(person, relation=relation, expertise=expertise, team=team)
    done(f"{person} {'added to' if new else 'updated in'} the network")


@app.command("list")
def list_(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """List the allies."""
    allies = open_workspace(ctx).allies()
    if as_json:
        print_json(
            [
                {"person": a.person, "relation": a.relation.value,
                 "expertise": list(a.expertise), "team": a.team}
                for a in allies
            ]
        )  # fmt: skip
        return
    rows = ((a.person, a.relation.value, ", ".join(a.expertise), a.team) for a in allies)
    console.print(table(None, ("person", "relation", "expertise", "team"), rows))


@app.command("who")
def who(
    ctx: typer.Context,
    need: str = typer.Argument(..., help="What you need help with, in your words."),
    limit: int = typer.Option(5, help="How many allies to show."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Who can help with NEED: allies ranked by relevance."""
    matches = open_workspace(ctx).who_can_help(need, limit)
    if as_json:
        print_json(
            [
                {"person": m.ally.person, "relation": m.ally.relation.value, "score": m.score,
                 "matched": list(m.matched), "consultations": m.consultations,
                 "team": m.ally.team}
                for m in matches
            ]
        )  # fmt: skip
        return
    if not matches:
        console.print("nobody in the network matches that need; add allies with 'network add'")
        return
    rows = (
        (m.ally.person, m.ally.relation.value, f"{m.score:.2f}", ", ".join(m.matched),
         m.consultations)
        for m in matches
    )  # fmt: skip
    console.print(table(None, ("ally", "relation", "score", "matched", "asked before"), rows))


@app.command("consult")
def consult(
    ctx: typer.Context,
    person: str,
    need: str = typer.Option(..., help="What they were asked."),
    initiative: str | None = typer.Option(None, help="The initiative it was for."),
    outcome: str | None = typer.Option(None, help="What came of it."),
    at: str | None = typer.Option(None, "--at", help="When (ISO time); default now."),
) -> None:
    """Log a consultation with an ally."""
    open_workspace(ctx).consult(person, need, initiative=initiative, outcome=outcome, at=at)
    done(f"consultation with {person} logged")
