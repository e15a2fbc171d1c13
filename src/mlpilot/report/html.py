"""The stakeholder update as one self-contained HTML page: inline CSS and SVG, no script, no
external resource, print-friendly, and every user-supplied string escaped."""

from __future__ import annotations

from html import escape
from typing import Any

from mlpilot.report import svg
from mlpilot.report.labels import what_it_is
from mlpilot.report.markdown import (
    QUESTIONS,
    UNCERTAINTY_COLUMNS,
    curve_text,
    day,
    feasibility_columns,
    forecast_kind,
    num,
    overall_text,
    pct,
)

__all__ = ["to_html"]

CSS = """
body{font:14px/1.45 system-ui,sans-serif;color:#222;max-width:820px;margin:24px auto;
padding:0 16px}h1{font-size:22px;margin-bottom:2px}
h2{font-size:16px;border-bottom:1px solid #ddd;padding-bottom:3px;margin-top:26px}
.meta{color:#666}table{border-collapse:collapse;width:100%;margin:8px 0}
td,th{border-bottom:1px solid #eee;text-align:left;padding:4px 6px;vertical-align:top}
th{background:#f6f6f6}.loop{color:#c0392b}.ok{color:#1e8449}.failing{color:#c0392b}
.warning{color:#b9770e}.no-data{color:#888}.missing{background:#fff8e6;padding:6px 10px}
svg{width:100%;height:auto;margin:6px 0}
@media print{body{margin:0;max-width:none}h2{break-after:avoid}svg,table{break-inside:avoid}}
"""


def e(text: Any) -> str:
    """Escape user text for HTML (quotes too)."""
    return escape("" if text is None else str(text), quote=True)


def _table(header: list[str], rows: list[list[str]]) -> str:
    """A table; cells are already-escaped HTML."""
    head = "".join(f"<th>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _timeline(u: dict[str, Any]) -> str:
    rows = [
        [
            e(day(t["at"])),
            f'<span class="loop">↩ {e(t["to"])}</span>' if t["backward"] else e(t["to"]),
            e(t["cause"] or "-"),
            e(t["reason"] or "-"),
        ]
        for t in u["timeline"]
    ]
    causes = ", ".join(f"{e(k)} {v}" for k, v in u["loops_by_cause"].items())
    return (
        f"<p>Started {e(day(u['started_at']))}; {u['loops']} loop(s) back"
        f"{f' ({causes})' if causes else ''}.</p>"
        + svg.timeline_chart(u["visits"], u["timeline"])
        + _table(["date", "move", "cause", "reason"], rows)
    )


def _forecast(f: dict[str, Any] | None) -> str:
    if f is None:
        return "<p>No forecast could be made (see <em>Missing evidence</em>).</p>"
    if f["complete"]:
        return f"<p>Delivered: reached monitoring on {e(day(f['p50']))}.</p>"
    text = (
        f"<p>Delivery (reaching monitoring), with {e(forecast_kind(f))}: by "
        f"<strong>{e(day(f['p50']))}</strong> at 50 %, by <strong>{e(day(f['p85']))}</strong> "
        f"at 85 %, by <strong>{e(day(f['p95']))}</strong> at 95 %; "
        f"{f['expected_loops']:.1f} more loop(s) expected. Based on "
        f"{f['history_transitions']} finished phase visit(s) of {f['history_initiatives']} "
        f"initiative(s) and a deliberately wide prior; {f['trials']} simulated futures.</p>"
    )
    if f.get("by"):
        text += (
            f"<p>{e(forecast_kind(f).capitalize())} of delivery by {e(day(f['by']))}: "
            f"{e(pct(f['probability_by']))}.</p>"
        )
    return text + (svg.forecast_chart(f) if f.get("histogram") else "")


def _uncertainty(u: dict[str, Any]) -> str:
    rows = []
    for kind, label in QUESTIONS:
        entry = u.get(kind)
        if entry is None:
            rows.append([e(label), "unknown", "-", "-", "no evidence recorded", "-"])
            continue
        history = " → ".join(pct(h["probability"]) for h in entry["history"][-5:])
        rows.append(
            [
                e(label),
                e(pct(entry["probability"])),
                e(what_it_is(entry)),
                e(entry["trend"] or "-"),
                e(entry["source"]),
                e(f"{day(entry['at'])} ({history})"),
            ]
        )
    return _table(UNCERTAINTY_COLUMNS, rows)


def _feasibility(f: dict[str, Any]) -> str:
    rows = []
    for c in f["criteria"]:
        curve, base = c["learning_curve"], c["baseline"]
        if curve is None:
            at_size = "-"
        elif curve["regular"]:
            at_size = e(curve_text(curve))
        else:
            at_size = "not extrapolated: " + e(curve["reason"])
        rows.append([
            e(c["criterion"]), e(c["evaluation"] or "none"),
            e(f"{num(c['estimate'])} [{num(c['low'])}, {num(c['high'])}]"),
            e(pct(c["probability_met"])),
            "-" if base is None else e(f"{base['margin']:+.3g} over {base['value']:g}"), at_size,
        ])  # fmt: skip
    if not rows:
        return "<p>No model criteria are declared.</p>"
    chart = (
        svg.criteria_chart(f["criteria"])
        if any(c["estimate"] is not None for c in f["criteria"])
        else ""
    )
    return (
        chart
        + _table([e(c) for c in feasibility_columns(f)], rows)
        + (f"<p>{e(overall_text(f, str))}</p>")
    )


def _monitors(health: dict[str, Any] | None, alerts: list[dict[str, Any]] | None) -> str:
    items = (
        "".join(
            f'<li><strong>{e(g)}</strong>: <span class="{e(light.get("status", "no-data"))}">'
            f"{e(light.get('status', 'no-data'))}</span>"
            + (f" — {e(light['reason'])}" if light.get("reason") else "")
            + "</li>"
            for g, light in (health or {}).items()
        )
        or "<li>no monitor has run</li>"
    )
    table = (
        _table(
            ["group", "criterion", "severity", "what holds", "since", "plan"],
            [
                [
                    e(a["group"]),
                    e(a["criterion"]),
                    e(a["severity"]),
                    "<br>".join(e(h) for h in a.get("holds", [])),
                    e(day(a["first_seen"])),
                    e(a["plan"] or "-"),
                ]
                for a in alerts or []
            ],
        )
        if alerts
        else "<p>No open alerts.</p>"
    )
    return f"<ul>{items}</ul>{table}"


def _list(items: list[str], empty: str) -> str:
    return "<ul>" + ("".join(f"<li>{i}</li>" for i in items) or f"<li>{empty}</li>") + "</ul>"


def to_html(u: dict[str, Any]) -> str:
    """The update as one HTML page."""
    base = u["baseline"]
    baseline = e(base["description"]) + (
        "" if base["value"] is None else e(f" = {base['value']:g} {base['metric'] or ''}")
    )
    net = u["network"] or {}
    asks = [
        f"{e(a['need'])}: " + (e(", ".join(a["allies"])) or "nobody in the network yet")
        for a in net.get("asks") or []
    ]
    sections = [
        f"<h1>{e(u['name'])} — stakeholder update</h1>",
        f'<p class="meta">{e(u["slug"])} · {e(u["status"])} · phase {e(u["phase"])} · '
        f"as of {e(day(u['as_of']))} · changes since {e(day(u['since']))}</p>",
        f"<p><strong>Problem.</strong> {e(u['problem'])}</p>",
        f"<p><strong>How the predictions are used.</strong> {e(u['prediction_use'])}</p>",
        f"<p><strong>Baseline to beat.</strong> {baseline}</p>",
        "<h2>How we got here</h2>", _timeline(u),
        "<h2>Delivery forecast</h2>", _forecast(u["forecast"]),
        "<h2>The two uncertainties</h2>", _uncertainty(u["uncertainty"]),
        "<h2>Feasibility of the model</h2>", _feasibility(u["feasibility"]),
        "<h2>Monitors</h2>", _monitors(u["monitors"], u["alerts"]),
        "<h2>Decisions since the last update</h2>",
        _list(
            [
                f"{e(day(d['at']))} <strong>{e(d['verdict'])}</strong> — {e(d['rationale'])}"
                for d in u["decisions"]
            ],
            "none",
        ),
        "<h2>Learnings since the last update</h2>",
        _list([f"{e(day(i['at']))} {e(i['text'])}" for i in u["learnings"]], "none"),
        "<h2>What we need from our network</h2>", _list(asks, "nothing: every role is covered"),
    ]  # fmt: skip
    if u["missing"]:
        sections += [
            '<h2>Missing evidence</h2><div class="missing">',
            _list([e(m) for m in u["missing"]], ""),
            "</div>",
        ]
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{e(u['name'])} — stakeholder update</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<style>{CSS}</style></head><body>" + "".join(sections) + "</body></html>\n"
    )
