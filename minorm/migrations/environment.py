"""The body of a minorm project's `env.py`: run Alembic over the app's async driver.

`run_migrations(context)` reads the `MigrationState` a minorm command put in
`Config.attributes`, configures Alembic for the registry's metadata and database, and runs the
migrations on SQLAlchemy's `AsyncEngine` (asyncpg, aiosqlite or asyncmy, through
`run_sync`), one transaction per migration where the database has transactional DDL. Offline
(`--sql`) it only needs the dialect. A registry with several migrated databases
(`minorm.migrations.databases`) has each of them migrated in turn, with its own dialect's
settings (batch mode on SQLite only, say).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import logging.config
import os
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from alembic.environment import EnvironmentContext
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from minorm.exceptions import ConfigurationError, MigrationError
from minorm.migrations import databases
from minorm.migrations.autogenerate import (
    finish_revision,
    process_revision_directives,
    render_item,
)
from minorm.migrations.state import STATE_KEY, MigrationState
from minorm.registry import Registry
from minorm.url import DatabaseURL

T = TypeVar("T")
logger = logging.getLogger("minorm.migrations")

# Query-string options the minorm core reads itself; the driver never sees them.
_CORE_OPTIONS = frozenset({"min_size", "max_size", "pool_timeout", "prepared_statements"})
_ASYNC_DRIVERS = {"postgresql": "postgresql+asyncpg", "sqlite": "sqlite+aiosqlite"}


def state_of(context: EnvironmentContext) -> MigrationState:
    """The state the minorm command left in the config; a clear error outside minorm."""
    state = context.config.attributes.get(STATE_KEY)
    if not isinstance(state, MigrationState):
        raise ConfigurationError(
            "This env.py runs through minorm: use the `minorm` command (or the functions of "
            "minorm.migrations), not `alembic` directly."
        )
    return state


def run_migrations(context: EnvironmentContext, **configure_options: Any) -> None:
    """Run the command Alembic is executing, online or offline (`--sql`), on each database
    it concerns: every migrated database of the registry, or the one `--database` names.

    `configure_options` are passed on to `context.configure` (for example `include_object`)
    and override minorm's choices.
    """
    state = state_of(context)
    registry = state.registry()
    _configure_logging(context)
    state.several = len(databases.migrated(registry)) > 1
    if state.several:
        _check_template(context, state)
        databases.adapt_plain_revisions(context.script)
    runs = [
        (name, _options(registry, name, state, configure_options))
        for name in databases.select(registry, state.database)
    ]
    if context.is_offline_mode():
        for name, options in runs:
            if state.several:
                context.config.print_stdout(f"-- database: {databases.label(name)}")
            state.current = name
            url = registry.get_database(name).url
            context.configure(dialect_name=dialect_name(url), literal_binds=True, **options)
            with context.begin_transaction():
                context.run_migrations(**_engine(name, state))
    else:
        run_coroutine(_run_online(context, registry, state, runs))
    finish_revision(state)


def _options(
    registry: Registry, name: str | None, state: MigrationState, overrides: dict[str, Any]
) -> dict[str, Any]:
    options: dict[str, Any] = {
        "target_metadata": databases.metadata_for(registry, name),
        "compare_type": compare_type,
        "compare_server_default": True,
        "render_as_batch": registry.get_database(name).url.backend == "sqlite",
        "transaction_per_migration": True,
        "process_revision_directives": process_revision_directives,
        "render_item": render_item,
    }
    if state.several:
        suffix = databases.suffix(name)
        options["upgrade_token"] = f"{suffix}_upgrades"
        options["downgrade_token"] = f"{suffix}_downgrades"
        options["template_args"] = {
            databases.TEMPLATE_ARG: [
                databases.suffix(each) for each in registry.migrated_databases()
            ]
        }
    return {**options, **overrides}


def _engine(name: str | None, state: MigrationState) -> dict[str, str]:
    """The keyword arguments of the revisions' `upgrade()` / `downgrade()`."""
    return {databases.ENGINE_KEYWORD: databases.suffix(name)} if state.several else {}


def _check_template(context: EnvironmentContext, state: MigrationState) -> None:
    """Refuse to write a revision for several databases with a template that has no place for
    them (a `script.py.mako` from before minorm migrated several databases)."""
    if state.mode != "autogenerate" and state.mode != "empty":
        return
    template = Path(context.script.dir) / "script.py.mako"
    if template.is_file() and databases.TEMPLATE_ARG not in template.read_text():
        raise MigrationError(
            f"{template} writes revisions for one database, and this registry migrates "
            "several: replace it with the script.py.mako of a new `minorm init` (made in "
            "another folder), which writes a body per database."
        )


_MYSQL_BLOBS = ((255, "TINYBLOB"), (65535, "BLOB"), (16777215, "MEDIUMBLOB"))


def compare_type(
    context: Any,
    inspected_column: sa.Column[Any],
    metadata_column: sa.Column[Any],
    inspected_type: Any,
    metadata_type: Any,
) -> bool | None:
    """Alembic's type comparison, minus what a database stores in its own spelling.

    MySQL keeps `BLOB(n)` as the smallest BLOB type holding n bytes (TINYBLOB, BLOB, ...).
    Returns None to let Alembic compare.
    """
    if context.dialect.name == "mysql" and isinstance(metadata_type, sa.LargeBinary):
        length = metadata_type.length
        if length is not None:
            expected = next((name for limit, name in _MYSQL_BLOBS if length <= limit), "LONGBLOB")
            return type(inspected_type).__name__ != expected
    return None


def main_metadata(registry: Registry) -> sa.MetaData:
    """The tables that live on the registry's main database (not `Meta.database`-pinned)."""
    return databases.metadata_for(registry, None)


def dialect_name(url: DatabaseURL) -> str:
    """The SQLAlchemy dialect name for `url` (`mariadb` for a MariaDB URL)."""
    return "mariadb" if url.is_mariadb else url.backend


def async_engine_url(url: DatabaseURL) -> tuple[sa.URL, dict[str, Any]]:
    """SQLAlchemy's async URL for `url` and the connect arguments for its driver."""
    backend = url.backend
    driver = _ASYNC_DRIVERS.get(backend) or f"{dialect_name(url)}+asyncmy"
    options = {
        key: value[-1] if isinstance(value, tuple) else value
        for key, value in url.options.items()
        if key not in _CORE_OPTIONS
    }
    return url.sqlalchemy_url.set(drivername=driver, query={}), options


async def _run_online(
    context: EnvironmentContext,
    registry: Registry,
    state: MigrationState,
    runs: list[tuple[str | None, dict[str, Any]]],
) -> None:
    # One database after the other, each on its own connection and in its own transactions:
    # a failure on one leaves those done before it migrated.
    for name, options in runs:
        if state.several:
            logger.info("Database %s:", databases.label(name))
            if state.announce:
                context.config.print_stdout(f"{databases.label(name)}:")
        state.current = name
        sa_url, connect_args = async_engine_url(registry.get_database(name).url)
        engine = create_async_engine(sa_url, poolclass=sa.pool.NullPool, connect_args=connect_args)
        if sa_url.get_backend_name() == "sqlite":
            _transactional_ddl(engine)
        try:
            async with engine.connect() as connection:
                await connection.run_sync(
                    _run_on_connection, context, options, _engine(name, state)
                )
        finally:
            await engine.dispose()
            # The app's own connections (this process's pools) forget the types and prepared
            # statements of the schema before.
            registry.get_database(name).schema_changed()


def _run_on_connection(
    connection: sa.Connection,
    context: EnvironmentContext,
    options: dict[str, Any],
    engine: dict[str, str],
) -> None:
    context.configure(connection=connection, **options)
    with context.begin_transaction():
        context.run_migrations(**engine)


def _transactional_ddl(engine: AsyncEngine) -> None:
    """Make SQLite's DDL transactional, as SQLite itself is: Python's sqlite3 module (under
    aiosqlite) begins a transaction only before INSERT/UPDATE/DELETE, so a CREATE or ALTER
    would commit as it runs and a failed migration would leave half its changes. With the
    module's own handling off, each transaction Alembic opens starts with an explicit BEGIN."""

    @sa.event.listens_for(engine.sync_engine, "connect")
    def _no_implicit_transactions(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @sa.event.listens_for(engine.sync_engine, "begin")
    def _begin(connection: sa.Connection) -> None:
        connection.exec_driver_sql("BEGIN")


def run_coroutine(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run `coroutine` to the end from synchronous code.

    Inside a running event loop (a migration started from an async app's start-up) it runs
    on a fresh loop in a worker thread, because a loop cannot be re-entered.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _configure_logging(context: EnvironmentContext) -> None:
    """Apply alembic.ini's logging sections, unless the process configured logging itself."""
    if logging.getLogger().handlers:
        return
    name = context.config.config_file_name
    if name and os.path.exists(name):
        parser_sections = context.config.file_config.sections()
        if "loggers" in parser_sections:
            logging.config.fileConfig(name, disable_existing_loggers=False)
