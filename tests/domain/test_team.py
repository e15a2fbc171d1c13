"""Team members, and which roles the initiative needs for its shape and phase."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlpilot.domain.charter import Shape
from mlpilot.domain.lifecycle import Phase
from mlpilot.domain.team import ROLE_RULES, Member, Role, coverage, make_member, required_roles
from mlpilot.errors import ValidationError

PM, DS, ML = Role.PRODUCT_MANAGER, Role.DATA_SCIENTIST, Role.ML_ENGINEER
DE, BE, EXPERT = Role.DATA_ENGINEER, Role.BACKEND_ENGINEER, Role.DOMAIN_EXPERT

# --- make_member ----------------------------------------------------------------------------


@pytest.mark.parametrize("allocation", [1, 1.0, 0.5, 1e-9])
def test_allocation_in_range_is_accepted(allocation):
    assert make_member("ann", "data-scientist", allocation).allocation == allocation


@pytest.mark.parametrize("allocation", [0, 0.0, -0.5, 1.0000001, 2, math.nan, math.inf, -math.inf])
def test_allocation_out_of_range_is_refused(allocation):
    with pytest.raises(ValidationError, match=r"allocation must be a share of time in \(0, 1\]"):
        make_member("ann", "data-scientist", allocation)


def test_member_defaults_to_full_allocation_and_strips_the_name():
    assert make_member("  Ann ", "ML_Engineer") == Member("Ann", ML, 1.0)


def test_blank_person_is_refused():
    with pytest.raises(ValidationError, match="person must not be empty"):
        make_member("  ", "designer")


def test_unknown_role_lists_the_roles():
    with pytest.raises(ValidationError, match="unknown role 'wizard'") as info:
        make_member("ann", "wizard")
    assert all(role.value in str(info.value) for role in Role)


# --- required roles -------------------------------------------------------------------------


def required(shape, phase):
    return set(coverage([], shape, phase).required_roles)


@pytest.mark.parametrize("shape", Shape)
def test_at_business_understanding_only_product_and_data_science_are_required(shape):
    assert required(shape, Phase.BUSINESS_UNDERSTANDING) == {PM, DS}


def test_online_api_at_deployment_needs_ml_and_backend_engineers():
    assert required(Shape.ONLINE_API, Phase.DEPLOYMENT) == {PM, DS, EXPERT, DE, ML, BE}


def test_embedded_at_monitoring_needs_backend_engineer():
    assert BE in required(Shape.EMBEDDED, Phase.MONITORING)


def test_batch_at_deployment_needs_ml_but_not_backend_engineer():
    roles = required(Shape.BATCH, Phase.DEPLOYMENT)
    assert ML in roles
    assert BE not in roles


@pytest.mark.parametrize(
    ("phase", "roles"),
    [
        (Phase.DATA_UNDERSTANDING, {PM, DS, EXPERT}),
        (Phase.DATA_PREPARATION, {PM, DS, EXPERT, DE}),
        (Phase.MODELING, {PM, DS, EXPERT, DE}),
        (Phase.EVALUATION, {PM, DS, EXPERT, DE}),
        (Phase.DEPLOYMENT, {PM, DS, EXPERT, DE, ML}),
        (Phase.MONITORING, {PM, DS, EXPERT, DE, ML}),
    ],
)
def test_batch_roles_grow_with_the_phase(phase, roles):
    assert required(Shape.BATCH, phase) == roles


def test_required_roles_returns_the_rules_with_reasons():
    rules = required_roles(Shape.ONLINE_API, Phase.DEPLOYMENT)
    assert [rule.role for rule in rules] == [PM, DS, EXPERT, DE, ML, BE]
    assert all(rule.why for rule in rules)


def test_every_rule_names_a_distinct_role():
    roles = [rule.role for rule in ROLE_RULES]
    assert len(roles) == len(set(roles))


# --- coverage -------------------------------------------------------------------------------


def test_empty_team_misses_every_required_role():
    found = coverage([], Shape.BATCH, Phase.MODELING)
    assert found.missing_roles == found.required_roles
    assert found.single_points == ()
    assert found.people_by_role == {}
    assert found.allocation_by_role == {}


def test_one_person_in_a_role_is_a_single_point():
    team = [Member("ann", PM), Member("bob", DS), Member("cat", DS, 0.5)]
    found = coverage(team, Shape.BATCH, Phase.BUSINESS_UNDERSTANDING)
    assert found.missing_roles == ()
    assert found.single_points == (PM,)
    assert found.people_by_role == {PM: ("ann",), DS: ("bob", "cat")}
    assert found.allocation_by_role == {PM: 1.0, DS: 1.5}


def test_two_people_in_a_role_are_not_a_single_point():
    team = [Member("ann", PM), Member("bea", PM), Member("bob", DS), Member("cat", DS)]
    assert coverage(team, Shape.BATCH, Phase.BUSINESS_UNDERSTANDING).single_points == ()


def test_the_same_person_twice_in_a_role_counts_once():
    team = [Member("ann", PM), Member("ann", PM, 0.5), Member("bob", DS), Member("cat", DS)]
    assert coverage(team, Shape.BATCH, Phase.BUSINESS_UNDERSTANDING).single_points == (PM,)


def test_one_person_in_two_roles_is_a_single_point_for_each():
    team = [Member("ann", PM, 0.5), Member("ann", DS, 0.5)]
    found = coverage(team, Shape.BATCH, Phase.BUSINESS_UNDERSTANDING)
    assert found.missing_roles == ()
    assert found.single_points == (PM, DS)


def test_online_api_at_deployment_without_engineers():
    team = [Member("ann", PM), Member("bob", DS), Member("eve", EXPERT), Member("dan", DE)]
    found = coverage(team, Shape.ONLINE_API, Phase.DEPLOYMENT)
    assert found.missing_roles == (ML, BE)
    assert found.upcoming_roles == ()


def test_roles_not_required_are_not_missing():
    team = [Member("ann", PM), Member("bob", DS), Member("dee", Role.DESIGNER)]
    found = coverage(team, Shape.BATCH, Phase.BUSINESS_UNDERSTANDING)
    assert found.missing_roles == ()
    assert Role.DESIGNER not in found.single_points
    assert found.people_by_role[Role.DESIGNER] == ("dee",)


def test_upcoming_roles_are_later_roles_nobody_holds():
    team = [Member("ann", PM), Member("bob", DS), Member("dan", DE)]
    online = coverage(team, Shape.ONLINE_API, Phase.BUSINESS_UNDERSTANDING)
    batch = coverage(team, Shape.BATCH, Phase.BUSINESS_UNDERSTANDING)
    assert online.upcoming_roles == (EXPERT, ML, BE)
    assert batch.upcoming_roles == (EXPERT, ML)


def test_nothing_is_upcoming_at_the_last_phase():
    for shape in Shape:
        assert coverage([], shape, Phase.MONITORING).upcoming_roles == ()


# --- properties -----------------------------------------------------------------------------

members = st.lists(
    st.builds(
        Member,
        person=st.sampled_from(["ann", "bob", "cat", "dan"]),
        role=st.sampled_from(Role),
        allocation=st.floats(min_value=0.01, max_value=1.0),
    ),
    max_size=12,
)


@settings(deadline=None)
@given(team=members, shape=st.sampled_from(Shape), phase=st.sampled_from(Phase))
def test_coverage_properties(team, shape, phase):
    found = coverage(team, shape, phase)
    required_set = set(found.required_roles)
    held = {member.role for member in team}
    missing, single = set(found.missing_roles), set(found.single_points)

    assert missing <= required_set
    assert single <= required_set
    assert not missing & single
    assert missing == required_set - held
    for role in single:
        assert len({m.person for m in team if m.role is role}) == 1
    for role in required_set - missing - single:
        assert len({m.person for m in team if m.role is role}) >= 2

    upcoming = set(found.upcoming_roles)
    assert not upcoming & required_set
    assert not upcoming & held
    assert sum(len(people) for people in found.people_by_role.values()) == len(team)
    for role, total in found.allocation_by_role.items():
        assert math.isclose(total, sum(m.allocation for m in team if m.role is role))


@settings(deadline=None)
@given(shape=st.sampled_from(Shape), phase=st.sampled_from(Phase))
def test_required_roles_only_grow_as_the_phase_advances(shape, phase):
    later = [p for p in Phase if p.order >= phase.order]
    for next_phase in later:
        assert required(shape, phase) <= required(shape, next_phase)
