"""The web dashboard: server-rendered pages (Jinja2, autoescaped) over the facade.

Pages read with ``access(Action.READ)``; the forms post with ``access(Action.WRITE)`` (a
cookie session must send its CSRF token) and answer 303 back to the page with a flash message,
or the page again with the validation error next to the form (422). Login and the static files
are public. Every script and style comes from ``/static`` (Vega, Vega-Lite and vega-embed are
vendored there), and a Content-Security-Policy keeps the browser from loading anything else.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from mlpilot.errors import MlpilotError, NotFoundError
from mlpilot.report import labels
from mlpilot.server import views, views_forms
from mlpilot.server.auth import (
    Action,
    Principal,
    access,
    csrf_token,
    login_session,
    logout_session,
    public,
)

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

FLASH_COOKIE = "mlpilot_flash"
TEMPLATES = Path(__file__).with_name("templates")
# vega compiles its expressions with Function() (hence unsafe-eval) and vega-embed injects its
# tooltip style; inline scripts stay forbidden, and nothing may load from another origin.
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",  # pages carry the CSRF token and live data
}


def _day(text: Any) -> str:
    return "-" if not text else str(text)[:10]


def _minute(text: Any) -> str:
    return "-" if not text else str(text)[:16].replace("T", " ")


def _pct(value: Any, digits: int = 0) -> str:
    return "-" if value is None else f"{float(value):.{digits}%}"


def _num(value: Any) -> str:
    return "-" if value is None else f"{float(value):.3g}"


@cache
def environment() -> Environment:
    """The templates, every ``{{ }}`` escaped (autoescape on for .html)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        day=_day, minute=_minute, pct=_pct, num=_num, prob=labels.probability,
        interval=labels.interval_label, kind=labels.kind_label,
    )  # fmt: skip
    return env


def render(
    request: Request, template: str, context: dict[str, Any], *, status: int = 200,
    principal: Principal | None = None,
) -> HTMLResponse:  # fmt: skip
    """A page with the common context (who is signed in, CSRF token, flash) and headers."""
    flash = request.cookies.get(FLASH_COOKIE)
    page = (
        environment()
        .get_template(template)
        .render(
            principal=principal,
            csrf=csrf_token(request) if principal is not None else "",
            flash=None if flash is None else unquote(flash)[:300],
            **context,
        )
    )
    response = HTMLResponse(page, status_code=status, headers=HEADERS)
    if flash is not None:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def _back(url: str, message: str) -> RedirectResponse:
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(FLASH_COOKIE, quote(message), max_age=60, httponly=True,
                        samesite="lax", path="/")  # fmt: skip
    return response


def _workspace(request: Request) -> Any:
    return request.app.state.workspace


def _not_found(request: Request, principal: Principal | None, what: str) -> HTMLResponse:
    return render(request, "not_found.html", {"what": what}, status=404, principal=principal)


@router.get("/", response_class=HTMLResponse)
def portfolio_page(
    request: Request, principal: Principal = Depends(access(Action.READ))
) -> HTMLResponse:
    """Every initiative the caller may see, with its phase, uncertainties and health lights."""
    rows = views.portfolio(_workspace(request), principal.sees)
    return render(request, "portfolio.html", {"rows": rows, "groups": views.GROUPS},
                  principal=principal)  # fmt: skip


def _initiative(
    request: Request, principal: Principal, slug: str, *, status: int = 200,
    form_error: dict[str, Any] | None = None,
) -> HTMLResponse:  # fmt: skip
    try:
        page = views.initiative_page(_workspace(request), slug, datetime.now(UTC))
    except NotFoundError:
        return _not_found(request, principal, f"initiative {slug!r}")
    context = {
        "page": page,
        "groups": views.GROUPS,
        "can_write": principal.allows(Action.WRITE, slug),
        "form_error": form_error,
    }
    return render(request, "initiative.html", context, status=status, principal=principal)


@router.get("/initiatives/{slug}", response_class=HTMLResponse)
def initiative_page(
    request: Request, slug: str, principal: Principal = Depends(access(Action.READ))
) -> HTMLResponse:
    """One initiative: charter, criteria, lifecycle, forecast, monitor tabs, team, journal."""
    return _initiative(request, principal, slug)


async def _submit(request: Request, slug: str, principal: Principal, form_name: str) -> Response:
    """Run one form's action; 303 back with a flash, or the page with the error (422)."""
    from starlette.concurrency import run_in_threadpool

    fields = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    fields.pop("csrf_token", None)
    anchor = {"phase": "overview", "learning": "journal", "decision": "journal"}[form_name]

    def act() -> str:
        initiative = _workspace(request).initiative(slug)
        if form_name == "phase":
            return views_forms.move_phase(initiative, fields, principal.name)
        if form_name == "learning":
            return views_forms.add_learning(initiative, fields)
        return views_forms.record_decision(initiative, fields, principal.name)

    try:
        message = await run_in_threadpool(act)
    except NotFoundError:
        return await run_in_threadpool(_not_found, request, principal, f"initiative {slug!r}")
    except MlpilotError as exc:
        error = {"form": form_name, "message": str(exc), "values": fields}
        return await run_in_threadpool(
            lambda: _initiative(request, principal, slug, status=422, form_error=error)
        )
    return _back(f"/initiatives/{quote(slug)}#{anchor}", message)


@router.post("/initiatives/{slug}/phase")
async def move_phase(
    request: Request, slug: str, principal: Principal = Depends(access(Action.WRITE))
) -> Response:
    """Form: move the lifecycle to a phase (a backward move needs a reason)."""
    return await _submit(request, slug, principal, "phase")


@router.post("/initiatives/{slug}/learnings")
async def add_learning(
    request: Request, slug: str, principal: Principal = Depends(access(Action.WRITE))
) -> Response:
    """Form: record a learning."""
    return await _submit(request, slug, principal, "learning")


@router.post("/initiatives/{slug}/decisions")
async def record_decision(
    request: Request, slug: str, principal: Principal = Depends(access(Action.WRITE))
) -> Response:
    """Form: record a decision (continue, pivot, stop, ship)."""
    return await _submit(request, slug, principal, "decision")


def _safe_next(target: str | None) -> str:
    """Only a path on this server (no scheme, no host, no //evil.example)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _same_origin(request: Request) -> bool:
    """A form posted from another site carries its Origin; refuse it (login CSRF)."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    host = request.headers.get("host", "")
    return origin.split("://", 1)[-1] == host


@router.get("/login", response_class=HTMLResponse, dependencies=[Depends(public())])
def login_form(request: Request, next: str = "/") -> HTMLResponse:
    """The sign-in page: paste a token (from ``mlpilot token create``)."""
    return render(request, "login.html", {"next": _safe_next(next), "error": None})


@router.post("/login", dependencies=[Depends(public())])
async def login(request: Request) -> Response:
    """Check the pasted token; on success set the session cookie and go to ``next``."""
    form = await request.form()
    token, target = form.get("token"), form.get("next")
    target = _safe_next(target if isinstance(target, str) else None)
    if not _same_origin(request):
        return render(request, "login.html", {"next": target,
                      "error": "This sign-in came from another site; it was refused."},
                      status=403)  # fmt: skip
    response = RedirectResponse(target, status_code=303)
    if isinstance(token, str) and token.strip() and login_session(response, token) is not None:
        return response
    context = {"next": target, "error": "That token is unknown or revoked."}
    return render(request, "login.html", context, status=400)


@router.post("/logout")
def logout(principal: Principal = Depends(access(Action.READ))) -> Response:
    """End the browser session (the form carries the CSRF token)."""
    response = _back("/login", "Signed out.")
    logout_session(response)
    return response
