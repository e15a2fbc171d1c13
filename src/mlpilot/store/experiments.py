"""Read and write experiments and their analyses in the metadata database.

An experiment keeps, as JSON, its variants (control first), planned split, metric definitions,
the impact criteria in force when it was created (so the goalposts cannot move silently) and
details (pre-period, analysis options). Each analysis appends a row; nothing is overwritten.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Row, insert, select
from sqlalchemy.exc import IntegrityError

from mlpilot.errors import AlreadyExistsError, NotFoundError
from mlpilot.store import schema as t
from mlpilot.store.metadata import MetadataStore, _utc


@dataclass(frozen=True)
class ExperimentRecord:
    """One stored experiment; ``metrics`` and ``criteria`` are plain dicts (JSON)."""

    id: int
    slug: str
    name: str
    variants: list[str]
    split: list[float]
    metrics: list[dict[str, Any]]
    criteria: list[dict[str, Any]]
    created_at: datetime
    details: dict[str, Any]


@dataclass(frozen=True)
class AnalysisRecord:
    """One stored analysis of an experiment."""

    experiment: str
    at: datetime
    method: str
    verdict: str
    results: dict[str, Any]


class ExperimentStore:
    """Experiments over any SQLAlchemy engine (SQLite, PostgreSQL); one transaction per call."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._metadata = MetadataStore(engine)  # its transactions and error mapping

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        with self._metadata._tx() as connection:
            yield connection

    def _initiative(self, connection: Connection, slug: str) -> int:
        return self._metadata._id(connection, slug)

    def create(
        self,
        slug: str,
        name: str,
        *,
        variants: list[str],
        split: list[float],
        metrics: list[dict[str, Any]],
        criteria: list[dict[str, Any]],
        created_at: datetime,
        details: dict[str, Any],
    ) -> ExperimentRecord:
        """Store a new experiment of initiative ``slug``."""
        try:
            with self._tx() as connection:
                initiative_id = self._initiative(connection, slug)
                connection.execute(
                    insert(t.experiments).values(
                        initiative_id=initiative_id,
                        name=name,
                        variants=json.dumps(variants),
                        split=json.dumps(split),
                        metrics=json.dumps(metrics),
                        criteria=json.dumps(criteria),
                        created_at=created_at,
                        details=json.dumps(details),
                    )
                )
        except IntegrityError:
            raise AlreadyExistsError(
                f"initiative {slug!r} has an experiment {name!r} already; choose another name"
            ) from None
        return self.get(slug, name)

    def get(self, slug: str, name: str) -> ExperimentRecord:
        """The experiment ``name`` of ``slug``."""
        with self._tx() as connection:
            initiative_id = self._initiative(connection, slug)
            row = connection.execute(
                select(t.experiments).where(
                    t.experiments.c.initiative_id == initiative_id, t.experiments.c.name == name
                )
            ).one_or_none()
        if row is None:
            raise NotFoundError(
                f"initiative {slug!r} has no experiment {name!r}; "
                f"'mlpilot experiment list {slug}' shows its experiments"
            )
        return _record(slug, row)

    def list(self, slug: str) -> list[ExperimentRecord]:
        """The experiments of ``slug``, oldest first."""
        with self._tx() as connection:
            initiative_id = self._initiative(connection, slug)
            rows = connection.execute(
                select(t.experiments)
                .where(t.experiments.c.initiative_id == initiative_id)
                .order_by(t.experiments.c.created_at, t.experiments.c.id)
            )
            return [_record(slug, row) for row in rows]

    def add_analysis(
        self,
        experiment_id: int,
        *,
        at: datetime,
        method: str,
        verdict: str,
        results: dict[str, Any],
    ) -> None:
        """Append one analysis of an experiment."""
        with self._tx() as connection:
            connection.execute(
                insert(t.experiment_analyses).values(
                    experiment_id=experiment_id,
                    at=at,
                    method=method,
                    verdict=verdict,
                    results=json.dumps(results),
                )
            )

    def latest_analysis(self, slug: str) -> AnalysisRecord | None:
        """The most recent analysis of any experiment of ``slug`` (None when never analysed)."""
        a, e = t.experiment_analyses, t.experiments
        with self._tx() as connection:
            initiative_id = self._initiative(connection, slug)
            row = connection.execute(
                select(e.c.name, a.c.at, a.c.method, a.c.verdict, a.c.results)
                .join(e, e.c.id == a.c.experiment_id)
                .where(e.c.initiative_id == initiative_id)
                .order_by(a.c.at.desc(), a.c.id.desc())
                .limit(1)
            ).one_or_none()
        if row is None:
            return None
        return AnalysisRecord(
            row.name, _utc(row.at), row.method, row.verdict, json.loads(row.results)
        )


def _record(slug: str, row: Row[Any]) -> ExperimentRecord:
    return ExperimentRecord(
        id=int(row.id),
        slug=slug,
        name=row.name,
        variants=json.loads(row.variants),
        split=json.loads(row.split),
        metrics=json.loads(row.metrics),
        criteria=json.loads(row.criteria),
        created_at=_utc(row.created_at),
        details=json.loads(row.details),
    )
