"""Where evaluation rows come from: a CSV or Parquet file, a data frame, a scikit-learn model,
or an MLflow run (only when mlflow is installed; mlpilot does not depend on it)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mlpilot.domain.charter import Task
from mlpilot.domain.metrics import CATALOGUE, CriterionKind
from mlpilot.errors import NotFoundError, ValidationError

__all__ = ["columns", "mlflow_metrics", "sklearn_predictions"]


def _table(source: str | Path) -> Any:
    path = Path(source)
    if not path.exists():
        raise NotFoundError(f"no predictions file {path}")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            return pq.read_table(path)
        if suffix in (".csv", ".txt"):
            import pyarrow.csv as pcsv

            return pcsv.read_csv(path)
    except Exception as exc:  # pyarrow's errors name the problem; keep them on one line
        raise ValidationError(f"cannot read {path}: {str(exc).splitlines()[0]}") from None
    raise ValidationError(f"unknown file type {suffix!r} for {path}; use .csv or .parquet")


def columns(source: Any, label: str, prediction: str) -> tuple[NDArray[Any], NDArray[Any]]:
    """The label and prediction columns of a file path, a pandas / polars / Arrow frame, or a
    mapping of column names to arrays."""
    table = _table(source) if isinstance(source, str | Path) else source
    if isinstance(table, Mapping):
        names = list(table)
    else:
        names = list(getattr(table, "column_names", None) or getattr(table, "columns", []))
    out = []
    for column in (label, prediction):
        if column not in names:
            raise ValidationError(
                f"no column {column!r} in the predictions; columns: {', '.join(map(str, names))}"
            )
        values = table[column]
        values = values.to_numpy() if hasattr(values, "to_numpy") else np.asarray(values)
        out.append(np.asarray(values))
    if any(v.dtype == object and any(x is None for x in v) for v in out):
        raise ValidationError(f"columns {label!r} and {prediction!r} must have no missing values")
    return out[0], out[1]


def sklearn_predictions(estimator: Any, x: Any, task: Task) -> NDArray[Any]:
    """What a fitted scikit-learn estimator predicts on ``x``: the score of class 1 for a binary
    task (``predict_proba``, else ``decision_function``), the class or value otherwise."""
    try:
        if task is Task.BINARY:
            if hasattr(estimator, "predict_proba"):
                return np.asarray(estimator.predict_proba(x))[:, 1]
            return np.asarray(estimator.decision_function(x))
        return np.asarray(estimator.predict(x))
    except Exception as exc:  # NotFittedError, shape mismatches: name them on one line
        raise ValidationError(
            f"the estimator cannot predict: {type(exc).__name__}: {str(exc).splitlines()[0]}"
        ) from None


def mlflow_metrics(run_id: str) -> dict[str, float]:
    """The catalogued model metrics logged in an MLflow run."""
    try:
        import mlflow  # type: ignore[import-not-found]
    except ImportError:
        raise ValidationError(
            "importing an evaluation from MLflow needs the mlflow package, which is not "
            "installed; install it (pip install mlflow) or give the metric values instead"
        ) from None
    run = mlflow.get_run(run_id)
    metrics = {
        k: float(v)
        for k, v in run.data.metrics.items()
        if k in CATALOGUE and CATALOGUE[k].kind is CriterionKind.MODEL
    }
    if not metrics:
        raise ValidationError(f"MLflow run {run_id} logged no catalogued model metric")
    return metrics
