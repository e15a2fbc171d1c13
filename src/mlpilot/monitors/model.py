"""The model monitor group on an initiative's stored data: performance, drift, health.

Performance joins the stored predictions to the stored outcomes; drift compares each window of
the predictions' features with a stored reference, through the reference's profile, computed once
and kept in the event store's summaries, so day-after-day monitoring never rescans the reference.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from mlpilot.domain.charter import Charter
from mlpilot.domain.criteria import Criterion
from mlpilot.engine import drift as drift_engine
from mlpilot.engine.columns import column_kinds
from mlpilot.errors import NotFoundError, ValidationError
from mlpilot.monitors import drift, performance
from mlpilot.monitors.judgement import MATURE_COVERAGE, judge
from mlpilot.monitors.tables import event_tables, same_engine
from mlpilot.store.events import PREDICTION_COLUMNS, EventStore

if TYPE_CHECKING:
    from collections.abc import Iterator

    from ibis.backends.duckdb import Backend

PROFILE_KEY = "drift-profile"
_NOT_FEATURES = {*PREDICTION_COLUMNS, "label"}


@contextmanager
def _connection(events: EventStore) -> Iterator[Backend]:
    con = events.connect(read_only=True)
    try:
        yield con
    finally:
        con.disconnect()


def _require(con: Backend, table: str, what: str, command: str = "mlpilot log") -> None:
    if table not in con.list_tables():
        raise NotFoundError(f"no {what} stored yet; add them with '{command} …'")


def performance_report(
    events: EventStore,
    charter: Charter,
    criteria: list[Criterion],
    *,
    window: str = "1d",
    threshold: float = 0.5,
    model_version: str | None = None,
) -> dict[str, Any]:
    """Model metrics per window of the predictions (stored, or an external source), judged
    against ``criteria``."""
    with event_tables(events, charter.slug) as tables:
        predictions, outcomes = tables.get("predictions"), tables.get("outcomes")
        if predictions is None:
            raise NotFoundError(f"no predictions for {charter.slug} stored yet; add them with "
                                "'mlpilot log …' or 'mlpilot source add'")  # fmt: skip
        if outcomes is None:
            raise NotFoundError(f"no outcomes for {charter.slug} stored yet; add them with "
                                "'mlpilot log …' or 'mlpilot source add'")  # fmt: skip
        same_engine(predictions, outcomes)
        return performance.evaluate(
            predictions,
            outcomes,
            charter=charter,
            criteria=criteria,
            window=window,
            threshold=threshold,
            model_version=model_version,
        )


def reference_profile(
    events: EventStore, slug: str, reference: str
) -> dict[str, drift_engine.ColumnProfile]:
    """The stored profile of a reference, computed (once) if it is missing, or again if it was
    stored in an older format (the reference table itself is kept, so nothing is lost)."""
    saved = events.load_summary(slug, reference, PROFILE_KEY)
    current = drift_engine.PROFILE_FORMAT
    if saved is not None and all(c.get("format") == current for c in saved["columns"]):
        return {c["name"]: drift_engine.ColumnProfile.from_json(c) for c in saved["columns"]}
    with _connection(events) as con:
        table_name = events.table_name(slug, "reference", reference)
        _require(con, table_name, f"reference {reference!r} for {slug}", "mlpilot reference add")
        table = con.table(table_name)
        kinds = {k: v for k, v in column_kinds(table).items() if k not in _NOT_FEATURES}
        profiles = drift_engine.profile(table, kinds)
    events.save_summary(
        slug, reference, PROFILE_KEY, {"columns": [p.to_json() for p in profiles.values()]}
    )
    return profiles


def drift_windows(
    events: EventStore,
    slug: str,
    reference: str,
    *,
    window: str = "1d",
    method: str | None = None,
    columns: list[str] | None = None,
) -> dict[str, Any]:
    """Drift of each window of the stored predictions' features against ``reference``."""
    profiles = reference_profile(events, slug, reference)
    with event_tables(events, slug) as tables:
        table = tables.get("predictions")
        if table is None:
            raise NotFoundError(f"no predictions for {slug} stored yet; add them with "
                                "'mlpilot log …' or 'mlpilot source add'")  # fmt: skip
        shared = [name for name in profiles if name in table.columns]
        if columns is not None:
            missing = [c for c in columns if c not in shared]
            if missing:
                raise ValidationError(
                    f"no column {', '.join(map(repr, missing))} in both the reference and the "
                    f"predictions; shared: {', '.join(shared) or 'none'}"
                )
            shared = columns
        if not shared:
            raise ValidationError(f"the predictions share no feature with reference {reference!r}")
        chosen = {name: profiles[name] for name in shared}
        results = drift.windows(table, "time", window, chosen, method=method)
    return {"slug": slug, "reference": reference, "window": window, "windows": results}


def health(
    events: EventStore,
    charter: Charter,
    criteria: list[Criterion],
    *,
    window: str = "1d",
) -> dict[str, Any]:
    """The model group's light: ``ok``, ``warning``, ``failing`` or ``no-data``, with evidence.

    The light is the judgement of :func:`mlpilot.monitors.judgement.judge`: the posterior
    probability that each model criterion holds now, from the recent mature windows (at least
    half their predictions labeled) weighted toward the latest — the same judgement the model
    uncertainty states. Drift is the data group's (:mod:`monitors.health`).
    """
    with event_tables(events, charter.slug) as tables:
        if not tables.has("predictions"):
            return {"status": "no-data", "reason": "no predictions stored"}
        if not tables.has("outcomes"):
            return {"status": "no-data", "reason": "no outcomes stored yet"}
    report = performance_report(events, charter, criteria, window=window)
    mature = [w for w in report["windows"] if (w["label_coverage"] or 0) >= MATURE_COVERAGE]
    if not mature:
        return {"window": window, "status": "no-data", "reason": "no window has enough labels yet"}
    latest = mature[-1]
    judged = judge(report, criteria)
    by_id = {row["criterion_id"]: row for row in judged["criteria"]}
    verdicts, unjudged = [], []
    for verdict in latest["verdicts"]:  # the latest window's value, the judgement's verdict
        row = by_id.get(verdict["criterion_id"], {})
        note = verdict.get("note") if row.get("met") is True else row.get("note")
        if row.get("probability_met") is None:
            seen = verdict.get("note")
            note = row.get("note") if not seen or seen == row.get("note") else (
                f"{row.get('note')}; latest window: {seen}")  # fmt: skip
            unjudged.append(f"{verdict['criterion']}: {note}")
        verdicts.append(verdict | {
            "met": row.get("met"), "probability_met": row.get("probability_met"),
            "probability_kind": row.get("probability_kind"), "low": row.get("low"),
            "high": row.get("high"), "interval_kind": row.get("interval_kind"),
            "level": row.get("level"), "note": note,
        })  # fmt: skip
    breached = [w for w in mature if w["breaches"]]
    reason = "; ".join(unjudged)
    return {
        "window": window,
        "status": judged["status"],
        **({"reason": f"not judged — {reason}"} if reason else {}),
        "rule": judged["rule"],
        "probability_all_met": judged["probability_all_met"],
        "probability_kind": judged["probability_kind"],
        "judged_windows": judged["windows"],
        "judged_window": latest["start"],
        "judged_window_end": latest["end"],
        "label_coverage": latest["label_coverage"],
        "metrics": latest["metrics"],
        "verdicts": verdicts,
        "windows_breached": len(breached),
        "last_breach": breached[-1]["start"] if breached else None,
    }


def has_table(events: EventStore, table: str) -> bool:
    """Whether the event store exists and holds ``table``."""
    if not events.path.exists():
        return False
    with _connection(events) as con:
        return table in con.list_tables()
