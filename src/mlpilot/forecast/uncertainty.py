"""The two uncertainties as probabilities, with their history: model and impact.

- **model**: before deployment, the posterior probability that every model criterion is met,
  from the feasibility evidence (offline evaluations); after it, the posterior probability that
  every model criterion holds *now*, from the model monitor's recent mature windows weighted
  toward the latest — the very judgement the model light shows
  (:func:`mlpilot.monitors.judgement.judge`), so the number and the light cannot disagree.
- **impact**: the probability that the feature has the impact wanted, from the latest experiment
  verdict; the experiments side records it here (``kind="impact"``).

Each belief is appended to the ``uncertainty`` table, so the status and the stakeholder update
can show the trend; nothing is overwritten.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from mlpilot.domain.criteria import Criterion
from mlpilot.errors import ValidationError
from mlpilot.store.evaluations import KINDS, EvaluationStore, UncertaintyRecord

if TYPE_CHECKING:
    from mlpilot.workspace import Workspace

__all__ = [
    "FEASIBILITY_EVENT",
    "MONITOR_EVENT",
    "describe",
    "kind_of",
    "make_record",
    "monitor_probability",
    "summarise",
    "uncertainty_summary",
]

TREND_STEP = 0.02  # a change smaller than this is "flat"
MONITOR_EVENT = "every model criterion holds now"
# What the model uncertainty was before it was a posterior probability (still in old histories)
LEGACY_WINDOWS = "share of recent windows that met every criterion, not a probability"
LEGACY_REPLICATES = "share of bootstrap replicates that met the criteria, not a probability"
LEGACY_METHODS = ("joint replicates", "product (independence)")
FEASIBILITY_EVENT = "every model criterion is met"


def make_record(
    kind: str, probability: float | None, source: str, at: datetime, details: dict[str, Any]
) -> UncertaintyRecord:
    """Validate a belief: a known kind, a probability in [0, 1] (or None), a source."""
    if kind not in KINDS:
        raise ValidationError(f"unknown uncertainty kind {kind!r}; expected one of: model, impact")
    if probability is not None and not (math.isfinite(probability) and 0 <= probability <= 1):
        raise ValidationError(f"a probability must lie in [0, 1], got {probability}")
    if not source.strip():
        raise ValidationError("the source of an uncertainty must not be empty")
    return UncertaintyRecord(at, kind, probability, source.strip(), details)


def monitor_probability(
    report: dict[str, Any], criteria: Sequence[Criterion]
) -> tuple[float, dict[str, Any]] | None:
    """From a performance report: the posterior probability that every model criterion holds
    now, with the judgement behind it (None when the evidence is insufficient)."""
    from mlpilot.monitors.judgement import judge

    judged = judge(report, criteria)
    probability = judged["probability_all_met"]
    if probability is None:
        return None
    details = {
        "probability_kind": judged["probability_kind"],
        "event": MONITOR_EVENT,
        "status": judged["status"],
        "rule": judged["rule"],
        "windows": judged["windows"],
        "half_life_windows": judged["half_life_windows"],
        "window": report["window"],
        "criteria": [
            {k: row[k] for k in ("criterion", "probability_met", "met", "note")}
            for row in judged["criteria"]
        ],
        "summary": (
            f"model monitor: {judged['windows']} recent window(s) weighted toward the latest, "
            f"light {judged['status']}"
        ),
    }
    return probability, details


def kind_of(record: UncertaintyRecord) -> str | None:
    """What the number is, as recorded with it. Records made before kinds were recorded say
    what they were by their details: the monitor's share of windows, feasibility's share of
    bootstrap replicates — frequencies, named as such. Otherwise null (e.g. a belief recorded
    by hand): never guessed."""
    details = record.details
    if details.get("probability_kind"):
        return str(details["probability_kind"])
    if {"met", "windows"} <= details.keys():
        return LEGACY_WINDOWS
    if "evaluation_id" in details or details.get("method") in LEGACY_METHODS:
        return LEGACY_REPLICATES
    return None


def _entry(record: UncertaintyRecord) -> dict[str, Any]:
    return {
        "probability": record.probability,
        "probability_kind": kind_of(record),
        "event": record.details.get("event"),
        "source": record.source,
        "at": record.at.isoformat(),
    }


def _trend(history: list[UncertaintyRecord]) -> str | None:
    latest = kind_of(history[-1])  # a change of kind is not a trend
    values = [r.probability for r in history if r.probability is not None and kind_of(r) == latest]
    if len(values) < 2:
        return None
    change = values[-1] - values[-2]
    return "up" if change > TREND_STEP else "down" if change < -TREND_STEP else "flat"


def summarise(records: list[UncertaintyRecord]) -> dict[str, Any]:
    """``model`` and ``impact``: the latest belief (or None) with its trend and history."""
    out: dict[str, Any] = {}
    for kind in KINDS:
        history = [r for r in records if r.kind == kind]
        if not history:
            out[kind] = None
            continue
        out[kind] = {
            **_entry(history[-1]),
            "trend": _trend(history),
            "history": [_entry(r) for r in history],
        }
    return out


def uncertainty_summary(workspace: Workspace, slug: str) -> dict[str, Any]:
    """The ``uncertainty`` key of ``mlpilot status --json``: ``model`` and ``impact``, each
    ``{probability, source, at, trend, history}`` or None when nothing was recorded."""
    return summarise(EvaluationStore(workspace.store).uncertainty(slug))


def describe(summary: dict[str, Any]) -> str:
    """One line for a status screen, each number said for what it is, e.g. ``model: posterior
    probability 83% that every model criterion holds now (model monitor: …) · impact: unknown``
    (see :func:`mlpilot.report.labels.uncertainty_line`)."""
    from mlpilot.report.labels import uncertainty_line

    return uncertainty_line(summary)
