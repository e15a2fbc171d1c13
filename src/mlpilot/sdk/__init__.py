"""The production tracker: ``from mlpilot import Tracker`` (standard library only)."""

from mlpilot.sdk.tracker import Tracker

__all__ = ["Tracker"]
