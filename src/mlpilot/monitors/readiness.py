"""Data readiness: is this data worth modeling? Quality, volume and history, judged.

The engine half (:mod:`mlpilot.engine.readiness`) reduces the table to a summary; this module
turns the summary into a report and judges it — against the initiative's data criteria when it
has them, otherwise against the defaults below (see docs/data-readiness.md):

- ``rows >= 1`` — the data is not empty;
- ``missing_share <= 0.5`` — no column is more than half missing (NULL, or NaN in floats);
- ``duplicate_share <= 0.01`` — at most 1% of rows repeat an earlier row;
- ``constant_columns <= 0`` — no column holds one value or none;
- ``label_share >= 0.01`` (with a class target) — the rarest class is at least 1% of the
  labelled rows;
- ``out_of_range_share <= 0.01`` (with a reference) — in no column are more than 1% of the values
  outside the reference's range (numbers) or never seen in it (text).

``history_days`` has no default; it is judged only against a criterion. A check that needs rows
(or a time column, or a target) it does not have fails: readiness is not proven.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from mlpilot.domain.criteria import Comparator, Criterion
from mlpilot.domain.metrics import CriterionKind
from mlpilot.engine.readiness import (
    MAX_CLASSES,
    Period,
    ReadinessSummary,
    ReferenceSummary,
    TargetSummary,
    TimeSummary,
    summarize,
)

if TYPE_CHECKING:
    import ibis.expr.types as ir

# A text column is flagged when at least this share of its non-missing values parse.
ALMOST_ALL = 0.95
# The order checks appear in.
METRICS = (
    "rows",
    "history_days",
    "missing_share",
    "duplicate_share",
    "constant_columns",
    "label_share",
    "out_of_range_share",
)


@dataclass(frozen=True)
class Rule:
    """A default check: ``metric op target``, and what it means."""

    metric: str
    op: Comparator
    target: float
    meaning: str

    def describe(self) -> str:
        """``missing_share <= 0.5``."""
        return f"{self.metric} {self.op.value} {self.target:g}"


DEFAULTS: dict[str, Rule] = {
    rule.metric: rule
    for rule in (
        Rule("rows", Comparator.GE, 1.0, "the data is not empty"),
        Rule("missing_share", Comparator.LE, 0.5, "no column is more than half missing"),
        Rule("duplicate_share", Comparator.LE, 0.01, "at most 1% of rows repeat an earlier row"),
        Rule("constant_columns", Comparator.LE, 0.0, "no column holds one value or none"),
        Rule("label_share", Comparator.GE, 0.01, "the rarest class is at least 1% of labels"),
        Rule(
            "out_of_range_share",
            Comparator.LE,
            0.01,
            "at most 1% of a column's values are outside the reference or unseen in it",
        ),
    )
}


def check_data(
    table: ir.Table,
    *,
    time_column: str | None = None,
    target: str | None = None,
    reference: ir.Table | None = None,
    criteria: Sequence[Criterion] = (),
    period: str | None = None,
) -> dict[str, Any]:
    """The readiness report of ``table`` (an Ibis table) as a JSON-ready dict.

    ``criteria`` are an initiative's criteria; its data criteria replace the defaults of the same
    metric. Only small aggregates are computed by the engine; see
    :mod:`mlpilot.engine.readiness`.
    """
    summary = summarize(
        table, time_column=time_column, target=target, reference=reference, period=period
    )
    return judge(summary, criteria)


def judge(summary: ReadinessSummary, criteria: Sequence[Criterion] = ()) -> dict[str, Any]:
    """The report of a summary: the figures, warnings, checks and whether the data is ready."""
    rows = summary.rows
    missing = {c.name: _share(c.missing, rows) for c in summary.columns}
    constant = [c.name for c in summary.columns if c.distinct is not None and c.distinct <= 1]
    report: dict[str, Any] = {
        "rows": rows,
        "columns": len(summary.columns),
        "duplicates": summary.duplicates,
        "duplicate_share": _share(summary.duplicates, rows),
        "missing": missing,
        "constant_columns": constant,
        "profile": [
            {
                "name": c.name,
                "type": c.dtype,
                "kind": c.kind,
                "missing": c.missing,
                "missing_share": missing[c.name],
                "distinct": c.distinct,
                "min": _plain(c.minimum),
                "max": _plain(c.maximum),
                "infinite": c.infinite,
            }
            for c in summary.columns
        ],
        "type_problems": _type_problems(summary),
        "history": None if summary.time is None else history(summary.time),
        "target": None if summary.target is None else _target(summary.target, rows),
        "reference": None if summary.reference is None else _reference(summary),
    }
    report["warnings"] = _warnings(summary, report)
    report["checks"] = _checks(summary, report, criteria)
    report["defaults"] = {
        rule.metric: {"op": rule.op.value, "threshold": rule.target, "meaning": rule.meaning}
        for rule in DEFAULTS.values()
    }
    report["ready"] = all(check["passed"] for check in report["checks"])
    return report


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _plain(value: Any) -> Any:
    """JSON-ready: times as ISO 8601 text."""
    return value.isoformat() if isinstance(value, (datetime, date)) else value


def next_start(start: date, period: Period) -> date:
    """The first day of the period after the one starting on ``start``."""
    if period == "day":
        return start + timedelta(days=1)
    if period == "week":
        return start + timedelta(days=7)
    return date(start.year + start.month // 12, start.month % 12 + 1, 1)


def periods_between(first: date, last: date, period: Period) -> int:
    """How many periods there are from the one starting ``first`` to the one starting ``last``."""
    if period == "month":
        return (last.year - first.year) * 12 + last.month - first.month + 1
    return (last - first).days // (7 if period == "week" else 1) + 1


def history(time: TimeSummary) -> dict[str, Any]:
    """First, last, span; gaps (empty periods between the first and the last) and rows per period.

    ``longest_gap_days`` is the longest run of empty periods, in days.
    """
    span = None
    if time.first is not None and time.last is not None:
        span = (_as_datetime(time.last) - _as_datetime(time.first)).total_seconds() / 86400
    gaps = longest = None
    starts = [p.start for p in time.periods]
    if starts:
        gaps = periods_between(starts[0], starts[-1], time.period) - len(starts)
        longest = max(
            ((b - next_start(a, time.period)).days for a, b in itertools.pairwise(starts)),
            default=0,
        )
    return {
        "column": time.column,
        "first": _plain(time.first),
        "last": _plain(time.last),
        "span_days": span,
        "period": time.period,
        "gaps": gaps,
        "longest_gap_days": longest,
        "rows_per_period": [{"period": p.start.isoformat(), "rows": p.rows} for p in time.periods],
        "missing_times": time.missing,
        "unparsed": time.unparsed,
    }


def _as_datetime(value: datetime | date) -> datetime:
    return value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)


def _target(target: TargetSummary, rows: int) -> dict[str, Any]:
    """Class shares of the labelled rows (up to MAX_CLASSES classes), and the minority share.

    A single class has no minority: its share is 0. A number with more than MAX_CLASSES values
    is not a class label: it gets mean and std, and no minority share.
    """
    labelled = rows - target.missing
    minority = None
    if target.classes == 1:
        minority = 0.0
    elif target.smallest is not None:
        minority = _share(target.smallest, labelled)
    return {
        "column": target.column,
        "classes": target.classes,
        "missing": target.missing,
        "counts": [
            {"value": _plain(value), "rows": count, "share": _share(count, labelled)}
            for value, count in target.top
        ],
        "minority_share": minority,
        "mean": target.mean,
        "std": target.std,
    }


def _type_problems(summary: ReadinessSummary) -> list[dict[str, Any]]:
    """Text that is almost all numbers or times, and time values that are not times."""
    problems: list[dict[str, Any]] = []
    for c in summary.columns:
        present = summary.rows - c.missing
        if c.kind != "text" or not present:
            continue
        for problem, parsed, example in (
            ("numbers_as_text", c.as_number, c.not_number),
            ("dates_as_text", c.as_time, c.not_time),
        ):
            if parsed / present >= ALMOST_ALL:
                share = parsed / present
                problems.append(
                    {"column": c.name, "problem": problem, "share": share, "example": example}
                )
                break
    time = summary.time
    if time is not None and time.unparsed:
        present = summary.rows - time.missing + time.unparsed
        problems.append(
            {
                "column": time.column,
                "problem": "unparsed_times",
                "share": _share(time.unparsed, present),
                "example": time.unparsed_example,
            }
        )
    return problems


def _reference(summary: ReadinessSummary) -> dict[str, Any]:
    ref = summary.reference
    assert ref is not None
    present = {c.name: summary.rows - c.missing for c in summary.columns}
    return {
        "rows": ref.rows,
        "out_of_range": {
            r.column: {
                "reference_min": r.reference_min,
                "reference_max": r.reference_max,
                "below": r.below,
                "above": r.above,
                "share": _share(r.below + r.above, present[r.column]),
            }
            for r in ref.ranges
        },
        "unseen": {
            u.column: {
                "values": u.values,
                "rows": u.rows,
                "share": _share(u.rows, present[u.column]),
                "examples": list(u.examples),
            }
            for u in ref.unseen
        },
        "only_in_reference": list(ref.only_in_reference),
        "not_in_reference": list(ref.not_in_reference),
        "type_mismatch": list(ref.type_mismatch),
    }


def _warnings(summary: ReadinessSummary, report: dict[str, Any]) -> list[str]:
    """One sentence per thing worth a look that no check covers on its own."""
    out: list[str] = []
    for problem in report["type_problems"]:
        column, share, example = problem["column"], problem["share"], problem["example"]
        if problem["problem"] == "unparsed_times":
            out.append(
                f"time column {column!r}: {share:.1%} of its values are not times "
                f"(e.g. {example!r}); they count as missing times"
            )
            continue
        what = "numbers" if problem["problem"] == "numbers_as_text" else "dates"
        rest = f" (one that does not: {example!r})" if example is not None else ""
        out.append(f"column {column!r} is text but {share:.1%} of its values parse as {what}{rest}")
    for c in summary.columns:
        if c.infinite:
            out.append(f"column {c.name!r} holds {c.infinite} infinite value(s)")
    target = report["target"]
    minority = None if target is None else target["minority_share"]
    if minority is not None and minority < DEFAULTS["label_share"].target:
        out.append(
            f"target {target['column']!r}: the rarest class is "
            f"{minority:.2%} of the labelled rows (below 1%)"
        )
    ref: ReferenceSummary | None = summary.reference
    if ref is not None:
        if not ref.rows:
            out.append("the reference has no rows")
        for label, names in (
            ("not in the reference", ref.not_in_reference),
            ("only in the reference", ref.only_in_reference),
            ("of another type in the reference", ref.type_mismatch),
        ):
            if names:
                out.append(f"columns {label}: {', '.join(names)}")
    return out


def _observe(
    metric: str, summary: ReadinessSummary, report: dict[str, Any]
) -> tuple[float | None, str | None]:
    """The observed value of a check's metric, and a note saying where it comes from."""
    rows = summary.rows
    if metric == "rows":
        return rows, None
    if metric == "history_days":
        if report["history"] is None:
            return None, "needs a time column"
        return report["history"]["span_days"], None if rows else "no rows"
    if metric in ("missing_share", "duplicate_share", "constant_columns") and not rows:
        return None, "no rows"
    if metric == "missing_share":
        column, share = max(report["missing"].items(), key=lambda item: item[1])
        return share, f"column {column!r}"
    if metric == "duplicate_share":
        count = summary.duplicates
        return report["duplicate_share"], f"{count} duplicate row(s)" if count else None
    if metric == "constant_columns":
        names = report["constant_columns"]
        return len(names), f"columns {', '.join(map(repr, names))}" if names else None
    if metric == "label_share":
        target = report["target"]
        if target is None:
            return None, "needs a target"
        if target["minority_share"] is None:
            if target["classes"] > MAX_CLASSES:
                return None, f"target has {target['classes']} values: not class labels"
            return None, "no labelled rows"
        return target["minority_share"], None
    # out_of_range_share: the worst column
    ref = report["reference"]
    if ref is None:
        return None, "needs a reference"
    shares = [(name, r["share"]) for name, r in ref["out_of_range"].items()]
    shares += [(name, u["share"]) for name, u in ref["unseen"].items()]
    known = [(name, share) for name, share in shares if share is not None]
    if not known:
        return (None, "no rows") if not rows else (0.0, "no shared columns")
    column, share = max(known, key=lambda item: item[1])
    return share, f"column {column!r}" if share else None


def _applies(metric: str, report: dict[str, Any]) -> bool:
    """Whether a default check applies: label_share needs class labels, out_of_range a reference."""
    if metric == "history_days":
        return False
    if metric == "label_share":
        target = report["target"]
        return target is not None and target["classes"] <= MAX_CLASSES
    if metric == "out_of_range_share":
        return report["reference"] is not None
    return True


def _checks(
    summary: ReadinessSummary, report: dict[str, Any], criteria: Sequence[Criterion]
) -> list[dict[str, Any]]:
    data = [c for c in criteria if c.kind is CriterionKind.DATA]
    checks: list[dict[str, Any]] = []
    for metric in METRICS:
        declared = [c for c in data if c.metric == metric]
        if not declared and not _applies(metric, report):
            continue
        observed, detail = _observe(metric, summary, report)
        for criterion in declared:
            passed = observed is not None and criterion.is_met(float(observed))
            checks.append(
                {
                    "name": metric,
                    "passed": passed,
                    "observed": observed,
                    "op": criterion.op.value,
                    "threshold": criterion.target,
                    "rule": criterion.describe(),
                    "criterion": criterion.describe(),
                    "criterion_id": criterion.id,
                    "plan": criterion.plan,
                    "detail": detail,
                }
            )
        if not declared:
            rule = DEFAULTS[metric]
            passed = observed is not None and rule.op.holds(float(observed), rule.target)
            checks.append(
                {
                    "name": metric,
                    "passed": passed,
                    "observed": observed,
                    "op": rule.op.value,
                    "threshold": rule.target,
                    "rule": rule.describe(),
                    "criterion": None,
                    "criterion_id": None,
                    "plan": None,
                    "detail": detail,
                }
            )
    return checks
