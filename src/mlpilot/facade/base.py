"""What every part of the :class:`~mlpilot.workspace.Initiative` facade shares: the handle on
one initiative, its charter, criteria and lifecycle log, and the time helpers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from mlpilot.domain import lifecycle
from mlpilot.domain.charter import Charter
from mlpilot.domain.criteria import Criterion
from mlpilot.domain.lifecycle import Phase, Transition

if TYPE_CHECKING:
    from mlpilot.workspace import Workspace

Time = str | datetime | None


def now() -> datetime:
    """The current time, UTC."""
    return datetime.now(UTC)


class InitiativeBase:
    """A handle on one initiative; every read goes to the store, so it is never stale."""

    def __init__(self, workspace: Workspace, slug: str) -> None:
        self.workspace = workspace
        self.slug = slug
        self._store = workspace.store

    def __repr__(self) -> str:
        return f"Initiative({self.slug!r})"

    @property
    def charter(self) -> Charter:
        """The charter as stored."""
        return self._store.charter(self.slug)

    def criteria(self) -> list[Criterion]:
        """The criteria in the order they were declared."""
        return self._store.criteria(self.slug)

    def history(self) -> list[Transition]:
        """The lifecycle log, oldest first."""
        return self._store.transitions(self.slug)

    @property
    def phase(self) -> Phase:
        """The current phase (derived from the log)."""
        return lifecycle.current_phase(self.history())
