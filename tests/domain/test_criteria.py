"""Success criteria: validation of each kind, constraints, impact KPIs and evaluation."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlpilot.domain.criteria import (
    Comparator,
    Constraint,
    Criterion,
    EffectScale,
    OperatingPoint,
    make_criterion,
    parse_comparator,
    parse_constraint,
)
from mlpilot.domain.metrics import CriterionKind
from mlpilot.errors import ValidationError

# --- one criterion of each kind -------------------------------------------------------------


def test_model_criterion():
    criterion = make_criterion(kind="model", metric="Recall", op=">=", target=0.8, task="binary")
    assert criterion == Criterion(CriterionKind.MODEL, "recall", Comparator.GE, 0.8)


def test_service_criterion():
    criterion = make_criterion(kind="service", metric="latency_p99", op="<=", target=250)
    assert (criterion.kind, criterion.metric, criterion.op) == (
        CriterionKind.SERVICE,
        "latency_p99",
        Comparator.LE,
    )
    assert criterion.target == 250.0
    assert isinstance(criterion.target, float)


def test_data_criterion():
    criterion = make_criterion(kind="DATA", metric="rows", op=">", target=10_000)
    assert (criterion.kind, criterion.metric, criterion.op, criterion.target) == (
        CriterionKind.DATA,
        "rows",
        Comparator.GT,
        10_000.0,
    )


def test_impact_criterion_defaults_to_relative_effect():
    criterion = make_criterion(kind="impact", metric="Conversion_Rate", op=">=", target=0.02)
    assert criterion.kind is CriterionKind.IMPACT
    assert criterion.metric == "conversion_rate"
    assert criterion.effect is EffectScale.RELATIVE
    assert criterion.guardrails == ()


def test_impact_criterion_with_absolute_effect_and_guardrails():
    criterion = make_criterion(
        kind="impact",
        metric="basket_value",
        op=">",
        target=1.5,
        effect="ABSOLUTE",
        guardrails=["refund_rate:lower, churn_30d:lower", "Refund_Rate:lower"],
    )
    assert criterion.effect is EffectScale.ABSOLUTE
    assert criterion.guardrails == ("refund_rate:lower", "churn_30d:lower")


def test_plan_is_stripped_and_blank_plan_is_none():
    with_plan = make_criterion(kind="model", metric="f1", op=">=", target=0.7, plan="  fall back ")
    without = make_criterion(kind="model", metric="f1", op=">=", target=0.7, plan="   ")
    assert with_plan.plan == "fall back"
    assert without.plan is None


def test_unknown_kind_lists_the_kinds():
    with pytest.raises(ValidationError, match="unknown criterion kind 'fairness'") as info:
        make_criterion(kind="fairness", metric="recall", op=">=", target=0.8)
    assert all(kind.value in str(info.value) for kind in CriterionKind)


# --- refusals -------------------------------------------------------------------------------


def test_unknown_metric_names_the_bad_name():
    with pytest.raises(ValidationError, match="recal") as info:
        make_criterion(kind="model", metric="recal", op=">=", target=0.8)
    assert "'recal'" in str(info.value)


@pytest.mark.parametrize("op", ["==", "=", "!=", ">>", "gte", ""])
def test_unknown_comparator_is_refused(op):
    with pytest.raises(ValidationError, match="unknown comparator"):
        make_criterion(kind="model", metric="recall", op=op, target=0.8)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (">=", Comparator.GE),
        (" > ", Comparator.GT),
        ("<=", Comparator.LE),
        ("<", Comparator.LT),
        ("GE", Comparator.GE),
        ("gt", Comparator.GT),
        ("le", Comparator.LE),
        ("lt", Comparator.LT),
        ("=>", Comparator.GE),
        ("=<", Comparator.LE),
        (Comparator.LT, Comparator.LT),
    ],
)
def test_comparator_spellings(text, expected):
    assert parse_comparator(text) is expected


@pytest.mark.parametrize(
    ("kind", "metric", "target"),
    [
        ("model", "recall", 1.5),
        ("model", "recall", -0.01),
        ("model", "r2", 1.1),
        ("model", "rmse", -1.0),
        ("service", "error_rate", -0.1),
        ("service", "availability", 1.01),
        ("service", "latency_p50", -5),
        ("data", "missing_share", 2),
        ("data", "rows", -1),
    ],
)
def test_target_outside_the_metric_range_is_refused(kind, metric, target):
    with pytest.raises(ValidationError, match=f"outside the range of {metric}"):
        make_criterion(kind=kind, metric=metric, op=">=", target=target)


@pytest.mark.parametrize(
    ("kind", "metric", "target"),
    [
        ("model", "recall", 0.0),
        ("model", "recall", 1.0),
        ("model", "r2", -3.0),
        ("model", "rmse", 1e6),
        ("service", "throughput", 1e9),
    ],
)
def test_target_at_the_edge_of_the_range_is_accepted(kind, metric, target):
    assert make_criterion(kind=kind, metric=metric, op=">=", target=target).target == target


@pytest.mark.parametrize(
    ("metric", "task"),
    [("rmse", "binary"), ("accuracy", "regression"), ("pr_auc", "multiclass"), ("ndcg", "binary")],
)
def test_model_metric_that_does_not_fit_the_task_is_refused(metric, task):
    with pytest.raises(ValidationError, match=f"does not apply to a {task} task"):
        make_criterion(kind="model", metric=metric, op=">=", target=0.5, task=task)


def test_model_metric_fits_its_task():
    criterion = make_criterion(kind="model", metric="rmse", op="<=", target=3.0, task="regression")
    assert criterion.metric == "rmse"


def test_metric_of_another_kind_is_refused():
    with pytest.raises(ValidationError, match="'latency_p99' is a service metric, not a model"):
        make_criterion(kind="model", metric="latency_p99", op="<=", target=100)


@pytest.mark.parametrize("target", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("kind", ["model", "service", "data", "impact"])
def test_non_finite_target_is_refused(kind, target):
    metric = {"model": "recall", "service": "latency_p50", "data": "rows", "impact": "revenue"}
    with pytest.raises(ValidationError, match="finite"):
        make_criterion(kind=kind, metric=metric[kind], op=">=", target=target)


# --- impact KPIs ----------------------------------------------------------------------------


@pytest.mark.parametrize("kpi", ["1st_week", "conversion-rate", "conversion rate", "", "_x", "é"])
def test_bad_kpi_name_is_refused(kpi):
    with pytest.raises(ValidationError, match="invalid KPI name"):
        make_criterion(kind="impact", metric=kpi, op=">=", target=0.01)


def test_bad_guardrail_name_is_refused():
    with pytest.raises(ValidationError, match="invalid guardrail name 'refund-rate'"):
        make_criterion(
            kind="impact", metric="revenue", op=">=", target=0.01, guardrails=["refund-rate"]
        )


def test_kpi_that_is_its_own_guardrail_is_refused():
    with pytest.raises(ValidationError, match="own guardrail"):
        make_criterion(
            kind="impact", metric="Revenue", op=">=", target=0.01, guardrails=["revenue:higher"]
        )


def test_kpi_name_of_64_characters_is_accepted_and_65_refused():
    assert make_criterion(kind="impact", metric="k" * 64, op=">=", target=0.1).metric == "k" * 64
    with pytest.raises(ValidationError, match="invalid KPI name"):
        make_criterion(kind="impact", metric="k" * 65, op=">=", target=0.1)


def test_unknown_effect_scale_is_refused():
    with pytest.raises(ValidationError, match="unknown effect scale 'percent'"):
        make_criterion(kind="impact", metric="revenue", op=">=", target=0.1, effect="percent")


@pytest.mark.parametrize("kind", ["model", "service", "data"])
def test_effect_or_guardrails_on_a_non_impact_kind_are_refused(kind):
    metric = {"model": "recall", "service": "latency_p50", "data": "rows"}[kind]
    with pytest.raises(ValidationError, match="only to impact criteria"):
        make_criterion(kind=kind, metric=metric, op=">=", target=0.5, effect="absolute")
    with pytest.raises(ValidationError, match="only to impact criteria"):
        make_criterion(kind=kind, metric=metric, op=">=", target=0.5, guardrails=["churn"])


# --- constraints ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("precision >= 0.5", ("precision", ">=", 0.5)),
        ("precision>=0.5", ("precision", ">=", 0.5)),
        ("  recall<.9 ", ("recall", "<", 0.9)),
        ("log_loss <= 1e-1", ("log_loss", "<=", 0.1)),
        ("r2 > -0.5", ("r2", ">", -0.5)),
    ],
)
def test_parse_constraint(text, expected):
    assert parse_constraint(text) == expected


@pytest.mark.parametrize(
    "text",
    ["precision", "precision >= ", "precision == 0.5", ">= 0.5", "precision >= abc",
     "precision >= 0.5 extra", "precision >= 1e", "precision >= 0.5.5", "precision >= -", ""],
)  # fmt: skip
def test_parse_constraint_refuses_bad_strings(text):
    with pytest.raises(ValidationError, match="invalid"):
        parse_constraint(text)


def test_model_criterion_with_constraint():
    criterion = make_criterion(
        kind="model",
        metric="recall",
        op=">=",
        target=0.8,
        task="binary",
        constraint=parse_constraint("Precision >= 0.5"),
        operating_point=OperatingPoint(threshold=0.42),
    )
    assert criterion.constraint == Constraint("precision", Comparator.GE, 0.5)
    assert criterion.describe() == "recall >= 0.8 and precision >= 0.5 at threshold 0.42"


@pytest.mark.parametrize("kind", ["service", "data", "impact"])
def test_constraint_on_a_non_model_kind_is_refused(kind):
    metric = {"service": "latency_p50", "data": "rows", "impact": "revenue"}[kind]
    with pytest.raises(ValidationError, match="only to model criteria"):
        make_criterion(
            kind=kind, metric=metric, op=">=", target=1, constraint=("precision", ">=", 0.5)
        )


@pytest.mark.parametrize(
    ("constraint", "message"),
    [
        (("recall", ">=", 0.5), "another metric than 'recall'"),
        (("precison", ">=", 0.5), "unknown metric 'precison'"),
        (("precision", "==", 0.5), "unknown comparator"),
        (("precision", ">=", 1.5), "outside the range of precision"),
        (("precision", ">=", math.nan), "finite"),
        (("latency_p50", "<=", 100), "service metric, not a model metric"),
        (("rmse", "<=", 1.0), "does not apply to a binary task"),
    ],
)
def test_bad_constraint_is_refused(constraint, message):
    with pytest.raises(ValidationError, match=message):
        make_criterion(
            kind="model", metric="recall", op=">=", target=0.8, task="binary", constraint=constraint
        )


# --- is_met ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "observed", "met"),
    [
        (">=", 0.81, True),
        (">=", 0.8, True),
        (">=", 0.79, False),
        (">", 0.81, True),
        (">", 0.8, False),
        (">", 0.79, False),
        ("<=", 0.79, True),
        ("<=", 0.8, True),
        ("<=", 0.81, False),
        ("<", 0.79, True),
        ("<", 0.8, False),
        ("<", 0.81, False),
    ],
)
def test_is_met_for_each_comparator(op, observed, met):
    criterion = make_criterion(kind="model", metric="recall", op=op, target=0.8)
    assert criterion.is_met(observed) is met


@pytest.mark.parametrize("op", [">=", ">", "<=", "<"])
def test_nan_observed_is_never_met(op):
    criterion = make_criterion(kind="model", metric="recall", op=op, target=0.5)
    assert criterion.is_met(math.nan) is False


@settings(deadline=None)
@given(
    op=st.sampled_from(Comparator),
    target=st.floats(0, 1),
    observed=st.floats(allow_nan=False),
)
def test_is_met_agrees_with_the_comparison(op, target, observed):
    criterion = make_criterion(kind="model", metric="recall", op=op, target=target)
    expected = {">=": observed >= target, ">": observed > target,
                "<=": observed <= target, "<": observed < target}[op.value]  # fmt: skip
    assert criterion.is_met(observed) is expected


# --- describe -------------------------------------------------------------------------------


def test_describe_shows_the_unit_of_the_metric():
    criterion = make_criterion(kind="service", metric="latency_p95", op="<", target=200)
    assert criterion.describe() == "latency_p95 < 200 ms"
    throughput = make_criterion(kind="service", metric="throughput", op=">=", target=50)
    assert throughput.describe() == "throughput >= 50 req/s"


def test_describe_without_unit():
    assert make_criterion(kind="data", metric="rows", op=">=", target=5000).describe() == (
        "rows >= 5000"
    )
    assert make_criterion(kind="model", metric="f1", op=">", target=0.75).describe() == (
        "f1 > 0.75"
    )


def test_describe_keeps_the_target_exact():
    assert make_criterion(kind="data", metric="rows", op=">=", target=1_234_567).describe() == (
        "rows >= 1234567"
    )


def test_describe_relative_effect_with_guardrails():
    criterion = make_criterion(
        kind="impact",
        metric="conversion_rate",
        op=">=",
        target=0.02,
        guardrails=["refund_rate:lower:margin=0.01", "nps:higher"],
    )
    assert criterion.describe() == (
        "conversion_rate >= +2.0% (relative effect); guardrails: refund_rate (lower is better; "
        "a rise beyond 1.0% is harm), nps (higher is better; any fall is harm)"
    )


def test_describe_absolute_effect():
    criterion = make_criterion(
        kind="impact", metric="basket_value", op=">=", target=1.5, effect="absolute"
    )
    assert criterion.describe() == "basket_value >= +1.5 (absolute effect)"
