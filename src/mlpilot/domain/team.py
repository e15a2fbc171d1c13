"""The team: members, their roles and allocation, and which roles the initiative needs now.

Required roles follow from the delivery shape and the current phase (see ``ROLE_RULES`` and
``docs/team.md``). A role is *missing* when nobody holds it, and a *single point of failure*
when exactly one person holds it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from mlpilot.domain.charter import Shape
from mlpilot.domain.lifecycle import Phase
from mlpilot.domain.parsing import NAME_LENGTH, parse_choice, require_text
from mlpilot.errors import ValidationError


class Role(StrEnum):
    """Roles an end-to-end ML solution draws on."""

    PRODUCT_MANAGER = "product-manager"
    DATA_SCIENTIST = "data-scientist"
    ML_ENGINEER = "ml-engineer"
    DATA_ENGINEER = "data-engineer"
    BACKEND_ENGINEER = "backend-engineer"
    FRONTEND_ENGINEER = "frontend-engineer"
    USER_RESEARCHER = "user-researcher"
    DOMAIN_EXPERT = "domain-expert"
    DESIGNER = "designer"
    ANALYST = "analyst"


@dataclass(frozen=True)
class RoleRule:
    """``role`` is required from phase ``needed_from`` on, for the listed delivery shapes."""

    role: Role
    needed_from: Phase
    shapes: tuple[Shape, ...]
    why: str


_ALL = tuple(Shape)
_SERVING = (Shape.ONLINE_API, Shape.EMBEDDED)
ROLE_RULES: tuple[RoleRule, ...] = (
    RoleRule(Role.PRODUCT_MANAGER, Phase.BUSINESS_UNDERSTANDING, _ALL,
             "every initiative needs a product owner who owns the problem and the decision"),
    RoleRule(Role.DATA_SCIENTIST, Phase.BUSINESS_UNDERSTANDING, _ALL,
             "every initiative needs data science to frame and test the prediction"),
    RoleRule(Role.DOMAIN_EXPERT, Phase.DATA_UNDERSTANDING, _ALL,
             "someone who knows what the data means and what a good prediction is"),
    RoleRule(Role.DATA_ENGINEER, Phase.DATA_PREPARATION, _ALL,
             "reliable pipelines for training and scoring data"),
    RoleRule(Role.ML_ENGINEER, Phase.DEPLOYMENT, _ALL,
             "the model must run in production and be retrained and monitored"),
    RoleRule(Role.BACKEND_ENGINEER, Phase.DEPLOYMENT, _SERVING,
             "predictions served online or embedded must be integrated into the product"),
)  # fmt: skip


@dataclass(frozen=True)
class Member:
    """One person in one role, with the share of their time given to the initiative."""

    person: str
    role: Role
    allocation: float = 1.0


def make_member(person: str, role: str | Role, allocation: float = 1.0) -> Member:
    """Validate a member: a role from :class:`Role` and an allocation in (0, 1]."""
    if not math.isfinite(allocation) or not 0.0 < allocation <= 1.0:
        raise ValidationError(
            f"allocation must be a share of time in (0, 1], e.g. 0.5; got {allocation}"
        )
    return Member(
        require_text(person, "person", NAME_LENGTH), parse_choice(Role, role, "role"), allocation
    )


def required_roles(shape: Shape, phase: Phase) -> list[RoleRule]:
    """The rules in force for this delivery shape at this phase."""
    return [r for r in ROLE_RULES if shape in r.shapes and r.needed_from.order <= phase.order]


@dataclass(frozen=True)
class Coverage:
    """Who covers the roles the initiative needs now, and what it will need later."""

    required_roles: tuple[Role, ...]
    missing_roles: tuple[Role, ...]
    single_points: tuple[Role, ...]
    upcoming_roles: tuple[Role, ...]
    people_by_role: dict[Role, tuple[str, ...]]
    allocation_by_role: dict[Role, float]


def coverage(members: list[Member], shape: Shape, phase: Phase) -> Coverage:
    """Check the team against the role rules for ``shape`` at ``phase``.

    ``upcoming_roles`` are roles later phases will require that nobody holds yet.
    """
    people: dict[Role, list[str]] = {}
    allocation: dict[Role, float] = {}
    for member in members:
        people.setdefault(member.role, []).append(member.person)
        allocation[member.role] = allocation.get(member.role, 0.0) + member.allocation
    required = [rule.role for rule in required_roles(shape, phase)]
    later = [r.role for r in ROLE_RULES if shape in r.shapes and r.role not in required]
    return Coverage(
        required_roles=tuple(required),
        missing_roles=tuple(role for role in required if role not in people),
        single_points=tuple(role for role in required if len(set(people.get(role, []))) == 1),
        upcoming_roles=tuple(role for role in later if role not in people),
        people_by_role={role: tuple(names) for role, names in people.items()},
        allocation_by_role=allocation,
    )
