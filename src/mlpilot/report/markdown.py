"""The stakeholder update as Markdown: every user string is escaped so that it can neither break
a table nor slip raw HTML into a renderer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mlpilot.report import labels
from mlpilot.report.labels import what_it_is

__all__ = ["esc", "to_markdown"]

QUESTIONS = (
    ("model", "Can the model predict well enough?"),
    ("impact", "Will it have the impact?"),
)
UNCERTAINTY_COLUMNS = [
    "question",
    "probability",
    "what it is",
    "trend",
    "source",
    "as of (history)",
]


def feasibility_columns(f: dict[str, Any]) -> list[str]:
    """The feasibility table's columns (Markdown and HTML), each interval and probability
    named as the feasibility report labels it."""
    rows = f["criteria"]
    curves = [c["learning_curve"] for c in rows if (c["learning_curve"] or {}).get("regular")]
    estimate = labels.interval_label(
        labels.first(rows, "interval_kind"), labels.first(rows, "level")
    )
    curve = labels.interval_label(
        labels.first(curves, "interval_kind"), labels.first(curves, "level")
    )
    return [
        "criterion", "evaluation", f"estimate [{estimate}]",
        f"{labels.kind_label(f.get('probability_kind'))} that it is met", "vs baseline",
        f"learning curve [{curve}]" if curves else "learning curve",
    ]  # fmt: skip


def forecast_kind(f: dict[str, Any]) -> str:
    """What the forecast's dates and probability are (e.g. posterior predictive probability)."""
    return labels.kind_label(f.get("probability_kind"))


def esc(text: Any) -> str:
    """User text on one line, with ``\\``, ``|``, ``<``, ``>``, ``&`` and backticks neutralised."""
    clean = " ".join(str(text).split())
    for char, escaped in (
        ("&", "&amp;"), ("\\", "\\\\"), ("|", "\\|"), ("<", "&lt;"), (">", "&gt;"), ("`", "\\`"),
        ("*", "\\*"), ("_", "\\_"), ("[", "\\["), ("]", "\\]"),
    ):  # fmt: skip
        clean = clean.replace(char, escaped)
    return clean


def pct(value: float | None) -> str:
    """A probability as a whole percentage that never rounds to a certainty, or ``unknown``."""
    return labels.probability(value)


def day(text: str | None) -> str:
    """The date part of an ISO time, or a dash."""
    return "-" if not text else text[:10]


def num(value: float | None) -> str:
    """Three significant digits, or a dash."""
    return "-" if value is None else f"{value:.3g}"


def curve_text(curve: dict[str, Any]) -> str:
    """A regular learning curve's estimate at the planned size (no user text in it)."""
    return (
        f"{num(curve['estimate'])} [{num(curve['low'])}, {num(curve['high'])}] "
        f"at {curve['planned_size']:g} rows"
    )


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(row) + " |" for row in rows),
        "",
    ]


def _forecast(f: dict[str, Any] | None) -> list[str]:
    if f is None:
        return ["No forecast could be made (see *Missing evidence*).", ""]
    if f["complete"]:
        return [f"Delivered: reached monitoring on {day(f['p50'])}.", ""]
    lines = [
        f"Delivery (reaching monitoring), with {forecast_kind(f)}: by **{day(f['p50'])}** at "
        f"50 %, by **{day(f['p85'])}** at 85 %, by **{day(f['p95'])}** at 95 %; "
        f"{f['expected_loops']:.1f} more loop(s) expected.",
    ]
    if f.get("by"):
        lines.append(
            f"{forecast_kind(f).capitalize()} of delivery by {day(f['by'])}: "
            f"{pct(f['probability_by'])}."
        )
    lines += [
        f"Based on {f['history_transitions']} finished phase visit(s) of "
        f"{f['history_initiatives']} initiative(s) and a deliberately wide prior; "
        f"{f['trials']} simulated futures.",
        "",
    ]
    return lines


def _uncertainty(u: dict[str, Any]) -> list[str]:
    rows = []
    for kind, label in QUESTIONS:
        entry = u.get(kind)
        if entry is None:
            rows.append([label, "unknown", "-", "-", "no evidence recorded", "-"])
            continue
        trend = " → ".join(pct(h["probability"]) for h in entry["history"][-5:])
        rows.append(
            [
                label,
                pct(entry["probability"]),
                esc(what_it_is(entry)),
                esc(entry["trend"] or "-"),
                esc(entry["source"]),
                f"{day(entry['at'])} ({trend})",
            ]
        )
    return _table(UNCERTAINTY_COLUMNS, rows)


def _feasibility(f: dict[str, Any]) -> list[str]:
    rows = []
    for c in f["criteria"]:
        base = c["baseline"]
        curve = c["learning_curve"]
        if curve is None:
            at_size = "-"
        elif curve["regular"]:
            at_size = curve_text(curve)
        else:
            at_size = "not extrapolated: " + esc(curve["reason"])
        rows.append([
            esc(c["criterion"]), esc(c["evaluation"] or "none"),
            f"{num(c['estimate'])} [{num(c['low'])}, {num(c['high'])}]", pct(c["probability_met"]),
            "-" if base is None else f"{base['margin']:+.3g} over {base['value']:g}", at_size,
        ])  # fmt: skip
    if not rows:
        return ["No model criteria are declared.", ""]
    return [*_table(feasibility_columns(f), rows), overall_text(f, esc), ""]


def overall_text(f: dict[str, Any], escape: Callable[[Any], str]) -> str:
    """The probability that every model criterion is met, said for what it is."""
    kind = labels.kind_label(f.get("probability_kind")).capitalize()
    if f["probability_all_met"] is None:
        return f"{kind} that every model criterion is met: unknown — " + escape(
            f.get("note") or "insufficient evidence"
        )
    return (
        f"{kind} that every model criterion is met: {pct(f['probability_all_met'])} "
        f"({escape(f.get('method') or '-')})."
    )


def _monitors(health: dict[str, Any] | None, alerts: list[dict[str, Any]] | None) -> list[str]:
    lines = []
    for group, light in (health or {}).items():
        reason = light.get("reason")
        lines.append(
            f"- **{esc(group)}**: {esc(light.get('status', 'no-data'))}"
            + (f" — {esc(reason)}" if reason else "")
        )
    if not lines:
        lines.append("- no monitor has run")
    lines.append("")
    if alerts:
        lines += _table(
            ["group", "criterion", "severity", "what holds", "since", "plan"],
            [
                [
                    esc(a["group"]),
                    esc(a["criterion"]),
                    esc(a["severity"]),
                    esc("; ".join(a.get("holds", []))),
                    day(a["first_seen"]),
                    esc(a["plan"] or "-"),
                ]
                for a in alerts
            ],
        )
    else:
        lines += ["No open alerts.", ""]
    return lines


def to_markdown(u: dict[str, Any]) -> str:
    """The update as one Markdown page."""
    lines = [
        f"# {esc(u['name'])} — stakeholder update",
        "",
        f"*{esc(u['slug'])} · {esc(u['status'])} · phase {esc(u['phase'])} · "
        f"as of {day(u['as_of'])} · changes since {day(u['since'])}*",
        "",
        f"**Problem.** {esc(u['problem'])}",
        "",
        f"**How the predictions are used.** {esc(u['prediction_use'])}",
        "",
        f"**Baseline to beat.** {esc(u['baseline']['description'])}"
        + (
            ""
            if u["baseline"]["value"] is None
            else f" = {u['baseline']['value']:g} {esc(u['baseline']['metric'] or '')}"
        ),
        "",
        "## How we got here",
        "",
        f"Started {day(u['started_at'])}; {u['loops']} loop(s) back"
        + (
            ""
            if not u["loops_by_cause"]
            else " (" + ", ".join(f"{esc(k)} {v}" for k, v in u["loops_by_cause"].items()) + ")"
        )
        + ".",
        "",
    ]
    lines += _table(
        ["date", "move", "cause", "reason"],
        [
            [
                day(t["at"]),
                ("↩ " if t["backward"] else "") + esc(t["to"]),
                esc(t["cause"] or "-"),
                esc(t["reason"] or "-"),
            ]
            for t in u["timeline"]
        ],
    )
    lines += ["## Delivery forecast", "", *_forecast(u["forecast"])]
    lines += ["## The two uncertainties", "", *_uncertainty(u["uncertainty"])]
    lines += ["## Feasibility of the model", "", *_feasibility(u["feasibility"])]
    lines += ["## Monitors", "", *_monitors(u["monitors"], u["alerts"])]
    lines += ["## Decisions since the last update", ""]
    lines += [
        f"- {day(d['at'])} **{esc(d['verdict'])}** — {esc(d['rationale'])}" for d in u["decisions"]
    ] or ["- none"]
    lines += ["", "## Learnings since the last update", ""]
    lines += [f"- {day(item['at'])} {esc(item['text'])}" for item in u["learnings"]] or ["- none"]
    lines += ["", "## What we need from our network", ""]
    net = u["network"] or {}
    asks = net.get("asks") or []
    lines += [
        f"- {esc(a['need'])}: "
        + (", ".join(esc(p) for p in a["allies"]) or "nobody in the network yet")
        for a in asks
    ] or ["- nothing: every role is covered"]
    if u["missing"]:
        lines += ["", "## Missing evidence", "", *(f"- {esc(m)}" for m in u["missing"])]
    return "\n".join(lines) + "\n"
