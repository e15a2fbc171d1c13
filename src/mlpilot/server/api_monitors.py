"""Monitor results under ``/api/v1/initiatives/{slug}/…``: the same JSON as the CLI's ``--json``
(``mlpilot performance``, ``drift --initiative``, ``service``, ``experiment list``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from mlpilot.server.auth import Action, access

__all__ = ["router"]

router = APIRouter(tags=["monitors"], dependencies=[Depends(access(Action.READ))])
WINDOW = Query(
    "1d", max_length=16, pattern=r"^\d+[mhdw]$", description="e.g. 6h, 1d, 1w", examples=["1d"]
)


def _initiative(slug: str, request: Request) -> Any:
    return request.app.state.workspace.initiative(slug)


@router.get("/initiatives/{slug}/performance")
def performance(
    slug: str,
    request: Request,
    window: str = WINDOW,
    threshold: float = Query(0.5, ge=0.0, le=1.0, description="Binary: decision threshold."),
    model_version: str | None = Query(None, max_length=200),
) -> dict[str, Any]:
    """Model metrics per window from the predictions joined to their outcomes."""
    return dict(
        _initiative(slug, request).performance(
            window=window, threshold=threshold, model_version=model_version
        )
    )


@router.get("/initiatives/{slug}/drift")
def drift(
    slug: str,
    request: Request,
    reference: str = Query("training", max_length=64, description="A stored reference."),
    window: str = WINDOW,
    method: str | None = Query(
        None, max_length=16, description="ks, chi2, psi, js, wasserstein or hellinger"
    ),
    columns: str | None = Query(None, max_length=2000, description="Comma-separated columns."),
) -> dict[str, Any]:
    """Feature drift of each window of the predictions against a stored reference."""
    from mlpilot.monitors.drift import check_method

    check_method(method)
    names = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
    return dict(
        _initiative(slug, request).drift(reference, window=window, method=method, columns=names)
    )


@router.get("/initiatives/{slug}/service")
def service(
    slug: str,
    request: Request,
    window: str = Query("1h", max_length=16, pattern=r"^\d+[mhdw]$", examples=["1h"]),
    by_version: bool = Query(False, description="Split the windows by model version."),
    period: str = Query("30d", max_length=16, pattern=r"^\d+[mhdw]$", examples=["30d"]),
    at: str | None = Query(None, max_length=64, description="ISO 8601; default now."),
) -> dict[str, Any]:
    """Latency, errors and throughput per window, the SLOs and their alerts."""
    return dict(
        _initiative(slug, request).service(
            window=window, by_version=by_version, period=period, at=at
        )
    )


@router.get("/initiatives/{slug}/slo")
def slo(
    slug: str,
    request: Request,
    period: str = Query("30d", max_length=16, pattern=r"^\d+[mhdw]$", examples=["30d"]),
    at: str | None = Query(None, max_length=64, description="ISO 8601; default now."),
) -> dict[str, Any]:
    """The SLOs of the service criteria: compliance, error budget left, burn rates."""
    return dict(_initiative(slug, request).slo(period=period, at=at))


@router.get("/initiatives/{slug}/experiments")
def experiments(slug: str, request: Request) -> list[dict[str, Any]]:
    """The experiments as stored, oldest first (``mlpilot experiment list SLUG --json``)."""
    return list(_initiative(slug, request).experiments())


@router.get("/initiatives/{slug}/experiments/{name}/analysis")
def experiment_analysis(
    slug: str,
    name: str,
    request: Request,
    until: str | None = Query(None, max_length=64, description="ISO 8601; default now."),
) -> dict[str, Any]:
    """Analyse experiment ``name`` from the stored exposures and metric events (not saved:
    a read never changes anything; ``mlpilot experiment analyze`` saves)."""
    return dict(_initiative(slug, request).analyze_experiment(name, save=False, until=until))


@router.get("/initiatives/{slug}/health")
def health(slug: str, request: Request, window: str = WINDOW) -> dict[str, Any]:
    """Each monitor group's light (ok, warning, failing, no-data) with its evidence."""
    return dict(_initiative(slug, request).health(window=window))
