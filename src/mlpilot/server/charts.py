"""Vega-Lite specifications of the dashboard's charts, as plain dicts.

Each function takes what a monitor or the facade returned and gives a spec with its data inline
(``data.values``), ready for vega-embed: no URL, no ``$schema`` (the page embeds in vega-lite
mode), so the browser fetches nothing. :func:`clean` makes any spec strict JSON (NaN and
infinities become null), since ``JSON.parse`` rejects them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from mlpilot.domain.lifecycle import Phase
from mlpilot.report.labels import kind_label

__all__ = [
    "clean",
    "drift_chart",
    "drift_history_chart",
    "error_chart",
    "experiment_chart",
    "forecast_chart",
    "latency_chart",
    "performance_chart",
    "timeline_chart",
    "uncertainty_chart",
]

Spec = dict[str, Any]
WIDTH = 620
HEIGHT = 220
UTC_AXIS = {"type": "utc"}
DAY_AXIS = {"format": "%b %d", "labelAngle": 0}  # daily windows: "Nov 28", not "Sat 28"
GOOD, BAD, NEUTRAL, TARGET = "#1e8449", "#c0392b", "#2e6da4", "#b9770e"


def clean(value: Any) -> Any:
    """``value`` with every non-finite float replaced by None, tuples as lists (strict JSON)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    return value


def _day_x(field: str) -> Spec:
    """A time axis of daily windows, in UTC."""
    return {"field": field, "type": "temporal", "scale": UTC_AXIS, "title": None, "axis": DAY_AXIS}


def _base(title: str, values: list[dict[str, Any]] | None = None, height: int = HEIGHT) -> Spec:
    """A chart's frame; layered charts give each layer its own data instead."""
    spec: Spec = {"title": title, "width": WIDTH, "height": height}
    if values is not None:
        spec["data"] = {"values": clean(values)}
    return spec


def _rule(field_value: float, *, axis: str, color: str = TARGET, label: str) -> Spec:
    """A dashed rule at a target, with its label (as a tooltip)."""
    return {
        "mark": {"type": "rule", "color": color, "strokeDash": [6, 4], "strokeWidth": 2},
        "data": {"values": clean([{"value": field_value, "label": label}])},
        "encoding": {
            axis: {"field": "value", "type": "quantitative"},
            "tooltip": [{"field": "label", "type": "nominal", "title": "target"}],
        },
    }


def timeline_chart(visits: Sequence[Mapping[str, Any]]) -> Spec:
    """The lifecycle as a Gantt chart: one bar per stay in a phase, loops in red.

    ``visits``: ``phase``, ``start``, ``end`` (ISO) and ``loop`` (entered by a backward move).
    """
    order = [p.value for p in Phase]
    values = [{**v, "entered": "loop back" if v.get("loop") else "forward"} for v in visits]
    spec = _base("Lifecycle: each stay in a phase", values, height=24 * len(order))
    spec.update(
        mark={"type": "bar", "cornerRadius": 2},
        encoding={
            "y": {"field": "phase", "type": "nominal", "sort": order, "title": None,
                  "scale": {"domain": order}},
            "x": _day_x("start"),
            "x2": {"field": "end"},
            "color": {"field": "entered", "type": "nominal", "title": "entered by",
                      "scale": {"domain": ["forward", "loop back"], "range": [NEUTRAL, BAD]}},
            "tooltip": [
                {"field": "phase", "type": "nominal"},
                {"field": "start", "type": "temporal", "format": "%Y-%m-%d", "scale": UTC_AXIS},
                {"field": "end", "type": "temporal", "format": "%Y-%m-%d", "scale": UTC_AXIS},
                {"field": "entered", "type": "nominal"},
            ],
        },
    )  # fmt: skip
    return spec


def uncertainty_chart(uncertainty: Mapping[str, Any]) -> Spec | None:
    """The two uncertainties' probability over time (None when neither was ever recorded)."""
    labels = {"model": "model good enough", "impact": "impact good enough"}
    values = [
        {"question": labels[kind], "at": h["at"], "probability": h["probability"],
         "kind": kind_label(h.get("probability_kind")), "source": h["source"]}
        for kind in ("model", "impact") if uncertainty.get(kind)
        for h in uncertainty[kind]["history"]
    ]  # fmt: skip
    if not values:
        return None
    spec = _base("The two uncertainties: probability over time", values, height=160)
    spec.update(
        mark={"type": "line", "point": True},
        encoding={
            "x": _day_x("at"),
            "y": {"field": "probability", "type": "quantitative",
                  "axis": {"format": "%", "title": "probability (its kind in the tooltip)"},
                  "scale": {"domain": [0, 1]}},
            "color": {"field": "question", "type": "nominal", "title": None},
            "tooltip": [{"field": "question"}, {"field": "kind", "title": "what it is"},
                        {"field": "probability", "format": ".0%"}, {"field": "source"}],
        },
    )  # fmt: skip
    return spec


def forecast_chart(forecast: Mapping[str, Any]) -> Spec | None:
    """The simulated delivery dates as a histogram with the 50/85/95 % marks (None when the
    forecast has no histogram, e.g. a delivered initiative)."""
    histogram = forecast.get("histogram")
    if not histogram:
        return None
    bars = [
        {"start": s, "end": e, "share": share}
        for s, e, share in zip(histogram["start"], histogram["end"], histogram["share"],
                               strict=True)
    ]  # fmt: skip
    marks = [{"at": forecast[k], "label": f"{k[1:]} %"} for k in ("p50", "p85", "p95")]
    spec = _base("Delivery forecast: when monitoring is reached", height=160)
    spec["layer"] = [
        {
            "data": {"values": clean(bars)},
            "mark": {"type": "rect", "color": NEUTRAL},
            "encoding": {
                "x": _day_x("start"),
                "x2": {"field": "end"},
                "y": {"field": "share", "type": "quantitative", "axis": {"format": "%"},
                      "title": "share of simulated futures"},
            },
        },
        {
            "data": {"values": clean(marks)},
            "mark": {"type": "rule", "color": TARGET, "strokeDash": [6, 4], "strokeWidth": 2},
            "encoding": {
                "x": {"field": "at", "type": "temporal"},
                "tooltip": [{"field": "label", "title": "delivered by"},
                            {"field": "at", "type": "temporal", "format": "%Y-%m-%d",
                             "scale": UTC_AXIS}],
            },
        },
    ]  # fmt: skip
    return spec


def performance_chart(
    metric: str, criterion: str | None, target: float | None, points: list[dict[str, Any]]
) -> Spec:
    """A model metric per window (``points``: ``start``, ``value``, ``met``, ``coverage``) with a
    rule at the criterion's target when there is one."""
    title = f"{criterion or metric} — per window" + ("" if target is None else " vs target")
    spec = _base(title)
    line = {
        "data": {"values": clean(points)},
        "mark": {"type": "line", "point": {"filled": True, "size": 40}, "color": NEUTRAL},
        "encoding": {
            "x": _day_x("start"),
            "y": {"field": "value", "type": "quantitative", "title": metric,
                  "scale": {"zero": False}},
            "tooltip": [
                {"field": "start", "type": "temporal", "format": "%Y-%m-%d", "scale": UTC_AXIS},
                {"field": "value", "format": ".3f", "title": metric},
                {"field": "coverage", "format": ".0%", "title": "labeled"},
                {"field": "met", "type": "nominal"},
            ],
        },
    }  # fmt: skip
    spec["layer"] = [line]
    if target is not None:
        spec["layer"].append(_rule(target, axis="y", label=f"{criterion}"))
    return spec


def drift_chart(window: Mapping[str, Any]) -> Spec:
    """Drift per column in one window: the p-value the decision uses (adjusted across columns,
    when given) as a bar, or the statistic for a column without one; the column's threshold as
    a tick, drifted columns in red."""
    values = [
        {"column": c["name"], "method": c["method"],
         "measure": _drift_measure(c)[0], "value": _drift_measure(c)[1],
         "threshold": c["threshold"], "drifted": "drifted" if c["drifted"] else "stable"}
        for c in window["columns"]
    ]  # fmt: skip
    title = f"Drift per column, window of {str(window['start'])[:10]}"
    spec = _base(title, values, height=max(60, 26 * len(values)))
    tooltip = [{"field": "column"}, {"field": "method"}, {"field": "measure"},
               {"field": "value", "format": ".4f"}, {"field": "threshold"}]  # fmt: skip
    spec["layer"] = [
        {
            "mark": {"type": "bar"},
            "encoding": {
                "y": {"field": "column", "type": "nominal", "title": None, "sort": None},
                "x": {"field": "value", "type": "quantitative",
                      "title": "statistic (p-value for tests: drift below the threshold)"},
                "color": {"field": "drifted", "type": "nominal", "title": None,
                          "scale": {"domain": ["stable", "drifted"], "range": [NEUTRAL, BAD]}},
                "tooltip": tooltip,
            },
        },
        {
            "mark": {"type": "tick", "color": TARGET, "thickness": 3},
            "encoding": {
                "y": {"field": "column", "type": "nominal", "sort": None},
                "x": {"field": "threshold", "type": "quantitative"},
                "tooltip": tooltip,
            },
        },
    ]  # fmt: skip
    return spec


def _drift_measure(column: Mapping[str, Any]) -> tuple[str, Any]:
    if column.get("adjusted_p_value") is not None:
        return "adjusted p-value", column["adjusted_p_value"]
    if column["p_value"] is not None:
        return "p-value", column["p_value"]
    return "statistic", column["statistic"]


def drift_history_chart(windows: Sequence[Mapping[str, Any]]) -> Spec | None:
    """Each column's drift statistic per window — its Jensen-Shannon distance (an effect size)
    when given — with the threshold when all columns share one measure (None without windows)."""
    values = [
        {"start": w["start"], "column": c["name"],
         "statistic": (c.get("effect_size") or {}).get("js", c["statistic"]),
         "drifted": c["drifted"]}
        for w in windows for c in w["columns"]
    ]  # fmt: skip
    if not values:
        return None
    spec = _base("Drift statistic per column over time")
    spec["layer"] = [
        {
            "data": {"values": clean(values)},
            "mark": {"type": "line", "point": True},
            "encoding": {
                "x": _day_x("start"),
                "y": {"field": "statistic", "type": "quantitative"},
                "color": {"field": "column", "type": "nominal"},
                "tooltip": [{"field": "column"}, {"field": "statistic", "format": ".4f"},
                            {"field": "drifted", "type": "nominal"},
                            {"field": "start", "type": "temporal", "format": "%Y-%m-%d",
                             "scale": UTC_AXIS}],
            },
        },
    ]  # fmt: skip
    columns = [c for w in windows for c in w["columns"]]
    if any(c.get("effect_size") for c in columns):
        spec["title"] = "Drift effect size per column over time (Jensen-Shannon distance)"
        return spec  # an effect size has no threshold: the test decides
    thresholds = {(c["p_value"] is None, c["threshold"]) for c in columns}
    if len(thresholds) == 1 and next(iter(thresholds))[0]:
        spec["layer"].append(_rule(columns[0]["threshold"], axis="y", label="drift threshold"))
    return spec


def latency_chart(windows: Sequence[Mapping[str, Any]], slos: Sequence[Spec]) -> Spec:
    """Latency percentiles per window, with a rule at each latency SLO (``slos``: ``metric``,
    ``target``, ``criterion``)."""
    values = [
        {"start": w["start"], "percentile": name[len("latency_"):], "ms": w[name]}
        for w in windows for name in ("latency_p50", "latency_p95", "latency_p99")
        if w.get(name) is not None
    ]  # fmt: skip
    spec = _base("Latency per window against the SLO")
    spec["layer"] = [
        {
            "data": {"values": clean(values)},
            "mark": {"type": "line"},
            "encoding": {
                "x": {"field": "start", "type": "temporal", "scale": UTC_AXIS, "title": None},
                "y": {"field": "ms", "type": "quantitative", "title": "latency (ms)"},
                "color": {"field": "percentile", "type": "nominal",
                          "sort": ["p50", "p95", "p99"]},
                "tooltip": [{"field": "percentile"}, {"field": "ms", "format": ".1f"},
                            {"field": "start", "type": "temporal", "format": "%Y-%m-%d %H:%M",
                             "scale": UTC_AXIS}],
            },
        },
        *(_rule(s["target"], axis="y", label=s["criterion"]) for s in slos),
    ]  # fmt: skip
    return spec


def error_chart(windows: Sequence[Mapping[str, Any]], slos: Sequence[Spec]) -> Spec:
    """The error rate per window, with a rule at each error-rate SLO."""
    values = [
        {"start": w["start"], "error_rate": w["error_rate"], "count": w["count"]} for w in windows
    ]
    spec = _base("Error rate per window against the SLO")
    spec["layer"] = [
        {
            "data": {"values": clean(values)},
            "mark": {"type": "line", "color": BAD},
            "encoding": {
                "x": {"field": "start", "type": "temporal", "scale": UTC_AXIS, "title": None},
                "y": {"field": "error_rate", "type": "quantitative", "axis": {"format": "%"},
                      "title": "error rate"},
                "tooltip": [{"field": "error_rate", "format": ".2%"}, {"field": "count"},
                            {"field": "start", "type": "temporal", "format": "%Y-%m-%d %H:%M",
                             "scale": UTC_AXIS}],
            },
        },
        *(_rule(s["target"], axis="y", label=s["criterion"]) for s in slos),
    ]  # fmt: skip
    return spec


def experiment_chart(experiment: str, rows: Sequence[Mapping[str, Any]]) -> Spec:
    """Each metric's relative effect of each treatment with its interval (point and error bar),
    a rule at no effect and a tick at the criterion's minimum effect (``rows``: ``label``,
    ``effect``, ``low``, ``high``, ``role``, ``target``)."""
    spec = _base(
        f"Experiment {experiment}: relative effect with its interval",
        height=max(80, 34 * len(rows)),
    )
    y = {"field": "label", "type": "nominal", "title": None, "sort": None}
    tooltip = [{"field": "label", "title": "metric · variant"}, {"field": "role"},
               {"field": "effect", "format": "+.2%"}, {"field": "low", "format": "+.2%"},
               {"field": "high", "format": "+.2%"}, {"field": "verdict"}]  # fmt: skip
    targets = [r for r in rows if r.get("target") is not None]
    spec["layer"] = [
        {
            "data": {"values": clean([{"value": 0.0}])},
            "mark": {"type": "rule", "color": "#888"},
            "encoding": {"x": {"field": "value", "type": "quantitative"}},
        },
        {
            "data": {"values": clean(list(rows))},
            "mark": {"type": "errorbar", "ticks": True, "color": NEUTRAL},
            "encoding": {
                "y": y,
                "x": {"field": "low", "type": "quantitative", "axis": {"format": "+%"},
                      "title": "relative effect vs control (95 % interval)"},
                "x2": {"field": "high"},
            },
        },
        {
            "data": {"values": clean(list(rows))},
            "mark": {"type": "point", "filled": True, "size": 70},
            "encoding": {
                "y": y, "x": {"field": "effect", "type": "quantitative"},
                "color": {"field": "role", "type": "nominal", "title": None},
                "tooltip": tooltip,
            },
        },
        {
            "data": {"values": clean(targets)},
            "mark": {"type": "tick", "color": TARGET, "thickness": 3},
            "encoding": {"y": y, "x": {"field": "target", "type": "quantitative"},
                         "tooltip": [{"field": "label"}, {"field": "target", "format": "+.2%",
                                                           "title": "minimum effect"}]},
        },
    ]  # fmt: skip
    return spec
