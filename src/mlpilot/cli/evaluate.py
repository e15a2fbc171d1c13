"""``mlpilot evaluate``: record an offline evaluation, show the feasibility of the model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from mlpilot.cli.common import JSON_OPTION, console, done, open_workspace, print_json, table
from mlpilot.errors import ValidationError
from mlpilot.report.labels import first, interval_label, interval_short, kind_label, probability


def _values(items: list[str]) -> dict[str, float]:
    values = {}
    for item in items:
        name, sep, text = item.partition("=")
        try:
            values[name.strip()] = float(text)
        except ValueError:
            sep = ""
        if not sep:
            raise ValidationError(f"invalid --metric {item!r}; write NAME=VALUE, e.g. recall=0.72")
    return values


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


def evaluate(
    ctx: typer.Context,
    slug: str,
    predictions: Path | None = typer.Option(
        None, "--predictions", help="CSV or Parquet file of labels and scores."
    ),
    label_column: str = typer.Option("y", "--label-column", help="The column with the true label."),
    score_column: str = typer.Option(
        "p",
        "--score-column",
        help="The score of class 1 (binary), else the predicted class or value.",
    ),
    metric: list[str] = typer.Option(
        [], "--metric", help="A measured value NAME=VALUE (repeatable); needs --n."
    ),
    n: int | None = typer.Option(None, "--n", help="Rows the --metric values were measured on."),
    positives: int | None = typer.Option(
        None, "--positives", help="Of them, how many were positive."
    ),
    mlflow_run: str | None = typer.Option(
        None, "--mlflow-run", help="Import the metrics of an MLflow run (needs mlflow); needs --n."
    ),
    train_size: int | None = typer.Option(
        None, "--train-size", help="Rows the model was trained on (for the learning curve)."
    ),
    name: str | None = typer.Option(None, "--name", help="A name for the evaluation, e.g. gbm-v2."),
    threshold: float = typer.Option(
        0.5, "--threshold", help="Binary: the decision threshold on the score."
    ),
    time_column: str | None = typer.Option(
        None,
        "--time-column",
        help="Binary, capacity criteria (--top K --per PERIOD): the column with each row's time; "
        "the top K scores of each period are the predicted positives.",
    ),
    per_period: int | None = typer.Option(
        None,
        "--per-period",
        help="Binary, capacity criteria, no time column: the population scored each period; the "
        "top K·n/N rows are the predicted positives (the rows a random sample of one period).",
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the bootstrap."),
    stratified: bool = typer.Option(
        False,
        "--stratified",
        help="A case-control sample (class counts fixed by design): resample within each class. "
        "Not for a random sample, whose class counts vary.",
    ),
    planned_size: float | None = typer.Option(
        None,
        "--planned-size",
        help="Training size to extrapolate to (default: the 'rows' data criterion).",
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Record an evaluation of SLUG's model (or, with no input, show the feasibility so far)."""
    initiative = open_workspace(ctx).initiative(slug)
    recorded = None
    common: dict[str, Any] = {"train_size": train_size, "name": name}
    if mlflow_run is not None:
        if n is None:
            raise ValidationError("--mlflow-run needs --n, the rows the run was evaluated on")
        recorded = initiative.evaluate_mlflow(mlflow_run, n=n, positives=positives, **common)
    elif predictions is not None or metric:
        recorded = initiative.evaluate(
            predictions, label_column=label_column, score_column=score_column,
            metrics=_values(metric) if metric else None, n=n, positives=positives,
            threshold=threshold, seed=seed, stratified=stratified, time_column=time_column,
            per_period=per_period, **common,
        )  # fmt: skip
    report = initiative.feasibility(planned_size=planned_size)
    if as_json:
        print_json({"recorded": None if recorded is None else recorded.name, **report})
        return
    if recorded is not None:
        done(f"{slug}: evaluation {recorded.name!r} recorded ({recorded.n} rows)")
    render(report)


def _probability(row: dict[str, Any]) -> str:
    if row["probability_met"] is None:
        thin = (row.get("note") or "").startswith("insufficient")
        return "insufficient evidence" if thin else "-"
    return probability(row["probability_met"])


def render(report: dict[str, Any]) -> None:
    """The feasibility table and the overall probability, each labelled as the report
    labels it (``interval_kind``, ``level``, ``probability_kind``)."""
    criteria = report["criteria"]
    interval = (first(criteria, "interval_kind"), first(criteria, "level"))
    curves = [
        row["learning_curve"] for row in criteria if (row["learning_curve"] or {}).get("regular")
    ]
    curve = (first(curves, "interval_kind"), first(curves, "level"))
    kind = kind_label(report.get("probability_kind"))
    rows = []
    for row in report["criteria"]:
        base = row["baseline"]
        fit = row["learning_curve"]
        if fit is None:
            at_size = "-"
        elif fit["regular"]:
            at_size = (
                f"{_num(fit['estimate'])} [{_num(fit['low'])}, {_num(fit['high'])}] "
                f"at {fit['planned_size']:g}"
            )
        else:
            at_size = f"refused: {fit['reason']}"
        rows.append(
            (
                row["criterion"],
                row["evaluation"],
                f"{_num(row['estimate'])} [{_num(row['low'])}, {_num(row['high'])}]",
                _probability(row),
                "-" if base is None else f"{base['margin']:+.3g} vs {base['value']:g}",
                at_size,
            )
        )
    console.print(
        table(
            None,
            (
                "criterion",
                "evaluation",
                f"estimate [{interval_short(*interval)}]",
                "P(met)",
                "vs baseline",
                f"learning curve [{interval_short(*curve)}]" if curves else "learning curve",
            ),
            rows,
        )
    )
    legend = (
        f"[{interval_short(*interval)}]: {interval_label(*interval)}; P(met): {kind} that the "
        "criterion is met, under the prior each criterion states (--json: prior, method)"
    )
    if curves:
        legend += (
            f"; learning curve [{interval_short(*curve)}]: {interval_label(*curve)} of the fit"
        )
    console.print(legend)
    for row in report["criteria"]:
        if row.get("note"):
            console.print(f"{row['criterion']}: {row['note']}")
    if not report["criteria"]:
        console.print(
            "no model criteria declared; add one with 'mlpilot criteria add SLUG --kind model …'"
        )
        return
    overall = report["probability_all_met"]
    if overall is None:
        console.print(f"{kind} that every model criterion is met: unknown — "
                      f"{report.get('note') or 'insufficient evidence'}")  # fmt: skip
    else:
        console.print(
            f"{kind} that every model criterion is met: {probability(overall)} ({report['method']})"
        )
