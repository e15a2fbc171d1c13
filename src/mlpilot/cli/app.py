"""The ``mlpilot`` command: global options, command registration, one-line errors."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import typer

from mlpilot.cli import (
    criteria,
    data,
    drift,
    evaluate,
    experiment,
    forecast,
    initiatives,
    lifecycle,
    log,
    monitor,
    network,
    performance,
    reference,
    report,
    serve,
    service,
    source,
    status,
    team,
    token,
)
from mlpilot.cli.common import console, done, open_workspace
from mlpilot.errors import MlpilotError

app = typer.Typer(
    name="mlpilot",
    help="Run machine-learning initiatives that succeed.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def root(
    ctx: typer.Context,
    db: str | None = typer.Option(
        None, "--db", help="Metadata database URL (env MLPILOT_DB), e.g. postgresql+psycopg://…"
    ),
    home: Path | None = typer.Option(
        None, "--home", help="Workspace folder (env MLPILOT_HOME; default ./.mlpilot)."
    ),
) -> None:
    """mlpilot keeps an initiative's charter, success criteria, lifecycle, team and network."""
    ctx.obj = {"db": db, "home": str(home) if home else None}


@app.command("init")
def init(ctx: typer.Context) -> None:
    """Create the workspace (or migrate an existing one to this version's schema)."""
    workspace = open_workspace(ctx, create=True)
    done(f"workspace ready at {workspace.location.display()}")


@app.command("demo")
def demo(
    directory: Path = typer.Argument(Path("mlpilot-demo"), help="Folder for the demo workspace."),
    replace: bool = typer.Option(False, help="Replace an earlier demo workspace in DIRECTORY."),
) -> None:
    """Build a realistic demo workspace in DIRECTORY and print its status."""
    from mlpilot.cli.forecast import forecast_line
    from mlpilot.cli.status import overview, render
    from mlpilot.demo import build_demo
    from mlpilot.report.html import to_html
    from mlpilot.report.update import build_update

    with build_demo(directory, replace=replace) as workspace:
        churn = workspace.initiative("churn")
        console.print(render(churn.status()))
        console.print(
            overview([workspace.initiative(c.slug).status() for c in workspace.initiatives()])
        )
        fraud = workspace.initiative("fraud-alerts").forecast().to_dict()
        console.print(forecast_line("fraud-alerts", fraud))
        report = directory / "churn-update.html"
        report.write_text(to_html(build_update(churn, now=datetime.now(UTC))), encoding="utf-8")
    done(
        f"demo workspace in {directory}; stakeholder update in {report}; "
        f"try: mlpilot --home {directory} status churn"
    )


app.add_typer(initiatives.app, name="initiative")
app.add_typer(criteria.app, name="criteria")
app.add_typer(team.app, name="team")
app.add_typer(network.app, name="network")
app.add_typer(data.app, name="data")
app.add_typer(log.app, name="log")
app.add_typer(reference.app, name="reference")
app.add_typer(experiment.app, name="experiment")
app.add_typer(source.app, name="source")
app.add_typer(token.app, name="token")
app.command("phase")(lifecycle.phase)
app.command("history")(lifecycle.history)
app.command("decide")(lifecycle.decide)
app.command("learn")(lifecycle.learn)
app.command("learnings")(lifecycle.learnings)
app.command("status")(status.status)
app.command("drift")(drift.drift)
app.command("performance")(performance.performance)
app.command("forecast")(forecast.forecast)
app.command("evaluate")(evaluate.evaluate)
app.command("report")(report.report)
app.command("service")(service.service)
app.command("monitor")(monitor.monitor)
app.command("alerts")(monitor.alerts)
app.command("serve")(serve.serve)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the command; print any error on one line and return non-zero."""
    command = typer.main.get_command(app)
    try:
        result = command.main(args=argv, prog_name="mlpilot", standalone_mode=False)
    except MlpilotError as exc:
        typer.echo(f"error: {exc}", err=True)
        return 1
    except typer.TyperException as exc:  # usage errors: unknown option, missing argument
        message = exc.format_message()
        if not message:  # a bare group or command: Typer printed its help already
            return 0
        typer.echo(f"error: {message}", err=True)
        return int(exc.exit_code)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("error: aborted", err=True)
        return 130
    return result if isinstance(result, int) else 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
