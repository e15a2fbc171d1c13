"""Shared test data and small helpers for the store tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine

import mlpilot
from mlpilot.store.database import resolve

# Every charter field set, so a round trip shows each column is stored and read back.
FULL_CHARTER: dict[str, Any] = {
    "name": "Churn prediction",
    "problem": "Customers leave without warning",
    "problem_owner": "Head of retention",
    "prediction_use": "Retention offers to the customers most likely to leave",
    "used_by": "Retention team",
    "used_when": "Weekly campaign planning",
    "task": "binary",
    "shape": "online-api",
    "baseline": "Last month's cancellations as the churn list",
    "baseline_value": 0.62,
    "baseline_metric": "recall",
}

# Only the required fields.
MINIMAL_CHARTER: dict[str, Any] = {
    "name": "Demand forecast",
    "problem": "Stock runs out",
    "prediction_use": "Order quantities",
    "task": "regression",
    "shape": "batch",
    "baseline": "Same week last year",
}


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An aware UTC datetime, e.g. ``utc(2024, 1, 2, 3)``."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def is_utc(moment: datetime) -> bool:
    """True for an aware datetime at offset zero."""
    return moment.tzinfo is not None and moment.utcoffset() == timedelta(0)


def is_postgres(location: str | Path) -> bool:
    """Whether a workspace location (as given by the ``workspace_location`` fixture) is a URL."""
    return str(location).startswith("postgresql")


def raw_engine(location: str | Path) -> Engine:
    """A plain SQLAlchemy engine on a workspace's database, bypassing mlpilot (folder created)."""
    resolved = resolve(location)
    if resolved.is_sqlite:
        resolved.home.mkdir(parents=True, exist_ok=True)
    return create_engine(resolved.url)


def reopen(location: str | Path) -> mlpilot.Workspace:
    """A second, independent workspace object on the same location (fresh connections)."""
    return mlpilot.Workspace.open(location, create=False)
