"""Inline SVG charts for the stakeholder update: no script, no network, every label escaped.

Each function returns one ``<svg>`` element as text, sized by its ``viewBox`` so it scales to the
page and prints crisply.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any

from mlpilot.report import labels

__all__ = ["criteria_chart", "forecast_chart", "timeline_chart"]

PHASES = (
    "business-understanding", "data-understanding", "data-preparation", "modeling",
    "evaluation", "deployment", "monitoring",
)  # fmt: skip
WIDTH, LEFT, RIGHT = 760, 170, 20
LOOP, FORWARD, MUTED = "#c0392b", "#2c6fbb", "#888"


def esc(text: Any) -> str:
    """Text for an SVG element or attribute."""
    return escape(str(text), quote=True)


def _share(value: float | None) -> str:
    return labels.probability(value)


def _ts(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def _svg(height: int, body: list[str], title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'role="img" aria-label="{esc(title)}" font-family="sans-serif" font-size="11">'
        f"<title>{esc(title)}</title>{''.join(body)}</svg>"
    )


def timeline_chart(visits: list[dict[str, Any]], timeline: list[dict[str, Any]]) -> str:
    """Phase lanes over time; each visit a bar, each loop a red arrow back with its cause."""
    lane = 22
    height = lane * len(PHASES) + 40
    start, end = _ts(visits[0]["start"]), max(_ts(visits[-1]["end"]), _ts(visits[0]["start"]) + 1)

    def x(text: str) -> float:
        return LEFT + (WIDTH - LEFT - RIGHT) * (_ts(text) - start) / (end - start)

    def y(phase: str) -> float:
        return 10 + lane * PHASES.index(phase)

    body = [
        f'<text x="{LEFT - 6}" y="{y(p) + 14}" text-anchor="end" fill="#333">{esc(p)}</text>'
        f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(p) + lane - 2}" y2="{y(p) + lane - 2}" '
        f'stroke="#eee"/>'
        for p in PHASES
    ]
    for v in visits:
        left, right = x(v["start"]), x(v["end"])
        body.append(
            f'<rect x="{left:.1f}" y="{y(v["phase"]) + 4}" width="{max(right - left, 1.5):.1f}" '
            f'height="{lane - 8}" fill="{FORWARD}" rx="2"><title>{esc(v["phase"])}: '
            f"{esc(v['start'][:10])} to {esc(v['end'][:10])}</title></rect>"
        )
    for t in timeline:
        if not t["backward"]:
            continue
        at = x(t["at"])
        body.append(
            f'<line x1="{at:.1f}" x2="{at:.1f}" y1="{y(t["from"]) + 10}" y2="{y(t["to"]) + 12}" '
            f'stroke="{LOOP}" stroke-width="2"><title>loop back to {esc(t["to"])} '
            f"({esc(t['cause'] or 'other')}): {esc(t['reason'] or '')}</title></line>"
            f'<circle cx="{at:.1f}" cy="{y(t["to"]) + 12}" r="3.5" fill="{LOOP}"/>'
        )
    body.append(
        f'<text x="{LEFT}" y="{height - 8}" fill="{MUTED}">{esc(visits[0]["start"][:10])}</text>'
        f'<text x="{WIDTH - RIGHT}" y="{height - 8}" text-anchor="end" fill="{MUTED}">'
        f"{esc(visits[-1]['end'][:10])}</text>"
    )
    return _svg(height, body, "Lifecycle timeline: phases over time, loops back in red")


def forecast_chart(forecast: dict[str, Any]) -> str:
    """The distribution of delivery dates, with the 50 / 85 / 95 % dates marked."""
    hist = forecast["histogram"]
    height, base = 170, 130
    first, last = _ts(hist["start"][0]), _ts(hist["end"][-1])
    top = max(hist["share"]) or 1.0

    def x(moment: float) -> float:
        return 20 + (WIDTH - 40) * (moment - first) / max(last - first, 1)

    body = []
    for left, right, share in zip(hist["start"], hist["end"], hist["share"], strict=True):
        h = (base - 20) * share / top
        body.append(
            f'<rect x="{x(_ts(left)):.1f}" y="{base - h:.1f}" '
            f'width="{max(x(_ts(right)) - x(_ts(left)) - 1, 1):.1f}" height="{h:.1f}" '
            f'fill="{FORWARD}" opacity="0.6"><title>{esc(left[:10])}: {share:.1%}</title></rect>'
        )
    for key, colour in (("p50", "#1e8449"), ("p85", "#b9770e"), ("p95", LOOP)):
        if forecast.get(key) is None or not first <= _ts(forecast[key]) <= last:
            continue
        at, label_y = x(_ts(forecast[key])), 20 + 12 * ("p50", "p85", "p95").index(key)
        body.append(
            f'<line x1="{at:.1f}" x2="{at:.1f}" y1="10" y2="{base}" stroke="{colour}" '
            f'stroke-dasharray="4 3"/><text x="{at + 3:.1f}" y="{label_y}" '
            f'fill="{colour}">{esc(key)} {esc(forecast[key][:10])}</text>'
        )
    body.append(
        f'<line x1="20" x2="{WIDTH - 20}" y1="{base}" y2="{base}" stroke="#333"/>'
        f'<text x="20" y="{base + 16}" fill="{MUTED}">{esc(hist["start"][0][:10])}</text>'
        f'<text x="{WIDTH - 20}" y="{base + 16}" text-anchor="end" fill="{MUTED}">'
        f"{esc(hist['end'][-1][:10])}</text>"
    )
    kind = labels.kind_label(forecast.get("probability_kind"))
    return _svg(
        height, body, f"Delivery forecast: share of simulated futures by date; p50, p85, p95: the "
        f"dates reached with {kind} 50, 85 and 95 %",
    )  # fmt: skip


def criteria_chart(criteria: list[dict[str, Any]]) -> str:
    """Each model criterion: the estimate with its interval (as labelled: a 95 % credible
    interval) against the target (and the baseline, grey), on the criterion's own scale."""
    rows = [c for c in criteria if c["estimate"] is not None]
    interval = labels.interval_label(
        labels.first(rows, "interval_kind"), labels.first(rows, "level")
    )
    height = 46 * len(rows) + 10
    body = []
    for i, c in enumerate(rows):
        y = 34 + 46 * i
        values = [v for v in (c["low"], c["high"], c["estimate"], c["target"]) if v is not None]
        if c["baseline"]:
            values.append(c["baseline"]["value"])
        lo, hi = min(values), max(values)
        pad = (hi - lo) * 0.1 or 0.05
        lo, hi = lo - pad, hi + pad

        def x(v: float, lo: float = lo, hi: float = hi) -> float:
            return 20 + (WIDTH - 40) * (v - lo) / (hi - lo)

        body.append(
            f'<text x="20" y="{y - 14}" fill="#333">{esc(c["criterion"])}: '
            f"{c['estimate']:.3g} ({esc(labels.kind_label(c.get('probability_kind')))} met "
            f"{esc(_share(c['probability_met']))})</text>"
        )
        if c["low"] is not None and c["high"] is not None:
            body.append(
                f'<line x1="{x(c["low"]):.1f}" x2="{x(c["high"]):.1f}" y1="{y}" y2="{y}" '
                f'stroke="{FORWARD}" stroke-width="4" opacity="0.5"><title>{esc(interval)} '
                f"[{c['low']:.4g}, {c['high']:.4g}]</title></line>"
            )
        body.append(
            f'<circle cx="{x(c["estimate"]):.1f}" cy="{y}" r="5" fill="{FORWARD}">'
            f"<title>{esc(c['metric'])} = {c['estimate']:.4g}</title></circle>"
            f'<line x1="{x(c["target"]):.1f}" x2="{x(c["target"]):.1f}" y1="{y - 10}" '
            f'y2="{y + 10}" stroke="{LOOP}" stroke-width="2"><title>target '
            f"{esc(c['op'])} {c['target']:g}</title></line>"
            f'<text x="{x(c["target"]) + 3:.1f}" y="{y - 8}" fill="{LOOP}">target</text>'
        )
        if c["baseline"]:
            b = c["baseline"]["value"]
            body.append(
                f'<line x1="{x(b):.1f}" x2="{x(b):.1f}" y1="{y - 8}" y2="{y + 8}" '
                f'stroke="{MUTED}" stroke-width="2"><title>baseline {b:g}</title></line>'
            )
    return _svg(height, body, f"Model criteria: estimate and {interval} against the target")
