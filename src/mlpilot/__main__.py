"""``python -m mlpilot`` runs the command line."""

from mlpilot.cli.app import run

run()
