"""A workspace where every kind of labelled number appears: the dashboard tests' workspace
(tests/server/pages_data.py: churn with monitoring and an analysed experiment, xss with a belief
recorded by hand, quiet with nothing) plus offline evaluations of churn at four training sizes
(feasibility, a regular learning curve, the model uncertainty) and a criterion on the charter's
baseline metric (the margin over the baseline). Built once per session; copy it to change it."""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from mlpilot.workspace import Workspace
from tests.server import pages_data

__all__ = ["labelled"]

# (training rows, true ROC AUC at that size): a curve that flattens, as the demo's
SIZES = ((5_000, 0.74), (10_000, 0.79), (20_000, 0.83), (40_000, 0.86))
ROWS = 3_000

_BUILT: dict[str, tuple[Path, datetime]] = {}


def labelled(factory: pytest.TempPathFactory) -> tuple[Path, datetime]:
    """The workspace's home and the "now" it was built for."""
    if "home" not in _BUILT:
        home, now = pages_data.template(factory)
        home = pages_data.copy_of(home, factory.mktemp("labelled") / "ws")
        rng = np.random.default_rng(11)
        with Workspace.open(home, create=False) as ws:
            churn = ws.initiative("churn")
            churn.add_criterion("model", "recall", ">=", 0.5, threshold=0.5)  # baseline: recall
            for size, auc in SIZES:
                y = (rng.random(ROWS) < 0.2).astype(int)
                separation = math.sqrt(2) * float(stats.norm.ppf(auc))  # binormal AUC
                score = 1 / (1 + np.exp(-(rng.normal(separation * y, 1.0) - 1.5)))
                churn.evaluate({"y": y, "p": score}, train_size=size, name=f"gbm-{size}")
        _BUILT["home"] = (home, now)
    return _BUILT["home"]
