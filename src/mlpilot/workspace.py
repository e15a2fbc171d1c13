"""The public Python API: a :class:`Workspace` and its :class:`Initiative` handles.

Every CLI command is a thin call into these methods.

>>> import tempfile
>>> ws = Workspace.open(tempfile.mkdtemp())
>>> churn = ws.create_initiative(
...     "churn", name="Churn", problem="Customers leave", prediction_use="Retention offers",
...     task="binary", shape="batch", baseline="Last month's cancellations")
>>> churn.move_to("data-understanding").to_phase.value
'data-understanding'
>>> ws.close()
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from mlpilot.domain import lifecycle
from mlpilot.domain.alerts import Alert
from mlpilot.domain.charter import Charter, Status, make_charter
from mlpilot.domain.criteria import Comparator, Criterion, make_criterion, parse_constraint
from mlpilot.domain.decisions import Decision, Learning, Verdict
from mlpilot.domain.lifecycle import Cause, Phase, Transition
from mlpilot.domain.network import Ally, Consultation, Match, make_ally, rank_allies
from mlpilot.domain.parsing import (
    normalize_tags,
    optional_text,
    parse_choice,
    parse_time,
    require_text,
)
from mlpilot.domain.team import Coverage, Member, Role, coverage, make_member
from mlpilot.errors import NotFoundError, ValidationError
from mlpilot.report.status import StatusReport
from mlpilot.store.alerts import AlertStore
from mlpilot.store.database import Location, connect, resolve
from mlpilot.store.evaluations import Evaluation, EvaluationStore, UncertaintyRecord
from mlpilot.store.events import EventStore, ImportResult, ReferenceInfo
from mlpilot.store.metadata import MetadataStore

if TYPE_CHECKING:
    from mlpilot.forecast.delivery import DeliveryForecast
    from mlpilot.monitors.notify import Notifier
    from mlpilot.monitors.service_slo import ServiceCondition

Time = str | datetime | None


def _now() -> datetime:
    return datetime.now(UTC)


class Workspace:
    """Where an organisation's initiatives, team network and (later) monitoring data are kept."""

    def __init__(self, location: Location, store: MetadataStore) -> None:
        self.location = location
        self.store = store

    @classmethod
    def open(cls, location: str | Path | None = None, *, create: bool = True) -> Workspace:
        """Open (and by default create) the workspace at a folder or database URL.

        With no argument: ``MLPILOT_DB`` (a SQLAlchemy URL), else the folder ``MLPILOT_HOME``,
        else ``./.mlpilot``. The schema is migrated to the newest version on open.
        """
        resolved = resolve(location)
        return cls(resolved, MetadataStore(connect(resolved, create=create)))

    def close(self) -> None:
        """Release the database connections."""
        self.store.engine.dispose()

    @cached_property
    def alerts(self) -> AlertStore:
        """The alerts of every initiative, kept with the metadata."""
        return AlertStore(self.store)

    @cached_property
    def events(self) -> EventStore:
        """The monitoring data (DuckDB ``events.duckdb`` in the workspace folder, whatever holds
        the metadata); it opens the file only for the duration of each call."""
        return EventStore(self.location.events_path)

    def __enter__(self) -> Workspace:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # Initiatives -----------------------------------------------------------------------------

    def create_initiative(
        self,
        slug: str,
        *,
        name: str,
        problem: str,
        prediction_use: str,
        task: str,
        shape: str,
        baseline: str,
        baseline_value: float | None = None,
        baseline_metric: str | None = None,
        problem_owner: str | None = None,
        used_by: str | None = None,
        used_when: str | None = None,
        started: Time = None,
        who: str | None = None,
    ) -> Initiative:
        """Record a new initiative; its lifecycle starts (business understanding) at ``started``."""
        now = _now()
        charter = make_charter(
            slug=slug,
            name=name,
            problem=problem,
            prediction_use=prediction_use,
            task=task,
            shape=shape,
            baseline=baseline,
            baseline_value=baseline_value,
            baseline_metric=baseline_metric,
            problem_owner=problem_owner,
            used_by=used_by,
            used_when=used_when,
            created_at=now,
        )
        first = lifecycle.start(parse_time(started, now, "start time"), optional_text(who))
        self.store.create_initiative(charter, first)
        return Initiative(self, charter.slug)

    def initiative(self, slug: str) -> Initiative:
        """The handle of an existing initiative."""
        self.store.charter(slug)
        return Initiative(self, slug)

    def initiatives(self) -> list[Charter]:
        """Every initiative's charter, by slug."""
        return self.store.charters()

    # Network ---------------------------------------------------------------------------------

    def add_ally(
        self, person: str, *, relation: str, expertise: Sequence[str], team: str | None = None
    ) -> bool:
        """Add an ally to the network (or update one); True when the ally is new."""
        return self.store.put_ally(make_ally(person, relation, list(expertise), team))

    def allies(self) -> list[Ally]:
        """Every ally, by name."""
        return self.store.allies()

    def who_can_help(self, need: str, limit: int = 5) -> list[Match]:
        """Allies ranked by how well their expertise fits ``need``."""
        if limit < 1:
            raise ValidationError(f"limit must be at least 1, got {limit}")
        return rank_allies(self.store.allies(), need, self.store.consultations())[:limit]

    def consult(
        self,
        person: str,
        need: str,
        *,
        initiative: str | None = None,
        outcome: str | None = None,
        at: Time = None,
    ) -> Consultation:
        """Log that ``person`` was asked about ``need``."""
        consultation = Consultation(
            parse_time(at, _now()),
            require_text(person, "person"),
            require_text(need, "need"),
            optional_text(initiative),
            optional_text(outcome),
        )
        self.store.add_consultation(consultation)
        return consultation

    def consultations(self) -> list[Consultation]:
        """Every logged consultation, oldest first."""
        return self.store.consultations()


class Initiative:
    """A handle on one initiative; every read goes to the store, so it is never stale."""

    def __init__(self, workspace: Workspace, slug: str) -> None:
        self.workspace = workspace
        self.slug = slug
        self._store = workspace.store

    def __repr__(self) -> str:
        return f"Initiative({self.slug!r})"

    @property
    def charter(self) -> Charter:
        """The charter as stored."""
        return self._store.charter(self.slug)

    # Criteria --------------------------------------------------------------------------------

    def add_criterion(
        self,
        kind: str,
        metric: str,
        op: str | Comparator,
        target: float,
        *,
        at: str | tuple[str, str, float] | None = None,
        effect: str | None = None,
        guardrails: Sequence[str] = (),
        plan: str | None = None,
    ) -> Criterion:
        """Declare a success criterion, e.g. ``add_criterion("model", "recall", ">=", 0.8,
        at="precision>=0.5", plan="fall back to the rules")``."""
        constraint = parse_constraint(at) if isinstance(at, str) else at
        criterion = make_criterion(
            kind=kind,
            metric=metric,
            op=op,
            target=target,
            task=self.charter.task.value,
            constraint=constraint,
            effect=effect,
            guardrails=list(guardrails),
            plan=plan,
            created_at=_now(),
        )
        new_id = self._store.add_criterion(self.slug, criterion)
        return next(c for c in self._store.criteria(self.slug) if c.id == new_id)

    def criteria(self) -> list[Criterion]:
        """The criteria in the order they were declared."""
        return self._store.criteria(self.slug)

    def remove_criterion(self, criterion_id: int) -> None:
        """Withdraw a criterion."""
        self._store.remove_criterion(self.slug, criterion_id)

    # Lifecycle -------------------------------------------------------------------------------

    def move_to(
        self,
        phase: str | Phase,
        *,
        reason: str | None = None,
        cause: str | Cause | None = None,
        at: Time = None,
        who: str | None = None,
    ) -> Transition:
        """Record a move to ``phase``; a move backward needs a ``reason``."""
        given = None if at is None else parse_time(at, _now(), "transition time")
        # "now" is read inside the transaction, after any writer that went first.
        return self._store.append_transition(
            self.slug,
            lambda log: lifecycle.next_transition(
                log, phase, given or _now(), reason=reason, cause=cause, who=who
            ),
        )

    def history(self) -> list[Transition]:
        """The lifecycle log, oldest first."""
        return self._store.transitions(self.slug)

    @property
    def phase(self) -> Phase:
        """The current phase (derived from the log)."""
        return lifecycle.current_phase(self.history())

    # Decisions and learnings -----------------------------------------------------------------

    def decide(
        self,
        verdict: str | Verdict,
        why: str,
        *,
        evidence: Sequence[str] = (),
        who: str | None = None,
        at: Time = None,
    ) -> Decision:
        """Record a decision; stop and ship change the status (stopped, shipped)."""
        decision = Decision(
            parse_time(at, _now(), "decision time"),
            parse_choice(Verdict, verdict, "decision"),
            require_text(why, "the rationale (--why)"),
            tuple(e.strip() for e in evidence if e.strip()),
            optional_text(who),
        )
        self._store.add_decision(self.slug, decision)
        return decision

    def decisions(self) -> list[Decision]:
        """The decisions, oldest first."""
        return self._store.decisions(self.slug)

    def learn(
        self,
        text: str,
        *,
        tags: Sequence[str] = (),
        phase: str | Phase | None = None,
        source: str | None = None,
        at: Time = None,
    ) -> Learning:
        """Record a learning; its phase defaults to the current one."""
        learning = Learning(
            parse_time(at, _now(), "learning time"),
            require_text(text, "the learning"),
            self.phase if phase is None else parse_choice(Phase, phase, "phase"),
            normalize_tags(list(tags)),
            optional_text(source),
        )
        self._store.add_learning(self.slug, learning)
        return learning

    def learnings(self) -> list[Learning]:
        """The learnings, oldest first."""
        return self._store.learnings(self.slug)

    # Monitoring data -------------------------------------------------------------------------

    def log_predictions(
        self, source: str | Path | Any, column_map: Mapping[str, str] | None = None
    ) -> ImportResult:
        """Store predictions from a Parquet or CSV file or a pandas / polars / Arrow frame.

        Columns: ``id`` and ``time`` (required), ``entity_id``, ``model_version``, ``score``
        and/or ``prediction``; every other column is a feature. ``column_map`` names the
        input's column for an mlpilot one, e.g. ``{"id": "prediction_id"}``. A row whose id is
        stored already is skipped, so sending the same file twice stores it once.
        """
        self._store.charter(self.slug)
        return self.workspace.events.import_predictions(self.slug, source, column_map)

    def log_outcomes(
        self, source: str | Path | Any, column_map: Mapping[str, str] | None = None
    ) -> ImportResult:
        """Store outcomes (labels): ``entity_id``, ``time``, ``label`` and optionally ``id``.

        Without an id, it is derived from entity_id and time, so re-importing a file stores
        nothing new; a corrected label for the same entity and time needs its own id (or a
        later time).
        """
        self._store.charter(self.slug)
        return self.workspace.events.import_outcomes(self.slug, source, column_map)

    def log_events(
        self, kind: str, source: str | Path | Any, column_map: Mapping[str, str] | None = None
    ) -> ImportResult:
        """Store events of ``kind``: predictions, outcomes, requests, exposures or
        metric_events (see the ``log_*`` methods for their columns)."""
        self._store.charter(self.slug)
        return self.workspace.events.import_events(self.slug, kind, source, column_map)

    def log_requests(
        self, source: str | Path | Any, column_map: Mapping[str, str] | None = None
    ) -> ImportResult:
        """Store service requests: ``id``, ``time``, ``latency_ms`` (required), ``model_version``,
        ``status`` (``ok`` or ``error``) and ``error_class``. A prediction that carries
        ``latency_ms`` and ``status`` counts as a request too."""
        self._store.charter(self.slug)
        return self.workspace.events.import_events(self.slug, "requests", source, column_map)

    def log_exposures(
        self, source: str | Path | Any, column_map: Mapping[str, str] | None = None
    ) -> ImportResult:
        """Store experiment exposures: ``unit_id``, ``experiment``, ``variant``, ``time``; without
        an ``id`` it is derived from experiment, unit_id and time."""
        self._store.charter(self.slug)
        return self.workspace.events.import_events(self.slug, "exposures", source, column_map)

    def log_metric_events(
        self, source: str | Path | Any, column_map: Mapping[str, str] | None = None
    ) -> ImportResult:
        """Store metric events: ``unit_id``, ``time``, ``metric``, ``value``; without an ``id``
        it is derived from all four, so two identical events need ids to count twice."""
        self._store.charter(self.slug)
        return self.workspace.events.import_events(self.slug, "metric_events", source, column_map)

    def add_reference(
        self,
        name: str,
        source: str | Path | Any,
        column_map: Mapping[str, str] | None = None,
        replace: bool = False,
    ) -> ImportResult:
        """Store a named reference dataset (e.g. ``training``) that monitors compare against."""
        self._store.charter(self.slug)
        return self.workspace.events.add_reference(
            self.slug, name, source, column_map, replace=replace
        )

    def references(self) -> list[ReferenceInfo]:
        """The stored reference datasets, by name."""
        self._store.charter(self.slug)
        return self.workspace.events.references(self.slug)

    # Model monitors --------------------------------------------------------------------------

    def performance(
        self, *, window: str = "1d", threshold: float = 0.5, model_version: str | None = None
    ) -> dict[str, Any]:
        """Model metrics per time window, judged against the model criteria and the baseline."""
        from mlpilot.monitors.model import performance_report

        return performance_report(
            self.workspace.events, self.charter, self.criteria(),
            window=window, threshold=threshold, model_version=model_version,
        )  # fmt: skip

    def drift(
        self,
        reference: str = "training",
        *,
        window: str = "1d",
        method: str | None = None,
        columns: list[str] | None = None,
    ) -> dict[str, Any]:
        """Feature drift of each window of the predictions against a stored reference."""
        from mlpilot.monitors.model import drift_windows

        self._store.charter(self.slug)
        return drift_windows(
            self.workspace.events, self.slug, reference,
            window=window, method=method, columns=columns,
        )  # fmt: skip

    def health(
        self, *, window: str = "1d", now: datetime | None = None
    ) -> dict[str, dict[str, Any]]:
        """Each monitor group's light (ok, warning, failing, no-data) with its evidence: model
        and data over ``window``, service over hourly windows and its SLO period ending ``now``.

        A group whose monitor cannot run (e.g. a reference without shared features) shows
        no-data with the reason, rather than failing the whole view.
        """
        from mlpilot.monitors.health import data_health, impact_health
        from mlpilot.monitors.model import health as model_health
        from mlpilot.monitors.service import health as service_health

        charter, criteria, events = self.charter, self.criteria(), self.workspace.events
        lights: dict[str, dict[str, Any]] = {}
        groups: dict[str, Callable[[], dict[str, Any]]] = {
            "model": lambda: model_health(events, charter, criteria, window=window),
            "data": lambda: data_health(events, charter, criteria, window=window),
            "service": lambda: service_health(events, charter, criteria, now=now or _now()),
            "impact": lambda: impact_health(self._store.engine, self.slug),
        }
        for group, light in groups.items():
            try:
                lights[group] = light()
            except (ValidationError, NotFoundError) as exc:
                lights[group] = {"status": "no-data", "reason": f"the monitor cannot run: {exc}"}
        return lights

    def monitor(
        self,
        *,
        window: str = "1d",
        notifiers: list[Notifier] | None = None,
        now: datetime | None = None,
    ) -> dict[str, Any]:
        """Run every monitor group, record its alerts (one open alert per failing criterion
        until it clears) and tell ``notifiers`` (default: a log line) what opened or resolved.
        """
        from mlpilot.monitors.health import record
        from mlpilot.monitors.notify import LogNotifier

        lights = self.health(window=window, now=now)
        changes = record(
            self.workspace.alerts,
            self.slug,
            lights,
            [LogNotifier()] if notifiers is None else notifiers,
            now,
        )
        return {
            "slug": self.slug,
            "window": window,
            "groups": lights,
            "alerts": {
                "opened": sum(len(c.opened) for c in changes.values()),
                "resolved": sum(len(c.resolved) for c in changes.values()),
                "open": [a.to_dict() for a in self.alerts(open_only=True)],
            },
        }

    def alerts(self, *, open_only: bool = False) -> list[Alert]:
        """This initiative's alerts, open ones first."""
        return self.workspace.alerts.alerts(self.slug, open_only=open_only)

    # Team and status -------------------------------------------------------------------------

    def add_member(self, person: str, role: str | Role, allocation: float = 1.0) -> bool:
        """Put ``person`` on the team in ``role`` (or update the allocation); True when new."""
        return self._store.put_member(self.slug, make_member(person, role, allocation))

    def remove_member(self, person: str, role: str | Role | None = None) -> int:
        """Take ``person`` off the team (in one role, or all); returns the roles removed."""
        parsed = None if role is None else parse_choice(Role, role, "role")
        return self._store.remove_member(self.slug, person, parsed)

    def team(self) -> list[Member]:
        """The members, by person then role."""
        return self._store.members(self.slug)

    def coverage(self) -> Coverage:
        """Missing roles and single points of failure for the current phase."""
        return coverage(self.team(), self.charter.shape, self.phase)

    def set_status(self, status: str | Status) -> None:
        """Pause an active initiative or resume a paused one; stop and ship are decisions."""
        parsed = parse_choice(Status, status, "status")
        if parsed in (Status.STOPPED, Status.SHIPPED):
            raise ValidationError(
                f"an initiative becomes {parsed.value} by a decision: "
                f"'mlpilot decide {self.slug} {'stop' if parsed is Status.STOPPED else 'ship'}'"
            )
        current = self.charter.status
        allowed_from = Status.ACTIVE if parsed is Status.PAUSED else Status.PAUSED
        if current is not allowed_from:
            raise ValidationError(
                f"{self.slug} is {current.value}; only an {allowed_from.value} initiative can "
                f"become {parsed.value} (a stopped or shipped one restarts by a decision: "
                f"'mlpilot decide {self.slug} continue')"
            )
        self._store.set_status(self.slug, parsed)

    def status(self, now: datetime | None = None) -> StatusReport:
        """The one-screen summary, derived from everything stored."""
        return StatusReport(
            charter=self.charter,
            log=self.history(),
            criteria=self.criteria(),
            members=self.team(),
            decisions=self.decisions(),
            learnings=self.learnings(),
            now=now or _now(),
            monitors=self.health(),
            uncertainty=self.uncertainty(),
        )

    # Service ---------------------------------------------------------------------------------

    def service(
        self,
        *,
        window: str = "1h",
        by_version: bool = False,
        period: str = "30d",
        at: Time = None,
    ) -> dict[str, Any]:
        """Latency, errors and throughput per window of the stored requests (and predictions
        carrying a latency or status), the SLOs of the service criteria over ``period`` ending
        ``at`` (default now), and the alert conditions holding then (docs/service.md)."""
        from mlpilot.monitors.service import service_report

        self._store.charter(self.slug)
        report = service_report(
            self.workspace.events, self.slug, self.criteria(),
            window=window, by_version=by_version, now=parse_time(at, _now(), "evaluation time"),
            period=period,
        )  # fmt: skip
        if report is None:
            raise NotFoundError(
                f"no requests stored for {self.slug}; add them with 'mlpilot log requests …'"
            )
        return report

    def slo(self, *, period: str = "30d", at: Time = None) -> dict[str, Any]:
        """The SLOs of the service criteria over ``period`` ending ``at``: compliance, error
        budget left, burn rates and burn-rate alert episodes."""
        return dict(self.service(period=period, at=at)["slo"])

    def service_alerts(
        self, *, window: str = "1h", period: str = "30d", at: Time = None
    ) -> list[ServiceCondition]:
        """The service alert conditions holding at ``at`` (default now); none without requests."""
        from mlpilot.monitors.service import alert_conditions

        self._store.charter(self.slug)
        return alert_conditions(
            self.workspace.events, self.slug, self.criteria(),
            window=window, now=parse_time(at, _now(), "evaluation time"), period=period,
        )  # fmt: skip

    # Experiments -----------------------------------------------------------------------------

    def create_experiment(
        self,
        name: str,
        *,
        variants: Sequence[str],
        metrics: Sequence[str] = (),
        split: Sequence[float] | None = None,
        pre_days: float = 30.0,
    ) -> dict[str, Any]:
        """Declare an experiment (control first) with metric specs such as ``revenue``,
        ``converted:conversion`` or ``aov:ratio:revenue/orders``; the impact criteria in force
        now are kept with it, and their KPIs and guardrails are measured too."""
        from mlpilot.engine.experiments import parse_metric
        from mlpilot.monitors import experiment_runs as runs
        from mlpilot.store.experiments import ExperimentStore

        name = require_text(name, "experiment name", max_length=64)
        if not pre_days >= 0:
            raise ValidationError(f"--pre-days must be a number of days >= 0, got {pre_days}")
        shares = runs.check_design(list(variants), None if split is None else list(split))
        criteria = runs.snapshot(self.criteria())
        defs = runs.definitions([parse_metric(m) for m in metrics], criteria)
        record = ExperimentStore(self._store.engine).create(
            self.slug, name, variants=list(variants), split=shares,
            metrics=[vars(m) for m in defs], criteria=criteria, created_at=_now(),
            details={"pre_days": pre_days},
        )  # fmt: skip
        return {"name": record.name, "variants": record.variants, "split": record.split,
                "metrics": record.metrics, "criteria": record.criteria,
                "created_at": record.created_at.isoformat(), "pre_days": pre_days}  # fmt: skip

    def experiments(self) -> list[dict[str, Any]]:
        """The experiments, oldest first, as stored (name, variants, split, metrics, criteria)."""
        from mlpilot.store.experiments import ExperimentStore

        return [
            {"name": r.name, "variants": r.variants, "split": r.split, "metrics": r.metrics,
             "criteria": r.criteria, "created_at": r.created_at.isoformat(), **r.details}
            for r in ExperimentStore(self._store.engine).list(self.slug)
        ]  # fmt: skip

    def analyze_experiment(
        self, name: str, *, save: bool = True, until: Time = None, **options: Any
    ) -> dict[str, Any]:
        """Analyse experiment ``name`` from the stored exposures and metric events and judge it
        against its criteria snapshot; ``options`` are those of
        :func:`mlpilot.monitors.impact.analyze` (method, alpha, sided, cuped, correction, prior,
        tuning). The analysis is stored unless ``save`` is False."""
        from mlpilot.monitors.experiment_runs import run
        from mlpilot.store.experiments import ExperimentStore

        store = ExperimentStore(self._store.engine)
        record = store.get(self.slug, name)
        end = None if until is None else parse_time(until, _now(), "analysis end")
        report = run(self.workspace.events, record, until=end, **options)
        if save:
            at = _now()
            store.add_analysis(record.id, at=at, method=report["method"],
                               verdict=report["verdict"], results=report)  # fmt: skip
            latest = self.impact()  # the impact uncertainty follows the latest verdict
            if latest is not None:
                self.record_uncertainty(
                    "impact", latest["probability"],
                    f"experiment {name}: {report['verdict']}", at=at,
                )  # fmt: skip
        return report

    def impact(self) -> dict[str, Any] | None:
        """The latest experiment verdict (see :func:`mlpilot.monitors.impact.latest_verdict`)."""
        from mlpilot.monitors.impact import latest_verdict

        return latest_verdict(self.workspace, self.slug)

    # Forecast and feasibility ----------------------------------------------------------------

    def forecast(
        self,
        *,
        by: str | datetime | None = None,
        trials: int = 10_000,
        seed: int | None = 0,
        as_of: datetime | None = None,
    ) -> DeliveryForecast:
        """Monte Carlo forecast of when the initiative reaches monitoring, learned from its own
        history and the workspace's other initiatives (see :mod:`mlpilot.forecast.delivery`)."""
        from mlpilot.forecast.delivery import forecast_delivery

        if self.charter.status is Status.STOPPED:
            raise ValidationError(
                f"{self.slug} is stopped; nothing to forecast until "
                f"'mlpilot decide {self.slug} continue'"
            )
        reference = [
            self._store.transitions(c.slug) for c in self.workspace.initiatives()
            if c.slug != self.slug
        ]  # fmt: skip
        target = None if by is None else parse_time(by, _now(), "--by date", future=True)
        return forecast_delivery(
            self.history(), reference, as_of or _now(), trials=trials, seed=seed, by=target,
        )  # fmt: skip

    def evaluate(
        self,
        predictions: str | Path | Any = None,
        *,
        label_column: str = "y",
        score_column: str = "p",
        estimator: Any = None,
        x: Any = None,
        y: Any = None,
        metrics: Mapping[str, float] | None = None,
        n: int | None = None,
        positives: int | None = None,
        train_size: int | None = None,
        name: str | None = None,
        threshold: float = 0.5,
        seed: int | None = 0,
        at: Time = None,
    ) -> Evaluation:
        """Record an offline evaluation and the model uncertainty it implies.

        Give one of: ``predictions`` (a CSV / Parquet file or a frame with the label column and
        the score — binary — or predicted class / value), a fitted scikit-learn ``estimator``
        with ``x`` and ``y``, or ``metrics`` values with their sample size ``n``.
        """
        from mlpilot.forecast import evaluate as ev
        from mlpilot.forecast import sources

        when = parse_time(at, _now(), "evaluation time")
        charter = self.charter
        label = optional_text(name) or f"evaluation {when:%Y-%m-%d %H:%M}"
        given = sum(v is not None for v in (predictions, estimator, metrics))
        if given != 1:
            raise ValidationError(
                "give exactly one of: predictions (a file or frame), an estimator with x and y, "
                "or metric values with n"
            )
        if train_size is not None and train_size < 1:
            raise ValidationError(f"the training size must be positive, got {train_size}")
        if metrics is not None:
            if n is None:
                raise ValidationError(
                    "metric values need the sample size they were measured on (n)"
                )
            evaluation = ev.from_values(
                dict(metrics), n=n, name=label, at=when, positives=positives,
                train_size=train_size,
            )  # fmt: skip
        else:
            if estimator is not None:
                if x is None or y is None:
                    raise ValidationError("an estimator needs the dataset: x and y")
                truth, predicted = y, sources.sklearn_predictions(estimator, x, charter.task)
                source = "sklearn"
            else:
                truth, predicted = sources.columns(predictions, label_column, score_column)
                source = "predictions"
            evaluation = ev.from_rows(
                charter.task, truth, predicted, name=label, at=when, source=source,
                criteria=self.criteria(), train_size=train_size, threshold=threshold, seed=seed,
            )  # fmt: skip
        return self._record_evaluation(evaluation)

    def evaluate_mlflow(self, run_id: str, *, n: int, **options: Any) -> Evaluation:
        """Record the catalogued model metrics of an MLflow run (needs mlflow installed)."""
        from mlpilot.forecast.sources import mlflow_metrics

        return self.evaluate(metrics=mlflow_metrics(run_id), n=n, **options)

    def _record_evaluation(self, evaluation: Evaluation) -> Evaluation:
        from mlpilot.forecast.uncertainty import make_record

        store = EvaluationStore(self._store)
        new_id = store.add_evaluation(self.slug, evaluation)
        feasibility = self.feasibility()
        if feasibility["criteria"]:
            store.add_uncertainty(self.slug, make_record(
                "model", feasibility["probability_all_met"],
                f"feasibility: {evaluation.name}", evaluation.at,
                {"method": feasibility["method"], "evaluation_id": new_id},
            ))  # fmt: skip
        return next(e for e in store.evaluations(self.slug) if e.id == new_id)

    def evaluations(self) -> list[Evaluation]:
        """The recorded offline evaluations, oldest first."""
        return EvaluationStore(self._store).evaluations(self.slug)

    def feasibility(self, *, planned_size: float | None = None) -> dict[str, Any]:
        """Per model criterion: estimate, 95 % interval, probability met, margin over the
        baseline and the learning curve at the planned size (see :mod:`mlpilot.forecast`)."""
        from mlpilot.forecast.feasibility import assess

        return assess(self.charter, self.criteria(), self.evaluations(), planned=planned_size)

    def record_uncertainty(
        self,
        kind: str,
        probability: float | None,
        source: str,
        *,
        details: Mapping[str, Any] | None = None,
        at: Time = None,
    ) -> UncertaintyRecord:
        """Append a belief: the probability that the model (``kind="model"``) or the feature's
        impact (``"impact"``) is good enough, with its source (e.g. an experiment verdict)."""
        from mlpilot.forecast.uncertainty import make_record

        record = make_record(
            kind, probability, source, parse_time(at, _now(), "time"), dict(details or {})
        )
        EvaluationStore(self._store).add_uncertainty(self.slug, record)
        return record

    def assess_model_uncertainty(self) -> UncertaintyRecord | None:
        """Record the model uncertainty now: from the model monitor once deployed and judged,
        otherwise from the feasibility evidence; None when there is no evidence yet."""
        from mlpilot.forecast.uncertainty import monitor_probability

        if self.phase in (Phase.DEPLOYMENT, Phase.MONITORING):
            try:
                found = monitor_probability(self.performance())
            except (ValidationError, NotFoundError):
                found = None
            if found is not None:
                probability, details = found
                return self.record_uncertainty(
                    "model", probability,
                    f"model monitor: {details['met']} of {details['windows']} recent windows "
                    "met every model criterion", details=details,
                )  # fmt: skip
        feasibility = self.feasibility()
        if not feasibility["criteria"] or not self.evaluations():
            return None
        return self.record_uncertainty(
            "model", feasibility["probability_all_met"], "feasibility: latest evaluations",
            details={"method": feasibility["method"]},
        )  # fmt: skip

    def uncertainty(self) -> dict[str, Any]:
        """The two uncertainties (``model``, ``impact``): latest probability, source, date,
        trend and history; None for one that was never recorded."""
        from mlpilot.forecast.uncertainty import summarise

        return summarise(EvaluationStore(self._store).uncertainty(self.slug))


__all__ = ["Initiative", "Workspace"]
