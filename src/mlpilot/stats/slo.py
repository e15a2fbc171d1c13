"""Service level objectives from counts: compliance, error budget, burn rates, burn-rate alerts.

An SLO wants a share ``objective`` of requests to be good (not an error; or, for a latency SLO,
within the latency bound). Its *error budget* is the share ``1 - objective`` allowed to be bad.
The *burn rate* over a window is the bad share there divided by the budget: burning at 1 spends
the budget exactly over the SLO period, at 14.4 it spends 2 % of a 30-day budget in an hour.

Alerts follow the multiwindow, multi-burn-rate table of the Google SRE Workbook (chapter
"Alerting on SLOs"): a rule holds at a time when the burn rate over its long window *and* over
its short window ending then both exceed the rule's rate (strictly, as the workbook's
expressions). The long window makes the alert significant; the short one makes it stop soon
after the incident does.

One deviation: the workbook's rates assume a small budget. An objective with a large one (a
``latency_p90`` objective: 10 %; ``latency_p50``: 50 %) can burn at most ``1 / budget`` (10x,
2x), so a 14.4x page could never fire. :func:`alert_rate` caps each rule's rate at a bad share
of :data:`MAX_BAD_SHARE` (75 % of requests bad: ``0.75 / budget``), never below 1x.

Everything here is pure: numbers and numpy arrays in, numbers and arrays out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from mlpilot.errors import ValidationError

Counts = np.ndarray[Any, np.dtype[np.int64]]
Floats = np.ndarray[Any, np.dtype[np.float64]]
Flags = np.ndarray[Any, np.dtype[np.bool_]]


WORKBOOK_PERIOD_S = 30 * 86_400  # the workbook's budget shares are of a 30-day budget
MAX_BAD_SHARE = 0.75  # a scaled rule never asks for more than this share of requests bad


@dataclass(frozen=True)
class BurnRule:
    """Alert with ``severity`` when the burn rate over ``long_s`` and ``short_s`` seconds (both
    windows ending at the evaluation time) exceeds ``rate`` (the workbook's; see
    :func:`alert_rate` for the rate an objective is held to)."""

    severity: str
    long_s: int
    short_s: int
    rate: float

    @property
    def name(self) -> str:
        """E.g. ``burn-1h/5m``."""
        return f"burn-{span_name(self.long_s)}/{span_name(self.short_s)}"

    @property
    def budget_spent(self) -> float:
        """The share of a 30-day error budget that burning at ``rate`` spends over the long
        window (the workbook's "error budget consumed": 2 %, 5 %, 10 %)."""
        return round(self.rate * self.long_s / WORKBOOK_PERIOD_S, 12)


PAGE = BurnRule("page", 3600, 300, 14.4)
PAGE_SLOW = BurnRule("page", 6 * 3600, 1800, 6.0)
TICKET = BurnRule("ticket", 3 * 86_400, 6 * 3600, 1.0)
RULES = (PAGE, PAGE_SLOW, TICKET)


def span_name(seconds: int) -> str:
    """``259200`` → ``3d``, ``3600`` → ``1h``, ``300`` → ``5m``."""
    if seconds % 86_400 == 0 and seconds >= 2 * 86_400:
        return f"{seconds // 86_400}d"
    return f"{seconds // 3600}h" if seconds % 3600 == 0 else f"{seconds // 60}m"


def alert_rate(rule: BurnRule, objective: float) -> float:
    """The burn rate both of ``rule``'s windows must exceed for an SLO of ``objective``.

    The workbook's rate, capped at ``MAX_BAD_SHARE / budget`` so that an objective whose budget
    is too large to ever reach it (the most it can burn is ``1 / budget``) still alerts when
    most requests are bad, and never below 1 (burning within the budget raises nothing).
    A zero budget keeps the workbook's rate (any bad request burns infinitely).
    """
    budget = error_budget(objective)
    if budget == 0.0:
        return rule.rate
    return min(rule.rate, max(1.0, round(MAX_BAD_SHARE / budget, 12)))


def error_budget(objective: float) -> float:
    """The share of requests allowed to be bad (rounded to 12 decimals, so that 1 - 0.999 is
    0.001 and a burn exactly at a rule's rate is not a rounding error below it)."""
    if not 0.0 <= objective <= 1.0 or math.isnan(objective):
        raise ValidationError(f"an SLO objective is a share in [0, 1], got {objective}")
    return round(1.0 - objective, 12)


def compliance(good: int, total: int) -> float | None:
    """The share of good requests; None without requests."""
    return good / total if total else None


def burn_rate(bad: int, total: int, objective: float) -> float | None:
    """Bad share over budget; None without requests, inf when a zero budget is broken."""
    budget = error_budget(objective)
    if not total:
        return None
    share = bad / total
    if budget == 0.0:
        return math.inf if bad else 0.0
    return share / budget


def budget_left(bad: int, total: int, objective: float) -> float | None:
    """The share of the period's error budget not yet spent (negative when overspent).

    The budget is counted in requests: ``(1 - objective) · total`` may be bad over the period.
    None without requests; with a zero budget, 1.0 when nothing failed, else -inf.
    """
    rate = burn_rate(bad, total, objective)
    return None if rate is None else 1.0 - rate


def trailing_burn(bad: Counts, total: Counts, steps: int, objective: float) -> Floats:
    """The burn rate over the ``steps`` steps ending with each step (NaN without requests).

    Steps before the first one count as empty.
    """
    if steps < 1:
        raise ValidationError(f"a trailing window spans at least one step, got {steps}")
    budget = error_budget(objective)

    def window_sums(values: Counts) -> Floats:
        cumulative = np.concatenate([[0], np.cumsum(values, dtype=np.int64)])
        upper = cumulative[1:]
        lower = cumulative[np.maximum(np.arange(1, cumulative.size) - steps, 0)]
        sums: Floats = (upper - lower).astype(np.float64)
        return sums

    bad_sum, total_sum = window_sums(bad), window_sums(total)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = bad_sum / total_sum
        rate = share / budget if budget > 0 else np.where(share > 0, np.inf, 0.0)
    return np.where(total_sum > 0, rate, np.nan)


def rule_active(
    bad: Counts, total: Counts, objective: float, rule: BurnRule, step_seconds: int
) -> Flags:
    """Whether ``rule`` holds at the end of each step: both windows burn faster than
    :func:`alert_rate` (no requests in a window: it does not)."""
    for span in (rule.long_s, rule.short_s):
        if span % step_seconds:
            raise ValidationError(f"a {span} s window is not a whole number of {step_seconds} s")
    rate = alert_rate(rule, objective)
    long = trailing_burn(bad, total, rule.long_s // step_seconds, objective)
    short = trailing_burn(bad, total, rule.short_s // step_seconds, objective)
    with np.errstate(invalid="ignore"):
        return np.asarray((long > rate) & (short > rate), dtype=np.bool_)


def episodes(active: Flags) -> list[tuple[int, int | None]]:
    """Runs of True as ``(first, end)`` step indexes, ``end`` exclusive; None while still on."""
    flags = np.asarray(active, dtype=np.int8)
    edges = np.diff(np.concatenate([[0], flags, [0]]))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    return [
        (int(s), None if int(e) == flags.size else int(e))
        for s, e in zip(starts, ends, strict=True)
    ]


def detection_seconds(rule: BurnRule, objective: float, bad_share: float) -> float:
    """How long an incident with ``bad_share`` bad requests (steady traffic, none bad before)
    takes to bring ``rule`` to its rate: the long window must reach it, the short one too (the
    rule holds at the first evaluation past this time).

    ``rate · budget / bad_share`` of each window must be bad; inf when the incident cannot
    exceed the rate.
    """
    budget = error_budget(objective)
    rate = alert_rate(rule, objective)
    if bad_share <= 0 or bad_share <= rate * budget:
        return math.inf
    need = rate * budget / bad_share
    return max(need * rule.long_s, need * rule.short_s)
