"""Alembic environment of a minorm app.

The `minorm` command passes the app's Registry in; `run_migrations` compares its models with
the database (autogenerate) or applies migrations over the app's async driver. Keyword
arguments given to it go to Alembic's `context.configure` (for example `include_object=...`).
"""

from alembic import context

from minorm.migrations.environment import run_migrations

run_migrations(context)
