"""The evidence part of the :class:`~mlpilot.workspace.Initiative` facade: experiments and the
impact verdict, the delivery forecast, offline evaluations and the two uncertainties."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlpilot.domain.charter import Status
from mlpilot.domain.lifecycle import Phase
from mlpilot.domain.parsing import optional_text, parse_time, require_text
from mlpilot.errors import NotFoundError, ValidationError
from mlpilot.facade.base import Time
from mlpilot.facade.base import now as _now
from mlpilot.facade.monitoring import MonitoringMethods
from mlpilot.store.evaluations import Evaluation, EvaluationStore, UncertaintyRecord

if TYPE_CHECKING:
    from mlpilot.forecast.delivery import DeliveryForecast


class EvidenceMethods(MonitoringMethods):
    """Experiments, forecasts, evaluations and uncertainties of one initiative."""

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
        if not 0 <= pre_days <= 36_500:  # NaN and infinity fail too
            raise ValidationError(f"--pre-days must be days in [0, 36500], got {pre_days}")
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
        report = run(self.workspace.events, record, until=end, history=store, **options)
        if save:
            at = _now()
            store.add_analysis(record.id, at=at, method=report["method"],
                               verdict=report["verdict"], results=report)  # fmt: skip
            latest = self.impact()  # the impact uncertainty follows the latest verdict
            if latest is not None:
                stated = report.get("impact_probability") or {}
                self.record_uncertainty(
                    "impact", latest["probability"],
                    f"experiment {name}: {report['verdict']}", at=at,
                    details={"probability_kind": latest["probability_kind"],
                             "event": stated.get("event"), "prior": latest["prior"]},
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
        stratified: bool = False,
        time_column: str | None = None,
        per_period: int | None = None,
    ) -> Evaluation:
        """Record an offline evaluation and the model uncertainty it implies.

        Give one of: ``predictions`` (a CSV / Parquet file or a frame with the label column and
        the score — binary — or predicted class / value), a fitted scikit-learn ``estimator``
        with ``x`` and ``y``, or ``metrics`` values with their sample size ``n``.
        ``stratified`` only for a case-control sample (class counts fixed by design): the
        bootstrap then resamples within each class. A capacity criterion (top k per period) is
        measured from the predictions' ``time_column`` (top k of each period) or from the
        population scored ``per_period`` (top k·n/N of the rows).
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
        if time_column is not None and predictions is None:
            raise ValidationError("a time column needs predictions (a file or frame) that hold it")
        if metrics is not None:
            if per_period is not None:
                raise ValidationError("--per-period needs the predictions' rows, not metric values")
            if n is None:
                raise ValidationError(
                    "metric values need the sample size they were measured on (n)"
                )
            evaluation = ev.from_values(
                dict(metrics), n=n, name=label, at=when, positives=positives,
                train_size=train_size,
            )  # fmt: skip
        else:
            times = None
            if estimator is not None:
                if x is None or y is None:
                    raise ValidationError("an estimator needs the dataset: x and y")
                truth, predicted = y, sources.sklearn_predictions(estimator, x, charter.task)
                source = "sklearn"
            else:
                truth, predicted = sources.columns(predictions, label_column, score_column)
                source = "predictions"
                if time_column is not None:  # the time column, by the same reader
                    times = sources.columns(predictions, label_column, time_column)[1]
            evaluation = ev.from_rows(
                charter.task, truth, predicted, name=label, at=when, source=source,
                criteria=self.criteria(), train_size=train_size, threshold=threshold, seed=seed,
                stratified=stratified, times=times, per_period=per_period,
            )  # fmt: skip
        return self._record_evaluation(evaluation)

    def evaluate_mlflow(self, run_id: str, *, n: int, **options: Any) -> Evaluation:
        """Record the catalogued model metrics of an MLflow run (needs mlflow installed)."""
        from mlpilot.forecast.sources import mlflow_metrics

        return self.evaluate(metrics=mlflow_metrics(run_id), n=n, **options)

    def _record_evaluation(self, evaluation: Evaluation) -> Evaluation:
        from mlpilot.forecast.uncertainty import FEASIBILITY_EVENT, make_record

        store = EvaluationStore(self._store)
        new_id = store.add_evaluation(self.slug, evaluation)
        feasibility = self.feasibility()
        if feasibility["criteria"]:
            store.add_uncertainty(self.slug, make_record(
                "model", feasibility["probability_all_met"],
                f"feasibility: {evaluation.name}", evaluation.at,
                {"method": feasibility["method"], "evaluation_id": new_id,
                 "probability_kind": feasibility["probability_kind"], "event": FEASIBILITY_EVENT},
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
        from mlpilot.forecast.uncertainty import FEASIBILITY_EVENT, monitor_probability

        if self.phase in (Phase.DEPLOYMENT, Phase.MONITORING):
            try:
                found = monitor_probability(self.performance(), self.criteria())
            except (ValidationError, NotFoundError):
                found = None
            if found is not None:
                probability, details = found
                return self.record_uncertainty(
                    "model", probability, details["summary"], details=details,
                )  # fmt: skip
        feasibility = self.feasibility()
        if not feasibility["criteria"] or not self.evaluations():
            return None
        return self.record_uncertainty(
            "model", feasibility["probability_all_met"], "feasibility: latest evaluations",
            details={"method": feasibility["method"], "event": FEASIBILITY_EVENT,
                     "probability_kind": feasibility["probability_kind"]},
        )  # fmt: skip

    def uncertainty(self) -> dict[str, Any]:
        """The two uncertainties (``model``, ``impact``): latest probability, source, date,
        trend and history; None for one that was never recorded."""
        from mlpilot.forecast.uncertainty import summarise

        return summarise(EvaluationStore(self._store).uncertainty(self.slug))
