"""A ``--stats`` CSV: the sufficient statistics of an experiment, one row per variant and metric,
for :func:`mlpilot.monitors.impact.analyze` without an event store."""

from __future__ import annotations

import csv
import math
from pathlib import Path

from mlpilot.engine.experiments import MetricDef
from mlpilot.errors import ValidationError
from mlpilot.stats.experiments import ArmStats

REQUIRED = ("variant", "metric", "n", "sum", "sum_squares")
DIRECTION = "direction"  # optional --stats column: higher or lower (which way is better)
OPTIONAL = (
    "denominator_sum",
    "denominator_sum_squares",
    "cross_sum",
    "covariate_sum",
    "covariate_sum_squares",
    "covariate_cross_sum",
)


def read_stats(
    path: str | Path,
) -> tuple[list[str], dict[str, dict[str, ArmStats]], list[MetricDef]]:
    """Variants (in order of first appearance: the first is the control), the statistics of a
    ``--stats`` CSV and its metrics with their directions. A ``kind`` column (mean, proportion,
    ratio) is optional: a row with a denominator is a ratio, else a mean. A ``direction``
    column (higher, lower) is optional too; a metric without one gets no chance to win."""
    file = Path(path)
    if not file.is_file():
        raise ValidationError(f"no statistics file {str(file)!r}")
    with file.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise ValidationError(
                f"{file.name} lacks the column(s) {', '.join(missing)}; "
                f"it needs {', '.join(REQUIRED)}"
            )
        variants: list[str] = []
        arms: dict[str, dict[str, ArmStats]] = {}
        directions: dict[str, bool | None] = {}
        for line, row in enumerate(reader, start=2):
            arm = _arm(row, f"{file.name} line {line}")
            variant, metric = row["variant"].strip(), row["metric"].strip()
            if variant not in variants:
                variants.append(variant)
            if variant in arms.setdefault(metric, {}):
                raise ValidationError(f"{file.name} line {line}: {variant}/{metric} is repeated")
            arms[metric][variant] = arm
            direction = _direction(row, f"{file.name} line {line}")
            if directions.setdefault(metric, direction) != direction:
                raise ValidationError(
                    f"{file.name} line {line}: metric {metric} has two directions in the file"
                )
    if not arms:
        raise ValidationError(f"{file.name} has no rows of statistics")
    metrics = [MetricDef(m, higher_is_better=directions.get(m)) for m in arms]
    return variants, arms, metrics


def _direction(row: dict[str, str], where: str) -> bool | None:
    text = (row.get(DIRECTION) or "").strip().lower()
    if text and text not in ("higher", "lower"):
        raise ValidationError(f"{where}: direction {text!r} must be higher or lower")
    return None if not text else text == "higher"


def _number(row: dict[str, str], column: str, where: str) -> float | None:
    text = (row.get(column) or "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValidationError(f"{where}: {column} {text!r} is not a number") from None
    if not math.isfinite(value):
        raise ValidationError(f"{where}: {column} is {text}; every statistic must be finite")
    return value


def _arm(row: dict[str, str], where: str) -> ArmStats:
    values = {c: _number(row, c, where) for c in (*REQUIRED[2:], *OPTIONAL)}
    for c in REQUIRED[2:]:
        if values[c] is None:
            raise ValidationError(f"{where}: {c} is empty")
    n = values.pop("n")
    assert n is not None
    if n < 0 or n != int(n):
        raise ValidationError(f"{where}: n must be a whole number >= 0, got {n:g}")
    kind = (row.get("kind") or "").strip() or (
        "ratio" if values["denominator_sum"] is not None else "mean"
    )
    return ArmStats(n=int(n), kind=kind, **values)  # type: ignore[arg-type]
