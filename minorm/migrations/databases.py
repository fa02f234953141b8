"""Which databases of a registry the migrations cover, and how a revision file names them.

A project migrates its registry's main database and every extra database that has models
pinned to it (`Meta.database`); `Registry.migrated_databases()` lists them. Each is compared
with its own tables only and keeps its own `alembic_version` table.

With one migrated database a revision has plain `upgrade()` / `downgrade()` functions, as
Alembic writes them. With several, one revision holds a body per database,
`upgrade_<name>()` (`upgrade_()` for the main database, as Saffier and Edgy name it), and
`upgrade(engine_name)` calls the body of the database being migrated. A revision written with
plain functions (before the project had a second database) belongs to the main database: on
the others it changes nothing and only moves their version forward.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic.script import ScriptDirectory

from minorm.exceptions import ConfigurationError, MigrationError
from minorm.registry import MAIN_DATABASE, Registry

# The keyword `upgrade()` / `downgrade()` of a several-database revision take.
ENGINE_KEYWORD = "engine_name"
# What `script.py.mako` receives: the function suffix of each migrated database.
TEMPLATE_ARG = "minorm_databases"


def label(name: str | None) -> str:
    """The name a user gives for a database: `main`, or the extra database's name."""
    return MAIN_DATABASE if name is None else name


def suffix(name: str | None) -> str:
    """What follows `upgrade_` in the database's function name ("" for the main one)."""
    return name or ""


def migrated(registry: Registry) -> list[str | None]:
    """The migrated databases (None: the main one), checked to be distinct databases.

    Raises ConfigurationError when two of them share a URL: they would share one version
    table, and each would see the other's tables as ones to drop.
    """
    names = registry.migrated_databases()
    seen: dict[str, str | None] = {}
    for name in names:
        url = str(registry.get_database(name).url)
        if url in seen:
            raise ConfigurationError(
                f"Databases {label(seen[url])!r} and {label(name)!r} have one URL ({url}) and "
                "both have models pinned to them, so minorm cannot migrate them apart; point "
                "them at different databases."
            )
        seen[url] = name
    return names


def select(registry: Registry, database: str | None) -> list[str | None]:
    """The databases a command runs on: all migrated ones (`database=None`), or the one
    `database` names (`main` is the main database).

    Raises MigrationError for a name that is not one of the registry's databases, or that
    names an extra database without pinned models (it is not migrated).
    """
    names = migrated(registry)
    if database is None:
        return names
    if database == MAIN_DATABASE:
        return [None]
    if database in names:
        return [database]
    known = ", ".join([MAIN_DATABASE, *sorted(registry.extra)])
    if database in registry.extra:
        raise MigrationError(
            f"--database {database}: no model is pinned to it (Meta.database = "
            f"{database!r}), so it has no migrations; the migrated databases are "
            f"{', '.join(label(name) for name in names)}."
        )
    raise MigrationError(
        f"--database {database}: the registry has no database of that name; its databases "
        f"are {known}."
    )


def metadata_for(registry: Registry, name: str | None) -> sa.MetaData:
    """The tables that live on database `name`: for the main one, those of every model not
    pinned elsewhere; for an extra one, those of the models pinned to it."""
    tables = registry.tables_for(name, unpinned=name is None)
    if len(tables) == len(registry.metadata.tables):
        return registry.metadata
    subset = sa.MetaData(schema=registry.schema)
    for table in tables:
        table.to_metadata(subset)
    return subset


def adapt_plain_revisions(script_directory: ScriptDirectory) -> None:
    """Make the revisions with plain `upgrade()` / `downgrade()` main-database only.

    They are called with `engine_name=...` like the others; on an extra database they do
    nothing. The revision modules are loaded already (Alembic reads their ids).
    """
    for script in script_directory.walk_revisions():
        module = script.module
        for function_name in ("upgrade", "downgrade"):
            function = getattr(module, function_name, None)
            if callable(function) and not _takes_engine_name(function):
                setattr(module, function_name, _main_only(function))


def _takes_engine_name(function: Callable[..., Any]) -> bool:
    if getattr(function, "__minorm_main_only__", False):
        return True
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return True  # not inspectable: leave it as it is
    return ENGINE_KEYWORD in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()
    )


def _main_only(function: Callable[[], None]) -> Callable[..., None]:
    @functools.wraps(function)
    def run(engine_name: str = "") -> None:
        if engine_name == "":
            function()

    run.__minorm_main_only__ = True  # type: ignore[attr-defined]  # a marker on the wrapper
    return run
