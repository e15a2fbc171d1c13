"""``mlpilot drift``: compare current data with a reference, column by column."""

from __future__ import annotations

import typer

from mlpilot.cli.common import JSON_OPTION, console, print_json, table


def drift(
    reference: str = typer.Argument(..., help="Reference data: a .parquet or .csv file."),
    current: str = typer.Argument(..., help="Current data: a .parquet or .csv file."),
    columns: str | None = typer.Option(
        None, help="Comma-separated columns to compare; default every shared column."
    ),
    method: str | None = typer.Option(
        None, help="ks, chi2, psi, js, wasserstein or hellinger; default per column."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Drift of CURRENT against REFERENCE per column, and for the dataset."""
    from mlpilot.engine.connection import duckdb
    from mlpilot.engine.connection import table as read
    from mlpilot.monitors.drift import check_method, compare

    check_method(method)
    names = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
    connection = duckdb()
    report = compare(
        read(reference, connection), read(current, connection), columns=names, method=method
    )
    if as_json:
        print_json(report.to_dict())
        return
    rows = (
        (c.name, c.type, c.method, "-" if c.statistic is None else f"{c.statistic:.4g}",
         "-" if c.p_value is None else f"{c.p_value:.3g}", f"{c.threshold:g}",
         "[red]drift[/red]" if c.drifted else "ok")
        for c in report.columns
    )  # fmt: skip
    header = ("column", "type", "method", "statistic", "p-value", "threshold", "")
    console.print(table(None, header, rows))
    verdict = "[red]dataset drift[/red]" if report.dataset_drift else "no dataset drift"
    console.print(f"{report.share_drifted:.0%} of columns drifted: {verdict}")
