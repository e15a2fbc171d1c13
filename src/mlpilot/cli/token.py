"""``mlpilot token …``: the API tokens of the team server (the only way in)."""

from __future__ import annotations

import typer

from mlpilot.cli.common import JSON_OPTION, console, done, open_workspace, print_json, table
from mlpilot.store.tokens import TokenStore

app = typer.Typer(
    help="API tokens for 'mlpilot serve': create (shown once), list, revoke.",
    no_args_is_help=True,
)


@app.command("create")
def create(
    ctx: typer.Context,
    role: str = typer.Option(..., help="viewer, editor, admin or ingest."),
    initiative: str | None = typer.Option(None, help="Limit the token to this initiative."),
    name: str | None = typer.Option(None, help="What it is for, e.g. 'grafana' or 'churn-api'."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a token and print it once (only its hash is kept)."""
    store = TokenStore(open_workspace(ctx, while_served=True).store)
    info, secret = store.create(role, initiative=initiative, name=name)
    if as_json:
        print_json({"token": secret, **info.to_dict()})
        return
    scope = info.initiative or "every initiative"
    done(f"token {info.id} ({info.role.value}, {scope}) — shown once, keep it secret:")
    typer.echo(secret)


@app.command("list")
def list_tokens(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """List the tokens (never their secrets), revoked ones included."""
    found = TokenStore(open_workspace(ctx, while_served=True).store).list()
    if as_json:
        print_json([info.to_dict() for info in found])
        return
    rows = (
        (i.id, i.name, i.role.value, i.initiative or "(all)", f"{i.created_at:%Y-%m-%d %H:%M}",
         "active" if i.active else f"revoked {i.revoked_at:%Y-%m-%d %H:%M}")
        for i in found
    )  # fmt: skip
    console.print(table(None, ("id", "name", "role", "initiative", "created", "state"), rows))


@app.command("revoke")
def revoke(ctx: typer.Context, token_id: int = typer.Argument(..., help="The token's id.")) -> None:
    """Revoke a token: the server refuses it from the next request on."""
    info = TokenStore(open_workspace(ctx, while_served=True).store).revoke(token_id)
    done(f"token {info.id} ({info.name}) revoked")
