"""Checks and defaults of the tracker's settings."""

from __future__ import annotations

import os
from pathlib import Path

from mlpilot.errors import ValidationError

__all__ = ["check_positive", "default_spool"]


def check_positive(**values: float) -> None:
    """A ValidationError naming the first setting that is not a positive number (NaN included)."""
    for name, value in values.items():
        if not value > 0:
            raise ValidationError(f"{name} must be positive, not {value!r}")


def default_spool(host: str, port: int, initiative: str) -> Path:
    """``$MLPILOT_SPOOL_DIR/INITIATIVE``, else the user's cache folder per server and initiative
    (``~/.cache/mlpilot/spool/HOST_PORT/INITIATIVE``, or under ``$XDG_CACHE_HOME``)."""
    base = os.environ.get("MLPILOT_SPOOL_DIR")
    if base:
        return Path(base) / initiative
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "mlpilot" / "spool" / f"{host}_{port}" / initiative
