"""``mlpilot experiment``: declare, analyse and plan experiments on the impact KPI."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import typer

from mlpilot.cli.common import JSON_OPTION, console, done, open_workspace, print_json, table
from mlpilot.errors import ValidationError

app = typer.Typer(help="Experiments on the KPI, judged against the impact criteria.")


def _list(text: str, what: str) -> list[str]:
    items = [part.strip() for part in text.split(",") if part.strip()]
    if not items:
        raise ValidationError(f"{what} must list one or more comma-separated values")
    return items


def _shares(text: str | None) -> list[float] | None:
    if text is None:
        return None
    try:
        return [float(part) for part in _list(text, "--split")]
    except ValueError:
        raise ValidationError(f"--split takes numbers such as 50,50; got {text!r}") from None


@app.command("create")
def create(
    ctx: typer.Context,
    slug: str,
    name: str,
    variants: str = typer.Option(..., help="Comma-separated variants, control first."),
    split: str | None = typer.Option(None, help="Planned shares, e.g. 50,50 (default: equal)."),
    metric: list[str] = typer.Option(
        [],
        "--metric",
        help="NAME[:mean|conversion|ratio][:NUM/DEN][:cap=Q]:higher|lower (which way is better; "
        "a criterion's KPI or guardrail has it already); repeat.",
    ),
    pre_days: float = typer.Option(30.0, help="Days before exposure that feed CUPED."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Declare an experiment; the impact criteria in force now are kept with it."""
    created = (
        open_workspace(ctx)
        .initiative(slug)
        .create_experiment(
            name,
            variants=_list(variants, "--variants"),
            split=_shares(split),
            metrics=metric,
            pre_days=pre_days,
        )
    )
    if as_json:
        print_json(created)
        return
    metrics = ", ".join(m["name"] for m in created["metrics"])
    done(f"experiment {name} on {slug}: {', '.join(created['variants'])}; metrics {metrics}")


@app.command("list")
def list_experiments(ctx: typer.Context, slug: str, as_json: bool = JSON_OPTION) -> None:
    """The experiments of an initiative."""
    found = open_workspace(ctx).initiative(slug).experiments()
    if as_json:
        print_json(found)
        return
    rows = [
        (
            e["name"],
            ", ".join(e["variants"]),
            ", ".join(m["name"] for m in e["metrics"]),
            e["created_at"][:10],
        )
        for e in found
    ]
    console.print(table(None, ("experiment", "variants", "metrics", "created"), rows))


@app.command("analyze")
def analyze(
    ctx: typer.Context,
    slug: str | None = typer.Argument(None, help="The initiative (not with --stats)."),
    name: str | None = typer.Argument(None, help="The experiment (not with --stats)."),
    stats: Path | None = typer.Option(None, "--stats", help="A CSV of sufficient statistics."),
    method: str = typer.Option("frequentist", help="frequentist, bayesian or sequential."),
    cuped: bool = typer.Option(False, "--cuped", help="Adjust with the pre-exposure covariate."),
    alpha: float = typer.Option(0.05, help="1 - the confidence (credible) level."),
    sided: str = typer.Option("two", help="Frequentist: two, greater or less."),
    correction: str = typer.Option("holm", help="Across metrics and arms: holm, bh or none."),
    prior_mean: float | None = typer.Option(
        None, help="Prior mean of the relative effect (default: the workspace's or mlpilot's)."
    ),
    prior_sd: float | None = typer.Option(None, help="Prior sd of the relative effect."),
    tuning: float = typer.Option(5000.0, help="Sequential: units where the bound is tightest."),
    split: str | None = typer.Option(None, help="With --stats: planned shares for the SRM."),
    until: str | None = typer.Option(None, help="Only events and exposures up to this time."),
    save: bool = typer.Option(True, help="Store the analysis with the experiment."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Analyse an experiment's stored events, or a --stats file, and give the verdict."""
    if (prior_mean is None) != (prior_sd is None):
        raise ValidationError("a prior needs both --prior-mean and --prior-sd")
    options: dict[str, Any] = {
        "method": method,
        "cuped": cuped,
        "alpha": alpha,
        "sided": sided,
        "correction": correction,
        "tuning": tuning,
        "prior": None if prior_sd is None else (prior_mean, prior_sd**2),
    }
    if stats is not None:
        if slug is not None or name is not None or until is not None:
            raise ValidationError("give either --stats FILE or SLUG NAME (with --until), not both")
        from mlpilot.monitors.impact import analyze as run
        from mlpilot.monitors.stats_file import read_stats

        variants, arms, metrics = read_stats(stats)
        report = run(arms, variants, split=_shares(split), metrics=metrics, **options)
    elif slug is None or name is None:
        raise ValidationError("name the experiment (SLUG NAME) or give --stats FILE")
    else:
        initiative = open_workspace(ctx).initiative(slug)
        report = initiative.analyze_experiment(name, save=save, until=until, **options)
    if as_json:
        print_json(report)
        return
    _render(report)


def _fmt(value: float | None, percent: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:+.1%}" if percent else f"{value:.3g}"


def _render(report: dict[str, Any]) -> None:
    from mlpilot.monitors.impact_verdict import shown_probability
    from mlpilot.report.labels import probability

    bayes = report["method"] == "bayesian"
    rows = []
    for r in report["results"]:
        low, high = r["effect_rel_ci"]
        effect = f"{_fmt(r['effect_rel'], True)} [{_fmt(low, True)}, {_fmt(high, True)}]"
        if r.get("note"):  # no valid relative interval: the absolute one is what is judged
            low, high = r["effect_abs_ci"]
            effect = f"{_fmt(r['effect_abs'])} [{_fmt(low)}, {_fmt(high)}] (absolute)"
        rows.append(
            (
                r["metric"],
                r["direction"] or "?",
                f"{r['variant']} ({r['n']})",
                f"{_fmt(r['mean'])} vs {_fmt(r['control_mean'])}",
                effect,
                probability(r["chance_to_win"], "-") if bayes else _fmt(r["p_value"]),
                r["flag"] or r["verdict"] or "",
            )
        )
    interval = report["interval"]
    header = ["metric", "better", "variant (n)", "mean vs control", "relative effect [interval]"]
    header += ["chance" if bayes else "p", "verdict"]
    console.print(table(None, header, rows))
    console.print(f"intervals: {interval['level']:.0%} {interval['kind']}")
    if bayes:
        console.print("chance to win: posterior probability that the metric moved the right way")
    for g in report.get("guardrails", []):
        harm = g["probability_harm"]
        shown = "none" if harm is None else shown_probability(harm)
        console.print(f"guardrail {g['metric']} ({g['variant']}): {g['verdict']} — posterior "
                      f"probability of harm {shown}")  # fmt: skip
    srm = "SRM!" if report["srm"] else "ok"
    console.print(f"sample ratio: {srm} (p = {report['srm_p_value']:.3g})")
    stated = report.get("impact_probability")
    if stated is not None:
        value = "none" if stated["value"] is None else shown_probability(stated["value"])
        which = f" ({stated['variant']})" if stated["variant"] else ""
        note = f" — {stated['note']}" if stated["note"] else ""
        console.print(f"posterior probability that the chosen arm{which} meets every impact "
                      f"criterion: {value}{note}")  # fmt: skip
    console.print(f"prior: {report['prior']['text']}")
    if report["verdict"] is not None:
        console.print(f"verdict: [bold]{report['verdict']}[/bold] — {report['reason']}")


@app.command("plan")
def plan(
    baseline_rate: float | None = typer.Option(None, help="The control's conversion rate."),
    baseline_mean: float | None = typer.Option(None, help="A mean metric's control mean."),
    baseline_sd: float | None = typer.Option(None, help="A mean metric's standard deviation."),
    mde: float | None = typer.Option(None, help="Minimum detectable effect (relative)."),
    absolute: bool = typer.Option(False, "--absolute", help="The MDE is absolute."),
    units: float | None = typer.Option(None, help="Reverse: the MDE these total units detect."),
    power: float = typer.Option(0.8, help="The chance to detect the MDE."),
    alpha: float = typer.Option(0.05, help="The false-positive rate."),
    split: str | None = typer.Option(None, help="Shares, control first (default 50,50)."),
    one_sided: bool = typer.Option(False, "--one-sided", help="Test for an increase only."),
    daily_units: float | None = typer.Option(None, help="Units entering per day: duration."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Sample size and duration to detect an effect, or the effect a size can detect."""
    from mlpilot.stats.power import Baseline, minimum_effect, sample_size

    if (baseline_rate is None) == (baseline_mean is None):
        raise ValidationError("give --baseline-rate, or --baseline-mean with --baseline-sd")
    if baseline_mean is not None and baseline_sd is None:
        raise ValidationError("--baseline-mean needs --baseline-sd")
    if (mde is None) == (units is None):
        raise ValidationError("give --mde (for the sample size) or --units (for the MDE)")
    base = (
        Baseline(baseline_rate, None)
        if baseline_rate is not None
        else Baseline(baseline_mean or 0.0, baseline_sd)
    )
    shares = _shares(split) or [1.0, 1.0]
    common: dict[str, Any] = {
        "relative": not absolute,
        "alpha": alpha,
        "power": power,
        "shares": shares,
        "sided": "greater" if one_sided else "two",
    }
    if daily_units is not None and not daily_units > 0:
        raise ValidationError(f"--daily-units must be positive, got {daily_units}")
    result: dict[str, Any] = {"baseline": base.mean, "sd": base.sd, **common}
    if mde is not None:
        total = sample_size(base, mde, **common)
        result |= {
            "mde": mde,
            "total_units": math.ceil(total),
            "units_per_variant": [math.ceil(total * s / sum(shares)) for s in shares],
        }
    else:
        assert units is not None
        result |= {"total_units": units, "mde": minimum_effect(base, units, **common)}
    total_units = result["total_units"]
    result["days"] = None if daily_units is None else math.ceil(total_units / daily_units)
    if as_json:
        print_json(result)
        return
    kind = "relative" if not absolute else "absolute"
    line = f"{total_units:,.0f} units in total detect a {kind} effect of {result['mde']:.4g}"
    line += f" with power {power:g} at alpha {alpha:g}"
    if result["days"] is not None:
        line += f"; about {result['days']} day(s) at {daily_units:g} units a day"
    console.print(line)
