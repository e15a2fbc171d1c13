"""``mlpilot service``: latency, errors and throughput per window, and the SLOs."""

from __future__ import annotations

from typing import Any

import typer

from mlpilot.cli.common import JSON_OPTION, console, open_workspace, print_json, table
from mlpilot.cli.engines import ENGINE_OPTION, engine, read
from mlpilot.errors import ValidationError


def service(
    ctx: typer.Context,
    slug: str | None = typer.Argument(
        None, help="The initiative (its stored requests and service criteria)."
    ),
    window: str = typer.Option("1h", help="The window, e.g. 1h, 6h, 1d."),
    by: str | None = typer.Option(None, "--by", help="Split the windows: model-version."),
    period: str = typer.Option("30d", help="The SLO period, e.g. 28d, 30d, 4w."),
    at: str | None = typer.Option(None, help="Evaluate at this time (ISO 8601; default now)."),
    requests: str | None = typer.Option(
        None, "--requests", help="Read the requests from this .parquet or .csv file instead."
    ),
    engine_name: str = ENGINE_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Service statistics per window from stored requests, and the SLOs of the criteria.

    With --requests FILE the requests come from the file (judged against SLUG's service
    criteria when SLUG is given), computed on --engine duckdb or spark.
    """
    if by not in (None, "model-version"):
        raise ValidationError(f"cannot split by {by!r}; use --by model-version")
    if requests is None:
        if slug is None:
            raise ValidationError("give an initiative SLUG, or --requests FILE")
        if engine_name != "duckdb":
            raise ValidationError("--engine applies to --requests FILE")
        report = (
            open_workspace(ctx)
            .initiative(slug)
            .service(window=window, by_version=by is not None, period=period, at=at)
        )
    else:
        report = _from_file(ctx, slug, requests, engine_name, window, by, period, at)
    if as_json:
        print_json(report)
        return
    console.print(table(None, _header(by), (_row(w, window, by) for w in report["windows"])))
    objectives = report["slo"]["objectives"]
    if objectives:
        console.print(
            table(
                f"SLOs over {report['slo']['period']} to {report['now'][:16]}",
                (
                    "objective",
                    "compliance",
                    "budget left",
                    "burn rate " + " / ".join(BURN_SHOWN),
                    "alerts",
                ),
                (_slo_row(o) for o in objectives),
            )
        )
        for line in _rules_text(objectives):
            console.print(line, soft_wrap=True)
    for alert in report["alerts"]:
        colour = "red" if alert["severity"] in ("page", "ticket") else "yellow"
        plan = f" — plan: {alert['plan']}" if alert["plan"] else ""
        console.print(f"[{colour}]{alert['severity']}[/{colour}] {alert['message']}{plan}")


def _from_file(
    ctx: typer.Context,
    slug: str | None,
    path: str,
    engine_name: str,
    window: str,
    by: str | None,
    period: str,
    at: str | None,
) -> dict[str, Any]:
    from mlpilot.domain.parsing import parse_time
    from mlpilot.facade.base import now
    from mlpilot.monitors.service import evaluate

    criteria = open_workspace(ctx).initiative(slug).criteria() if slug else []
    moment = parse_time(at, now(), "evaluation time")
    with engine(engine_name) as connection:
        return evaluate(
            read(connection, path), criteria, slug=slug or "", window=window,
            by_version=by is not None, now=moment, period=period,
        )  # fmt: skip


BURN_SHOWN = ("1h", "6h", "3d")


def _header(by: str | None) -> tuple[str, ...]:
    head = ("window", "version") if by else ("window",)
    latencies = ("p50 ms", "p90 ms", "p95 ms", "p99 ms", "max ms")
    return (*head, "count", "req/s", "errors", *latencies, "fails")


def _row(w: dict[str, Any], window: str, by: str | None) -> tuple[Any, ...]:
    start = w["start"][:10] if window.endswith(("d", "w")) else w["start"][5:16].replace("T", " ")
    head = (start, w["model_version"]) if by else (start,)
    return (
        *head,
        w["count"],
        f"{w['throughput']:.3g}",
        _share(w["error_rate"]),
        *(_ms(w[k]) for k in ("latency_p50", "latency_p90", "latency_p95", "latency_p99")),
        _ms(w["latency_max"]),
        ", ".join(b["metric"] for b in w["breaches"]) or "-",
    )


def _slo_row(o: dict[str, Any]) -> tuple[Any, ...]:
    rates = {w: o["burn_rates"][w]["value"] for w in BURN_SHOWN}
    return (
        o["criterion"],
        _share(o["compliance"], 3),
        _share(o["budget_left"], 0),
        " / ".join("-" if rate is None else f"{rate:.1f}×" for rate in rates.values()),
        ", ".join(f"{a['severity']} {a['start'][:16]}" for a in o["alerts"][-3:]) or "-",
    )


def _rules_text(objectives: list[dict[str, Any]]) -> list[str]:
    """What a burn rate is and when it alerts, with any rate scaled to a large budget."""
    rules = objectives[0]["rules"]
    table = ", ".join(
        f"{r['severity']} above {r['workbook_rate']:g}× over {r['long_window']} and "
        f"{r['short_window']}"
        for r in rules
    )
    lines = [
        "burn rate: the bad share over the trailing window ÷ the error budget (1× spends the "
        f"budget exactly over the period); alerts (SRE Workbook): {table}"
    ]
    for o in objectives:
        lines.append(f"error budget of {o['criterion']}: {o['stands_for']}")
        scaled = [r for r in o["rules"] if r["scaled"]]
        if scaled:
            lines.append(
                f"{o['criterion']}: its budget is too large for the workbook's rates — "
                + ", ".join(
                    f"{r['rule']} {r['severity']}s above {r['alert_at']:g}× "
                    f"({r['bad_share']:.0%} of requests bad)"
                    for r in scaled
                )
            )
    return lines


def _share(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}%}"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"
