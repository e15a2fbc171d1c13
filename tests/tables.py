"""Ibis tables on one DuckDB connection, for engine and monitor tests on small frames."""

from __future__ import annotations

import functools

from mlpilot.engine.connection import duckdb, table


class Tables:
    """Tables on one connection from frames kept alive for the whole test run."""

    def __init__(self, threads: int | None = 1) -> None:
        self.connection = duckdb()
        if threads is not None:  # small tables: one thread is faster, the results the same
            self.connection.raw_sql(f"SET threads = {threads}")
        self._frames: list[object] = []

    def __call__(self, frame: object) -> object:
        self._frames.append(frame)
        return table(frame, self.connection)


@functools.cache
def shared() -> Tables:
    """One connection for the run (opening one takes ~50 ms)."""
    return Tables()
