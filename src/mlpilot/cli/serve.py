"""``mlpilot serve``: run the team server (REST API, ingest, dashboard) over the workspace."""

from __future__ import annotations

import signal
from types import FrameType

import typer

from mlpilot.cli.common import console
from mlpilot.errors import WorkspaceError
from mlpilot.store.database import resolve


def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", help="Address to listen on (0.0.0.0: every one)."),
    port: int = typer.Option(8520, min=1, max=65535, help="Port to listen on."),
    allow_host: list[str] = typer.Option(
        [], "--allow-host", help="Another Host name clients use, e.g. mlpilot.example.org."
    ),
) -> None:
    """Serve the workspace to a team: REST API under /api/v1, ingest, dashboard, /metrics.

    Nobody gets in without a token: create one with 'mlpilot token create'. While it runs, the
    server holds the workspace; run commands through it with MLPILOT_URI and MLPILOT_TOKEN.
    """
    import uvicorn

    from mlpilot.server import holder
    from mlpilot.server.app import DEFAULT_HOSTS, create_app
    from mlpilot.workspace import Workspace

    options: dict[str, str | None] = ctx.find_root().obj or {}
    database, where = options.get("db"), options.get("db") or options.get("home")
    location = resolve(where)
    running = holder.find(location.home)
    if running is not None:
        raise WorkspaceError(
            f"the workspace {location.home} is already served at {running.url} (pid {running.pid})"
        )
    Workspace.open(where, create=False).close()  # a clear error now rather than at startup
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    url = f"http://{shown if ':' not in shown else f'[{shown}]'}:{port}"
    hosts = [*DEFAULT_HOSTS, *allow_host]
    if host not in ("0.0.0.0", "::"):
        hosts.append(host)
    app = create_app(location.home, allowed_hosts=hosts, database=database)
    config = uvicorn.Config(app, host=host, port=port, access_log=False, log_level="warning")
    server = uvicorn.Server(config)

    # While uvicorn runs, its own handlers shut it down gracefully; it re-raises SIGINT/SIGTERM
    # afterwards, which these handlers turn into a no-op, so the holder file is removed and the
    # command ends normally. A signal that arrives before uvicorn has taken over (just after
    # the holder file appears) asks the server to exit as soon as it starts.
    def stop(signum: int, frame: FrameType | None) -> None:
        server.should_exit = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    holder.write(location.home, url)
    try:
        shown_where = location.home if location.is_sqlite else location.display()
        console.print(f"serving {shown_where} at {url} (Ctrl-C to stop)", soft_wrap=True)
        server.run()
    finally:
        holder.release(location.home)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if not server.started:
        raise WorkspaceError(f"the server could not start on {host}:{port} (see above)")
