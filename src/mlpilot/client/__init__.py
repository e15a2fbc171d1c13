"""Work with a workspace through ``mlpilot serve``: ``mlpilot.connect()``.

The methods mirror the :class:`~mlpilot.workspace.Workspace` facade for what the server offers;
they return the JSON the server answers (the same as the CLI's ``--json``) as dicts and lists.
Standard library only (``urllib``, imported on first use), so ``import mlpilot`` stays light.

>>> import mlpilot
>>> client = mlpilot.connect("http://127.0.0.1:8520", token="mlp_...")  # doctest: +SKIP
>>> client.initiative("churn").learn("Agents ignore scores below 0.3")  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlpilot.errors import ValidationError

if TYPE_CHECKING:  # urllib costs tens of milliseconds: loaded on the first connect only
    from mlpilot.client.http import Transport

__all__ = ["Client", "RemoteInitiative", "connect"]

Json = Any


def _time(value: str | datetime | None) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else value


class Client:
    """A workspace served by ``mlpilot serve``."""

    def __init__(self, uri: str, token: str | None = None) -> None:
        from mlpilot.client.http import Transport

        self._http = Transport(uri, token)

    @property
    def uri(self) -> str:
        """The server's base URI."""
        return self._http.uri

    def __repr__(self) -> str:
        return f"Client({self.uri!r})"

    def healthy(self) -> bool:
        """True when the server answers its health check."""
        return bool(self._http.request("GET", "/healthz").get("status") == "ok")

    def initiatives(self) -> list[dict[str, Json]]:
        """The initiatives this token may see: charter, phase, the two uncertainties and the
        four health lights."""
        return list(self._http.request("GET", "/api/v1/initiatives"))

    def initiative(self, slug: str) -> RemoteInitiative:
        """The handle of an initiative (checked on first use)."""
        return RemoteInitiative(self._http, slug)

    def alerts(self, *, open_only: bool = False) -> list[dict[str, Json]]:
        """The alerts of every initiative this token may see, open ones first."""
        return list(self._http.request("GET", "/api/v1/alerts", query={"open": open_only}))


class RemoteInitiative:
    """One initiative through the server; every call is a request, so it is never stale."""

    def __init__(self, http: Transport, slug: str) -> None:
        self._http = http
        self.slug = slug
        from urllib.parse import quote

        self._base = f"/api/v1/initiatives/{quote(slug, safe='')}"

    def __repr__(self) -> str:
        return f"RemoteInitiative({self.slug!r})"

    def _get(self, path: str = "", **query: Any) -> Json:
        return self._http.request("GET", self._base + path, query=query)

    def _post(self, path: str, body: dict[str, Any]) -> Json:
        return self._http.request("POST", self._base + path, json_body=body)

    # Lifecycle, learnings, decisions ----------------------------------------------------------

    def status(self) -> dict[str, Json]:
        """The status report (``mlpilot status SLUG --json``)."""
        return dict(self._get())

    @property
    def phase(self) -> str:
        """The current phase."""
        return str(self.status()["phase"])

    def history(self) -> list[dict[str, Json]]:
        """The lifecycle log, oldest first."""
        return list(self._get("/history"))

    def move_to(
        self,
        phase: str,
        *,
        reason: str | None = None,
        cause: str | None = None,
        at: str | datetime | None = None,
        who: str | None = None,
    ) -> dict[str, Json]:
        """Move to ``phase`` (a backward move needs a ``reason``); the recorded transition."""
        body = {"phase": phase, "reason": reason, "cause": cause, "at": _time(at), "who": who}
        return dict(self._post("/phase", body))

    def learn(
        self,
        text: str,
        *,
        tags: Sequence[str] = (),
        phase: str | None = None,
        source: str | None = None,
        at: str | datetime | None = None,
    ) -> dict[str, Json]:
        """Record a learning."""
        body = {"text": text, "tags": list(tags), "phase": phase, "source": source,
                "at": _time(at)}  # fmt: skip
        return dict(self._post("/learnings", body))

    def learnings(self) -> list[dict[str, Json]]:
        """The learnings, oldest first."""
        return list(self._get("/learnings"))

    def decide(
        self,
        verdict: str,
        why: str,
        *,
        evidence: Sequence[str] = (),
        who: str | None = None,
        at: str | datetime | None = None,
    ) -> dict[str, Json]:
        """Record a decision: continue, pivot, stop or ship."""
        body = {"verdict": verdict, "why": why, "evidence": list(evidence), "who": who,
                "at": _time(at)}  # fmt: skip
        return dict(self._post("/decisions", body))

    def decisions(self) -> list[dict[str, Json]]:
        """The decisions, oldest first."""
        return list(self._get("/decisions"))

    # Monitors ---------------------------------------------------------------------------------

    def alerts(self, *, open_only: bool = False) -> list[dict[str, Json]]:
        """The alerts, open ones first."""
        return list(self._get("/alerts", open=open_only))

    def health(self, *, window: str = "1d") -> dict[str, Json]:
        """Each monitor group's light with its evidence."""
        return dict(self._get("/health", window=window))

    def performance(
        self, *, window: str = "1d", threshold: float = 0.5, model_version: str | None = None
    ) -> dict[str, Json]:
        """Model metrics per window."""
        return dict(
            self._get(
                "/performance", window=window, threshold=threshold, model_version=model_version
            )
        )

    def drift(
        self,
        reference: str = "training",
        *,
        window: str = "1d",
        method: str | None = None,
        columns: list[str] | None = None,
    ) -> dict[str, Json]:
        """Feature drift per window against a stored reference."""
        names = None if columns is None else ",".join(columns)
        return dict(
            self._get("/drift", reference=reference, window=window, method=method, columns=names)
        )

    def service(
        self,
        *,
        window: str = "1h",
        by_version: bool = False,
        period: str = "30d",
        at: str | datetime | None = None,
    ) -> dict[str, Json]:
        """Latency, errors and throughput per window, and the SLOs."""
        return dict(
            self._get("/service", window=window, by_version=by_version, period=period, at=_time(at))
        )

    def slo(self, *, period: str = "30d", at: str | datetime | None = None) -> dict[str, Json]:
        """The SLOs of the service criteria."""
        return dict(self._get("/slo", period=period, at=_time(at)))

    def experiments(self) -> list[dict[str, Json]]:
        """The experiments as stored."""
        return list(self._get("/experiments"))

    # Logging ----------------------------------------------------------------------------------

    def log_records(self, records: Sequence[Mapping[str, Any]]) -> dict[str, Json]:
        """Send typed records (``{"type": "prediction", "id": ..., ...}``) to the ingest
        endpoint: ``{"accepted", "duplicates", "rejected"}``."""
        return dict(self._post("/events", {"records": [dict(r) for r in records]}))

    def log_events(
        self, kind: str, source: str | Path, column_map: Mapping[str, str] | None = None
    ) -> dict[str, Json]:
        """Send a .parquet or .csv file of ``kind`` (predictions, outcomes, requests, exposures,
        metric_events) in Arrow batches: ``{"received", "accepted", "duplicates", "rejected"}``
        (a rejected row's ``index`` counts from the file's first row)."""
        from mlpilot.client.files import ARROW_STREAM, arrow_batches

        totals: dict[str, Json] = {"received": 0, "accepted": 0, "duplicates": 0, "rejected": []}
        for start, rows, payload in arrow_batches(kind, source, column_map):
            reply = self._http.request(
                "POST", self._base + "/events", body=payload, content_type=ARROW_STREAM
            )
            totals["received"] += rows
            totals["accepted"] += int(reply["accepted"])
            totals["duplicates"] += int(reply["duplicates"])
            totals["rejected"] += [
                {**item, "index": int(item["index"]) + start} for item in reply["rejected"]
            ]
        return totals

    def log_predictions(
        self, source: str | Path, column_map: Mapping[str, str] | None = None
    ) -> dict[str, Json]:
        """Send predictions (see :meth:`log_events`)."""
        return self.log_events("predictions", source, column_map)

    def log_outcomes(
        self, source: str | Path, column_map: Mapping[str, str] | None = None
    ) -> dict[str, Json]:
        """Send outcomes (see :meth:`log_events`)."""
        return self.log_events("outcomes", source, column_map)

    def log_requests(
        self, source: str | Path, column_map: Mapping[str, str] | None = None
    ) -> dict[str, Json]:
        """Send service requests (see :meth:`log_events`)."""
        return self.log_events("requests", source, column_map)

    def log_exposures(
        self, source: str | Path, column_map: Mapping[str, str] | None = None
    ) -> dict[str, Json]:
        """Send experiment exposures (see :meth:`log_events`)."""
        return self.log_events("exposures", source, column_map)

    def log_metric_events(
        self, source: str | Path, column_map: Mapping[str, str] | None = None
    ) -> dict[str, Json]:
        """Send metric events (see :meth:`log_events`)."""
        return self.log_events("metric_events", source, column_map)


def connect(uri: str | None = None, token: str | None = None) -> Client:
    """A client of the server at ``uri`` (default ``MLPILOT_URI``) with ``token`` (default
    ``MLPILOT_TOKEN``)."""
    uri = uri or os.environ.get("MLPILOT_URI")
    if not uri:
        raise ValidationError("no server: pass uri=... or set MLPILOT_URI=http://host:port")
    return Client(uri, token or os.environ.get("MLPILOT_TOKEN"))
