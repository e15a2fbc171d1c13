"""``mlpilot log …``: import an initiative's monitoring data into the event store."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import typer

from mlpilot.cli.common import JSON_OPTION, done, open_workspace, print_json
from mlpilot.errors import ValidationError
from mlpilot.store.events import ImportResult

app = typer.Typer(
    help="Log monitoring data: predictions, outcomes, requests, exposures, metric events.",
    no_args_is_help=True,
)

MAP_OPTION = typer.Option(
    [], "--map", help="name=column: the file's column for an mlpilot column, e.g. time=ts."
)
FILE_ARGUMENT = typer.Argument(..., help="A .parquet or .csv file.")


def parse_map(entries: list[str]) -> dict[str, str]:
    """``["id=prediction_id", "time=ts"]`` as ``{"id": "prediction_id", "time": "ts"}``."""
    mapping: dict[str, str] = {}
    for entry in entries:
        name, sep, column = entry.partition("=")
        if not sep or not name.strip() or not column.strip():
            raise ValidationError(f"invalid --map {entry!r}: give name=column, e.g. --map time=ts")
        if name.strip() in mapping:
            raise ValidationError(f"--map gives {name.strip()!r} twice")
        mapping[name.strip()] = column.strip()
    return mapping


def report(result: ImportResult, what: str, as_json: bool) -> None:
    """One line (or the JSON) saying what an import stored."""
    if as_json:
        print_json(asdict(result))
        return
    done(
        f"{what}: {result.received} received, {result.inserted} inserted, "
        f"{result.duplicates} duplicates"
    )


@app.command("predictions")
def predictions(
    ctx: typer.Context,
    slug: str,
    file: Path = FILE_ARGUMENT,
    mapping: list[str] = MAP_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Import predictions (id, time, score and/or prediction, features); ids stored are skipped."""
    initiative = open_workspace(ctx).initiative(slug)
    report(initiative.log_predictions(file, parse_map(mapping)), f"predictions of {slug}", as_json)


@app.command("outcomes")
def outcomes(
    ctx: typer.Context,
    slug: str,
    file: Path = FILE_ARGUMENT,
    mapping: list[str] = MAP_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Import outcomes (entity_id, time, label, optional id); ids stored are skipped."""
    initiative = open_workspace(ctx).initiative(slug)
    report(initiative.log_outcomes(file, parse_map(mapping)), f"outcomes of {slug}", as_json)


@app.command("requests")
def requests(
    ctx: typer.Context,
    slug: str,
    file: Path = FILE_ARGUMENT,
    mapping: list[str] = MAP_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Import service requests (id, time, latency_ms, model_version, status, error_class)."""
    initiative = open_workspace(ctx).initiative(slug)
    report(initiative.log_requests(file, parse_map(mapping)), f"requests of {slug}", as_json)


@app.command("exposures")
def exposures(
    ctx: typer.Context,
    slug: str,
    file: Path = FILE_ARGUMENT,
    mapping: list[str] = MAP_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Import experiment exposures (unit_id, experiment, variant, time, optional id)."""
    initiative = open_workspace(ctx).initiative(slug)
    report(initiative.log_exposures(file, parse_map(mapping)), f"exposures of {slug}", as_json)


@app.command("metric-events")
def metric_events(
    ctx: typer.Context,
    slug: str,
    file: Path = FILE_ARGUMENT,
    mapping: list[str] = MAP_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Import metric events (unit_id, time, metric, value, optional id)."""
    initiative = open_workspace(ctx).initiative(slug)
    result = initiative.log_metric_events(file, parse_map(mapping))
    report(result, f"metric events of {slug}", as_json)
