"""``mlpilot performance``: model quality per time window as the labels arrive."""

from __future__ import annotations

import typer

from mlpilot.cli.common import JSON_OPTION, console, open_workspace, print_json, table
from mlpilot.cli.engines import ENGINE_OPTION, engine, read
from mlpilot.errors import ValidationError


def performance(
    ctx: typer.Context,
    slug: str,
    window: str = typer.Option("1d", help="The window, e.g. 6h, 1d, 1w."),
    model_version: str | None = typer.Option(None, help="Only this model version."),
    threshold: float = typer.Option(0.5, help="Binary: the decision threshold on the score."),
    predictions: str | None = typer.Option(
        None, "--predictions", help="Read the predictions from this .parquet or .csv file."
    ),
    outcomes: str | None = typer.Option(
        None, "--outcomes", help="Read the outcomes from this file (with --predictions)."
    ),
    engine_name: str = ENGINE_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Model metrics per window from stored predictions joined to their outcomes.

    With --predictions FILE --outcomes FILE the data come from the files (judged against
    SLUG's task, criteria and baseline), computed on --engine duckdb or spark.
    """
    stored = open_workspace(ctx).initiative(slug)
    if (predictions is None) != (outcomes is None):
        raise ValidationError("give both --predictions FILE and --outcomes FILE, or neither")
    if predictions is None or outcomes is None:
        if engine_name != "duckdb":
            raise ValidationError("--engine applies to --predictions and --outcomes files")
        report = stored.performance(window=window, threshold=threshold, model_version=model_version)
    else:
        from mlpilot.monitors.performance import evaluate

        charter, criteria = stored.charter, stored.criteria()
        with engine(engine_name) as connection:
            report = evaluate(
                read(connection, predictions), read(connection, outcomes),
                charter=charter, criteria=criteria, window=window, threshold=threshold,
                model_version=model_version,
            )  # fmt: skip
    if as_json:
        print_json(report)
        return
    shown = {
        "binary": ("roc_auc", "pr_auc", "recall"),
        "multiclass": ("accuracy", "macro_f1"),
        "regression": ("mae", "rmse", "r2"),
    }.get(report["task"], ())
    rows = []
    for w in report["windows"]:
        metrics, delay = w["metrics"], w["label_delay_hours"]
        rows.append(
            (
                w["start"][:10] if window.endswith(("d", "w")) else w["start"][:16],
                w["n"],
                f"{w['label_coverage']:.0%}",
                "-" if delay is None else f"{delay / 24:.1f}d",
                *("-" if metrics.get(m) is None else f"{metrics[m]:.3f}" for m in shown),
                ", ".join(b.get("measure", b["metric"]) for b in w["breaches"]) or "-",
            )
        )
    header = ("window", "n", "labels", "delay", *shown, "fails")
    console.print(table(None, header, rows))
    for block in report.get("capacity", []):  # each capacity's own periods: the top k of each
        periods = [
            (p["start"][:10], p["selected"], p["selected_labeled"],
             *("-" if p[k] is None else f"{p[k]:.3f}"
               for k in ("precision_at_k", "recall_at_k", "lift_at_k")))
            for p in block["periods"]
        ]  # fmt: skip
        head = ("period", "selected", "labeled", "precision@k", "recall@k", "lift@k")
        console.print(table(block["point"], head, periods))
