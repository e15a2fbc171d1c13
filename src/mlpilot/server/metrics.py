"""``/metrics``: the server's figures and each initiative's latest monitor values for Prometheus.

Text exposition format 0.0.4. Access: READ (Prometheus sends a bearer token with
``authorization: {credentials: TOKEN}`` in its scrape config); a token scoped to one initiative
sees only that initiative's series. The monitor values are computed by the same health checks as
``mlpilot status`` and kept for ``MONITOR_CACHE_SECONDS``, so frequent scrapes stay cheap.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import Counter
from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse

from mlpilot.server.auth import Action, Principal, access

__all__ = ["MONITOR_CACHE_SECONDS", "RequestCounter", "render", "router"]

MONITOR_CACHE_SECONDS = 30.0
LIGHTS = ("ok", "warning", "failing", "no-data")
router = APIRouter(tags=["server"])
_log = logging.getLogger(__name__)


class RequestCounter:
    """Responses served, by method, route template and status (thread-safe)."""

    def __init__(self) -> None:
        self._counts: Counter[tuple[str, str, int]] = Counter()
        self._lock = threading.Lock()

    def add(self, method: str, route: str, status: int) -> None:
        with self._lock:
            self._counts[(method, route, status)] += 1

    def snapshot(self) -> dict[tuple[str, str, int], int]:
        with self._lock:
            return dict(self._counts)


class _MonitorCache:
    """Per-initiative monitor values, recomputed at most every MONITOR_CACHE_SECONDS."""

    def __init__(self) -> None:
        self._at = -math.inf
        self._values: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def get(self, workspace: Any) -> dict[str, dict[str, Any]]:
        with self._lock:
            if time.monotonic() - self._at > MONITOR_CACHE_SECONDS:
                self._values = {c.slug: _initiative_values(workspace, c.slug)
                                for c in workspace.initiatives()}  # fmt: skip
                self._at = time.monotonic()
            return self._values


def _initiative_values(workspace: Any, slug: str) -> dict[str, Any]:
    initiative = workspace.initiative(slug)
    values: dict[str, Any] = {
        "phase": initiative.phase.value,
        "status": initiative.charter.status.value,
        "open_alerts": len(initiative.alerts(open_only=True)),
        "uncertainty": initiative.uncertainty(),
        "health": {},
        "error": 0,
    }
    try:  # one initiative's failing monitor must not blank the whole scrape
        values["health"] = initiative.health()
    except Exception:
        _log.exception("metrics: the monitors of %s failed", slug)
        values["error"] = 1
    return values


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: dict[str, str]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_escape(str(v))}"' for k, v in labels.items()) + "}"


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


class _Families:
    """Metric families with their HELP and TYPE lines, samples in insertion order."""

    def __init__(self) -> None:
        self._meta: dict[str, tuple[str, str]] = {}
        self._samples: dict[str, list[str]] = {}

    def add(
        self, name: str, kind: str, help_text: str, value: float | None, /, **labels: str
    ) -> None:
        if value is None:
            return
        self._meta.setdefault(name, (kind, help_text))
        self._samples.setdefault(name, []).append(f"{name}{_labels(labels)} {_number(value)}")

    def text(self) -> str:
        lines: list[str] = []
        for name, (kind, help_text) in self._meta.items():
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}", *self._samples[name]]
        return "\n".join(lines) + "\n"


def _numeric(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def render(
    requests: dict[tuple[str, str, int], int],
    ingest: dict[str, int] | None,
    initiatives: Iterable[tuple[str, dict[str, Any]]],
) -> str:
    """The exposition text for the given figures."""
    out = _Families()
    for (method, route, status), count in sorted(requests.items()):
        out.add("mlpilot_http_requests_total", "counter", "HTTP responses served.", count,
                method=method, route=route, status=str(status))  # fmt: skip
    for key, value in sorted((ingest or {}).items()):
        gauge = "depth" in key or key.endswith(("_size", "_bytes_queued"))
        name = f"mlpilot_ingest_{key}" if gauge else f"mlpilot_ingest_{key}_total"
        out.add(name, "gauge" if gauge else "counter", f"Ingest writer: {key}.", value)
    for slug, values in initiatives:
        out.add("mlpilot_initiative_info", "gauge", "Phase and status of an initiative.", 1,
                initiative=slug, phase=values["phase"], status=values["status"])  # fmt: skip
        out.add("mlpilot_monitor_errors", "gauge",
                "1 when the initiative's monitors failed at the last computation (see the log).",
                values["error"], initiative=slug)  # fmt: skip
        out.add("mlpilot_open_alerts", "gauge", "Open alerts of an initiative.",
                values["open_alerts"], initiative=slug)  # fmt: skip
        for kind in ("model", "impact"):
            latest = (values["uncertainty"] or {}).get(kind) or {}
            out.add("mlpilot_uncertainty_probability", "gauge",
                    "Latest probability of success (model: feasibility or the model monitor, "
                    "impact: experiments), a posterior probability unless uncertainty_kind in "
                    "the API says otherwise.",
                    _numeric(latest.get("probability")), initiative=slug, kind=kind)  # fmt: skip
        for group, health in values["health"].items():
            for light in LIGHTS:
                out.add("mlpilot_monitor_status", "gauge",
                        "Health light of a monitor group (1 for the current light).",
                        1 if health.get("status") == light else 0,
                        initiative=slug, group=group, status=light)  # fmt: skip
            for metric, value in (health.get("metrics") or {}).items():
                out.add("mlpilot_monitor_value", "gauge",
                        "Latest judged window's value of a monitored metric.", _numeric(value),
                        initiative=slug, group=group, metric=metric)  # fmt: skip
            for verdict in health.get("verdicts") or []:
                out.add("mlpilot_criterion_met", "gauge",
                        "Whether a success criterion is met in the latest judged window.",
                        None if verdict.get("met") is None else float(bool(verdict["met"])),
                        initiative=slug, group=group,
                        criterion=str(verdict.get("criterion")))  # fmt: skip
    return out.text()


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(
    request: Request, caller: Principal = Depends(access(Action.READ))
) -> PlainTextResponse:
    """Prometheus text format: requests by route and status, ingest counters, and per
    initiative its phase, open alerts, uncertainties and latest monitor values."""
    state = request.app.state
    cache: _MonitorCache = getattr(state, "monitor_cache", None) or _MonitorCache()
    state.monitor_cache = cache
    writer = getattr(state, "writer", None)
    values = cache.get(state.workspace)
    text = render(
        state.requests.snapshot(),
        None if writer is None else dict(writer.counters()),
        ((slug, v) for slug, v in values.items() if caller.sees(slug)),
    )
    return PlainTextResponse(text, media_type="text/plain; version=0.0.4; charset=utf-8")
