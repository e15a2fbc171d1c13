"""``mlpilot drift``: compare data with a reference, column by column."""

from __future__ import annotations

from typing import Any

import typer

from mlpilot.cli.common import JSON_OPTION, console, open_workspace, print_json, table
from mlpilot.cli.engines import ENGINE_OPTION, engine, read
from mlpilot.errors import ValidationError


def drift(
    ctx: typer.Context,
    reference: str = typer.Argument(
        ..., help="Reference: a .parquet or .csv file, or with --initiative a stored name."
    ),
    current: str | None = typer.Argument(
        None, help="Current data: a .parquet or .csv file (not with --initiative)."
    ),
    initiative: str | None = typer.Option(
        None, help="Compare the initiative's stored predictions, window by window."
    ),
    window: str = typer.Option("1d", help="With --initiative: the window, e.g. 6h, 1d, 1w."),
    columns: str | None = typer.Option(
        None, help="Comma-separated columns to compare; default every shared column."
    ),
    method: str | None = typer.Option(
        None,
        help="chi2 (the default), ks, or the distance to show as the statistic: psi, js, "
        "hellinger or wasserstein (the chi-square test still decides).",
    ),
    engine_name: str = ENGINE_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Drift of CURRENT against REFERENCE per column, and for the dataset.

    Each column is tested (chi-square test of homogeneity on the reference's bins; ks: the
    Kolmogorov-Smirnov test); it drifts when its Benjamini-Hochberg adjusted p-value is below
    0.05, and the dataset when half the tested columns drift: at most 5 % false alarms when
    nothing changed. Distances are shown beside, as effect sizes.

    With --initiative SLUG, REFERENCE names a stored reference (see 'mlpilot reference') and
    each window of the stored predictions is compared with it. --engine spark computes on
    Spark (files only; an initiative's data is read where its sources say).
    """
    from mlpilot.monitors.drift import check_method, compare

    check_method(method)
    names = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
    if initiative is not None:
        if engine_name != "duckdb":
            raise ValidationError(
                "--engine applies to files; an initiative's data is read where its sources "
                "live (see 'mlpilot source add')"
            )
        if current is not None:
            raise ValidationError("give either --initiative with a reference name, or two files")
        stored = open_workspace(ctx).initiative(initiative)
        result = stored.drift(reference, window=window, method=method, columns=names)
        if as_json:
            print_json(result)
            return
        _print_windows(result["windows"])
        return
    if current is None:
        raise ValidationError("give the CURRENT data file (or --initiative SLUG)")
    with engine(engine_name) as connection:
        report = compare(
            read(connection, reference), read(connection, current), columns=names, method=method
        )
    if as_json:
        print_json(report.to_dict())
        return
    rows = (
        (c.name, c.type, _statistic(c.method, c.statistic), _p(c.p_value),
         _p(c.adjusted_p_value), _js(c.effect_size), _verdict(c.drifted, c.p_value))
        for c in report.columns
    )  # fmt: skip
    header = ("column", "type", "statistic", "p-value", "adjusted p", "JS", "")
    console.print(table(None, header, rows))
    verdict = "[red]dataset drift[/red]" if report.dataset_drift else "no dataset drift"
    console.print(f"{report.share_drifted:.0%} of the tested columns drifted: {verdict}")
    console.print("drift: Benjamini-Hochberg adjusted p < 0.05 (false-alarm rate at most 5 %)")


def _statistic(method: str, value: float | None) -> str:
    return f"{method} -" if value is None else f"{method} {value:.4g}"


def _p(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


def _js(sizes: dict[str, float] | None) -> str:
    return "-" if sizes is None else f"{sizes['js']:.3f}"


def _verdict(drifted: bool, p_value: float | None) -> str:
    if p_value is None:
        return "untested"
    return "[red]drift[/red]" if drifted else "ok"


def _print_windows(windows: list[dict[str, Any]]) -> None:
    rows = (
        (w["start"][:16].replace("T", " "), f"{w['share_drifted']:.0%}",
         "[red]yes[/red]" if w["dataset_drift"] else "no",
         ", ".join(c["name"] for c in w["columns"] if c["drifted"]) or "-")
        for w in windows
    )  # fmt: skip
    console.print(table(None, ("window", "drifted", "dataset drift", "columns"), rows))
