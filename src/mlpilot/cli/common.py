"""What every command shares: opening the workspace, printing JSON and tables."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from mlpilot.workspace import Workspace

console = Console(highlight=False)

JSON_OPTION = typer.Option(False, "--json", help="Print JSON with stable snake_case keys.")


def open_workspace(ctx: typer.Context, *, create: bool = False) -> Workspace:
    """The workspace named by ``--db`` / ``--home`` / the environment (see ``mlpilot --help``)."""
    options: dict[str, str | None] = ctx.find_root().obj or {}
    workspace = Workspace.open(options.get("db") or options.get("home"), create=create)
    ctx.call_on_close(workspace.close)
    return workspace


def print_json(data: Any) -> None:
    """Print ``data`` as indented JSON on stdout (plain, no colour, so it pipes cleanly)."""
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Table:
    """A rich table with ``columns``; None cells print as a dash."""
    out = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for column in columns:
        out.add_column(column)
    for row in rows:
        out.add_row(*("-" if cell is None else str(cell) for cell in row))
    return out


def done(message: str) -> None:
    """Confirm a change on one line."""
    console.print(f"[green]✓[/green] {message}")
