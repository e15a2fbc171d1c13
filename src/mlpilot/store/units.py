"""Dense unit keys: each unit id of an initiative's exposures and metric events gets a number
0, 1, 2, … in ``units__<slug>``, kept beside the id in both tables as ``unit_key``.

Why: with dense keys the experiment engine reduces 10M units by array indexing
(:mod:`mlpilot.engine.experiments_dense`) instead of hash joins and hash aggregates over text,
which cost most of an analysis. Keys are given inside the import's transaction, so a refused
import gives none, and a row is never stored without its key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlpilot.store.sql import column_names, quote

if TYPE_CHECKING:
    import duckdb

UNIT_KEY = "unit_key"
KEYED = ("exposures", "metric_events")  # the event tables whose rows carry unit keys
BATCH_KEYS = "_mlpilot_batch_keys"  # the keys of one import's units (a temporary table)


def units_table(table: str) -> str:
    """The key table of an event table's initiative: ``exposures__churn`` → ``units__churn``."""
    return "units__" + table.split("__", 1)[1]


def ensure_keys(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Create the key table of ``table``'s initiative if needed, and key both its keyed tables
    where they were stored before keys: so the first import of either kind after an upgrade
    lets the experiment engine take the array path."""
    suffix = table.split("__", 1)[1]
    units = f"units__{suffix}"
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {quote(units)} "
        "(unit_key BIGINT NOT NULL, unit_id VARCHAR NOT NULL)"
    )
    for kind in KEYED:
        name = f"{kind}__{suffix}"
        present = column_names(con, name)
        if present and UNIT_KEY not in present:
            add_units(con, units, f"SELECT unit_id FROM {quote(name)}")
            con.execute(f"ALTER TABLE {quote(name)} ADD COLUMN {UNIT_KEY} BIGINT")
            con.execute(
                f"UPDATE {quote(name)} AS t SET {UNIT_KEY} = u.unit_key "
                f"FROM {quote(units)} AS u WHERE u.unit_id = t.unit_id"
            )


def add_units(con: duckdb.DuckDBPyConnection, units: str, ids: str) -> None:
    """Give the unit ids of the query ``ids`` (column ``unit_id``) that have no key yet the next
    keys, after the largest one given, in the order of the ids: the same imports give the
    same keys."""
    con.execute(
        f"INSERT INTO {quote(units)} "
        f"SELECT {_next_keys(units)}, n.unit_id "
        f"FROM (SELECT DISTINCT unit_id FROM ({ids}) WHERE unit_id IS NOT NULL) AS n "
        f"WHERE NOT EXISTS (SELECT 1 FROM {quote(units)} AS u WHERE u.unit_id = n.unit_id)"
    )


def key_batch(con: duckdb.DuckDBPyConnection, units: str, ids: str) -> str:
    """Keys for the unit ids of the query ``ids`` (column ``unit_id``), the new ones added to
    ``units``; returns a temporary table (``unit_id``, ``unit_key``) of the batch's keys. The
    units table is scanned once; the import then joins the small table, not the units."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {BATCH_KEYS} AS SELECT unit_id, unit_key FROM "
        f"{quote(units)} WHERE unit_id IN (SELECT unit_id FROM ({ids}))"
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _mlpilot_new_units AS SELECT {_next_keys(units)} "
        f"AS unit_key, unit_id FROM (SELECT DISTINCT unit_id FROM ({ids}) WHERE unit_id IS NOT "
        f"NULL AND unit_id NOT IN (SELECT unit_id FROM {BATCH_KEYS}))"
    )
    con.execute(f"INSERT INTO {quote(units)} SELECT unit_key, unit_id FROM _mlpilot_new_units")
    con.execute(f"INSERT INTO {BATCH_KEYS} SELECT unit_id, unit_key FROM _mlpilot_new_units")
    con.execute("DROP TABLE _mlpilot_new_units")
    return BATCH_KEYS


def _next_keys(units: str) -> str:
    """SQL for the keys of new unit ids, after the largest given, in the ids' order."""
    largest = f"(SELECT coalesce(max(unit_key), -1) FROM {quote(units)})"
    return f"{largest} + row_number() OVER (ORDER BY unit_id)"
