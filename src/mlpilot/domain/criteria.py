"""Success criteria, declared up front, each optionally carrying the fallback plan for failure."""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from mlpilot.domain.charter import Task
from mlpilot.domain.guardrails import parse_guardrails
from mlpilot.domain.metrics import (
    CATALOGUE,
    NEEDS_OPERATING_POINT,
    CriterionKind,
    MetricSpec,
    metric_spec,
)

# The operating point lives in its own module; these names are part of this one's API too.
from mlpilot.domain.operating import OperatingPoint as OperatingPoint
from mlpilot.domain.operating import check_operating_point
from mlpilot.domain.operating import make_operating_point as make_operating_point
from mlpilot.domain.operating import parse_period as parse_period
from mlpilot.domain.parsing import normalize_tags, optional_text, parse_choice
from mlpilot.errors import ValidationError

_KPI = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class Comparator(StrEnum):
    """How an observed value is compared with the target."""

    GE = ">="
    GT = ">"
    LE = "<="
    LT = "<"

    def holds(self, observed: float, target: float) -> bool:
        """True when ``observed <op> target``."""
        return _OPERATORS[self](observed, target)


_OPERATORS: dict[Comparator, Callable[[float, float], bool]] = {
    Comparator.GE: operator.ge,
    Comparator.GT: operator.gt,
    Comparator.LE: operator.le,
    Comparator.LT: operator.lt,
}


class EffectScale(StrEnum):
    """How an impact criterion's minimum effect is expressed."""

    RELATIVE = "relative"
    ABSOLUTE = "absolute"


@dataclass(frozen=True)
class Constraint:
    """A second condition a model criterion is evaluated at, e.g. ``precision >= 0.5``."""

    metric: str
    op: Comparator
    target: float


@dataclass(frozen=True)
class Criterion:
    """One success criterion. ``id`` is set once the criterion is stored."""

    kind: CriterionKind
    metric: str
    op: Comparator
    target: float
    constraint: Constraint | None = None
    operating_point: OperatingPoint | None = None
    effect: EffectScale | None = None
    guardrails: tuple[str, ...] = ()
    plan: str | None = None
    created_at: datetime | None = None
    id: int | None = None

    def is_met(self, observed: float) -> bool:
        """Whether an observed value of the metric meets the target (NaN never does)."""
        return not math.isnan(observed) and self.op.holds(observed, self.target)

    def verdict(self, observed: float | None, note: str | None = None) -> dict[str, Any]:
        """The record a monitor gives for this criterion in one window: ``met`` is None when
        nothing was observed (``note`` says why)."""
        return {
            "criterion_id": self.id,
            "criterion": self.describe(),
            "metric": self.metric,
            "observed": observed,
            "target": self.target,
            "met": None if observed is None else self.is_met(observed),
            "plan": self.plan,
            "note": note,
        }

    @property
    def needs_operating_point(self) -> bool:
        """A model criterion whose value depends on where the model runs, declared without one
        (stored before operating points existed): it cannot be judged."""
        return (
            self.kind is CriterionKind.MODEL
            and self.operating_point is None
            and (self.constraint is not None or self.metric in NEEDS_OPERATING_POINT)
        )

    def describe(self) -> str:
        """One line such as ``recall >= 0.8 at threshold 0.42`` or
        ``precision@500 per week >= 0.3``."""
        spec = CATALOGUE.get(self.metric)
        unit = f" {spec.unit}" if spec is not None and spec.unit else ""
        text = f"{self.metric} {self.op.value} {_number(self.target)}{unit}"
        point = self.operating_point
        if point is not None:
            return _describe_at(self, point)
        if self.effect is EffectScale.RELATIVE:
            text = f"{self.metric} {self.op.value} {self.target:+.1%} (relative effect)"
        elif self.effect is EffectScale.ABSOLUTE:
            text = f"{self.metric} {self.op.value} {self.target:+.12g} (absolute effect)"
        if self.constraint is not None:
            c = self.constraint
            text += f" at {c.metric} {c.op.value} {_number(c.target)}"
        if self.guardrails:
            shown = (g.describe() for g in parse_guardrails(self.guardrails, strict=False))
            text += f"; guardrails: {', '.join(shown)}"
        return text


def _describe_at(criterion: Criterion, point: OperatingPoint) -> str:
    """``recall >= 0.6 and precision >= 0.5 at threshold 0.42``; a capacity names the metric
    at k: ``precision@500 per week >= 0.3``."""
    c = criterion.constraint
    if point.top is not None:
        k = f"@{point.top}"
        text = f"{criterion.metric}{k} per {point.per} {criterion.op.value} "
        text += _number(criterion.target)
        if c is not None:
            text += f" and {c.metric}{k} {c.op.value} {_number(c.target)}"
        return text
    text = f"{criterion.metric} {criterion.op.value} {_number(criterion.target)}"
    if c is not None:
        text += f" and {c.metric} {c.op.value} {_number(c.target)}"
    return f"{text} at {point.describe()}"


def _number(value: float) -> str:
    """Up to 12 significant digits: 1234567 stays 1234567, 0.8 stays 0.8."""
    return f"{value:.12g}"


def parse_comparator(text: str | Comparator) -> Comparator:
    """Accept ``>=``, ``>``, ``<=``, ``<`` (and ``ge``, ``gt``, ``le``, ``lt``)."""
    if isinstance(text, Comparator):
        return text
    aliases = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<", "=>": ">=", "=<": "<="}
    key = aliases.get(text.strip().lower(), text.strip())
    for comparator in Comparator:
        if comparator.value == key:
            return comparator
    raise ValidationError(f"unknown comparator {text!r}; expected one of: >=, >, <=, <")


def _check_target(spec: MetricSpec, target: float, what: str) -> None:
    if not math.isfinite(target):
        raise ValidationError(f"{what} target must be a finite number, got {target}")
    low, high = spec.lower, spec.upper
    if (low is not None and target < low) or (high is not None and target > high):
        span = (
            f"[{'-inf' if low is None else f'{low:g}'}, {'inf' if high is None else f'{high:g}'}]"
        )
        raise ValidationError(
            f"{what} target {target:g} is outside the range of {spec.name} {span}"
        )


def _catalogued(kind: CriterionKind, metric: str, target: float, task: str | None) -> str:
    spec = metric_spec(metric)
    if spec.kind is not kind:
        raise ValidationError(
            f"metric {spec.name!r} is a {spec.kind.value} metric, not a {kind.value} metric"
        )
    if task is not None and spec.tasks and task not in spec.tasks:
        raise ValidationError(
            f"metric {spec.name!r} does not apply to a {task} task "
            f"(it applies to: {', '.join(spec.tasks)})"
        )
    _check_target(spec, target, spec.name)
    return spec.name


def make_criterion(
    *,
    kind: str | CriterionKind,
    metric: str,
    op: str | Comparator,
    target: float,
    task: str | None = None,
    constraint: tuple[str, str | Comparator, float] | None = None,
    operating_point: OperatingPoint | None = None,
    effect: str | EffectScale | None = None,
    guardrails: tuple[str, ...] | list[str] = (),
    plan: str | None = None,
    created_at: datetime | None = None,
) -> Criterion:
    """Validate user input into a :class:`Criterion`.

    ``task`` (the charter's prediction task) rejects model metrics that do not fit it.
    ``constraint`` and ``operating_point`` only apply to model criteria: a criterion with a
    constraint is judged at its operating point, so it needs one. ``effect`` and ``guardrails``
    only apply to impact criteria, whose metric is a KPI name (snake_case) and whose target is
    the minimum practical effect — relative (+0.02 = +2 %) unless ``effect="absolute"``.
    """
    kind = parse_choice(CriterionKind, kind, "criterion kind")
    if task is not None:
        task = parse_choice(Task, task, "task").value
    comparator = parse_comparator(op)
    if not math.isfinite(target):
        raise ValidationError(f"target must be a finite number, got {target}")
    guardrail_names = normalize_tags(list(guardrails))
    if kind is not CriterionKind.MODEL and constraint is not None:
        raise ValidationError("a constraint (--at) applies only to model criteria")
    if kind is not CriterionKind.MODEL and operating_point is not None:
        raise ValidationError(
            "an operating point (--threshold, --top/--per) applies only to model criteria"
        )
    if kind is not CriterionKind.IMPACT and (guardrail_names or effect is not None):
        raise ValidationError("guardrails and effect scale apply only to impact criteria")

    parsed_constraint: Constraint | None = None
    scale: EffectScale | None = None
    if kind is CriterionKind.IMPACT:
        name = metric.strip().lower()
        if not _KPI.match(name):
            raise ValidationError(
                f"invalid KPI name {name!r}: use snake_case letters, digits and underscores"
            )
        # Each guardrail declares its direction (and margin); stored in canonical form.
        parsed_guardrails = parse_guardrails(guardrail_names)
        if name in {g.name for g in parsed_guardrails}:
            raise ValidationError(f"KPI {name!r} cannot also be its own guardrail")
        guardrail_names = tuple(g.spec for g in parsed_guardrails)
        scale = parse_choice(EffectScale, effect or EffectScale.RELATIVE, "effect scale")
    else:
        name = _catalogued(kind, metric, target, task)
        if constraint is not None:
            c_metric, c_op, c_target = constraint
            c_name = _catalogued(CriterionKind.MODEL, c_metric, c_target, task)
            if c_name == name:
                raise ValidationError(f"the constraint must be on another metric than {name!r}")
            parsed_constraint = Constraint(c_name, parse_comparator(c_op), float(c_target))
        c = parsed_constraint
        shown = None if c is None else (c.metric, f"{c.metric} {c.op.value} {_number(c.target)}")
        check_operating_point(name, operating_point, task, shown)
    return Criterion(
        kind=kind,
        metric=name,
        op=comparator,
        target=float(target),
        constraint=parsed_constraint,
        operating_point=operating_point,
        effect=scale,
        guardrails=guardrail_names,
        plan=optional_text(plan),
        created_at=created_at,
    )


def parse_constraint(text: str) -> tuple[str, str, float]:
    """Parse ``"precision>=0.5"`` (spaces allowed) into its three parts."""
    match = re.fullmatch(r"\s*([A-Za-z_0-9]+)\s*(>=|<=|>|<)\s*([-+0-9.eE]+)\s*", text)
    if match is None:
        raise ValidationError(
            f"invalid constraint {text!r}; write it as METRIC OP VALUE, e.g. 'precision>=0.5'"
        )
    try:
        value = float(match.group(3))
    except ValueError:
        raise ValidationError(f"invalid number {match.group(3)!r} in constraint {text!r}") from None
    return match.group(1), match.group(2), value
