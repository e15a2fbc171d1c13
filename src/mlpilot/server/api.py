"""The REST API under ``/api/v1``: thin routes over the :class:`~mlpilot.workspace.Workspace`
facade, answering the same JSON as the CLI's ``--json``.

Errors (mapped in server/app.py): unknown initiative 404, a refused value 422, a duplicate 409,
any other mlpilot error 400. Reads need READ, changes WRITE (server/auth.py).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from mlpilot.report.status import decision_dict, learning_dict, transition_dict
from mlpilot.server.api_monitors import router as monitors_router
from mlpilot.server.auth import Action, Principal, access
from mlpilot.workspace import Initiative, Workspace

__all__ = ["router"]

router = APIRouter(tags=["initiatives"])
READ = Depends(access(Action.READ))
WRITE = Depends(access(Action.WRITE))
_TEXT = 10_000  # generous bounds: the schema says what is accepted, the domain checks the rest


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PhaseMove(_Body):
    """A move of the lifecycle to ``phase``; moving backward (a loop) needs a ``reason``."""

    phase: str = Field(max_length=64, examples=["modeling"])
    reason: str | None = Field(None, max_length=_TEXT)
    cause: str | None = Field(
        None, max_length=32, description="business, data, model, service, impact or other"
    )
    at: str | None = Field(None, max_length=64, description="ISO 8601 time; default now")
    who: str | None = Field(None, max_length=200)


class LearningIn(_Body):
    """A learning; its phase defaults to the current one."""

    text: str = Field(max_length=_TEXT)
    tags: list[str] = Field(default_factory=list, max_length=50)
    phase: str | None = Field(None, max_length=64)
    source: str | None = Field(None, max_length=200)
    at: str | None = Field(None, max_length=64)


class DecisionIn(_Body):
    """A decision: continue, pivot, stop or ship, with its rationale."""

    verdict: str = Field(max_length=16, examples=["continue"])
    why: str = Field(max_length=_TEXT)
    evidence: list[str] = Field(default_factory=list, max_length=50)
    who: str | None = Field(None, max_length=200)
    at: str | None = Field(None, max_length=64)


def workspace(request: Request) -> Workspace:
    """The app's workspace."""
    found: Workspace = request.app.state.workspace
    return found


def initiative(slug: str, request: Request) -> Initiative:
    """The initiative named in the path (404 when there is none)."""
    return workspace(request).initiative(slug)


def summary(item: Initiative) -> dict[str, Any]:
    """One line of the portfolio: charter, phase, the two uncertainties, the four lights."""
    from mlpilot.report.status import charter_dict

    uncertainty = item.uncertainty()
    return {
        **charter_dict(item.charter),
        "phase": item.phase.value,
        "uncertainty": {
            kind: None if uncertainty.get(kind) is None else uncertainty[kind].get("probability")
            for kind in ("model", "impact")
        },
        # what each of those numbers is (e.g. posterior probability), null when not recorded
        "uncertainty_kind": {
            kind: (uncertainty.get(kind) or {}).get("probability_kind")
            for kind in ("model", "impact")
        },
        "health": {group: light["status"] for group, light in item.health().items()},
    }


@router.get("/initiatives")
def list_initiatives(
    request: Request, caller: Principal = Depends(access(Action.READ))
) -> list[dict[str, Any]]:
    """Every initiative the caller may see: slug, name, status, phase, task, shape, the two
    uncertainties (probabilities) and the four health lights (model, data, service, impact)."""
    ws = workspace(request)
    return [summary(ws.initiative(c.slug)) for c in ws.initiatives() if caller.sees(c.slug)]


@router.get("/initiatives/{slug}", dependencies=[READ])
def status(slug: str, request: Request) -> dict[str, Any]:
    """The initiative's status: the same JSON as ``mlpilot status SLUG --json``."""
    return initiative(slug, request).status().to_dict()


@router.get("/initiatives/{slug}/history", dependencies=[READ], tags=["lifecycle"])
def history(slug: str, request: Request) -> list[dict[str, Any]]:
    """The lifecycle log, loops included, oldest first (``mlpilot history SLUG --json``)."""
    return [transition_dict(t) for t in initiative(slug, request).history()]


@router.post("/initiatives/{slug}/phase", dependencies=[WRITE], status_code=201, tags=["lifecycle"])
def move_phase(slug: str, body: PhaseMove, request: Request) -> dict[str, Any]:
    """Move the lifecycle to a phase; returns the recorded transition."""
    moved = initiative(slug, request).move_to(
        body.phase, reason=body.reason, cause=body.cause, at=body.at, who=body.who
    )
    return transition_dict(moved)


@router.get("/initiatives/{slug}/learnings", dependencies=[READ], tags=["lifecycle"])
def learnings(slug: str, request: Request) -> list[dict[str, Any]]:
    """The learnings, oldest first (``mlpilot learnings SLUG --json``)."""
    return [learning_dict(item) for item in initiative(slug, request).learnings()]


@router.post(
    "/initiatives/{slug}/learnings", dependencies=[WRITE], status_code=201, tags=["lifecycle"]
)
def learn(slug: str, body: LearningIn, request: Request) -> dict[str, Any]:
    """Record a learning; returns it."""
    learned = initiative(slug, request).learn(
        body.text, tags=body.tags, phase=body.phase, source=body.source, at=body.at
    )
    return learning_dict(learned)


@router.get("/initiatives/{slug}/decisions", dependencies=[READ], tags=["lifecycle"])
def decisions(slug: str, request: Request) -> list[dict[str, Any]]:
    """The decisions, oldest first."""
    return [decision_dict(d) for d in initiative(slug, request).decisions()]


@router.post(
    "/initiatives/{slug}/decisions", dependencies=[WRITE], status_code=201, tags=["lifecycle"]
)
def decide(slug: str, body: DecisionIn, request: Request) -> dict[str, Any]:
    """Record a decision (stop and ship change the status); returns it."""
    decided = initiative(slug, request).decide(
        body.verdict, body.why, evidence=body.evidence, who=body.who, at=body.at
    )
    return decision_dict(decided)


OPEN_QUERY = Query(False, alias="open", description="Only alerts not resolved yet.")


@router.get("/alerts", tags=["monitors"])
def all_alerts(
    request: Request,
    open_only: bool = OPEN_QUERY,
    caller: Principal = Depends(access(Action.READ)),
) -> list[dict[str, Any]]:
    """The alerts of every initiative the caller may see, open ones first
    (``mlpilot alerts --json``)."""
    found = workspace(request).alerts.alerts(None, open_only=open_only)
    return [a.to_dict() for a in found if caller.sees(a.initiative)]


@router.get("/initiatives/{slug}/alerts", dependencies=[READ], tags=["monitors"])
def alerts(slug: str, request: Request, open_only: bool = OPEN_QUERY) -> list[dict[str, Any]]:
    """The initiative's alerts, open ones first (``mlpilot alerts SLUG --json``)."""
    return [a.to_dict() for a in initiative(slug, request).alerts(open_only=open_only)]


router.include_router(monitors_router)
