"""The monitoring part of the :class:`~mlpilot.workspace.Initiative` facade: logging events and
references, the model, data and service monitors, the health view and its alerts."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlpilot.domain.alerts import Alert
from mlpilot.domain.parsing import parse_time
from mlpilot.errors import NotFoundError, ValidationError
from mlpilot.facade.base import InitiativeBase, Time
from mlpilot.facade.base import now as _now
from mlpilot.store.events import ImportResult, ReferenceInfo

if TYPE_CHECKING:
    from mlpilot.monitors.notify import Notifier
    from mlpilot.monitors.service_slo import ServiceCondition
    from mlpilot.store.sources import Source


class MonitoringMethods(InitiativeBase):
    """Monitoring data and monitors of one initiative."""

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

    # External sources ------------------------------------------------------------------------

    def add_source(
        self,
        kind: str,
        engine: str,
        table: str,
        column_map: Mapping[str, str] | None = None,
        *,
        replace: bool = False,
    ) -> Source:
        """Read this initiative's ``kind`` events from ``table`` on ``engine`` from now on,
        where they live (docs/scaling.md); ``column_map`` maps mlpilot's roles to the table's
        columns, e.g. ``{"id": "pred_id", "time": "ts"}``. Nothing is copied."""
        from mlpilot.store.sources import Source, SourceStore, parse_map

        self._store.charter(self.slug)
        mapping = parse_map(",".join(f"{k}={v}" for k, v in (column_map or {}).items()), kind)
        source = Source(self.slug, kind, engine, table, mapping)
        return SourceStore(self.workspace.events.path.parent).add(source, replace=replace)

    def sources(self) -> list[Source]:
        """The external sources of this initiative's events."""
        from mlpilot.store.sources import SourceStore

        self._store.charter(self.slug)
        return SourceStore(self.workspace.events.path.parent).sources(self.slug)

    def remove_source(self, kind: str) -> Source:
        """Stop reading ``kind`` events from their source."""
        from mlpilot.store.sources import SourceStore

        self._store.charter(self.slug)
        return SourceStore(self.workspace.events.path.parent).remove(self.slug, kind)

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
