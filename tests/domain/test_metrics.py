"""The metric catalogue and lookups in it."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlpilot.domain.charter import Task
from mlpilot.domain.metrics import CATALOGUE, CriterionKind, metric_spec, metrics_of_kind
from mlpilot.errors import ValidationError


def test_catalogue_is_keyed_by_name():
    assert all(name == spec.name for name, spec in CATALOGUE.items())


@pytest.mark.parametrize("spec", CATALOGUE.values(), ids=lambda spec: spec.name)
def test_every_metric_is_well_formed(spec):
    assert spec.name == spec.name.strip().lower()
    assert spec.description
    assert spec.kind is not CriterionKind.IMPACT
    if spec.lower is not None and spec.upper is not None:
        assert spec.lower < spec.upper
    if spec.kind is CriterionKind.MODEL:
        assert spec.tasks, "a model metric names the tasks it applies to"
        assert set(spec.tasks) <= {task.value for task in Task}
    else:
        assert spec.tasks == ()


@pytest.mark.parametrize(
    ("name", "higher", "lower", "upper"),
    [
        ("recall", True, 0.0, 1.0),
        ("log_loss", False, 0.0, None),
        ("r2", True, None, 1.0),
        ("error_rate", False, 0, 1),
        ("throughput", True, 0, None),
        ("missing_share", False, 0, 1),
    ],
)
def test_direction_and_range_of_some_metrics(name, higher, lower, upper):
    spec = CATALOGUE[name]
    assert (spec.higher_is_better, spec.lower, spec.upper) == (higher, lower, upper)


@pytest.mark.parametrize("spelling", ["recall", "RECALL", "  Recall  "])
def test_metric_spec_ignores_case_and_blanks(spelling):
    assert metric_spec(spelling) is CATALOGUE["recall"]


def test_unknown_metric_names_it_and_lists_the_catalogue():
    with pytest.raises(ValidationError, match="unknown metric 'auc'") as info:
        metric_spec("auc")
    assert all(name in str(info.value) for name in CATALOGUE)


def test_metrics_of_kind_partitions_the_catalogue():
    by_kind = {kind: metrics_of_kind(kind) for kind in CriterionKind}
    assert by_kind[CriterionKind.IMPACT] == []
    assert sum(len(specs) for specs in by_kind.values()) == len(CATALOGUE)
    for kind, specs in by_kind.items():
        assert all(spec.kind is kind for spec in specs)


def test_metrics_of_kind_keeps_catalogue_order():
    names = [spec.name for spec in metrics_of_kind(CriterionKind.SERVICE)]
    assert names == [
        "latency_p50",
        "latency_p90",
        "latency_p95",
        "latency_p99",
        "error_rate",
        "availability",
        "throughput",
    ]
    assert [spec.name for spec in metrics_of_kind(CriterionKind.DATA)] == [
        "rows",
        "history_days",
        "missing_share",
        "duplicate_share",
        "label_share",
    ]


DOCS = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"


def documented_rows() -> dict[str, list[str]]:
    rows = {}
    for line in DOCS.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("| `") and len(cells) == 6:
            rows[cells[0].strip("`")] = cells
    return rows


def test_docs_list_exactly_the_catalogue():
    assert set(documented_rows()) == set(CATALOGUE)


@pytest.mark.parametrize("spec", CATALOGUE.values(), ids=lambda spec: spec.name)
def test_docs_row_matches_the_catalogue(spec):
    _, description, better, _, unit, tasks = documented_rows()[spec.name]
    assert description == spec.description
    assert better == ("higher" if spec.higher_is_better else "lower")
    assert unit == spec.unit
    assert tasks == (", ".join(spec.tasks) if spec.tasks else "any")
