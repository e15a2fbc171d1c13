"""The one-screen status of an initiative, derived from what is stored (nothing here is stored).

``StatusReport.to_dict`` gives the stable snake_case keys of ``mlpilot status --json``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mlpilot.domain import lifecycle
from mlpilot.domain.charter import Charter, Status
from mlpilot.domain.criteria import Criterion
from mlpilot.domain.decisions import Decision, Learning, Verdict
from mlpilot.domain.lifecycle import Phase, Transition
from mlpilot.domain.team import Coverage, Member, coverage


@dataclass(frozen=True)
class StatusReport:
    """Everything ``mlpilot status`` shows, computed at ``now``."""

    charter: Charter
    log: list[Transition]
    criteria: list[Criterion]
    members: list[Member]
    decisions: list[Decision]
    learnings: list[Learning]
    now: datetime
    monitors: dict[str, Any] | None = None  # monitor group -> health, computed by the monitors
    uncertainty: dict[str, Any] | None = None  # model / impact probabilities with their history

    @property
    def phase(self) -> Phase:
        """The current phase."""
        return lifecycle.current_phase(self.log)

    @property
    def clock_end(self) -> datetime:
        """Time stops at the stop decision of a stopped initiative; otherwise it is ``now``."""
        stops = [d.at for d in self.decisions if d.verdict is Verdict.STOP]
        if self.charter.status is Status.STOPPED and stops:
            return max(stops[-1], self.log[-1].at)
        return self.now

    @property
    def coverage(self) -> Coverage:
        """Role coverage for the charter's delivery shape at the current phase."""
        return coverage(self.members, self.charter.shape, self.phase)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: stable snake_case keys, times in ISO 8601 UTC, durations in seconds."""
        charter, log = self.charter, self.log
        cover = self.coverage
        return {
            **charter_dict(charter),
            "phase": self.phase.value,
            "started_at": log[0].at.isoformat(),
            "as_of": self.now.isoformat(),
            "loops": len(lifecycle.loops(log)),
            "loops_by_cause": {c.value: n for c, n in lifecycle.loops_by_cause(log).items()},
            "loops_by_pair": [
                {"from": a.value, "to": b.value, "count": n}
                for (a, b), n in lifecycle.loops_by_pair(log).items()
            ],
            "history": [transition_dict(t) for t in log],
            "time_in_phase": {
                p.value: s for p, s in lifecycle.time_in_phase(log, self.clock_end).items()
            },
            "criteria": [criterion_dict(c) for c in self.criteria],
            "coverage": coverage_dict(cover),
            "team": [member_dict(m) for m in self.members],
            "decisions": [decision_dict(d) for d in self.decisions],
            "learnings": [learning_dict(item) for item in self.learnings],
            "monitors": self.monitors or {},
            "uncertainty": self.uncertainty or {"model": None, "impact": None},
        }


def charter_dict(charter: Charter) -> dict[str, Any]:
    """The charter as JSON."""
    return {
        "slug": charter.slug,
        "name": charter.name,
        "status": charter.status.value,
        "task": charter.task.value,
        "shape": charter.shape.value,
        "problem": charter.problem,
        "problem_owner": charter.problem_owner,
        "prediction_use": charter.prediction_use,
        "used_by": charter.used_by,
        "used_when": charter.used_when,
        "baseline": {
            "description": charter.baseline.description,
            "value": charter.baseline.value,
            "metric": charter.baseline.metric,
        },
        "created_at": charter.created_at.isoformat(),
    }


def transition_dict(t: Transition) -> dict[str, Any]:
    """One lifecycle transition as JSON."""
    return {
        "from": t.from_phase.value if t.from_phase else None,
        "to": t.to_phase.value,
        "at": t.at.isoformat(),
        "backward": t.is_backward,
        "reason": t.reason,
        "cause": t.cause.value if t.cause else None,
        "who": t.who,
    }


def criterion_dict(c: Criterion) -> dict[str, Any]:
    """One success criterion as JSON."""
    return {
        "id": c.id,
        "kind": c.kind.value,
        "metric": c.metric,
        "op": c.op.value,
        "target": c.target,
        "constraint": None
        if c.constraint is None
        else {
            "metric": c.constraint.metric,
            "op": c.constraint.op.value,
            "target": c.constraint.target,
        },
        "operating_point": None
        if c.operating_point is None
        else {
            "threshold": c.operating_point.threshold,
            "top": c.operating_point.top,
            "per": c.operating_point.per,
            "decision": c.operating_point.decision,
        },
        "effect": c.effect.value if c.effect else None,
        "guardrails": list(c.guardrails),
        "plan": c.plan,
        "text": c.describe(),
    }


def coverage_dict(cover: Coverage) -> dict[str, Any]:
    """Role coverage as JSON (role names)."""
    return {
        "required_roles": [r.value for r in cover.required_roles],
        "missing_roles": [r.value for r in cover.missing_roles],
        "single_points": [r.value for r in cover.single_points],
        "upcoming_roles": [r.value for r in cover.upcoming_roles],
        "allocation_by_role": {r.value: a for r, a in cover.allocation_by_role.items()},
    }


def member_dict(m: Member) -> dict[str, Any]:
    """One team member as JSON."""
    return {"person": m.person, "role": m.role.value, "allocation": m.allocation}


def decision_dict(d: Decision) -> dict[str, Any]:
    """One decision as JSON."""
    return {
        "at": d.at.isoformat(),
        "verdict": d.verdict.value,
        "rationale": d.rationale,
        "evidence": list(d.evidence),
        "who": d.who,
    }


def learning_dict(item: Learning) -> dict[str, Any]:
    """One learning as JSON."""
    return {
        "at": item.at.isoformat(),
        "text": item.text,
        "phase": item.phase.value if item.phase else None,
        "tags": list(item.tags),
        "source": item.source,
    }
