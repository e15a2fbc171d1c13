"""How rows get into the event store: read the input, map and type its columns, validate, insert.

Everything here runs inside the caller's DuckDB transaction, so a refused input writes nothing.
Columns have roles: reserved names (``id``, ``time``, ``score``…) are stored with fixed types,
every other column is a feature kept with its own type, normalised so that files of the same data
agree (integers as BIGINT, other numbers as DOUBLE, timestamps in microseconds, enums as text).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlpilot.errors import NotFoundError, ValidationError
from mlpilot.store.sql import column_types, quote
from mlpilot.store.units import BATCH_KEYS, UNIT_KEY, ensure_keys, key_batch, units_table

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

__all__ = [
    "EXPOSURES",
    "METRIC_EVENTS",
    "OUTCOMES",
    "PREDICTIONS",
    "REFERENCE",
    "REQUESTS",
    "Kind",
    "column_types",
    "import_rows",
    "insert_checked",
    "quote",
]

_TZ = "TIMESTAMP WITH TIME ZONE"
_LADDERS = (("BIGINT", "DOUBLE"), ("DATE", "TIMESTAMP", _TZ))  # safe widenings, narrow first
_INTEGERS = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER"}
_FLOATS = {"FLOAT", "DOUBLE", "UBIGINT", "HUGEINT", "UHUGEINT"}
_TEMPORAL = {"DATE", "TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", _TZ}


@dataclass(frozen=True)
class Kind:
    """How one kind of table treats its columns: role by reserved name, required ones."""

    noun: str  # for messages: "cannot import predictions of churn: …"
    roles: Mapping[str, str]  # reserved column -> role: text, time, score, number, status, value
    required: tuple[str, ...]
    always: tuple[str, ...]  # reserved text columns every table of the kind has, maybe null
    id_from: tuple[str, ...] = ()  # without an id column, the id is a hash of these columns
    keyed: bool = False  # rows get their unit's dense key (store/units.py)


# A prediction may carry its request's latency and status: it then counts as a request too.
_SERVICE = {"latency_ms": "number", "status": "status", "error_class": "text"}
PREDICTIONS = Kind(
    "predictions",
    {"id": "text", "time": "time", "entity_id": "text", "model_version": "text",
     "score": "score", "prediction": "value", **_SERVICE},
    ("id", "time"),
    ("entity_id", "model_version"),
)  # fmt: skip
OUTCOMES = Kind(
    "outcomes",
    {"id": "text", "time": "time", "entity_id": "text", "label": "value"},
    ("entity_id", "time", "label"),
    (),
    ("entity_id", "time"),
)
REFERENCE = Kind("reference", {"score": "score", "prediction": "value", "label": "value"}, (), ())
REQUESTS = Kind(
    "requests",
    {"id": "text", "time": "time", "model_version": "text", **_SERVICE},
    ("id", "time", "latency_ms"),
    ("model_version", "status", "error_class"),
)
EXPOSURES = Kind(
    "exposures",
    {"id": "text", "time": "time", "unit_id": "text", "experiment": "text", "variant": "text"},
    ("unit_id", "experiment", "variant", "time"),
    (),
    ("experiment", "unit_id", "time"),
    keyed=True,
)
METRIC_EVENTS = Kind(
    "metric events",
    {"id": "text", "time": "time", "unit_id": "text", "metric": "text", "value": "number"},
    ("unit_id", "time", "metric", "value"),
    (),
    ("unit_id", "time", "metric", "value"),
    keyed=True,
)
_FIXED = {
    "text": "VARCHAR", "time": _TZ, "score": "DOUBLE", "number": "DOUBLE", "status": "VARCHAR"
}  # fmt: skip
_STATUSES = ("ok", "error")


@dataclass
class _Column:
    """One column of an import: where it comes from, what it is, what it is stored as."""

    name: str  # in the stored table
    source: str  # in the input
    incoming: str  # DuckDB type in the input
    role: str  # text, time, score, value or feature
    target: str | None  # stored type; None: no values and no type (skipped when new)
    sql: str | None = None  # the value, when not the input column itself (a derived id)
    stored: str | None = None  # type in the stored table, when the column exists
    conflict: bool = False  # types differ; fine only if one side holds no values

    @property
    def expr(self) -> str:
        """SQL for the value as stored."""
        if self.sql is not None:
            return self.sql
        src = quote(self.source)
        if self.role == "time" and self.incoming not in _TEMPORAL:
            return f"TRY_CAST(CAST({src} AS VARCHAR) AS {_TZ})"
        return src if self.target in (None, self.incoming) else f"CAST({src} AS {self.target})"


# The import, step by step ---------------------------------------------------------------------


def import_rows(
    con: duckdb.DuckDBPyConnection,
    table: str,
    kind: Kind,
    slug: str,
    source: Any,
    column_map: Mapping[str, str] | None,
) -> tuple[int, int]:
    """Validate ``source``, then insert its new rows into ``table`` (caller's transaction)."""
    src = _register(con, source)
    received = _scalar(con, f"SELECT count(*) FROM {src}")
    if received == 0:
        return 0, 0
    noun = f"{kind.noun} of {slug}" if kind is not REFERENCE else f"a reference for {slug}"
    described = con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()
    columns, problems = _plan([(str(row[0]), str(row[1])) for row in described], column_map, kind)
    if problems:
        raise ValidationError(f"cannot import {noun}: {'; '.join(problems)}")
    stored = {name.lower(): type_ for name, type_ in column_types(con, table)}
    for column in columns:
        column.stored = stored.get(column.name.lower())
        if column.stored is not None and column.role in ("value", "feature"):
            merged = _merge(column.stored, column.target)
            column.conflict = merged is None
            column.target = column.stored if merged is None else merged
    key = next((c.expr for c in columns if c.name == "id"), None)
    problems, distinct = _check(con, src, table, columns, kind, key)
    if problems:
        raise ValidationError(f"cannot import {noun}: {'; '.join(problems)}")
    created = _evolve(con, table, columns, kind, bool(stored))
    kept = [c for c in columns if c.target is not None or c.stored is not None]
    rows = f"SELECT {', '.join(f'{c.expr} AS c{i}' for i, c in enumerate(kept))} FROM {src}"
    at = next((i for i, c in enumerate(kept) if c.name == "id"), None)
    if at is not None and distinct < received:  # the first of repeated ids wins
        con.execute(f"CREATE TEMP TABLE _mlpilot_rows AS {rows}")  # in the input's order
        rows = (
            "SELECT * EXCLUDE (_nth) FROM (SELECT *, row_number() OVER "
            f"(PARTITION BY c{at} ORDER BY rowid) AS _nth FROM _mlpilot_rows) WHERE _nth = 1"
        )
    anti = (
        ""
        if at is None or created
        else f" WHERE NOT EXISTS (SELECT 1 FROM {quote(table)} AS s WHERE s.id = n.c{at})"
    )
    return received, _insert(con, table, kind, [c.name for c in kept], rows, anti)


def _insert(
    con: duckdb.DuckDBPyConnection,
    table: str,
    kind: Kind,
    names: list[str],
    rows: str,
    where: str = "",
) -> int:
    """Insert the rows of the query ``rows`` (columns c0, c1, … for ``names``) that pass
    ``where`` (on ``n``); a keyed kind's rows get their units' keys. Returns the rows stored."""
    picks = [f"n.c{i}" for i in range(len(names))]
    columns = [quote(name) for name in names]
    join = ""
    if kind.keyed:
        ensure_keys(con, table)
        unit = f"n.c{names.index('unit_id')}"
        # Rows stored already have keys: every unit of the input, whatever ``where`` keeps.
        keys = key_batch(con, units_table(table), f"SELECT {unit} AS unit_id FROM ({rows}) AS n")
        picks.append("k.unit_key")
        columns.append(UNIT_KEY)
        join = f" LEFT JOIN {keys} AS k ON k.unit_id = {unit}"
    inserted = _scalar(
        con,
        f"INSERT INTO {quote(table)} ({', '.join(columns)}) "
        f"SELECT {', '.join(picks)} FROM ({rows}) AS n{join}{where}",
    )
    if kind.keyed:
        con.execute(f"DROP TABLE {BATCH_KEYS}")
    return inserted


def insert_checked(
    con: duckdb.DuckDBPyConnection, table: str, kind: Kind, data: pa.Table
) -> tuple[dict[int, int], list[tuple[int, int, str]]]:
    """Insert rows checked already (the server's records, an Arrow table) into ``table``, in the
    caller's transaction: columns are added and widened as by :func:`import_rows`, a null
    ``id`` is derived as there, the first row of a repeated id is kept and stored ids skipped.

    ``data`` has two more columns, ``_item`` (the request a row came from) and ``_index`` (its
    place in that request), and is in (``_item``, ``_index``) order. A value whose type
    conflicts with a stored column holding values refuses its row, not the others. Returns the
    rows stored per item, and the refused rows as (item, index, reason).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    private = ("_item", "_index")
    con.register("_mlpilot_checked", data)
    described = con.execute("DESCRIBE SELECT * FROM _mlpilot_checked").fetchall()
    incoming = [(str(row[0]), str(row[1])) for row in described if row[0] not in private]
    columns, problems = _plan(incoming, None, kind, derive_missing=True)
    if problems:  # the server validated the records: a problem here is mlpilot's own bug
        raise ValidationError(f"cannot import {kind.noun}: {'; '.join(problems)}")
    stored = {name.lower(): (name, type_) for name, type_ in column_types(con, table)}
    keep = pa.array([True] * data.num_rows)
    refused: list[tuple[int, int, str]] = []
    for column in columns:
        name, column.stored = stored.get(column.name.lower(), (column.name, None))
        column.name = name  # the stored spelling: DuckDB names ignore case
        if column.stored is None or column.role not in ("value", "feature"):
            continue
        merged = _merge(column.stored, column.target)
        if merged is not None:
            column.target = merged
        elif _scalar(con, f"SELECT count({quote(name)}) FROM {quote(table)}"):
            given = pc.is_valid(data[column.source])
            reason = (
                f"{column.source!r} is {column.incoming} but the stored {kind.noun} "
                f"hold {column.stored}"
            )
            for at in pc.indices_nonzero(pc.and_(given, keep)).to_pylist():
                refused.append((data["_item"][at].as_py(), data["_index"][at].as_py(), reason))
            keep = pc.and_(keep, pc.invert(given))
            column.target = None  # left out; its rows are refused
        else:  # the stored column holds no values yet: it takes the incoming type
            column.target = _role_type(column.name, column.role, column.incoming, [])
    kept = [c for c in columns if c.target is not None]
    created = _evolve(con, table, kept, kind, bool(stored))
    id_column = next(c for c in kept if c.name == "id")
    if id_column.sql is not None:  # some ids are derived: compute them once, in SQL
        ids = con.execute(f"SELECT {id_column.expr} FROM _mlpilot_checked").fetch_arrow_table()
        data = data.drop_columns(["id"]) if "id" in data.column_names else data
        data = data.append_column("id", ids.column(0).cast(pa.string()))
        id_column.sql = None
        id_column.source = "id"
    ids = data["id"]
    if pc.count_distinct(ids).as_py() < data.num_rows:  # the first of a repeated id wins
        seen: set[Any] = set()
        first: list[bool] = []
        for value in ids.to_pylist():
            first.append(value not in seen)
            seen.add(value)
        keep = pc.and_(keep, pa.array(first))
    if not created:
        con.register("_mlpilot_ids", pa.table({"id": ids}))
        known = con.execute(
            f"SELECT s.id FROM {quote(table)} AS s WHERE s.id IN (SELECT id FROM _mlpilot_ids)"
        ).fetch_arrow_table()
        con.unregister("_mlpilot_ids")
        if known.num_rows:
            keep = pc.and_(keep, pc.invert(pc.is_in(ids, value_set=known.column(0))))
    rows = data.filter(keep)
    con.register("_mlpilot_checked", rows)
    values = ", ".join(f"{c.expr} AS c{i}" for i, c in enumerate(kept))
    _insert(con, table, kind, [c.name for c in kept], f"SELECT {values} FROM _mlpilot_checked")
    con.unregister("_mlpilot_checked")
    counts = pc.value_counts(rows["_item"]).to_pylist() if rows.num_rows else []
    return {int(c["values"]): int(c["counts"]) for c in counts}, refused


def _plan(
    incoming: Sequence[tuple[str, str]],
    column_map: Mapping[str, str] | None,
    kind: Kind,
    *,
    derive_missing: bool = False,
) -> tuple[list[_Column], list[str]]:
    """The input's columns under their stored names and roles, reserved ones first; problems."""
    problems: list[str] = []
    types = {name.lower(): (name, type_) for name, type_ in incoming}
    mapped: dict[str, str] = {}  # stored name -> input column
    for name, column in (column_map or {}).items():
        if not name.strip() or not column.strip():
            raise ValidationError(
                f"column_map entry {name!r}: {column!r} needs a name and a column"
            )
        if column.lower() in types:
            mapped[name] = types[column.lower()][0]
            continue
        problems.append(f"column_map names a column {column!r} (for {name}) that the input lacks")
    consumed = {c.lower() for c in mapped.values()}
    names = [*mapped, *(n for n, _ in incoming if n.lower() not in consumed)]
    columns: list[_Column] = []
    seen: dict[str, str] = {}
    for name in names:
        source = mapped.get(name, name)
        if name.lower() in seen:
            problems.append(
                f"two columns would be stored as {name!r} ({seen[name.lower()]!r} and "
                f"{source!r}; names ignore case); rename or map one of them"
            )
            continue
        seen[name.lower()] = source
        if kind.keyed and name.lower() == UNIT_KEY:
            problems.append(f"{UNIT_KEY!r} is the store's own column (the unit's key); rename it")
            continue
        role = kind.roles.get(name.lower(), "feature")
        stored_name = name if role == "feature" else name.lower()
        incoming_type = types[source.lower()][1]
        target = _role_type(stored_name, role, incoming_type, problems)
        columns.append(_Column(stored_name, source, incoming_type, role, target))
    present = {c.name for c in columns}
    for name in kind.required:
        if name not in present:
            problems.append(f"no {name!r} column; map one with column_map / --map {name}=COLUMN")
    if kind is PREDICTIONS and not present & {"score", "prediction"}:
        problems.append("neither a 'score' nor a 'prediction' column; give at least one")
    if problems:
        shown = ", ".join(n for n, _ in incoming[:20]) + (", …" if len(incoming) > 20 else "")
        problems.append(f"the input's columns: {shown}")
    if kind.id_from and not problems and ("id" not in present or derive_missing):
        parts = [next(c for c in columns if c.name == n) for n in kind.id_from]
        derived = " || '|' || ".join(
            f"CAST({f'epoch_us({c.expr})' if c.role == 'time' else c.expr} AS VARCHAR)"
            for c in parts
        )  # times to the microsecond, so a re-import finds the same id
        given = next((c for c in columns if c.name == "id"), None)
        if given is None:
            columns.append(_Column("id", "", "VARCHAR", "text", "VARCHAR", sql=f"md5({derived})"))
        else:  # some rows have ids, others get derived ones
            given.sql = f"coalesce({given.expr}, md5({derived}))"
    return _in_order(columns, kind), problems


def _role_type(name: str, role: str, duck_type: str, problems: list[str]) -> str | None:
    """The stored type of a column in ``role``; a problem when its input type cannot be one."""
    storable = _storable(duck_type)
    if role == "score" and storable not in ("BIGINT", "DOUBLE", None):
        problems.append(f"column 'score' is {duck_type}; it must be numeric (a probability)")
    if role == "number" and storable not in ("BIGINT", "DOUBLE", None):
        problems.append(f"column {name!r} is {duck_type}; it must be numeric")
    if role in _FIXED:
        return _FIXED[role]
    if role == "value":
        if storable in ("BIGINT", "DOUBLE", "BOOLEAN"):
            return "DOUBLE"
        if storable not in ("VARCHAR", None):
            problems.append(
                f"column {name!r} is {duck_type}; it must be numbers or text (class labels)"
            )
    return storable


def _check(
    con: duckdb.DuckDBPyConnection,
    src: str,
    table: str,
    columns: list[_Column],
    kind: Kind,
    key: str | None,
) -> tuple[list[str], int]:
    """One pass over the input: bad values as problems, and the number of distinct ids."""
    by_name = {c.name: c for c in columns}
    counts: list[tuple[str, Callable[[int, object], str]]] = []  # SQL condition, its problem
    for name in dict.fromkeys(("id", *kind.required)):
        column = by_name.get(name)
        if column and column.role != "feature" and column.source:
            counts.append((f"{quote(column.source)} IS NULL", _nulls(name, column.source)))
    time = by_name.get("time")
    example = None  # SQL for one value of the time column that is not a time
    if time is not None and time.role == "time" and time.incoming not in _TEMPORAL:
        bad = f"{quote(time.source)} IS NOT NULL AND {time.expr} IS NULL"
        counts.append((bad, _bad_times(time.source)))
        example = f"min(CAST({quote(time.source)} AS VARCHAR)) FILTER ({bad})"
    if "score" in by_name:
        source = by_name["score"].source
        value = f"CAST({quote(source)} AS DOUBLE)"
        counts.append(
            (
                f"isnan({value}) OR {value} < 0 OR {value} > 1",
                lambda n, _: f"column {source!r} has {_count(n, 'value')} outside [0, 1] or NaN",
            )
        )
    for column in (c for c in columns if c.role == "number"):
        value = f"CAST({quote(column.source)} AS DOUBLE)"
        counts.append(
            (
                f"isnan({value}) OR isinf({value})",
                _values(column.source, "NaN or infinite value"),
            )
        )
    if "status" in by_name:
        status = by_name["status"].source
        counts.append(
            (
                f"CAST({quote(status)} AS VARCHAR) NOT IN {_STATUSES}",
                _values(status, "value", " other than 'ok' or 'error'"),
            )
        )
    outputs = [by_name[n] for n in ("score", "prediction") if n in by_name]
    if kind is PREDICTIONS and outputs:
        counts.append(
            (
                " AND ".join(f"{quote(c.source)} IS NULL" for c in outputs),
                lambda n, _: f"{_count(n, 'row')} with neither a score nor a prediction",
            )
        )
    conflicts = [c for c in columns if c.conflict]
    select = [f"count(*) FILTER ({condition})" for condition, _ in counts]
    select += [f"count({quote(c.source)})" for c in conflicts]
    select.append(f"count(DISTINCT {key})" if key else "0")
    if example:
        select.append(example)
    values = list(con.execute(f"SELECT {', '.join(select)} FROM {src}").fetchone() or ())
    shown = values.pop() if example else None
    distinct = int(values.pop())
    problems = [problem(n, shown) for (_, problem), n in zip(counts, values, strict=False) if n]
    if conflicts:
        holding = values[len(counts) :]
        sql = ", ".join(f"count({quote(c.name)})" for c in conflicts)
        held = con.execute(f"SELECT {sql} FROM {quote(table)}").fetchone() or ()
        for column, new, old in zip(conflicts, holding, held, strict=True):
            if new and old:
                problems.append(
                    f"column {column.source!r} is {column.incoming} in the input but "
                    f"{column.stored} in the stored {kind.noun}; convert it or rename the column"
                )
            elif new:  # the stored column holds no values yet: take the input's type
                column.target = _role_type(column.name, column.role, column.incoming, [])
    return problems, distinct


def _in_order(columns: list[_Column], kind: Kind) -> list[_Column]:
    """Reserved columns first, in the kind's order, then the features in the input's order."""
    order = list(kind.roles)
    return sorted(columns, key=lambda c: order.index(c.name) if c.role != "feature" else len(order))


def _nulls(name: str, source: str) -> Callable[[int, object], str]:
    return lambda n, _: f"{_count(n, 'row')} without {name} (column {source!r} is null)"


def _values(source: str, noun: str, qualifier: str = "") -> Callable[[int, object], str]:
    return lambda n, _: f"column {source!r} has {_count(n, noun)}{qualifier}"


def _bad_times(source: str) -> Callable[[int, object], str]:
    return lambda n, example: (
        f"column {source!r} has {_count(n, 'value')} that are not timestamps, e.g. {example!r};"
        " give ISO 8601 times such as 2026-03-01T09:30:00Z"
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _evolve(
    con: duckdb.DuckDBPyConnection, table: str, columns: list[_Column], kind: Kind, exists: bool
) -> bool:
    """Create the table, or add and widen its columns; True when the table is new."""
    if not exists:
        present = {c.name for c in columns}
        absent = [_Column(n, n, "VARCHAR", "text", "VARCHAR") for n in kind.always]
        every = _in_order([*columns, *(c for c in absent if c.name not in present)], kind)
        defs = [
            f"{quote(c.name)} {c.target}{' NOT NULL' if c.name in ('id', 'time') else ''}"
            for c in every
            if c.target is not None
        ]
        if not defs:
            raise ValidationError("every column of the input is empty; there is nothing to store")
        con.execute(f"CREATE TABLE {quote(table)} ({', '.join(defs)})")
        return True
    for column in columns:
        if column.stored is None and column.target is not None:
            con.execute(
                f"ALTER TABLE {quote(table)} ADD COLUMN {quote(column.name)} {column.target}"
            )
        elif column.stored is not None and column.target != column.stored:
            con.execute(
                f"ALTER TABLE {quote(table)} ALTER COLUMN {quote(column.name)} TYPE {column.target}"
            )
    return False


def _register(con: duckdb.DuckDBPyConnection, source: Any) -> str:
    """A SQL name for ``source``: a Parquet file read in place, or a CSV file or frame loaded."""
    if isinstance(source, (str, Path)):
        path = Path(source).expanduser()
        if not path.is_file():
            raise NotFoundError(f"no file {path}")
        literal = "'" + str(path).replace("'", "''") + "'"
        suffix = path.suffix.lower()
        try:
            if suffix in (".parquet", ".pq"):
                con.execute(f"SELECT * FROM read_parquet({literal}) LIMIT 0")
                return f"read_parquet({literal})"
            if suffix == ".csv":  # parsed once, not once per pass
                con.execute(f"CREATE TEMP TABLE _mlpilot_csv AS SELECT * FROM read_csv({literal})")
                return "_mlpilot_csv"
        except Exception as exc:
            raise ValidationError(f"cannot read {path}: {_first_line(exc)}") from None
        raise ValidationError(f"cannot read {path}: give a .parquet or .csv file")
    library = type(source).__module__.split(".")[0]
    if library not in ("pandas", "polars", "pyarrow"):
        raise ValidationError(
            f"cannot read a {type(source).__name__}: give a Parquet or CSV file, "
            "or a pandas, polars or Arrow frame"
        )
    if type(source).__name__ == "RecordBatchReader":  # read once; an import reads it twice
        source = source.read_all()
    elif type(source).__name__ == "LazyFrame":
        source = source.collect()
    try:
        con.register("_mlpilot_frame", source)
    except Exception as exc:
        raise ValidationError(
            f"cannot read the {type(source).__name__}: {_first_line(exc)}"
        ) from None
    return "_mlpilot_frame"


# Small helpers ---------------------------------------------------------------------------------


def _storable(duck_type: str) -> str | None:
    """The type a column is stored as: integers as BIGINT, other numbers as DOUBLE, timestamps in
    microseconds, enums as text; None for a column with no type (all values null in a frame)."""
    upper = duck_type.upper()
    if upper in _INTEGERS:
        return "BIGINT"
    if upper in _FLOATS or upper.startswith("DECIMAL"):
        return "DOUBLE"
    if upper.startswith("TIMESTAMP_") or upper == "TIMESTAMP":
        return "TIMESTAMP"
    if upper.startswith("ENUM("):
        return "VARCHAR"
    if upper in ('"NULL"', "NULL"):
        return None
    return duck_type


def _merge(stored: str, incoming: str | None) -> str | None:
    """The type that holds both a stored and an incoming column, or None when none does safely."""
    if incoming is None or incoming == stored:
        return stored
    for ladder in _LADDERS:
        if stored in ladder and incoming in ladder:
            return max(stored, incoming, key=ladder.index)
    return None


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchone()
    return int(row[0]) if row else 0


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
