"""The team (members, allocation, coverage) and the network (allies, consultations).

Every test runs against SQLite and PostgreSQL (the ``ws`` / ``workspace_location`` fixtures).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import mlpilot
from mlpilot import Ally, Member, NotFoundError, Phase, Relation, Role, ValidationError
from tests.store.helpers import FULL_CHARTER, MINIMAL_CHARTER, is_utc, reopen, utc

# Team ----------------------------------------------------------------------------------------


def test_add_update_and_remove_members(ws: mlpilot.Workspace, workspace_location: str) -> None:
    churn = ws.create_initiative("churn", **FULL_CHARTER)

    assert churn.add_member("ana", "data-scientist", 0.5) is True
    assert churn.add_member("ana", "product-manager", 0.25) is True
    assert churn.add_member("bo", "ml-engineer") is True
    assert churn.add_member("ana", "data-scientist", 0.75) is False  # an update

    with reopen(workspace_location) as again:
        assert again.initiative("churn").team() == [
            Member("ana", Role.DATA_SCIENTIST, 0.75),
            Member("ana", Role.PRODUCT_MANAGER, 0.25),
            Member("bo", Role.ML_ENGINEER, 1.0),
        ]

    assert churn.remove_member("ana", "product-manager") == 1
    assert churn.remove_member("bo") == 1
    assert churn.team() == [Member("ana", Role.DATA_SCIENTIST, 0.75)]
    with pytest.raises(NotFoundError, match="bo"):
        churn.remove_member("bo")


def test_removing_a_person_removes_all_their_roles(ws: mlpilot.Workspace) -> None:
    churn = ws.create_initiative("churn", **FULL_CHARTER)
    churn.add_member("ana", "data-scientist", 0.5)
    churn.add_member("ana", "product-manager", 0.5)

    assert churn.remove_member("ana") == 2
    assert churn.team() == []


def test_teams_of_initiatives_are_separate(ws: mlpilot.Workspace) -> None:
    churn = ws.create_initiative("churn", **FULL_CHARTER)
    demand = ws.create_initiative("demand", **MINIMAL_CHARTER)
    churn.add_member("ana", "data-scientist")

    assert demand.team() == []
    with pytest.raises(NotFoundError):
        demand.remove_member("ana")
    assert churn.team() == [Member("ana", Role.DATA_SCIENTIST, 1.0)]


def test_allocation_outside_zero_to_one_is_refused_and_nothing_stored(
    ws: mlpilot.Workspace,
) -> None:
    churn = ws.create_initiative("churn", **FULL_CHARTER)
    churn.add_member("bo", "ml-engineer", 0.5)

    for allocation in (1.5, 0.0, -0.25, float("nan"), float("inf")):
        with pytest.raises(ValidationError, match="allocation"):
            churn.add_member("ana", "data-scientist", allocation)
        with pytest.raises(ValidationError, match="allocation"):
            churn.add_member("bo", "ml-engineer", allocation)  # an update

    assert churn.team() == [Member("bo", Role.ML_ENGINEER, 0.5)]


def test_unknown_role_is_refused(ws: mlpilot.Workspace) -> None:
    churn = ws.create_initiative("churn", **FULL_CHARTER)

    with pytest.raises(ValidationError, match="role"):
        churn.add_member("ana", "wizard")

    assert churn.team() == []


def test_coverage_follows_the_team_and_the_phase(ws: mlpilot.Workspace) -> None:
    churn = ws.create_initiative("churn", **FULL_CHARTER, started="2024-01-01")  # online-api

    empty = churn.coverage()
    assert empty.required_roles == (Role.PRODUCT_MANAGER, Role.DATA_SCIENTIST)
    assert empty.missing_roles == (Role.PRODUCT_MANAGER, Role.DATA_SCIENTIST)
    assert empty.single_points == ()

    churn.add_member("ana", "product-manager", 0.5)
    churn.add_member("bo", "data-scientist", 0.5)
    churn.add_member("cy", "data-scientist", 0.25)
    staffed = churn.coverage()
    assert staffed.missing_roles == ()
    assert staffed.single_points == (Role.PRODUCT_MANAGER,)
    assert staffed.upcoming_roles == (
        Role.DOMAIN_EXPERT,
        Role.DATA_ENGINEER,
        Role.ML_ENGINEER,
        Role.BACKEND_ENGINEER,
    )
    assert staffed.allocation_by_role == {Role.PRODUCT_MANAGER: 0.5, Role.DATA_SCIENTIST: 0.75}
    assert staffed.people_by_role[Role.DATA_SCIENTIST] == ("bo", "cy")

    churn.move_to("deployment", at="2024-02-01")
    deploying = churn.coverage()
    assert churn.phase is Phase.DEPLOYMENT
    assert deploying.missing_roles == (
        Role.DOMAIN_EXPERT,
        Role.DATA_ENGINEER,
        Role.ML_ENGINEER,
        Role.BACKEND_ENGINEER,
    )
    assert deploying.upcoming_roles == ()


# Network -------------------------------------------------------------------------------------


def test_add_and_update_an_ally(ws: mlpilot.Workspace, workspace_location: str) -> None:
    assert ws.allies() == []

    assert ws.add_ally("lena", relation="legal", expertise=["GDPR", "consent"], team="Legal")
    assert ws.add_ally("omar", relation="data_engineer", expertise=["kafka, pipelines"])
    updated = ws.add_ally("lena", relation="domain-expert", expertise=["payments"], team=None)

    assert updated is False
    with reopen(workspace_location) as again:
        assert again.allies() == [
            Ally("lena", Relation.DOMAIN_EXPERT, ("payments",), None),
            Ally("omar", Relation.DATA_ENGINEER, ("kafka", "pipelines"), None),
        ]


def test_ally_without_expertise_is_refused(ws: mlpilot.Workspace) -> None:
    with pytest.raises(ValidationError, match="expertise"):
        ws.add_ally("lena", relation="legal", expertise=[" ", ""])

    assert ws.allies() == []


def _network(ws: mlpilot.Workspace) -> None:
    ws.add_ally("lena", relation="legal", expertise=["gdpr", "consent"])
    ws.add_ally("sam", relation="legal", expertise=["contracts"])
    ws.add_ally("omar", relation="data-engineer", expertise=["kafka", "pipelines"])
    ws.add_ally("priya", relation="data-scientist", expertise=["causal inference"])


def test_who_can_help_ranks_by_expertise_then_consultations(ws: mlpilot.Workspace) -> None:
    _network(ws)

    kafka = ws.who_can_help("a kafka pipeline into the warehouse")
    assert [m.ally.person for m in kafka] == ["omar"]
    assert "kafka" in kafka[0].matched

    gdpr = ws.who_can_help("GDPR consent for the training data")
    assert [m.ally.person for m in gdpr] == ["lena", "sam", "omar", "priya"]  # ties by name
    assert gdpr[0].score == gdpr[1].score > gdpr[2].score

    ws.consult("sam", "consent wording", at="2024-01-01")
    ws.consult("sam", "retention period", at="2024-01-02")
    after = ws.who_can_help("GDPR consent for the training data", limit=2)
    assert [(m.ally.person, m.consultations) for m in after] == [("sam", 2), ("lena", 0)]


def test_who_can_help_needs_a_positive_limit(ws: mlpilot.Workspace) -> None:
    _network(ws)

    with pytest.raises(ValidationError, match="limit"):
        ws.who_can_help("gdpr", limit=0)


def test_consultations_are_logged_oldest_first(ws: mlpilot.Workspace) -> None:
    ws.create_initiative("churn", **FULL_CHARTER)
    _network(ws)
    before = datetime.now(UTC)

    ws.consult("omar", "stream the events", initiative="churn", outcome="use the CDC feed")
    ws.consult("lena", "  consent for profiling ", at="2024-05-01T12:00+02:00")

    earlier, later = ws.consultations()
    assert earlier == mlpilot.Consultation(utc(2024, 5, 1, 10), "lena", "consent for profiling")
    assert (later.person, later.need, later.initiative, later.outcome) == (
        "omar",
        "stream the events",
        "churn",
        "use the CDC feed",
    )
    assert is_utc(later.at)
    assert before <= later.at <= datetime.now(UTC)


def test_consulting_an_unknown_ally_is_not_found(ws: mlpilot.Workspace) -> None:
    _network(ws)

    with pytest.raises(NotFoundError, match="zoe"):
        ws.consult("zoe", "anything")

    assert ws.consultations() == []


def test_consulting_about_an_unknown_initiative_is_not_found_and_nothing_stored(
    ws: mlpilot.Workspace,
) -> None:
    _network(ws)

    with pytest.raises(NotFoundError, match="ghost"):
        ws.consult("lena", "consent", initiative="ghost")

    assert ws.consultations() == []
