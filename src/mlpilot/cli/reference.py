"""``mlpilot reference …``: the named datasets (e.g. the training data) monitors compare against."""

from __future__ import annotations

from pathlib import Path

import typer

from mlpilot.cli.common import JSON_OPTION, console, open_workspace, print_json, table
from mlpilot.cli.log import FILE_ARGUMENT, MAP_OPTION, parse_map, report

app = typer.Typer(
    help="Reference datasets: the data monitors compare against.", no_args_is_help=True
)


@app.command("add")
def add(
    ctx: typer.Context,
    slug: str,
    name: str = typer.Argument(..., help="e.g. training; lowercase letters, digits, hyphens."),
    file: Path = FILE_ARGUMENT,
    mapping: list[str] = MAP_OPTION,
    replace: bool = typer.Option(False, "--replace", help="Replace a reference of that name."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Store FILE as the reference NAME (features, optionally score and label)."""
    initiative = open_workspace(ctx).initiative(slug)
    result = initiative.add_reference(name, file, parse_map(mapping), replace=replace)
    report(result, f"reference {name} of {slug}", as_json)


@app.command("list")
def list_(ctx: typer.Context, slug: str, as_json: bool = JSON_OPTION) -> None:
    """List the reference datasets."""
    references = open_workspace(ctx).initiative(slug).references()
    if as_json:
        print_json(
            [
                {
                    "name": r.name,
                    "rows": r.rows,
                    "columns": list(r.columns),
                    "created_at": r.created_at.isoformat(),
                }
                for r in references
            ]
        )
        return
    rows = (
        (r.name, r.rows, len(r.columns), r.created_at.strftime("%Y-%m-%d %H:%M"))
        for r in references
    )
    console.print(table(None, ("name", "rows", "columns", "created (UTC)"), rows))
