"""Reading a local .parquet or .csv file into Arrow IPC batches for the ingest endpoint.

PyArrow is imported inside the function, so ``import mlpilot`` (which loads the client) stays
light.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from mlpilot.errors import ValidationError

__all__ = ["ARROW_STREAM", "BATCH_ROWS", "RECORD_TYPE", "arrow_batches"]

ARROW_STREAM = "application/vnd.apache.arrow.stream"
BATCH_ROWS = 5_000  # ~1 MB of a typical prediction row set: far below the 8 MiB body limit
# event-store kind -> the ingest record type
RECORD_TYPE = {
    "predictions": "prediction",
    "outcomes": "outcome",
    "requests": "request",
    "exposures": "exposure",
    "metric_events": "metric_event",
}
_TEXT_FIELDS = ("id", "entity_id", "unit_id", "model_version", "experiment", "variant", "metric")


def _read(path: Path) -> Any:
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    if not path.is_file():
        raise ValidationError(f"no file {path}")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            return pq.read_table(path)
        if suffix == ".csv":
            return pacsv.read_csv(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise ValidationError(f"cannot read {path}: {str(exc).splitlines()[0]}") from None
    raise ValidationError(f"cannot read {path}: give a .parquet or .csv file")


def arrow_batches(
    kind: str, source: str | Path, column_map: Mapping[str, str] | None = None
) -> Iterator[tuple[int, int, bytes]]:
    """The rows of ``source`` as ingest batches: (first row, row count, Arrow IPC stream)
    with a ``type`` column; ``column_map`` maps an mlpilot column to the file's column."""
    import pyarrow as pa

    if kind not in RECORD_TYPE:
        raise ValidationError(f"unknown kind {kind!r}; expected one of: {', '.join(RECORD_TYPE)}")
    table = _read(Path(source))
    renamed = {column: name for name, column in (column_map or {}).items()}
    missing = [column for column in renamed if column not in table.column_names]
    if missing:
        raise ValidationError(f"{source} has no column {missing[0]!r} (named in --map)")
    table = table.rename_columns([renamed.get(c, c) for c in table.column_names])
    if "type" in table.column_names:
        raise ValidationError(f"{source} has a column 'type', which the ingest envelope uses")
    for name in _TEXT_FIELDS:
        if name in table.column_names and not pa.types.is_string(table.schema.field(name).type):
            table = table.set_column(
                table.column_names.index(name), name, table[name].cast(pa.string())
            )
    table = table.append_column("type", pa.array([RECORD_TYPE[kind]] * table.num_rows))
    for start in range(0, table.num_rows, BATCH_ROWS):
        chunk = table.slice(start, BATCH_ROWS)
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, chunk.schema) as writer:
            writer.write_table(chunk)
        yield start, chunk.num_rows, sink.getvalue().to_pybytes()
