"""``mlpilot initiative …``: create, list, show, pause and resume initiatives."""

from __future__ import annotations

import typer

from mlpilot.cli.common import JSON_OPTION, console, done, open_workspace, print_json, table
from mlpilot.report.status import charter_dict

app = typer.Typer(help="Create and inspect initiatives (the charter).", no_args_is_help=True)


@app.command("create")
def create(
    ctx: typer.Context,
    slug: str = typer.Argument(..., help="Short id: lowercase letters, digits, hyphens."),
    name: str = typer.Option(..., help="Human name of the initiative."),
    problem: str = typer.Option(..., help="The problem: whose it is and why it matters."),
    prediction_use: str = typer.Option(
        ..., help="How predictions will be used: the decision or action they drive."
    ),
    task: str = typer.Option(..., help="binary, multiclass, regression or ranking."),
    shape: str = typer.Option(..., help="Delivery shape: batch, online-api or embedded."),
    baseline: str = typer.Option(..., help="The non-ML baseline to beat (start small)."),
    baseline_value: float | None = typer.Option(None, help="The baseline's measured value."),
    baseline_metric: str | None = typer.Option(None, help="The metric of --baseline-value."),
    problem_owner: str | None = typer.Option(None, help="Whose problem it is."),
    used_by: str | None = typer.Option(None, help="Who acts on the predictions."),
    used_when: str | None = typer.Option(None, help="When the predictions are used."),
    started: str | None = typer.Option(
        None, help="When the initiative began (ISO time), to record earlier history."
    ),
) -> None:
    """Create an initiative; its lifecycle starts in business-understanding."""
    workspace = open_workspace(ctx)
    workspace.create_initiative(
        slug,
        name=name,
        problem=problem,
        prediction_use=prediction_use,
        task=task,
        shape=shape,
        baseline=baseline,
        baseline_value=baseline_value,
        baseline_metric=baseline_metric,
        problem_owner=problem_owner,
        used_by=used_by,
        used_when=used_when,
        started=started,
    )
    done(f"created initiative {slug} (phase business-understanding)")


@app.command("list")
def list_(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """List the initiatives with their status and current phase."""
    workspace = open_workspace(ctx)
    rows = []
    for charter in workspace.initiatives():
        phase = workspace.initiative(charter.slug).phase.value
        rows.append({**charter_dict(charter), "phase": phase})
    if as_json:
        print_json(rows)
        return
    columns = ("slug", "name", "status", "phase", "task", "shape")
    console.print(table(None, columns, ([row[c] for c in columns] for row in rows)))


@app.command("show")
def show(ctx: typer.Context, slug: str, as_json: bool = JSON_OPTION) -> None:
    """Show an initiative's charter."""
    charter = open_workspace(ctx).initiative(slug).charter
    data = charter_dict(charter)
    if as_json:
        print_json(data)
        return
    base = charter.baseline
    value = "" if base.value is None else f" = {base.value:g} {base.metric or ''}".rstrip()
    console.print(f"[bold]{charter.name}[/bold] ({charter.slug}) — {charter.status.value}")
    console.print(f"problem:         {charter.problem}")
    if charter.problem_owner:
        console.print(f"problem owner:   {charter.problem_owner}")
    console.print(f"prediction use:  {charter.prediction_use}")
    for label, text in (("used by", charter.used_by), ("used when", charter.used_when)):
        if text:
            console.print(f"{label + ':':<17}{text}")
    console.print(f"task / shape:    {charter.task.value} / {charter.shape.value}")
    console.print(f"baseline:        {base.description}{value}")


@app.command("pause")
def pause(ctx: typer.Context, slug: str) -> None:
    """Pause an initiative (resume it later)."""
    open_workspace(ctx).initiative(slug).set_status("paused")
    done(f"{slug} paused")


@app.command("resume")
def resume(ctx: typer.Context, slug: str) -> None:
    """Make a paused initiative active again."""
    open_workspace(ctx).initiative(slug).set_status("active")
    done(f"{slug} active")
