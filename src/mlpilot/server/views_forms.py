"""The dashboard's forms as plain functions over the facade: move the phase, add a learning,
record a decision. Each takes the submitted fields (strings), lets the facade validate them
(a bad value raises :class:`~mlpilot.errors.ValidationError` and stores nothing) and returns
the one-line message the page flashes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from mlpilot.domain.parsing import optional_text

if TYPE_CHECKING:
    from mlpilot.workspace import Initiative

__all__ = ["add_learning", "move_phase", "record_decision"]

Form = Mapping[str, str]


def _field(form: Form, name: str) -> str | None:
    """A submitted field, stripped; None when absent or blank."""
    return optional_text(form.get(name))


def _lines(text: str | None) -> list[str]:
    return [] if text is None else [line.strip() for line in text.splitlines() if line.strip()]


def move_phase(initiative: Initiative, form: Form, who: str | None) -> str:
    """Fields: ``phase``, ``reason`` (needed to move backward), ``cause`` (optional)."""
    moved = initiative.move_to(
        _field(form, "phase") or "",
        reason=_field(form, "reason"),
        cause=_field(form, "cause"),
        who=_field(form, "who") or who,
    )
    source = moved.from_phase.value if moved.from_phase else "(start)"
    kind = "Looped back" if moved.is_backward else "Moved"
    return f"{kind} from {source} to {moved.to_phase.value}."


def add_learning(initiative: Initiative, form: Form) -> str:
    """Fields: ``text``, ``tags`` (comma-separated), ``source``, ``phase`` (default current)."""
    learning = initiative.learn(
        _field(form, "text") or "",
        tags=[t for t in (_field(form, "tags") or "").split(",") if t.strip()],
        phase=_field(form, "phase"),
        source=_field(form, "source"),
    )
    where = learning.phase.value if learning.phase else "no phase"
    return f"Learning recorded ({where})."


def record_decision(initiative: Initiative, form: Form, who: str | None) -> str:
    """Fields: ``verdict``, ``why``, ``evidence`` (one item per line)."""
    decision = initiative.decide(
        _field(form, "verdict") or "",
        _field(form, "why") or "",
        evidence=_lines(_field(form, "evidence")),
        who=_field(form, "who") or who,
    )
    return (
        f"Decision recorded: {decision.verdict.value} (status now {decision.verdict.status.value})."
    )
