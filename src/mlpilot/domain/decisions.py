"""Decisions (continue, pivot, stop, ship) and learnings: what the team chose and found out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from mlpilot.domain.charter import Status
from mlpilot.domain.lifecycle import Phase


class Verdict(StrEnum):
    """The four legitimate outcomes of a decision point."""

    CONTINUE = "continue"
    PIVOT = "pivot"
    STOP = "stop"
    SHIP = "ship"

    @property
    def status(self) -> Status:
        """The initiative status a decision leaves: stop → stopped, ship → shipped, else active."""
        return {Verdict.STOP: Status.STOPPED, Verdict.SHIP: Status.SHIPPED}.get(self, Status.ACTIVE)


@dataclass(frozen=True)
class Decision:
    """A decision with its rationale and the evidence behind it."""

    at: datetime
    verdict: Verdict
    rationale: str
    evidence: tuple[str, ...] = ()
    who: str | None = None


@dataclass(frozen=True)
class Learning:
    """Something the team learned, in which phase, from what source."""

    at: datetime
    text: str
    phase: Phase | None = None
    tags: tuple[str, ...] = ()
    source: str | None = None
