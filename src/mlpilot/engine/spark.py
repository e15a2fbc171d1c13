"""Apache Spark as an engine: a session, an Ibis connection, and a count of the jobs a monitor
runs (to show it makes a fixed number of passes).

Needs the ``spark`` extra (``pip install 'mlpilot[spark]'``: PySpark and Ibis's pyspark
backend) and a Java runtime (17 or later). Nothing here is imported by ``import mlpilot``.

Settings (environment variables; see docs/scaling.md):

- ``MLPILOT_SPARK_MASTER``: the master URL, default ``local[*]`` (every core of this machine);
  e.g. ``spark://host:7077``, ``yarn``, or ``sc://host:15002`` for Spark Connect;
- ``MLPILOT_SPARK_SHUFFLE_PARTITIONS``: ``spark.sql.shuffle.partitions`` (default: Spark's);
- ``MLPILOT_SPARK_CONF``: more ``key=value`` settings separated by commas.

The session's time zone is always UTC: windows are cut in UTC on every engine.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mlpilot.errors import ValidationError

if TYPE_CHECKING:
    from ibis.backends.pyspark import Backend as SparkBackend


def _builder(master: str, app_name: str, conf: dict[str, str]) -> Any:
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise ValidationError(
            "the spark engine needs PySpark: pip install 'mlpilot[spark]' (and Java 17+)"
        ) from None
    if master.startswith("sc://"):
        builder = SparkSession.builder.remote(master)
    else:
        builder = SparkSession.builder.master(master)
    builder = builder.appName(app_name).config("spark.sql.session.timeZone", "UTC")
    for key, value in conf.items():
        builder = builder.config(key, value)
    return builder


def local_session(
    app_name: str = "mlpilot", cores: int = 2, partitions: int = 2, memory: str = "1g"
) -> Any:
    """A small local SparkSession: ``cores`` threads, few shuffle partitions, no web UI."""
    conf = {
        "spark.sql.shuffle.partitions": str(partitions),
        "spark.default.parallelism": str(cores),
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.driver.memory": memory,
    }
    session = _builder(f"local[{cores}]", app_name, conf).getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def session_from_environment(app_name: str = "mlpilot") -> Any:
    """The session the settings in the environment describe (module docstring)."""
    conf: dict[str, str] = {"spark.ui.showConsoleProgress": "false"}
    partitions = os.environ.get("MLPILOT_SPARK_SHUFFLE_PARTITIONS")
    if partitions:
        conf["spark.sql.shuffle.partitions"] = partitions
    for item in filter(
        None, (s.strip() for s in os.environ.get("MLPILOT_SPARK_CONF", "").split(","))
    ):
        key, sep, value = item.partition("=")
        if not sep:
            raise ValidationError(f"MLPILOT_SPARK_CONF: {item!r} is not key=value")
        conf[key.strip()] = value.strip()
    master = os.environ.get("MLPILOT_SPARK_MASTER", "local[*]")
    session = _builder(master, app_name, conf).getOrCreate()
    if not master.startswith("sc://"):
        session.sparkContext.setLogLevel("ERROR")
    return session


def connect(session: Any | None = None) -> SparkBackend:
    """An Ibis connection to ``session`` (default: :func:`session_from_environment`)."""
    import ibis

    return ibis.pyspark.connect(session if session is not None else session_from_environment())


@dataclass
class JobCount:
    """The Spark jobs run inside :func:`count_jobs`: how many, and their descriptions."""

    jobs: int = 0
    stages: int = 0
    descriptions: list[str] = field(default_factory=list)


@contextmanager
def count_jobs(session: Any) -> Iterator[JobCount]:
    """Count the jobs this thread runs on ``session`` inside the block (the status tracker's
    jobs of a job group of its own, set for the block)."""
    import uuid

    group = f"mlpilot-count-{uuid.uuid4().hex}"
    context = session.sparkContext
    context.setJobGroup(group, "counted by mlpilot", interruptOnCancel=False)
    counted = JobCount()
    try:
        yield counted
    finally:
        tracker = context.statusTracker()
        ids = tracker.getJobIdsForGroup(group)
        counted.jobs = len(ids)
        for job in ids:
            info = tracker.getJobInfo(job)
            if info is not None:
                counted.stages += len(info.stageIds)
        context.setLocalProperty("spark.jobGroup.id", None)
        context.setLocalProperty("spark.job.description", None)
