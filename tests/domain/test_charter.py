"""The charter: what an initiative is for and what it must beat."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from mlpilot.domain.charter import Baseline, Shape, Status, Task, make_charter
from mlpilot.errors import ValidationError

CREATED = datetime(2026, 3, 1, tzinfo=UTC)


def charter(**changes):
    fields = {
        "slug": "churn-2026",
        "name": "Churn",
        "problem": "customers leave without warning",
        "prediction_use": "retention calls",
        "task": "binary",
        "shape": "batch",
        "baseline": "call everyone with a late payment",
        "created_at": CREATED,
    }
    fields.update(changes)
    return make_charter(**fields)


def test_minimal_charter():
    made = charter()
    assert made.slug == "churn-2026"
    assert (made.task, made.shape, made.status) == (Task.BINARY, Shape.BATCH, Status.ACTIVE)
    assert made.baseline == Baseline("call everyone with a late payment")
    assert made.created_at == CREATED
    assert (made.problem_owner, made.used_by, made.used_when) == (None, None, None)


def test_full_charter_strips_text():
    made = charter(
        name="  Churn  ",
        task="MULTICLASS",
        shape="online_api",
        status="Paused",
        baseline_value=0.42,
        baseline_metric="recall",
        problem_owner=" Ann ",
        used_by="  ",
        used_when="monthly",
    )
    assert made.name == "Churn"
    assert (made.task, made.shape, made.status) == (Task.MULTICLASS, Shape.ONLINE_API,
                                                    Status.PAUSED)  # fmt: skip
    assert made.baseline == Baseline("call everyone with a late payment", 0.42, "recall")
    assert (made.problem_owner, made.used_by, made.used_when) == ("Ann", None, "monthly")


@pytest.mark.parametrize("slug", ["Churn", "x" * 65, "-churn", "", "churn_2026"])
def test_bad_slug_is_refused(slug):
    with pytest.raises(ValidationError, match="invalid slug"):
        charter(slug=slug)


def test_slug_of_64_characters_is_accepted():
    assert charter(slug="x" * 64).slug == "x" * 64


@pytest.mark.parametrize(
    ("field", "what"),
    [("name", "name"), ("problem", "problem"), ("prediction_use", "prediction use"),
     ("baseline", "baseline")],
)  # fmt: skip
def test_blank_required_text_is_refused(field, what):
    with pytest.raises(ValidationError, match=f"^{what} must not be empty$"):
        charter(**{field: "  "})


@pytest.mark.parametrize(
    ("field", "value", "what", "choices"),
    [
        ("task", "clustering", "task", "binary, multiclass, regression, ranking"),
        ("shape", "stream", "delivery shape", "batch, online-api, embedded"),
        ("status", "done", "status", "active, paused, stopped, shipped"),
    ],
)
def test_unknown_choice_lists_the_choices(field, value, what, choices):
    with pytest.raises(ValidationError) as info:
        charter(**{field: value})
    assert str(info.value) == f"unknown {what} {value!r}; expected one of: {choices}"


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_baseline_value_is_refused(value):
    with pytest.raises(ValidationError, match="baseline value must be a finite number"):
        charter(baseline_value=value)


def test_baseline_value_zero_is_kept():
    assert charter(baseline_value=0.0).baseline.value == 0.0


def test_unknown_baseline_metric_is_refused():
    with pytest.raises(ValidationError, match="unknown metric 'recal'"):
        charter(baseline_metric="recal")


def test_baseline_metric_is_stored_under_its_catalogue_name():
    assert charter(baseline_metric=" Recall ").baseline.metric == "recall"
