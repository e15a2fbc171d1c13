"""Persistence: the metadata database (SQLite or PostgreSQL, under Alembic migrations).

The monitoring issues add the analytical event store (DuckDB, ``events.duckdb`` in the workspace
folder) as a sibling module here; ``Location.events_path`` already names its place.
"""

from mlpilot.store.database import Location, connect, resolve
from mlpilot.store.metadata import MetadataStore

__all__ = ["Location", "MetadataStore", "connect", "resolve"]
