"""One local SparkSession for the whole run, and Ibis connections to Spark and DuckDB.

Every test here is marked ``spark`` (``pytest -m "not spark"`` skips them locally; CI runs
them). The session runs in local mode on two cores with two shuffle partitions (the data is
small: more partitions only add scheduling), no web UI, and UTC as its time zone, as DuckDB's
connections in mlpilot. It starts once (~10 s) and is stopped at the end of the run.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

# PySpark's py4j gateway leaves sockets for the garbage collector, and PySpark 4.0 uses pandas
# 3 options and keywords deprecated for pandas 4: none is mlpilot's, all would fail every test
# under filterwarnings=error.
_FOREIGN_WARNINGS = (
    "ignore::ResourceWarning",
    "ignore::pytest.PytestUnraisableExceptionWarning",
    "ignore::pandas.errors.Pandas4Warning",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("spark") is not None:
            for rule in _FOREIGN_WARNINGS:
                item.add_marker(pytest.mark.filterwarnings(rule))


@pytest.fixture(scope="session")
def spark_session() -> Iterator[Any]:
    """A local SparkSession, created once."""
    from mlpilot.engine.spark import local_session

    session = local_session(app_name="mlpilot-tests")
    try:
        yield session
    finally:
        session.stop()


@pytest.fixture(scope="session")
def spark(spark_session: Any) -> Any:
    """An Ibis connection to the session."""
    import ibis

    return ibis.pyspark.connect(spark_session)


@pytest.fixture(scope="session")
def duck() -> Any:
    """An Ibis DuckDB connection (UTC), the reference engine."""
    from mlpilot.engine.connection import duckdb

    return duckdb()
