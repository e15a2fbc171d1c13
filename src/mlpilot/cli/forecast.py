"""``mlpilot forecast``: when will the initiative be delivered, as a range."""

from __future__ import annotations

from typing import Any

import typer

from mlpilot.cli.common import JSON_OPTION, console, open_workspace, print_json, table
from mlpilot.report.labels import kind_label, probability


def forecast_line(slug: str, result: dict[str, Any]) -> str:
    """One line: the delivery dates at 50/85/95 % (posterior predictive probability, as the
    forecast labels them) and the loops still expected."""
    dates = {
        key: (result[key] or "")[:10] or "not within the simulation"
        for key in ("p50", "p85", "p95")
    }
    kind = kind_label(result.get("probability_kind"))
    return (
        f"{slug} ({result['phase']}): delivered by {dates['p50']} (50%), "
        f"{dates['p85']} (85%), {dates['p95']} (95%) — {kind}; "
        f"{result['expected_loops']:.1f} more loop(s) expected"
    )


def forecast(
    ctx: typer.Context,
    slug: str,
    by: str | None = typer.Option(
        None, "--by", help="Also give the probability of delivery by this date."
    ),
    trials: int = typer.Option(10_000, "--trials", help="Monte Carlo trials."),
    seed: int = typer.Option(
        0, "--seed", help="Random seed (the same seed gives the same forecast)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Forecast when SLUG reaches monitoring, from its history and the other initiatives'."""
    result = (
        open_workspace(ctx).initiative(slug).forecast(by=by, trials=trials, seed=seed).to_dict()
    )
    if as_json:
        print_json(result)
        return
    if result["complete"]:
        console.print(f"{slug} reached monitoring on {result['p50'][:10]}.")
        return
    console.print(forecast_line(slug, result))
    if result["by"] is not None:
        console.print(
            f"{kind_label(result.get('probability_kind'))} of delivery by {result['by'][:10]}: "
            f"{probability(result['probability_by'])}"
        )
    console.print(
        f"based on {result['history_transitions']} finished phase visit(s) of "
        f"{result['history_initiatives']} initiative(s) and the prior; {result['trials']} trials"
    )
    rows = [
        (p["phase"], p["observations"], p["median_days"], p["loops"], p["prior_median_days"])
        for p in result["phases"]
    ]
    console.print(
        table(None, ("phase", "visits", "median days", "loops from", "prior median"), rows)
    )
