"""``mlpilot demo``: a realistic workspace with months of history, loops, team and network.

Three initiatives, all dated relative to now: *churn* (shipped after three loops, now in
monitoring), *ticket-routing* (stopped after the data and the business looped it back) and
*demand-forecast* (shipped after one modeling loop), plus *fraud-alerts* (in modeling, with a
delivery forecast). Churn carries 60 days of predictions with a drift episode, outcomes that
arrive days later and its training data as the reference; offline evaluations; the A/B test
that decided to ship it (with a pre-period for CUPED); and three days of service requests with
a latency incident that paged and later resolved.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from mlpilot.errors import AlreadyExistsError
from mlpilot.store.database import DB_FILE, EVENTS_FILE
from mlpilot.workspace import Initiative, Workspace

# (day, phase, cause, reason) — cause and reason are given for the loops.
Moves = list[tuple[int, str, str | None, str | None]]

CHURN_MOVES: Moves = [
    (14, "data-understanding", None, None),
    (30, "data-preparation", None, None),
    (52, "modeling", None, None),
    (66, "data-preparation", "data",
     "Leakage: the cancellation-request date was among the features"),
    (80, "modeling", None, None),
    (95, "evaluation", None, None),
    (102, "business-understanding", "business",
     "Retention can call only 500 customers a week: optimise precision in the top 500"),
    (110, "modeling", None, None),
    (131, "evaluation", None, None),
    (140, "deployment", None, None),
    (150, "data-preparation", "data",
     "Two features are not available in the production warehouse at scoring time"),
    (165, "deployment", None, None),
    (180, "monitoring", None, None),
]  # fmt: skip

ROUTING_MOVES: Moves = [
    (20, "data-understanding", None, None),
    (45, "data-preparation", None, None),
    (70, "modeling", None, None),
    (85, "data-understanding", "data",
     "Labels are unreliable: 40% of tickets were reassigned to another queue by hand"),
    (100, "business-understanding", "business",
     "Support is reorganising its queues; the target classes will change"),
]  # fmt: skip

FORECAST_MOVES: Moves = [
    (10, "data-understanding", None, None),
    (25, "data-preparation", None, None),
    (45, "modeling", None, None),
    (70, "evaluation", None, None),
    (78, "modeling", "model", "Holiday peaks were missed by 35%; add a calendar model"),
    (92, "evaluation", None, None),
    (105, "deployment", None, None),
    (125, "monitoring", None, None),
]  # fmt: skip


def build_demo(directory: Path, *, replace: bool = False, now: datetime | None = None) -> Workspace:
    """Create the demo workspace in ``directory`` and return it open.

    An existing workspace there is kept unless ``replace`` is set; then only its database files
    (metadata and events) are replaced, nothing else in the folder.
    """
    now = now or datetime.now(UTC)
    db_file = Path(directory) / DB_FILE
    if db_file.exists():
        if not replace:
            raise AlreadyExistsError(
                f"{directory} holds a workspace already; pass --replace to rebuild the demo"
            )
        for pattern in (DB_FILE + "*", EVENTS_FILE + "*"):
            for path in db_file.parent.glob(pattern):
                path.unlink()
    workspace = Workspace.open(directory)
    churn_start, forecast_start = now - timedelta(days=210), now - timedelta(days=400)
    _churn(workspace, churn_start)
    churn = workspace.initiative("churn")
    _churn_monitoring(churn, now)
    _routing(workspace, now - timedelta(days=300))
    _forecast(workspace, forecast_start)
    _network(workspace, now)
    _evidence(workspace, churn_start, forecast_start, now)
    _churn_service(churn, now)
    return workspace


def replay(initiative: Initiative, start: datetime, moves: Moves) -> None:
    """Record ``moves`` (day after ``start``, phase, cause, reason) at 10:00 on their day."""
    for day, phase, cause, reason in moves:
        at = start + timedelta(days=day, hours=10)
        initiative.move_to(phase, reason=reason, cause=cause, at=at)


def _churn(workspace: Workspace, start: datetime) -> None:
    churn = workspace.create_initiative(
        "churn",
        name="Churn risk for retention offers",
        problem="Subscribers cancel without warning; each lost subscriber costs about 180 EUR "
        "a year, and the retention team learns of it too late to act.",
        problem_owner="Retention team",
        prediction_use="Each Monday the retention team calls the 500 subscribers most at risk "
        "and offers a plan change; agents see the risk score in the CRM during calls.",
        used_by="Retention agents",
        used_when="Weekly call list, and live in the CRM",
        task="binary",
        shape="online-api",
        baseline="Call subscribers whose usage fell by 30% or more over the last month",
        baseline_value=0.41,
        baseline_metric="recall",
        started=start,
    )
    replay(churn, start, CHURN_MOVES)
    # Judged as the team uses the model: the 500 highest scores of each week are called.
    churn.add_criterion(
        "model", "lift", ">=", 1.8, top=500, per="week",
        plan="Keep the usage-drop rule for the call list",
    )  # fmt: skip
    churn.add_criterion("model", "precision", ">=", 0.6, top=500, per="week")
    churn.add_criterion("model", "roc_auc", ">=", 0.75)
    churn.add_criterion(
        "service", "latency_p99", "<=", 300, plan="Serve the nightly batch scores from cache"
    )
    churn.add_criterion("service", "error_rate", "<=", 0.01)
    churn.add_criterion(
        "impact", "retention_30d", ">=", 0.02,
        guardrails=[
            "offer_cost_per_customer:lower:margin=0.1", "support_call_minutes:lower:margin=0.1"
        ],
        plan="Stop the offers and return to the usage-drop rule",
    )  # fmt: skip
    churn.add_criterion("data", "rows", ">=", 50_000, plan="Pool two quarters before retraining")
    churn.add_criterion("data", "history_days", ">=", 365)
    churn.add_criterion("data", "missing_share", "<=", 0.2)
    for person, role, allocation in (
        ("Ana Ruiz", "product-manager", 0.5),
        ("Ben Okafor", "data-scientist", 1.0),
        ("Chloé Martin", "data-scientist", 0.5),
        ("Dev Patel", "data-engineer", 0.5),
        ("Eli Cohen", "ml-engineer", 0.5),
        ("Fatima Zahra", "domain-expert", 0.2),
    ):
        churn.add_member(person, role, allocation)

    def day(n: int) -> datetime:
        return start + timedelta(days=n, hours=16)

    churn.decide(
        "continue", "Gradient boosting reaches ROC AUC 0.78 offline against 0.64 for the rule",
        evidence=["offline evaluation on Q1 holdout"], who="Ana Ruiz", at=day(95),
    )  # fmt: skip
    churn.decide(
        "pivot", "The team can call 500 people a week: rank for precision in the top 500",
        evidence=["retention capacity review"], who="Ana Ruiz", at=day(102),
    )  # fmt: skip
    churn.decide(
        "ship", "A/B test retention-offers: 30-day retention about +5% (CUPED), guardrails flat",
        evidence=["experiment retention-offers"], who="Ana Ruiz", at=day(178),
    )  # fmt: skip
    for n, text, tags, source in (
        (60, "The cancellation-request date leaked the label; drop post-event fields",
         ["leakage", "features"], "feature review"),
        (100, "Agents trust a score more when it comes with the top three reasons",
         ["users", "explainability"], "agent interviews"),
        (148, "The warehouse lags the app by a day: features must use yesterday's snapshot",
         ["data", "serving"], "deployment dry run"),
    ):  # fmt: skip
        churn.learn(text, tags=tags, source=source, at=day(n))


def _churn_monitoring(churn: Initiative, now: datetime) -> None:
    """60 days of predictions up to today, outcomes as they arrived, the training data."""
    from mlpilot.demo_data import DAYS, generate

    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    data = generate(today - timedelta(days=DAYS))
    churn.add_reference("training", data.reference)
    churn.log_predictions(data.predictions)
    churn.log_outcomes(data.outcomes)


def _evidence(
    workspace: Workspace, churn_start: datetime, forecast_start: datetime, now: datetime
) -> None:
    """Offline evaluations (feasibility, learning curves), the A/B test that decided to ship
    churn, and *fraud-alerts*, still in modeling, whose delivery is forecast."""
    from mlpilot.demo_experiment import add_demo_experiment
    from mlpilot.demo_forecast import add_demo_evaluations, add_inflight_initiative

    add_demo_evaluations(workspace, churn_start, forecast_start)
    add_demo_experiment(workspace.initiative("churn"), churn_start + timedelta(days=138))
    add_inflight_initiative(workspace, now)


def _churn_service(churn: Initiative, now: datetime) -> None:
    """Three days of requests with a latency incident 26 hours ago; the scheduled monitor ran
    during the incident (a page opened, with the fallback plan) and again now (it resolved)."""
    from mlpilot.demo_service import log_demo_requests

    _, requests = log_demo_requests(churn, now)
    churn.monitor(now=requests.incident_start + timedelta(minutes=35), notifiers=[])
    churn.monitor(now=now, notifiers=[])


def _routing(workspace: Workspace, start: datetime) -> None:
    routing = workspace.create_initiative(
        "ticket-routing",
        name="Route support tickets to the right queue",
        problem="A third of tickets land in the wrong queue and wait a day longer.",
        problem_owner="Customer support",
        prediction_use="Suggest a queue when a ticket is opened; the agent confirms it.",
        task="multiclass",
        shape="online-api",
        baseline="Keyword rules maintained by support leads",
        baseline_value=0.62,
        baseline_metric="accuracy",
        started=start,
    )
    replay(routing, start, ROUTING_MOVES)
    routing.add_criterion("model", "accuracy", ">=", 0.8, plan="Keep the keyword rules")
    routing.add_criterion("service", "latency_p95", "<=", 200)
    routing.add_member("Gus Lind", "product-manager", 0.3)
    routing.add_member("Chloé Martin", "data-scientist", 0.5)
    routing.decide(
        "stop", "The queue taxonomy is being redesigned; labels would be obsolete in months",
        evidence=["label audit", "support reorganisation plan"], who="Gus Lind",
        at=start + timedelta(days=120),
    )  # fmt: skip
    routing.learn(
        "Audit label quality before modeling: hand reassignment hid 40% label noise",
        tags=["labels", "data-quality"], source="label audit", at=start + timedelta(days=84),
    )  # fmt: skip


def _forecast(workspace: Workspace, start: datetime) -> None:
    forecast = workspace.create_initiative(
        "demand-forecast",
        name="Daily demand per warehouse",
        problem="Warehouses over-staff on quiet days and run short on peaks.",
        prediction_use="Shift planners set next week's staffing from the forecast each Thursday.",
        task="regression",
        shape="batch",
        baseline="Same weekday last year, scaled by this year's trend",
        baseline_value=0.21,
        baseline_metric="mape",
        started=start,
    )
    replay(forecast, start, FORECAST_MOVES)
    forecast.add_criterion("model", "mape", "<=", 0.12, plan="Planners use last year's weekday")
    forecast.add_criterion("impact", "overtime_hours", "<=", -0.1, plan="Revert to the old plan")
    for person, role in (
        ("Ivy Tran", "product-manager"), ("Ben Okafor", "data-scientist"),
        ("Dev Patel", "data-engineer"), ("Eli Cohen", "ml-engineer"),
        ("Omar Haddad", "domain-expert"),
    ):  # fmt: skip
        forecast.add_member(person, role, 0.3)
    forecast.decide(
        "ship", "MAPE 0.11 on the last 12 weeks against 0.21 for the baseline",
        evidence=["backtest 12 weeks"], at=start + timedelta(days=124),
    )  # fmt: skip


def _network(workspace: Workspace, now: datetime) -> None:
    for person, relation, expertise, team in (
        ("Grace Liu", "legal", ["gdpr", "consent", "data retention"], "Legal"),
        ("Hiro Tanaka", "staff-engineer", ["feature store", "kubernetes", "latency"], "Platform"),
        ("Ines Duarte", "data-scientist", ["uplift modeling", "experimentation", "causal"],
         "Growth"),
        ("Jon Berg", "customer-support", ["retention calls", "complaints"], "Support"),
        ("Kim Park", "user-researcher", ["interviews", "crm usability"], "Design"),
        ("Lea Novak", "business-stakeholder", ["retention budget", "kpi"], "Retention"),
        ("Max Weber", "data-engineer", ["warehouse", "dbt", "event tracking"], "Data"),
    ):  # fmt: skip
        workspace.add_ally(person, relation=relation, expertise=expertise, team=team)
    workspace.consult(
        "Grace Liu", "May we use call recordings as features?", initiative="churn",
        outcome="Only with consent; use the call outcome codes instead",
        at=now - timedelta(days=150),
    )  # fmt: skip
    workspace.consult(
        "Ines Duarte", "How long must the retention A/B test run?", initiative="churn",
        outcome="Four weeks for +2% at 80% power", at=now - timedelta(days=60),
    )  # fmt: skip
