"""The team server (``mlpilot serve``): REST API, ingest, dashboard and access control.

Imported only by ``mlpilot serve`` and tests, never by ``import mlpilot``: it loads FastAPI.
This package's ``__init__`` stays empty so that :mod:`mlpilot.server.holder` (used by the CLI to
find a running server) imports nothing heavy.
"""
