"""What every command shares: opening the workspace, printing JSON and tables."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from typing import Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from mlpilot.store.database import resolve
from mlpilot.workspace import Workspace

console = Console(highlight=False)

JSON_OPTION = typer.Option(False, "--json", help="Print JSON with stable snake_case keys.")


def open_workspace(
    ctx: typer.Context, *, create: bool = False, while_served: bool = False
) -> Workspace:
    """The workspace named by ``--db`` / ``--home`` / the environment (see ``mlpilot --help``).

    With ``MLPILOT_URI`` set, the command runs through that server instead (the commands the
    client supports; any other fails on one line) and this never returns. A workspace held by a
    running ``mlpilot serve`` is refused unless ``while_served`` (commands safe beside it).
    """
    if os.environ.get("MLPILOT_URI"):
        from mlpilot.client.cli import run_remote

        run_remote(ctx)  # prints the command's output and exits, or raises
    from mlpilot.server.holder import check_not_held

    options: dict[str, str | None] = ctx.find_root().obj or {}
    where = options.get("db") or options.get("home")
    if not while_served:
        check_not_held(resolve(where).home)
    workspace = Workspace.open(where, create=create)
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
