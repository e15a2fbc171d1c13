"""Guardrail declarations: a direction is required, a margin is optional, the stored form is
canonical; a KPI's direction follows from its comparator."""

from __future__ import annotations

import pytest

from mlpilot.domain.criteria import make_criterion
from mlpilot.domain.guardrails import Guardrail, kpi_direction, parse_guardrail, parse_guardrails
from mlpilot.errors import ValidationError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cost:lower", Guardrail("cost", False, 0.0)),
        ("Cost : LOWER : margin=0.05", Guardrail("cost", False, 0.05)),
        ("nps:margin=2%:higher", Guardrail("nps", True, 0.02)),
        ("refunds:lower:margin=0", Guardrail("refunds", False, 0.0)),
    ],
)
def test_guardrails_parse(text, expected):
    assert parse_guardrail(text) == expected
    assert parse_guardrail(expected.spec) == expected  # the stored form reads back


def test_the_canonical_form_and_the_description():
    g = parse_guardrail("offer_cost_per_customer:lower:margin=5%")
    assert g.spec == "offer_cost_per_customer:lower:margin=0.05"
    assert g.describe() == "offer_cost_per_customer (lower is better; a rise beyond 5.0% is harm)"
    assert parse_guardrail("nps:higher").describe() == "nps (higher is better; any fall is harm)"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("offer_cost_per_customer", "has no direction: write offer_cost_per_customer:lower"),
        ("cost:down", "unknown token 'down'"),
        ("cost:lower:higher", "direction twice"),
        ("cost:lower:margin=abc", "invalid margin 'abc'"),
        ("cost:lower:margin=1.5", r"relative harm in \[0, 1\)"),
        ("cost:lower:margin=-0.1", r"relative harm in \[0, 1\)"),
        ("cost:lower:margin=nan", r"relative harm in \[0, 1\)"),
        ("Cost-Rate:lower", "invalid guardrail name 'cost-rate'"),
    ],
)
def test_bad_guardrails_are_refused_with_the_way_to_declare_them(text, needle):
    with pytest.raises(ValidationError, match=needle):
        parse_guardrail(text)


def test_a_stored_legacy_name_reads_back_without_a_direction():
    legacy = parse_guardrail("offer_cost_per_customer", strict=False)
    assert legacy.higher_is_better is None
    assert legacy.spec == "offer_cost_per_customer"
    assert "direction not declared" in legacy.describe()
    with pytest.raises(ValidationError, match="margin but no direction"):
        parse_guardrail("cost:margin=0.1", strict=False)


def test_a_guardrail_named_twice_is_refused():
    with pytest.raises(ValidationError, match="'cost' is given more than once"):
        parse_guardrails(["cost:lower", "cost:lower:margin=0.1"])


def test_the_kpi_direction_follows_from_the_comparator():
    assert kpi_direction(">=")
    assert kpi_direction(">")
    assert not kpi_direction("<=")
    assert not kpi_direction("<")
    with pytest.raises(ValidationError, match="comparator"):
        kpi_direction("==")


def test_an_impact_criterion_refuses_a_guardrail_without_a_direction():
    """The README's example as it was: nothing said that offer cost should go down."""
    with pytest.raises(ValidationError, match="offer_cost_per_customer:lower"):
        make_criterion(
            kind="impact",
            metric="retention_30d",
            op=">=",
            target=0.02,
            guardrails=["offer_cost_per_customer"],
        )
    criterion = make_criterion(
        kind="impact",
        metric="retention_30d",
        op=">=",
        target=0.02,
        guardrails=["offer_cost_per_customer:lower:margin=5%"],
    )
    assert criterion.guardrails == ("offer_cost_per_customer:lower:margin=0.05",)
