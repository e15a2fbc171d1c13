"""``mlpilot team …``: members, roles, allocation, and the coverage check."""

from __future__ import annotations

import typer

from mlpilot.cli.common import JSON_OPTION, console, done, open_workspace, print_json, table
from mlpilot.domain.team import ROLE_RULES
from mlpilot.report.status import coverage_dict, member_dict

app = typer.Typer(help="The team: roles, allocation, coverage.", no_args_is_help=True)


@app.command("add")
def add(
    ctx: typer.Context,
    slug: str,
    person: str,
    role: str = typer.Option(..., help="e.g. product-manager, data-scientist, ml-engineer."),
    allocation: float = typer.Option(1.0, help="Share of their time, in (0, 1]."),
) -> None:
    """Put PERSON on the team in a role (again: update the allocation)."""
    new = open_workspace(ctx).initiative(slug).add_member(person, role, allocation)
    done(f"{person} {'added as' if new else 'updated in'} {role} ({allocation:.0%}) on {slug}")


@app.command("remove")
def remove(
    ctx: typer.Context,
    slug: str,
    person: str,
    role: str | None = typer.Option(None, help="Only this role; default all their roles."),
) -> None:
    """Take PERSON off the team."""
    removed = open_workspace(ctx).initiative(slug).remove_member(person, role)
    done(f"{person} removed from {removed} role(s) on {slug}")


@app.command("list")
def list_(ctx: typer.Context, slug: str, as_json: bool = JSON_OPTION) -> None:
    """List the members."""
    members = open_workspace(ctx).initiative(slug).team()
    if as_json:
        print_json([member_dict(m) for m in members])
        return
    rows = ((m.person, m.role.value, f"{m.allocation:.0%}") for m in members)
    console.print(table(None, ("person", "role", "allocation"), rows))


@app.command("coverage")
def coverage(ctx: typer.Context, slug: str, as_json: bool = JSON_OPTION) -> None:
    """Missing roles and single points of failure for the current phase and delivery shape."""
    initiative = open_workspace(ctx).initiative(slug)
    cover = initiative.coverage()
    if as_json:
        print_json({"slug": slug, "phase": initiative.phase.value, **coverage_dict(cover)})
        return
    why = {rule.role: rule.why for rule in ROLE_RULES}
    rows = []
    for role in cover.required_roles:
        people = cover.people_by_role.get(role, ())
        state = (
            "[red]missing[/red]"
            if role in cover.missing_roles
            else "[yellow]single point[/yellow]"
            if role in cover.single_points
            else "[green]covered[/green]"
        )
        rows.append((role.value, state, ", ".join(people) or None, why[role]))
    console.print(table(f"Coverage at {initiative.phase.value}", ("role", "", "who", "why"), rows))
    if cover.upcoming_roles:
        console.print("needed later: " + ", ".join(r.value for r in cover.upcoming_roles))
