"""The single writer of the event store in a server process, committing many batches at once.

Requests validate their records, enqueue the good ones and wait on a future. One thread drains
the queue and writes everything it found in one DuckDB transaction per (initiative, kind) —
group commit: a commit costs one WAL sync however many batches it carries, so throughput grows
with load instead of collapsing under it. The anti-join on ids makes a record sent twice (in one
batch, across batches, after a crash and retry) stored once. A future resolves only after COMMIT
returned: DuckDB writes and syncs its write-ahead log at commit, so an acknowledged batch
survives a killed process (it is replayed when the store is next opened).
"""

from __future__ import annotations

import queue
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from mlpilot.errors import WorkspaceError
from mlpilot.server.records import Batch
from mlpilot.store.events import EVENT_KINDS, EventStore
from mlpilot.store.ingest import insert_checked

if TYPE_CHECKING:
    import duckdb

__all__ = ["IngestWriter", "Outcome"]

_STOP = object()
CHECKPOINT_THRESHOLD = "64MB"


@dataclass
class Outcome:
    """What became of one request's records: stored, duplicates, and rejected ones."""

    accepted: int
    duplicates: int
    rejected: list[dict[str, Any]]


@dataclass
class _Item:
    slug: str
    tables: dict[str, pa.Table]
    future: Future[Outcome]
    rows: int
    stored: int = 0
    refused_here: int = 0  # rows the writer refused (a type conflict with the stored table)
    refused: list[dict[str, Any]] = field(default_factory=list)
    failure: BaseException | None = None


class IngestWriter:
    """Owns every ingest write of a held event store (``workspace.events`` or an EventStore).

    ``max_queue`` bounds the waiting requests (a full queue answers 429);
    ``max_rows`` bounds the rows one drain commits together.
    """

    def __init__(self, workspace: Any, *, max_queue: int = 256, max_rows: int = 200_000) -> None:
        self.events: EventStore = (
            workspace if isinstance(workspace, EventStore) else workspace.events
        )
        self.max_queue = max_queue
        self.max_rows = max_rows
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max_queue)
        self._resume = threading.Event()
        self._resume.set()
        self._thread: threading.Thread | None = None
        self._stopped = False
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(
            ("received", "stored", "duplicates", "rejected", "batches", "commits", "failed"), 0
        )

    # Life ------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the writer thread (the event store must be held, EventStore.hold)."""
        if self._thread is not None:
            return
        cursor = self.events.cursor()
        cursor.execute("SET TimeZone = 'UTC'")
        # DuckDB checkpoints (WAL -> database file) once the WAL passes this size. Its default,
        # 16 MB, checkpoints every few seconds under sustained ingest, a third of the writer's
        # CPU; 64 MB halves that cost and keeps the replay after a crash short. Durability is
        # unaffected: every commit syncs the WAL.
        cursor.execute(f"SET checkpoint_threshold = '{CHECKPOINT_THRESHOLD}'")
        self._thread = threading.Thread(
            target=self._run, args=(cursor,), name="mlpilot-ingest-writer", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Refuse new batches, write every queued one, then end the thread."""
        with self._lock:
            if self._stopped or self._thread is None:
                self._stopped = True
                return
            self._stopped = True
        self._resume.set()
        self._queue.put(_STOP)  # behind every queued batch: they are written first
        self._thread.join(timeout)

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Hold writing while inside (the batch in hand waits, the queue fills and further
        batches are refused as full): for maintenance, and for tests of back-pressure."""
        self._resume.clear()
        try:
            yield
        finally:
            self._resume.set()

    # Requests --------------------------------------------------------------------------------

    def submit(self, slug: str, batch: Batch) -> Future[Outcome]:
        """Queue the good records of ``batch`` for ``slug``; the future gives the outcome once
        they are committed. Raises queue.Full when the queue is full (retry after
        :meth:`retry_after` seconds)."""
        future: Future[Outcome] = Future()
        rows = sum(t.num_rows for t in batch.tables.values())
        with self._lock:  # stop() cannot slip its end mark in before this batch
            if self._stopped:
                raise WorkspaceError("the ingest writer has stopped; the server is shutting down")
            if rows == 0:
                future.set_result(Outcome(0, 0, list(batch.rejected)))
            else:
                item = _Item(slug, dict(batch.tables), future, rows, refused=list(batch.rejected))
                self._queue.put_nowait(item)  # queue.Full when full: the caller answers 429
            # Counted once queued: a batch refused as the queue was full will come again.
            self._counts["received"] += batch.received
            self._counts["rejected"] += len(batch.rejected)
        return future

    def counters(self) -> dict[str, int]:
        """Figures for /metrics: records received, stored, duplicates, rejected; requests
        (batches) written; commits; failed writes; queue depth and size."""
        with self._lock:
            counts = dict(self._counts)
        return {**counts, "queue_depth": self._queue.qsize(), "queue_size": self.max_queue}

    def retry_after(self) -> int:
        """Seconds a refused client should wait: the queue drains in well under one."""
        return 1

    # The writer thread -----------------------------------------------------------------------

    def _run(self, cursor: duckdb.DuckDBPyConnection) -> None:
        try:
            stopping = False
            while not stopping:
                first = self._queue.get()
                if first is _STOP:
                    break
                self._resume.wait()
                items: list[_Item] = [first]
                rows = first.rows
                while rows < self.max_rows:
                    try:
                        following = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if following is _STOP:
                        stopping = True
                        break
                    items.append(following)
                    rows += following.rows
                try:
                    self._write(cursor, items)
                except Exception as exc:  # mlpilot's own bug: fail the requests, keep serving
                    for item in items:
                        if not item.future.done():
                            item.future.set_exception(exc)
        finally:
            cursor.close()

    def _write(self, cursor: duckdb.DuckDBPyConnection, items: list[_Item]) -> None:
        groups: dict[tuple[str, str], list[_Item]] = {}
        for item in items:
            for kind in item.tables:
                groups.setdefault((item.slug, kind), []).append(item)
        for (slug, kind), members in groups.items():
            try:
                self._commit(cursor, slug, kind, members)
            except Exception:
                if len(members) == 1:
                    members[0].failure = _failure()
                    continue
                for member in members:  # one request's trouble must not fail the others
                    try:
                        self._commit(cursor, slug, kind, [member])
                    except Exception:
                        member.failure = _failure()
        for item in items:
            self._settle(item)

    def _commit(
        self, cursor: duckdb.DuckDBPyConnection, slug: str, kind: str, members: list[_Item]
    ) -> None:
        tables = [
            m.tables[kind].append_column(
                "_item", pa.array([n] * m.tables[kind].num_rows, pa.int32())
            )
            for n, m in enumerate(members)
        ]
        data = (
            tables[0]
            if len(tables) == 1
            else pa.concat_tables(tables, promote_options="permissive")
        )
        table = self.events.table_name(slug, kind)
        with self.events.writing():
            cursor.begin()
            try:
                stored, refused = insert_checked(cursor, table, EVENT_KINDS[kind], data)
                cursor.commit()  # returns once the WAL is synced: only then is anything acked
            except BaseException:
                with suppress(Exception):
                    cursor.rollback()
                raise
        for n, member in enumerate(members):
            member.stored += stored.get(n, 0)
        for n, index, reason in refused:
            member = members[n]
            member.refused_here += 1
            member.refused.append(
                {"index": index, "id": _id_at(member.tables[kind], index), "reason": reason}
            )
        with self._lock:
            self._counts["commits"] += 1

    def _settle(self, item: _Item) -> None:
        if item.failure is not None:
            with self._lock:
                self._counts["failed"] += 1
            item.future.set_exception(item.failure)
            return
        duplicates = item.rows - item.stored - item.refused_here
        outcome = Outcome(item.stored, duplicates, sorted(item.refused, key=lambda r: r["index"]))
        with self._lock:
            self._counts["stored"] += item.stored
            self._counts["duplicates"] += duplicates
            self._counts["rejected"] += item.refused_here
            self._counts["batches"] += 1
        item.future.set_result(outcome)


def _failure() -> BaseException:
    exc = sys.exc_info()[1]
    return exc if exc is not None else RuntimeError("the ingest writer failed")


def _id_at(table: pa.Table, index: int) -> str | None:
    if "id" not in table.column_names:
        return None
    at = pc.index(table["_index"], index).as_py()
    value = table["id"][at].as_py() if at >= 0 else None
    return None if value is None else str(value)
