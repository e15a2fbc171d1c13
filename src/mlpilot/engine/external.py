"""Connections to the engines that hold external sources, from settings outside the workspace.

Each engine's connection comes from, in order:

1. the environment: ``MLPILOT_<ENGINE>_URL`` (``MLPILOT_POSTGRES_URL``,
   ``MLPILOT_BIGQUERY_URL``, ``MLPILOT_SNOWFLAKE_URL``, ``MLPILOT_CLICKHOUSE_URL``,
   ``MLPILOT_TRINO_URL``, ``MLPILOT_DUCKDB_URL``), an Ibis connection URL such as
   ``postgres://monitor@db:5432/analytics``;
2. the engines file: ``MLPILOT_ENGINES_FILE``, default ``~/.config/mlpilot/engines.toml``,
   a table per engine with a ``url`` (``[postgres] url = "postgres://…"``).

Spark is configured by ``MLPILOT_SPARK_*`` (:mod:`mlpilot.engine.spark`). A DuckDB source
without a URL reads files (Parquet, CSV) in an in-memory DuckDB. Passwords belong in the
engine's own mechanism (``PGPASSWORD`` / ``~/.pgpass``, a cloud credential file, a secret
manager that fills the environment), never in the workspace.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlpilot.errors import NotFoundError, ValidationError

if TYPE_CHECKING:
    import ibis.expr.types as ir

# The Ibis backend (and the extra to install) behind each engine name.
BACKENDS = {
    "duckdb": ("duckdb", "ibis-framework[duckdb]"),
    "spark": ("pyspark", "mlpilot[spark]"),
    "postgres": ("postgres", "ibis-framework[postgres]"),
    "bigquery": ("bigquery", "ibis-framework[bigquery]"),
    "snowflake": ("snowflake", "ibis-framework[snowflake]"),
    "clickhouse": ("clickhouse", "ibis-framework[clickhouse]"),
    "trino": ("trino", "ibis-framework[trino]"),
}
_FILES = (".parquet", ".pq", ".csv")


def engines_file() -> Path:
    """Where the engines file is looked for."""
    configured = os.environ.get("MLPILOT_ENGINES_FILE")
    return Path(configured) if configured else Path.home() / ".config" / "mlpilot" / "engines.toml"


def url(engine: str) -> str | None:
    """The connection URL of ``engine`` from the environment or the engines file, or None."""
    found = os.environ.get(f"MLPILOT_{engine.upper()}_URL")
    if found:
        return found
    path = engines_file()
    if not path.exists():
        return None
    try:
        settings = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError(f"{path} is not valid TOML: {exc}") from None
    value = settings.get(engine, {}).get("url")
    return str(value) if value else None


def connect(engine: str) -> Any:
    """An Ibis connection to ``engine`` (see the module docstring)."""
    if engine not in BACKENDS:
        raise ValidationError(f"unknown engine {engine!r}; use one of: {', '.join(BACKENDS)}")
    if engine == "spark":
        from mlpilot.engine.spark import connect as spark

        return spark()
    address = url(engine)
    if engine == "duckdb":
        from mlpilot.engine.connection import duckdb

        return duckdb(Path(address.removeprefix("duckdb://")) if address else None, read_only=True)
    if address is None:
        raise NotFoundError(
            f"no connection settings for {engine}: set MLPILOT_{engine.upper()}_URL or add "
            f'[{engine}] url = "…" to {engines_file()} (docs/scaling.md)'
        )
    import ibis

    try:
        return ibis.connect(address)
    except ImportError:
        raise ValidationError(
            f"the {engine} engine needs its Ibis backend: pip install '{BACKENDS[engine][1]}'"
        ) from None


def table(connection: Any, engine: str, name: str) -> ir.Table:
    """The source's table: a Parquet / CSV path (DuckDB and Spark) or a table name, optionally
    qualified (``schema.table``, ``project.dataset.table``)."""
    if engine in ("duckdb", "spark") and name.lower().endswith(_FILES):
        from mlpilot.engine.connection import table as read

        return read(name, connection)
    head, dot, tail = name.rpartition(".")
    try:
        return connection.table(tail, database=head) if dot else connection.table(name)
    except Exception as exc:  # each backend has its own "no such table" error
        raise NotFoundError(f"no table {name!r} on {engine}: {str(exc).splitlines()[0]}") from None


def close(connection: Any, engine: str) -> None:
    """Close a connection; a Spark session stays up for the process (it is costly to start)."""
    if engine != "spark":
        connection.disconnect()
