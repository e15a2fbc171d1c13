"""mlpilot: run machine-learning initiatives that succeed.

``import mlpilot`` gives the public API — the :class:`Workspace` facade, the record types of the
initiative model and the errors — and loads no web framework, plotting, Spark or scikit-learn.
"""

from mlpilot.client import connect
from mlpilot.domain.charter import Baseline, Charter, Shape, Status, Task
from mlpilot.domain.criteria import Comparator, Constraint, Criterion, EffectScale
from mlpilot.domain.decisions import Decision, Learning, Verdict
from mlpilot.domain.lifecycle import Cause, Phase, Transition
from mlpilot.domain.metrics import CATALOGUE, CriterionKind, MetricSpec
from mlpilot.domain.network import Ally, Consultation, Match, Relation
from mlpilot.domain.team import Coverage, Member, Role
from mlpilot.errors import (
    AlreadyExistsError,
    CorruptWorkspaceError,
    DatabaseUnreachableError,
    MlpilotError,
    NotFoundError,
    ValidationError,
    WorkspaceError,
)
from mlpilot.report.status import StatusReport
from mlpilot.sdk import Tracker
from mlpilot.store.events import ImportResult, ReferenceInfo
from mlpilot.workspace import Initiative, Workspace

__version__ = "0.1.0"

__all__ = [
    "CATALOGUE",
    "Ally",
    "AlreadyExistsError",
    "Baseline",
    "Cause",
    "Charter",
    "Comparator",
    "Constraint",
    "Consultation",
    "CorruptWorkspaceError",
    "Coverage",
    "Criterion",
    "CriterionKind",
    "DatabaseUnreachableError",
    "Decision",
    "EffectScale",
    "ImportResult",
    "Initiative",
    "Learning",
    "Match",
    "Member",
    "MetricSpec",
    "MlpilotError",
    "NotFoundError",
    "Phase",
    "ReferenceInfo",
    "Relation",
    "Role",
    "Shape",
    "Status",
    "StatusReport",
    "Task",
    "Tracker",
    "Transition",
    "ValidationError",
    "Verdict",
    "Workspace",
    "WorkspaceError",
    "__version__",
    "connect",
]
