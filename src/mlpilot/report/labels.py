"""Say what a number is: the words every surface (CLI, report, pages) puts next to a
probability or an interval, read from the labels the library records with it
(``probability_kind``, ``interval_kind``, ``level``, ``event``), never guessed.

A probability is shown as a whole percentage, except that one so close to 0 or 1 that rounding
would print a certainty is shown as ``<1%`` or ``>99%``: no judgement here is ever certain.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "NOT_STATED",
    "first",
    "interval_label",
    "interval_short",
    "kind_label",
    "probability",
    "stated",
    "uncertainty_line",
    "what_it_is",
]

NOT_STATED = "probability (kind not stated)"  # a belief recorded without its kind
_SHORT = {"credible interval": "CrI", "confidence interval": "CI"}
_ARROWS = {"up": " ↑", "down": " ↓", "flat": " →"}


def probability(value: float | None, none: str = "unknown") -> str:
    """A probability as a percentage that never rounds to a certainty; ``none`` for null."""
    if value is None:
        return none
    if value < 0.005:  # 0 and 1 too: a posterior that underflows is still not a certainty
        return "<1%"
    if value >= 0.995:
        return ">99%"
    return f"{value:.0%}"


def kind_label(kind: str | None) -> str:
    """``posterior probability``, ``posterior predictive probability`` …, or :data:`NOT_STATED`."""
    return kind or NOT_STATED


def stated(value: float | None, kind: str | None, event: str | None = None) -> str:
    """e.g. ``posterior probability 83% that every model criterion holds now``."""
    text = f"{kind_label(kind)} {probability(value)}"
    return f"{text} that {event}" if event else text


def what_it_is(entry: Mapping[str, Any]) -> str:
    """An uncertainty's kind and event, e.g. ``posterior probability that every model criterion
    holds now``."""
    kind = kind_label(entry.get("probability_kind"))
    return f"{kind} that {entry['event']}" if entry.get("event") else kind


def interval_label(kind: str | None, level: float | None) -> str:
    """e.g. ``95 % credible interval``; ``interval (kind not stated)`` without a kind."""
    if not kind:
        return "interval (kind not stated)"
    return kind if level is None else f"{level:.0%} {kind}".replace("%", " %", 1)


def interval_short(kind: str | None, level: float | None) -> str:
    """A column header's short form, e.g. ``95% CrI`` (:func:`interval_label` in the legend)."""
    short = _SHORT.get(kind or "", kind or "interval")
    return short if level is None else f"{level:.0%} {short}"


def first(rows: Sequence[Mapping[str, Any]], key: str) -> Any:
    """The first non-null ``key`` among ``rows`` (a table labels its column once)."""
    return next((row[key] for row in rows if row.get(key) is not None), None)


def uncertainty_line(summary: Mapping[str, Any]) -> str:
    """The status screen's uncertainty line: per kind (model, impact) what the number is, the
    number, its event, trend, source and date; ``unknown`` when nothing was recorded."""
    parts = []
    for kind in ("model", "impact"):
        entry = summary.get(kind)
        if entry is None:
            parts.append(f"{kind}: unknown (never recorded)")
            continue
        when = f"{entry['source']}, {entry['at'][:10]}"
        if entry["probability"] is None:
            parts.append(f"{kind}: no probability ({when})")
            continue
        text = f"{kind_label(entry.get('probability_kind'))} {probability(entry['probability'])}"
        text += _ARROWS.get(entry.get("trend") or "", "")
        if entry.get("event"):
            text += f" that {entry['event']}"
        parts.append(f"{kind}: {text} ({when})")
    return " · ".join(parts)
