"""The event store: each initiative's predictions, outcomes and reference datasets, in DuckDB.

One DuckDB file per workspace (``Location.events_path``) holds one wide table per initiative and
kind — ``predictions__churn``, ``outcomes__churn``, ``reference__churn__training`` — so a monitor
reads features as real columns through Ibis. An import is one transaction: validate, add new
columns, then insert only the rows whose id is not stored yet (an anti-join), so the same rows
sent twice are stored once and a refused import writes nothing. A connection lives for one call
only: DuckDB lets a single process write the file, and the CLI opens it once per command.

A server process instead *holds* the store (:meth:`EventStore.hold`): one read-write connection
for its life, of which every call — readers, Ibis connections, the ingest writer — uses a cursor,
since DuckDB admits one writing process and, within it, connections of one configuration only.

DuckDB, Ibis and the frame libraries are imported inside the functions that use them, so
``import mlpilot`` stays light.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlpilot.domain.parsing import validate_slug
from mlpilot.errors import (
    AlreadyExistsError,
    CorruptWorkspaceError,
    MlpilotError,
    ValidationError,
    WorkspaceError,
)
from mlpilot.store.ingest import (
    EXPOSURES,
    METRIC_EVENTS,
    OUTCOMES,
    PREDICTIONS,
    REFERENCE,
    REQUESTS,
    Kind,
    import_rows,
)
from mlpilot.store.sql import column_names, quote

if TYPE_CHECKING:
    import duckdb
    from ibis.backends.duckdb import Backend as DuckDBBackend

__all__ = ["EVENT_KINDS", "PREDICTION_COLUMNS", "EventStore", "ImportResult", "ReferenceInfo"]

# The columns of a predictions table that are not features.
PREDICTION_COLUMNS = (
    "id", "time", "entity_id", "model_version", "score", "prediction",
    "latency_ms", "status", "error_class",
)  # fmt: skip
# The kinds of event tables, by the name in their table names (``requests__churn``).
EVENT_KINDS: dict[str, Kind] = {
    "predictions": PREDICTIONS,
    "outcomes": OUTCOMES,
    "requests": REQUESTS,
    "exposures": EXPOSURES,
    "metric_events": METRIC_EVENTS,
}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_REFERENCE_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Held stores of this process: resolved path -> its one connection, how many holders, and the
# lock that lets one transaction write at a time (concurrent DDL would conflict in DuckDB).
_HELD: dict[Path, tuple[duckdb.DuckDBPyConnection, int, threading.RLock]] = {}
_HELD_LOCK = threading.Lock()
_CATALOG = """
CREATE TABLE IF NOT EXISTS reference_catalog (
    initiative VARCHAR, name VARCHAR, table_name VARCHAR NOT NULL, rows BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL, PRIMARY KEY (initiative, name));
CREATE TABLE IF NOT EXISTS summaries (
    initiative VARCHAR, reference VARCHAR, key VARCHAR, value VARCHAR NOT NULL,
    computed_at TIMESTAMPTZ NOT NULL, PRIMARY KEY (initiative, reference, key));
"""


@dataclass(frozen=True)
class ImportResult:
    """What one import did: rows given, rows stored, rows skipped as already stored or repeated."""

    received: int
    inserted: int
    duplicates: int


@dataclass(frozen=True)
class ReferenceInfo:
    """A stored reference dataset of an initiative."""

    name: str
    rows: int
    columns: tuple[str, ...]
    created_at: datetime


class EventStore:
    """The monitoring data of a workspace, in the DuckDB file ``path`` (created on first write).

    >>> import tempfile, pyarrow as pa
    >>> store = EventStore(Path(tempfile.mkdtemp()) / "events.duckdb")
    >>> rows = pa.table({"id": ["a", "b"], "time": ["2026-03-01", "2026-03-02"], "score": [.2, .9]})
    >>> store.import_predictions("churn", rows)
    ImportResult(received=2, inserted=2, duplicates=0)
    >>> store.import_predictions("churn", rows).inserted
    0
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"EventStore({str(self.path)!r})"

    # Names -----------------------------------------------------------------------------------

    def table_name(
        self,
        slug: str,
        kind: str,
        reference: str | None = None,
    ) -> str:
        """The table of ``slug``'s events of ``kind`` (one of :data:`EVENT_KINDS`), or of its
        reference dataset ``reference`` with kind ``"reference"`` (unquoted)."""
        base = validate_slug(slug).replace("-", "_")
        if kind in EVENT_KINDS and reference is None:
            return f"{kind}__{base}"
        if kind == "reference" and reference is not None:
            return f"reference__{base}__{_reference_name(reference).replace('-', '_')}"
        raise ValidationError(
            f"no table kind {kind!r}{' with a reference name' if reference else ''}: "
            f"use {', '.join(EVENT_KINDS)}, or reference with a reference name"
        )

    # Imports ---------------------------------------------------------------------------------

    def import_events(
        self, slug: str, kind: str, source: Any, column_map: Mapping[str, str] | None = None
    ) -> ImportResult:
        """Store events of ``kind`` (a key of :data:`EVENT_KINDS`); a row whose ``id`` is stored
        already (or repeated) is skipped. Kinds whose ``id`` may be absent derive it from their
        key columns (outcomes: entity_id and time; exposures: experiment, unit_id and time;
        metric events: unit_id, time, metric and value)."""
        table = self.table_name(slug, kind)
        with self._session(write=True) as con:
            return _result(import_rows(con, table, EVENT_KINDS[kind], slug, source, column_map))

    def import_predictions(
        self, slug: str, source: Any, column_map: Mapping[str, str] | None = None
    ) -> ImportResult:
        """Store predictions; a row whose ``id`` is stored already (or repeated) is skipped."""
        return self.import_events(slug, "predictions", source, column_map)

    def import_outcomes(
        self, slug: str, source: Any, column_map: Mapping[str, str] | None = None
    ) -> ImportResult:
        """Store outcomes (labels); without an ``id`` column, ids come from entity_id and time."""
        return self.import_events(slug, "outcomes", source, column_map)

    def add_reference(
        self,
        slug: str,
        name: str,
        source: Any,
        column_map: Mapping[str, str] | None = None,
        *,
        replace: bool = False,
    ) -> ImportResult:
        """Store a named dataset (e.g. the training data) to compare live data against.

        Replacing one also deletes its summaries, which were computed from the old rows.
        """
        table = self.table_name(slug, "reference", name)
        with self._session(write=True) as con:
            known = con.execute(
                "SELECT count(*) FROM reference_catalog WHERE initiative = ? AND name = ?",
                [slug, name],
            ).fetchone()
            if known and known[0] and not replace:
                raise AlreadyExistsError(
                    f"{slug} has a reference {name!r} already; "
                    "replace it with replace=True (--replace)"
                )
            con.execute(f"DROP TABLE IF EXISTS {quote(table)}")
            result = _result(import_rows(con, table, REFERENCE, slug, source, column_map))
            if result.received == 0:
                con.rollback()  # an empty input stores nothing, not even the removal
                con.begin()
                return result
            con.execute(
                "DELETE FROM summaries WHERE initiative = ? AND reference = ?", [slug, name]
            )
            con.execute(
                "INSERT OR REPLACE INTO reference_catalog VALUES (?, ?, ?, ?, ?)",
                [slug, name, table, result.inserted, datetime.now(UTC)],
            )
            return result

    # Reads -----------------------------------------------------------------------------------

    def references(self, slug: str) -> list[ReferenceInfo]:
        """The reference datasets of ``slug``, by name."""
        validate_slug(slug)
        if not self.path.exists():
            return []
        with self._session(write=False) as con:
            if not column_names(con, "reference_catalog"):
                return []
            rows = con.execute(  # times as numbers: DuckDB 1.x needs pytz to hand back zones
                "SELECT name, table_name, rows, epoch_us(created_at) FROM reference_catalog "
                "WHERE initiative = ? ORDER BY name",
                [slug],
            ).fetchall()
            return [
                ReferenceInfo(
                    name, count, tuple(column_names(con, table)), _EPOCH + timedelta(0, 0, us)
                )
                for name, table, count, us in rows
            ]

    def feature_columns(self, slug: str) -> list[str]:
        """The columns of ``slug``'s predictions other than :data:`PREDICTION_COLUMNS`."""
        table = self.table_name(slug, "predictions")
        if not self.path.exists():
            return []
        with self._session(write=False) as con:
            return [c for c in column_names(con, table) if c not in PREDICTION_COLUMNS]

    @contextmanager
    def reading(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only DuckDB connection (a cursor while held) for the block, for SQL on the
        store's tables without Ibis. The store must exist."""
        with self._session(write=False) as con:
            yield con

    def connect(self, read_only: bool = True) -> DuckDBBackend:
        """An Ibis connection to the store, for building expressions on its tables.

        The caller closes it (``con.disconnect()``) before anyone writes: DuckDB refuses a
        writer while the file is open elsewhere, in this process or another.
        """
        from mlpilot.engine.connection import duckdb as ibis_duckdb

        if self.held:  # a cursor of the held connection; read_only cannot be enforced on it
            import ibis

            backend = ibis.duckdb.from_connection(self.cursor())
            backend.raw_sql("SET TimeZone = 'UTC'")  # per cursor, as for a connection of its own
            return backend
        if not self.path.exists():
            with self._session(write=True):
                pass  # create the file and its catalog, so a read-only open finds them
        try:
            return ibis_duckdb(self.path, read_only=read_only)
        except Exception as exc:
            raise self._open_error(exc) from None

    # Summaries -------------------------------------------------------------------------------

    def save_summary(self, slug: str, reference: str, key: str, value: Mapping[str, Any]) -> None:
        """Keep a small JSON summary (e.g. a drift profile) of a reference, replacing any before."""
        validate_slug(slug)
        _reference_name(reference)
        if not key.strip():
            raise ValidationError("a summary needs a non-empty key")
        try:
            text = json.dumps(dict(value), sort_keys=True)
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"summary {key!r} cannot be stored as JSON: {exc}") from None
        with self._session(write=True) as con:
            con.execute(
                "INSERT OR REPLACE INTO summaries VALUES (?, ?, ?, ?, ?)",
                [slug, reference, key, text, datetime.now(UTC)],
            )

    def load_summary(self, slug: str, reference: str, key: str) -> dict[str, Any] | None:
        """The summary saved under ``key``, or None (never saved, or its reference replaced)."""
        validate_slug(slug)
        _reference_name(reference)
        if not self.path.exists():
            return None
        with self._session(write=False) as con:
            if not column_names(con, "summaries"):
                return None
            row = con.execute(
                "SELECT value FROM summaries WHERE initiative = ? AND reference = ? AND key = ?",
                [slug, reference, key],
            ).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    # Connections -----------------------------------------------------------------------------

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Keep one read-write connection to the store open for the life of the block (the
        server): meanwhile every call on any ``EventStore`` of this path in this process works
        on cursors of it, from any thread. Other processes cannot open the file meanwhile.
        Holding a held store again shares the connection; the last holder checkpoints and
        closes it."""
        import duckdb

        key = self._key()
        with _HELD_LOCK:
            if key in _HELD:
                con, holders, lock = _HELD[key]
                _HELD[key] = (con, holders + 1, lock)
            else:
                with self._session(write=True):
                    pass  # create the file and its catalog with the usual errors
                try:
                    con = duckdb.connect(str(self.path))
                except duckdb.Error as exc:
                    raise self._open_error(exc) from None
                _HELD[key] = (con, 1, threading.RLock())
        try:
            yield
        finally:
            with _HELD_LOCK:
                con, holders, lock = _HELD.pop(key)
                if holders > 1:
                    _HELD[key] = (con, holders - 1, lock)
                else:
                    with suppress(duckdb.Error):
                        con.execute("CHECKPOINT")  # a clean file: no WAL to replay at next open
                    con.close()

    @property
    def held(self) -> bool:
        """Whether this process holds the store (:meth:`hold`)."""
        return self._key() in _HELD

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A new cursor of the held connection (its own transactions and session settings);
        the caller closes it. Only while the store is held."""
        with _HELD_LOCK:
            held = _HELD.get(self._key())
            if held is None:
                raise WorkspaceError(f"the event store {self.path} is not held by this process")
            return held[0].cursor()

    @contextmanager
    def writing(self) -> Iterator[None]:
        """While the store is held: one writing transaction at a time in this process (the
        ingest writer's commits and any other write), so that two never race to create or
        alter a table. Re-entrant."""
        with _HELD_LOCK:
            held = _HELD.get(self._key())
        if held is None:
            raise WorkspaceError(f"the event store {self.path} is not held by this process")
        with held[2]:
            yield

    def _key(self) -> Path:
        return self.path.resolve()

    @contextmanager
    def _session(self, *, write: bool) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection for one call; when writing, one transaction committed only on success."""
        import duckdb

        if self.held:
            with self._held_session(write=write) as con:
                yield con
            return
        if write:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise WorkspaceError(f"cannot create {self.path.parent}: {exc}") from None
        new = not self.path.exists()
        try:
            con = duckdb.connect(str(self.path), read_only=not write)
        except duckdb.Error as exc:
            raise self._open_error(exc) from None
        try:
            con.execute("SET TimeZone = 'UTC'")  # times without a zone are UTC
            if write:
                con.begin()
                con.execute(_CATALOG)
            yield con
            if write:
                con.commit()
        except BaseException as exc:
            translated = self._undo(con, exc, write=write)
            con.close()
            if new:  # a refused first write leaves no empty store behind
                for path in (self.path, self.path.with_name(self.path.name + ".wal")):
                    path.unlink(missing_ok=True)
            if translated is None:
                raise
            raise translated from None
        finally:
            con.close()

    @contextmanager
    def _held_session(self, *, write: bool) -> Iterator[duckdb.DuckDBPyConnection]:
        """:meth:`_session` on a cursor of the held connection (the file and catalog exist)."""

        con = self.cursor()
        lock: AbstractContextManager[None] = self.writing() if write else nullcontext()
        try:
            with lock:
                con.execute("SET TimeZone = 'UTC'")
                if write:
                    con.begin()
                yield con
                if write:
                    con.commit()
        except BaseException as exc:
            translated = self._undo(con, exc, write=write)
            if translated is None:
                raise
            raise translated from None
        finally:
            con.close()

    def _undo(
        self, con: duckdb.DuckDBPyConnection, exc: BaseException, *, write: bool
    ) -> MlpilotError | None:
        """Roll a failed call's transaction back; mlpilot's error for ``exc``, if it has one."""
        import duckdb

        if write:
            with suppress(duckdb.Error):  # a failed statement may have ended it already
                con.rollback()
        return _error(exc, self.path) if isinstance(exc, duckdb.Error) else None

    def _open_error(self, exc: Exception) -> MlpilotError:
        message = _first_line(exc)
        if "lock" in message.lower():
            return WorkspaceError(
                f"the event store {self.path} is in use by another process; try again when it "
                f"has finished ({message})"
            )
        if "different configuration" in message:
            return WorkspaceError(
                f"the event store {self.path} is open in this process already; close the "
                "connection from EventStore.connect() first"
            )
        return CorruptWorkspaceError(f"the event store {self.path} cannot be opened: {message}")


# Helpers ----------------------------------------------------------------------------------------


def _reference_name(name: str) -> str:
    if not _REFERENCE_NAME.fullmatch(name) or len(name) > 64:
        raise ValidationError(
            f"invalid reference name {name!r}: use lowercase letters, digits and single "
            "hyphens, e.g. training-2026"
        )
    return name


def _error(exc: Exception, path: Path) -> MlpilotError | None:
    """mlpilot's error for a DuckDB error during a call (bad data, an unusable store), or None
    for an error in mlpilot's own SQL, which should surface as it is."""
    import duckdb

    bad_value = (
        duckdb.ConversionException,
        duckdb.InvalidInputException,
        duckdb.OutOfRangeException,
    )
    if isinstance(exc, bad_value):
        return ValidationError(f"the event store refused a value: {_first_line(exc)}")
    if isinstance(exc, (duckdb.IOException, duckdb.OutOfMemoryException)):
        return WorkspaceError(f"the event store {path} failed: {_first_line(exc)}")
    if isinstance(exc, duckdb.TransactionException):  # a held store's concurrent writers
        return WorkspaceError(
            f"the event store {path} was changed meanwhile; try again ({_first_line(exc)})"
        )
    return None


def _result(counts: tuple[int, int]) -> ImportResult:
    received, inserted = counts
    return ImportResult(received, inserted, received - inserted)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
