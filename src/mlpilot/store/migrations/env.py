"""Alembic environment: mlpilot always passes an open connection (see store/database.py)."""

from alembic import context

from mlpilot.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
