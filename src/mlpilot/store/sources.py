"""External sources: an initiative's monitoring data read where it lives, never copied.

A source says, for one initiative and one kind of events, which engine holds the table, its
name (or a Parquet / CSV path for DuckDB and Spark) and how its columns map to mlpilot's
roles (``id=prediction_id,time=ts,score=p``). Definitions live in the workspace folder as
``sources.toml`` — plain TOML a person can read and review. **No connection setting is ever
stored there**: hosts, users and passwords come from the environment or a config file outside
the workspace (:mod:`mlpilot.engine.external`), so the workspace holds no secret.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from mlpilot.domain.parsing import validate_slug
from mlpilot.errors import AlreadyExistsError, CorruptWorkspaceError, NotFoundError, ValidationError

FILE = "sources.toml"
KINDS = ("predictions", "outcomes", "requests", "exposures", "metric-events")
ENGINES = ("spark", "duckdb", "postgres", "bigquery", "snowflake", "clickhouse", "trino")
# The roles a map may name: the columns mlpilot reads, by kind.
ROLES = {
    "predictions": ("id", "time", "entity_id", "model_version", "score", "prediction",
                    "latency_ms", "status", "error_class"),
    "outcomes": ("id", "entity_id", "time", "label"),
    "requests": ("id", "time", "latency_ms", "model_version", "status", "error_class"),
    "exposures": ("id", "unit_id", "experiment", "variant", "time"),
    "metric-events": ("id", "unit_id", "time", "metric", "value"),
}  # fmt: skip
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")
_SECRET = re.compile(r"://[^/@\s]*:[^/@\s]*@")  # user:password@ in a URL


@dataclass(frozen=True)
class Source:
    """One initiative's events of one kind, in a table of an external engine."""

    initiative: str
    kind: str
    engine: str
    table: str
    map: dict[str, str] = field(default_factory=dict)  # role -> the table's column

    @property
    def event_kind(self) -> str:
        """The event store's name of the kind (``metric_events``)."""
        return self.kind.replace("-", "_")


def parse_map(text: str | None, kind: str) -> dict[str, str]:
    """``id=prediction_id,time=ts`` → ``{"id": "prediction_id", "time": "ts"}``."""
    if not text:
        return {}
    result: dict[str, str] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        role, sep, column = (s.strip() for s in item.partition("="))
        if not sep or not role or not column:
            raise ValidationError(f"invalid map item {item!r}; write role=column, e.g. id=pred_id")
        if role not in ROLES[kind]:
            raise ValidationError(
                f"{kind} have no role {role!r}; the roles are: {', '.join(ROLES[kind])}"
            )
        result[role] = column
    return result


def check(source: Source) -> Source:
    """The source, or a ValidationError naming what is wrong."""
    validate_slug(source.initiative)
    if source.kind not in KINDS:
        raise ValidationError(f"unknown kind {source.kind!r}; use one of: {', '.join(KINDS)}")
    if source.engine not in ENGINES:
        raise ValidationError(f"unknown engine {source.engine!r}; use one of: {', '.join(ENGINES)}")
    if not source.table.strip():
        raise ValidationError("give the table (--table NAME, or a .parquet / .csv path)")
    if _SECRET.search(source.table) or "password" in source.table.lower():
        raise ValidationError(
            "the table looks like it holds credentials; put connection settings in the "
            "environment or the engines config file (docs/scaling.md), never in a source"
        )
    for role, column in source.map.items():
        if role not in ROLES[source.kind]:
            raise ValidationError(f"{source.kind} have no role {role!r}")
        if not column.strip():
            raise ValidationError(f"the map gives no column for {role!r}")
    return source


class SourceStore:
    """The ``sources.toml`` of a workspace folder."""

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / FILE

    def sources(self, initiative: str | None = None) -> list[Source]:
        """Every source (of ``initiative``), in the order they were added."""
        if not self.path.exists():
            return []
        try:
            data = tomllib.loads(self.path.read_text(encoding="utf-8"))
            found = [
                Source(s["initiative"], s["kind"], s["engine"], s["table"], dict(s.get("map", {})))
                for s in data.get("source", [])
            ]
        except (tomllib.TOMLDecodeError, KeyError, TypeError) as exc:
            raise CorruptWorkspaceError(f"{self.path} is not a valid sources file: {exc}") from None
        return [s for s in found if initiative is None or s.initiative == initiative]

    def get(self, initiative: str, kind: str) -> Source | None:
        """The source of ``initiative``'s ``kind`` events (``metric_events`` or
        ``metric-events``), or None when they are stored in the workspace."""
        wanted = kind.replace("_", "-")
        return next((s for s in self.sources(initiative) if s.kind == wanted), None)

    def add(self, source: Source, *, replace: bool = False) -> Source:
        """Add (or with ``replace`` replace) the source of an initiative's kind of events."""
        check(source)
        existing = self.sources()
        clash = [s for s in existing if (s.initiative, s.kind) == (source.initiative, source.kind)]
        if clash and not replace:
            raise AlreadyExistsError(
                f"{source.initiative} has a {source.kind} source already; replace it with "
                "--replace, or remove it first"
            )
        kept = [s for s in existing if s not in clash]
        self._write([*kept, source])
        return source

    def remove(self, initiative: str, kind: str) -> Source:
        """Remove the source of ``initiative``'s ``kind`` events; NotFoundError if none."""
        found = self.get(initiative, kind)
        if found is None:
            raise NotFoundError(f"{initiative} has no {kind} source")
        self._write([s for s in self.sources() if s != found])
        return found

    def _write(self, sources: list[Source]) -> None:
        lines = [
            "# mlpilot external sources: where each initiative's events are read.",
            "# No connection settings here: see docs/scaling.md.",
        ]
        for s in sources:
            mapping = ", ".join(f"{_key(k)} = {json.dumps(v)}" for k, v in s.map.items())
            lines += [
                "",
                "[[source]]",
                f"initiative = {json.dumps(s.initiative)}",
                f"kind = {json.dumps(s.kind)}",
                f"engine = {json.dumps(s.engine)}",
                f"table = {json.dumps(s.table)}",
                f"map = {{ {mapping} }}" if mapping else "map = {}",
            ]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".toml.tmp")
        temporary.write_text("\n".join(lines) + "\n", encoding="utf-8")
        temporary.replace(self.path)  # readers never see half a file


def _key(name: str) -> str:
    return name if _NAME.match(name) else json.dumps(name)
