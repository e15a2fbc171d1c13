"""``--engine duckdb|spark`` for the commands that read files: open the engine, read a file on
it, and turn the engine's own errors into one-line mlpilot errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import typer

from mlpilot.errors import MlpilotError, ValidationError

if TYPE_CHECKING:
    import ibis.expr.types as ir

ENGINES = ("duckdb", "spark")
ENGINE_OPTION = typer.Option(
    "duckdb",
    "--engine",
    help="Where to compute: duckdb (embedded, default) or spark (PySpark; master from "
    "MLPILOT_SPARK_MASTER, default local[*]; see docs/scaling.md).",
)


@contextmanager
def engine(name: str) -> Iterator[Any]:
    """An Ibis connection to the engine ``name``, closed (DuckDB) after the block; engine errors
    (an unreadable file, a bad column) become a ValidationError with the engine's first line
    (its cause is the engine's error: see :func:`refused`)."""
    if name not in ENGINES:
        raise ValidationError(f"unknown engine {name!r}; use one of: {', '.join(ENGINES)}")
    if name == "spark":
        from mlpilot.engine.spark import connect

        con = connect()
    else:
        from mlpilot.engine.connection import duckdb

        con = duckdb()
    try:
        yield con
    except MlpilotError:
        raise
    except Exception as exc:
        if not _engine_error(exc):
            raise
        lines = str(exc).strip().splitlines()
        raise ValidationError(lines[0] if lines else type(exc).__name__) from exc
    finally:
        if name == "duckdb":
            con.disconnect()


def refused(exc: BaseException) -> bool:
    """Whether a ValidationError from :func:`engine` is the engine refusing the input."""
    cause = exc.__cause__
    return isinstance(cause, Exception) and _engine_error(cause)


def _engine_error(exc: Exception) -> bool:
    module = type(exc).__module__
    return module.startswith(("duckdb", "_duckdb", "pyspark", "py4j"))


def read(con: Any, source: str) -> ir.Table:
    """A Parquet or CSV file (or a table name) on the connection, read where it is."""
    from mlpilot.engine.connection import table

    return table(source, con)
