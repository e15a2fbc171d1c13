"""``mlpilot data …``: check the data before modeling — quality, volume, history."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

from mlpilot.cli.common import JSON_OPTION, console, open_workspace, print_json, table
from mlpilot.cli.engines import ENGINE_OPTION, engine, read, refused
from mlpilot.errors import ValidationError

app = typer.Typer(help="Data readiness: quality, volume and history.", no_args_is_help=True)


@app.command("check")
def check(
    ctx: typer.Context,
    source: str = typer.Argument(..., metavar="FILE_OR_TABLE", help="A .parquet or .csv file."),
    time_column: str | None = typer.Option(
        None, "--time-column", help="The column that says when each row happened."
    ),
    target: str | None = typer.Option(None, "--target", help="The label to predict."),
    initiative: str | None = typer.Option(
        None, "--initiative", help="Judge against this initiative's data criteria."
    ),
    reference: Path | None = typer.Option(
        None, "--reference", help="A .parquet or .csv file the data should resemble."
    ),
    period: str | None = typer.Option(
        None, "--period", help="day, week or month (default: from the span of the history)."
    ),
    engine_name: str = ENGINE_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Report rows, history, missing values, duplicates, type problems and target balance.

    Exits 0 even when checks fail (it is a report); non-zero only for bad input. --engine
    spark computes on Spark.
    """
    from mlpilot.monitors.readiness import check_data

    criteria = open_workspace(ctx).initiative(initiative).criteria() if initiative else []
    files = source if reference is None else f"{source} or {reference}"
    try:
        with engine(engine_name) as connection:
            data = read(connection, source)
            ref = None if reference is None else read(connection, str(reference))
            report = check_data(
                data,
                time_column=time_column,
                target=target,
                reference=ref,
                criteria=criteria,
                period=period,
            )
    except ValidationError as exc:
        if not refused(exc):
            raise
        # an unreadable file or a value the engine cannot convert
        raise ValidationError(f"cannot read {files}: {exc}") from exc
    report = {"source": source, "initiative": initiative, **report}
    if as_json:
        print_json(report)
        return
    render(report)


def _number(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.4g}"
    return f"{value:,.0f}"


def _observed(name: str, value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.2%}" if name.endswith("_share") else _number(value)


def render(report: dict[str, Any]) -> None:
    """A few lines of figures, the checks as a table, plans of failed checks, warnings, verdict.

    Free text (paths, column names, plans) is escaped so that rich prints it as written.
    """
    lines = [
        f"[bold]{escape(report['source'])}[/bold]: {report['rows']:,} rows × "
        f"{report['columns']} columns, {report['duplicates']:,} duplicate rows"
    ]
    history = report["history"]
    if history is not None:
        span = "no times"
        if history["first"] is not None:
            span = f"{history['first']} → {history['last']} ({history['span_days']:.1f} days)"
        gaps = ""
        if history["gaps"] is not None:
            gaps = f", {history['gaps']} empty (longest gap {history['longest_gap_days']} days)"
        periods = f"{len(history['rows_per_period'])} {history['period']}s with rows"
        lines.append(f"history {escape(history['column'])}: {span}; {periods}{gaps}")
    target = report["target"]
    if target is not None:
        shares = ", ".join(f"{c['value']} {c['share']:.1%}" for c in target["counts"])
        text = f"{target['classes']} classes" + (f" ({shares})" if shares else "")
        if target["mean"] is not None:
            text += f"; mean {target['mean']:.4g}, std {_number(target['std'])}"
        lines.append(f"target {escape(target['column'])}: {escape(text)}")
    for line in lines:
        console.print(line, soft_wrap=True)
    rows = (
        (
            c["name"],
            _observed(c["name"], c["observed"]),
            f"{c['op']} {c['threshold']:g}",
            "default" if c["criterion"] is None else f"criterion #{c['criterion_id']}",
            "[green]pass[/green]" if c["passed"] else "[red]FAIL[/red]",
            None if c["detail"] is None else escape(c["detail"]),
        )
        for c in report["checks"]
    )
    checks = table(None, ("check", "observed", "target", "from", "result", "note"), rows)
    for column in checks.columns[:5]:
        column.no_wrap = True  # the note wraps; names and numbers stay whole
    console.print(checks)
    for c in report["checks"]:
        if not c["passed"] and c["plan"]:
            console.print(f"[red]✗[/red] {c['rule']}: plan: {escape(c['plan'])}", soft_wrap=True)
    for warning in report["warnings"]:
        console.print(f"[yellow]![/yellow] {escape(warning)}", soft_wrap=True)
    passed = sum(c["passed"] for c in report["checks"])
    verdict = "[green]ready[/green]" if report["ready"] else "[red]not ready[/red]"
    console.print(f"{verdict} ({passed}/{len(report['checks'])} checks pass)")
