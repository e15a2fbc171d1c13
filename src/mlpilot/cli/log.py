"""``mlpilot log …``: import an initiative's monitoring data into the event store."""

from __future__ import annotations

from collections.abc import Callable
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


# command, event kind in the store, noun in the report, help
_KINDS = (
    ("predictions", "predictions", "predictions",
     "Import predictions (id, time, score and/or prediction, features); ids stored are skipped."),
    ("outcomes", "outcomes", "outcomes",
     "Import outcomes (entity_id, time, label, optional id); ids stored are skipped."),
    ("requests", "requests", "requests",
     "Import service requests (id, time, latency_ms, model_version, status, error_class)."),
    ("exposures", "exposures", "exposures",
     "Import experiment exposures (unit_id, experiment, variant, time, optional id)."),
    ("metric-events", "metric_events", "metric events",
     "Import metric events (unit_id, time, metric, value, optional id)."),
)  # fmt: skip


def _log_command(kind: str, noun: str, help_text: str) -> Callable[..., None]:
    def command(
        ctx: typer.Context,
        slug: str,
        file: Path = FILE_ARGUMENT,
        mapping: list[str] = MAP_OPTION,
        as_json: bool = JSON_OPTION,
    ) -> None:
        initiative = open_workspace(ctx).initiative(slug)
        result = initiative.log_events(kind, file, parse_map(mapping))
        report(result, f"{noun} of {slug}", as_json)

    command.__doc__ = help_text
    return command


for _name, _kind, _noun, _help in _KINDS:
    app.command(_name)(_log_command(_kind, _noun, _help))
