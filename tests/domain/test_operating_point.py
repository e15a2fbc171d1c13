"""Operating points: a model criterion is judged where the model runs, never at a threshold
chosen afterwards (issue 14, section 1)."""

from __future__ import annotations

import math

import pytest

from mlpilot.domain.criteria import (
    Comparator,
    Constraint,
    Criterion,
    OperatingPoint,
    make_criterion,
    make_operating_point,
    parse_period,
)
from mlpilot.domain.metrics import CriterionKind
from mlpilot.errors import ValidationError


def _model(metric: str = "recall", **kwargs: object) -> Criterion:
    return make_criterion(kind="model", metric=metric, op=">=", target=0.6, task="binary", **kwargs)  # type: ignore[arg-type]


def test_a_constraint_without_an_operating_point_is_refused_with_the_way_to_give_one() -> None:
    with pytest.raises(ValidationError) as info:
        _model(constraint=("precision", ">=", 0.5))
    message = str(info.value)
    assert "--threshold" in message
    assert "--top K --per PERIOD" in message


def test_lift_needs_an_operating_point() -> None:
    with pytest.raises(ValidationError, match="lift needs an operating point"):
        _model("lift")


@pytest.mark.parametrize(
    ("point", "text"),
    [
        (OperatingPoint(threshold=0.42), "precision >= 0.6 at threshold 0.42"),
        (OperatingPoint(top=500, per="week"), "precision@500 per week >= 0.6"),
        (OperatingPoint(decision=True), "precision >= 0.6 at each prediction's decision"),
    ],
)
def test_describe_names_the_operating_point(point: OperatingPoint, text: str) -> None:
    assert _model("precision", operating_point=point).describe() == text


def test_a_capacity_with_a_constraint_names_both_at_k() -> None:
    criterion = _model(
        constraint=("precision", ">=", 0.3), operating_point=make_operating_point(top=50, per="7d")
    )
    assert criterion.constraint == Constraint("precision", Comparator.GE, 0.3)
    assert criterion.describe() == "recall@50 per 7d >= 0.6 and precision@50 >= 0.3"
    assert not criterion.needs_operating_point


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"threshold": 0.5, "top": 10, "per": "week"}, "give one operating point"),
        ({"threshold": 0.5, "decision": True}, "give one operating point"),
        ({"top": 10}, "needs both --top K and --per PERIOD"),
        ({"per": "week"}, "needs both --top K and --per PERIOD"),
        ({"top": 0, "per": "week"}, "at least 1"),
        ({"top": 2.5, "per": "week"}, "whole number"),
        ({"top": 10, "per": "fortnight"}, "unknown period 'fortnight'"),
        ({"threshold": math.nan}, "finite"),
        ({"threshold": math.inf}, "finite"),
    ],
)
def test_bad_operating_points_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        make_operating_point(**kwargs)  # type: ignore[arg-type]


def test_no_operating_point_is_none() -> None:
    assert make_operating_point() is None


@pytest.mark.parametrize(
    ("text", "period"),
    [("week", "week"), (" Weekly ", "week"), ("day", "day"), ("1d", "day"), ("7d", "7d"),
     ("12h", "12h"), ("2w", "2w"), ("month", "month")],
)  # fmt: skip
def test_periods(text: str, period: str) -> None:
    assert parse_period(text) == period


@pytest.mark.parametrize(
    ("metric", "kind", "message"),
    [
        ("roc_auc", "model", "roc_auc does not depend on the operating point"),
        ("log_loss", "model", "log_loss does not depend on the operating point"),
        ("latency_p99", "service", "applies only to model criteria"),
    ],
)
def test_an_operating_point_where_it_means_nothing_is_refused(
    metric: str, kind: str, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        make_criterion(
            kind=kind, metric=metric, op=">=", target=0.5, operating_point=OperatingPoint(0.5)
        )


def test_an_operating_point_is_for_binary_tasks() -> None:
    with pytest.raises(ValidationError, match="binary classifiers, not to a multiclass task"):
        make_criterion(
            kind="model",
            metric="precision",
            op=">=",
            target=0.5,
            task="multiclass",
            operating_point=OperatingPoint(0.5),
        )


def test_a_criterion_stored_with_a_constraint_and_no_point_needs_one() -> None:
    # What an old workspace holds: built directly, as the store does, bypassing validation.
    old = Criterion(
        CriterionKind.MODEL,
        "recall",
        Comparator.GE,
        0.6,
        constraint=Constraint("precision", Comparator.GE, 0.5),
    )
    assert old.needs_operating_point
    assert old.describe() == "recall >= 0.6 at precision >= 0.5"
    assert not _model().needs_operating_point
