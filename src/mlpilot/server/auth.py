"""Access control of the team server: tokens, roles, browser sessions, CSRF — deny by default.

Every route declares ``Depends(access(Action.X))`` or ``Depends(public())``; a test walks the
application's routes and fails on one without either. Requests authenticate with
``Authorization: Bearer TOKEN`` or with the signed session cookie set by :func:`login_session`
(HMAC-SHA256 with the workspace's server secret). A cookie-authenticated unsafe request must
also carry the session's CSRF token (form field ``csrf_token`` or header ``X-CSRF-Token``).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import HTTPException, Request, Response

from mlpilot.errors import WorkspaceError
from mlpilot.store.tokens import Role, TokenInfo, TokenStore

__all__ = [
    "COOKIE_NAME",
    "Action",
    "AuthState",
    "Principal",
    "Role",
    "access",
    "csrf_token",
    "load_secret",
    "login_session",
    "logout_session",
    "public",
]

COOKIE_NAME = "mlpilot_session"
SECRET_FILE = "server.secret"
SESSION_SECONDS = 12 * 3600
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ACCESS_MARK = "__mlpilot_access__"  # the attribute the route walk looks for


class Action(StrEnum):
    """What a route does, checked against the caller's role."""

    READ = "read"
    WRITE = "write"
    INGEST = "ingest"
    ADMIN = "admin"


_ALLOWED: dict[Role, frozenset[Action]] = {
    Role.VIEWER: frozenset({Action.READ}),
    Role.EDITOR: frozenset({Action.READ, Action.WRITE, Action.INGEST}),
    Role.ADMIN: frozenset(Action),
    Role.INGEST: frozenset({Action.INGEST}),
}


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token (or the token behind the browser session) and its rights."""

    token_id: int
    name: str
    role: Role
    initiative: str | None
    via_session: bool

    def allows(self, action: Action, slug: str | None) -> bool:
        """Whether the role permits ``action`` on initiative ``slug`` (None: workspace-wide).

        A token scoped to an initiative allows nothing on the others, and nothing workspace-wide
        except reading (the listing then shows only its initiative).
        """
        if action not in _ALLOWED[self.role]:
            return False
        if self.initiative is None:
            return True
        if slug is None:
            return action is Action.READ
        return slug == self.initiative

    def sees(self, slug: str) -> bool:
        """Whether a workspace-wide listing shows initiative ``slug`` to this caller."""
        return self.initiative is None or self.initiative == slug


@dataclass(frozen=True)
class AuthState:
    """What the checks need: the token store and the key that signs sessions."""

    tokens: TokenStore
    secret: bytes
    secure_cookie: bool = False


# The application's AuthState for the request being served (set by create_app's middleware), so
# login_session and csrf_token work with the signatures the pages use.
current_state: ContextVar[AuthState] = ContextVar("mlpilot_auth_state")


def load_secret(home: Path) -> bytes:
    """The workspace's session-signing key (``server.secret``, mode 0600), made on first use."""
    path = home / SECRET_FILE
    try:
        home.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        data = path.read_bytes()
        if len(data) < 32:
            raise WorkspaceError(f"the server secret {path} is damaged; delete it") from None
        return data
    except OSError as exc:
        raise WorkspaceError(f"cannot write the server secret {path}: {exc.strerror}") from None
    key = secrets.token_bytes(32)
    with os.fdopen(fd, "wb") as out:
        out.write(key)
    return key


def _principal(info: TokenInfo, via_session: bool) -> Principal:
    return Principal(info.id, info.name, info.role, info.initiative, via_session)


def _sign(secret: bytes, payload: str) -> str:
    return hmac.new(secret, payload.encode(), hashlib.sha256).hexdigest()


def _session_value(state: AuthState, token_id: int, issued: int) -> str:
    payload = f"{token_id}.{issued}"
    return f"{payload}.{_sign(state.secret, 'session|' + payload)}"


def _session_token_id(state: AuthState, value: str) -> int | None:
    """The token id of a valid, unexpired session cookie; None otherwise."""
    parts = value.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    expected = _sign(state.secret, f"session|{parts[0]}.{parts[1]}")
    if not hmac.compare_digest(expected, parts[2]):
        return None
    if not 0 <= time.time() - int(parts[1]) <= SESSION_SECONDS:
        return None
    return int(parts[0])


def _csrf_for(state: AuthState, cookie: str) -> str:
    return _sign(state.secret, "csrf|" + cookie)


def authenticate(request: Request) -> Principal | None:
    """The caller of ``request``, from its bearer token or its session cookie; None if neither
    holds a valid, unrevoked token."""
    state = current_state.get()
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        info = state.tokens.verify(token.strip())
        return None if info is None else _principal(info, via_session=False)
    cookie = request.cookies.get(COOKIE_NAME)
    token_id = None if cookie is None else _session_token_id(state, cookie)
    if token_id is None:
        return None
    found = state.tokens.get(token_id)
    return _principal(found, via_session=True) if found is not None and found.active else None


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api") and "text/html" in request.headers.get(
        "accept", ""
    )


def _unauthenticated(request: Request) -> HTTPException:
    if _wants_html(request):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return HTTPException(303, "sign in first", {"Location": f"/login?next={quote(target)}"})
    return HTTPException(
        401,
        "missing or invalid token: send Authorization: Bearer TOKEN",
        {"WWW-Authenticate": "Bearer"},
    )


async def _check_csrf(request: Request) -> None:
    state = current_state.get()
    cookie = request.cookies.get(COOKIE_NAME, "")
    given = request.headers.get("x-csrf-token")
    if given is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        field = (await request.form()).get("csrf_token")
        given = field if isinstance(field, str) else None
    if given is None or not hmac.compare_digest(given, _csrf_for(state, cookie)):
        raise HTTPException(403, "missing or invalid CSRF token; reload the page and try again")


def access(action: Action) -> Callable[[Request], Awaitable[Principal]]:
    """A FastAPI dependency returning the caller, allowed to do ``action`` (on the route's
    ``slug`` path parameter when it has one): 401 (or a redirect to /login for a page) without
    credentials, 403 when not allowed or when a cookie-authenticated unsafe request lacks its
    CSRF token."""

    async def dependency(request: Request) -> Principal:
        principal = authenticate(request)
        if principal is None:
            raise _unauthenticated(request)
        slug = request.path_params.get("slug")
        if not principal.allows(action, None if slug is None else str(slug)):
            scope = f" on {slug}" if slug is not None else ""
            raise HTTPException(
                403, f"a {principal.role.value} token may not {action.value}{scope}"
            )
        if principal.via_session and request.method in UNSAFE_METHODS:
            await _check_csrf(request)
        request.state.principal = principal
        return principal

    setattr(dependency, ACCESS_MARK, action)
    return dependency


def public() -> Callable[[], None]:
    """A dependency marking a route deliberately open (login page, static files, /healthz)."""

    def dependency() -> None:
        return None

    setattr(dependency, ACCESS_MARK, "public")
    return dependency


def login_session(response: Response, token: str) -> Principal | None:
    """Verify ``token``; when valid, set the session cookie on ``response`` and return the
    caller. None for an unknown or revoked token (no cookie set)."""
    state = current_state.get()
    info = state.tokens.verify(token.strip())
    if info is None:
        return None
    value = _session_value(state, info.id, int(time.time()))
    response.set_cookie(
        COOKIE_NAME,
        value,
        max_age=SESSION_SECONDS,
        httponly=True,
        samesite="lax",
        secure=state.secure_cookie,
        path="/",
    )
    return _principal(info, via_session=True)


def logout_session(response: Response) -> None:
    """Clear the session cookie."""
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="lax")


def csrf_token(request: Request) -> str:
    """The CSRF token of this browser session, for forms; empty without a session."""
    cookie = request.cookies.get(COOKIE_NAME)
    if cookie is None:
        return ""
    return _csrf_for(current_state.get(), cookie)


def route_access(dependencies: list[Any]) -> list[Any]:
    """The access marks (an Action or "public") among a route's dependency callables."""
    return [getattr(call, ACCESS_MARK) for call in dependencies if hasattr(call, ACCESS_MARK)]
