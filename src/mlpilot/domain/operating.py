"""Operating points: where a binary model runs, so where its criteria are judged.

A decision threshold, a capacity (the top k scores of each period, as a team that calls "the 500
most at risk each week" uses the model), or each prediction's own logged decision — never a
threshold chosen afterwards. :mod:`mlpilot.domain.criteria` attaches one to a model criterion.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from mlpilot.domain.charter import Task
from mlpilot.domain.metrics import AT_OPERATING_POINT, NEEDS_OPERATING_POINT
from mlpilot.errors import ValidationError

__all__ = ["PERIODS", "OperatingPoint", "check_operating_point", "make_operating_point",
           "parse_period"]  # fmt: skip

# A capacity's period: a calendar unit, or a fixed window of hours, days or weeks ("7d").
PERIODS = ("day", "week", "month")
_WINDOW = re.compile(r"^([1-9][0-9]{0,3})([hdw])$")
_HOW = "give it with --threshold T (the deployed threshold) or --top K --per PERIOD (a capacity)"


@dataclass(frozen=True)
class OperatingPoint:
    """Where the model runs: a decision threshold, or a capacity (the top k per period).

    Exactly one of: ``threshold``; ``top`` with ``per``; or ``decision`` (each prediction's own
    decision, its ``prediction`` column). Build one with :func:`make_operating_point`.
    """

    threshold: float | None = None  # predict positive at score >= threshold
    top: int | None = None  # or: act on the k highest scores ...
    per: str | None = None  # ... per period: "day", "week", "month" (or a window like "7d")
    decision: bool = False  # or: each prediction's own decision (its prediction column)

    def describe(self) -> str:
        """``threshold 0.42``, ``top 500 per week`` or ``each prediction's decision``."""
        if self.threshold is not None:
            return f"threshold {self.threshold:.12g}"
        if self.top is not None:
            return f"top {self.top} per {self.per}"
        return "each prediction's decision"


def make_operating_point(
    *,
    threshold: float | None = None,
    top: int | None = None,
    per: str | None = None,
    decision: bool = False,
) -> OperatingPoint | None:
    """Validate an operating point; None when none of its parts is given."""
    given = sum((threshold is not None, top is not None or per is not None, decision))
    if given == 0:
        return None
    if given > 1:
        raise ValidationError(
            "give one operating point: a threshold (--threshold 0.42), a capacity "
            "(--top 500 --per week) or each prediction's decision, not several"
        )
    if threshold is not None:
        if isinstance(threshold, bool) or not math.isfinite(float(threshold)):
            raise ValidationError(f"threshold must be a finite number, got {threshold!r}")
        return OperatingPoint(threshold=float(threshold))
    if decision:
        return OperatingPoint(decision=True)
    if top is None or per is None:
        raise ValidationError(
            "a capacity needs both --top K and --per PERIOD, e.g. --top 500 --per week"
        )
    if isinstance(top, bool) or int(top) != top or top < 1:
        raise ValidationError(f"--top must be a whole number of at least 1, got {top!r}")
    return OperatingPoint(top=int(top), per=parse_period(per))


def parse_period(text: str) -> str:
    """``day``, ``week``, ``month`` (calendar periods, weeks from Monday, in UTC) or a fixed
    window of hours, days or weeks such as ``7d``."""
    key = str(text).strip().lower()
    key = {"daily": "day", "weekly": "week", "monthly": "month", "1d": "day"}.get(key, key)
    if key in PERIODS or _WINDOW.match(key):
        return key
    raise ValidationError(
        f"unknown period {text!r}; use day, week or month, or a window such as 7d, 12h or 2w"
    )


def check_operating_point(
    metric: str,
    point: OperatingPoint | None,
    task: str | None,
    constraint: tuple[str, str] | None = None,
) -> None:
    """A model criterion is judged where the model runs, never at a threshold chosen afterwards:
    a constraint (its metric, and its text such as ``precision >= 0.5``) or a metric that means
    nothing without one needs an operating point."""
    if point is None:
        if constraint is not None:
            raise ValidationError(
                f"{metric} at {constraint[1]} needs the operating point the model runs at; "
                f"{_HOW}. A threshold chosen afterwards is not where the model runs"
            )
        if metric in NEEDS_OPERATING_POINT:
            raise ValidationError(f"{metric} needs an operating point; {_HOW}")
        return
    if task is not None and task != Task.BINARY.value:
        raise ValidationError(
            f"an operating point applies to binary classifiers, not to a {task} task"
        )
    for name in (metric, *((constraint[0],) if constraint else ())):
        if name not in AT_OPERATING_POINT:
            raise ValidationError(
                f"{name} does not depend on the operating point; drop --threshold/--top, or "
                f"use one of: {', '.join(sorted(AT_OPERATING_POINT))}"
            )
