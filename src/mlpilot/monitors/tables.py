"""The one place monitors obtain an initiative's event tables: from an external source where
one is defined (``mlpilot source add``), else from the workspace's event store.

A source's table is read where it lives, through its engine's Ibis connection; its columns are
renamed to mlpilot's roles by the source's map (an Ibis ``rename``, nothing is copied), so the
monitors' engine halves run there and only their small statistics come back.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from mlpilot.errors import ValidationError
from mlpilot.store.sources import Source, SourceStore

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from mlpilot.store.events import EventStore


class EventTables:
    """Tables of one initiative's events, opened lazily, closed by :func:`event_tables`."""

    def __init__(self, events: EventStore, slug: str) -> None:
        self.events = events
        self.slug = slug
        self.sources = SourceStore(events.path.parent)
        self._connections: dict[str, Any] = {}
        self._store: Any = None
        self._stored: set[str] = set()

    def source(self, kind: str) -> Source | None:
        """The external source of ``kind`` events, or None (the event store holds them)."""
        return self.sources.get(self.slug, kind)

    def get(self, kind: str) -> ir.Table | None:
        """The ``kind`` events (``predictions``, ``outcomes``, ``requests``, ``exposures``,
        ``metric_events``) with mlpilot's column names; None when there are none."""
        found = self.source(kind)
        if found is not None:
            from mlpilot.engine import external

            con = self._connection(found.engine)
            table = external.table(con, found.engine, found.table)
            renames = {role: column for role, column in found.map.items() if role != column}
            missing = [c for c in renames.values() if c not in table.columns]
            if missing:
                raise ValidationError(
                    f"the {found.kind} source {found.table!r} has no column "
                    f"{', '.join(map(repr, missing))}; its columns: {', '.join(table.columns)}"
                )
            return table.rename(renames) if renames else table
        name = self.events.table_name(self.slug, kind)
        store = self._event_store()
        if store is None or name not in self._stored:
            return None
        return store.table(name)

    def has(self, kind: str) -> bool:
        """Whether there are ``kind`` events (a source, or a stored table)."""
        if self.source(kind) is not None:
            return True
        return self._event_store() is not None and (
            self.events.table_name(self.slug, kind) in self._stored
        )

    def _connection(self, engine: str) -> Any:
        if engine not in self._connections:
            from mlpilot.engine import external

            self._connections[engine] = external.connect(engine)
        return self._connections[engine]

    def _event_store(self) -> Any:
        if self._store is None and self.events.path.exists():
            self._store = self.events.connect(read_only=True)
            self._stored = set(self._store.list_tables())
        return self._store

    def close(self) -> None:
        from mlpilot.engine import external

        for engine, con in self._connections.items():
            external.close(con, engine)
        if self._store is not None:
            self._store.disconnect()


@contextmanager
def event_tables(events: EventStore, slug: str) -> Iterator[EventTables]:
    """The tables of ``slug``'s events for the block; connections closed after it."""
    tables = EventTables(events, slug)
    try:
        yield tables
    finally:
        tables.close()


def same_engine(*tables: ir.Table) -> None:
    """Tables joined in one query must live on one engine."""
    from mlpilot.engine.portable import backend_name

    backends = {id(t._find_backend()) for t in tables}
    if len(backends) > 1:
        names = ", ".join(sorted({str(backend_name(t)) for t in tables}))
        raise ValidationError(
            f"these events live on different engines or connections ({names}); a monitor that "
            "joins them needs both on one engine: add a source for the other kind there too"
        )
