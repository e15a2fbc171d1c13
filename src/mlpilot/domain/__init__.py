"""Plain typed objects and pure functions: the initiative model. No I/O here."""

from mlpilot.domain.charter import Baseline, Charter, Shape, Status, Task, make_charter
from mlpilot.domain.criteria import (
    Comparator,
    Constraint,
    Criterion,
    EffectScale,
    OperatingPoint,
    make_criterion,
    make_operating_point,
    parse_constraint,
)
from mlpilot.domain.decisions import Decision, Learning, Verdict
from mlpilot.domain.lifecycle import Cause, Phase, Transition
from mlpilot.domain.metrics import CATALOGUE, CriterionKind, MetricSpec
from mlpilot.domain.network import Ally, Consultation, Match, Relation
from mlpilot.domain.team import Coverage, Member, Role

__all__ = [
    "CATALOGUE",
    "Ally",
    "Baseline",
    "Cause",
    "Charter",
    "Comparator",
    "Constraint",
    "Consultation",
    "Coverage",
    "Criterion",
    "CriterionKind",
    "Decision",
    "EffectScale",
    "Learning",
    "Match",
    "Member",
    "MetricSpec",
    "OperatingPoint",
    "Phase",
    "Relation",
    "Role",
    "Shape",
    "Status",
    "Task",
    "Transition",
    "Verdict",
    "make_charter",
    "make_criterion",
    "make_operating_point",
    "parse_constraint",
]
