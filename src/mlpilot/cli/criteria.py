"""``mlpilot criteria …``: declare success criteria up front, with their fallback plans."""

from __future__ import annotations

import typer

from mlpilot.cli.common import JSON_OPTION, console, done, open_workspace, print_json, table
from mlpilot.domain.metrics import CATALOGUE
from mlpilot.report.status import criterion_dict

app = typer.Typer(help="Success criteria: model, service, impact, data.", no_args_is_help=True)


@app.command("add")
def add(
    ctx: typer.Context,
    slug: str,
    kind: str = typer.Option(..., help="model, service, impact or data."),
    metric: str = typer.Option(..., help="A catalogued metric (see 'criteria metrics'), or a KPI."),
    op: str = typer.Option(..., help="Comparator: >=, >, <= or <."),
    target: float = typer.Option(..., help="The target value (for impact: the minimum effect)."),
    at: str | None = typer.Option(
        None, "--at", help="Model criteria: a constraint, e.g. 'precision>=0.5'."
    ),
    effect: str | None = typer.Option(
        None, help="Impact criteria: relative (default) or absolute."
    ),
    guardrail: list[str] = typer.Option(
        [],
        "--guardrail",
        help="Impact criteria: a metric that must not be harmed, NAME:lower|higher[:margin=M] "
        "(M: the largest relative harm accepted, e.g. cost:lower:margin=0.05); repeatable.",
    ),
    plan: str | None = typer.Option(None, help="The fallback plan when the criterion fails."),
    threshold: float | None = typer.Option(
        None, help="Model criteria: the deployed decision threshold (positive at score >= T)."
    ),
    top: int | None = typer.Option(
        None, help="Model criteria: a capacity, the K highest scores acted on per period."
    ),
    per: str | None = typer.Option(
        None, help="With --top: the period, day, week or month (or a window such as 7d)."
    ),
    decision: bool = typer.Option(
        False, "--decision", help="Model criteria: judge each prediction's own decision."
    ),
) -> None:
    """Declare a success criterion, e.g. --kind model --metric recall --op '>=' --target 0.8.

    A model criterion with a constraint (--at) is judged where the model runs: give --threshold,
    or --top K --per PERIOD (e.g. --top 500 --per week), or --decision."""
    criterion = (
        open_workspace(ctx)
        .initiative(slug)
        .add_criterion(
            kind,
            metric,
            op,
            target,
            at=at,
            effect=effect,
            guardrails=guardrail,
            plan=plan,
            threshold=threshold,
            top=top,
            per=per,
            decision=decision,
        )
    )
    done(f"criterion #{criterion.id} ({criterion.kind.value}): {criterion.describe()}")


@app.command("list")
def list_(ctx: typer.Context, slug: str, as_json: bool = JSON_OPTION) -> None:
    """List an initiative's criteria."""
    criteria = open_workspace(ctx).initiative(slug).criteria()
    if as_json:
        print_json([criterion_dict(c) for c in criteria])
        return
    rows = ((c.id, c.kind.value, c.describe(), c.plan) for c in criteria)
    console.print(table(None, ("id", "kind", "criterion", "fallback plan"), rows))


@app.command("remove")
def remove(ctx: typer.Context, slug: str, criterion_id: int) -> None:
    """Withdraw a criterion by its id."""
    open_workspace(ctx).initiative(slug).remove_criterion(criterion_id)
    done(f"criterion #{criterion_id} removed from {slug}")


@app.command("metrics")
def metrics(as_json: bool = JSON_OPTION) -> None:
    """Print the metric catalogue that criteria draw on."""
    specs = list(CATALOGUE.values())
    if as_json:
        print_json(
            [
                {
                    "name": s.name,
                    "kind": s.kind.value,
                    "description": s.description,
                    "higher_is_better": s.higher_is_better,
                    "lower": s.lower,
                    "upper": s.upper,
                    "unit": s.unit,
                    "tasks": list(s.tasks),
                }
                for s in specs
            ]
        )
        return
    rows = (
        (s.name, s.kind.value, s.description, "higher" if s.higher_is_better else "lower",
         ", ".join(s.tasks))
        for s in specs
    )  # fmt: skip
    console.print(table(None, ("metric", "kind", "meaning", "better", "tasks"), rows))
