"""Guardrails of an impact criterion, and the direction of every experiment metric.

A guardrail is a metric the feature must not harm. It is declared with its direction and,
optionally, a non-inferiority margin — the largest harm, relative to the control, that the team
accepts::

    offer_cost_per_customer:lower:margin=0.05    # cost may rise by at most 5 %
    support_satisfaction:higher:margin=1%        # satisfaction may fall by at most 1 %
    offer_cost_per_customer:lower                # margin 0: any rise is harm

The direction is required: nothing defaults to "higher is better". Guardrails are stored on the
criterion as these strings (:meth:`Guardrail.spec`), so a stored guardrail written before
directions were required reads back with ``higher_is_better=None``; it is shown as such and an
experiment refuses it until the direction is given.

The KPI of an impact criterion needs no separate declaration: its comparator says which way is
good (``>= +0.02``: higher is better; ``<= -0.05``: lower is better), see :func:`kpi_direction`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from mlpilot.errors import ValidationError

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
DIRECTIONS = {"higher": True, "lower": False}
SYNTAX = "NAME:lower|higher[:margin=M], e.g. offer_cost_per_customer:lower:margin=0.05"


@dataclass(frozen=True)
class Guardrail:
    """A metric that must not move the wrong way by more than ``margin`` (relative)."""

    name: str
    higher_is_better: bool | None
    margin: float = 0.0

    @property
    def spec(self) -> str:
        """The canonical text stored on the criterion, e.g. ``cost:lower:margin=0.05``."""
        if self.higher_is_better is None:
            return self.name
        text = f"{self.name}:{direction_word(self.higher_is_better)}"
        return text + (f":margin={self.margin:.12g}" if self.margin else "")

    def describe(self) -> str:
        """E.g. ``cost (lower is better; a rise beyond 5 % is harm)``."""
        if self.higher_is_better is None:
            return f"{self.name} (direction not declared)"
        move = "fall" if self.higher_is_better else "rise"
        harm = f"a {move} beyond {self.margin:.1%}" if self.margin else f"any {move}"
        return f"{self.name} ({direction_word(self.higher_is_better)} is better; {harm} is harm)"


def direction_word(higher_is_better: bool) -> str:
    """``higher`` or ``lower``."""
    return "higher" if higher_is_better else "lower"


def kpi_direction(op: str) -> bool:
    """Whether higher is better for the KPI of an impact criterion with comparator ``op``."""
    if op in (">=", ">"):
        return True
    if op in ("<=", "<"):
        return False
    raise ValidationError(f"unknown comparator {op!r}; expected one of: >=, >, <=, <")


def parse_guardrail(text: str, *, strict: bool = True) -> Guardrail:
    """Parse ``NAME:lower|higher[:margin=M]`` (M a fraction such as 0.05, or 5%).

    ``strict`` (at declaration) requires the direction; a stored legacy name parses with
    ``higher_is_better=None``.
    """
    name, *tokens = [part.strip() for part in text.strip().lower().split(":")]
    if not _NAME.match(name):
        raise ValidationError(
            f"invalid guardrail name {name!r}: use snake_case letters, digits and underscores"
        )
    direction: bool | None = None
    margin = 0.0
    for token in tokens:
        if token in DIRECTIONS:
            if direction is not None:
                raise ValidationError(f"guardrail {text!r} gives its direction twice")
            direction = DIRECTIONS[token]
        elif token.startswith("margin="):
            margin = _margin(token[len("margin=") :], text)
        else:
            raise ValidationError(f"unknown token {token!r} in guardrail {text!r}; write {SYNTAX}")
    if direction is None and strict:
        raise ValidationError(
            f"guardrail {name!r} has no direction: write {name}:lower (or {name}:higher), "
            f"optionally with a margin, {name}:lower:margin=0.05 (a rise of up to 5 % is "
            "acceptable)"
        )
    if direction is None and margin:
        raise ValidationError(f"guardrail {text!r} has a margin but no direction; write {SYNTAX}")
    return Guardrail(name, direction, margin)


def _margin(value: str, text: str) -> float:
    percent = value.endswith("%")
    try:
        margin = float(value[:-1] if percent else value) / (100 if percent else 1)
    except ValueError:
        raise ValidationError(
            f"invalid margin {value!r} in guardrail {text!r}; write e.g. margin=0.05 or margin=5%"
        ) from None
    if not (math.isfinite(margin) and 0 <= margin < 1):
        raise ValidationError(
            f"the margin of guardrail {text!r} is a relative harm in [0, 1), e.g. 0.05 for 5 %; "
            f"got {value}"
        )
    return margin


def parse_guardrails(texts: tuple[str, ...] | list[str], *, strict: bool = True) -> list[Guardrail]:
    """Parse several guardrails; a metric named twice is refused."""
    parsed = [parse_guardrail(t, strict=strict) for t in texts]
    names = [g.name for g in parsed]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValidationError(f"guardrail {repeated[0]!r} is given more than once")
    return parsed
