"""``mlpilot report``: the stakeholder update as Markdown or a self-contained HTML page."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer

from mlpilot.cli.common import done, open_workspace
from mlpilot.domain.parsing import parse_time
from mlpilot.errors import ValidationError, WorkspaceError


def report(
    ctx: typer.Context,
    slug: str,
    fmt: str = typer.Option(
        "md", "--format", help="md (Markdown) or html (one self-contained page)."
    ),
    since: str | None = typer.Option(
        None, "--since", help="Decisions and learnings since this date (default: 30 days)."
    ),
    output: Path | None = typer.Option(
        None, "-o", "--output", help="Write to FILE (default: print)."
    ),
    trials: int = typer.Option(10_000, "--trials", help="Monte Carlo trials of the forecast."),
) -> None:
    """Write the stakeholder update of SLUG: lifecycle, forecast, uncertainties, monitors, needs."""
    from mlpilot.report.update import build_update

    if fmt not in ("md", "html"):
        raise ValidationError(f"unknown format {fmt!r}; expected one of: md, html")
    initiative = open_workspace(ctx).initiative(slug)
    now = datetime.now(UTC)
    start = None if since is None else parse_time(since, now, "--since date")
    update = build_update(initiative, since=start, now=now, trials=trials)
    if fmt == "html":
        from mlpilot.report.html import to_html

        text = to_html(update)
    else:
        from mlpilot.report.markdown import to_markdown

        text = to_markdown(update)
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise WorkspaceError(f"cannot write {output}: {exc.strerror or exc}") from None
    done(f"{slug}: {fmt} update written to {output}")
