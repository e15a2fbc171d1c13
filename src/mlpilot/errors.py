"""The one exception hierarchy of mlpilot.

Every error that mlpilot raises on purpose derives from :class:`MlpilotError`, so a caller can
catch them all at once. The CLI prints any of them on one line and exits non-zero. An operation
that raises leaves what is already stored unchanged.

- :class:`ValidationError` — a value is not acceptable (unknown phase, metric, comparator, role;
  a backward move without a reason; an allocation outside 0–1).
- :class:`NotFoundError` — a named thing does not exist (initiative, team member, ally).
- :class:`AlreadyExistsError` — a named thing exists already (duplicate initiative slug).
- :class:`WorkspaceError` — the workspace cannot be used:
  :class:`CorruptWorkspaceError` (not a database, unknown schema, written by a newer mlpilot) and
  :class:`DatabaseUnreachableError` (the metadata database cannot be reached).
"""

from __future__ import annotations

__all__ = [
    "AlreadyExistsError",
    "CorruptWorkspaceError",
    "DatabaseUnreachableError",
    "MlpilotError",
    "NotFoundError",
    "ValidationError",
    "WorkspaceError",
]


class MlpilotError(Exception):
    """Base class of every error mlpilot raises on purpose."""


class ValidationError(MlpilotError, ValueError):
    """A value given to mlpilot is not acceptable; the message names it and what would be."""


class NotFoundError(MlpilotError, LookupError):
    """A named thing (initiative, member, ally) does not exist."""


class AlreadyExistsError(MlpilotError):
    """A named thing that must be unique exists already."""


class WorkspaceError(MlpilotError):
    """The workspace cannot be opened or used."""


class CorruptWorkspaceError(WorkspaceError):
    """The workspace's database is not an mlpilot database, or one this version cannot read."""


class DatabaseUnreachableError(WorkspaceError):
    """The metadata database named by the URL cannot be reached."""
