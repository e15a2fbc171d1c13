"""The team server's ASGI application: one FastAPI app over one workspace.

``create_app(home)`` opens the workspace for the life of the app (its event store held: one
DuckDB connection shared by readers and the ingest writer), refuses requests whose Host header
is not allowed (400), and serves the REST API under ``/api/v1``, ingest, the pages, ``/metrics``,
``/healthz`` and ``/openapi.json``. Every route declares its access rule (server/auth.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mlpilot.errors import AlreadyExistsError, MlpilotError, NotFoundError, ValidationError
from mlpilot.server.auth import AuthState, current_state, load_secret, public
from mlpilot.server.metrics import RequestCounter
from mlpilot.store.database import Location, connect, resolve
from mlpilot.store.metadata import MetadataStore
from mlpilot.store.tokens import TokenStore
from mlpilot.workspace import Workspace

__all__ = ["DEFAULT_HOSTS", "create_app"]

DEFAULT_HOSTS = ("127.0.0.1", "localhost", "testserver")
API_PREFIX = "/api/v1"


class _RequestContext:
    """Pure ASGI middleware: makes the app's AuthState current for the request and counts each
    response by route template and status for /metrics."""

    def __init__(self, app: ASGIApp, server: FastAPI) -> None:
        self.app = app
        self.server = server
        self._paths: dict[int, str] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        auth: AuthState | None = getattr(self.server.state, "auth", None)
        if auth is None:  # lifespan has not run: nothing can be served yet
            response = JSONResponse({"detail": "the server is starting"}, status_code=503)
            await response(scope, receive, send)
            return
        token = current_state.set(auth)
        status = 500

        async def counting_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        finally:
            current_state.reset(token)
            self.server.state.requests.add(scope.get("method", ""), self._template(scope), status)

    def _template(self, scope: Scope) -> str:
        """The matched route's full path template (the route seen in the scope is the one
        declared in its router, without the prefixes it was included under)."""
        route = scope.get("route")
        if route is None:
            return "(unmatched)"
        if self._paths is None:
            from fastapi.routing import iter_route_contexts

            self._paths = {
                id(c.original_route): str(c.path) for c in iter_route_contexts(self.server.routes)
            }
        return self._paths.get(id(route)) or str(getattr(route, "path", "(unmatched)"))


def _error_handlers(app: FastAPI) -> None:
    """mlpilot's errors as HTTP answers: bad input never becomes a 500."""

    def reply(status: int) -> Any:
        async def handler(request: Request, exc: Exception) -> JSONResponse:
            return JSONResponse({"detail": str(exc)}, status_code=status)

        return handler

    app.add_exception_handler(NotFoundError, reply(404))
    app.add_exception_handler(ValidationError, reply(422))
    app.add_exception_handler(AlreadyExistsError, reply(409))
    app.add_exception_handler(MlpilotError, reply(400))


def _lifespan(home: Path, database: str | None, secret: bytes | None) -> Any:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            workspace = _open_workspace(home, database)
            stack.callback(workspace.close)
            stack.enter_context(workspace.events.hold())
            app.state.workspace = workspace
            app.state.tokens = TokenStore(workspace.store)
            key = secret if secret is not None else load_secret(workspace.location.home)
            app.state.auth = AuthState(app.state.tokens, key)
            app.state.writer = _start_writer(workspace)
            stack.push_async_callback(_stop_writer, app.state.writer)
            try:
                yield
            finally:
                app.state.auth = None

    return lifespan


def _open_workspace(home: Path, database: str | None) -> Workspace:
    """The workspace in folder ``home``, or with its metadata at ``database`` and its files
    (event store, server secret) in ``home``."""
    if database is None:
        return Workspace.open(home, create=False)
    location = Location(resolve(database).url, home.expanduser().resolve())
    return Workspace(location, MetadataStore(connect(location, create=False)))


def _start_writer(workspace: Workspace) -> Any:
    """The single writer of ingested events (server/writer.py)."""
    from mlpilot.server.writer import IngestWriter

    writer = IngestWriter(workspace)
    writer.start()
    return writer


async def _stop_writer(writer: Any) -> None:
    import anyio.to_thread

    await anyio.to_thread.run_sync(writer.stop)


def create_app(
    home: Path,
    *,
    allowed_hosts: Sequence[str] = DEFAULT_HOSTS,
    secret: bytes | None = None,
    database: str | None = None,
) -> FastAPI:
    """The server for the workspace in folder ``home`` (or its metadata at ``database``, a
    SQLAlchemy URL, with the files in ``home``). ``secret`` signs the session cookies; by
    default it is the workspace's ``server.secret`` file, created on first use."""
    from mlpilot.server.api import router as api_router
    from mlpilot.server.metrics import router as metrics_router

    app = FastAPI(
        title="mlpilot",
        summary="Run machine-learning initiatives that succeed: the team server.",
        version=_version(),
        lifespan=_lifespan(Path(home), database, secret),
        openapi_url=None,  # served below, as a route with an explicit access rule
        docs_url=None,
        redoc_url=None,
    )
    app.state.requests = RequestCounter()
    app.state.public_mounts = ["/static"]
    app.state.auth = None
    _error_handlers(app)

    @app.get("/healthz", dependencies=[Depends(public())], tags=["server"])
    def healthz() -> dict[str, str]:
        """Liveness: 200 while the server runs."""
        return {"status": "ok"}

    @app.get("/openapi.json", dependencies=[Depends(public())], include_in_schema=False)
    def openapi() -> JSONResponse:
        """The OpenAPI schema (public: it describes the API, not the workspace's data)."""
        return JSONResponse(app.openapi())

    app.include_router(api_router, prefix=API_PREFIX)
    app.include_router(metrics_router)
    _include_parts(app)
    app.add_middleware(_RequestContext, server=app)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))
    return app


def _include_parts(app: FastAPI) -> None:
    """The ingest router and the dashboard pages (other helpers' modules)."""
    from fastapi.staticfiles import StaticFiles

    from mlpilot.server.ingest import ingest_router
    from mlpilot.server.pages import router as pages_router

    app.include_router(ingest_router, prefix=API_PREFIX)
    app.include_router(pages_router)
    static = Path(__file__).with_name("static")
    app.mount("/static", StaticFiles(directory=static), name="static")


def _version() -> str:
    from mlpilot import __version__

    return __version__
