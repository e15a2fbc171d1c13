"""The charter: what an initiative is for, how its predictions will be used, what it must beat."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from mlpilot.domain.metrics import metric_spec
from mlpilot.domain.parsing import optional_text, parse_choice, require_text, validate_slug
from mlpilot.errors import ValidationError


class Task(StrEnum):
    """What the model predicts."""

    BINARY = "binary"
    MULTICLASS = "multiclass"
    REGRESSION = "regression"
    RANKING = "ranking"


class Shape(StrEnum):
    """How predictions reach the people or systems that use them."""

    BATCH = "batch"
    ONLINE_API = "online-api"
    EMBEDDED = "embedded"


class Status(StrEnum):
    """Where the initiative stands; decisions move it (stop → stopped, ship → shipped)."""

    ACTIVE = "active"
    PAUSED = "paused"
    STOPPED = "stopped"
    SHIPPED = "shipped"


@dataclass(frozen=True)
class Baseline:
    """The non-ML way to beat ("start small"), and its measured value if known."""

    description: str
    value: float | None = None
    metric: str | None = None


@dataclass(frozen=True)
class Charter:
    """Why the initiative exists and how its predictions will be used."""

    slug: str
    name: str
    problem: str
    prediction_use: str
    task: Task
    shape: Shape
    baseline: Baseline
    status: Status
    created_at: datetime
    problem_owner: str | None = None
    used_by: str | None = None
    used_when: str | None = None


def make_charter(
    *,
    slug: str,
    name: str,
    problem: str,
    prediction_use: str,
    task: str | Task,
    shape: str | Shape,
    baseline: str,
    created_at: datetime,
    baseline_value: float | None = None,
    baseline_metric: str | None = None,
    problem_owner: str | None = None,
    used_by: str | None = None,
    used_when: str | None = None,
    status: str | Status = Status.ACTIVE,
) -> Charter:
    """Validate user input into a :class:`Charter`; raise ValidationError naming the bad field."""
    if baseline_value is not None and not math.isfinite(baseline_value):
        raise ValidationError(f"baseline value must be a finite number, got {baseline_value}")
    metric = optional_text(baseline_metric)
    if metric is not None:
        metric = metric_spec(metric).name
    return Charter(
        slug=validate_slug(slug),
        name=require_text(name, "name"),
        problem=require_text(problem, "problem"),
        prediction_use=require_text(prediction_use, "prediction use"),
        task=parse_choice(Task, task, "task"),
        shape=parse_choice(Shape, shape, "delivery shape"),
        baseline=Baseline(
            description=require_text(baseline, "baseline"),
            value=baseline_value,
            metric=metric,
        ),
        status=parse_choice(Status, status, "status"),
        created_at=created_at,
        problem_owner=optional_text(problem_owner),
        used_by=optional_text(used_by),
        used_when=optional_text(used_when),
    )
