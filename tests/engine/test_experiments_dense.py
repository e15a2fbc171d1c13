"""``engine.experiments_dense``: the array path over the store's keyed tables gives the same
statistics as the portable Ibis path (itself checked against pandas in test_experiments.py),
on the same stored rows: mixed units, strangers, pre-period events, caps, ratios, ``until``,
several imports, tables stored before unit keys existed."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlpilot.engine.experiments import MetricDef, experiment_stats, parse_metric, stats_rows
from mlpilot.engine.experiments_dense import dense_stats
from mlpilot.errors import ValidationError
from mlpilot.store.events import EventStore

from .test_experiments import T0, frames

VARIANTS = ["control", "b", "c"]
METRICS = [
    parse_metric("revenue"),
    parse_metric("bought:conversion:from=orders"),
    parse_metric("capped:cap=0.9:from=revenue"),
    parse_metric("aov:ratio:revenue/orders"),
    parse_metric("self:ratio:visits/visits"),
    parse_metric("absent"),  # no events at all
]


def stored(tmp_path: Path, exposures: pd.DataFrame, events: pd.DataFrame) -> EventStore:
    store = EventStore(tmp_path / "events.duckdb")
    store.import_events("shop", "exposures", exposures)
    store.import_events("shop", "metric_events", events)
    return store


def both(store: EventStore, metrics: list[MetricDef], **window):  # type: ignore[no-untyped-def]
    window.setdefault("pre_days", 30.0)
    window.setdefault("until", None)
    backend = store.connect()
    try:
        names = [store.table_name("shop", k) for k in ("exposures", "metric_events")]
        result = dense_stats(backend.con, *names, "exp", metrics, **window)
        assert result is not None
        dense = stats_rows(result, VARIANTS, metrics)
        portable = experiment_stats(
            *(backend.table(n) for n in names), "exp", VARIANTS, metrics, **window
        )
    finally:
        backend.disconnect()
    return dense, portable


def assert_same(dense, portable) -> None:  # type: ignore[no-untyped-def]
    (rows_a, units_a), (rows_b, units_b) = dense, portable
    assert units_a == units_b
    assert len(rows_a) == len(rows_b)
    for a, b in zip(rows_a, rows_b, strict=True):
        assert a.keys() == b.keys()
        for key, value in a.items():
            if isinstance(value, float):
                assert value == pytest.approx(b[key], rel=1e-9, abs=1e-9), (a["metric"], key)
            else:
                assert value == b[key], key


@pytest.mark.parametrize("seed", range(4))
def test_dense_path_equals_portable_path(tmp_path, seed):
    exposures, events = frames(seed)
    dense, portable = both(stored(tmp_path, exposures, events), METRICS, pre_days=14)
    assert_same(dense, portable)
    assert dense[1]["__mixed__"] == 4  # the 4 units exposed to two variants
    assert sum(r["sum"] for r in dense[0] if r["metric"] == "revenue") > 0  # not all empty


def test_until_and_pre_days(tmp_path):
    store = stored(tmp_path, *frames(5))
    for until in (T0 + timedelta(hours=30), T0 - timedelta(days=1), T0 + timedelta(days=60)):
        for pre_days in (0.0, 0.5, 400.0):
            assert_same(*both(store, METRICS, until=until, pre_days=pre_days))


def test_keys_follow_several_imports_and_repeats(tmp_path):
    exposures, events = frames(8)
    store = EventStore(tmp_path / "events.duckdb")
    halves = np.array_split(np.arange(len(events)), 3)
    store.import_events("shop", "metric_events", events.iloc[halves[0]])  # events first
    store.import_events("shop", "exposures", exposures.iloc[: len(exposures) // 2])
    store.import_events("shop", "exposures", exposures)  # half of it again: skipped
    for part in halves[1:]:
        store.import_events("shop", "metric_events", events.iloc[part])
    store.import_events("shop", "metric_events", events)  # all again: nothing new
    assert_same(*both(store, METRICS))
    with duckdb.connect(str(store.path), read_only=True) as con:
        keys = con.execute("SELECT unit_key, unit_id FROM units__shop ORDER BY 1").fetchall()
        assert [k for k, _ in keys] == list(range(len(keys)))  # dense, from 0
        assert len({u for _, u in keys}) == len(keys)
        nulls = con.execute(
            "SELECT count(*) FILTER (unit_key IS NULL) FROM metric_events__shop"
        ).fetchone()
        assert nulls == (0,)


def test_tables_stored_before_keys_are_keyed_at_the_next_import_of_either_kind(tmp_path):
    exposures, events = frames(9)
    store = stored(tmp_path, exposures, events)
    with duckdb.connect(str(store.path)) as con:  # the store as an older mlpilot left it
        for table in ("exposures__shop", "metric_events__shop"):
            con.execute(f"ALTER TABLE {table} DROP COLUMN unit_key")
        con.execute("DROP TABLE units__shop")
    backend = store.connect()
    try:
        names = [store.table_name("shop", k) for k in ("exposures", "metric_events")]
        assert dense_stats(backend.con, *names, "exp", METRICS, pre_days=30, until=None) is None
    finally:
        backend.disconnect()
    store.import_events("shop", "exposures", exposures.head(3))  # stored already: no new rows
    assert_same(*both(store, METRICS))  # both tables keyed by an import of one kind


def test_no_exposures_of_the_experiment_and_no_events(tmp_path):
    exposures, events = frames(1)
    store = stored(tmp_path, exposures.assign(experiment="another"), events)
    dense, portable = both(store, METRICS)
    assert_same(dense, portable)
    assert dense[1] == {}
    assert all(r["n"] == 0 and r["sum"] == 0 for r in dense[0])


def test_a_unit_key_column_in_the_input_is_refused(tmp_path):
    exposures, events = frames(1)
    store = EventStore(tmp_path / "events.duckdb")
    store.import_events("shop", "exposures", exposures)
    with pytest.raises(ValidationError, match="'unit_key' is the store's own column"):
        store.import_events("shop", "metric_events", events.assign(unit_key=1))
    assert "metric_events__shop" not in store.connect().list_tables()  # nothing stored


def test_huge_values_and_one_unit(tmp_path):
    exposures = pd.DataFrame(
        {"unit_id": ["only"], "experiment": "exp", "variant": "b", "time": [T0]}
    )
    events = pd.DataFrame(
        {
            "unit_id": ["only"] * 4,
            "metric": ["revenue", "revenue", "orders", "visits"],
            "value": [1e300, -1e300, 0.0, 5e-324],
            "time": [T0, T0 + timedelta(days=1), T0 - timedelta(days=1), T0],
        }
    )
    assert_same(*both(stored(tmp_path, exposures, events), METRICS))


@settings(max_examples=20, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    units=st.integers(1, 40),
    events=st.integers(0, 200),
    pre_days=st.sampled_from([0.0, 1.0, 30.0]),
)
def test_random_stores_agree(tmp_path_factory, seed, units, events, pre_days):
    exposures, rows = frames(seed, units=max(units, 20), events=max(events, 1))
    exposures = exposures.head(units + 5)  # some units never exposed, some twice
    store = stored(tmp_path_factory.mktemp("store"), exposures, rows)
    assert_same(*both(store, METRICS, pre_days=pre_days))


def test_events_keyed_after_the_units_were_read(tmp_path):
    """The events come on a second cursor: an import committing in between may key units
    beyond the largest key read on the first. Those units were never exposed in its view."""
    exposures, events = frames(4)
    store = stored(tmp_path, exposures, events.assign(unit_id="late"))  # keys beyond exposures'
    with duckdb.connect(str(store.path)) as con:  # as the first cursor saw the units table
        con.execute("DELETE FROM units__shop WHERE unit_id = 'late'")
    dense, portable = both(store, METRICS)
    assert_same(dense, portable)
    assert all(r["sum"] == 0 for r in dense[0])


def test_names_with_quotes_and_a_naive_until(tmp_path):
    """Names reach the SQL as literals: quotes, unicode and SQL-looking text stay data."""
    exposures, events = frames(6)
    odd = {"control": "o'brien", "b": "ü 🙂", "c": "x'); DROP TABLE units__shop; --"}
    exposures = exposures.assign(
        variant=exposures.variant.map(lambda v: odd.get(v, v)),
        experiment=exposures.experiment.replace({"exp": "it's"}),
    )
    events = events.assign(metric=events.metric.replace({"revenue": "rev'enue"}))
    store = stored(tmp_path, exposures, events)
    metrics = [MetricDef("r", numerator="rev'enue"), MetricDef("orders")]
    until = (T0 + timedelta(hours=40)).replace(tzinfo=None)  # naive: UTC
    backend = store.connect()
    try:
        names = [store.table_name("shop", k) for k in ("exposures", "metric_events")]
        result = dense_stats(backend.con, *names, "it's", metrics, pre_days=30, until=until)
        assert result is not None
        variants = list(odd.values())
        dense = stats_rows(result, variants, metrics)
        portable = experiment_stats(
            *(backend.table(n) for n in names), "it's", variants, metrics, pre_days=30,
            until=until.replace(tzinfo=T0.tzinfo),
        )  # fmt: skip
    finally:
        backend.disconnect()
    assert_same(dense, portable)
    assert set(dense[1]) >= set(odd.values())
    assert any(r["sum"] > 0 for r in dense[0] if r["metric"] == "r")


def test_too_large_for_memory_takes_the_portable_path(tmp_path):
    store = stored(tmp_path, *frames(3))
    with store.reading() as con:
        names = [store.table_name("shop", k) for k in ("exposures", "metric_events")]
        window = {"pre_days": 30.0, "until": None}
        assert dense_stats(con, *names, "exp", METRICS, **window, memory=10_000) is None
        assert dense_stats(con, *names, "exp", METRICS, **window, memory=10**9) is not None


def test_small_pages_turns_numpy_huge_page_hint_off_and_back():
    from numpy._core import multiarray

    from mlpilot.engine.arrays import small_pages

    before = multiarray._set_madvise_hugepage(True)  # each call returns the previous value
    with small_pages():
        inside = multiarray._set_madvise_hugepage(False)
    after = multiarray._set_madvise_hugepage(before)
    assert (inside, after) == (False, True)


def test_the_same_imports_give_the_same_keys(tmp_path):
    exposures, events = frames(12, units=400, events=3000)
    keys = []
    for name in ("a", "b"):
        store = stored(tmp_path / name, exposures, events)
        with duckdb.connect(str(store.path), read_only=True) as con:
            keys.append(
                con.execute("SELECT unit_key, unit_id FROM units__shop ORDER BY 1").fetchall()
            )
    assert keys[0] == keys[1]
    first_batch = sorted(set(exposures.unit_id))  # the first import's ids, in order
    assert [u for _, u in keys[0][: len(first_batch)]] == first_batch
