"""The catalogue of metric names that success criteria may use.

Model, service and data criteria name a metric from this catalogue; an unknown name is an error.
Impact criteria name the business's own KPI (any snake_case name), since no catalogue can list
every KPI. ``docs/metrics.md`` renders this table.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from mlpilot.errors import ValidationError


class CriterionKind(StrEnum):
    """The four kinds of success criteria."""

    MODEL = "model"
    SERVICE = "service"
    IMPACT = "impact"
    DATA = "data"


@dataclass(frozen=True)
class MetricSpec:
    """One catalogued metric: its kind, meaning, unit and the range its values can take."""

    name: str
    kind: CriterionKind
    description: str
    higher_is_better: bool
    lower: float | None = None
    upper: float | None = None
    unit: str = ""
    tasks: tuple[str, ...] = ()


def _model(
    name: str, description: str, *, higher: bool = True, upper: float | None = 1.0, tasks: str
) -> MetricSpec:
    return MetricSpec(
        name, CriterionKind.MODEL, description, higher, 0.0, upper, "", tuple(tasks.split())
    )


_CLS = "binary multiclass"
CATALOGUE: dict[str, MetricSpec] = {
    spec.name: spec
    for spec in (
        _model("accuracy", "share of predictions that are right", tasks=_CLS),
        _model("balanced_accuracy", "mean recall over the classes", tasks=_CLS),
        _model("precision", "share of predicted positives that are positive", tasks=_CLS),
        _model("recall", "share of positives that are found", tasks=_CLS),
        _model("specificity", "share of negatives predicted negative", tasks="binary"),
        _model("f1", "harmonic mean of precision and recall", tasks=_CLS),
        _model(
            "lift",
            "precision divided by the share of positives, at an operating point",
            upper=None,
            tasks="binary",
        ),
        _model("roc_auc", "area under the ROC curve", tasks=_CLS),
        _model("pr_auc", "area under the precision-recall curve", tasks="binary"),
        _model("log_loss", "cross-entropy of the scores", higher=False, upper=None, tasks=_CLS),
        _model("brier", "mean squared error of the probabilities", higher=False, tasks="binary"),
        _model("mae", "mean absolute error", higher=False, upper=None, tasks="regression"),
        _model("rmse", "root mean squared error", higher=False, upper=None, tasks="regression"),
        _model(
            "mape", "mean absolute percentage error", higher=False, upper=None, tasks="regression"
        ),
        MetricSpec(
            "r2",
            CriterionKind.MODEL,
            "coefficient of determination",
            True,
            None,
            1.0,
            "",
            ("regression",),
        ),
        _model("ndcg", "normalised discounted cumulative gain", tasks="ranking"),
        _model("map", "mean average precision", tasks="ranking"),
        _model("mrr", "mean reciprocal rank", tasks="ranking"),
        MetricSpec("latency_p50", CriterionKind.SERVICE, "median latency", False, 0, None, "ms"),
        MetricSpec(
            "latency_p90", CriterionKind.SERVICE, "90th percentile latency", False, 0, None, "ms"
        ),
        MetricSpec(
            "latency_p95", CriterionKind.SERVICE, "95th percentile latency", False, 0, None, "ms"
        ),
        MetricSpec(
            "latency_p99", CriterionKind.SERVICE, "99th percentile latency", False, 0, None, "ms"
        ),
        MetricSpec("error_rate", CriterionKind.SERVICE, "share of requests that fail", False, 0, 1),
        MetricSpec(
            "availability", CriterionKind.SERVICE, "share of requests that succeed", True, 0, 1
        ),
        MetricSpec(
            "throughput",
            CriterionKind.SERVICE,
            "requests served per second",
            True,
            0,
            None,
            "req/s",
        ),
        MetricSpec("rows", CriterionKind.DATA, "number of usable rows", True, 0, None),
        MetricSpec(
            "history_days", CriterionKind.DATA, "span of the data's history in days", True, 0, None
        ),
        MetricSpec(
            "missing_share",
            CriterionKind.DATA,
            "largest share of missing values in a column",
            False,
            0,
            1,
        ),
        MetricSpec("duplicate_share", CriterionKind.DATA, "share of duplicate rows", False, 0, 1),
        MetricSpec(
            "label_share", CriterionKind.DATA, "share of rows with the minority label", True, 0, 1
        ),
    )
}


# Model metrics whose value depends on where the model runs (a threshold or a capacity); they
# are judged at a declared operating point (docs/metrics.md, "Operating points").
AT_OPERATING_POINT = frozenset(
    ("accuracy", "balanced_accuracy", "precision", "recall", "specificity", "f1", "lift")
)
# ... and those that mean nothing without one.
NEEDS_OPERATING_POINT = frozenset(("lift",))


def metric_spec(name: str) -> MetricSpec:
    """Return the catalogued metric ``name``; a ValidationError listing close names otherwise."""
    key = name.strip().lower()
    spec = CATALOGUE.get(key)
    if spec is None:
        raise ValidationError(
            f"unknown metric {name!r}; see docs/metrics.md for the catalogue "
            f"({', '.join(sorted(CATALOGUE))})"
        )
    return spec


def metrics_of_kind(kind: CriterionKind) -> list[MetricSpec]:
    """The catalogued metrics a criterion of ``kind`` may use, in catalogue order."""
    return [spec for spec in CATALOGUE.values() if spec.kind is kind]
