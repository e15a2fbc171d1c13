"""Offline evaluations and the history of the two uncertainties, in the metadata database.

Both are append-only: an evaluation is what was measured once, an uncertainty row what was
believed at a time; the trend comes from the rows in order. Payloads are JSON text.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select

from mlpilot.store import schema as t
from mlpilot.store.metadata import MetadataStore, _utc

__all__ = ["Evaluation", "EvaluationStore", "UncertaintyRecord"]

KINDS = ("model", "impact")


@dataclass(frozen=True)
class Evaluation:
    """One offline evaluation: metric values on ``n`` rows of a model trained on ``train_size``.

    ``details`` keeps how it was made (threshold, label counts, bootstrap replicates, intervals).
    """

    name: str
    at: datetime
    source: str  # predictions, values, sklearn, mlflow
    metrics: dict[str, float | None]
    train_size: int | None = None
    n: int | None = None
    details: dict[str, Any] = field(default_factory=dict)
    id: int | None = None


@dataclass(frozen=True)
class UncertaintyRecord:
    """The probability, at ``at``, that the model (or the feature's impact) is good enough."""

    at: datetime
    kind: str  # model or impact
    probability: float | None
    source: str
    details: dict[str, Any] = field(default_factory=dict)
    id: int | None = None


def _finite(value: float | None) -> float | None:
    """JSON has no NaN: an undefined metric is stored as null."""
    return None if value is None or not math.isfinite(value) else float(value)


class EvaluationStore:
    """Reads and writes ``evaluations`` and ``uncertainty`` through the metadata store."""

    def __init__(self, metadata: MetadataStore) -> None:
        self.metadata = metadata

    def add_evaluation(self, slug: str, evaluation: Evaluation) -> int:
        """Store an evaluation; returns its id."""
        with self.metadata._tx() as connection:
            initiative_id = self.metadata._id(connection, slug)
            return int(
                connection.execute(
                    insert(t.evaluations)
                    .values(
                        initiative_id=initiative_id,
                        name=evaluation.name,
                        at=evaluation.at,
                        source=evaluation.source,
                        train_size=evaluation.train_size,
                        n=evaluation.n,
                        metrics=json.dumps({k: _finite(v) for k, v in evaluation.metrics.items()}),
                        details=json.dumps(evaluation.details),
                    )
                    .returning(t.evaluations.c.id)
                ).scalar_one()
            )

    def evaluations(self, slug: str) -> list[Evaluation]:
        """The evaluations of ``slug``, oldest first."""
        with self.metadata._tx() as connection:
            initiative_id = self.metadata._id(connection, slug)
            rows = connection.execute(
                select(t.evaluations)
                .where(t.evaluations.c.initiative_id == initiative_id)
                .order_by(t.evaluations.c.at, t.evaluations.c.id)
            ).all()
        return [
            Evaluation(
                name=row.name,
                at=_utc(row.at),
                source=row.source,
                metrics=json.loads(row.metrics),
                train_size=row.train_size,
                n=row.n,
                details=json.loads(row.details),
                id=row.id,
            )
            for row in rows
        ]

    def add_uncertainty(self, slug: str, record: UncertaintyRecord) -> int:
        """Append a belief about the model or the impact; returns its id."""
        with self.metadata._tx() as connection:
            initiative_id = self.metadata._id(connection, slug)
            return int(
                connection.execute(
                    insert(t.uncertainty)
                    .values(
                        initiative_id=initiative_id,
                        at=record.at,
                        kind=record.kind,
                        probability=_finite(record.probability),
                        source=record.source,
                        details=json.dumps(record.details),
                    )
                    .returning(t.uncertainty.c.id)
                ).scalar_one()
            )

    def uncertainty(self, slug: str, kind: str | None = None) -> list[UncertaintyRecord]:
        """The uncertainty history of ``slug`` (of one kind, or both), oldest first."""
        with self.metadata._tx() as connection:
            initiative_id = self.metadata._id(connection, slug)
            query = select(t.uncertainty).where(t.uncertainty.c.initiative_id == initiative_id)
            if kind is not None:
                query = query.where(t.uncertainty.c.kind == kind)
            rows = connection.execute(query.order_by(t.uncertainty.c.at, t.uncertainty.c.id)).all()
        return [
            UncertaintyRecord(
                at=_utc(row.at),
                kind=row.kind,
                probability=row.probability,
                source=row.source,
                details=json.loads(row.details),
                id=row.id,
            )
            for row in rows
        ]
