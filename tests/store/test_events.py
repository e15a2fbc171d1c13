"""The event store: inputs, column maps, idempotency, schema evolution, refusals that write
nothing, references and summaries, time zones, persistence and the workspace facade."""

from __future__ import annotations

import doctest
import math
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mlpilot
import mlpilot.store.events
from mlpilot import (
    AlreadyExistsError,
    CorruptWorkspaceError,
    ImportResult,
    NotFoundError,
    ValidationError,
    WorkspaceError,
)
from mlpilot.store.events import EventStore
from mlpilot.store.ingest import PREDICTIONS, import_rows

T0 = datetime(2026, 3, 1, tzinfo=UTC)
PREDICTIONS_TABLE = "predictions__churn"


def predictions(n: int, start: int = 0, **columns: list[Any]) -> pa.Table:
    """``n`` valid predictions with ids ``p{start}``…, two features, and any ``columns``."""
    ids = range(start, start + n)
    data: dict[str, list[Any]] = {
        "id": [f"p{i}" for i in ids],
        "time": [T0 + timedelta(hours=i) for i in ids],
        "entity_id": [f"c{i % 7}" for i in ids],
        "score": [(i % 10) / 10 for i in ids],
        "age": [20 + i % 50 for i in ids],
        "plan": [("basic", "pro")[i % 2] for i in ids],
    }
    return pa.table({**data, **columns})


def read(store: EventStore, table: str = PREDICTIONS_TABLE) -> list[dict[str, Any]]:
    """Every row of ``table``, by id (or by all columns when there is no id)."""
    with _connection(store) as con:
        return _rows(con, f'SELECT * FROM "{table}" ORDER BY ALL')


def schema(store: EventStore, table: str = PREDICTIONS_TABLE) -> dict[str, str]:
    with _connection(store) as con:
        return {name: type_ for name, type_, *_ in con.execute(f'DESCRIBE "{table}"').fetchall()}


def snapshot(store: EventStore) -> dict[str, Any]:
    """Every table's schema and rows: what a refused import must leave as it was."""
    if not store.path.exists():
        return {}
    with _connection(store) as con:
        tables = [row[0] for row in con.execute("SHOW TABLES").fetchall()]
        return {
            table: (
                con.execute(f'DESCRIBE "{table}"').fetchall(),
                sorted(map(repr, _rows(con, f'SELECT * FROM "{table}"'))),
            )
            for table in tables
        }


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    """Rows through Arrow, which turns TIMESTAMPTZ into datetimes without pytz (DuckDB 1.x)."""
    return con.sql(sql).to_arrow_table().to_pylist()


class _connection:
    """A read-only DuckDB connection to the store, closed on exit (the store holds none)."""

    def __init__(self, store: EventStore) -> None:
        self.con = duckdb.connect(str(store.path), read_only=True)

    def __enter__(self) -> duckdb.DuckDBPyConnection:
        return self.con

    def __exit__(self, *_: object) -> None:
        self.con.close()


@pytest.fixture
def store(tmp_path: Path) -> EventStore:
    return EventStore(tmp_path / "events.duckdb")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding 10 predictions, 2 outcomes and a reference with a summary, built once."""
    store = EventStore(tmp_path_factory.mktemp("template") / "events.duckdb")
    store.import_predictions("churn", predictions(10))
    outcomes = pa.table({"entity_id": ["c1", "c2"], "time": [T0, T0], "label": [1, 0]})
    store.import_outcomes("churn", outcomes)
    store.add_reference("churn", "training", predictions(5).drop(["id", "time"]))
    store.save_summary("churn", "training", "profile", {"age": [1, 2]})
    return store.path


@pytest.fixture
def filled(store: EventStore, template: Path) -> EventStore:
    """A copy of the template store."""
    shutil.copy(template, store.path)
    return store


# Inputs --------------------------------------------------------------------------------------


def _write(table: pa.Table, kind: str, folder: Path) -> Any:
    if kind == "parquet":
        pq.write_table(table, folder / "in.parquet")
        return folder / "in.parquet"
    if kind == "csv":
        pacsv.write_csv(table, folder / "in.csv")
        return str(folder / "in.csv")
    if kind == "pandas":
        return table.to_pandas()
    if kind == "polars":
        return pl.from_arrow(table)
    if kind == "polars-lazy":
        return pl.from_arrow(table).lazy()  # type: ignore[union-attr]
    if kind == "arrow-stream":
        return pa.RecordBatchReader.from_batches(table.schema, table.to_batches())
    return table


@pytest.mark.parametrize(
    "kind", ["parquet", "csv", "pandas", "polars", "polars-lazy", "arrow", "arrow-stream"]
)
def test_every_input_kind_stores_the_same_rows(store, tmp_path, kind):
    result = store.import_predictions("churn", _write(predictions(20), kind, tmp_path))

    assert result == ImportResult(20, 20, 0)
    rows = read(store)
    assert [r["id"] for r in rows] == sorted(f"p{i}" for i in range(20))
    first = next(r for r in rows if r["id"] == "p3")
    assert first["time"] == T0 + timedelta(hours=3)
    assert (first["score"], first["age"], first["plan"]) == (0.3, 23, "pro")
    assert schema(store) == {
        "id": "VARCHAR",
        "time": "TIMESTAMP WITH TIME ZONE",
        "entity_id": "VARCHAR",
        "model_version": "VARCHAR",
        "score": "DOUBLE",
        "age": "BIGINT",
        "plan": "VARCHAR",
    }


def test_a_csv_is_read_with_type_detection(store, tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("id,time,score,age,city\n1,2026-03-01 10:00:00,0.5,31,Oslo\n")

    store.import_predictions("churn", path)

    assert schema(store)["age"] == "BIGINT"
    assert read(store)[0]["id"] == "1"  # an integer id is stored as text


def test_an_unknown_file_type_or_object_is_refused(store, tmp_path):
    (tmp_path / "p.json").write_text("{}")

    with pytest.raises(ValidationError, match=r"p\.json: give a \.parquet or \.csv file"):
        store.import_predictions("churn", tmp_path / "p.json")
    with pytest.raises(ValidationError, match="cannot read a dict"):
        store.import_predictions("churn", {"id": [1]})
    with pytest.raises(NotFoundError, match="no file"):
        store.import_predictions("churn", tmp_path / "missing.parquet")
    assert snapshot(store) == {}


def test_a_broken_parquet_file_is_a_validation_error(store, tmp_path):
    (tmp_path / "bad.parquet").write_bytes(b"not parquet at all")

    with pytest.raises(ValidationError, match=r"cannot read .*bad\.parquet"):
        store.import_predictions("churn", tmp_path / "bad.parquet")


# Column map ----------------------------------------------------------------------------------


def test_column_map_names_the_inputs_columns(store):
    source = predictions(3).rename_columns(["prediction_id", "ts", "user", "p", "age", "plan"])

    store.import_predictions(
        "churn", source, {"id": "prediction_id", "time": "ts", "entity_id": "user", "score": "p"}
    )

    assert list(schema(store))[:5] == ["id", "time", "entity_id", "model_version", "score"]
    assert read(store)[1]["entity_id"] == "c1"


def test_column_map_naming_a_missing_column_is_refused(store):
    with pytest.raises(ValidationError, match=r"column_map names a column 'ts' \(for time\)"):
        store.import_predictions("churn", predictions(3), {"time": "ts"})
    assert snapshot(store) == {}


def test_column_map_onto_a_name_the_input_has_is_refused(store):
    source = predictions(3).append_column("prediction_id", pa.array(["a", "b", "c"]))

    with pytest.raises(ValidationError, match="two columns would be stored as 'id'"):
        store.import_predictions("churn", source, {"id": "prediction_id"})


def test_names_that_differ_only_in_case_are_one_name(store):
    with pytest.raises(ValidationError, match=r"two columns would be stored as 'age' \('plan'"):
        store.import_predictions("churn", predictions(2), {"AGE": "plan"})


# Idempotency ---------------------------------------------------------------------------------


def test_the_same_file_twice_stores_nothing_new(store, tmp_path):
    path = _write(predictions(50), "parquet", tmp_path)

    assert store.import_predictions("churn", path) == ImportResult(50, 50, 0)
    before = snapshot(store)
    assert store.import_predictions("churn", path) == ImportResult(50, 0, 50)
    assert snapshot(store) == before


def test_overlapping_files_store_each_id_once(store):
    store.import_predictions("churn", predictions(30))

    assert store.import_predictions("churn", predictions(30, start=20)) == ImportResult(30, 20, 10)
    assert len(read(store)) == 50


def test_a_repeated_id_within_one_input_keeps_the_first_row(store):
    source = predictions(4, age=[1, 2, 3, 4]).set_column(0, "id", pa.array(["a", "b", "a", "a"]))

    assert store.import_predictions("churn", source) == ImportResult(4, 2, 2)
    assert {r["id"]: r["age"] for r in read(store)} == {"a": 1, "b": 2}


ROW = st.tuples(st.floats(0, 1), st.integers(-5, 5), st.sampled_from(["x", "y", None]))


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(ROW, min_size=1, max_size=25),
    cuts=st.lists(st.integers(0, 25), max_size=4),
    order=st.randoms(use_true_random=False),
    again=st.lists(st.integers(0, 4), max_size=2),
)
def test_any_split_in_any_order_stores_the_same_table(rows, cuts, order, again):
    """Rows with distinct ids, cut into pieces imported in any order (some twice)."""
    table = pa.table(
        {
            "id": [f"r{i}" for i in range(len(rows))],
            "time": [T0 + timedelta(minutes=i) for i in range(len(rows))],
            "score": [r[0] for r in rows],
            "n": [r[1] for r in rows],
            "tag": pa.array([r[2] for r in rows], pa.string()),
        }
    )
    edges = sorted({0, len(rows), *(min(c, len(rows)) for c in cuts)})
    pieces = [table.slice(a, b - a) for a, b in pairwise(edges)]
    order.shuffle(pieces)
    pieces += [pieces[i % len(pieces)] for i in again]
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for piece in pieces:
        con.begin()
        import_rows(con, "t", PREDICTIONS, "churn", piece, None)
        con.commit()
    stored = _rows(con, "SELECT id, time, score, n, tag FROM t ORDER BY id")
    assert stored == sorted(table.to_pylist(), key=lambda row: row["id"])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abcd"), st.integers(0, 99)), min_size=1, max_size=20))
def test_within_one_input_the_first_of_each_id_is_kept(rows):
    con = duckdb.connect()
    source = pa.table(
        {
            "id": [r[0] for r in rows],
            "time": [T0] * len(rows),
            "score": [0.5] * len(rows),
            "n": [r[1] for r in rows],
        }
    )
    received, inserted = import_rows(con, "t", PREDICTIONS, "churn", source, None)

    first: dict[str, int] = {}
    for key, n in rows:
        first.setdefault(key, n)
    assert (received, inserted) == (len(rows), len(first))
    assert dict(con.execute("SELECT id, n FROM t").fetchall()) == first


def test_split_files_through_the_store_equal_one_file(store, tmp_path):
    whole = EventStore(tmp_path / "whole.duckdb")
    whole.import_predictions("churn", predictions(40))
    for start in (30, 0, 10, 20, 10):
        store.import_predictions("churn", predictions(10, start=start))

    assert read(store) == read(whole)
    assert schema(store) == schema(whole)


# Schema evolution ----------------------------------------------------------------------------


def test_a_later_import_adds_new_feature_columns(store):
    store.import_predictions("churn", predictions(3))
    store.import_predictions("churn", predictions(2, start=3, tenure=[1.5, 2.5]))

    assert list(schema(store))[-1] == "tenure"
    assert [r["tenure"] for r in read(store)] == [None, None, None, 1.5, 2.5]
    assert store.feature_columns("churn") == ["age", "plan", "tenure"]


def test_integers_into_a_double_column_and_doubles_widen_an_integer_one(store):
    store.import_predictions("churn", predictions(2, ratio=[0.5, 1.5]))
    store.import_predictions("churn", predictions(2, start=2, ratio=[2, 3]))
    store.import_predictions("churn", predictions(2, start=4, age=[40.5, 41.5]))

    assert schema(store)["ratio"] == "DOUBLE"
    assert schema(store)["age"] == "DOUBLE"
    assert [r["age"] for r in read(store)][-2:] == [40.5, 41.5]


def test_a_conflicting_type_is_refused_and_nothing_is_written(store):
    store.import_predictions("churn", predictions(3))
    before = snapshot(store)
    source = predictions(3, start=3, age=["old", "young", "old"], brand_new=[1, 2, 3])

    with pytest.raises(ValidationError, match="'age' is VARCHAR in the input but BIGINT"):
        store.import_predictions("churn", source)
    assert snapshot(store) == before  # not even the new column


def test_a_column_without_values_takes_any_type(store):
    store.import_predictions("churn", predictions(2, note=pa.array([None, None], pa.string())))
    store.import_predictions("churn", predictions(2, start=2, note=[1.5, 2.5]))
    store.import_predictions("churn", predictions(1, start=4, age=pa.array([None], pa.string())))

    assert schema(store)["note"] == "DOUBLE"
    assert schema(store)["age"] == "BIGINT"


def test_a_prediction_type_conflict_names_both_types(store):
    store.import_predictions("churn", predictions(2, prediction=[1, 0]))

    with pytest.raises(ValidationError, match="'prediction' is VARCHAR in the input but DOUBLE"):
        store.import_predictions("churn", predictions(1, start=2, prediction=["yes"]))


# Bad input -----------------------------------------------------------------------------------

BAD_PREDICTIONS = {
    "no id": (predictions(3).drop(["id"]), "no 'id' column"),
    "no time": (predictions(3).drop(["time"]), "no 'time' column"),
    "no score or prediction": (
        predictions(3).drop(["score"]),
        "neither a 'score' nor a 'prediction' column",
    ),
    "time not a time": (
        predictions(3).set_column(1, "time", pa.array(["2026-03-01", "soon", "later"])),
        "column 'time' has 2 values that are not timestamps, e.g. 'later'",
    ),
    "null ids": (
        predictions(3).set_column(0, "id", pa.array(["a", None, None])),
        "2 rows without id",
    ),
    "null times": (
        predictions(3).set_column(1, "time", pa.array([T0, None, T0])),
        "1 row without time",
    ),
    "score not numeric": (
        predictions(3).set_column(3, "score", pa.array(["high", "low", "low"])),
        "column 'score' is VARCHAR; it must be numeric",
    ),
    "score out of range": (
        predictions(3).set_column(3, "score", pa.array([0.5, 1.5, -0.1])),
        "column 'score' has 2 values outside [0, 1] or NaN",
    ),
    "score NaN": (
        predictions(3).set_column(3, "score", pa.array([0.5, math.nan, 1.0])),
        "column 'score' has 1 value outside [0, 1] or NaN",
    ),
    "no score in a row": (
        predictions(3).set_column(3, "score", pa.array([0.5, None, 1.0])),
        "1 row with neither a score nor a prediction",
    ),
    "label of a wrong type": (
        predictions(3, prediction=[date(2026, 1, 1)] * 3),
        "column 'prediction' is DATE; it must be numbers or text",
    ),
}


@pytest.mark.parametrize("case", list(BAD_PREDICTIONS))
def test_bad_predictions_are_refused_and_nothing_changes(filled, case):
    source, message = BAD_PREDICTIONS[case]
    before = snapshot(filled)

    with pytest.raises(ValidationError, match=message.replace("[", r"\[").replace("(", r"\(")):
        filled.import_predictions("churn", source)
    assert snapshot(filled) == before


def test_a_nan_score_in_a_parquet_file_is_found(store, tmp_path):
    """Parquet writers leave NaN out of column statistics; the check must read the values."""
    source = predictions(3).set_column(3, "score", pa.array([0.5, math.nan, 1.0]))

    with pytest.raises(ValidationError, match="'score' has 1 value outside"):
        store.import_predictions("churn", _write(source, "parquet", tmp_path))


def test_every_problem_is_named_in_one_message(store):
    source = predictions(3).set_column(3, "score", pa.array([2.0, 0.5, 0.5])).drop(["time"])

    with pytest.raises(ValidationError) as error:
        store.import_predictions("churn", source)
    assert "no 'time' column" in str(error.value)
    assert "\n" not in str(error.value)


OUTCOMES = pa.table(
    {"entity_id": ["c1", "c2", "c3"], "time": [T0] * 3, "label": [1, 0, 1]}
)  # fmt: skip
BAD_OUTCOMES = {
    "no entity": (OUTCOMES.drop(["entity_id"]), "no 'entity_id' column"),
    "no time": (OUTCOMES.drop(["time"]), "no 'time' column"),
    "no label": (OUTCOMES.drop(["label"]), "no 'label' column"),
    "null entity": (
        OUTCOMES.set_column(0, "entity_id", pa.array([None, "c", None])),
        "2 rows without entity_id",
    ),
    "null label": (OUTCOMES.set_column(2, "label", pa.array([None, 1, 0])), "1 row without label"),
    "bad time": (
        OUTCOMES.set_column(1, "time", pa.array(["2026-13-45", "2026-03-01", "x"])),
        "values that are not timestamps, e.g. '2026-13-45'",
    ),
}


@pytest.mark.parametrize("case", list(BAD_OUTCOMES))
def test_bad_outcomes_are_refused_and_nothing_changes(filled, case):
    source, message = BAD_OUTCOMES[case]
    before = snapshot(filled)

    with pytest.raises(ValidationError, match=message):
        filled.import_outcomes("churn", source)
    assert snapshot(filled) == before


@pytest.mark.parametrize("kind", ["predictions", "outcomes", "reference"])
def test_an_empty_input_stores_nothing_and_is_no_error(filled, tmp_path, kind):
    before = snapshot(filled)
    empty = predictions(0) if kind == "predictions" else OUTCOMES.slice(0, 0)

    if kind == "predictions":
        result = filled.import_predictions("churn", _write(empty, "parquet", tmp_path))
    elif kind == "outcomes":
        result = filled.import_outcomes("churn", empty)
    else:
        result = filled.add_reference("churn", "training", empty, replace=True)
    assert result == ImportResult(0, 0, 0)
    assert snapshot(filled) == before


def test_an_empty_csv_with_only_a_header_is_empty(store, tmp_path):
    (tmp_path / "e.csv").write_text("id,time,score\n")

    assert store.import_predictions("churn", tmp_path / "e.csv") == ImportResult(0, 0, 0)


# Outcomes ------------------------------------------------------------------------------------


def test_outcomes_without_ids_get_derived_ones_and_reimport_is_idempotent(store):
    assert store.import_outcomes("churn", OUTCOMES) == ImportResult(3, 3, 0)
    assert store.import_outcomes("churn", OUTCOMES) == ImportResult(3, 0, 3)

    rows = read(store, "outcomes__churn")
    assert len({r["id"] for r in rows}) == 3
    assert list(schema(store, "outcomes__churn")) == ["id", "time", "entity_id", "label"]


def test_a_corrected_label_needs_a_later_time_or_its_own_id(store):
    store.import_outcomes("churn", OUTCOMES)
    corrected = OUTCOMES.slice(0, 1).set_column(2, "label", pa.array([0]))

    assert store.import_outcomes("churn", corrected).inserted == 0  # same entity and time
    later = corrected.set_column(1, "time", pa.array([T0 + timedelta(days=1)]))
    assert store.import_outcomes("churn", later).inserted == 1
    with_id = corrected.append_column("id", pa.array(["fix-1"]))
    assert store.import_outcomes("churn", with_id).inserted == 1


def test_text_labels_are_kept_as_text(store):
    labels = OUTCOMES.set_column(2, "label", pa.array(["stay", "leave", "stay"]))

    store.import_outcomes("churn", labels)

    assert schema(store, "outcomes__churn")["label"] == "VARCHAR"


# Times ---------------------------------------------------------------------------------------


def test_times_with_a_zone_become_utc_and_times_without_one_are_utc(store, tmp_path):
    path = tmp_path / "t.csv"
    path.write_text(
        "id,time,score\n"
        "a,2026-03-01T10:00:00+02:00,0.1\n"
        "b,2026-03-01 10:00:00,0.1\n"
        "c,2026-03-01,0.1\n"
    )
    store.import_predictions("churn", path)
    naive = pd.DataFrame({"id": ["d"], "time": [pd.Timestamp("2026-03-01 10:00")], "score": [0.1]})
    store.import_predictions("churn", naive)
    aware = pd.DataFrame(
        {"id": ["e"], "time": [pd.Timestamp("2026-03-01 10:00", tz="America/New_York")]}
    ).assign(score=0.1)
    store.import_predictions("churn", aware)
    a_date = pa.table({"id": ["f"], "time": [date(2026, 3, 2)], "score": [0.1]})
    store.import_predictions("churn", a_date)

    times = {r["id"]: r["time"] for r in read(store)}
    assert times == {
        "a": datetime(2026, 3, 1, 8, tzinfo=UTC),
        "b": datetime(2026, 3, 1, 10, tzinfo=UTC),
        "c": datetime(2026, 3, 1, tzinfo=UTC),
        "d": datetime(2026, 3, 1, 10, tzinfo=UTC),
        "e": datetime(2026, 3, 1, 15, tzinfo=UTC),
        "f": datetime(2026, 3, 2, tzinfo=UTC),
    }


# References and summaries --------------------------------------------------------------------


def test_references_are_added_listed_and_replaced(store):
    training = (
        predictions(5).drop(["id", "time"]).append_column("label", pa.array([1, 0] * 2 + [1]))
    )

    assert store.add_reference("churn", "training", training) == ImportResult(5, 5, 0)
    store.add_reference("churn", "holdout-2026", training.slice(0, 2))
    with pytest.raises(AlreadyExistsError, match="reference 'training' already"):
        store.add_reference("churn", "training", training)
    store.add_reference("churn", "training", training.slice(0, 3).drop(["plan"]), replace=True)

    listed = store.references("churn")
    assert [(r.name, r.rows) for r in listed] == [("holdout-2026", 2), ("training", 3)]
    assert listed[1].columns == ("score", "label", "entity_id", "age")  # reserved names first
    assert listed[1].created_at.tzinfo is UTC
    assert (
        store.table_name("churn", "reference", "holdout-2026") == "reference__churn__holdout_2026"
    )
    assert len(read(store, "reference__churn__training")) == 3
    assert store.references("other") == []


def test_a_refused_replacement_keeps_the_reference_and_its_summaries(filled):
    before = snapshot(filled)

    with pytest.raises(ValidationError, match="'score' has 1 value outside"):
        filled.add_reference("churn", "training", pa.table({"score": [7.0]}), replace=True)
    assert snapshot(filled) == before
    assert filled.load_summary("churn", "training", "profile") == {"age": [1, 2]}


def test_a_reference_keeps_its_own_types_and_checks_its_score(store):
    with pytest.raises(ValidationError, match="outside"):
        store.add_reference("churn", "training", pa.table({"score": [2.0], "x": [1]}))

    store.add_reference("churn", "training", pa.table({"id": [1], "time": ["not a time"]}))
    assert schema(store, "reference__churn__training") == {"id": "BIGINT", "time": "VARCHAR"}


@pytest.mark.parametrize("name", ["Training", "train_2026", "a--b", "-a", ""])
def test_a_bad_reference_name_is_refused(store, name):
    with pytest.raises(ValidationError, match="invalid reference name"):
        store.add_reference("churn", name, pa.table({"x": [1]}))


def test_summaries_round_trip_and_go_with_a_replaced_reference(filled):
    value = {"edges": [0.5, math.inf], "counts": [1, 2], "name": "age", "mean": None}
    filled.save_summary("churn", "training", "profile", value)
    filled.save_summary("churn", "training", "other", {"n": 1})

    assert filled.load_summary("churn", "training", "profile") == value
    assert filled.load_summary("churn", "training", "missing") is None
    assert filled.load_summary("churn", "holdout", "profile") is None

    filled.add_reference("churn", "training", pa.table({"age": [1]}), replace=True)
    assert filled.load_summary("churn", "training", "profile") is None
    assert filled.load_summary("churn", "training", "other") is None


def test_a_summary_saved_before_its_reference_does_not_outlive_it(store):
    store.save_summary("churn", "training", "profile", {"stale": True})
    store.add_reference("churn", "training", pa.table({"age": [1]}))

    assert store.load_summary("churn", "training", "profile") is None


def test_a_summary_must_be_json(store):
    with pytest.raises(ValidationError, match="summary 'p' cannot be stored as JSON"):
        store.save_summary("churn", "training", "p", {"when": datetime.now(UTC)})


def test_reads_of_a_store_never_written_create_nothing(store):
    assert store.references("churn") == []
    assert store.feature_columns("churn") == []
    assert store.load_summary("churn", "training", "profile") is None
    assert not store.path.exists()


# Names, connections, persistence -------------------------------------------------------------


def test_table_names_quote_nothing_and_refuse_unknown_kinds(store):
    assert store.table_name("churn-2026", "predictions") == "predictions__churn_2026"
    assert store.table_name("churn-2026", "outcomes") == "outcomes__churn_2026"
    assert store.table_name("churn", "metric_events") == "metric_events__churn"
    with pytest.raises(ValidationError, match="no table kind 'labels'"):
        store.table_name("churn", "labels")
    with pytest.raises(ValidationError, match="invalid slug"):
        store.table_name("Churn", "predictions")


def test_connect_gives_an_ibis_connection_to_build_expressions_on(filled):
    con = filled.connect()
    try:
        table = con.table(filled.table_name("churn", "predictions"))
        assert table.count().to_pyarrow().as_py() == 10
        assert table.score.max().to_pyarrow().as_py() == 0.9
        with pytest.raises(WorkspaceError, match="open in this process"):
            filled.import_predictions("churn", predictions(1, start=10))
    finally:
        con.disconnect()
    assert filled.import_predictions("churn", predictions(1, start=10)).inserted == 1


def test_connect_to_a_new_store_creates_it(store):
    con = store.connect()
    con.disconnect()

    assert store.path.exists()


def test_the_store_persists_and_other_processes_can_use_it_in_turn(store, tmp_path):
    store.import_predictions("churn", predictions(5))
    code = textwrap.dedent(f"""
        import pyarrow as pa
        from mlpilot.store.events import EventStore
        store = EventStore({str(store.path)!r})
        rows = pa.table({{"id": ["x"], "time": ["2026-03-05"], "score": [0.5]}})
        print(store.import_predictions("churn", rows).inserted, len(store.feature_columns("churn")))
    """)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "2"]
    assert len(read(EventStore(store.path))) == 6


def test_a_store_held_by_another_process_is_a_workspace_error(store):
    store.import_predictions("churn", predictions(1))
    code = (
        f"import duckdb, sys, time; c = duckdb.connect({str(store.path)!r}); "
        "print('held', flush=True); sys.stdin.read()"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(WorkspaceError, match="in use by another process"):
            store.import_predictions("churn", predictions(1, start=1))
    finally:
        holder.communicate("", timeout=30)


def test_a_file_that_is_not_duckdb_is_a_corrupt_workspace(store):
    store.path.write_bytes(b"this is not a database" * 100)

    with pytest.raises(CorruptWorkspaceError, match="cannot be opened"):
        store.import_predictions("churn", predictions(1))


def test_the_module_examples_run():
    result = doctest.testmod(mlpilot.store.events)

    assert result.attempted > 0
    assert result.failed == 0


# The workspace facade ------------------------------------------------------------------------

CHARTER = {
    "name": "Churn",
    "problem": "Customers leave",
    "prediction_use": "Retention offers",
    "task": "binary",
    "shape": "batch",
    "baseline": "Last month's cancellations",
}


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[mlpilot.Workspace]:
    ws = mlpilot.Workspace.open(tmp_path / "ws")
    ws.create_initiative("churn", **CHARTER)
    try:
        yield ws
    finally:
        ws.close()


def test_an_initiative_logs_predictions_outcomes_and_references(workspace, tmp_path):
    churn = workspace.initiative("churn")

    assert churn.log_predictions(predictions(4)) == ImportResult(4, 4, 0)
    assert churn.log_outcomes(OUTCOMES).inserted == 3
    churn.add_reference("training", predictions(3).drop(["id"]))
    assert churn.add_reference("training", predictions(2), replace=True).inserted == 2
    assert [r.name for r in churn.references()] == ["training"]
    assert workspace.events is workspace.events
    assert workspace.events.path == tmp_path / "ws" / "events.duckdb"


def test_an_unknown_initiative_is_not_found_and_nothing_is_created(workspace):
    ghost = mlpilot.workspace.Initiative(workspace, "ghost")

    for call in (
        lambda: ghost.log_predictions(predictions(1)),
        lambda: ghost.log_outcomes(OUTCOMES),
        lambda: ghost.add_reference("training", predictions(1)),
        ghost.references,
    ):
        with pytest.raises(NotFoundError, match="no initiative 'ghost'"):
            call()
    assert not workspace.events.path.exists()


def test_the_event_store_persists_across_a_reopen(workspace, tmp_path):
    workspace.initiative("churn").log_predictions(predictions(3))
    workspace.close()

    with mlpilot.Workspace.open(tmp_path / "ws") as again:
        assert again.events.feature_columns("churn") == ["age", "plan"]
        assert again.initiative("churn").log_predictions(predictions(3)).inserted == 0
