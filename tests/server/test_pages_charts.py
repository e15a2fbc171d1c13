"""The dashboard's Vega-Lite specs (server/charts.py): strict JSON, data inline, targets drawn."""

from __future__ import annotations

import json
import math
from typing import Any

from mlpilot.domain.lifecycle import Phase
from mlpilot.server import charts


def _layers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return list(spec.get("layer", [spec]))


def _marks(spec: dict[str, Any]) -> list[str]:
    return [
        layer["mark"] if isinstance(layer["mark"], str) else layer["mark"]["type"]
        for layer in _layers(spec)
    ]


def _no_urls(spec: dict[str, Any]) -> None:
    """Everything inline: no data URL, no schema URL, nothing for the browser to fetch."""
    text = json.dumps(spec, allow_nan=False)
    assert "$schema" not in text
    assert '"url"' not in text
    assert "http" not in text


def test_clean_turns_non_finite_numbers_into_null_at_any_depth() -> None:
    dirty = {"a": math.nan, "b": [1.0, math.inf, (-math.inf, 2)], "c": {"d": math.nan}, "e": "x"}
    cleaned = charts.clean(dirty)
    assert cleaned == {"a": None, "b": [1.0, None, [None, 2]], "c": {"d": None}, "e": "x"}
    json.dumps(cleaned, allow_nan=False)  # strict JSON now


def test_timeline_has_one_bar_per_stay_and_marks_the_loops() -> None:
    visits = [
        {"phase": "modeling", "start": "2026-01-01T00:00:00+00:00",
         "end": "2026-01-05T00:00:00+00:00", "loop": False},
        {"phase": "data-preparation", "start": "2026-01-05T00:00:00+00:00",
         "end": "2026-01-09T00:00:00+00:00", "loop": True},
    ]  # fmt: skip
    spec = charts.timeline_chart(visits)
    _no_urls(spec)
    values = spec["data"]["values"]
    assert [v["entered"] for v in values] == ["forward", "loop back"]
    assert spec["encoding"]["y"]["sort"] == [p.value for p in Phase]
    assert spec["encoding"]["x2"] == {"field": "end"}


def test_performance_chart_draws_the_target_as_a_rule() -> None:
    points = [
        {"start": "2026-01-01T00:00:00+00:00", "value": 0.71, "met": True, "coverage": 1.0},
        {"start": "2026-01-02T00:00:00+00:00", "value": math.nan, "met": None, "coverage": 0.0},
    ]
    spec = charts.performance_chart("roc_auc", "roc_auc >= 0.75", 0.75, points)
    _no_urls(spec)
    assert _marks(spec) == ["line", "rule"]
    assert spec["layer"][1]["data"]["values"][0]["value"] == 0.75
    assert spec["layer"][0]["data"]["values"][1]["value"] is None  # NaN made null
    assert _marks(charts.performance_chart("mae", None, None, points)) == ["line"]


def _column(name: str, statistic: float, p_value: float | None, threshold: float,
            drifted: bool) -> dict[str, Any]:  # fmt: skip
    return {"name": name, "method": "ks" if p_value is not None else "psi",
            "statistic": statistic, "p_value": p_value, "threshold": threshold,
            "drifted": drifted}  # fmt: skip


def test_drift_chart_plots_the_p_value_for_tests_and_the_statistic_otherwise() -> None:
    window = {
        "start": "2026-01-03T00:00:00+00:00",
        "columns": [_column("age", 0.31, 0.001, 0.05, True), _column("plan", 0.02, None, 0.2,
                                                                      False)],
    }  # fmt: skip
    spec = charts.drift_chart(window)
    _no_urls(spec)
    assert _marks(spec) == ["bar", "tick"]
    values = spec["data"]["values"]
    assert [(v["column"], v["measure"], v["value"]) for v in values] == [
        ("age", "p-value", 0.001), ("plan", "statistic", 0.02)]  # fmt: skip
    assert [v["threshold"] for v in values] == [0.05, 0.2]
    assert [v["drifted"] for v in values] == ["drifted", "stable"]


def test_drift_history_draws_a_threshold_only_when_every_column_shares_one() -> None:
    same = [{"start": f"2026-01-0{d}T00:00:00+00:00",
             "columns": [_column("a", 0.1 * d, None, 0.2, d > 1), _column("b", 0.05, None, 0.2,
                                                                          False)]}
            for d in (1, 2)]  # fmt: skip
    spec = charts.drift_history_chart(same)
    assert spec is not None
    assert _marks(spec) == ["line", "rule"]
    assert len(spec["layer"][0]["data"]["values"]) == 4
    mixed = [{"start": "2026-01-01T00:00:00+00:00",
              "columns": [_column("a", 0.1, None, 0.2, False), _column("b", 0.3, 0.2, 0.05,
                                                                       False)]}]  # fmt: skip
    mixed_spec = charts.drift_history_chart(mixed)
    assert mixed_spec is not None
    assert _marks(mixed_spec) == ["line"]
    assert charts.drift_history_chart([]) is None


def test_service_charts_draw_one_rule_per_slo() -> None:
    windows = [{"start": "2026-01-01T00:00:00+00:00", "count": 10, "error_rate": 0.1,
                "latency_p50": 50.0, "latency_p95": 90.0, "latency_p99": None}]  # fmt: skip
    slo = [{"metric": "latency_p99", "target": 300.0, "criterion": "latency_p99 <= 300 ms"}]
    latency = charts.latency_chart(windows, slo)
    _no_urls(latency)
    assert _marks(latency) == ["line", "rule"]
    assert [v["percentile"] for v in latency["layer"][0]["data"]["values"]] == ["p50", "p95"]
    assert latency["layer"][1]["data"]["values"][0]["value"] == 300.0
    errors = charts.error_chart(windows, [])
    assert _marks(errors) == ["line"]


def test_experiment_chart_has_points_error_bars_zero_and_the_minimum_effect() -> None:
    rows = [
        {"label": "kpi · t", "effect": 0.05, "low": 0.03, "high": 0.07, "role": "kpi",
         "verdict": "pass", "target": 0.02},
        {"label": "cost · t", "effect": -0.01, "low": -0.06, "high": 0.04, "role": "guardrail",
         "verdict": "pass", "target": None},
    ]  # fmt: skip
    spec = charts.experiment_chart("ab", rows)
    _no_urls(spec)
    assert _marks(spec) == ["rule", "errorbar", "point", "tick"]
    assert spec["layer"][3]["data"]["values"] == [rows[0]]
    assert spec["layer"][1]["encoding"]["x"]["field"] == "low"
    assert spec["layer"][1]["encoding"]["x2"]["field"] == "high"


def test_uncertainty_and_forecast_charts_are_none_without_evidence() -> None:
    assert charts.uncertainty_chart({"model": None, "impact": None}) is None
    assert charts.forecast_chart({"complete": True}) is None
    history = {"model": {"history": [{"at": "2026-01-01T00:00:00+00:00", "probability": 0.4,
                                      "source": "eval"}]}, "impact": None}  # fmt: skip
    spec = charts.uncertainty_chart(history)
    assert spec is not None
    assert spec["data"]["values"][0]["probability"] == 0.4
    forecast = {
        "p50": "2026-02-01",
        "p85": "2026-03-01",
        "p95": "2026-04-01",
        "histogram": {"start": ["2026-01-01"], "end": ["2026-01-08"], "share": [1.0]},
    }
    fspec = charts.forecast_chart(forecast)
    assert fspec is not None
    assert [m["label"] for m in fspec["layer"][1]["data"]["values"]] == ["50 %", "85 %", "95 %"]


def test_drift_charts_show_the_adjusted_p_value_and_the_effect_size() -> None:
    """The bar is the p-value the decision uses (adjusted across columns); the history is the
    Jensen-Shannon distance, an effect size, without a threshold (the test decides)."""
    effects = {"js": 0.12, "psi": 0.1, "hellinger": 0.1}
    column = _column("age", 40.2, 0.03, 0.05, False) | {
        "adjusted_p_value": 0.06, "effect_size": effects}  # fmt: skip
    window = {"start": "2026-01-03T00:00:00+00:00", "columns": [column]}
    (value,) = charts.drift_chart(window)["data"]["values"]
    assert (value["measure"], value["value"], value["drifted"]) == (
        "adjusted p-value", 0.06, "stable")  # fmt: skip
    history = charts.drift_history_chart([window])
    assert history is not None
    assert _marks(history) == ["line"]
    assert history["layer"][0]["data"]["values"][0]["statistic"] == 0.12
    assert "Jensen-Shannon" in history["title"]


def test_the_uncertainty_chart_says_what_each_probability_is() -> None:
    history = {
        "model": {"history": [
            {"at": "2026-01-01T00:00:00+00:00", "probability": 0.4, "source": "eval",
             "probability_kind": "posterior probability"},
            {"at": "2026-01-02T00:00:00+00:00", "probability": 0.5, "source": "old"},
        ]},
        "impact": None,
    }  # fmt: skip
    spec = charts.uncertainty_chart(history)
    assert spec is not None
    kinds = [v["kind"] for v in spec["data"]["values"]]
    assert kinds == ["posterior probability", "probability (kind not stated)"]
    assert {"field": "kind", "title": "what it is"} in spec["encoding"]["tooltip"]
