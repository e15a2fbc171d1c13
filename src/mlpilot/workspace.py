"""The public Python API: a :class:`Workspace` and its :class:`Initiative` handles.

Every CLI command is a thin call into these methods.

>>> import tempfile
>>> ws = Workspace.open(tempfile.mkdtemp())
>>> churn = ws.create_initiative(
...     "churn", name="Churn", problem="Customers leave", prediction_use="Retention offers",
...     task="binary", shape="batch", baseline="Last month's cancellations")
>>> churn.move_to("data-understanding").to_phase.value
'data-understanding'
>>> ws.close()
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cached_property
from pathlib import Path
from types import TracebackType

from mlpilot.domain import lifecycle
from mlpilot.domain.charter import Charter, Status, make_charter
from mlpilot.domain.criteria import (
    Comparator,
    Criterion,
    make_criterion,
    make_operating_point,
    parse_constraint,
)
from mlpilot.domain.decisions import Decision, Learning, Verdict
from mlpilot.domain.lifecycle import Cause, Phase, Transition
from mlpilot.domain.network import Ally, Consultation, Match, make_ally, rank_allies
from mlpilot.domain.parsing import (
    normalize_tags,
    optional_text,
    parse_choice,
    parse_time,
    require_text,
)
from mlpilot.domain.team import Coverage, Member, Role, coverage, make_member
from mlpilot.errors import ValidationError
from mlpilot.facade.base import Time
from mlpilot.facade.base import now as _now
from mlpilot.facade.evidence import EvidenceMethods
from mlpilot.report.status import StatusReport
from mlpilot.store.alerts import AlertStore
from mlpilot.store.database import Location, connect, resolve
from mlpilot.store.events import EventStore
from mlpilot.store.metadata import MetadataStore

__all__ = ["Initiative", "Time", "Workspace"]


class Workspace:
    """Where an organisation's initiatives, team network and monitoring data are kept."""

    def __init__(self, location: Location, store: MetadataStore) -> None:
        self.location = location
        self.store = store

    @classmethod
    def open(cls, location: str | Path | None = None, *, create: bool = True) -> Workspace:
        """Open (and by default create) the workspace at a folder or database URL.

        With no argument: ``MLPILOT_DB`` (a SQLAlchemy URL), else the folder ``MLPILOT_HOME``,
        else ``./.mlpilot``. The schema is migrated to the newest version on open.
        """
        resolved = resolve(location)
        return cls(resolved, MetadataStore(connect(resolved, create=create)))

    def close(self) -> None:
        """Release the database connections."""
        self.store.engine.dispose()

    @cached_property
    def alerts(self) -> AlertStore:
        """The alerts of every initiative, kept with the metadata."""
        return AlertStore(self.store)

    @cached_property
    def events(self) -> EventStore:
        """The monitoring data (DuckDB ``events.duckdb`` in the workspace folder, whatever holds
        the metadata); it opens the file only for the duration of each call."""
        return EventStore(self.location.events_path)

    def __enter__(self) -> Workspace:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # Initiatives -----------------------------------------------------------------------------

    def create_initiative(
        self,
        slug: str,
        *,
        name: str,
        problem: str,
        prediction_use: str,
        task: str,
        shape: str,
        baseline: str,
        baseline_value: float | None = None,
        baseline_metric: str | None = None,
        problem_owner: str | None = None,
        used_by: str | None = None,
        used_when: str | None = None,
        started: Time = None,
        who: str | None = None,
    ) -> Initiative:
        """Record a new initiative; its lifecycle starts (business understanding) at ``started``."""
        now = _now()
        charter = make_charter(
            slug=slug,
            name=name,
            problem=problem,
            prediction_use=prediction_use,
            task=task,
            shape=shape,
            baseline=baseline,
            baseline_value=baseline_value,
            baseline_metric=baseline_metric,
            problem_owner=problem_owner,
            used_by=used_by,
            used_when=used_when,
            created_at=now,
        )
        first = lifecycle.start(parse_time(started, now, "start time"), optional_text(who))
        self.store.create_initiative(charter, first)
        return Initiative(self, charter.slug)

    def initiative(self, slug: str) -> Initiative:
        """The handle of an existing initiative."""
        self.store.charter(slug)
        return Initiative(self, slug)

    def initiatives(self) -> list[Charter]:
        """Every initiative's charter, by slug."""
        return self.store.charters()

    # Network ---------------------------------------------------------------------------------

    def add_ally(
        self, person: str, *, relation: str, expertise: Sequence[str], team: str | None = None
    ) -> bool:
        """Add an ally to the network (or update one); True when the ally is new."""
        return self.store.put_ally(make_ally(person, relation, list(expertise), team))

    def allies(self) -> list[Ally]:
        """Every ally, by name."""
        return self.store.allies()

    def who_can_help(self, need: str, limit: int = 5) -> list[Match]:
        """Allies ranked by how well their expertise fits ``need``."""
        if limit < 1:
            raise ValidationError(f"limit must be at least 1, got {limit}")
        return rank_allies(self.store.allies(), need, self.store.consultations())[:limit]

    def consult(
        self,
        person: str,
        need: str,
        *,
        initiative: str | None = None,
        outcome: str | None = None,
        at: Time = None,
    ) -> Consultation:
        """Log that ``person`` was asked about ``need``."""
        consultation = Consultation(
            parse_time(at, _now()),
            require_text(person, "person"),
            require_text(need, "need"),
            optional_text(initiative),
            optional_text(outcome),
        )
        self.store.add_consultation(consultation)
        return consultation

    def consultations(self) -> list[Consultation]:
        """Every logged consultation, oldest first."""
        return self.store.consultations()


class Initiative(EvidenceMethods):
    """A handle on one initiative; every read goes to the store, so it is never stale. Its
    monitoring and evidence methods live in :mod:`mlpilot.facade`."""

    # Criteria --------------------------------------------------------------------------------

    def add_criterion(
        self,
        kind: str,
        metric: str,
        op: str | Comparator,
        target: float,
        *,
        at: str | tuple[str, str, float] | None = None,
        effect: str | None = None,
        guardrails: Sequence[str] = (),
        plan: str | None = None,
        threshold: float | None = None,
        top: int | None = None,
        per: str | None = None,
        decision: bool = False,
    ) -> Criterion:
        """Declare a success criterion, e.g. ``add_criterion("model", "recall", ">=", 0.8,
        at="precision>=0.5", threshold=0.42, plan="fall back to the rules")``.

        A model criterion is judged where the model runs: at ``threshold``, at a capacity
        (``top=500, per="week"``: the 500 highest scores each week), or at each prediction's own
        ``decision``. A constraint (``at``) needs one of them."""
        constraint = parse_constraint(at) if isinstance(at, str) else at
        point = make_operating_point(threshold=threshold, top=top, per=per, decision=decision)
        criterion = make_criterion(
            kind=kind,
            metric=metric,
            op=op,
            target=target,
            task=self.charter.task.value,
            constraint=constraint,
            operating_point=point,
            effect=effect,
            guardrails=list(guardrails),
            plan=plan,
            created_at=_now(),
        )
        new_id = self._store.add_criterion(self.slug, criterion)
        return next(c for c in self._store.criteria(self.slug) if c.id == new_id)

    def remove_criterion(self, criterion_id: int) -> None:
        """Withdraw a criterion."""
        self._store.remove_criterion(self.slug, criterion_id)

    # Lifecycle -------------------------------------------------------------------------------

    def move_to(
        self,
        phase: str | Phase,
        *,
        reason: str | None = None,
        cause: str | Cause | None = None,
        at: Time = None,
        who: str | None = None,
    ) -> Transition:
        """Record a move to ``phase``; a move backward needs a ``reason``."""
        given = None if at is None else parse_time(at, _now(), "transition time")
        # "now" is read inside the transaction, after any writer that went first.
        return self._store.append_transition(
            self.slug,
            lambda log: lifecycle.next_transition(
                log, phase, given or _now(), reason=reason, cause=cause, who=who
            ),
        )

    # Decisions and learnings -----------------------------------------------------------------

    def decide(
        self,
        verdict: str | Verdict,
        why: str,
        *,
        evidence: Sequence[str] = (),
        who: str | None = None,
        at: Time = None,
    ) -> Decision:
        """Record a decision; stop and ship change the status (stopped, shipped)."""
        decision = Decision(
            parse_time(at, _now(), "decision time"),
            parse_choice(Verdict, verdict, "decision"),
            require_text(why, "the rationale (--why)"),
            tuple(e.strip() for e in evidence if e.strip()),
            optional_text(who),
        )
        self._store.add_decision(self.slug, decision)
        return decision

    def decisions(self) -> list[Decision]:
        """The decisions, oldest first."""
        return self._store.decisions(self.slug)

    def learn(
        self,
        text: str,
        *,
        tags: Sequence[str] = (),
        phase: str | Phase | None = None,
        source: str | None = None,
        at: Time = None,
    ) -> Learning:
        """Record a learning; its phase defaults to the current one."""
        learning = Learning(
            parse_time(at, _now(), "learning time"),
            require_text(text, "the learning"),
            self.phase if phase is None else parse_choice(Phase, phase, "phase"),
            normalize_tags(list(tags)),
            optional_text(source),
        )
        self._store.add_learning(self.slug, learning)
        return learning

    def learnings(self) -> list[Learning]:
        """The learnings, oldest first."""
        return self._store.learnings(self.slug)

    # Team and status -------------------------------------------------------------------------

    def add_member(self, person: str, role: str | Role, allocation: float = 1.0) -> bool:
        """Put ``person`` on the team in ``role`` (or update the allocation); True when new."""
        return self._store.put_member(self.slug, make_member(person, role, allocation))

    def remove_member(self, person: str, role: str | Role | None = None) -> int:
        """Take ``person`` off the team (in one role, or all); returns the roles removed."""
        parsed = None if role is None else parse_choice(Role, role, "role")
        return self._store.remove_member(self.slug, person, parsed)

    def team(self) -> list[Member]:
        """The members, by person then role."""
        return self._store.members(self.slug)

    def coverage(self) -> Coverage:
        """Missing roles and single points of failure for the current phase."""
        return coverage(self.team(), self.charter.shape, self.phase)

    def set_status(self, status: str | Status) -> None:
        """Pause an active initiative or resume a paused one; stop and ship are decisions."""
        parsed = parse_choice(Status, status, "status")
        if parsed in (Status.STOPPED, Status.SHIPPED):
            raise ValidationError(
                f"an initiative becomes {parsed.value} by a decision: "
                f"'mlpilot decide {self.slug} {'stop' if parsed is Status.STOPPED else 'ship'}'"
            )
        current = self.charter.status
        allowed_from = Status.ACTIVE if parsed is Status.PAUSED else Status.PAUSED
        if current is not allowed_from:
            raise ValidationError(
                f"{self.slug} is {current.value}; only an {allowed_from.value} initiative can "
                f"become {parsed.value} (a stopped or shipped one restarts by a decision: "
                f"'mlpilot decide {self.slug} continue')"
            )
        self._store.set_status(self.slug, parsed)

    def status(self, now: datetime | None = None) -> StatusReport:
        """The one-screen summary, derived from everything stored."""
        return StatusReport(
            charter=self.charter,
            log=self.history(),
            criteria=self.criteria(),
            members=self.team(),
            decisions=self.decisions(),
            learnings=self.learnings(),
            now=now or _now(),
            monitors=self.health(),
            uncertainty=self.uncertainty(),
        )
