"""``mlpilot source …``: read an initiative's events where they live (Spark, a warehouse, a
database), never copied. Definitions go to the workspace's sources.toml; connection settings
stay in the environment or the engines file (docs/scaling.md)."""

from __future__ import annotations

import typer

from mlpilot.cli.common import JSON_OPTION, console, done, open_workspace, print_json, table
from mlpilot.store.sources import ENGINES, KINDS, Source, SourceStore, parse_map

app = typer.Typer(
    help="External sources: monitoring data read where it lives.", no_args_is_help=True
)


def _store(ctx: typer.Context, slug: str | None = None) -> SourceStore:
    workspace = open_workspace(ctx)
    if slug is not None:
        workspace.initiative(slug).charter  # noqa: B018 — NotFoundError for an unknown slug
    return SourceStore(workspace.events.path.parent)


@app.command("add")
def add(
    ctx: typer.Context,
    slug: str,
    kind: str = typer.Option(..., "--kind", help=" | ".join(KINDS)),
    engine: str = typer.Option(..., "--engine", help=" | ".join(ENGINES)),
    table_name: str = typer.Option(
        ..., "--table", help="The table (schema.table, …) or, on duckdb/spark, a .parquet path."
    ),
    mapping: str | None = typer.Option(
        None, "--map", help="role=column pairs, e.g. id=pred_id,time=ts,score=p."
    ),
    replace: bool = typer.Option(False, "--replace", help="Replace the kind's source."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Read SLUG's KIND events from TABLE on ENGINE from now on (nothing is copied)."""
    if kind not in KINDS:
        from mlpilot.errors import ValidationError

        raise ValidationError(f"unknown kind {kind!r}; use one of: {', '.join(KINDS)}")
    source = Source(slug, kind, engine, table_name, parse_map(mapping, kind))
    _store(ctx, slug).add(source, replace=replace)
    if as_json:
        print_json(vars(source))
        return
    done(f"{slug} reads its {kind} from {table_name} on {engine}")


@app.command("list")
def list_(
    ctx: typer.Context, slug: str | None = typer.Argument(None), as_json: bool = JSON_OPTION
) -> None:
    """List the sources (of SLUG)."""
    sources = _store(ctx, slug).sources(slug)
    if as_json:
        print_json([vars(s) for s in sources])
        return
    rows = (
        (s.initiative, s.kind, s.engine, s.table, ", ".join(f"{k}={v}" for k, v in s.map.items()))
        for s in sources
    )
    console.print(table(None, ("initiative", "kind", "engine", "table", "map"), rows))


@app.command("remove")
def remove(
    ctx: typer.Context,
    slug: str,
    kind: str = typer.Option(..., "--kind", help=" | ".join(KINDS)),
) -> None:
    """Stop reading SLUG's KIND events from their source (the stored events count again)."""
    removed = _store(ctx, slug).remove(slug, kind)
    done(f"{slug} no longer reads its {kind} from {removed.table} on {removed.engine}")
