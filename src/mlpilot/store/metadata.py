"""Read and write the initiative model in the metadata database.

Each public method runs in one transaction: it either stores everything it was given or, on an
error, nothing. Rows are turned back into the frozen domain objects of ``mlpilot.domain``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Row, delete, insert, select, update
from sqlalchemy.exc import DatabaseError, IntegrityError

from mlpilot.domain.charter import Baseline, Charter, Shape, Status, Task
from mlpilot.domain.criteria import (
    Comparator,
    Constraint,
    Criterion,
    EffectScale,
    OperatingPoint,
)
from mlpilot.domain.decisions import Decision, Learning, Verdict
from mlpilot.domain.lifecycle import Cause, Phase, Transition
from mlpilot.domain.metrics import CriterionKind
from mlpilot.domain.network import Ally, Consultation, Relation
from mlpilot.domain.team import Member, Role
from mlpilot.errors import AlreadyExistsError, MlpilotError, NotFoundError
from mlpilot.store import schema as t
from mlpilot.store.database import database_error

_APPEND_ATTEMPTS = 20


def _utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything mlpilot stores is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _json(items: Sequence[str]) -> str:
    return json.dumps(list(items))


def _tuple(text: str) -> tuple[str, ...]:
    return tuple(json.loads(text))


class MetadataStore:
    """The initiative model's persistence, over any SQLAlchemy engine (SQLite, PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        """One transaction; driver errors other than constraint violations become mlpilot's."""
        try:
            with self.engine.begin() as connection:
                yield connection
        except IntegrityError:
            raise
        except DatabaseError as exc:
            display = self.engine.url.render_as_string(hide_password=True)
            raise database_error(display, exc) from None

    def _id(self, connection: Connection, slug: str, *, lock: bool = False) -> int:
        query = select(t.initiatives.c.id).where(t.initiatives.c.slug == slug)
        if lock:
            query = query.with_for_update()
        found = connection.execute(query).scalar_one_or_none()
        if found is None:
            raise NotFoundError(
                f"no initiative {slug!r}; 'mlpilot initiative list' shows the existing ones"
            )
        return int(found)

    # Initiatives -----------------------------------------------------------------------------

    def create_initiative(self, charter: Charter, first: Transition) -> None:
        """Store a new initiative and the transition that opens its lifecycle."""
        values = {
            "slug": charter.slug,
            "name": charter.name,
            "problem": charter.problem,
            "problem_owner": charter.problem_owner,
            "prediction_use": charter.prediction_use,
            "used_by": charter.used_by,
            "used_when": charter.used_when,
            "task": charter.task.value,
            "shape": charter.shape.value,
            "baseline": charter.baseline.description,
            "baseline_value": charter.baseline.value,
            "baseline_metric": charter.baseline.metric,
            "status": charter.status.value,
            "created_at": charter.created_at,
        }
        try:
            with self._tx() as connection:
                new_id = connection.execute(
                    insert(t.initiatives).values(values).returning(t.initiatives.c.id)
                ).scalar_one()
                self._insert_transition(connection, new_id, 1, first)
        except IntegrityError:
            raise AlreadyExistsError(f"an initiative {charter.slug!r} exists already") from None

    def charter(self, slug: str) -> Charter:
        """The charter of ``slug``."""
        with self._tx() as connection:
            row = connection.execute(
                select(t.initiatives).where(t.initiatives.c.slug == slug)
            ).one_or_none()
        if row is None:
            raise NotFoundError(
                f"no initiative {slug!r}; 'mlpilot initiative list' shows the existing ones"
            )
        return _charter(row)

    def charters(self) -> list[Charter]:
        """Every initiative's charter, by slug."""
        with self._tx() as connection:
            rows = connection.execute(select(t.initiatives).order_by(t.initiatives.c.slug))
            return [_charter(row) for row in rows]

    def set_status(self, slug: str, status: Status) -> None:
        """Change an initiative's status (pause or resume)."""
        with self._tx() as connection:
            initiative_id = self._id(connection, slug)
            connection.execute(
                update(t.initiatives)
                .where(t.initiatives.c.id == initiative_id)
                .values(status=status.value)
            )

    # Criteria --------------------------------------------------------------------------------

    def add_criterion(self, slug: str, criterion: Criterion) -> int:
        """Store a criterion; returns its id."""
        c, point = criterion.constraint, criterion.operating_point
        with self._tx() as connection:
            initiative_id = self._id(connection, slug)
            return int(
                connection.execute(
                    insert(t.criteria)
                    .values(
                        initiative_id=initiative_id,
                        kind=criterion.kind.value,
                        metric=criterion.metric,
                        op=criterion.op.value,
                        target=criterion.target,
                        constraint_metric=c.metric if c else None,
                        constraint_op=c.op.value if c else None,
                        constraint_target=c.target if c else None,
                        point_threshold=point.threshold if point else None,
                        point_top=point.top if point else None,
                        point_per=point.per if point else None,
                        point_decision=True if point and point.decision else None,
                        effect=criterion.effect.value if criterion.effect else None,
                        guardrails=_json(criterion.guardrails),
                        plan=criterion.plan,
                        created_at=criterion.created_at or datetime.now(UTC),
                    )
                    .returning(t.criteria.c.id)
                ).scalar_one()
            )

    def criteria(self, slug: str) -> list[Criterion]:
        """The initiative's criteria in the order they were declared."""
        with self._tx() as connection:
            initiative_id = self._id(connection, slug)
            rows = connection.execute(
                select(t.criteria)
                .where(t.criteria.c.initiative_id == initiative_id)
                .order_by(t.criteria.c.id)
            )
            return [_criterion(row) for row in rows]

    def remove_criterion(self, slug: str, criterion_id: int) -> None:
        """Delete one criterion of ``slug``."""
        with self._tx() as connection:
            initiative_id = self._id(connection, slug)
            deleted = connection.execute(
                delete(t.criteria).where(
                    t.criteria.c.id == criterion_id, t.criteria.c.initiative_id == initiative_id
                )
            ).rowcount
        if not deleted:
            raise NotFoundError(f"initiative {slug!r} has no criterion #{criterion_id}")

    # Lifecycle -------------------------------------------------------------------------------

    def transitions(self, slug: str) -> list[Transition]:
        """The lifecycle log of ``slug``, oldest first."""
        with self._tx() as connection:
            return self._log(connection, self._id(connection, slug))

    def append_transition(
        self, slug: str, build: Callable[[list[Transition]], Transition]
    ) -> Transition:
        """Append ``build(log)`` to the log, validating against the log inside the transaction.

        PostgreSQL serialises writers on the initiative's row. SQLite cannot lock a row: when
        another process appended first, the unique (initiative, seq) constraint refuses the
        insert, and the move is validated again against the longer log.
        """
        for _attempt in range(_APPEND_ATTEMPTS):
            try:
                with self._tx() as connection:
                    initiative_id = self._id(connection, slug, lock=True)
                    log = self._log(connection, initiative_id)
                    transition = build(log)
                    self._insert_transition(connection, initiative_id, len(log) + 1, transition)
                    return transition
            except IntegrityError:
                continue
        raise MlpilotError(
            f"could not append to the lifecycle of {slug!r}: {_APPEND_ATTEMPTS} concurrent "
            "writers got there first; try again"
        )

    def _log(self, connection: Connection, initiative_id: int) -> list[Transition]:
        rows = connection.execute(
            select(t.transitions)
            .where(t.transitions.c.initiative_id == initiative_id)
            .order_by(t.transitions.c.seq)
        )
        return [_transition(row) for row in rows]

    @staticmethod
    def _insert_transition(
        connection: Connection, initiative_id: int, seq: int, transition: Transition
    ) -> None:
        connection.execute(
            insert(t.transitions).values(
                initiative_id=initiative_id,
                seq=seq,
                at=transition.at,
                from_phase=transition.from_phase.value if transition.from_phase else None,
                to_phase=transition.to_phase.value,
                reason=transition.reason,
                cause=transition.cause.value if transition.cause else None,
                who=transition.who,
            )
        )

    # Decisions and learnings -----------------------------------------------------------------

    def add_decision(self, slug: str, decision: Decision) -> None:
        """Store a decision and set the status it implies, together."""
        with self._tx() as connection:
            initiative_id = self._id(connection, slug)
            connection.execute(
                insert(t.decisions).values(
                    initiative_id=initiative_id,
                    at=decision.at,
                    verdict=decision.verdict.value,
                    rationale=decision.rationale,
                    evidence=_json(decision.evidence),
                    who=decision.who,
                )
            )
            connection.execute(
                update(t.initiatives)
                .where(t.initiatives.c.id == initiative_id)
                .values(status=decision.verdict.status.value)
            )

    def decisions(self, slug: str) -> list[Decision]:
        """The initiative's decisions, oldest first."""
        return [_decision(row) for row in self._children(slug, t.decisions)]

    def add_learning(self, slug: str, learning: Learning) -> None:
        """Store a learning."""
        with self._tx() as connection:
            connection.execute(
                insert(t.learnings).values(
                    initiative_id=self._id(connection, slug),
                    at=learning.at,
                    text=learning.text,
                    phase=learning.phase.value if learning.phase else None,
                    tags=_json(learning.tags),
                    source=learning.source,
                )
            )

    def learnings(self, slug: str) -> list[Learning]:
        """The initiative's learnings, oldest first."""
        return [_learning(row) for row in self._children(slug, t.learnings)]

    def _children(self, slug: str, table: Any) -> list[Row[Any]]:
        with self._tx() as connection:
            initiative_id = self._id(connection, slug)
            return list(
                connection.execute(
                    select(table)
                    .where(table.c.initiative_id == initiative_id)
                    .order_by(table.c.at, table.c.id)
                )
            )

    # Team ------------------------------------------------------------------------------------

    def put_member(self, slug: str, member: Member) -> bool:
        """Add a member in a role, or update the allocation; True when the member is new."""
        with self._tx() as connection:
            initiative_id = self._id(connection, slug)
            where = (
                t.members.c.initiative_id == initiative_id,
                t.members.c.person == member.person,
                t.members.c.role == member.role.value,
            )
            if connection.execute(
                update(t.members).where(*where).values(allocation=member.allocation)
            ).rowcount:
                return False
            connection.execute(
                insert(t.members).values(
                    initiative_id=initiative_id,
                    person=member.person,
                    role=member.role.value,
                    allocation=member.allocation,
                )
            )
            return True

    def remove_member(self, slug: str, person: str, role: Role | None = None) -> int:
        """Remove a person (from one role, or from all); returns how many roles were removed."""
        with self._tx() as connection:
            initiative_id = self._id(connection, slug)
            query = delete(t.members).where(
                t.members.c.initiative_id == initiative_id, t.members.c.person == person
            )
            if role is not None:
                query = query.where(t.members.c.role == role.value)
            removed = connection.execute(query).rowcount
        if not removed:
            raise NotFoundError(f"{person!r} is not on the team of {slug!r}")
        return removed

    def members(self, slug: str) -> list[Member]:
        """The team of ``slug``, by person then role."""
        with self._tx() as connection:
            initiative_id = self._id(connection, slug)
            rows = connection.execute(
                select(t.members)
                .where(t.members.c.initiative_id == initiative_id)
                .order_by(t.members.c.person, t.members.c.role)
            )
            return [Member(row.person, Role(row.role), row.allocation) for row in rows]

    # Network ---------------------------------------------------------------------------------

    def put_ally(self, ally: Ally) -> bool:
        """Add an ally, or replace the relation, expertise and team; True when the ally is new."""
        values = {
            "relation": ally.relation.value,
            "expertise": _json(ally.expertise),
            "team": ally.team,
        }
        with self._tx() as connection:
            if connection.execute(
                update(t.allies).where(t.allies.c.person == ally.person).values(values)
            ).rowcount:
                return False
            connection.execute(insert(t.allies).values(person=ally.person, **values))
            return True

    def allies(self) -> list[Ally]:
        """Every ally, by name."""
        with self._tx() as connection:
            rows = connection.execute(select(t.allies).order_by(t.allies.c.person))
            return [
                Ally(row.person, Relation(row.relation), _tuple(row.expertise), row.team)
                for row in rows
            ]

    def add_consultation(self, consultation: Consultation) -> None:
        """Log a consultation with an existing ally (about an existing initiative, if named)."""
        with self._tx() as connection:
            ally_id = connection.execute(
                select(t.allies.c.id).where(t.allies.c.person == consultation.person)
            ).scalar_one_or_none()
            if ally_id is None:
                raise NotFoundError(
                    f"no ally {consultation.person!r}; add them with 'mlpilot network add'"
                )
            initiative_id = (
                self._id(connection, consultation.initiative) if consultation.initiative else None
            )
            connection.execute(
                insert(t.consultations).values(
                    ally_id=ally_id,
                    initiative_id=initiative_id,
                    at=consultation.at,
                    need=consultation.need,
                    outcome=consultation.outcome,
                )
            )

    def consultations(self) -> list[Consultation]:
        """Every logged consultation, oldest first."""
        with self._tx() as connection:
            rows = connection.execute(
                select(
                    t.consultations.c.at,
                    t.allies.c.person,
                    t.consultations.c.need,
                    t.initiatives.c.slug,
                    t.consultations.c.outcome,
                )
                .join(t.allies)
                .outerjoin(t.initiatives)
                .order_by(t.consultations.c.at, t.consultations.c.id)
            )
            return [
                Consultation(_utc(row.at), row.person, row.need, row.slug, row.outcome)
                for row in rows
            ]


def _charter(row: Row[Any]) -> Charter:
    return Charter(
        slug=row.slug,
        name=row.name,
        problem=row.problem,
        prediction_use=row.prediction_use,
        task=Task(row.task),
        shape=Shape(row.shape),
        baseline=Baseline(row.baseline, row.baseline_value, row.baseline_metric),
        status=Status(row.status),
        created_at=_utc(row.created_at),
        problem_owner=row.problem_owner,
        used_by=row.used_by,
        used_when=row.used_when,
    )


def _criterion(row: Row[Any]) -> Criterion:
    constraint = None
    if row.constraint_metric is not None:
        constraint = Constraint(
            row.constraint_metric, Comparator(row.constraint_op), row.constraint_target
        )
    point = None
    if row.point_threshold is not None or row.point_top is not None or row.point_decision:
        point = OperatingPoint(
            threshold=row.point_threshold,
            top=row.point_top,
            per=row.point_per,
            decision=bool(row.point_decision),
        )
    return Criterion(
        kind=CriterionKind(row.kind),
        metric=row.metric,
        op=Comparator(row.op),
        target=row.target,
        constraint=constraint,
        operating_point=point,
        effect=EffectScale(row.effect) if row.effect else None,
        guardrails=_tuple(row.guardrails),
        plan=row.plan,
        created_at=_utc(row.created_at),
        id=row.id,
    )


def _transition(row: Row[Any]) -> Transition:
    return Transition(
        at=_utc(row.at),
        from_phase=Phase(row.from_phase) if row.from_phase else None,
        to_phase=Phase(row.to_phase),
        reason=row.reason,
        cause=Cause(row.cause) if row.cause else None,
        who=row.who,
    )


def _decision(row: Row[Any]) -> Decision:
    return Decision(
        _utc(row.at), Verdict(row.verdict), row.rationale, _tuple(row.evidence), row.who
    )


def _learning(row: Row[Any]) -> Learning:
    return Learning(
        _utc(row.at),
        row.text,
        Phase(row.phase) if row.phase else None,
        _tuple(row.tags),
        row.source,
    )
