"""Open engines and name tables: files (Parquet, CSV), frames, and tables in a database."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlpilot.errors import NotFoundError, ValidationError

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from ibis.backends.duckdb import Backend as DuckDBBackend

_READERS = {".parquet": "read_parquet", ".pq": "read_parquet", ".csv": "read_csv"}


def duckdb(path: Path | None = None, *, read_only: bool = False) -> DuckDBBackend:
    """An Ibis DuckDB connection: in memory, or on the database file ``path``."""
    import ibis

    if path is None:
        return ibis.duckdb.connect()
    return ibis.duckdb.connect(str(path), read_only=read_only)


def table(source: str | Path | Any, connection: DuckDBBackend | None = None) -> ir.Table:
    """An Ibis table for a Parquet or CSV file, a pandas / polars / Arrow frame, or a table name.

    Files are read where they are (nothing is copied); a frame is registered with the
    connection. A bare name is looked up among the connection's tables.
    """
    con = connection if connection is not None else duckdb()
    if isinstance(source, (str, Path)):
        path = Path(source)
        reader = _READERS.get(path.suffix.lower())
        if reader is not None:
            if not path.exists():
                raise NotFoundError(f"no file {path}")
            return getattr(con, reader)(str(path))
        if isinstance(source, str) and source in con.list_tables():
            return con.table(source)
        raise ValidationError(
            f"cannot read {source!s}: give a .parquet or .csv file, or the name of a table"
        )
    try:
        return con.create_table(f"_frame_{id(source)}", source, temp=True, overwrite=True)
    except Exception as exc:  # ibis raises several types for an unknown object
        raise ValidationError(
            f"cannot read a {type(source).__name__}: give a pandas, polars or Arrow frame"
        ) from exc
