"""The ML lifecycle as it really happens: an append-only log of transitions, loops included.

Everything else — the current phase, the time spent in each phase, the loops — is derived from
the log, never stored.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from mlpilot.domain.parsing import optional_text, parse_choice
from mlpilot.errors import ValidationError


class Phase(StrEnum):
    """The phases in their forward order (CRISP-DM, plus deployment and monitoring)."""

    BUSINESS_UNDERSTANDING = "business-understanding"
    DATA_UNDERSTANDING = "data-understanding"
    DATA_PREPARATION = "data-preparation"
    MODELING = "modeling"
    EVALUATION = "evaluation"
    DEPLOYMENT = "deployment"
    MONITORING = "monitoring"

    @property
    def order(self) -> int:
        """Position in the forward order, from 0."""
        return _ORDER[self]


_ORDER = {phase: index for index, phase in enumerate(Phase)}


class Cause(StrEnum):
    """What a transition was learned from; mostly given for backward moves."""

    BUSINESS = "business"
    DATA = "data"
    MODEL = "model"
    SERVICE = "service"
    IMPACT = "impact"
    OTHER = "other"


@dataclass(frozen=True)
class Transition:
    """One move in the lifecycle. The first transition of an initiative has no ``from_phase``."""

    at: datetime
    from_phase: Phase | None
    to_phase: Phase
    reason: str | None = None
    cause: Cause | None = None
    who: str | None = None

    @property
    def is_backward(self) -> bool:
        """A loop: a move to an earlier phase."""
        return self.from_phase is not None and self.to_phase.order < self.from_phase.order


def start(at: datetime, who: str | None = None) -> Transition:
    """The transition that opens every initiative's lifecycle, into business understanding."""
    return Transition(at=at, from_phase=None, to_phase=Phase.BUSINESS_UNDERSTANDING, who=who)


def next_transition(
    log: list[Transition],
    to_phase: str | Phase,
    at: datetime,
    *,
    reason: str | None = None,
    cause: str | Cause | None = None,
    who: str | None = None,
) -> Transition:
    """Validate a move from the log's current phase and return the transition to append.

    Rules: the target phase must differ from the current one; a backward move needs a reason
    (its cause defaults to ``other``); time never runs backward within the log.
    """
    if not log:
        raise ValidationError("the lifecycle has not started")
    if at.tzinfo is None:
        raise ValidationError(f"transition time {at.isoformat()} has no time zone; give UTC")
    target = parse_choice(Phase, to_phase, "phase")
    current = log[-1]
    if target is current.to_phase:
        raise ValidationError(f"the initiative is already in phase {target.value!r}")
    if at < current.at:
        raise ValidationError(
            f"a transition at {at.isoformat()} would come before the last one "
            f"({current.at.isoformat()}); the lifecycle log is append-only"
        )
    parsed_cause = None if cause is None else parse_choice(Cause, cause, "cause")
    clean_reason = optional_text(reason)
    if target.order < current.to_phase.order:
        if clean_reason is None:
            raise ValidationError(
                f"moving back from {current.to_phase.value!r} to {target.value!r} needs a reason "
                "(what was learned?)"
            )
        parsed_cause = parsed_cause or Cause.OTHER
    return Transition(at, current.to_phase, target, clean_reason, parsed_cause, optional_text(who))


@dataclass(frozen=True)
class Visit:
    """A continuous stay in one phase; ``end`` is None while it lasts."""

    phase: Phase
    start: datetime
    end: datetime | None


def visits(log: list[Transition]) -> list[Visit]:
    """The stays in each phase, in order."""
    return [
        Visit(t.to_phase, t.at, log[i + 1].at if i + 1 < len(log) else None)
        for i, t in enumerate(log)
    ]


def current_phase(log: list[Transition]) -> Phase:
    """The phase the log ends in."""
    if not log:
        raise ValidationError("the lifecycle has not started")
    return log[-1].to_phase


def time_in_phase(log: list[Transition], until: datetime) -> dict[Phase, float]:
    """Seconds spent in each phase, summed over its visits; the open visit runs to ``until``.

    Every phase is present (0.0 if never visited). When ``until`` is not before the last
    transition, the values sum to the time from the first transition to ``until``.
    """
    totals = dict.fromkeys(Phase, 0.0)
    for visit in visits(log):
        end = visit.end or max(until, visit.start)
        totals[visit.phase] += (end - visit.start).total_seconds()
    return totals


def loops(log: list[Transition]) -> list[Transition]:
    """The backward transitions, in order."""
    return [t for t in log if t.is_backward]


def loops_by_pair(log: list[Transition]) -> Counter[tuple[Phase, Phase]]:
    """How often the lifecycle looped from one phase back to another."""
    return Counter((t.from_phase, t.to_phase) for t in loops(log) if t.from_phase is not None)


def loops_by_cause(log: list[Transition]) -> Counter[Cause]:
    """How often each cause sent the lifecycle back."""
    return Counter(t.cause or Cause.OTHER for t in loops(log))
